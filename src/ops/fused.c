/* Kernels of the fused family (see families.h): nodes that graph preparation
 * makes from several graph nodes (src/runtime/rewrite_fuse.c).
 *
 *   _PlFusedConv2D(x, filter, bias[, alpha])      Conv2D's attrs
 *   _PlFusedDepthwiseConv2dNative(same)           DepthwiseConv2dNative's attrs
 *   _PlPReLU(x, alpha)                            x > 0 ? x : alpha * x
 *   _PlScalarChain(x, c1..ck), attr ops           element-wise steps by scalars (fused_scalar.c)
 *
 * The convolution runs through oneDNN as Conv2D does (same plan and weight
 * caches); bias and PReLU follow in one pass over the output while it is
 * still in cache, never as a oneDNN post-op (PReLU post-ops select a
 * reference kernel 100x slower). */
#include <stdlib.h>

#include "ops/families.h"
#include "ops/fused_internal.h"
#include "ops/nn_internal.h"

typedef struct fused_conv {
    pl__conv *conv;
    pl__window_attrs win;
    bool depthwise;
} fused_conv;

static pl_status fused_conv_prepare(pl_kernel_prep *p, bool depthwise) {
    if (p->num_inputs != 3 && p->num_inputs != 4)
        return pl_error(PL_INVALID_ARGUMENT, "%s takes 3 or 4 inputs, not %d", p->op, p->num_inputs);
    pl_dtype t = pl_attr_type_or(p->attrs, "T", PL_DT_FLOAT);
    if (t != PL_DT_FLOAT)
        return pl_error(PL_UNIMPLEMENTED, "%s supports only float32, not %s", p->op, pl_dtype_name(t));
    pl__window_attrs w;
    PL_TRY(pl__window_parse(p->attrs, false, &w));
    if (w.nchw) return pl_error(PL_UNIMPLEMENTED, "%s supports only NHWC", p->op);
    fused_conv *f = calloc(1, sizeof *f);
    if (!f) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    f->depthwise = depthwise;
    f->win = w;
    pl_status st = pl__conv_create(&w, depthwise, &f->conv);
    if (st) {
        free(f);
        return st;
    }
    p->state = f;
    return NULL;
}

static pl_status conv_prepare(pl_kernel_prep *p) { return fused_conv_prepare(p, false); }
static pl_status depthwise_prepare(pl_kernel_prep *p) { return fused_conv_prepare(p, true); }

static void fused_conv_release(void *state) {
    fused_conv *f = state;
    if (!f) return;
    pl__conv_free(f->conv);
    free(f);
}

static pl_status fused_conv_compute(pl_kernel_ctx *c) {
    fused_conv *fc = c->state;
    pl_tensor *x = c->inputs[0], *f = c->inputs[1], *bias = c->inputs[2];
    pl_tensor *alpha = c->num_inputs > 3 ? c->inputs[3] : NULL;
    if (x->dtype != PL_DT_FLOAT || f->dtype != PL_DT_FLOAT)
        return pl_error(PL_INVALID_ARGUMENT, "convolution expects float inputs, got %s and %s", pl_dtype_name(x->dtype),
                        pl_dtype_name(f->dtype));
    pl__conv_geom g;
    PL_TRY(pl__conv_geometry(&fc->win, fc->depthwise, x, f, &g));
    int64_t dims[4] = {g.n, g.oh, g.ow, g.oc};
    pl__prelu tail;
    PL_TRY(pl__prelu_init(&tail, 4, dims, bias, alpha));
    pl_tensor *y;
    pl_status st = pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, 4, dims, &y);
    if (!st) st = pl__conv_run(fc->conv, &g, x, f, y->data);
    if (!st) pl__prelu_run(&tail, y->data, y->data);
    pl__prelu_free(&tail);
    return st;
}

static pl_status prelu_compute(pl_kernel_ctx *c) {
    pl_tensor *x = c->inputs[0], *alpha = c->inputs[1];
    if (x->dtype != PL_DT_FLOAT)
        return pl_error(PL_INVALID_ARGUMENT, "PReLU expects a float input, got %s", pl_dtype_name(x->dtype));
    pl__prelu tail;
    PL_TRY(pl__prelu_init(&tail, x->rank, x->dims, NULL, alpha));
    pl_tensor *y;
    pl_status st = pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, x->rank, x->dims, &y);
    if (!st) pl__prelu_run(&tail, x->data, y->data);
    pl__prelu_free(&tail);
    return st;
}

const pl_kernel_def pl_kernels_fused[] = {
    {.op = "_PlFusedConv2D", .prepare = conv_prepare, .compute = fused_conv_compute, .release = fused_conv_release,
     .flags = PL_KERNEL_EXPENSIVE},
    {.op = "_PlFusedDepthwiseConv2dNative", .prepare = depthwise_prepare, .compute = fused_conv_compute,
     .release = fused_conv_release, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "_PlPReLU", .compute = prelu_compute, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "_PlScalarChain", .prepare = pl__scalar_chain_prepare, .compute = pl__scalar_chain_compute,
     .release = free, .flags = PL_KERNEL_EXPENSIVE},
    {0},
};
