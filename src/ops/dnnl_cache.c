/* The per-node caches of oneDNN kernels: plans by input shape (LRU) and
 * weights reordered once per tensor and layout (see dnnl_glue.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ops/dnnl_glue.h"

static atomic_llong plans_built, weights_reordered;

void pl__dnnl_setup_counts(int64_t *plans, int64_t *weights) {
    *plans = atomic_load(&plans_built);
    *weights = atomic_load(&weights_reordered);
}

/* ---- plans ---- */

void pl__plan_cache_init(pl__plan_cache *c, int capacity) {
    pthread_mutex_init(&c->mu, NULL);
    c->head = NULL;
    c->count = 0;
    c->capacity = capacity;
}

void pl__plan_cache_destroy(pl__plan_cache *c) {
    for (pl__dnnl_plan *p = c->head, *next; p; p = next) {
        next = p->next;
        p->destroy(p);
    }
    c->head = NULL;
    pthread_mutex_destroy(&c->mu);
}

static bool key_equal(const pl__dnnl_plan *p, const int64_t *key, int nkey) {
    return p->nkey == nkey && !memcmp(p->key, key, sizeof(int64_t) * (size_t)nkey);
}

/* Moves the plan before `prev`'s successor to the front; mutex held. */
static void move_to_front(pl__plan_cache *c, pl__dnnl_plan *prev, pl__dnnl_plan *p) {
    if (!prev) return;
    prev->next = p->next;
    p->next = c->head;
    c->head = p;
}

pl__dnnl_plan *pl__plan_cache_get(pl__plan_cache *c, const int64_t *key, int nkey) {
    pthread_mutex_lock(&c->mu);
    pl__dnnl_plan *prev = NULL, *p = c->head;
    while (p && !key_equal(p, key, nkey)) prev = p, p = p->next;
    if (p) {
        move_to_front(c, prev, p);
        p->refs++;
    }
    pthread_mutex_unlock(&c->mu);
    return p;
}

pl__dnnl_plan *pl__plan_cache_put(pl__plan_cache *c, pl__dnnl_plan *plan) {
    atomic_fetch_add(&plans_built, 1);
    pl__dnnl_plan *evicted = NULL;
    pthread_mutex_lock(&c->mu);
    pl__dnnl_plan *prev = NULL, *p = c->head;
    while (p && !key_equal(p, plan->key, plan->nkey)) prev = p, p = p->next;
    if (p) {
        /* Another thread built the same plan meanwhile: keep one. */
        move_to_front(c, prev, p);
        p->refs++;
        pthread_mutex_unlock(&c->mu);
        plan->destroy(plan);
        return p;
    }
    plan->refs = 2; /* the cache's and the caller's */
    plan->next = c->head;
    c->head = plan;
    if (++c->count > c->capacity) {
        pl__dnnl_plan *q = c->head;
        while (q->next && q->next->next) q = q->next;
        evicted = q->next;
        q->next = NULL;
        c->count--;
        if (--evicted->refs > 0) evicted = NULL; /* the last user frees it */
    }
    pthread_mutex_unlock(&c->mu);
    if (evicted) evicted->destroy(evicted);
    return plan;
}

void pl__plan_release(pl__plan_cache *c, pl__dnnl_plan *plan) {
    if (!plan) return;
    pthread_mutex_lock(&c->mu);
    bool last = --plan->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (last) plan->destroy(plan);
}

/* ---- weights ---- */

void pl__weight_cache_init(pl__weight_cache *c, int capacity) {
    pthread_mutex_init(&c->mu, NULL);
    c->head = NULL;
    c->count = 0;
    c->capacity = capacity;
}

static void weights_free(pl__dnnl_weights *w) {
    if (w->data != w->source->data) free(w->data);
    pl_tensor_unref(w->source);
    free(w);
}

void pl__weight_cache_destroy(pl__weight_cache *c) {
    for (pl__dnnl_weights *w = c->head, *next; w; w = next) {
        next = w->next;
        weights_free(w);
    }
    c->head = NULL;
    pthread_mutex_destroy(&c->mu);
}

static bool weights_match(const pl__dnnl_weights *w, const pl_tensor *t, const dnnl_memory_desc_t *md) {
    return w->source->data == t->data && w->source->buffer == t->buffer && pl_tensor_same_shape(w->source, t) &&
           dnnl_memory_desc_equal(&w->md, md);
}

