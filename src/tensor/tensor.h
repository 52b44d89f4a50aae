/* Tensors: a dtype, a shape and a refcounted buffer of dense row-major data.
 *
 * A tensor is immutable once a kernel has produced it, so it can be shared
 * freely between consumers and threads; sharing is by reference count.
 * Reshaping or forwarding a tensor makes a new header over the same buffer.
 *
 *     int64_t dims[2] = {2, 3};
 *     pl_tensor *t;
 *     pl_status st = pl_tensor_alloc(PL_DT_FLOAT, 2, dims, &t);
 *     if (st) return st;
 *     float *v = pl_tensor_data(t);
 *     for (int64_t i = 0; i < t->count; i++) v[i] = (float)i;
 *     ...
 *     pl_tensor_unref(t);
 *
 * Element storage by dtype:
 *   numeric and bool   packed little-endian values (bool is one byte, 0 or 1)
 *   PL_DT_STRING       an array of pl_str; each string's bytes belong to the buffer
 *   PL_DT_RESOURCE,
 *   PL_DT_VARIANT      an array of pl_object * (refcounted; NULL allowed)
 * Data is aligned to PL_TENSOR_ALIGN bytes. */
#ifndef PL_TENSOR_TENSOR_H
#define PL_TENSOR_TENSOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

#define PL_MAX_RANK 8
#define PL_TENSOR_ALIGN 64
/* The largest tensor a request or a model may create. Bigger declared sizes are
 * errors, so a hostile shape cannot make the server allocate without bound. */
#define PL_TENSOR_MAX_BYTES ((int64_t)1 << 34)

/* Same numbers as tensorflow.DataType. X(enum suffix, number, TF name, element size) */
#define PL_DTYPE_LIST(X)                          \
    X(INVALID, 0, "DT_INVALID", 0)                \
    X(FLOAT, 1, "DT_FLOAT", 4)                    \
    X(DOUBLE, 2, "DT_DOUBLE", 8)                  \
    X(INT32, 3, "DT_INT32", 4)                    \
    X(UINT8, 4, "DT_UINT8", 1)                    \
    X(INT16, 5, "DT_INT16", 2)                    \
    X(INT8, 6, "DT_INT8", 1)                      \
    X(STRING, 7, "DT_STRING", sizeof(pl_str))     \
    X(COMPLEX64, 8, "DT_COMPLEX64", 8)            \
    X(INT64, 9, "DT_INT64", 8)                    \
    X(BOOL, 10, "DT_BOOL", 1)                     \
    X(QINT8, 11, "DT_QINT8", 1)                   \
    X(QUINT8, 12, "DT_QUINT8", 1)                 \
    X(QINT32, 13, "DT_QINT32", 4)                 \
    X(BFLOAT16, 14, "DT_BFLOAT16", 2)             \
    X(QINT16, 15, "DT_QINT16", 2)                 \
    X(QUINT16, 16, "DT_QUINT16", 2)               \
    X(UINT16, 17, "DT_UINT16", 2)                 \
    X(COMPLEX128, 18, "DT_COMPLEX128", 16)        \
    X(HALF, 19, "DT_HALF", 2)                     \
    X(RESOURCE, 20, "DT_RESOURCE", sizeof(void *)) \
    X(VARIANT, 21, "DT_VARIANT", sizeof(void *))  \
    X(UINT32, 22, "DT_UINT32", 4)                 \
    X(UINT64, 23, "DT_UINT64", 8)

typedef enum pl_dtype {
#define PL__DTYPE_ENUM(name, num, tfname, size) PL_DT_##name = num,
    PL_DTYPE_LIST(PL__DTYPE_ENUM)
#undef PL__DTYPE_ENUM
    PL_DT_COUNT
} pl_dtype;

/* One string element. `data` need not be NUL-terminated. */
typedef struct pl_str {
    size_t len;
    char *data;
} pl_str;

/* A refcounted object held in RESOURCE and VARIANT tensors (variables,
 * TensorArrays, TensorLists, lookup tables). Embed it as the first member. */
typedef struct pl_object pl_object;
typedef struct pl_object_type {
    const char *name;
    void (*destroy)(pl_object *obj);
} pl_object_type;
struct pl_object {
    atomic_int refs;
    const pl_object_type *type;
};
void pl_object_init(pl_object *obj, const pl_object_type *type); /* refs = 1 */
pl_object *pl_object_ref(pl_object *obj);                        /* NULL is fine */
void pl_object_unref(pl_object *obj);                            /* NULL is fine */

