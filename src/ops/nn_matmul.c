/* MatMul and BatchMatMul (V1, V2, V3): float32 through oneDNN's matmul (one
 * primitive per shape pair, cached; batch dims broadcast as numpy does), other
 * dtypes and shapes oneDNN only serves with its reference kernel through a
 * plain loop. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ops/dnnl_glue.h"
#include "ops/nn_internal.h"

#define MATMUL_PLANS 8

typedef struct matmul_state {
    bool adj_a, adj_b;
    bool batched, broadcast;    /* BatchMatMul; V2/V3 broadcast batch dims */
    pl_dtype out_type;          /* V3's Tout; else the input type */
    pl__plan_cache plans;
} matmul_state;

typedef struct matmul_plan {
    pl__dnnl_plan base;
    dnnl_primitive_desc_t pd;   /* NULL: the loop */
    dnnl_primitive_t prim;
    dnnl_memory_desc_t a_md, b_md, c_md;
} matmul_plan;

/* Shapes of one product, batch dims aligned to the output's rank. */
typedef struct mm_geom {
    int rank;                   /* of the output, >= 2 */
    int64_t a[PL_MAX_RANK], b[PL_MAX_RANK], out[PL_MAX_RANK];
    int64_t m, k, n, batch;
} mm_geom;

static void matmul_plan_destroy(pl__dnnl_plan *base) {
    matmul_plan *p = (matmul_plan *)base;
    if (p->prim) dnnl_primitive_destroy(p->prim);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    free(p);
}

static pl_status prepare(pl_kernel_prep *p, bool batched) {
    matmul_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->batched = batched;
    if (batched) {
        s->adj_a = pl_attr_bool_or(p->attrs, "adj_x", false);
        s->adj_b = pl_attr_bool_or(p->attrs, "adj_y", false);
        s->broadcast = strcmp(p->op, "BatchMatMul") != 0;
    } else {
        s->adj_a = pl_attr_bool_or(p->attrs, "transpose_a", false);
        s->adj_b = pl_attr_bool_or(p->attrs, "transpose_b", false);
    }
    s->out_type = pl_attr_type_or(p->attrs, "Tout", PL_DT_INVALID);
    pl__plan_cache_init(&s->plans, MATMUL_PLANS);
    p->state = s;
    return NULL;
}

pl_status pl__nn_matmul_prepare(pl_kernel_prep *p) { return prepare(p, false); }
pl_status pl__nn_batch_matmul_prepare(pl_kernel_prep *p) { return prepare(p, true); }

void pl__nn_matmul_release(void *state) {
    matmul_state *s = state;
    if (!s) return;
    pl__plan_cache_destroy(&s->plans);
    free(s);
}

static pl_status geometry(const matmul_state *s, const pl_tensor *a, const pl_tensor *b, mm_geom *g) {
    char b1[96], b2[96];
    const char *sa = pl_shape_str(a->rank, a->dims, b1, sizeof b1), *sb = pl_shape_str(b->rank, b->dims, b2, sizeof b2);
    if (!s->batched) {
        if (a->rank != 2) return pl_error(PL_INVALID_ARGUMENT, "In[0] is not a matrix. Instead it has shape %s", sa);
        if (b->rank != 2) return pl_error(PL_INVALID_ARGUMENT, "In[1] is not a matrix. Instead it has shape %s", sb);
    }
    if (a->rank < 2) return pl_error(PL_INVALID_ARGUMENT, "In[0] ndims must be >= 2: %d", a->rank);
    if (b->rank < 2) return pl_error(PL_INVALID_ARGUMENT, "In[1] ndims must be >= 2: %d", b->rank);
    if (s->batched && !s->broadcast && a->rank != b->rank)
        return pl_error(PL_INVALID_ARGUMENT, "In[0] and In[1] has different ndims: %s vs. %s", sa, sb);
    g->rank = a->rank > b->rank ? a->rank : b->rank;
    g->batch = 1;
    for (int i = 0; i < g->rank; i++) {
        int ia = i - (g->rank - a->rank), ib = i - (g->rank - b->rank);
        g->a[i] = ia >= 0 ? a->dims[ia] : 1;
        g->b[i] = ib >= 0 ? b->dims[ib] : 1;
        if (i >= g->rank - 2) continue;
        if (g->a[i] != g->b[i] && (!s->broadcast || (g->a[i] != 1 && g->b[i] != 1)))
            return pl_error(PL_INVALID_ARGUMENT, "In[0] and In[1] must have compatible batch dimensions: %s vs. %s", sa, sb);
        g->out[i] = g->a[i] == 1 ? g->b[i] : g->a[i];
        g->batch *= g->out[i];
    }
    const int r = g->rank;
    g->m = s->adj_a ? g->a[r - 1] : g->a[r - 2];
    g->k = s->adj_a ? g->a[r - 2] : g->a[r - 1];
    int64_t kb = s->adj_b ? g->b[r - 1] : g->b[r - 2];
    g->n = s->adj_b ? g->b[r - 2] : g->b[r - 1];
    if (g->k != kb)
        return pl_error(PL_INVALID_ARGUMENT, "Matrix size-incompatible: In[0]: %s, In[1]: %s", sa, sb);
    g->out[r - 2] = g->m;
    g->out[r - 1] = g->n;
    return NULL;
}

