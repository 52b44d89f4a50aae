/* Kernels of the fused family (see families.h): nodes that graph preparation
 * makes from several graph nodes (src/runtime/rewrite_fuse.c).
 *
 *   _PlFusedConv2D(x, filter, bias[, alpha])      Conv2D's attrs
 *   _PlFusedDepthwiseConv2dNative(same)           DepthwiseConv2dNative's attrs
 *   _PlPReLU(x, alpha)                            x > 0 ? x : alpha * x
 *   _PlScalarChain(x, c1..ck), attr ops           element-wise steps by scalars (fused_scalar.c)
 *
 * Either may carry a fused MaxPool (attrs _pool_ksize, _pool_strides,
 * _pool_padding), run over the batch in chunks.
 *
 * The convolution runs through oneDNN as Conv2D does (same plan and weight
 * caches); bias and PReLU follow in one pass over the output while it is
 * still in cache, never as a oneDNN post-op (PReLU post-ops select a
 * reference kernel 100x slower). */
#include <stdlib.h>
#include <string.h>

#include "base/heap.h"
#include "ops/families.h"
#include "ops/fused_internal.h"
#include "ops/nn_internal.h"

/* Images per convolution call for batches: R-Net/O-Net's hundreds of
 * candidates run as chunks of this many (the rest padded to a power of two),
 * so activations before a fused MaxPool stay small and the oneDNN plans are
 * the same whatever the candidate count. */
#define POOL_CHUNK 64
/* ...and fewer when a chunk's activations before the pool would pass this:
 * O-Net's first layer is 271 KB per candidate, 17 MB for 64. */
#define CHUNK_BYTES ((int64_t)4 << 20)

typedef struct fused_conv {
    pl__conv *conv;
    pl__window_attrs win;
    bool depthwise;
    pl__pool *pool;              /* a fused MaxPool, or NULL */
    pl__window_attrs pool_win;
} fused_conv;

static pl_status pool_prepare(pl_kernel_prep *p, fused_conv *f) {
    const int64_t *ksize, *strides;
    int nk, ns;
    PL_TRY(pl_attr_int_list(p->attrs, "_pool_ksize", &ksize, &nk));
    PL_TRY(pl_attr_int_list(p->attrs, "_pool_strides", &strides, &ns));
    memset(&f->pool_win, 0, sizeof f->pool_win);
    f->pool_win.dilation[0] = f->pool_win.dilation[1] = 1;
    PL_TRY(pl__window_set_lists(&f->pool_win, ksize, nk, strides, ns));
    if (pl_attr_string_equals(p->attrs, "_pool_padding", "SAME")) f->pool_win.padding = PL__PAD_SAME;
    else if (pl_attr_string_equals(p->attrs, "_pool_padding", "VALID")) f->pool_win.padding = PL__PAD_VALID;
    else return pl_error(PL_INVALID_ARGUMENT, "%s: _pool_padding must be SAME or VALID", p->op);
    return pl__pool_create(PL__POOL_MAX, &f->pool);
}

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
    if (!st && pl_attr_has(p->attrs, "_pool_ksize")) st = pool_prepare(p, f);
    if (st) {
        pl__pool_free(f->pool);
        pl__conv_free(f->conv);
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
    pl__pool_free(f->pool);
    free(f);
}

/* The most images in one chunk: a power of two, POOL_CHUNK or fewer so
 * that their activations before the pool fit CHUNK_BYTES. */
static int64_t chunk_limit(int64_t image_bytes) {
    int64_t c = POOL_CHUNK;
    while (c > 1 && c * image_bytes > CHUNK_BYTES) c /= 2;
    return c;
}

/* Images in the next chunk: the limit while that many are left, then the
 * rest rounded up to a power of two (padded with zero images), so a node
 * meets at most a handful of batch sizes whatever the candidate count. */
static int64_t chunk_of(int64_t left, int64_t limit) {
    if (left >= limit) return limit;
    int64_t c = 1;
    while (c < left) c *= 2;
    return c;
}

/* Scratch for one call (on huge pages when it is large enough to be faulted in afresh). */
static void *scratch_alloc(size_t bytes) {
    bytes = (bytes + 63) / 64 * 64;
    char *p = aligned_alloc(64, bytes ? bytes : 64);
    pl_heap_advise_huge(p, bytes);
    return p;
}