/* Owner of element storage. Shared by every tensor that views it. */
typedef struct pl_buffer pl_buffer;

typedef struct pl_tensor {
    atomic_int refs;
    pl_dtype dtype;
    int rank;                   /* 0..PL_MAX_RANK; 0 is a scalar */
    int64_t dims[PL_MAX_RANK];  /* dims[0..rank) >= 0 */
    int64_t count;              /* product of dims; 1 for a scalar */
    void *data;                 /* first element, inside `buffer` */
    pl_buffer *buffer;
} pl_tensor;

size_t pl_dtype_size(pl_dtype dtype);        /* 0 for invalid */
const char *pl_dtype_name(pl_dtype dtype);   /* "DT_FLOAT" */
/* TensorFlow's DataTypeString, the form its error messages use: "float" for
 * DT_FLOAT, "INVALID" for DT_INVALID, "unknown" for a number outside the enum. */
const char *pl_dtype_string(pl_dtype dtype);
bool pl_dtype_valid(pl_dtype dtype);

/* Multiplies dims into *count; errors on negative dims, rank > PL_MAX_RANK or
 * overflow, also of the non-zero dims of a shape with a zero dim. */
pl_status pl_shape_count(int rank, const int64_t *dims, int64_t *count);

/* A new tensor with refs = 1. Numeric contents are uninitialised; strings are
 * empty and objects NULL. Fails on invalid shapes or more than PL_TENSOR_MAX_BYTES. */
pl_status pl_tensor_alloc(pl_dtype dtype, int rank, const int64_t *dims, pl_tensor **out);
/* Same, with numeric contents zeroed. */
pl_status pl_tensor_zeros(pl_dtype dtype, int rank, const int64_t *dims, pl_tensor **out);
/* A scalar of the given numeric dtype holding `value` converted to it. */
pl_status pl_tensor_scalar(pl_dtype dtype, double value, pl_tensor **out);

/* A tensor over memory the caller owns; `release(opaque)` runs when the last view goes.
 * Numeric dtypes only. The memory must be writable: a kernel that holds the
 * only reference may write its output over it (pl_ctx_reuse_or_alloc_output). */
pl_status pl_tensor_wrap(pl_dtype dtype, int rank, const int64_t *dims, void *data,
                         void (*release)(void *opaque), void *opaque, pl_tensor **out);

/* A new header with another shape of the same element count, sharing the buffer. */
pl_status pl_tensor_reshape(pl_tensor *t, int rank, const int64_t *dims, pl_tensor **out);

/* A deep copy (strings and object references duplicated). */
pl_status pl_tensor_copy(const pl_tensor *t, pl_tensor **out);

pl_tensor *pl_tensor_ref(pl_tensor *t);  /* NULL is fine; returns t */
void pl_tensor_unref(pl_tensor *t);      /* NULL is fine */
/* True when t is the only reference to the only view of its buffer: a kernel
 * holding it may then change the elements (or the objects they point to) in
 * place without anyone else seeing the change. */
bool pl_tensor_unshared(const pl_tensor *t);

static inline void *pl_tensor_data(const pl_tensor *t) { return t->data; }
static inline size_t pl_tensor_nbytes(const pl_tensor *t) {
    return (size_t)t->count * pl_dtype_size(t->dtype);
}
bool pl_tensor_same_shape(const pl_tensor *a, const pl_tensor *b);

/* Replaces string element i with a copy of (data, len), owned by the tensor's buffer. */
pl_status pl_tensor_set_string(pl_tensor *t, int64_t i, const void *data, size_t len);
/* Stores obj (taking over the caller's reference) in object element i. */
void pl_tensor_set_object(pl_tensor *t, int64_t i, pl_object *obj);
static inline pl_object *pl_tensor_object(const pl_tensor *t, int64_t i) {
    return ((pl_object **)t->data)[i];
}

/* Reads element i of any real numeric or bool dtype as a double / int64. */
double pl_tensor_get_f64(const pl_tensor *t, int64_t i);
int64_t pl_tensor_get_i64(const pl_tensor *t, int64_t i);

/* "[2,3]" into buf; returns buf. */
char *pl_shape_str(int rank, const int64_t *dims, char *buf, size_t size);

/* IEEE half and bfloat16 conversions. */
float pl_half_to_float(uint16_t h);
uint16_t pl_float_to_half(float f);
float pl_bfloat16_to_float(uint16_t b);
uint16_t pl_float_to_bfloat16(float f);

#endif
