/* Block rearrangements between space and depth or batch: DepthToSpace,
 * SpaceToDepth (NHWC, as TensorFlow's CPU kernels), SpaceToBatchND and
 * BatchToSpaceND (the padding and cropping around dilated convolutions).
 * Each is a few strided copies. */
#include <string.h>

#include "ops/array_internal.h"

/* A dense output read from `in` through src_strides over view_dims. */
static pl_status gather_view(pl_kernel_ctx *c, const pl_tensor *in, const int64_t *src_strides, int view_rank,
                             const int64_t *view_dims, int out_rank, const int64_t *out_dims) {
    int64_t dst_strides[PL__ARR_MAX_VIEW];
    pl__arr_strides(view_rank, view_dims, dst_strides);
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, out_rank, out_dims, &out));
    return pl__arr_copy_strided(out, 0, dst_strides, in, 0, src_strides, view_rank, view_dims);
}

/* ---- DepthToSpace / SpaceToDepth (NHWC, as TensorFlow's CPU kernels) ---- */

pl_status pl__arr_prep_block_size(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    PL_TRY(pl_attr_int(p->attrs, "block_size", &s->i[0]));
    if (s->i[0] < 2 || s->i[0] > (1 << 20))
        return pl_error(PL_INVALID_ARGUMENT, "Value for attr 'block_size' of %lld must be at least minimum 2",
                        (long long)s->i[0]);
    if (pl_attr_has(p->attrs, "data_format") && !pl_attr_string_equals(p->attrs, "data_format", "NHWC"))
        return pl_error(PL_INVALID_ARGUMENT, "Only NHWC data_format supported on CPU. Got %s",
                        pl_attr_string_equals(p->attrs, "data_format", "NCHW") ? "NCHW" : "NCHW_VECT_C");
    return NULL;
}

pl_status pl__arr_depth_to_space(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *in = c->inputs[0];
    int64_t bs = s->i[0];
    if (in->rank != 4) return pl_error(PL_INVALID_ARGUMENT, "Input rank should be: 4 instead of: %d", in->rank);
    int64_t B = in->dims[0], H = in->dims[1], W = in->dims[2], D = in->dims[3];
    if (D % (bs * bs) != 0)
        return pl_error(PL_INVALID_ARGUMENT, "Input depth dimension %lld should be divisible by: %lld", (long long)D,
                        (long long)(bs * bs));
    int64_t oc = D / (bs * bs);
    int64_t out_dims[4] = {B, H * bs, W * bs, oc};
    /* out[b, h*bs+i, w*bs+j, c] = in[b, h, w, (i*bs+j)*oc + c] */
    int64_t view[6] = {B, H, bs, W, bs, oc};
    int64_t src[6] = {H * W * D, W * D, bs * oc, D, oc, 1};
    return gather_view(c, in, src, 6, view, 4, out_dims);
}

pl_status pl__arr_space_to_depth(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *in = c->inputs[0];
    int64_t bs = s->i[0];
    if (in->rank != 4) return pl_error(PL_INVALID_ARGUMENT, "Input rank should be: 4 instead of: %d", in->rank);
    int64_t B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
    if (W % bs != 0 || H % bs != 0)
        return pl_error(PL_INVALID_ARGUMENT, "Image width %lld and height %lld should be divisible by block_size: %lld",
                        (long long)W, (long long)H, (long long)bs);
    int64_t out_dims[4] = {B, H / bs, W / bs, C * bs * bs};
    /* out[b, h, w, (i*bs+j)*C + c] = in[b, h*bs+i, w*bs+j, c] */
    int64_t view[6] = {B, H / bs, W / bs, bs, bs, C};
    int64_t src[6] = {H * W * C, bs * W * C, bs * C, W * C, C, 1};
    return gather_view(c, in, src, 6, view, 4, out_dims);
}

/* ---- SpaceToBatchND / BatchToSpaceND (spacetobatch_op.cc, batchtospace_op.cc) ---- */

