/* The batch scheduler and batch row copies on their own: when batches close
 * and run (full, timeout), max_enqueued_batches, large batch splitting into
 * pieces that fill the open batch first, and row copies with the padding of
 * pad_variable_length_inputs for numbers and strings. Batches go to a
 * recording callback instead of a model. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "check.h"
#include "serving/internal.h"

/* ---- a recording callback ---- */

typedef struct recorder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int num_batches;
    int64_t sizes[32];
    int tasks[32];
    int done;  /* tasks completed */
} recorder;

static void record(void *ctx, pl__batch_task **tasks, int n, int64_t size) {
    recorder *r = ctx;
    pthread_mutex_lock(&r->mu);
    if (r->num_batches < 32) {
        r->sizes[r->num_batches] = size;
        r->tasks[r->num_batches] = n;
    }
    r->num_batches++;
    r->done += n;
    (void)tasks;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void wait_done(recorder *r, int want) {
    pthread_mutex_lock(&r->mu);
    while (r->done < want) pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

static void params(pl_batching_params *p, int64_t max, int64_t timeout_us, int64_t max_batches) {
    CHECK_OK(pl_batching_params_init(p, "test"));
    p->num_batch_threads = 1;
    p->max_batch_size = max;
    p->batch_timeout_micros = timeout_us;
    p->max_enqueued_batches = max_batches;
}

static void test_full_batch_and_timeout(void) {
    pl_batching_params p;
    params(&p, 4, 300 * 1000, 1);
    pl__batcher *b;
    CHECK_OK(pl__batcher_create(&p, &b));
    recorder r = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pl__batch_queue *q;
    CHECK_OK(pl__batch_queue_add(b, &p, record, &r, &q));
    pl__batch_task t[6];
    memset(t, 0, sizeof t);
    int used;
    /* 1 + 1 + 2 rows fill the batch: it runs without waiting for the timeout. */
    int64_t start = pl_clock_now_ns();
    CHECK_OK(pl__batch_queue_schedule(q, &t[0], 1, 1, &used));
    CHECK_OK(pl__batch_queue_schedule(q, &t[1], 1, 1, &used));
    CHECK_OK(pl__batch_queue_schedule(q, &t[2], 1, 2, &used));
    wait_done(&r, 3);
    CHECK((pl_clock_now_ns() - start) / 1000000 < 250);
    CHECK(r.num_batches == 1 && r.sizes[0] == 4 && r.tasks[0] == 3);
    /* 3 rows wait for the timeout; 2 more need a second batch, which
     * max_enqueued_batches = 1 forbids. */
    start = pl_clock_now_ns();
    CHECK_OK(pl__batch_queue_schedule(q, &t[3], 1, 3, &used));
    pl_status st = pl__batch_queue_schedule(q, &t[4], 1, 2, &used);
    CHECK(pl_status_code(st) == PL_UNAVAILABLE);
    CHECK_STR(pl_status_message(st), "The batch scheduling queue to which this task was submitted is full");
    pl_status_free(st);
    CHECK(used == 0);
    /* A task larger than max_batch_size is refused outright. */
    st = pl__batch_queue_schedule(q, &t[5], 1, 5, &used);
    CHECK_STR(pl_status_message(st), "Task size 5 is larger than maximum input batch size 4");
    pl_status_free(st);
    wait_done(&r, 4);
    CHECK((pl_clock_now_ns() - start) / 1000000 >= 250);
    CHECK(r.num_batches == 2 && r.sizes[1] == 3 && r.tasks[1] == 1);
    pl__batch_queue_remove(q);
    pl__batcher_free(b);
    pl_batching_params_clear(&p);
}

static void test_splitting(void) {
    pl_batching_params p;
    params(&p, 10, 200 * 1000, 10);
    p.enable_large_batch_splitting = true;
    p.max_execution_batch_size = 4;
    pl__batcher *b;
    CHECK_OK(pl__batcher_create(&p, &b));
    recorder r = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pl__batch_queue *q;
    CHECK_OK(pl__batch_queue_add(b, &p, record, &r, &q));
    /* One row opens a batch; 10 more rows fill its 3 free rows first, then
     * a full batch of 4, then 3 rows that wait for the timeout. */
    pl__batch_task one = {0};
    int used;
    CHECK_OK(pl__batch_queue_schedule(q, &one, 1, 1, &used));
    int max = pl__batch_max_pieces(&p, 10);
    CHECK(max >= 3);
    pl__batch_task *pieces = calloc((size_t)max, sizeof *pieces);
    CHECK_OK(pl__batch_queue_schedule(q, pieces, max, 10, &used));
    CHECK(used == 3);
    CHECK(pieces[0].offset == 0 && pieces[0].size == 3 && pieces[0].piece == 0);
    CHECK(pieces[1].offset == 3 && pieces[1].size == 4 && pieces[1].piece == 1);
    CHECK(pieces[2].offset == 7 && pieces[2].size == 3 && pieces[2].piece == 2);
    wait_done(&r, 4);
    CHECK(r.num_batches == 3);
    CHECK(r.sizes[0] == 4 && r.tasks[0] == 2);
    CHECK(r.sizes[1] == 4 && r.tasks[1] == 1);
    CHECK(r.sizes[2] == 3 && r.tasks[2] == 1);
    free(pieces);
    pl__batch_queue_remove(q);
    pl__batcher_free(b);
    pl_batching_params_clear(&p);
}

static void test_bad_queue_options(void) {
    pl_batching_params p;
    params(&p, 0, 0, 10);
    pl__batcher *b;
    p.num_batch_threads = 0;
    pl_status st = pl__batcher_create(&p, &b);
    CHECK_STR(pl_status_message(st), "num_batch_threads must be positive; was 0");
    pl_status_free(st);
    p.num_batch_threads = 1;
    CHECK_OK(pl__batcher_create(&p, &b));
    pl__batch_queue *q;
    st = pl__batch_queue_add(b, &p, record, NULL, &q);
    CHECK_STR(pl_status_message(st), "input_batch_size_limit must be positive; was 0");
    pl_status_free(st);
    p.max_batch_size = 4;
    p.enable_large_batch_splitting = true;
    p.max_execution_batch_size = 8;
    st = pl__batch_queue_add(b, &p, record, NULL, &q);
    CHECK(pl_status_code(st) == PL_INVALID_ARGUMENT);
    pl_status_free(st);
    pl__batcher_free(b);
    pl_batching_params_clear(&p);
}

/* ---- row copies ---- */

static void test_rows_copy_padding(void) {
    int64_t sd[2] = {2, 2}, dd[2] = {3, 3};
    pl_tensor *src, *dst;
    CHECK_OK(pl_tensor_alloc(PL_DT_FLOAT, 2, sd, &src));
    CHECK_OK(pl_tensor_zeros(PL_DT_FLOAT, 2, dd, &dst));
    float *s = pl_tensor_data(src);
    for (int i = 0; i < 4; i++) s[i] = (float)(i + 1);  /* [[1,2],[3,4]] */
    /* Row 1 of src into row 2 of dst, padded with src element 2 (= 3). */
    CHECK_OK(pl__rows_copy(dst, 2, src, 1, 1, 2));
    const float *d = pl_tensor_data(dst);
    const float want[9] = {0, 0, 0, 0, 0, 0, 3, 4, 3};
    for (int i = 0; i < 9; i++) CHECK(d[i] == want[i]);
    /* Same inner shape: a plain copy of both rows. */
    pl_tensor *slice;
    CHECK_OK(pl__rows_slice(src, 0, 2, &slice));
    CHECK(slice->dims[0] == 2 && slice->dims[1] == 2);
    CHECK(memcmp(pl_tensor_data(slice), s, 4 * sizeof(float)) == 0);
    pl_tensor_unref(slice);
    /* A row wider than the batch's is an error, not an overflow. */
    pl_status st = pl__rows_copy(src, 0, dst, 0, 1, 0);
    CHECK(pl_status_code(st) == PL_INTERNAL);
    pl_status_free(st);
    pl_tensor_unref(src);
    pl_tensor_unref(dst);

    int64_t ss[2] = {1, 2}, ds[2] = {2, 3};
    CHECK_OK(pl_tensor_alloc(PL_DT_STRING, 2, ss, &src));
    CHECK_OK(pl_tensor_alloc(PL_DT_STRING, 2, ds, &dst));
    CHECK_OK(pl_tensor_set_string(src, 0, "ab", 2));
    CHECK_OK(pl_tensor_set_string(src, 1, "", 0));
    CHECK_OK(pl__rows_copy(dst, 1, src, 0, 1, 0));
    const pl_str *o = pl_tensor_data(dst);
    CHECK(o[3].len == 2 && !memcmp(o[3].data, "ab", 2));
    CHECK(o[4].len == 0);
    CHECK(o[5].len == 2 && !memcmp(o[5].data, "ab", 2));
    CHECK(o[0].len == 0);
    pl_tensor_unref(src);
    pl_tensor_unref(dst);
}

int main(void) {
    RUN_TEST(test_full_batch_and_timeout);
    RUN_TEST(test_splitting);
    RUN_TEST(test_bad_queue_options);
    RUN_TEST(test_rows_copy_padding);
    return check_summary();
}
