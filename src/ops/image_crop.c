/* CropAndResize with TensorFlow's exact sampling
 * (tensorflow/core/kernels/image/crop_and_resize_op.cc): normalised
 * [y1, x1, y2, x2] boxes, flipped boxes allowed, samples outside the image
 * take extrapolation_value, a crop size of 1 samples the box centre. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/image_internal.h"
#include "ops/math_internal.h"

typedef struct crop_state {
    bool nearest;
    float extrapolation;
} crop_state;

pl_status pl__image_crop_prepare(pl_kernel_prep *p) {
    bool nearest = false;
    if (pl_attr_has(p->attrs, "method") && !pl_attr_string_equals(p->attrs, "method", "bilinear")) {
        if (!pl_attr_string_equals(p->attrs, "method", "nearest"))
            return pl_error(PL_INVALID_ARGUMENT, "method must be 'bilinear' or 'nearest'");
        nearest = true;
    }
    crop_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->nearest = nearest;
    s->extrapolation = pl_attr_float_or(p->attrs, "extrapolation_value", 0.0f);
    p->state = s;
    return NULL;
}

static pl_status check_inputs(const pl_tensor *image, const pl_tensor *boxes, const pl_tensor *box_ind,
                              const pl_tensor *crop_size, int64_t *num_boxes, int64_t *crop_h, int64_t *crop_w) {
    char buf[64];
    if (image->rank != 4)
        return pl_error(PL_INVALID_ARGUMENT, "input image must be 4-D%s", pl_shape_str(image->rank, image->dims, buf, sizeof buf));
    if (image->dims[1] <= 0 || image->dims[2] <= 0) return pl_error(PL_INVALID_ARGUMENT, "image dimensions must be positive");
    if (boxes->rank != 2)
        return pl_error(PL_INVALID_ARGUMENT, "boxes must be 2-D, got: %s", pl_shape_str(boxes->rank, boxes->dims, buf, sizeof buf));
    if (box_ind->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "box_indices must be rank 1 but is shape %s",
                        pl_shape_str(box_ind->rank, box_ind->dims, buf, sizeof buf));
    if (boxes->dtype != PL_DT_FLOAT) return pl_error(PL_INVALID_ARGUMENT, "boxes must be float32");
    if (box_ind->dtype != PL_DT_INT32) return pl_error(PL_INVALID_ARGUMENT, "box_ind must be int32");
    if (boxes->count == 0 && box_ind->count == 0) {
        *num_boxes = 0;
    } else {
        *num_boxes = boxes->dims[0];
        if (boxes->dims[1] != 4) return pl_error(PL_INVALID_ARGUMENT, "boxes must have 4 columns");
        if (box_ind->dims[0] != *num_boxes) return pl_error(PL_INVALID_ARGUMENT, "box_index has incompatible shape");
    }
    if (crop_size->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "crop_size must be 1-D%s", pl_shape_str(crop_size->rank, crop_size->dims, buf, sizeof buf));
    if (crop_size->dims[0] != 2)
        return pl_error(PL_INVALID_ARGUMENT, "crop_size must have two elements%s",
                        pl_shape_str(crop_size->rank, crop_size->dims, buf, sizeof buf));
    if (crop_size->dtype != PL_DT_INT32) return pl_error(PL_INVALID_ARGUMENT, "crop_size must be int32");
    const int32_t *cs = crop_size->data;
    *crop_h = cs[0], *crop_w = cs[1];
    if (*crop_h <= 0 || *crop_w <= 0) return pl_error(PL_INVALID_ARGUMENT, "crop dimensions must be positive");
    return NULL;
}

/* Where output column x samples the image: the same for every row of a box,
 * so worked out once per box. */
typedef struct crop_col {
    int64_t left, right;   /* left < 0: outside the image (extrapolated) */
    float lerp;
    float in_x;
} crop_col;

/* One box into out[crop_h][crop_w][depth]; the arithmetic is TensorFlow's, in float.
 * cols has room for crop_w entries. */
