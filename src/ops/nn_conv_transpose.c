/* Conv2DBackpropInput and Conv2DBackpropInputV2 (Keras' Conv2DTranspose):
 * oneDNN's convolution backward-data primitive over the forward geometry of
 * the input size, one plan per shape, weights reordered once per layout; the
 * direct C kernel where oneDNN has only its reference implementation. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ops/dnnl_glue.h"
#include "ops/nn_internal.h"

#define TCONV_PLANS 16
#define TCONV_WEIGHTS 4

typedef struct tconv {
    pl__window_attrs win;
    bool v2;                      /* the input size is the shape of a tensor */
    pl__plan_cache plans;
    pl__weight_cache weights;
} tconv;

typedef struct tconv_plan {
    pl__dnnl_plan base;
    dnnl_primitive_desc_t pd;     /* NULL: the direct kernel */
    dnnl_primitive_t prim;
    dnnl_memory_desc_t dx_md, dy_md, wuser_md, w_md;
} tconv_plan;

static void tconv_plan_destroy(pl__dnnl_plan *base) {
    tconv_plan *p = (tconv_plan *)base;
    if (p->prim) dnnl_primitive_destroy(p->prim);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    free(p);
}

pl_status pl__nn_conv_transpose_prepare(pl_kernel_prep *p) {
    pl_dtype t = pl_attr_type_or(p->attrs, "T", PL_DT_FLOAT);
    if (t != PL_DT_FLOAT)
        return pl_error(PL_UNIMPLEMENTED, "%s supports only float32, not %s", p->op, pl_dtype_name(t));
    pl__window_attrs w;
    PL_TRY(pl__window_parse(p->attrs, false, &w));
    tconv *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->win = w;
    s->v2 = !strcmp(p->op, "Conv2DBackpropInputV2");
    pl__plan_cache_init(&s->plans, TCONV_PLANS);
    pl__weight_cache_init(&s->weights, TCONV_WEIGHTS);
    p->state = s;
    return NULL;
}

void pl__nn_conv_transpose_release(void *state) {
    tconv *s = state;
    if (!s) return;
    pl__plan_cache_destroy(&s->plans);
    pl__weight_cache_destroy(&s->weights);
    free(s);
}

static pl_status plan_build(const pl__conv_geom *g, tconv_plan *p) {
    dnnl_format_tag_t tag = g->nchw ? dnnl_nchw : dnnl_nhwc;
    dnnl_dims_t xd = {g->n, g->c, g->h, g->w}, yd = {g->n, g->oc, g->oh, g->ow};
    PL_TRY(pl__dnnl_check(dnnl_memory_desc_init_by_tag(&p->dx_md, 4, xd, dnnl_f32, tag), "input md"));
    PL_TRY(pl__dnnl_check(dnnl_memory_desc_init_by_tag(&p->dy_md, 4, yd, dnnl_f32, tag), "output md"));
    PL_TRY(pl__conv_filter_md(g, false, &p->wuser_md));
    dnnl_memory_desc_t wany;
    PL_TRY(pl__conv_filter_md(g, true, &wany));
    dnnl_dims_t strides = {g->stride[0], g->stride[1]};
    dnnl_dims_t dil = {g->dilation[0] - 1, g->dilation[1] - 1};
    dnnl_dims_t pl = {g->pad_top, g->pad_left}, pr = {g->pad_bottom, g->pad_right};
    dnnl_convolution_desc_t fwd, bwd;
    if (dnnl_dilated_convolution_forward_desc_init(&fwd, dnnl_forward_training, dnnl_convolution_direct, &p->dx_md,
                                                   &wany, NULL, &p->dy_md, strides, dil, pl, pr) != dnnl_success ||
        dnnl_dilated_convolution_backward_data_desc_init(&bwd, dnnl_convolution_direct, &p->dx_md, &wany, &p->dy_md,
                                                         strides, dil, pl, pr) != dnnl_success)
        return NULL;
    dnnl_primitive_desc_t hint = NULL;
    PL_TRY(pl__dnnl_pd_fast(&fwd, &hint));
    if (!hint) return NULL;
    pl_status st = pl__dnnl_pd_fast_hint(&bwd, hint, &p->pd);
    dnnl_primitive_desc_destroy(hint);
    if (st || !p->pd) return st;
    p->w_md = *dnnl_primitive_desc_query_md(p->pd, dnnl_query_weights_md, 0);
    return pl__dnnl_check(dnnl_primitive_create(&p->prim, p->pd), "creating a transposed convolution");
}