/* A row-major descriptor of dims, with the last two axes swapped in memory
 * when `transposed` (TensorFlow's adjoint of a real matrix). */
static pl_status md_of(int rank, const int64_t *dims, bool transposed, dnnl_memory_desc_t *md) {
    dnnl_dims_t d, st;
    int64_t mem[PL_MAX_RANK];
    memcpy(mem, dims, sizeof(int64_t) * (size_t)rank);
    if (transposed) mem[rank - 2] = dims[rank - 1], mem[rank - 1] = dims[rank - 2];
    int64_t stride = 1;
    for (int i = rank - 1; i >= 0; i--) {
        st[i] = stride;
        stride *= mem[i] > 0 ? mem[i] : 1;
    }
    for (int i = 0; i < rank; i++) d[i] = dims[i];
    if (transposed) {
        int64_t t = st[rank - 2];
        st[rank - 2] = st[rank - 1];
        st[rank - 1] = t;
    }
    return pl__dnnl_check(dnnl_memory_desc_init_by_strides(md, rank, d, dnnl_f32, st), "matmul md");
}

static pl_status plan_build(const matmul_state *s, const mm_geom *g, matmul_plan *p) {
    int64_t ad[PL_MAX_RANK], bd[PL_MAX_RANK];
    memcpy(ad, g->a, sizeof ad);
    memcpy(bd, g->b, sizeof bd);
    const int r = g->rank;
    /* oneDNN wants the logical (M, K) and (K, N); the adjoint lives in the strides. */
    ad[r - 2] = g->m, ad[r - 1] = g->k;
    bd[r - 2] = g->k, bd[r - 1] = g->n;
    PL_TRY(md_of(r, ad, s->adj_a, &p->a_md));
    PL_TRY(md_of(r, bd, s->adj_b, &p->b_md));
    PL_TRY(md_of(r, g->out, false, &p->c_md));
    dnnl_matmul_desc_t desc;
    if (dnnl_matmul_desc_init(&desc, &p->a_md, &p->b_md, NULL, &p->c_md) != dnnl_success) return NULL;
    PL_TRY(pl__dnnl_pd_fast(&desc, &p->pd));
    if (!p->pd) return NULL;
    return pl__dnnl_check(dnnl_primitive_create(&p->prim, p->pd), "creating a matmul");
}