typedef struct {
    int m;                          /* block dimensions */
    int64_t block[PL_MAX_RANK];
    int64_t pad_start[PL_MAX_RANK]; /* paddings, or crops */
    int64_t pad_end[PL_MAX_RANK];
    int64_t block_product;
} block_spec;

static pl_status read_block_spec(const pl_tensor *in, const pl_tensor *block_t, const pl_tensor *pads_t, bool crops,
                                 block_spec *bs) {
    char a[64];
    const char *what = crops ? "crops" : "paddings";
    if (block_t->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "block_shape must be 1-D, not %s", pl__arr_shape_str(block_t, a, sizeof a));
    PL_TRY(pl__arr_want_index(block_t, "block_shape"));
    PL_TRY(pl__arr_want_index(pads_t, what));
    int64_t m = block_t->count;
    if (pads_t->rank != 2 || pads_t->dims[0] != m || pads_t->dims[1] != 2)
        return pl_error(PL_INVALID_ARGUMENT, "%s should have shape [%lld, 2] instead of %s", what, (long long)m,
                        pl__arr_shape_str(pads_t, a, sizeof a));
    if (in->rank < 1 + m)
        return pl_error(PL_INVALID_ARGUMENT, "input rank should be >= %lld instead of %d", (long long)(1 + m), in->rank);
    bs->m = (int)m;
    bs->block_product = 1;
    for (int k = 0; k < m; k++) {
        bs->block[k] = pl__arr_int(block_t, k);
        bs->pad_start[k] = pl__arr_int(pads_t, 2 * k);
        bs->pad_end[k] = pl__arr_int(pads_t, 2 * k + 1);
        if (bs->block[k] < 1)
            return pl_error(PL_INVALID_ARGUMENT, "All values in block_shape must be positive, got value, %lld at index %d.",
                            (long long)bs->block[k], k);
        if (bs->pad_start[k] > INT64_MAX / 4 || bs->pad_end[k] > INT64_MAX / 4)
            return pl_error(PL_INVALID_ARGUMENT, "%s of dimension %d are too large", what, k);
        if (bs->pad_start[k] < 0 || bs->pad_end[k] < 0)
            return pl_error(PL_INVALID_ARGUMENT, crops ? "Crops must be non-negative" : "Paddings must be non-negative");
        if (bs->block[k] > (1 << 20) || bs->block_product > INT64_MAX / bs->block[k])
            return pl_error(PL_INVALID_ARGUMENT, "block_shape is too large");
        bs->block_product *= bs->block[k];
    }
    return NULL;
}