static pl_status plan_get(tconv *s, const pl__conv_geom *g, tconv_plan **out) {
    const int64_t key[] = {g->n, g->h, g->w, g->c, g->kh, g->kw, g->groups, g->oc, omp_get_max_threads()};
    const int nkey = (int)(sizeof key / sizeof key[0]);
    tconv_plan *p = (tconv_plan *)pl__plan_cache_get(&s->plans, key, nkey);
    if (p) {
        *out = p;
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (!p) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->base.destroy = tconv_plan_destroy;
    p->base.nkey = nkey;
    memcpy(p->base.key, key, sizeof key);
    pl_status st = plan_build(g, p);
    if (st) {
        tconv_plan_destroy(&p->base);
        return st;
    }
    *out = (tconv_plan *)pl__plan_cache_put(&s->plans, &p->base);
    return NULL;
}

/* The input shape: a 4-vector (V1) or the shape of a tensor (V2). */
static pl_status input_shape(const tconv *s, const pl_tensor *t, int64_t dims[4]) {
    if (s->v2) {
        if (t->rank != 4) return pl_error(PL_INVALID_ARGUMENT, "input must be 4-dimensional");
        memcpy(dims, t->dims, sizeof(int64_t) * 4);
        return NULL;
    }
    if (t->rank != 1 || t->count != 4 || (t->dtype != PL_DT_INT32 && t->dtype != PL_DT_INT64))
        return pl_error(PL_INVALID_ARGUMENT, "Conv2DBackpropInput: input_sizes input must be 1-dim, not %d", t->rank);
    for (int i = 0; i < 4; i++) {
        dims[i] = pl_tensor_get_i64(t, i);
        if (dims[i] < 0) return pl_error(PL_INVALID_ARGUMENT, "Dimension %d of input_sizes is negative", i);
    }
    return NULL;
}

pl_status pl__nn_conv_transpose_compute(pl_kernel_ctx *c) {
    tconv *s = c->state;
    pl_tensor *f = c->inputs[1], *dy = c->inputs[2];
    if (f->dtype != PL_DT_FLOAT || dy->dtype != PL_DT_FLOAT)
        return pl_error(PL_INVALID_ARGUMENT, "Conv2DBackpropInput expects float filter and out_backprop");
    pl_tensor shape;
    memset(&shape, 0, sizeof shape);
    shape.rank = 4;
    PL_TRY(input_shape(s, c->inputs[0], shape.dims));
    pl__conv_geom g;
    PL_TRY(pl__conv_geometry(&s->win, false, &shape, f, &g));
    int64_t want[4];
    pl__nhwc_dims((pl__nhwc){g.n, g.oh, g.ow, g.oc}, g.nchw, want);
    if (dy->rank != 4) return pl_error(PL_INVALID_ARGUMENT, "out_backprop must be 4-dimensional");
    for (int i = 0; i < 4; i++)
        if (dy->dims[i] != want[i])
            return pl_error(PL_INVALID_ARGUMENT,
                            "Conv2DCustomBackpropInput: Size of out_backprop doesn't match computed: actual = %lld, "
                            "computed = %lld",
                            (long long)dy->dims[i], (long long)want[i]);
    pl_tensor *dx;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, 4, shape.dims, &dx));
    if (dx->count == 0) return NULL;
    if (dy->count == 0) {
        memset(dx->data, 0, pl_tensor_nbytes(dx));
        return NULL;
    }
    tconv_plan *p = NULL;
    PL_TRY(plan_get(s, &g, &p));
    pl_status st = NULL;
    if (!p->pd) {
        pl__conv2d_transpose_direct(&g, dy->data, f->data, dx->data);
    } else {
        pl__dnnl_weights *w = NULL;
        st = pl__weight_cache_get(&s->weights, f, &p->wuser_md, &p->w_md, &w);
        if (!st) {
            pl__dnnl_arg args[] = {{DNNL_ARG_DIFF_DST, &p->dy_md, dy->data},
                                   {DNNL_ARG_WEIGHTS, &w->md, w->data},
                                   {DNNL_ARG_DIFF_SRC, &p->dx_md, dx->data}};
            st = pl__dnnl_run(p->prim, p->pd, 3, args);
            pl__weight_release(&s->weights, w);
        }
    }
    pl__plan_release(&s->plans, &p->base);
    return st;
}