static void crop_one(const crop_state *s, const float *img, int64_t ih, int64_t iw, int64_t depth, const float *box,
                     int64_t ch, int64_t cw, float *out, crop_col *cols) {
    const float y1 = box[0], x1 = box[1], y2 = box[2], x2 = box[3];
    const float h_scale = ch > 1 ? (y2 - y1) * (float)(ih - 1) / (float)(ch - 1) : 0;
    const float w_scale = cw > 1 ? (x2 - x1) * (float)(iw - 1) / (float)(cw - 1) : 0;
    for (int64_t x = 0; x < cw; x++) {
        const float in_x = cw > 1 ? x1 * (float)(iw - 1) + (float)x * w_scale : (float)(0.5 * (x1 + x2) * (double)(iw - 1));
        crop_col *col = &cols[x];
        col->in_x = in_x;
        /* Written so that a NaN coordinate (a NaN box) is outside too. */
        if (!(in_x >= 0 && in_x <= (float)(iw - 1))) {
            col->left = -1;
            continue;
        }
        col->left = (int64_t)floorf(in_x);
        col->right = (int64_t)ceilf(in_x);
        col->lerp = in_x - (float)col->left;
    }
    for (int64_t y = 0; y < ch; y++) {
        const float in_y = ch > 1 ? y1 * (float)(ih - 1) + (float)y * h_scale : (float)(0.5 * (y1 + y2) * (double)(ih - 1));
        float *orow = out + y * cw * depth;
        if (!(in_y >= 0 && in_y <= (float)(ih - 1))) {
            for (int64_t i = 0; i < cw * depth; i++) orow[i] = s->extrapolation;
            continue;
        }
        const int64_t top = (int64_t)floorf(in_y), bottom = (int64_t)ceilf(in_y);
        const float y_lerp = in_y - (float)top;
        for (int64_t x = 0; x < cw; x++) {
            const crop_col *col = &cols[x];
            float *o = orow + x * depth;
            if (col->left < 0) {
                for (int64_t d = 0; d < depth; d++) o[d] = s->extrapolation;
                continue;
            }
            if (s->nearest) {
                const float *p = img + ((int64_t)roundf(in_y) * iw + (int64_t)roundf(col->in_x)) * depth;
                memcpy(o, p, sizeof(float) * (size_t)depth);
                continue;
            }
            const int64_t left = col->left, right = col->right;
            const float x_lerp = col->lerp;
            const float *tl = img + (top * iw + left) * depth, *tr = img + (top * iw + right) * depth;
            const float *bl = img + (bottom * iw + left) * depth, *br = img + (bottom * iw + right) * depth;
            for (int64_t d = 0; d < depth; d++) {
                const float t = tl[d] + (tr[d] - tl[d]) * x_lerp;
                const float b = bl[d] + (br[d] - bl[d]) * x_lerp;
                o[d] = t + (b - t) * y_lerp;
            }
        }
    }
}

typedef struct crop_job {
    const crop_state *s;
    const float *pix;
    const int32_t *box_ind;
    const float *boxes;
    int64_t ih, iw, depth, ch, cw;
    float *out;
} crop_job;

static int crop_boxes(const void *ctx, int64_t begin, int64_t end) {
    const crop_job *j = ctx;
    const int64_t image = j->ih * j->iw * j->depth, crop = j->ch * j->cw * j->depth;
    crop_col *cols = malloc(sizeof *cols * (size_t)j->cw);
    if (!cols) return 1;
    for (int64_t b = begin; b < end; b++)
        crop_one(j->s, j->pix + j->box_ind[b] * image, j->ih, j->iw, j->depth, j->boxes + 4 * b, j->ch, j->cw,
                 j->out + b * crop, cols);
    free(cols);
    return 0;
}

pl_status pl__image_crop_compute(pl_kernel_ctx *c) {
    const crop_state *s = c->state;
    pl_tensor *image = c->inputs[0];
    const pl_tensor *boxes = c->inputs[1], *box_ind = c->inputs[2];
    int64_t n = 0, ch = 0, cw = 0;
    PL_TRY(check_inputs(image, boxes, box_ind, c->inputs[3], &n, &ch, &cw));
    const int64_t batch = image->dims[0], ih = image->dims[1], iw = image->dims[2], depth = image->dims[3];
    int64_t dims[4] = {n, ch, cw, depth};
    pl_tensor *y;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, 4, dims, &y));
    const int32_t *bi = box_ind->data;
    for (int64_t b = 0; b < n; b++)
        if (bi[b] < 0 || bi[b] >= batch) return pl_error(PL_OUT_OF_RANGE, "box_index has values outside [0, batch_size)");
    const float *bx = boxes->data;
    for (int64_t i = 0; i < n * 4; i++)
        if (!isfinite(bx[i])) return pl_error(PL_INVALID_ARGUMENT, "Boxes contains at least one element that is not finite");
    if (y->count == 0) return NULL;
    pl_tensor *img;
    PL_TRY(pl__image_as_float(image, &img));
    /* Boxes are independent: R-Net's thousands of candidates at 1920x1080 split across cores. */
    crop_job job = {s, img->data, bi, bx, ih, iw, depth, ch, cw, y->data};
    int64_t per_box = ch * cw * depth;
    int failed = pl__parallel_for(n, (PL__PARALLEL_MIN + per_box - 1) / per_box, crop_boxes, &job);
    pl_tensor_unref(img);
    if (failed) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
}
