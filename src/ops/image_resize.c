/* ResizeBilinear and ResizeNearestNeighbor with TensorFlow's exact index and
 * weight arithmetic (tensorflow/core/kernels/image/resize_*_op.cc and
 * util/image_resizer_state.h): float scale, legacy or half-pixel scaler,
 * lerps in float in the same order, so results match bit for bit. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/image_internal.h"
#include "ops/math_internal.h"

typedef struct resize_state {
    bool align_corners, half_pixel;
} resize_state;

pl_status pl__image_resize_prepare(pl_kernel_prep *p) {
    resize_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->align_corners = pl_attr_bool_or(p->attrs, "align_corners", false);
    s->half_pixel = pl_attr_bool_or(p->attrs, "half_pixel_centers", false);
    p->state = s;
    return NULL;
}

void pl__image_free_state(void *state) { free(state); }

pl_status pl__image_as_float(pl_tensor *t, pl_tensor **out) {
    if (t->dtype == PL_DT_FLOAT) {
        *out = pl_tensor_ref(t);
        return NULL;
    }
    switch (t->dtype) {
    case PL_DT_DOUBLE: case PL_DT_HALF: case PL_DT_BFLOAT16: case PL_DT_INT8: case PL_DT_UINT8:
    case PL_DT_INT16: case PL_DT_UINT16: case PL_DT_INT32: case PL_DT_UINT32: case PL_DT_INT64:
    case PL_DT_UINT64: break;
    default: return pl_error(PL_INVALID_ARGUMENT, "image type %s is not supported", pl_dtype_name(t->dtype));
    }
    pl_tensor *f;
    PL_TRY(pl_tensor_alloc(PL_DT_FLOAT, t->rank, t->dims, &f));
    float *v = f->data;
    if (t->dtype == PL_DT_UINT8) {
        const uint8_t *u = t->data;
        for (int64_t i = 0; i < t->count; i++) v[i] = (float)u[i];
    } else if (t->dtype == PL_DT_INT64) {
        const int64_t *u = t->data;
        for (int64_t i = 0; i < t->count; i++) v[i] = (float)u[i];
    } else if (t->dtype == PL_DT_UINT64) {
        const uint64_t *u = t->data;
        for (int64_t i = 0; i < t->count; i++) v[i] = (float)u[i];
    } else {
        for (int64_t i = 0; i < t->count; i++) v[i] = (float)pl_tensor_get_f64(t, i);
    }
    *out = f;
    return NULL;
}

/* ImageResizerState::ValidateAndCalculateOutputSize. */
typedef struct resize_geom {
    int64_t batch, in_h, in_w, ch, out_h, out_w;
    float h_scale, w_scale;
} resize_geom;

static float resize_scale(int64_t in, int64_t out, bool align_corners) {
    return (align_corners && out > 1) ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
}

static pl_status resize_geometry(const resize_state *s, const pl_tensor *x, const pl_tensor *size, resize_geom *g) {
    char buf[64];
    if (s->half_pixel && s->align_corners)
        return pl_error(PL_INVALID_ARGUMENT, "If half_pixel_centers is True, align_corners must be False.");
    if (x->rank != 4)
        return pl_error(PL_INVALID_ARGUMENT, "input must be 4-dimensional%s", pl_shape_str(x->rank, x->dims, buf, sizeof buf));
    g->batch = x->dims[0], g->ch = x->dims[3];
    if (g->ch <= 0) return pl_error(PL_INVALID_ARGUMENT, "image must have at least one channel");
    if (x->dims[1] <= 0 || x->dims[2] <= 0) return pl_error(PL_INVALID_ARGUMENT, "input image must be of non-zero size");
    if (x->dims[1] > INT32_MAX || x->dims[2] > INT32_MAX)
        return pl_error(PL_INVALID_ARGUMENT, "input sizes must be between 0 and max int32");
    g->in_h = x->dims[1], g->in_w = x->dims[2];
    if (size->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "shape_t must be 1-dimensional%s", pl_shape_str(size->rank, size->dims, buf, sizeof buf));
    if (size->count != 2)
        return pl_error(PL_INVALID_ARGUMENT, "shape_t must have two elements%s", pl_shape_str(size->rank, size->dims, buf, sizeof buf));
    if (size->dtype != PL_DT_INT32) return pl_error(PL_INVALID_ARGUMENT, "size must be int32");
    const int32_t *sz = size->data;
    g->out_h = sz[0], g->out_w = sz[1];
    if (g->out_h <= 0 || g->out_w <= 0) return pl_error(PL_INVALID_ARGUMENT, "output dimensions must be positive");
    g->h_scale = resize_scale(g->in_h, g->out_h, s->align_corners);
    g->w_scale = resize_scale(g->in_w, g->out_w, s->align_corners);
    if (ceilf((float)(g->out_h - 1) * g->h_scale) > (float)INT64_MAX)
        return pl_error(PL_INVALID_ARGUMENT, "input image height scale would cause an overflow");
    if (ceilf((float)(g->out_w - 1) * g->w_scale) > (float)INT_MAX)
        return pl_error(PL_INVALID_ARGUMENT, "input image width scale would cause an overflow");
    return NULL;
}

/* ---- bilinear ---- */

typedef struct interp {
    int64_t lower, upper;
    float lerp;
} interp;

static void interpolation_weights(bool half_pixel, int64_t out_size, int64_t in_size, float scale, interp *w) {
    for (int64_t i = 0; i < out_size; i++) {
        const float in = half_pixel ? ((float)i + 0.5f) * scale - 0.5f : (float)i * scale;
        const float in_f = floorf(in);
        int64_t lo = (int64_t)in_f;
        w[i].lower = lo < 0 ? 0 : lo > in_size - 1 ? in_size - 1 : lo;
        int64_t up = (int64_t)ceilf(in);
        w[i].upper = up > in_size - 1 ? in_size - 1 : up < 0 ? 0 : up;
        w[i].lerp = in - in_f;
    }
}

