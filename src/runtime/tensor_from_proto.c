/* TensorProto and TensorShapeProto to plinth tensors and shapes, for the
 * values a graph carries in its attrs (Const's "value", shapes). */
#include <string.h>

#include "runtime/internal.h"

pl_status pl__shape_from_proto(const Tensorflow__TensorShapeProto *p, int *rank, int64_t dims[PL_MAX_RANK]) {
    if (!p) { /* absent: a scalar, as in TensorFlow */
        *rank = 0;
        return NULL;
    }
    if (p->unknown_rank) {
        *rank = -1;
        return NULL;
    }
    if (p->n_dim > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "shape has %zu dimensions; at most %d are supported", p->n_dim,
                        PL_MAX_RANK);
    for (size_t i = 0; i < p->n_dim; i++) {
        int64_t d = p->dim[i] ? p->dim[i]->size : 0;
        if (d < -1) return pl_error(PL_INVALID_ARGUMENT, "shape has invalid dimension %lld", (long long)d);
        dims[i] = d;
    }
    *rank = (int)p->n_dim;
    return NULL;
}

/* Fills `count` elements of `size` bytes from n values, repeating the last
 * value when there are fewer (TensorFlow's rule for compact constants). */
#define FILL(ctype, src, n, conv)                                                    \
    do {                                                                             \
        ctype *d = (ctype *)t->data;                                                 \
        if ((int64_t)(n) > t->count) goto too_many;                                  \
        for (int64_t i = 0; i < t->count; i++) {                                     \
            int64_t k = i < (int64_t)(n) ? i : (int64_t)(n) - 1;                     \
            d[i] = (n) ? (ctype)conv((src)[k]) : (ctype)0;                           \
        }                                                                            \
    } while (0)
#define AS_IS(x) (x)

pl_status pl__tensor_from_proto(const Tensorflow__TensorProto *p, pl_tensor **out) {
    int rank;
    int64_t dims[PL_MAX_RANK];
    PL_TRY(pl__shape_from_proto(p->tensor_shape, &rank, dims));
    if (rank < 0) return pl_error(PL_INVALID_ARGUMENT, "a tensor value must have a known shape");
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0) return pl_error(PL_INVALID_ARGUMENT, "a tensor value must have a fully defined shape");
    pl_dtype dt = (pl_dtype)p->dtype;
    if (!pl_dtype_valid(dt)) return pl_error(PL_INVALID_ARGUMENT, "tensor has invalid dtype %d", (int)p->dtype);
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(dt, rank, dims, &t));
    size_t esize = pl_dtype_size(dt);
    if (p->tensor_content.len && dt != PL_DT_STRING && dt != PL_DT_RESOURCE && dt != PL_DT_VARIANT) {
        if (p->tensor_content.len != (size_t)t->count * esize) {
            pl_status st = pl_error(PL_INVALID_ARGUMENT, "tensor_content holds %zu bytes; %s%s needs %zu",
                                    p->tensor_content.len, pl_dtype_name(dt), "", (size_t)t->count * esize);
            pl_tensor_unref(t);
            return st;
        }
        memcpy(t->data, p->tensor_content.data, p->tensor_content.len);
        *out = t;
        return NULL;
    }
    switch (dt) {
    case PL_DT_FLOAT: FILL(float, p->float_val, p->n_float_val, AS_IS); break;
    case PL_DT_DOUBLE: FILL(double, p->double_val, p->n_double_val, AS_IS); break;
    case PL_DT_INT32: case PL_DT_QINT32: FILL(int32_t, p->int_val, p->n_int_val, AS_IS); break;
    case PL_DT_INT16: case PL_DT_QINT16: FILL(int16_t, p->int_val, p->n_int_val, AS_IS); break;
    case PL_DT_UINT16: case PL_DT_QUINT16: FILL(uint16_t, p->int_val, p->n_int_val, AS_IS); break;
    case PL_DT_INT8: case PL_DT_QINT8: FILL(int8_t, p->int_val, p->n_int_val, AS_IS); break;
    case PL_DT_UINT8: case PL_DT_QUINT8: FILL(uint8_t, p->int_val, p->n_int_val, AS_IS); break;
    case PL_DT_INT64: FILL(int64_t, p->int64_val, p->n_int64_val, AS_IS); break;
    case PL_DT_UINT32: FILL(uint32_t, p->uint32_val, p->n_uint32_val, AS_IS); break;
    case PL_DT_UINT64: FILL(uint64_t, p->uint64_val, p->n_uint64_val, AS_IS); break;
    case PL_DT_BOOL: FILL(uint8_t, p->bool_val, p->n_bool_val, !!); break;
    case PL_DT_HALF: case PL_DT_BFLOAT16: FILL(uint16_t, p->half_val, p->n_half_val, AS_IS); break;
    case PL_DT_COMPLEX64: {
        if (p->n_scomplex_val % 2) goto bad_complex;
        size_t n = p->n_scomplex_val / 2;
        float *d = t->data;
        if ((int64_t)n > t->count) goto too_many;
        for (int64_t i = 0; i < t->count; i++) {
            size_t k = (size_t)i < n ? (size_t)i : n - 1;
            d[2 * i] = n ? p->scomplex_val[2 * k] : 0;
            d[2 * i + 1] = n ? p->scomplex_val[2 * k + 1] : 0;
        }
        break;
    }
    case PL_DT_COMPLEX128: {
        if (p->n_dcomplex_val % 2) goto bad_complex;
        size_t n = p->n_dcomplex_val / 2;
        double *d = t->data;
        if ((int64_t)n > t->count) goto too_many;
        for (int64_t i = 0; i < t->count; i++) {
            size_t k = (size_t)i < n ? (size_t)i : n - 1;
            d[2 * i] = n ? p->dcomplex_val[2 * k] : 0;
            d[2 * i + 1] = n ? p->dcomplex_val[2 * k + 1] : 0;
        }
        break;
    }
    case PL_DT_STRING: {
        size_t n = p->n_string_val;
        if ((int64_t)n > t->count) goto too_many;
        for (int64_t i = 0; n && i < t->count; i++) {
            size_t k = (size_t)i < n ? (size_t)i : n - 1;
            pl_status st = pl_tensor_set_string(t, i, p->string_val[k].data, p->string_val[k].len);
            if (st) {
                pl_tensor_unref(t);
                return st;
            }
        }
        break;
    }
    default:
        if (t->count == 0) break;
        pl_tensor_unref(t);
        return pl_error(PL_UNIMPLEMENTED, "tensor values of %s are not supported", pl_dtype_name(dt));
    }
    *out = t;
    return NULL;
too_many:
    pl_tensor_unref(t);
    return pl_error(PL_INVALID_ARGUMENT, "tensor holds more values than its shape has elements");
bad_complex:
    pl_tensor_unref(t);
    return pl_error(PL_INVALID_ARGUMENT, "complex tensor has an odd number of components");
}
