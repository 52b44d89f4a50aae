/* Convolution nodes through oneDNN — Conv2D and DepthwiseConv2dNative
 * forward, and the transposed convolution (backward data) behind
 * Conv2DBackpropInput: one primitive per input shape (cached), weights
 * reordered once per layout (cached), the direct C kernel where oneDNN has
 * nothing but its reference implementation. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/dnnl_glue.h"
#include "ops/nn_internal.h"

/* Image sizes a node remembers: an MTCNN pyramid has about ten scales. */
#define CONV_PLANS 16
/* Weight layouts a node remembers; more than one only when oneDNN picks a
 * different blocking for some shapes, or when the filter is not a constant. */
#define CONV_WEIGHTS 4

struct pl__conv {
    pl__window_attrs win;
    bool depthwise;
    bool transposed;             /* backward data: dy in, dx out */
    pl__plan_cache plans;
    pl__weight_cache weights;
    char impl[48];
};

typedef struct conv_plan {
    pl__dnnl_plan base;
    dnnl_primitive_desc_t pd;    /* NULL: the direct kernel */
    dnnl_primitive_t prim;
    /* x has the geometry's input shape, y its output shape, in both directions. */
    dnnl_memory_desc_t x_md, y_md, wuser_md, w_md;
} conv_plan;

static void conv_plan_destroy(pl__dnnl_plan *base) {
    conv_plan *p = (conv_plan *)base;
    if (p->prim) dnnl_primitive_destroy(p->prim);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    free(p);
}

pl_status pl__conv_geometry(const pl__window_attrs *w, bool depthwise, const pl_tensor *x, const pl_tensor *f,
                            pl__conv_geom *g) {
    char buf[64];
    if (x->rank != 4)
        return pl_error(PL_INVALID_ARGUMENT, "input must be 4-dimensional%s", pl_shape_str(x->rank, x->dims, buf, sizeof buf));
    if (f->rank != 4)
        return pl_error(PL_INVALID_ARGUMENT, "filter must be 4-dimensional: %s", pl_shape_str(f->rank, f->dims, buf, sizeof buf));
    if (f->count == 0)
        return pl_error(PL_INVALID_ARGUMENT, "filter must not have zero elements (i.e. all dimensions must be non-zero)");
    pl__nhwc s = pl__nhwc_of(x, w->nchw);
    memset(g, 0, sizeof *g);
    g->nchw = w->nchw;
    g->n = s.n, g->h = s.h, g->w = s.w, g->c = s.c;
    g->kh = f->dims[0], g->kw = f->dims[1];
    if (depthwise) {
        if (f->dims[2] != s.c)
            return pl_error(PL_INVALID_ARGUMENT, "input and filter must have the same depth: %lld vs %lld",
                            (long long)s.c, (long long)f->dims[2]);
        g->groups = s.c;
        g->oc = s.c * f->dims[3];
    } else {
        if (s.c % f->dims[2] != 0 || s.c == 0)
            return pl_error(PL_INVALID_ARGUMENT, "input depth must be evenly divisible by filter depth: %lld vs %lld",
                            (long long)s.c, (long long)f->dims[2]);
        g->groups = s.c / f->dims[2];
        g->oc = f->dims[3];
        if (g->oc % g->groups != 0)
            return pl_error(PL_INVALID_ARGUMENT, "output depth must be evenly divisible by number of groups: %lld vs %lld",
                            (long long)g->oc, (long long)g->groups);
    }
    for (int i = 0; i < 2; i++) g->stride[i] = w->stride[i], g->dilation[i] = w->dilation[i];
    PL_TRY(pl__window_dim(s.h, g->kh, g->dilation[0], g->stride[0], w->padding, w->explicit_pad[0], w->explicit_pad[1],
                          &g->oh, &g->pad_top, &g->pad_bottom));
    PL_TRY(pl__window_dim(s.w, g->kw, g->dilation[1], g->stride[1], w->padding, w->explicit_pad[2], w->explicit_pad[3],
                          &g->ow, &g->pad_left, &g->pad_right));
    return NULL;
}

static pl_status conv_create(const pl__window_attrs *w, bool depthwise, bool transposed, pl__conv **out) {
    pl__conv *c = calloc(1, sizeof *c);
    if (!c) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    c->win = *w;
    c->depthwise = depthwise;
    c->transposed = transposed;
    pl__plan_cache_init(&c->plans, CONV_PLANS);
    pl__weight_cache_init(&c->weights, CONV_WEIGHTS);
    *out = c;
    return NULL;
}

pl_status pl__conv_create(const pl__window_attrs *w, bool depthwise, pl__conv **out) {
    return conv_create(w, depthwise, false, out);
}

pl_status pl__conv_transpose_create(const pl__window_attrs *w, pl__conv **out) {
    return conv_create(w, false, true, out);
}

