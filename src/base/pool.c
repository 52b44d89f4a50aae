/* Thread pool: a mutex-protected ring of tasks, workers that drain it, and a
 * parallel-for whose shared state is refcounted so that helpers starting late
 * never touch a finished caller's stack. */
#include "base/pool.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct task {
    pl_task_fn *fn;
    void *arg;
    pl_wait_group *wg;
} task;

struct pl_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* signalled when a task is queued or on shutdown */
    task *ring;             /* capacity entries, a power of two */
    size_t capacity, head, count;
    bool stopping;
    int n_workers;
    pthread_t *workers;
};

void pl_wait_group_init(pl_wait_group *wg) {
    pthread_mutex_init(&wg->mu, NULL);
    pthread_cond_init(&wg->cv, NULL);
    wg->pending = 0;
}

void pl_wait_group_deinit(pl_wait_group *wg) {
    pthread_cond_destroy(&wg->cv);
    pthread_mutex_destroy(&wg->mu);
}

void pl_wait_group_add(pl_wait_group *wg, int64_t n) {
    pthread_mutex_lock(&wg->mu);
    wg->pending += n;
    pthread_mutex_unlock(&wg->mu);
}

void pl_wait_group_done(pl_wait_group *wg) {
    pthread_mutex_lock(&wg->mu);
    /* Broadcast under the lock: the waiter may destroy the group as soon as it
     * sees zero, so nothing may touch wg after the unlock. */
    if (--wg->pending == 0) pthread_cond_broadcast(&wg->cv);
    pthread_mutex_unlock(&wg->mu);
}

void pl_wait_group_wait(pl_wait_group *wg) {
    pthread_mutex_lock(&wg->mu);
    while (wg->pending > 0) pthread_cond_wait(&wg->cv, &wg->mu);
    pthread_mutex_unlock(&wg->mu);
}

static void *worker_main(void *p) {
    pl_pool *pool = p;
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (!pool->count && !pool->stopping) pthread_cond_wait(&pool->cv, &pool->mu);
        if (!pool->count) break; /* stopping and drained */
        task t = pool->ring[pool->head];
        pool->head = (pool->head + 1) & (pool->capacity - 1);
        pool->count--;
        pthread_mutex_unlock(&pool->mu);
        t.fn(t.arg);
        if (t.wg) pl_wait_group_done(t.wg);
        pthread_mutex_lock(&pool->mu);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

pl_status pl_pool_new(int n_workers, pl_pool **out) {
    if (n_workers < 1 || n_workers > 1024)
        return pl_error(PL_INVALID_ARGUMENT, "thread pool size %d is not in [1, 1024]", n_workers);
    pl_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory creating a thread pool");
    pool->capacity = 64;
    pool->ring = malloc(pool->capacity * sizeof *pool->ring);
    pool->workers = calloc((size_t)n_workers, sizeof *pool->workers);
    if (!pool->ring || !pool->workers) {
        free(pool->ring);
        free(pool->workers);
        free(pool);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory creating a thread pool");
    }
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    for (int i = 0; i < n_workers; i++) {
        int rc = pthread_create(&pool->workers[i], NULL, worker_main, pool);
        if (rc) {
            pool->n_workers = i;
            pl_pool_free(pool);
            return pl_error(PL_RESOURCE_EXHAUSTED, "cannot start thread pool worker %d (error %d)", i, rc);
        }
    }
    pool->n_workers = n_workers;
    *out = pool;
    return NULL;
}

void pl_pool_free(pl_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->n_workers; i++) pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->mu);
    free(pool->ring);
    free(pool->workers);
    free(pool);
}

int pl_pool_size(const pl_pool *pool) { return pool ? pool->n_workers : 0; }

/* Doubles the ring, unrolling it so that head is 0. Called with mu held. */
static bool grow_ring(pl_pool *pool) {
    size_t cap = pool->capacity * 2;
    task *ring = malloc(cap * sizeof *ring);
    if (!ring) return false;
    for (size_t i = 0; i < pool->count; i++) ring[i] = pool->ring[(pool->head + i) & (pool->capacity - 1)];
    free(pool->ring);
    pool->ring = ring;
    pool->capacity = cap;
    pool->head = 0;
    return true;
}

pl_status pl_pool_submit(pl_pool *pool, pl_wait_group *wg, pl_task_fn *fn, void *arg) {
    pthread_mutex_lock(&pool->mu);
    if (pool->count == pool->capacity && !grow_ring(pool)) {
        pthread_mutex_unlock(&pool->mu);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory queueing a task");
    }
    if (wg) pl_wait_group_add(wg, 1);
    pool->ring[(pool->head + pool->count) & (pool->capacity - 1)] = (task){fn, arg, wg};
    pool->count++;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

/* Shared by the caller of one parallel-for and the helpers it queued. The
 * last of them to let go frees it. */
typedef struct pfor {
    atomic_int refs;
    atomic_int_fast64_t next_chunk;  /* next chunk to claim */
    int64_t n_chunks, n, grain;
    pl_range_fn *fn;
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t done_chunks;  /* guarded by mu */
} pfor;

static void pfor_release(pfor *pf) {
    if (atomic_fetch_sub(&pf->refs, 1) == 1) {
        pthread_cond_destroy(&pf->cv);
        pthread_mutex_destroy(&pf->mu);
        free(pf);
    }
}

/* Claims and runs chunks until none are left. */
static void pfor_work(pfor *pf) {
    for (;;) {
        int64_t c = atomic_fetch_add(&pf->next_chunk, 1);
        if (c >= pf->n_chunks) return;
        int64_t begin = c * pf->grain, end = begin + pf->grain;
        if (end > pf->n) end = pf->n;
        pf->fn(pf->ctx, begin, end);
        pthread_mutex_lock(&pf->mu);
        if (++pf->done_chunks == pf->n_chunks) pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
    }
}

static void pfor_helper(void *arg) {
    pfor *pf = arg;
    pfor_work(pf);
    pfor_release(pf);
}

void pl_pool_parallel_for(pl_pool *pool, int64_t n, int64_t grain, pl_range_fn *fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int64_t n_chunks = (n - 1) / grain + 1;
    pfor *pf = NULL;
    if (!pool || n_chunks == 1 || !(pf = malloc(sizeof *pf))) {
        fn(ctx, 0, n);
        return;
    }
    atomic_init(&pf->refs, 1);
    atomic_init(&pf->next_chunk, 0);
    pf->n_chunks = n_chunks;
    pf->n = n;
    pf->grain = grain;
    pf->fn = fn;
    pf->ctx = ctx;
    pf->done_chunks = 0;
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    int64_t helpers = n_chunks - 1 < pool->n_workers ? n_chunks - 1 : pool->n_workers;
    for (int64_t i = 0; i < helpers; i++) {
        atomic_fetch_add(&pf->refs, 1);
        pl_status st = pl_pool_submit(pool, NULL, pfor_helper, pf);
        if (st) {
            /* Fewer helpers only means the caller does more of the work. */
            pl_status_free(st);
            atomic_fetch_sub(&pf->refs, 1);
            break;
        }
    }
    pfor_work(pf);
    pthread_mutex_lock(&pf->mu);
    while (pf->done_chunks < pf->n_chunks) pthread_cond_wait(&pf->cv, &pf->mu);
    pthread_mutex_unlock(&pf->mu);
    pfor_release(pf);
}
