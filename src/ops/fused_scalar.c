/* _PlScalarChain(x, c1, ..., ck), attr ops = k step codes: a chain of
 * element-wise ops by scalar constants in one pass (see rewrite_fuse.c).
 * Codes: 'a' x+c, 's' x-c, 'S' c-x, 'm' x*c, 'd' x/c, 'D' c/x. Each step is
 * rounded to float as the separate kernels round it, so results are
 * bit-identical; the data is walked in cache-sized blocks, the first step
 * reading x and the others rewriting the block in place. */
#include <stdlib.h>
#include <string.h>

#include "ops/fused_internal.h"
#include "ops/math_internal.h"

#define MAX_STEPS 8
#define BLOCK 2048

typedef struct chain_ops {
    int n;
    char ops[MAX_STEPS];
} chain_ops;

typedef struct chain {
    const chain_ops *o;
    float c[MAX_STEPS];
    const float *x;
    float *y;
    int64_t count;
} chain;

/* y = op(x, c); y may be x (one pointer per loop, so it vectorises either way). */
#define STEP_LOOPS(EXPR)                                                      \
    do {                                                                      \
        if (x == y) {                                                         \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {             \
                float v = y[i];                                               \
                y[i] = (EXPR);                                                \
            }                                                                 \
        } else {                                                              \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {             \
                float v = x[i];                                               \
                y[i] = (EXPR);                                                \
            }                                                                 \
        }                                                                     \
    } while (0)

static void step(char op, float c, const float *x, float *y, int64_t n) {
    switch (op) {
    case 'a': STEP_LOOPS(v + c); break;
    case 's': STEP_LOOPS(v - c); break;
    case 'S': STEP_LOOPS(c - v); break;
    case 'm': STEP_LOOPS(v * c); break;
    case 'd': STEP_LOOPS(v / c); break;
    default: STEP_LOOPS(c / v); break; /* 'D' */
    }
}

static int run_blocks(const void *ctx, int64_t begin, int64_t end) {
    const chain *ch = ctx;
    for (int64_t b = begin; b < end; b++) {
        int64_t off = b * BLOCK, n = ch->count - off < BLOCK ? ch->count - off : BLOCK;
        /* The first step reads x; the rest rewrite the block while it is in cache. */
        step(ch->o->ops[0], ch->c[0], ch->x + off, ch->y + off, n);
        for (int k = 1; k < ch->o->n; k++) step(ch->o->ops[k], ch->c[k], ch->y + off, ch->y + off, n);
    }
    return 0;
}

pl_status pl__scalar_chain_prepare(pl_kernel_prep *p) {
    const char *ops;
    size_t len;
    PL_TRY(pl_attr_string(p->attrs, "ops", &ops, &len));
    if (len < 1 || len > MAX_STEPS || (int)len != p->num_inputs - 1)
        return pl_error(PL_INVALID_ARGUMENT, "%s: %d inputs for %zu steps", p->op, p->num_inputs, len);
    chain_ops *o = calloc(1, sizeof *o);
    if (!o) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    o->n = (int)len;
    for (size_t k = 0; k < len; k++) {
        if (!ops[k] || !strchr("asSmdD", ops[k])) {
            free(o);
            return pl_error(PL_INVALID_ARGUMENT, "%s: unknown step '%c'", p->op, ops[k]);
        }
        o->ops[k] = ops[k];
    }
    p->state = o;
    return NULL;
}

pl_status pl__scalar_chain_compute(pl_kernel_ctx *c) {
    const pl_tensor *x = c->inputs[0];
    chain ch = {.o = c->state};
    if (x->dtype != PL_DT_FLOAT)
        return pl_error(PL_INVALID_ARGUMENT, "_PlScalarChain expects a float input, got %s", pl_dtype_name(x->dtype));
    for (int k = 0; k < ch.o->n; k++) {
        const pl_tensor *t = c->inputs[1 + k];
        if (t->dtype != PL_DT_FLOAT || t->rank != 0)
            return pl_error(PL_INVALID_ARGUMENT, "_PlScalarChain: constant %d is not a float scalar", k);
        ch.c[k] = *(const float *)t->data;
    }
    pl_tensor *y;
    /* In place when the run holds x alone: the normalised image over the request's. */
    PL_TRY(pl_ctx_reuse_or_alloc_output(c, 0, 0, PL_DT_FLOAT, x->rank, x->dims, &y));
    ch.x = x->data;
    ch.y = y->data;
    ch.count = x->count;
    pl__parallel_for((x->count + BLOCK - 1) / BLOCK, PL__PARALLEL_MIN / BLOCK, run_blocks, &ch);
    return NULL;
}
