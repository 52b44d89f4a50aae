/* Thread pool: a fixed set of workers running submitted tasks, wait groups to
 * wait for a batch of them, and a parallel-for helper.
 *
 *     pl_pool *pool;
 *     PL_TRY(pl_pool_new(4, &pool));
 *     pl_wait_group wg;
 *     pl_wait_group_init(&wg);
 *     for (int i = 0; i < n; i++) pl_pool_submit(pool, &wg, work, &items[i]);
 *     pl_wait_group_wait(&wg);     // every submitted task has returned
 *     pl_wait_group_deinit(&wg);
 *     pl_pool_parallel_for(pool, rows, 64, scale_rows, &ctx);
 *     pl_pool_free(pool);
 *
 * Concurrency contract. Let P be a pool and T any thread, a worker of P
 * included. T may call pl_pool_submit and pl_pool_parallel_for on P at any
 * time between pl_pool_new and the start of pl_pool_free, concurrently with
 * any other thread. Tasks start in submission order, but a task submitted
 * before another may finish after it; tasks run on the workers only, never
 * inside pl_pool_submit. A wait group counts tasks submitted with it;
 * pl_wait_group_wait returns once every one of them has returned, and the
 * memory each task wrote is then visible to the waiter. A worker must not wait
 * on a wait group whose tasks are queued behind it: with every worker waiting
 * nobody would run them. pl_pool_parallel_for has no such hazard: the caller
 * works through the range itself and waits only for ranges another thread has
 * already started, so it may be called from inside a task, nested to any
 * depth, even on a pool with one worker. pl_pool_free must be called once, by
 * a thread that is not a worker of P, after every thread has stopped
 * submitting; it runs the tasks still queued, then joins the workers. */
#ifndef PL_BASE_POOL_H
#define PL_BASE_POOL_H

#include <pthread.h>
#include <stdint.h>

#include "base/status.h"

typedef struct pl_pool pl_pool;
typedef void pl_task_fn(void *arg);
/* Processes [begin, end) of a parallel-for range. */
typedef void pl_range_fn(void *ctx, int64_t begin, int64_t end);

typedef struct pl_wait_group {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t pending;  /* tasks submitted with this group that have not returned */
} pl_wait_group;

void pl_wait_group_init(pl_wait_group *wg);
/* The group must have no pending tasks. */
void pl_wait_group_deinit(pl_wait_group *wg);
void pl_wait_group_add(pl_wait_group *wg, int64_t n);
void pl_wait_group_done(pl_wait_group *wg);
void pl_wait_group_wait(pl_wait_group *wg);

/* A pool of n_workers threads (at least 1, at most 1024). */
pl_status pl_pool_new(int n_workers, pl_pool **out);
void pl_pool_free(pl_pool *pool);
int pl_pool_size(const pl_pool *pool);

/* Queues fn(arg); wg, when not NULL, counts it. Fails only when memory runs
 * out, and then nothing was queued and wg is unchanged. */
pl_status pl_pool_submit(pl_pool *pool, pl_wait_group *wg, pl_task_fn *fn, void *arg);

/* Calls fn over [0, n) in ranges of `grain` items (at least 1), spread over
 * the caller and the workers; returns when all have returned. pool NULL runs
 * everything on the caller. */
void pl_pool_parallel_for(pl_pool *pool, int64_t n, int64_t grain, pl_range_fn *fn, void *ctx);

#endif
