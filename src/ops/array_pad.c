/* Padding: Pad and PadV2 (a constant border) and MirrorPad (REFLECT or
 * SYMMETRIC borders), with TensorFlow's checks from pad_op.cc and
 * mirror_pad_op.cc. */
#include <string.h>

#include "ops/array_internal.h"

static pl_status read_paddings(const pl_tensor *in, const pl_tensor *pads, const char *sep, int64_t *before,
                               int64_t *after) {
    char a[64], b[64];
    if (pads->rank != 2 || pads->dims[1] != 2)
        return pl_error(PL_INVALID_ARGUMENT, "paddings must be a matrix with 2 columns: %s",
                        pl__arr_shape_str(pads, a, sizeof a));
    if (pads->dims[0] != in->rank)
        return pl_error(PL_INVALID_ARGUMENT, "The first dimension of paddings must be the rank of inputs%s%s%s",
                        pl__arr_shape_str(pads, a, sizeof a), sep, pl__arr_shape_str(in, b, sizeof b));
    PL_TRY(pl__arr_want_index(pads, "paddings"));
    for (int d = 0; d < in->rank; d++) {
        before[d] = pl__arr_int(pads, 2 * d);
        after[d] = pl__arr_int(pads, 2 * d + 1);
    }
    return NULL;
}

static pl_status padded_dims(const pl_tensor *in, const int64_t *before, const int64_t *after, int64_t *dims,
                             bool *identity) {
    *identity = true;
    for (int d = 0; d < in->rank; d++) {
        if (before[d] > INT64_MAX / 4 || after[d] > INT64_MAX / 4)
            return pl_error(PL_INVALID_ARGUMENT, "Pad: padding of dimension %d is too large", d);
        dims[d] = in->dims[d] + before[d] + after[d];
        *identity &= before[d] == 0 && after[d] == 0;
    }
    int64_t count;
    return pl_shape_count(in->rank, dims, &count);
}

/* ---- Pad / PadV2 ---- */

pl_status pl__arr_pad(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    int64_t before[PL_MAX_RANK], after[PL_MAX_RANK], dims[PL_MAX_RANK];
    PL_TRY(read_paddings(in, c->inputs[1], " ", before, after));
    const pl_tensor *value = NULL;
    if (c->num_inputs == 3) {
        char a[64];
        value = c->inputs[2];
        if (value->rank != 0)
            return pl_error(PL_INVALID_ARGUMENT, "constant_values must be a scalar. Found: %s",
                            pl__arr_shape_str(value, a, sizeof a));
        if (value->dtype != in->dtype)
            return pl_error(PL_INVALID_ARGUMENT, "constant_values is %s, input is %s", pl_dtype_name(value->dtype),
                            pl_dtype_name(in->dtype));
    }
    for (int d = 0; d < in->rank; d++)
        if (before[d] < 0 || after[d] < 0)
            return pl_error(PL_INVALID_ARGUMENT, "Paddings must be non-negative: %lld %lld", (long long)before[d],
                            (long long)after[d]);
    bool identity;
    PL_TRY(padded_dims(in, before, after, dims, &identity));
    if (identity) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, in->rank, dims, &out));
    if (value) PL_TRY(pl__arr_fill_value(out, 0, out->count, value, 0));
    else if (in->dtype != PL_DT_STRING && in->dtype != PL_DT_RESOURCE && in->dtype != PL_DT_VARIANT)
        memset(out->data, 0, pl_tensor_nbytes(out));
    int64_t in_strides[PL_MAX_RANK], out_strides[PL_MAX_RANK], off = 0;
    pl__arr_strides(in->rank, in->dims, in_strides);
    pl__arr_strides(in->rank, dims, out_strides);
    for (int d = 0; d < in->rank; d++) off += before[d] * out_strides[d];
    return pl__arr_copy_strided(out, off, out_strides, in, 0, in_strides, in->rank, in->dims);
}

/* ---- MirrorPad ---- */

pl_status pl__arr_prep_mirror_pad(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    if (pl_attr_string_equals(p->attrs, "mode", "REFLECT")) s->i[0] = 1;
    else if (pl_attr_string_equals(p->attrs, "mode", "SYMMETRIC")) s->i[0] = 0;
    else return pl_error(PL_INVALID_ARGUMENT, "MirrorPad: mode must be REFLECT or SYMMETRIC");
    return NULL;
}

/* Source index along one dimension of size n for output index o. */
static int64_t mirror(int64_t o, int64_t before, int64_t n, int64_t offset) {
    int64_t i = o - before;
    if (i < 0) return -i - 1 + offset;
    if (i >= n) return 2 * n - 1 - i - offset;
    return i;
}

pl_status pl__arr_mirror_pad(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    pl_tensor *in = c->inputs[0];
    int64_t offset = s->i[0]; /* 1 for REFLECT (edge not repeated), 0 for SYMMETRIC */
    int64_t before[PL_MAX_RANK], after[PL_MAX_RANK], dims[PL_MAX_RANK];
    PL_TRY(read_paddings(in, c->inputs[1], ", ", before, after));
    for (int d = 0; d < in->rank; d++) {
        int64_t n = in->dims[d];
        if (before[d] < 0 || after[d] < 0)
            return pl_error(PL_INVALID_ARGUMENT, "paddings must be non-negative: %lld %lld", (long long)before[d],
                            (long long)after[d]);
        if (offset == 0 && (before[d] > n || after[d] > n))
            return pl_error(PL_INVALID_ARGUMENT,
                            "paddings must be no greater than the dimension size: %lld, %lld greater than %lld",
                            (long long)before[d], (long long)after[d], (long long)n);
        if (offset == 1 && (before[d] >= n || after[d] >= n))
            return pl_error(PL_INVALID_ARGUMENT, "paddings must be less than the dimension size: %lld, %lld not less than %lld",
                            (long long)before[d], (long long)after[d], (long long)n);
    }
    bool identity;
    PL_TRY(padded_dims(in, before, after, dims, &identity));
    if (identity) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, in->rank, dims, &out));
    if (out->count == 0) return NULL;
    int r = in->rank, last = r - 1;
    int64_t in_strides[PL_MAX_RANK];
    pl__arr_strides(r, in->dims, in_strides);
    /* Row by row over the outer dimensions; each row is a mirrored head, the
     * input row, and a mirrored tail. */
    int64_t idx[PL_MAX_RANK] = {0};
    int64_t row = dims[last], n = in->dims[last];
    for (int64_t o = 0; o < out->count; o += row) {
        int64_t src = 0;
        for (int d = 0; d < last; d++) src += mirror(idx[d], before[d], in->dims[d], offset) * in_strides[d];
        for (int64_t k = 0; k < before[last]; k++)
            PL_TRY(pl__arr_copy(out, o + k, in, src + mirror(k, before[last], n, offset), 1));
        PL_TRY(pl__arr_copy(out, o + before[last], in, src, n));
        for (int64_t k = before[last] + n; k < row; k++)
            PL_TRY(pl__arr_copy(out, o + k, in, src + mirror(k, before[last], n, offset), 1));
        for (int d = last - 1; d >= 0; d--) {
            if (++idx[d] < dims[d]) break;
            idx[d] = 0;
        }
    }
    return NULL;
}
