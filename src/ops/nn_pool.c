/* MaxPool, MaxPoolV2 and AvgPool through oneDNN pooling (one primitive per
 * shape, cached), with a direct C kernel where oneDNN has only its reference
 * implementation. */
#include <float.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/dnnl_glue.h"
#include "ops/nn_internal.h"

#define POOL_PLANS 16

struct pl__pool {
    pl__pool_kind kind;
    bool v2;                    /* MaxPoolV2: ksize and strides are inputs */
    pl__window_attrs win;
    pl__plan_cache plans;
    char impl[48];
};

typedef struct pool_plan {
    pl__dnnl_plan base;
    dnnl_primitive_desc_t pd;   /* NULL: the direct kernel */
    dnnl_primitive_t prim;
    dnnl_memory_desc_t src_md, dst_md;
} pool_plan;

static void pool_plan_destroy(pl__dnnl_plan *base) {
    pool_plan *p = (pool_plan *)base;
    if (p->prim) dnnl_primitive_destroy(p->prim);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    free(p);
}

pl_status pl__pool_geometry(const pl__window_attrs *w, const pl_tensor *x, pl__pool_geom *g) {
    char buf[64];
    if (x->rank != 4)
        return pl_error(PL_INVALID_ARGUMENT, "input must be 4-dimensional%s", pl_shape_str(x->rank, x->dims, buf, sizeof buf));
    pl__nhwc s = pl__nhwc_of(x, w->nchw);
    memset(g, 0, sizeof *g);
    g->nchw = w->nchw;
    g->n = s.n, g->h = s.h, g->w = s.w, g->c = s.c;
    g->kh = w->ksize[0], g->kw = w->ksize[1];
    g->stride[0] = w->stride[0], g->stride[1] = w->stride[1];
    PL_TRY(pl__window_dim(s.h, g->kh, 1, g->stride[0], w->padding, w->explicit_pad[0], w->explicit_pad[1], &g->oh,
                          &g->pad_top, &g->pad_bottom));
    PL_TRY(pl__window_dim(s.w, g->kw, 1, g->stride[1], w->padding, w->explicit_pad[2], w->explicit_pad[3], &g->ow,
                          &g->pad_left, &g->pad_right));
    return NULL;
}

void pl__pool_direct(pl__pool_kind kind, const pl__pool_geom *g, const float *x, float *y) {
    int64_t xs[4], ys[4]; /* element strides of (n, h, w, c) */
    if (g->nchw) {
        xs[0] = g->c * g->h * g->w, xs[1] = g->w, xs[2] = 1, xs[3] = g->h * g->w;
        ys[0] = g->c * g->oh * g->ow, ys[1] = g->ow, ys[2] = 1, ys[3] = g->oh * g->ow;
    } else {
        xs[0] = g->h * g->w * g->c, xs[1] = g->w * g->c, xs[2] = g->c, xs[3] = 1;
        ys[0] = g->oh * g->ow * g->c, ys[1] = g->ow * g->c, ys[2] = g->c, ys[3] = 1;
    }
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t y0 = oy * g->stride[0] - g->pad_top, x0 = ox * g->stride[1] - g->pad_left;
                int64_t y1 = y0 + g->kh, x1 = x0 + g->kw;
                if (y0 < 0) y0 = 0;
                if (x0 < 0) x0 = 0;
                if (y1 > g->h) y1 = g->h;
                if (x1 > g->w) x1 = g->w;
                for (int64_t c = 0; c < g->c; c++) {
                    float m = -FLT_MAX;
                    float sum = 0;
                    for (int64_t iy = y0; iy < y1; iy++)
                        for (int64_t ix = x0; ix < x1; ix++) {
                            float v = x[n * xs[0] + iy * xs[1] + ix * xs[2] + c * xs[3]];
                            if (v > m || v != v) m = v;
                            sum += v;
                        }
                    int64_t count = (y1 - y0) * (x1 - x0);
                    float *out = &y[n * ys[0] + oy * ys[1] + ox * ys[2] + c * ys[3]];
                    *out = kind == PL__POOL_MAX ? m : count > 0 ? sum / (float)count : 0.0f;
                }
            }
}

pl_status pl__pool_create(pl__pool_kind kind, pl__pool **out) {
    pl__pool *p = calloc(1, sizeof *p);
    if (!p) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->kind = kind;
    pl__plan_cache_init(&p->plans, POOL_PLANS);
    *out = p;
    return NULL;
}

