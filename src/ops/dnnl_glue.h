/* oneDNN glue shared by the kernels that call oneDNN: the process-wide CPU
 * engine, status translation, choosing a non-reference implementation,
 * execution with a per-call scratchpad, and two small thread-safe caches per
 * node — plans (primitives per input shape) and reordered constant weights.
 *
 * Concurrency contract: any number of threads may run the same node at once.
 * A cache's mutex is held only to look up, insert or evict; a plan or a weight
 * entry is refcounted, so eviction by one thread never frees what another is
 * executing. Execution creates its own memory objects, stream and scratchpad,
 * so a primitive is shared read-only between threads (oneDNN allows that when
 * the scratchpad is user-provided, which is why every primitive is created
 * with dnnl_scratchpad_mode_user). */
#ifndef PL_OPS_DNNL_GLUE_H
#define PL_OPS_DNNL_GLUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <dnnl.h>

#include "base/status.h"
#include "tensor/tensor.h"

/* The CPU engine, created on first use. Fails only when oneDNN cannot start. */
pl_status pl__dnnl_engine(dnnl_engine_t *engine);

/* An error naming the oneDNN call that failed; NULL for dnnl_success. */
pl_status pl__dnnl_check(dnnl_status_t s, const char *what);

/* Primitive attributes every plinth primitive uses (user scratchpad). The
 * caller destroys them. */
pl_status pl__dnnl_attr(dnnl_primitive_attr_t *attr);

/* The first implementation of op_desc whose name does not start with "ref"
 * (oneDNN's reference kernels are 100x slower than its jit ones). *pd is NULL
 * without an error when oneDNN has only reference kernels or rejects the
 * descriptor, so the caller can fall back to its own kernel. */
pl_status pl__dnnl_pd_fast(const_dnnl_op_desc_t op_desc, dnnl_primitive_desc_t *pd);
/* Same for a backward primitive, which oneDNN derives from its forward one. */
pl_status pl__dnnl_pd_fast_hint(const_dnnl_op_desc_t op_desc, const_dnnl_primitive_desc_t hint,
                                dnnl_primitive_desc_t *pd);

/* The implementation name of a primitive descriptor ("jit:avx2", ...). */
const char *pl__dnnl_impl_name(const_dnnl_primitive_desc_t pd);

/* Runs a primitive: wraps every buffer in a memory object of the given
 * descriptor, adds a scratchpad of the size pd asks for and waits for the end. */
typedef struct pl__dnnl_arg {
    int arg;                       /* DNNL_ARG_SRC, ... */
    const dnnl_memory_desc_t *md;
    void *data;
} pl__dnnl_arg;
pl_status pl__dnnl_run(dnnl_primitive_t prim, const_dnnl_primitive_desc_t pd, int nargs,
                       const pl__dnnl_arg *args);

/* Plain row-major descriptor of a float tensor shape. */
pl_status pl__dnnl_md_plain(dnnl_memory_desc_t *md, int rank, const int64_t *dims);

/* ---- plans: primitives per input shape, a small LRU per node ---- */

#define PL__PLAN_KEY_MAX 24

typedef struct pl__dnnl_plan pl__dnnl_plan;
struct pl__dnnl_plan {
    int refs;                      /* guarded by the cache mutex */
    int nkey;
    int64_t key[PL__PLAN_KEY_MAX];
    pl__dnnl_plan *next;           /* LRU order, most recent first */
    void (*destroy)(pl__dnnl_plan *plan);
};

typedef struct pl__plan_cache {
    pthread_mutex_t mu;
    pl__dnnl_plan *head;
    int count, capacity;
} pl__plan_cache;

void pl__plan_cache_init(pl__plan_cache *c, int capacity);
void pl__plan_cache_destroy(pl__plan_cache *c);
/* A referenced plan for key, or NULL. */
pl__dnnl_plan *pl__plan_cache_get(pl__plan_cache *c, const int64_t *key, int nkey);
/* Inserts a new plan (refs 1, key set) and returns a reference to the cached
 * plan for its key: `plan` itself, or the one another thread inserted first
 * (then `plan` is destroyed). Evicts the least recently used beyond capacity. */
pl__dnnl_plan *pl__plan_cache_put(pl__plan_cache *c, pl__dnnl_plan *plan);
void pl__plan_release(pl__plan_cache *c, pl__dnnl_plan *plan);

/* Plans built and weights reordered so far by every node of the process:
 * benchmarks check that a shape seen before builds nothing. */
void pl__dnnl_setup_counts(int64_t *plans, int64_t *weights);

/* ---- weights reordered once per (tensor, layout) ---- */

/* The weight tensor is held by reference, so its buffer — and so its address
 * — cannot be reused for other contents while the entry lives: a data pointer
 * seen again is the same immutable tensor (a Const or a variable read), never
 * a new tensor that happens to reuse freed memory. */
typedef struct pl__dnnl_weights {
    int refs;                      /* guarded by the cache mutex */
    pl_tensor *source;
    dnnl_memory_desc_t md;         /* layout of `data` */
    void *data;                    /* reordered weights */
    struct pl__dnnl_weights *next;
} pl__dnnl_weights;

typedef struct pl__weight_cache {
    pthread_mutex_t mu;
    pl__dnnl_weights *head;
    int count, capacity;
} pl__weight_cache;

void pl__weight_cache_init(pl__weight_cache *c, int capacity);
void pl__weight_cache_destroy(pl__weight_cache *c);
/* Reordered weights of `source` (plain layout src_md) in layout dst_md: from the
 * cache, or reordered now and cached. Release with pl__weight_release. */
pl_status pl__weight_cache_get(pl__weight_cache *c, pl_tensor *source, const dnnl_memory_desc_t *src_md,
                               const dnnl_memory_desc_t *dst_md, pl__dnnl_weights **out);
void pl__weight_release(pl__weight_cache *c, pl__dnnl_weights *w);

#endif
