/* Names shared by the array family's files (src/ops/array*.c): moving
 * elements of any dtype, the strided copy every layout op reduces to, and
 * reading index tensors.
 *
 * Array ops only move data, so they work on elements of pl_dtype_size()
 * bytes; strings are duplicated and objects referenced, never aliased, so the
 * output owns what it holds exactly as tensor.h says. */
#ifndef PL_OPS_ARRAY_INTERNAL_H
#define PL_OPS_ARRAY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ops/kernel.h"

/* Strided copies work on views of up to this many dimensions: Tile and
 * SpaceToBatchND split every dimension in two. */
#define PL__ARR_MAX_VIEW (2 * PL_MAX_RANK + 2)

/* Copies n elements from src[si..] to dst[di..] (same dtype). */
pl_status pl__arr_copy(pl_tensor *dst, int64_t di, const pl_tensor *src, int64_t si, int64_t n);

/* Copies a box of `dims` (rank <= PL__ARR_MAX_VIEW): element (i0, .., ik) goes
 * from src[src_off + sum i*src_strides] to dst[dst_off + sum i*dst_strides].
 * Strides count elements and may be 0 (broadcast) or negative (reversal).
 * Runs that are contiguous on both sides move with memcpy. */
pl_status pl__arr_copy_strided(pl_tensor *dst, int64_t dst_off, const int64_t *dst_strides,
                               const pl_tensor *src, int64_t src_off, const int64_t *src_strides,
                               int rank, const int64_t *dims);

/* Sets dst[off..off+n) to element vi of val (same dtype). */
pl_status pl__arr_fill_value(pl_tensor *dst, int64_t off, int64_t n, const pl_tensor *val, int64_t vi);

/* Row-major element strides of a shape. */
void pl__arr_strides(int rank, const int64_t *dims, int64_t *strides);

/* Element i of an integer tensor (int8..uint64), as int64. */
static inline int64_t pl__arr_int(const pl_tensor *t, int64_t i) {
    if (t->dtype == PL_DT_INT32) return ((const int32_t *)t->data)[i];
    if (t->dtype == PL_DT_INT64) return ((const int64_t *)t->data)[i];
    return pl_tensor_get_i64(t, i);
}
bool pl__arr_is_int(pl_dtype dtype);
/* INVALID_ARGUMENT unless t is an int32 or int64 tensor; `what` names it. */
pl_status pl__arr_want_index(const pl_tensor *t, const char *what);

/* TensorFlow's TensorShape::DebugString: "[2,3]", "[]" for a scalar. */
const char *pl__arr_shape_str(const pl_tensor *t, char *buf, size_t size);


/* The values of an integer tensor, "[2 3]" with sep " " (Tensor::SummarizeValue). */
const char *pl__arr_values_str(const pl_tensor *t, const char *sep, char *buf, size_t size);

/* The output tensor `t` as output i of c (reference handed over). */
static inline pl_status pl__arr_set(pl_kernel_ctx *c, int i, pl_tensor *t) {
    pl_ctx_set_output(c, i, t);
    return NULL;
}
/* Output 0 as a view of `in` with another shape (no copy). */
pl_status pl__arr_view(pl_kernel_ctx *c, int out, pl_tensor *in, int rank, const int64_t *dims);

/* What prepare() keeps of a node's attributes; the meaning of each field is
 * per op. Freed by pl__arr_free_state. */
#define PL__ARR_MAX_LIST 64
typedef struct pl__arr_state {
    int64_t i[6];                     /* integer and boolean attrs */
    pl_dtype type;                    /* a type attr (out_type, out_idx, ...) */
    int n;                            /* entries used in list; -1 for an unknown-rank shape */
    int64_t list[PL__ARR_MAX_LIST];   /* an int-list or shape attr */
    char text[];                      /* a string attr, NUL-terminated */
} pl__arr_state;
/* A zeroed state with room for a text of text_len bytes, stored in p->state. */
pl_status pl__arr_state_new(pl_kernel_prep *p, size_t text_len, pl__arr_state **out);
void pl__arr_free_state(void *state);