static pl_status plan_get(matmul_state *s, const mm_geom *g, matmul_plan **out) {
    int64_t key[PL__PLAN_KEY_MAX];
    int nkey = 0;
    key[nkey++] = omp_get_max_threads();
    for (int i = 0; i < g->rank; i++) key[nkey++] = g->a[i], key[nkey++] = g->b[i];
    matmul_plan *p = (matmul_plan *)pl__plan_cache_get(&s->plans, key, nkey);
    if (p) {
        *out = p;
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (!p) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->base.destroy = matmul_plan_destroy;
    p->base.nkey = nkey;
    memcpy(p->base.key, key, sizeof(int64_t) * (size_t)nkey);
    pl_status st = plan_build(s, g, p);
    if (st) {
        matmul_plan_destroy(&p->base);
        return st;
    }
    *out = (matmul_plan *)pl__plan_cache_put(&s->plans, &p->base);
    return NULL;
}

/* Offsets of batch `bi`'s matrices in a and b, broadcasting size-1 dims. */
static void batch_offsets(const mm_geom *g, int64_t bi, int64_t *oa, int64_t *ob) {
    int64_t sa = g->a[g->rank - 2] * g->a[g->rank - 1], sb = g->b[g->rank - 2] * g->b[g->rank - 1];
    *oa = *ob = 0;
    for (int i = g->rank - 3; i >= 0; i--) {
        int64_t idx = bi % g->out[i];
        bi /= g->out[i];
        if (g->a[i] != 1) *oa += idx * sa;
        if (g->b[i] != 1) *ob += idx * sb;
        sa *= g->a[i];
        sb *= g->b[i];
    }
}

#define MATMUL_LOOP(T, ACC)                                                                  \
    static void matmul_loop_##T(const mm_geom *g, bool ta, bool tb, const T *a, const T *b, T *c) { \
        for (int64_t bi = 0; bi < g->batch; bi++) {                                          \
            int64_t oa, ob;                                                                  \
            batch_offsets(g, bi, &oa, &ob);                                                  \
            const T *A = a + oa, *B = b + ob;                                                \
            T *C = c + bi * g->m * g->n;                                                     \
            for (int64_t i = 0; i < g->m; i++)                                               \
                for (int64_t j = 0; j < g->n; j++) {                                         \
                    ACC acc = 0;                                                             \
                    for (int64_t k = 0; k < g->k; k++)                                       \
                        acc += (ACC)(ta ? A[k * g->m + i] : A[i * g->k + k]) *               \
                               (ACC)(tb ? B[j * g->k + k] : B[k * g->n + j]);                \
                    C[i * g->n + j] = (T)acc;                                                \
                }                                                                            \
        }                                                                                    \
    }

MATMUL_LOOP(float, double)
MATMUL_LOOP(double, double)
/* Integer products wrap as TensorFlow's do; unsigned arithmetic keeps that defined. */
typedef uint32_t u32;
typedef uint64_t u64;
MATMUL_LOOP(u32, u32)
MATMUL_LOOP(u64, u64)

pl_status pl__nn_matmul_compute(pl_kernel_ctx *c) {
    matmul_state *s = c->state;
    const pl_tensor *a = c->inputs[0], *b = c->inputs[1];
    if (a->dtype != b->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "MatMul inputs have different types: %s and %s", pl_dtype_name(a->dtype),
                        pl_dtype_name(b->dtype));
    if (s->out_type != PL_DT_INVALID && s->out_type != a->dtype)
        return pl_error(PL_UNIMPLEMENTED, "BatchMatMulV3 with Tout %s from %s", pl_dtype_name(s->out_type),
                        pl_dtype_name(a->dtype));
    mm_geom g;
    PL_TRY(geometry(s, a, b, &g));
    pl_tensor *y;
    PL_TRY(pl_ctx_alloc_output(c, 0, a->dtype, g.rank, g.out, &y));
    if (y->count == 0) return NULL;
    if (g.k == 0) {
        memset(y->data, 0, pl_tensor_nbytes(y));
        return NULL;
    }
    switch (a->dtype) {
    case PL_DT_FLOAT: break;
    case PL_DT_DOUBLE: matmul_loop_double(&g, s->adj_a, s->adj_b, a->data, b->data, y->data); return NULL;
    case PL_DT_INT32:
    case PL_DT_UINT32: matmul_loop_u32(&g, s->adj_a, s->adj_b, a->data, b->data, y->data); return NULL;
    case PL_DT_INT64:
    case PL_DT_UINT64: matmul_loop_u64(&g, s->adj_a, s->adj_b, a->data, b->data, y->data); return NULL;
    default: return pl_error(PL_UNIMPLEMENTED, "MatMul does not support %s", pl_dtype_name(a->dtype));
    }
    matmul_plan *p = NULL;
    PL_TRY(plan_get(s, &g, &p));
    pl_status st = NULL;
    if (!p->pd) {
        matmul_loop_float(&g, s->adj_a, s->adj_b, a->data, b->data, y->data);
    } else {
        pl__dnnl_arg args[] = {{DNNL_ARG_SRC, &p->a_md, a->data}, {DNNL_ARG_WEIGHTS, &p->b_md, b->data},
                               {DNNL_ARG_DST, &p->c_md, y->data}};
        st = pl__dnnl_run(p->prim, p->pd, 3, args);
    }
    pl__plan_release(&s->plans, &p->base);
    return st;
}