void pl__pool_free(pl__pool *p) {
    if (!p) return;
    pl__plan_cache_destroy(&p->plans);
    free(p);
}

const char *pl__pool_impl(pl__pool *p) { return p->impl; }

static pl_status pool_plan_build(pl__pool_kind kind, const pl__pool_geom *g, pool_plan *p) {
    dnnl_format_tag_t tag = g->nchw ? dnnl_nchw : dnnl_nhwc;
    dnnl_dims_t sd = {g->n, g->c, g->h, g->w}, dd = {g->n, g->c, g->oh, g->ow};
    PL_TRY(pl__dnnl_check(dnnl_memory_desc_init_by_tag(&p->src_md, 4, sd, dnnl_f32, tag), "input md"));
    PL_TRY(pl__dnnl_check(dnnl_memory_desc_init_by_tag(&p->dst_md, 4, dd, dnnl_f32, tag), "output md"));
    dnnl_dims_t strides = {g->stride[0], g->stride[1]}, kernel = {g->kh, g->kw}, dil = {0, 0};
    dnnl_dims_t pl = {g->pad_top, g->pad_left}, pr = {g->pad_bottom, g->pad_right};
    /* A window entirely in the padding has no TensorFlow meaning worth copying;
     * the direct kernel gives it a defined value. */
    if (g->pad_top >= g->kh || g->pad_bottom >= g->kh || g->pad_left >= g->kw || g->pad_right >= g->kw) return NULL;
    dnnl_pooling_v2_desc_t desc;
    dnnl_alg_kind_t alg = kind == PL__POOL_MAX ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;
    if (dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, alg, &p->src_md, &p->dst_md, strides, kernel,
                                          dil, pl, pr) != dnnl_success)
        return NULL;
    PL_TRY(pl__dnnl_pd_fast(&desc, &p->pd));
    if (!p->pd) return NULL;
    return pl__dnnl_check(dnnl_primitive_create(&p->prim, p->pd), "creating a pooling");
}