/* Kernels, one group per file. */
#define PL__ARR_DECL(name) pl_status pl__arr_##name(pl_kernel_ctx *c);
#define PL__ARR_PREP(name) pl_status pl__arr_prep_##name(pl_kernel_prep *p);
/* array_shape.c */
PL__ARR_DECL(reshape) PL__ARR_DECL(squeeze) PL__ARR_PREP(squeeze) PL__ARR_DECL(expand_dims)
PL__ARR_DECL(shape) PL__ARR_DECL(shape_n) PL__ARR_PREP(out_type) PL__ARR_DECL(size) PL__ARR_DECL(rank)
PL__ARR_DECL(ensure_shape) PL__ARR_PREP(ensure_shape) PL__ARR_DECL(broadcast_args)
PL__ARR_DECL(invert_permutation) PL__ARR_DECL(broadcast_gradient_args) PL__ARR_PREP(two_outputs)
/* array_concat.c */
PL__ARR_DECL(concat_v2) PL__ARR_DECL(concat) PL__ARR_DECL(pack) PL__ARR_PREP(axis) PL__ARR_DECL(unpack)
PL__ARR_DECL(split) PL__ARR_DECL(split_v) PL__ARR_DECL(concat_offset) PL__ARR_PREP(concat_offset)
/* array_slice.c */
PL__ARR_DECL(slice) PL__ARR_DECL(strided_slice) PL__ARR_PREP(strided_slice) PL__ARR_DECL(strided_slice_grad)
/* array_layout.c */
PL__ARR_DECL(transpose) PL__ARR_DECL(conjugate_transpose) PL__ARR_DECL(reverse_v2) PL__ARR_DECL(reverse) PL__ARR_DECL(reverse_sequence)
PL__ARR_PREP(reverse_sequence) PL__ARR_DECL(matrix_band_part) PL__ARR_DECL(tile) PL__ARR_DECL(broadcast_to)
/* array_space.c */
PL__ARR_DECL(depth_to_space) PL__ARR_DECL(space_to_depth) PL__ARR_PREP(block_size)
PL__ARR_DECL(space_to_batch_nd) PL__ARR_DECL(batch_to_space_nd)
/* array_pad.c */
PL__ARR_DECL(pad) PL__ARR_DECL(mirror_pad) PL__ARR_PREP(mirror_pad)
/* array_gather.c */
PL__ARR_DECL(gather) PL__ARR_DECL(gather_v2) PL__ARR_PREP(gather_v2) PL__ARR_DECL(gather_nd)
PL__ARR_DECL(where) PL__ARR_DECL(dynamic_stitch) PL__ARR_PREP(dynamic_stitch)
/* array_fill.c */
PL__ARR_DECL(fill) PL__ARR_DECL(zeros_like) PL__ARR_DECL(ones_like) PL__ARR_DECL(range) PL__ARR_DECL(one_hot)
PL__ARR_PREP(one_hot) PL__ARR_DECL(empty) PL__ARR_PREP(empty)
/* array_search.c */
PL__ARR_DECL(top_k_v2) PL__ARR_PREP(top_k_v2) PL__ARR_DECL(unique) PL__ARR_PREP(out_idx) PL__ARR_DECL(unique_with_counts) PL__ARR_DECL(list_diff)
PL__ARR_DECL(upper_bound) PL__ARR_DECL(lower_bound)
/* array_scatter.c */
PL__ARR_DECL(scatter_nd) PL__ARR_DECL(tensor_scatter_update) PL__ARR_DECL(tensor_scatter_add)
/* array_misc.c */
PL__ARR_DECL(check_numerics) PL__ARR_DECL(check_numerics_v2) PL__ARR_PREP(check_numerics) PL__ARR_DECL(bitcast) PL__ARR_PREP(bitcast)
#undef PL__ARR_DECL
#undef PL__ARR_PREP

#endif