static pl__dnnl_weights *weights_find(pl__weight_cache *c, const pl_tensor *t, const dnnl_memory_desc_t *md) {
    pl__dnnl_weights *prev = NULL, *w = c->head;
    while (w && !weights_match(w, t, md)) prev = w, w = w->next;
    if (w) {
        if (prev) {
            prev->next = w->next;
            w->next = c->head;
            c->head = w;
        }
        w->refs++;
    }
    return w;
}

static pl_status weights_reorder(pl_tensor *source, const dnnl_memory_desc_t *src_md,
                                 const dnnl_memory_desc_t *dst_md, pl__dnnl_weights **out) {
    atomic_fetch_add(&weights_reordered, 1);
    pl__dnnl_weights *w = calloc(1, sizeof *w);
    if (!w) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory caching weights");
    w->md = *dst_md;
    w->source = pl_tensor_ref(source);
    w->refs = 1;
    if (dnnl_memory_desc_equal(src_md, dst_md)) {
        w->data = source->data;
        *out = w;
        return NULL;
    }
    size_t size = dnnl_memory_desc_get_size(dst_md);
    w->data = aligned_alloc(64, (size + 63) & ~(size_t)63);
    pl_status st = w->data ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory reordering weights");
    dnnl_engine_t eng = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    if (!st) st = pl__dnnl_engine(&eng);
    dnnl_primitive_attr_t attr = NULL;
    if (!st) st = pl__dnnl_attr(&attr);
    if (!st)
        st = pl__dnnl_check(dnnl_reorder_primitive_desc_create(&pd, src_md, eng, dst_md, eng, attr),
                            "creating a weights reorder");
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (!st) st = pl__dnnl_check(dnnl_primitive_create(&prim, pd), "creating a weights reorder");
    if (!st) {
        pl__dnnl_arg args[2] = {{DNNL_ARG_FROM, src_md, source->data}, {DNNL_ARG_TO, dst_md, w->data}};
        st = pl__dnnl_run(prim, pd, 2, args);
    }
    if (prim) dnnl_primitive_destroy(prim);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (st) {
        weights_free(w);
        return st;
    }
    *out = w;
    return NULL;
}

/* Unlinks the entries nobody can hit again — no run is using them and the
 * cache holds the last reference to their source tensor, so no caller can
 * present that tensor any more — and returns them as a list; mutex held. */
static pl__dnnl_weights *weights_unlink_unreachable(pl__weight_cache *c) {
    pl__dnnl_weights *dead = NULL, **link = &c->head;
    while (*link) {
        pl__dnnl_weights *w = *link;
        if (w->refs == 1 && atomic_load(&w->source->refs) == 1) {
            *link = w->next;
            w->next = dead;
            dead = w;
            c->count--;
        } else {
            link = &w->next;
        }
    }
    return dead;
}

pl_status pl__weight_cache_get(pl__weight_cache *c, pl_tensor *source, const dnnl_memory_desc_t *src_md,
                               const dnnl_memory_desc_t *dst_md, pl__dnnl_weights **out) {
    pthread_mutex_lock(&c->mu);
    *out = weights_find(c, source, dst_md);
    pthread_mutex_unlock(&c->mu);
    if (*out) return NULL;

    /* Reorder outside the lock: it can take milliseconds for large filters. */
    pl__dnnl_weights *w = NULL;
    PL_TRY(weights_reorder(source, src_md, dst_md, &w));

    pl__dnnl_weights *dead = NULL;
    pthread_mutex_lock(&c->mu);
    pl__dnnl_weights *raced = weights_find(c, source, dst_md);
    if (!raced) {
        w->refs = 2;
        w->next = c->head;
        c->head = w;
        c->count++;
        dead = weights_unlink_unreachable(c);
        /* Bounded so that a weight input that changes every run (not a
         * constant) cannot grow the cache: the oldest entries go. */
        if (c->count > c->capacity) {
            pl__dnnl_weights *q = c->head;
            while (q->next && q->next->next) q = q->next;
            pl__dnnl_weights *oldest = q->next;
            q->next = NULL;
            c->count--;
            if (--oldest->refs == 0) {
                oldest->next = dead;
                dead = oldest;
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
    while (dead) {
        pl__dnnl_weights *next = dead->next;
        weights_free(dead);
        dead = next;
    }
    if (raced) {
        weights_free(w);
        w = raced;
    }
    *out = w;
    return NULL;
}

void pl__weight_release(pl__weight_cache *c, pl__dnnl_weights *w) {
    if (!w) return;
    pthread_mutex_lock(&c->mu);
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (last) weights_free(w);
}