/* Convolution, bias, PReLU and the MaxPool if any, chunk by chunk over the batch. */
static pl_status chunked_compute(pl_kernel_ctx *c, fused_conv *fc, const pl__conv_geom *g, pl_tensor *x,
                                 pl_tensor *f, pl_tensor *bias, pl_tensor *alpha) {
    pl_tensor conv_out = {.dtype = PL_DT_FLOAT, .rank = 4, .dims = {g->n, g->oh, g->ow, g->oc}};
    conv_out.count = g->n * g->oh * g->ow * g->oc;
    pl__pool_geom pg = {.oh = g->oh, .ow = g->ow};
    if (fc->pool) PL_TRY(pl__pool_geometry(&fc->pool_win, &conv_out, &pg));
    int64_t dims[4] = {g->n, pg.oh, pg.ow, g->oc};
    pl_tensor *y;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, 4, dims, &y));
    int64_t in_image = g->h * g->w * g->c, mid_image = g->oh * g->ow * g->oc, out_image = pg.oh * pg.ow * g->oc;
    if (g->n == 0 || mid_image == 0 || out_image == 0) return NULL;
    /* alpha varying along the batch would not repeat per chunk: one chunk then. */
    bool whole = alpha && alpha->rank == 4 && alpha->dims[0] != 1;
    int64_t limit = chunk_limit(fc->pool ? mid_image * (int64_t)sizeof(float) : 0);
    int64_t most = whole ? g->n : chunk_of(g->n, limit);
    size_t mid_bytes = fc->pool ? (size_t)(most * mid_image) * sizeof(float) : 0;
    size_t pad_in = whole ? 0 : (size_t)(most * in_image) * sizeof(float), pad_out = whole ? 0 : (size_t)(most * out_image) * sizeof(float);
    char *scratch = scratch_alloc(mid_bytes + pad_in + pad_out + 3 * 64);
    if (!scratch) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    float *mid = (float *)scratch;
    float *staged_in = (float *)(scratch + (mid_bytes + 63) / 64 * 64);
    float *staged_out = (float *)((char *)staged_in + (pad_in + 63) / 64 * 64);
    pl_status st = NULL;
    for (int64_t b = 0; b < g->n && !st;) {
        int64_t left = g->n - b, n = whole ? g->n : chunk_of(left, limit), real = n < left ? n : left;
        pl_tensor xc = *x;
        xc.dims[0] = n;
        xc.count = n * in_image;
        xc.data = (float *)x->data + b * in_image;
        float *out = (float *)y->data + b * out_image;
        if (real < n) { /* the last, padded chunk */
            memcpy(staged_in, xc.data, (size_t)(real * in_image) * sizeof(float));
            memset(staged_in + real * in_image, 0, (size_t)((n - real) * in_image) * sizeof(float));
            xc.data = staged_in;
            out = staged_out;
        }
        pl__conv_geom gc = *g;
        gc.n = n;
        int64_t mdims[4] = {n, g->oh, g->ow, g->oc};
        float *conv_y = fc->pool ? mid : out;
        pl__prelu tail;
        st = pl__prelu_init(&tail, 4, mdims, bias, alpha);
        if (!st) st = pl__conv_run(fc->conv, &gc, &xc, f, conv_y);
        if (!st) pl__prelu_run(&tail, conv_y, conv_y);
        pl__prelu_free(&tail);
        pl__pool_geom pc = pg;
        pc.n = n;
        if (!st && fc->pool) st = pl__pool_run(fc->pool, &pc, mid, out);
        if (!st && out == staged_out)
            memcpy((float *)y->data + b * out_image, staged_out, (size_t)(real * out_image) * sizeof(float));
        b += real;
    }
    free(scratch);
    return st;
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
    c->flops = 2.0 * (double)(g.n * g.oh * g.ow * g.oc) * (double)(g.kh * g.kw * (g.c / g.groups));
    /* Batches (R-Net/O-Net candidates) and fused pools go chunk by chunk. */
    if (fc->pool || g.n > 1) return chunked_compute(c, fc, &g, x, f, bias, alpha);
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