/* Floor and ceiling division for a positive divisor. */
static int64_t div_floor(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int64_t div_ceil(int64_t a, int64_t b) { return -div_floor(-a, b); }

/* Moves data between the space tensor `sp` ([B, S1..SM, R]) and the batch
 * tensor `bt` ([B*prod(block), O1..OM, R]): batch element (i1..iM, b) at
 * (o1..oM) is space element b at (o_k*block_k + i_k - pad_start_k), where
 * that lies inside the space tensor. One strided copy per block offset. */
static pl_status move_blocks(pl_tensor *sp, pl_tensor *bt, const block_spec *bs, bool to_batch) {
    int m = bs->m;
    int64_t B = sp->dims[0];
    int64_t sp_strides[PL_MAX_RANK], bt_strides[PL_MAX_RANK];
    pl__arr_strides(sp->rank, sp->dims, sp_strides);
    pl__arr_strides(bt->rank, bt->dims, bt_strides);
    int64_t rest = sp_strides[m]; /* elements per spatial position (the R dims) */
    int64_t offs[PL_MAX_RANK] = {0};
    for (int64_t combo = 0; combo < bs->block_product; combo++) {
        /* combo enumerates (i1..iM) row-major, which is also the batch-major order. */
        int64_t r = combo;
        for (int k = m - 1; k >= 0; k--) {
            offs[k] = r % bs->block[k];
            r /= bs->block[k];
        }
        int64_t view[PL_MAX_RANK + 2], s_str[PL_MAX_RANK + 2], b_str[PL_MAX_RANK + 2];
        int64_t s_off = 0, b_off = combo * B * bt_strides[0];
        bool empty = false;
        view[0] = B;
        s_str[0] = sp_strides[0];
        b_str[0] = bt_strides[0];
        for (int k = 0; k < m; k++) {
            /* o*block + i - pad in [0, S) */
            int64_t lo = div_ceil(bs->pad_start[k] - offs[k], bs->block[k]);
            int64_t hi = div_floor(bs->pad_start[k] + sp->dims[1 + k] - 1 - offs[k], bs->block[k]);
            if (lo < 0) lo = 0;
            if (hi > bt->dims[1 + k] - 1) hi = bt->dims[1 + k] - 1;
            if (hi < lo) empty = true;
            view[1 + k] = hi - lo + 1;
            s_str[1 + k] = bs->block[k] * sp_strides[1 + k];
            b_str[1 + k] = bt_strides[1 + k];
            s_off += (lo * bs->block[k] + offs[k] - bs->pad_start[k]) * sp_strides[1 + k];
            b_off += lo * bt_strides[1 + k];
        }
        if (empty) continue;
        view[m + 1] = rest;
        s_str[m + 1] = 1;
        b_str[m + 1] = 1;
        if (to_batch) PL_TRY(pl__arr_copy_strided(bt, b_off, b_str, sp, s_off, s_str, m + 2, view));
        else PL_TRY(pl__arr_copy_strided(sp, s_off, s_str, bt, b_off, b_str, m + 2, view));
    }
    return NULL;
}

static void zero_fill(pl_tensor *t) {
    if (t->dtype != PL_DT_STRING && t->dtype != PL_DT_RESOURCE && t->dtype != PL_DT_VARIANT)
        memset(t->data, 0, pl_tensor_nbytes(t));
}

pl_status pl__arr_space_to_batch_nd(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    block_spec bs;
    PL_TRY(read_block_spec(in, c->inputs[1], c->inputs[2], false, &bs));
    int64_t out_dims[PL_MAX_RANK];
    memcpy(out_dims, in->dims, sizeof out_dims);
    if (in->dims[0] > INT64_MAX / bs.block_product) return pl_error(PL_INVALID_ARGUMENT, "output batch is too large");
    out_dims[0] = in->dims[0] * bs.block_product;
    bool padded = false;
    for (int k = 0; k < bs.m; k++) {
        int64_t padded_size = in->dims[1 + k] + bs.pad_start[k] + bs.pad_end[k];
        if (padded_size % bs.block[k] != 0)
            return pl_error(PL_INVALID_ARGUMENT, "padded_shape[%d]=%lld is not divisible by block_shape[%d]=%lld", k,
                            (long long)padded_size, k, (long long)bs.block[k]);
        out_dims[1 + k] = padded_size / bs.block[k];
        padded |= bs.pad_start[k] || bs.pad_end[k];
    }
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, in->rank, out_dims, &out));
    if (padded) zero_fill(out);
    return move_blocks(in, out, &bs, true);
}

pl_status pl__arr_batch_to_space_nd(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    block_spec bs;
    PL_TRY(read_block_spec(in, c->inputs[1], c->inputs[2], true, &bs));
    if (in->dims[0] % bs.block_product != 0)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Input batch dimension (%lld) is not divisible by product of block sizes (%lld)",
                        (long long)in->dims[0], (long long)bs.block_product);
    int64_t out_dims[PL_MAX_RANK];
    memcpy(out_dims, in->dims, sizeof out_dims);
    out_dims[0] = in->dims[0] / bs.block_product;
    for (int k = 0; k < bs.m; k++) {
        int64_t size = in->dims[1 + k] * bs.block[k], cropped = size - bs.pad_start[k] - bs.pad_end[k];
        if (cropped < 0)
            return pl_error(PL_INVALID_ARGUMENT, "Cropped size must be non-negative: start: %lld end: %lld size %lld",
                            (long long)bs.pad_start[k], (long long)bs.pad_end[k], (long long)size);
        out_dims[1 + k] = cropped;
    }
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, in->rank, out_dims, &out));
    return move_blocks(out, in, &bs, false);
}