void pl__conv_free(pl__conv *c) {
    if (!c) return;
    pl__plan_cache_destroy(&c->plans);
    pl__weight_cache_destroy(&c->weights);
    free(c);
}

const char *pl__conv_impl(pl__conv *c) { return c->impl; }

void pl__conv_cache_counts(pl__conv *c, int *plans, int *weights) {
    pthread_mutex_lock(&c->plans.mu);
    *plans = c->plans.count;
    pthread_mutex_unlock(&c->plans.mu);
    pthread_mutex_lock(&c->weights.mu);
    *weights = c->weights.count;
    pthread_mutex_unlock(&c->weights.mu);
}

/* The filter as oneDNN sees it: (O, I, H, W), or (G, O/G, I/G, H, W) when
 * grouped, over TensorFlow's HWIO memory. */
pl_status pl__conv_filter_md(const pl__conv_geom *g, bool any, dnnl_memory_desc_t *md) {
    const int64_t cin_g = g->c / g->groups;
    if (g->groups == 1) {
        dnnl_dims_t d = {g->oc, cin_g, g->kh, g->kw};
        dnnl_dims_t s = {1, g->oc, g->kw * cin_g * g->oc, cin_g * g->oc};
        if (any) return pl__dnnl_check(dnnl_memory_desc_init_by_tag(md, 4, d, dnnl_f32, dnnl_format_tag_any), "filter md");
        return pl__dnnl_check(dnnl_memory_desc_init_by_strides(md, 4, d, dnnl_f32, s), "filter md");
    }
    dnnl_dims_t d = {g->groups, g->oc / g->groups, cin_g, g->kh, g->kw};
    dnnl_dims_t s = {g->oc / g->groups, 1, g->oc, g->kw * cin_g * g->oc, cin_g * g->oc};
    if (any) return pl__dnnl_check(dnnl_memory_desc_init_by_tag(md, 5, d, dnnl_f32, dnnl_format_tag_any), "filter md");
    return pl__dnnl_check(dnnl_memory_desc_init_by_strides(md, 5, d, dnnl_f32, s), "filter md");
}

/* The forward primitive for inference, or the backward-data one, which
 * oneDNN derives from a forward (training) descriptor of the same shapes. */
static pl_status conv_plan_build(const pl__conv_geom *g, bool transposed, conv_plan *p) {
    dnnl_format_tag_t tag = g->nchw ? dnnl_nchw : dnnl_nhwc;
    dnnl_dims_t xd = {g->n, g->c, g->h, g->w}, yd = {g->n, g->oc, g->oh, g->ow};
    PL_TRY(pl__dnnl_check(dnnl_memory_desc_init_by_tag(&p->x_md, 4, xd, dnnl_f32, tag), "input md"));
    PL_TRY(pl__dnnl_check(dnnl_memory_desc_init_by_tag(&p->y_md, 4, yd, dnnl_f32, tag), "output md"));
    PL_TRY(pl__conv_filter_md(g, false, &p->wuser_md));
    dnnl_memory_desc_t wany;
    PL_TRY(pl__conv_filter_md(g, true, &wany));
    dnnl_dims_t strides = {g->stride[0], g->stride[1]};
    dnnl_dims_t dil = {g->dilation[0] - 1, g->dilation[1] - 1};
    dnnl_dims_t pl = {g->pad_top, g->pad_left}, pr = {g->pad_bottom, g->pad_right};
    dnnl_convolution_desc_t fwd, bwd;
    /* Shapes oneDNN does not take leave p->pd NULL: the direct kernel. */
    if (!transposed) {
        if (dnnl_dilated_convolution_forward_desc_init(&fwd, dnnl_forward_inference, dnnl_convolution_direct, &p->x_md,
                                                       &wany, NULL, &p->y_md, strides, dil, pl, pr) != dnnl_success)
            return NULL;
        PL_TRY(pl__dnnl_pd_fast(&fwd, &p->pd));
        if (!p->pd) return NULL;
    } else {
        if (dnnl_dilated_convolution_forward_desc_init(&fwd, dnnl_forward_training, dnnl_convolution_direct, &p->x_md,
                                                       &wany, NULL, &p->y_md, strides, dil, pl, pr) != dnnl_success ||
            dnnl_dilated_convolution_backward_data_desc_init(&bwd, dnnl_convolution_direct, &p->x_md, &wany, &p->y_md,
                                                             strides, dil, pl, pr) != dnnl_success)
            return NULL;
        dnnl_primitive_desc_t hint = NULL;
        PL_TRY(pl__dnnl_pd_fast(&fwd, &hint));
        if (!hint) return NULL;
        pl_status st = pl__dnnl_pd_fast_hint(&bwd, hint, &p->pd);
        dnnl_primitive_desc_destroy(hint);
        if (st || !p->pd) return st;
    }
    p->w_md = *dnnl_primitive_desc_query_md(p->pd, dnnl_query_weights_md, 0);
    return pl__dnnl_check(dnnl_primitive_create(&p->prim, p->pd),
                          transposed ? "creating a transposed convolution" : "creating a convolution");
}