static inline float lerp2(float tl, float tr, float bl, float br, float xl, float yl) {
    const float top = tl + (tr - tl) * xl;
    const float bottom = bl + (br - bl) * xl;
    return top + (bottom - top) * yl;
}

typedef struct bilinear_job {
    const resize_geom *g;
    const interp *ys, *xs;
    const float *x;
    float *out;
} bilinear_job;

/* Output rows [begin, end) over every image of the batch (row = b * out_h + oy). */
static int bilinear_rows(const void *ctx, int64_t begin, int64_t end) {
    const bilinear_job *j = ctx;
    const resize_geom *g = j->g;
    const int64_t row = g->in_w * g->ch, ch = g->ch;
    float *out = j->out + begin * g->out_w * ch;
    for (int64_t r = begin; r < end; r++) {
        const int64_t b = r / g->out_h, oy = r % g->out_h;
        const float *img = j->x + b * g->in_h * row;
        const float *top = img + j->ys[oy].lower * row, *bot = img + j->ys[oy].upper * row;
        const float yl = j->ys[oy].lerp;
        for (int64_t ox = 0; ox < g->out_w; ox++) {
            const int64_t l = j->xs[ox].lower * ch, rt = j->xs[ox].upper * ch;
            const float xl = j->xs[ox].lerp;
            for (int64_t k = 0; k < ch; k++) *out++ = lerp2(top[l + k], top[rt + k], bot[l + k], bot[rt + k], xl, yl);
        }
    }
    return 0;
}

pl_status pl__image_resize_bilinear_compute(pl_kernel_ctx *c) {
    const resize_state *s = c->state;
    resize_geom g;
    PL_TRY(resize_geometry(s, c->inputs[0], c->inputs[1], &g));
    int64_t dims[4] = {g.batch, g.out_h, g.out_w, g.ch};
    pl_tensor *y;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, 4, dims, &y));
    if (y->count == 0) return NULL;
    pl_tensor *xf;
    PL_TRY(pl__image_as_float(c->inputs[0], &xf));
    const float *x = xf->data;
    float *out = y->data;
    if (g.out_h == g.in_h && g.out_w == g.in_w) {
        memcpy(out, x, (size_t)xf->count * sizeof(float));
        pl_tensor_unref(xf);
        return NULL;
    }
    interp *ys = malloc(sizeof(interp) * (size_t)(g.out_h + g.out_w));
    if (!ys) {
        pl_tensor_unref(xf);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    interp *xs = ys + g.out_h;
    interpolation_weights(s->half_pixel, g.out_h, g.in_h, g.h_scale, ys);
    interpolation_weights(s->half_pixel, g.out_w, g.in_w, g.w_scale, xs);
    /* Rows are independent: the P-Net pyramid's first levels split across cores. */
    bilinear_job job = {&g, ys, xs, x, out};
    int64_t per_row = g.out_w * g.ch > 0 ? g.out_w * g.ch : 1;
    pl__parallel_for(g.batch * g.out_h, (PL__PARALLEL_MIN + per_row - 1) / per_row, bilinear_rows, &job);
    free(ys);
    pl_tensor_unref(xf);
    return NULL;
}

/* ---- nearest neighbour ---- */

static int64_t nearest_index(const resize_state *s, int64_t i, float scale, int64_t in_size) {
    const float v = s->half_pixel ? ((float)i + 0.5f) * scale : (float)i * scale;
    int64_t x = (int64_t)(s->align_corners ? roundf(v) : floorf(v));
    if (x > in_size - 1) x = in_size - 1;
    if (s->half_pixel && x < 0) x = 0;
    return x;
}

pl_status pl__image_resize_nearest_compute(pl_kernel_ctx *c) {
    const resize_state *s = c->state;
    const pl_tensor *x = c->inputs[0];
    resize_geom g;
    PL_TRY(resize_geometry(s, x, c->inputs[1], &g));
    if (g.in_h >= (1 << 24) || g.in_w >= (1 << 24))
        return pl_error(PL_INVALID_ARGUMENT, "nearest neighbor requires max height & width of 2^24");
    size_t es = pl_dtype_size(x->dtype);
    if (x->dtype == PL_DT_STRING || x->dtype == PL_DT_RESOURCE || x->dtype == PL_DT_VARIANT || !es)
        return pl_error(PL_INVALID_ARGUMENT, "ResizeNearestNeighbor does not support %s", pl_dtype_name(x->dtype));
    int64_t dims[4] = {g.batch, g.out_h, g.out_w, g.ch};
    pl_tensor *y;
    PL_TRY(pl_ctx_alloc_output(c, 0, x->dtype, 4, dims, &y));
    if (y->count == 0) return NULL;
    const size_t pixel = es * (size_t)g.ch;
    const char *in = x->data;
    char *out = y->data;
    for (int64_t b = 0; b < g.batch; b++)
        for (int64_t oy = 0; oy < g.out_h; oy++) {
            const int64_t iy = nearest_index(s, oy, g.h_scale, g.in_h);
            const char *src_row = in + (size_t)((b * g.in_h + iy) * g.in_w) * pixel;
            for (int64_t ox = 0; ox < g.out_w; ox++) {
                const int64_t ix = nearest_index(s, ox, g.w_scale, g.in_w);
                memcpy(out, src_row + (size_t)ix * pixel, pixel);
                out += pixel;
            }
        }
    return NULL;
}
