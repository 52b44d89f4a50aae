/* Sliding-window attrs and output sizes for convolution and pooling, with
 * TensorFlow's rules and error texts (tensorflow/core/framework/kernel_shape_util.cc). */
#include <stdint.h>
#include <string.h>

#include "ops/nn_internal.h"

static pl_status parse_format(const pl_attrs *a, bool *nchw) {
    *nchw = false;
    if (!pl_attr_has(a, "data_format") || pl_attr_string_equals(a, "data_format", "NHWC")) return NULL;
    if (pl_attr_string_equals(a, "data_format", "NCHW")) {
        *nchw = true;
        return NULL;
    }
    return pl_error(PL_INVALID_ARGUMENT, "Invalid data format");
}

/* Index of rows, cols, batch, depth in a 4-element list in data_format order. */
static void layout_index(bool nchw, int *row, int *col, int *batch, int *depth) {
    *batch = 0;
    *depth = nchw ? 1 : 3;
    *row = nchw ? 2 : 1;
    *col = nchw ? 3 : 2;
}

pl_status pl__window_set_lists(pl__window_attrs *w, const int64_t *ksize, int nk, const int64_t *strides, int ns) {
    int r, c, b, d;
    layout_index(w->nchw, &r, &c, &b, &d);
    if (ns != 4) return pl_error(PL_INVALID_ARGUMENT, "Sliding window strides field must specify 4 dimensions");
    if (strides[b] != 1 || strides[d] != 1)
        return pl_error(PL_UNIMPLEMENTED,
                        "Current implementation does not yet support strides in the batch and depth dimensions.");
    for (int i = 0; i < 4; i++)
        if (strides[i] <= 0) return pl_error(PL_INVALID_ARGUMENT, "Stride must be > 0, but got %lld", (long long)strides[i]);
    w->stride[0] = strides[r];
    w->stride[1] = strides[c];
    if (!ksize) return NULL;
    if (nk != 4) return pl_error(PL_INVALID_ARGUMENT, "Sliding window ksize field must specify 4 dimensions");
    if (ksize[b] != 1) return pl_error(PL_UNIMPLEMENTED, "Pooling is not yet supported on the batch dimension.");
    if (ksize[d] != 1) return pl_error(PL_UNIMPLEMENTED, "Pooling across depth is not supported");
    for (int i = 0; i < 4; i++)
        if (ksize[i] <= 0) return pl_error(PL_INVALID_ARGUMENT, "Sliding window ksize for dimension %d was zero.", i);
    w->ksize[0] = ksize[r];
    w->ksize[1] = ksize[c];
    return NULL;
}

static pl_status parse_padding(const pl_attrs *a, pl__window_attrs *w) {
    if (pl_attr_string_equals(a, "padding", "SAME")) {
        w->padding = PL__PAD_SAME;
        return NULL;
    }
    if (pl_attr_string_equals(a, "padding", "VALID")) {
        w->padding = PL__PAD_VALID;
        return NULL;
    }
    if (!pl_attr_string_equals(a, "padding", "EXPLICIT"))
        return pl_error(PL_INVALID_ARGUMENT, "padding must be SAME, VALID or EXPLICIT");
    w->padding = PL__PAD_EXPLICIT;
    const int64_t *pads;
    int n;
    PL_TRY(pl_attr_int_list(a, "explicit_paddings", &pads, &n));
    if (n != 8)
        return pl_error(PL_INVALID_ARGUMENT, "explicit_paddings attribute must contain 8 values, but got: %d", n);
    int r, c, b, d;
    layout_index(w->nchw, &r, &c, &b, &d);
    for (int i = 0; i < 8; i++)
        if (pads[i] < 0) return pl_error(PL_INVALID_ARGUMENT, "All elements of explicit_paddings must be nonnegative");
    if (pads[2 * b] || pads[2 * b + 1] || pads[2 * d] || pads[2 * d + 1])
        return pl_error(PL_UNIMPLEMENTED, "Nonzero explicit padding in the batch or depth dimensions is not supported");
    w->explicit_pad[0] = pads[2 * r];
    w->explicit_pad[1] = pads[2 * r + 1];
    w->explicit_pad[2] = pads[2 * c];
    w->explicit_pad[3] = pads[2 * c + 1];
    return NULL;
}

