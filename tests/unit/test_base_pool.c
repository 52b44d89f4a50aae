/* Thread pool: many submitters at once, wait groups, parallel-for against a
 * serial sum, nesting on a one-worker pool, and draining on free. */
#include <stdatomic.h>
#include <stdint.h>

#include "base/pool.h"
#include "check.h"

static atomic_long counter;

static void bump(void *arg) { atomic_fetch_add(&counter, (long)(intptr_t)arg); }

typedef struct submitter {
    pl_pool *pool;
    int n;
    pthread_t thread;
} submitter;

static void *submit_many(void *p) {
    submitter *s = p;
    pl_wait_group wg;
    pl_wait_group_init(&wg);
    for (int i = 0; i < s->n; i++) {
        pl_status st = pl_pool_submit(s->pool, &wg, bump, (void *)(intptr_t)1);
        if (st) pl_status_free(st);
    }
    pl_wait_group_wait(&wg);
    pl_wait_group_deinit(&wg);
    return NULL;
}

static void test_contention(void) {
    pl_pool *pool;
    CHECK_OK(pl_pool_new(4, &pool));
    atomic_store(&counter, 0);
    enum { THREADS = 8, EACH = 20000 };
    submitter subs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        subs[i] = (submitter){pool, EACH, 0};
        pthread_create(&subs[i].thread, NULL, submit_many, &subs[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(subs[i].thread, NULL);
    /* Every submitter waited for its own tasks, so all have run. */
    CHECK_EQ_INT(atomic_load(&counter), THREADS * EACH);
    pl_pool_free(pool);
}

typedef struct sum_ctx {
    const int64_t *v;
    atomic_llong total;
    atomic_int calls;
} sum_ctx;

static void sum_range(void *p, int64_t begin, int64_t end) {
    sum_ctx *c = p;
    long long s = 0;
    for (int64_t i = begin; i < end; i++) s += c->v[i];
    atomic_fetch_add(&c->total, s);
    atomic_fetch_add(&c->calls, 1);
}

static void test_parallel_for(void) {
    pl_pool *pool;
    CHECK_OK(pl_pool_new(3, &pool));
    enum { N = 100003 };
    int64_t *v = malloc(N * sizeof *v);
    long long expect = 0;
    for (int64_t i = 0; i < N; i++) {
        v[i] = (i * 7919) % 1000 - 500;
        expect += v[i];
    }
    int64_t grains[] = {1000, 1, N, N + 5, 0, 77};
    for (size_t g = 0; g < sizeof grains / sizeof *grains; g++) {
        sum_ctx c = {v, 0, 0};
        pl_pool_parallel_for(pool, N, grains[g], sum_range, &c);
        CHECK_EQ_INT(atomic_load(&c.total), expect);
        int64_t grain = grains[g] < 1 ? 1 : grains[g];
        CHECK_EQ_INT(atomic_load(&c.calls), (N + grain - 1) / grain);
    }
    sum_ctx c = {v, 0, 0};
    pl_pool_parallel_for(NULL, N, 100, sum_range, &c);  /* no pool: serial */
    CHECK_EQ_INT(atomic_load(&c.total), expect);
    pl_pool_parallel_for(pool, 0, 10, sum_range, &c);  /* empty range: no calls */
    CHECK_EQ_INT(atomic_load(&c.calls), 1);
    free(v);
    pl_pool_free(pool);
}

/* A task that runs a parallel-for on the same pool. With one worker, the
 * inner helpers can never start while the task runs; the caller must finish
 * the range itself. */
typedef struct nest_ctx {
    pl_pool *pool;
    atomic_long inner;
} nest_ctx;

static void inner_range(void *p, int64_t begin, int64_t end) {
    nest_ctx *c = p;
    atomic_fetch_add(&c->inner, (long)(end - begin));
}

static void outer_task(void *p) {
    nest_ctx *c = p;
    pl_pool_parallel_for(c->pool, 1000, 10, inner_range, c);
}

static void outer_range(void *p, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) outer_task(p);
}

static void test_nested_on_one_worker(void) {
    pl_pool *pool;
    CHECK_OK(pl_pool_new(1, &pool));
    nest_ctx c = {pool, 0};
    pl_wait_group wg;
    pl_wait_group_init(&wg);
    for (int i = 0; i < 5; i++) CHECK_OK(pl_pool_submit(pool, &wg, outer_task, &c));
    pl_wait_group_wait(&wg);
    pl_wait_group_deinit(&wg);
    CHECK_EQ_INT(atomic_load(&c.inner), 5000);
    /* Nested parallel-for inside parallel-for. */
    atomic_store(&c.inner, 0);
    pl_pool_parallel_for(pool, 20, 1, outer_range, &c);
    CHECK_EQ_INT(atomic_load(&c.inner), 20000);
    pl_pool_free(pool);
}

static void slow_bump(void *arg) {
    (void)arg;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    atomic_fetch_add(&counter, 1);
}

static void test_free_drains_queue(void) {
    pl_pool *pool;
    CHECK_OK(pl_pool_new(2, &pool));
    CHECK_EQ_INT(pl_pool_size(pool), 2);
    atomic_store(&counter, 0);
    for (int i = 0; i < 100; i++) CHECK_OK(pl_pool_submit(pool, NULL, slow_bump, NULL));
    pl_pool_free(pool);
    CHECK_EQ_INT(atomic_load(&counter), 100);
}

static void test_bad_sizes(void) {
    pl_pool *pool = NULL;
    CHECK_ERR(pl_pool_new(0, &pool), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_pool_new(-3, &pool), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_pool_new(100000, &pool), PL_INVALID_ARGUMENT);
    CHECK(pool == NULL);
    pl_pool_free(NULL);
}

int main(void) {
    RUN_TEST(test_contention);
    RUN_TEST(test_parallel_for);
    RUN_TEST(test_nested_on_one_worker);
    RUN_TEST(test_free_drains_queue);
    RUN_TEST(test_bad_sizes);
    return check_summary();
}
