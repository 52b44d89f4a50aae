/* Indexed writes: ScatterNd (sums updates into zeros), TensorScatterUpdate
 * and TensorScatterAdd (into a copy of a tensor). An index that falls outside
 * the shape is an error with TensorFlow's message, never a write. */
#include <stdio.h>
#include <string.h>

#include "ops/array_internal.h"

/* dst[i] += src[j] for one element of a numeric dtype. Integers add in the
 * unsigned type, which wraps as TensorFlow does without undefined behaviour. */
#define ADD_INT(T, U) ((T *)dst->data)[i] = (T)((U)((T *)dst->data)[i] + (U)((const T *)src->data)[j])
static void add_elem(pl_tensor *dst, int64_t i, const pl_tensor *src, int64_t j) {
    switch (dst->dtype) {
    case PL_DT_FLOAT: ((float *)dst->data)[i] += ((const float *)src->data)[j]; return;
    case PL_DT_DOUBLE: ((double *)dst->data)[i] += ((const double *)src->data)[j]; return;
    case PL_DT_COMPLEX64:
        ((float *)dst->data)[2 * i] += ((const float *)src->data)[2 * j];
        ((float *)dst->data)[2 * i + 1] += ((const float *)src->data)[2 * j + 1];
        return;
    case PL_DT_COMPLEX128:
        ((double *)dst->data)[2 * i] += ((const double *)src->data)[2 * j];
        ((double *)dst->data)[2 * i + 1] += ((const double *)src->data)[2 * j + 1];
        return;
    case PL_DT_HALF: {
        uint16_t *d = dst->data;
        d[i] = pl_float_to_half(pl_half_to_float(d[i]) + pl_half_to_float(((const uint16_t *)src->data)[j]));
        return;
    }
    case PL_DT_BFLOAT16: {
        uint16_t *d = dst->data;
        d[i] = pl_float_to_bfloat16(pl_bfloat16_to_float(d[i]) + pl_bfloat16_to_float(((const uint16_t *)src->data)[j]));
        return;
    }
    case PL_DT_INT8: ADD_INT(int8_t, uint8_t); return;
    case PL_DT_UINT8: ADD_INT(uint8_t, uint8_t); return;
    case PL_DT_INT16: ADD_INT(int16_t, uint16_t); return;
    case PL_DT_UINT16: ADD_INT(uint16_t, uint16_t); return;
    case PL_DT_INT32: ADD_INT(int32_t, uint32_t); return;
    case PL_DT_UINT32: ADD_INT(uint32_t, uint32_t); return;
    case PL_DT_INT64: ADD_INT(int64_t, uint64_t); return;
    case PL_DT_UINT64: ADD_INT(uint64_t, uint64_t); return;
    default: return;
    }
}
#undef ADD_INT

static bool addable(pl_dtype d) {
    switch (d) {
    case PL_DT_FLOAT: case PL_DT_DOUBLE: case PL_DT_COMPLEX64: case PL_DT_COMPLEX128: case PL_DT_HALF:
    case PL_DT_BFLOAT16: case PL_DT_INT8: case PL_DT_UINT8: case PL_DT_INT16: case PL_DT_UINT16: case PL_DT_INT32:
    case PL_DT_UINT32: case PL_DT_INT64: case PL_DT_UINT64: return true;
    default: return false;
    }
}

typedef enum { SCATTER_ADD, SCATTER_UPDATE } scatter_mode;