pl_status pl__window_parse(const pl_attrs *a, bool with_ksize, pl__window_attrs *w) {
    memset(w, 0, sizeof *w);
    w->dilation[0] = w->dilation[1] = 1;
    PL_TRY(parse_format(a, &w->nchw));
    PL_TRY(parse_padding(a, w));
    const int64_t *strides, *ksize = NULL;
    int ns, nk = 0;
    PL_TRY(pl_attr_int_list(a, "strides", &strides, &ns));
    if (with_ksize) PL_TRY(pl_attr_int_list(a, "ksize", &ksize, &nk));
    PL_TRY(pl__window_set_lists(w, ksize, nk, strides, ns));
    if (!pl_attr_has(a, "dilations")) return NULL;
    const int64_t *dil;
    int nd;
    PL_TRY(pl_attr_int_list(a, "dilations", &dil, &nd));
    if (nd == 0) return NULL;
    if (nd != 4) return pl_error(PL_INVALID_ARGUMENT, "Sliding window dilations field must specify 4 dimensions");
    int r, c, b, d;
    layout_index(w->nchw, &r, &c, &b, &d);
    if (dil[b] != 1 || dil[d] != 1)
        return pl_error(PL_UNIMPLEMENTED,
                        "Current implementation does not yet support dilations in the batch and depth dimensions.");
    if (dil[r] <= 0 || dil[c] <= 0) return pl_error(PL_INVALID_ARGUMENT, "Dilated rates should be larger than 0.");
    w->dilation[0] = dil[r];
    w->dilation[1] = dil[c];
    return NULL;
}

pl_status pl__window_dim(int64_t in, int64_t k, int64_t dilation, int64_t stride, pl__padding padding,
                         int64_t explicit_lo, int64_t explicit_hi, int64_t *out, int64_t *pad_lo, int64_t *pad_hi) {
    if (stride <= 0) return pl_error(PL_INVALID_ARGUMENT, "Stride must be > 0, but got %lld", (long long)stride);
    if (dilation < 1) return pl_error(PL_INVALID_ARGUMENT, "Dilation rate must be >= 1, but got %lld", (long long)dilation);
    /* Bounds that keep the arithmetic below far from int64 overflow, whatever a model file says. */
    if (stride > INT32_MAX || dilation > INT32_MAX || k > INT32_MAX || in > INT32_MAX || explicit_lo > INT32_MAX ||
        explicit_hi > INT32_MAX)
        return pl_error(PL_INVALID_ARGUMENT, "window sizes, strides, dilations and paddings must fit in 32 bits");
    int64_t eff = (k - 1) * dilation + 1;
    *pad_lo = *pad_hi = 0;
    switch (padding) {
    case PL__PAD_VALID: *out = (in - eff + stride) / stride; break;
    case PL__PAD_EXPLICIT:
        *out = (in + explicit_lo + explicit_hi - eff + stride) / stride;
        *pad_lo = explicit_lo;
        *pad_hi = explicit_hi;
        break;
    case PL__PAD_SAME: {
        *out = (in + stride - 1) / stride;
        int64_t needed = (*out - 1) * stride + eff - in;
        if (needed < 0) needed = 0;
        *pad_lo = needed / 2;
        *pad_hi = needed - *pad_lo;
        break;
    }
    }
    if (*out < 0)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Computed output size would be negative: %lld [input_size: %lld, effective_filter_size: "
                        "%lld, stride: %lld]",
                        (long long)*out, (long long)in, (long long)eff, (long long)stride);
    return NULL;
}

pl__nhwc pl__nhwc_of(const pl_tensor *t, bool nchw) {
    pl__nhwc s = {t->dims[0], t->dims[1], t->dims[2], t->dims[3]};
    if (nchw) s = (pl__nhwc){t->dims[0], t->dims[2], t->dims[3], t->dims[1]};
    return s;
}

void pl__nhwc_dims(pl__nhwc s, bool nchw, int64_t dims[4]) {
    dims[0] = s.n;
    dims[1] = nchw ? s.c : s.h;
    dims[2] = nchw ? s.h : s.w;
    dims[3] = nchw ? s.w : s.c;
}