static pl_status conv_plan_get(pl__conv *c, const pl__conv_geom *g, conv_plan **out) {
    const int64_t key[] = {g->n, g->h, g->w, g->c, g->kh, g->kw, g->groups, g->oc, omp_get_max_threads()};
    const int nkey = (int)(sizeof key / sizeof key[0]);
    conv_plan *p = (conv_plan *)pl__plan_cache_get(&c->plans, key, nkey);
    if (p) {
        *out = p;
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (!p) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->base.destroy = conv_plan_destroy;
    p->base.nkey = nkey;
    memcpy(p->base.key, key, sizeof key);
    pl_status st = conv_plan_build(g, c->transposed, p);
    if (st) {
        conv_plan_destroy(&p->base);
        return st;
    }
    pthread_mutex_lock(&c->plans.mu);
    snprintf(c->impl, sizeof c->impl, "%s", p->pd ? pl__dnnl_impl_name(p->pd) : "direct");
    pthread_mutex_unlock(&c->plans.mu);
    *out = (conv_plan *)pl__plan_cache_put(&c->plans, &p->base);
    return NULL;
}

/* x and y have the geometry's input and output shapes: the forward
 * convolution reads x and writes y, the transposed one reads y (dy) and
 * writes x (dx). */
static pl_status conv_execute(pl__conv *c, const pl__conv_geom *g, pl_tensor *f, float *x, float *y) {
    conv_plan *p = NULL;
    PL_TRY(conv_plan_get(c, g, &p));
    pl_status st = NULL;
    if (!p->pd) {
        if (c->transposed)
            pl__conv2d_transpose_direct(g, y, f->data, x);
        else
            pl__conv2d_direct(g, x, f->data, y);
    } else {
        pl__dnnl_weights *w = NULL;
        st = pl__weight_cache_get(&c->weights, f, &p->wuser_md, &p->w_md, &w);
        if (!st) {
            pl__dnnl_arg args[] = {{c->transposed ? DNNL_ARG_DIFF_SRC : DNNL_ARG_SRC, &p->x_md, x},
                                   {DNNL_ARG_WEIGHTS, &w->md, w->data},
                                   {c->transposed ? DNNL_ARG_DIFF_DST : DNNL_ARG_DST, &p->y_md, y}};
            st = pl__dnnl_run(p->prim, p->pd, 3, args);
            pl__weight_release(&c->weights, w);
        }
    }
    pl__plan_release(&c->plans, &p->base);
    return st;
}

pl_status pl__conv_run(pl__conv *c, const pl__conv_geom *g, pl_tensor *x, pl_tensor *f, float *y) {
    if (g->n * g->oh * g->ow * g->oc == 0) return NULL;
    return conv_execute(c, g, f, x->data, y);
}

pl_status pl__conv_transpose_run(pl__conv *c, const pl__conv_geom *g, pl_tensor *dy, pl_tensor *f, float *dx) {
    return conv_execute(c, g, f, dx, dy->data);
}

/* ---- the kernels ---- */

static pl_status conv_prepare(pl_kernel_prep *p, bool depthwise) {
    pl_dtype t = pl_attr_type_or(p->attrs, "T", PL_DT_FLOAT);
    if (t != PL_DT_FLOAT)
        return pl_error(PL_UNIMPLEMENTED, "%s supports only float32, not %s", p->op, pl_dtype_name(t));
    pl__window_attrs w;
    PL_TRY(pl__window_parse(p->attrs, false, &w));
    pl__conv *c = NULL;
    PL_TRY(pl__conv_create(&w, depthwise, &c));
    p->state = c;
    return NULL;
}

pl_status pl__nn_conv2d_prepare(pl_kernel_prep *p) { return conv_prepare(p, false); }
pl_status pl__nn_depthwise_prepare(pl_kernel_prep *p) { return conv_prepare(p, true); }
void pl__nn_conv_release(void *state) { pl__conv_free(state); }

pl_status pl__nn_conv_compute(pl_kernel_ctx *c) {
    pl__conv *cv = c->state;
    pl_tensor *x = c->inputs[0], *f = c->inputs[1];
    if (x->dtype != PL_DT_FLOAT || f->dtype != PL_DT_FLOAT)
        return pl_error(PL_INVALID_ARGUMENT, "convolution expects float inputs, got %s and %s", pl_dtype_name(x->dtype),
                        pl_dtype_name(f->dtype));
    pl__conv_geom g;
    PL_TRY(pl__conv_geometry(&cv->win, cv->depthwise, x, f, &g));
    int64_t dims[4];
    pl__nhwc_dims((pl__nhwc){g.n, g.oh, g.ow, g.oc}, g.nchw, dims);
    pl_tensor *y;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, 4, dims, &y));
    return pl__conv_run(cv, &g, x, f, y->data);
}