/* Writes updates into out (already holding the base values) at indices. */
static pl_status scatter(pl_kernel_ctx *c, pl_tensor *out, const pl_tensor *indices, const pl_tensor *updates,
                         scatter_mode mode, const char *shape_word) {
    char a[96], b[96], v[300];
    PL_TRY(pl__arr_want_index(indices, "indices"));
    if (updates->dtype != out->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "updates is %s, expected %s", pl_dtype_name(updates->dtype),
                        pl_dtype_name(out->dtype));
    if (mode == SCATTER_ADD && !addable(out->dtype))
        return pl_error(PL_INVALID_ARGUMENT, "%s of %s is not supported", c->node_name, pl_dtype_name(out->dtype));
    if (indices->rank < 1) return pl_error(PL_INVALID_ARGUMENT, "Indices shape must have rank at least one.");
    int64_t nd = indices->dims[indices->rank - 1];
    if (nd > out->rank)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Output must be at least 1-D; index innermost dimension length must be <= output rank; saw: "
                        "%lld vs. %d",
                        (long long)nd, out->rank);
    int64_t n = indices->count / (nd ? nd : 1);
    if (nd == 0) {
        n = 1;
        for (int i = 0; i < indices->rank - 1; i++) n *= indices->dims[i];
    }
    /* updates.shape must be indices.shape[:-1] + shape[nd:] */
    bool ok = updates->rank == indices->rank - 1 + out->rank - nd;
    for (int i = 0; ok && i < indices->rank - 1; i++) ok = updates->dims[i] == indices->dims[i];
    for (int i = (int)nd; ok && i < out->rank; i++) ok = updates->dims[indices->rank - 1 + i - nd] == out->dims[i];
    if (!ok)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Dimensions [0,%d) of indices[shape=%s] = %d must match dimensions [0,%d) of updates[shape=%s] "
                        "and updates.shape[%d:] must equal %s.shape[%lld:]",
                        indices->rank - 1, pl__arr_shape_str(indices, a, sizeof a), indices->rank - 1, indices->rank - 1,
                        pl__arr_shape_str(updates, b, sizeof b), indices->rank - 1, shape_word, (long long)nd);
    int64_t slice = 1, strides[PL_MAX_RANK];
    for (int i = (int)nd; i < out->rank; i++) slice *= out->dims[i];
    pl__arr_strides(out->rank, out->dims, strides);
    if (n > 0 && out->count == 0 && slice > 0)
        return pl_error(PL_INVALID_ARGUMENT, "Indices and updates specified for empty output shape");
    for (int64_t j = 0; j < n; j++) {
        int64_t off = 0;
        for (int64_t k = 0; k < nd; k++) {
            int64_t x = pl__arr_int(indices, j * nd + k);
            if (x < 0 || x >= out->dims[k]) {
                size_t len = (size_t)snprintf(v, sizeof v, "[");
                for (int64_t q = 0; q < nd && len < sizeof v; q++)
                    len += (size_t)snprintf(v + len, sizeof v - len, q ? ", %lld" : "%lld",
                                            (long long)pl__arr_int(indices, j * nd + q));
                if (len < sizeof v) snprintf(v + len, sizeof v - len, "]");
                int64_t idx_dims[PL_MAX_RANK], rem = j;
                for (int d = indices->rank - 2; d >= 0; d--) {
                    idx_dims[d] = rem % indices->dims[d];
                    rem /= indices->dims[d];
                }
                return pl_error(PL_INVALID_ARGUMENT, "indices%s = %s does not index into shape %s",
                                pl_shape_str(indices->rank - 1, idx_dims, a, sizeof a), v,
                                pl__arr_shape_str(out, b, sizeof b));
            }
            off += x * strides[k];
        }
        if (mode == SCATTER_UPDATE) PL_TRY(pl__arr_copy(out, off, updates, j * slice, slice));
        else
            for (int64_t e = 0; e < slice; e++) add_elem(out, off + e, updates, j * slice + e);
    }
    return NULL;
}

/* ---- ScatterNd (scatter_nd_op.cc) ---- */

pl_status pl__arr_scatter_nd(pl_kernel_ctx *c) {
    const pl_tensor *indices = c->inputs[0], *updates = c->inputs[1], *shape_t = c->inputs[2];
    char a[64];
    if (shape_t->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "Shape must be a 1-D tensor, got %s", pl__arr_shape_str(shape_t, a, sizeof a));
    PL_TRY(pl__arr_want_index(shape_t, "shape"));
    if (shape_t->count > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "ScatterNd: shape has more than %d dimensions", PL_MAX_RANK);
    int rank = (int)shape_t->count;
    int64_t dims[PL_MAX_RANK], count;
    for (int i = 0; i < rank; i++) dims[i] = pl__arr_int(shape_t, i);
    PL_TRY(pl_shape_count(rank, dims, &count));
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, updates->dtype, rank, dims, &out));
    if (!addable(updates->dtype))
        return pl_error(PL_INVALID_ARGUMENT, "ScatterNd of %s is not supported", pl_dtype_name(updates->dtype));
    memset(out->data, 0, pl_tensor_nbytes(out));
    return scatter(c, out, indices, updates, SCATTER_ADD, "shape");
}

/* ---- TensorScatterUpdate / TensorScatterAdd ---- */

static pl_status tensor_scatter(pl_kernel_ctx *c, scatter_mode mode) {
    const pl_tensor *tensor = c->inputs[0];
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, tensor->dtype, tensor->rank, tensor->dims, &out));
    PL_TRY(pl__arr_copy(out, 0, tensor, 0, tensor->count));
    return scatter(c, out, c->inputs[1], c->inputs[2], mode, "input");
}

pl_status pl__arr_tensor_scatter_update(pl_kernel_ctx *c) { return tensor_scatter(c, SCATTER_UPDATE); }
pl_status pl__arr_tensor_scatter_add(pl_kernel_ctx *c) { return tensor_scatter(c, SCATTER_ADD); }
