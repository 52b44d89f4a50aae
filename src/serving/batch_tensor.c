/* Row copies on dimension 0 for batching: gathering the inputs of many
 * requests into one tensor (optionally padding ragged dims 1+, as
 * BatchingSession's pad_variable_length_inputs) and cutting the batch's
 * outputs back into one tensor per request. */
#include <string.h>

#include "serving/internal.h"

typedef struct copy_ctx {
    pl_tensor *dst;
    const pl_tensor *src;
    int64_t dst_stride[PL_MAX_RANK], src_stride[PL_MAX_RANK];
    int64_t pad_index;
    size_t elem;
    bool strings;
} copy_ctx;

static pl_status copy_elems(copy_ctx *c, int64_t di, int64_t si, int64_t n) {
    if (n <= 0) return NULL;
    if (!c->strings) {
        memcpy((char *)c->dst->data + (size_t)di * c->elem, (const char *)c->src->data + (size_t)si * c->elem,
               (size_t)n * c->elem);
        return NULL;
    }
    const pl_str *s = (const pl_str *)c->src->data + si;
    for (int64_t i = 0; i < n; i++) PL_TRY(pl_tensor_set_string(c->dst, di + i, s[i].data, s[i].len));
    return NULL;
}

/* Padding takes the value of one element of the source (TensorFlow pads with
 * the tensor's first value, which is a valid input by construction). */
static pl_status fill_elems(copy_ctx *c, int64_t di, int64_t n) {
    if (c->strings) {
        const pl_str *s = (const pl_str *)c->src->data + c->pad_index;
        for (int64_t i = 0; i < n; i++) PL_TRY(pl_tensor_set_string(c->dst, di + i, s->data, s->len));
        return NULL;
    }
    const char *v = (const char *)c->src->data + (size_t)c->pad_index * c->elem;
    char *d = (char *)c->dst->data + (size_t)di * c->elem;
    for (int64_t i = 0; i < n; i++) memcpy(d + (size_t)i * c->elem, v, c->elem);
    return NULL;
}

/* The block of dims [dim, rank) at dst element di from src element si. */
static pl_status copy_block(copy_ctx *c, int dim, int64_t di, int64_t si) {
    int rank = c->src->rank;
    int64_t have = c->src->dims[dim], want = c->dst->dims[dim];
    if (dim == rank - 1) {
        PL_TRY(copy_elems(c, di, si, have));
        return fill_elems(c, di + have, want - have);
    }
    for (int64_t i = 0; i < have; i++)
        PL_TRY(copy_block(c, dim + 1, di + i * c->dst_stride[dim], si + i * c->src_stride[dim]));
    return fill_elems(c, di + have * c->dst_stride[dim], (want - have) * c->dst_stride[dim]);
}

pl_status pl__rows_copy(pl_tensor *dst, int64_t dst_row, const pl_tensor *src, int64_t row, int64_t n,
                        int64_t pad_index) {
    if (n <= 0) return NULL;
    if (dst->dtype != src->dtype || dst->rank != src->rank || src->rank < 1)
        return pl_error(PL_INTERNAL, "Tensor concat operation failed: tensors of different types or ranks");
    if (src->dtype == PL_DT_RESOURCE || src->dtype == PL_DT_VARIANT || pl_dtype_size(src->dtype) == 0)
        return pl_error(PL_INTERNAL, "Tensor concat operation failed: cannot batch %s tensors",
                        pl_dtype_name(src->dtype));
    if (PL_NEVER(row < 0 || row + n > src->dims[0] || dst_row < 0 || dst_row + n > dst->dims[0]))
        return pl_error(PL_INTERNAL, "batch rows out of range");
    copy_ctx c = {.dst = dst, .src = src, .pad_index = pad_index, .elem = pl_dtype_size(src->dtype),
                  .strings = src->dtype == PL_DT_STRING};
    bool same = true;
    int64_t ds = 1, ss = 1;
    for (int d = src->rank - 1; d >= 0; d--) {
        c.dst_stride[d] = ds;
        c.src_stride[d] = ss;
        if (d > 0) {
            if (src->dims[d] > dst->dims[d])
                return pl_error(PL_INTERNAL, "Tensor concat operation failed: a row is larger than the batch's");
            same = same && src->dims[d] == dst->dims[d];
            ds *= dst->dims[d];
            ss *= src->dims[d];
        }
    }
    if (same) return copy_elems(&c, dst_row * ds, row * ss, n * ss);
    if (ss == 0 && ds > 0) return pl_error(PL_INVALID_ARGUMENT, "Got empty tensor in batch of non-empty tensors.");
    if (PL_NEVER(pad_index < 0 || pad_index >= src->count)) return pl_error(PL_INTERNAL, "bad padding element");
    for (int64_t r = 0; r < n; r++) PL_TRY(copy_block(&c, 1, (dst_row + r) * ds, (row + r) * ss));
    return NULL;
}

pl_status pl__rows_slice(const pl_tensor *src, int64_t row, int64_t n, pl_tensor **out) {
    *out = NULL;
    if (src->rank < 1) return pl_error(PL_INTERNAL, "cannot slice a scalar");
    int64_t dims[PL_MAX_RANK];
    memcpy(dims, src->dims, sizeof dims);
    dims[0] = n;
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(src->dtype, src->rank, dims, &t));
    pl_status st = pl__rows_copy(t, 0, src, row, n, 0);
    if (st) {
        pl_tensor_unref(t);
        return st;
    }
    *out = t;
    return NULL;
}