static pl_status pool_plan_get(pl__pool *pool, const pl__pool_geom *g, pool_plan **out) {
    const int64_t key[] = {g->n, g->h, g->w, g->c, g->kh, g->kw, g->stride[0], g->stride[1],
                           g->pad_top, g->pad_bottom, g->pad_left, g->pad_right, omp_get_max_threads()};
    const int nkey = (int)(sizeof key / sizeof key[0]);
    pool_plan *p = (pool_plan *)pl__plan_cache_get(&pool->plans, key, nkey);
    if (p) {
        *out = p;
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (!p) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->base.destroy = pool_plan_destroy;
    p->base.nkey = nkey;
    memcpy(p->base.key, key, sizeof key);
    pl_status st = pool_plan_build(pool->kind, g, p);
    if (st) {
        pool_plan_destroy(&p->base);
        return st;
    }
    pthread_mutex_lock(&pool->plans.mu);
    snprintf(pool->impl, sizeof pool->impl, "%s", p->pd ? pl__dnnl_impl_name(p->pd) : "direct");
    pthread_mutex_unlock(&pool->plans.mu);
    *out = (pool_plan *)pl__plan_cache_put(&pool->plans, &p->base);
    return NULL;
}

pl_status pl__pool_run(pl__pool *pool, const pl__pool_geom *g, const float *x, float *y) {
    if (g->n * g->oh * g->ow * g->c == 0) return NULL;
    pool_plan *p = NULL;
    PL_TRY(pool_plan_get(pool, g, &p));
    pl_status st = NULL;
    if (!p->pd) {
        pl__pool_direct(pool->kind, g, x, y);
    } else {
        pl__dnnl_arg args[] = {{DNNL_ARG_SRC, &p->src_md, (void *)x}, {DNNL_ARG_DST, &p->dst_md, y}};
        st = pl__dnnl_run(p->prim, p->pd, 2, args);
    }
    pl__plan_release(&pool->plans, &p->base);
    return st;
}

/* ---- the kernels ---- */

static pl_status pool_prepare(pl_kernel_prep *p, pl__pool_kind kind, bool v2) {
    pl_dtype t = pl_attr_type_or(p->attrs, "T", PL_DT_FLOAT);
    if (t != PL_DT_FLOAT)
        return pl_error(PL_UNIMPLEMENTED, "%s supports only float32, not %s", p->op, pl_dtype_name(t));
    pl__window_attrs w;
    PL_TRY(pl__window_parse(p->attrs, !v2, &w));
    if (kind == PL__POOL_AVG && w.padding == PL__PAD_EXPLICIT)
        return pl_error(PL_INVALID_ARGUMENT, "AvgPool does not support explicit padding");
    pl__pool *pool = NULL;
    PL_TRY(pl__pool_create(kind, &pool));
    pool->win = w;
    pool->v2 = v2;
    p->state = pool;
    return NULL;
}

/* MaxPoolV2 still reads data_format and padding from attrs; strides come later. */
static pl_status pool_prepare_v2(pl_kernel_prep *p) {
    pl_dtype t = pl_attr_type_or(p->attrs, "T", PL_DT_FLOAT);
    if (t != PL_DT_FLOAT)
        return pl_error(PL_UNIMPLEMENTED, "%s supports only float32, not %s", p->op, pl_dtype_name(t));
    if (!pl_attr_string_equals(p->attrs, "padding", "VALID") && !pl_attr_string_equals(p->attrs, "padding", "SAME"))
        return pl_error(PL_INVALID_ARGUMENT, "padding must be SAME or VALID");
    bool nchw = pl_attr_string_equals(p->attrs, "data_format", "NCHW");
    if (!nchw && pl_attr_has(p->attrs, "data_format") && !pl_attr_string_equals(p->attrs, "data_format", "NHWC"))
        return pl_error(PL_INVALID_ARGUMENT, "Invalid data format");
    pl__pool *pool = NULL;
    PL_TRY(pl__pool_create(PL__POOL_MAX, &pool));
    pool->v2 = true;
    pool->win.nchw = nchw;
    pool->win.padding = pl_attr_string_equals(p->attrs, "padding", "VALID") ? PL__PAD_VALID : PL__PAD_SAME;
    pool->win.dilation[0] = pool->win.dilation[1] = 1;
    p->state = pool;
    return NULL;
}

pl_status pl__nn_maxpool_prepare(pl_kernel_prep *p) { return pool_prepare(p, PL__POOL_MAX, false); }
pl_status pl__nn_maxpool_v2_prepare(pl_kernel_prep *p) { return pool_prepare_v2(p); }
pl_status pl__nn_avgpool_prepare(pl_kernel_prep *p) { return pool_prepare(p, PL__POOL_AVG, false); }
void pl__nn_pool_release(void *state) { pl__pool_free(state); }

static pl_status read_list(const pl_tensor *t, const char *what, int64_t out[4]) {
    if (t->rank != 1 || t->count != 4 || (t->dtype != PL_DT_INT32 && t->dtype != PL_DT_INT64))
        return pl_error(PL_INVALID_ARGUMENT, "%s must be a 4-element int32 vector", what);
    for (int i = 0; i < 4; i++) out[i] = pl_tensor_get_i64(t, i);
    return NULL;
}

pl_status pl__nn_pool_compute(pl_kernel_ctx *c) {
    pl__pool *pool = c->state;
    const pl_tensor *x = c->inputs[0];
    if (x->dtype != PL_DT_FLOAT) return pl_error(PL_INVALID_ARGUMENT, "pooling expects float input, got %s", pl_dtype_name(x->dtype));
    pl__window_attrs w = pool->win;
    if (pool->v2) {
        if (c->num_inputs < 3) return pl_error(PL_INVALID_ARGUMENT, "MaxPoolV2 needs ksize and strides inputs");
        int64_t ksize[4], strides[4];
        PL_TRY(read_list(c->inputs[1], "ksize", ksize));
        PL_TRY(read_list(c->inputs[2], "strides", strides));
        PL_TRY(pl__window_set_lists(&w, ksize, 4, strides, 4));
    }
    pl__pool_geom g;
    PL_TRY(pl__pool_geometry(&w, x, &g));
    int64_t dims[4];
    pl__nhwc_dims((pl__nhwc){g.n, g.oh, g.ow, g.c}, g.nchw, dims);
    pl_tensor *y;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, 4, dims, &y));
    return pl__pool_run(pool, &g, x->data, y->data);
}
