/* The shared batch scheduler: TensorFlow's SharedBatchScheduler (spec 1e).
 * One pool of num_batch_threads threads serves every queue; each queue (one
 * per model version and tensor signature) fills batches up to its size limit
 * and keeps at most max_enqueued_batches of them.
 *
 * Locking. `mu` guards every queue and batch. A caller schedules under it and
 * leaves; a thread takes a batch under it, runs it without it, and takes it
 * again only to count the batch as finished. A batch that a thread has taken
 * is no longer in its queue, so tasks joining later start a new batch.
 *
 * When a batch is due. The oldest batch of a queue is taken when it is closed
 * (a later task did not fit), when it is full, or when its first task has
 * waited batch_timeout_micros. With a timeout of 0 an idle thread takes
 * whatever is open at once: batches form only while every thread is busy,
 * which is when batching pays. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "serving/internal.h"

typedef struct batch {
    pl__batch_task *head, *tail;
    int num_tasks;
    int64_t size;
    bool closed;           /* no task may join any more */
    int64_t start_ns;      /* when its first task arrived */
    struct batch *next;
} batch;

struct pl__batch_queue {
    pl__batcher *owner;
    int64_t input_limit;   /* largest task */
    int64_t batch_limit;   /* largest batch */
    int64_t timeout_ns;
    int64_t max_batches;
    bool split;
    pl__batch_process_fn process;
    void *ctx;
    batch *first, *last;   /* oldest first; `last` is open unless closed */
    int64_t num_batches;
    int processing;        /* batches taken by threads and not yet finished */
    pl__batch_queue *prev, *next;
};

struct pl__batcher {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;  /* a batch may be due */
    pthread_cond_t idle_cv;  /* a batch finished */
    bool stopping;
    pl__batch_queue *queues; /* circular list */
    pl__batch_queue *cursor; /* the queue to look at first, for fairness */
    char *pool_name;
    int num_threads;
    pthread_t *threads;
};

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

/* ---- the threads ---- */

static bool due(const pl__batch_queue *q, const batch *b, int64_t now, int64_t *wake) {
    if (b->num_tasks == 0) return false;
    if (b->closed || b->size >= q->batch_limit) return true;
    int64_t at = b->start_ns + q->timeout_ns;
    if (now >= at) return true;
    if (at < *wake) *wake = at;
    return false;
}

/* The next due batch, round robin over the queues; unlinks it. With mu. */
static batch *take(pl__batcher *b, pl__batch_queue **from, int64_t *wake) {
    int64_t now = pl_clock_now_ns();
    pl__batch_queue *q = b->cursor;
    if (!q) return NULL;
    do {
        batch *first = q->first;
        if (first && due(q, first, now, wake)) {
            first->closed = true;
            q->first = first->next;
            if (!q->first) q->last = NULL;
            q->num_batches--;
            q->processing++;
            b->cursor = q->next;
            *from = q;
            return first;
        }
        q = q->next;
    } while (q != b->cursor);
    return NULL;
}

static void wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t at_ns) {
    struct timespec ts = {.tv_sec = at_ns / 1000000000, .tv_nsec = at_ns % 1000000000};
    pthread_cond_timedwait(cv, mu, &ts);
}

static void *thread_main(void *arg) {
    pl__batcher *b = arg;
    pthread_mutex_lock(&b->mu);
    while (!b->stopping) {
        int64_t wake = INT64_MAX;
        pl__batch_queue *q = NULL;
        batch *bt = take(b, &q, &wake);
        if (!bt) {
            if (wake == INT64_MAX)
                pthread_cond_wait(&b->work_cv, &b->mu);
            else
                wait_until(&b->work_cv, &b->mu, wake);
            continue;
        }
        pthread_mutex_unlock(&b->mu);
        pl__batch_task *tasks_small[64], **tasks = tasks_small;
        if (bt->num_tasks > 64) tasks = malloc(sizeof *tasks * (size_t)bt->num_tasks);
        int n = 0;
        if (tasks) {
            for (pl__batch_task *t = bt->head; t; t = t->next) tasks[n++] = t;
            q->process(q->ctx, tasks, n, bt->size);
        } else {
            /* Cannot even list the tasks: run them one at a time instead. */
            for (pl__batch_task *t = bt->head, *next; t; t = next) {
                next = t->next;
                q->process(q->ctx, &t, 1, t->size);
            }
        }
        if (tasks != tasks_small) free(tasks);
        free(bt);
        pthread_mutex_lock(&b->mu);
        q->processing--;
        pthread_cond_broadcast(&b->idle_cv);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* ---- the scheduler ---- */

static void cond_init_monotonic(pthread_cond_t *cv) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

static void stop_threads(pl__batcher *b) {
    pthread_mutex_lock(&b->mu);
    b->stopping = true;
    pthread_cond_broadcast(&b->work_cv);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < b->num_threads; i++) pthread_join(b->threads[i], NULL);
    b->num_threads = 0;
}

void pl__batcher_free(pl__batcher *b) {
    if (!b) return;
    stop_threads(b);
    if (PL_NEVER(b->queues != NULL)) pl_log_error("batch scheduler freed with queues left");
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->work_cv);
    pthread_cond_destroy(&b->idle_cv);
    free(b->threads);
    free(b->pool_name);
    free(b);
}

pl_status pl__batcher_create(const pl_batching_params *p, pl__batcher **out) {
    *out = NULL;
    /* SharedBatchScheduler::Create. */
    if (p->num_batch_threads < 1)
        return pl_error(PL_INVALID_ARGUMENT, "num_batch_threads must be positive; was %lld",
                        (long long)p->num_batch_threads);
    if (p->num_batch_threads > 4096)
        return pl_error(PL_INVALID_ARGUMENT, "num_batch_threads must be at most 4096; was %lld",
                        (long long)p->num_batch_threads);
    pl__batcher *b = calloc(1, sizeof *b);
    if (!b) return oom();
    pthread_mutex_init(&b->mu, NULL);
    cond_init_monotonic(&b->work_cv);
    cond_init_monotonic(&b->idle_cv);
    b->pool_name = pl__strdup(p->thread_pool_name ? p->thread_pool_name : "batch_threads");
    b->threads = calloc((size_t)p->num_batch_threads, sizeof *b->threads);
    if (!b->pool_name || !b->threads) {
        pl__batcher_free(b);
        return oom();
    }
    for (int64_t i = 0; i < p->num_batch_threads; i++) {
        if (pthread_create(&b->threads[i], NULL, thread_main, b)) {
            pl__batcher_free(b);
            return pl_error(PL_RESOURCE_EXHAUSTED, "cannot start batch thread %lld", (long long)i);
        }
        b->num_threads++;
    }
    pl_log_info("Batch scheduler %s started with %d thread(s)", b->pool_name, b->num_threads);
    *out = b;
    return NULL;
}

const char *pl__batcher_pool_name(const pl__batcher *b) { return b->pool_name; }

/* ---- queues ---- */

pl_status pl__batch_queue_add(pl__batcher *b, const pl_batching_params *p, pl__batch_process_fn process, void *ctx,
                              pl__batch_queue **out) {
    *out = NULL;
    /* SharedBatchScheduler::AddQueue's checks. */
    if (p->max_batch_size <= 0)
        return pl_error(PL_INVALID_ARGUMENT, "input_batch_size_limit must be positive; was %lld",
                        (long long)p->max_batch_size);
    if (p->batch_timeout_micros < 0)
        return pl_error(PL_INVALID_ARGUMENT, "batch_timeout_micros must be non-negative; was %lld",
                        (long long)p->batch_timeout_micros);
    if (p->max_enqueued_batches < 0)
        return pl_error(PL_INVALID_ARGUMENT, "max_enqueued_batches must be non-negative; was %lld",
                        (long long)p->max_enqueued_batches);
    if (p->enable_large_batch_splitting && p->max_execution_batch_size <= 0)
        return pl_error(PL_INVALID_ARGUMENT, "max_execution_batch_size must be positive; was %lld",
                        (long long)p->max_execution_batch_size);
    if (p->enable_large_batch_splitting && p->max_batch_size < p->max_execution_batch_size)
        return pl_error(PL_INVALID_ARGUMENT, "When enable_large_batch_splitting is true, input_batch_size_limit must "
                                             "be greater than or equal to max_execution_batch_size.");
    pl__batch_queue *q = calloc(1, sizeof *q);
    if (!q) return oom();
    q->owner = b;
    q->input_limit = p->max_batch_size;
    q->split = p->enable_large_batch_splitting;
    q->batch_limit = q->split ? p->max_execution_batch_size : p->max_batch_size;
    q->timeout_ns = p->batch_timeout_micros > INT64_MAX / 1000 ? INT64_MAX / 2 : p->batch_timeout_micros * 1000;
    q->max_batches = p->max_enqueued_batches;
    q->process = process;
    q->ctx = ctx;
    pthread_mutex_lock(&b->mu);
    if (!b->queues) {
        q->prev = q->next = q;
        b->queues = b->cursor = q;
    } else {
        q->next = b->queues;
        q->prev = b->queues->prev;
        q->prev->next = q;
        q->next->prev = q;
    }
    pthread_mutex_unlock(&b->mu);
    *out = q;
    return NULL;
}

void pl__batch_queue_remove(pl__batch_queue *q) {
    if (!q) return;
    pl__batcher *b = q->owner;
    pthread_mutex_lock(&b->mu);
    while (q->processing > 0) pthread_cond_wait(&b->idle_cv, &b->mu);
    if (PL_NEVER(q->first != NULL)) pl_log_error("batch queue removed with tasks in it");
    for (batch *bt = q->first, *next; bt; bt = next) {
        next = bt->next;
        free(bt);
    }
    if (q->next == q) {
        b->queues = b->cursor = NULL;
    } else {
        q->prev->next = q->next;
        q->next->prev = q->prev;
        if (b->queues == q) b->queues = q->next;
        if (b->cursor == q) b->cursor = q->next;
    }
    pthread_mutex_unlock(&b->mu);
    free(q);
}

int pl__batch_max_pieces(const pl_batching_params *p, int64_t size) {
    if (!p->enable_large_batch_splitting || p->max_execution_batch_size <= 0 || size <= 0) return 1;
    int64_t n = (size + p->max_execution_batch_size - 1) / p->max_execution_batch_size + 1;
    return n > 1 << 20 ? 1 << 20 : (int)n;
}

static void add_task(batch *bt, pl__batch_task *t) {
    t->next = NULL;
    if (bt->tail)
        bt->tail->next = t;
    else
        bt->head = t;
    bt->tail = t;
    bt->num_tasks++;
    bt->size += t->size;
}

/* A new open batch at the end of the queue; with mu. */
static batch *open_batch(pl__batch_queue *q, int64_t now) {
    batch *bt = calloc(1, sizeof *bt);
    if (!bt) return NULL;
    bt->start_ns = now;
    if (q->last) {
        q->last->closed = true;
        q->last->next = bt;
    } else {
        q->first = bt;
    }
    q->last = bt;
    q->num_batches++;
    return bt;
}

static pl_status full(void) {
    return pl_error(PL_UNAVAILABLE, "The batch scheduling queue to which this task was submitted is full");
}

pl_status pl__batch_queue_schedule(pl__batch_queue *q, pl__batch_task *tasks, int max_tasks, int64_t size,
                                   int *used) {
    *used = 0;
    if (PL_NEVER(size <= 0 || max_tasks < 1)) return pl_error(PL_INTERNAL, "empty batch task");
    if (size > q->input_limit)
        return pl_error(PL_INVALID_ARGUMENT, "Task size %lld is larger than maximum input batch size %lld",
                        (long long)size, (long long)q->input_limit);
    pl__batcher *b = q->owner;
    int64_t now = pl_clock_now_ns();
    pthread_mutex_lock(&b->mu);
    batch *open = q->last && !q->last->closed ? q->last : NULL;
    int64_t room = open ? q->batch_limit - open->size : 0;
    pl_status st = NULL;
    if (!q->split) {
        if ((!open || size > room) && q->num_batches >= q->max_batches) {
            st = full();
        } else {
            if (!open || size > room) open = open_batch(q, now);
            if (!open) {
                st = oom();
            } else {
                tasks[0].offset = 0;
                tasks[0].size = size;
                tasks[0].piece = 0;
                tasks[0].enqueue_ns = now;
                add_task(open, &tasks[0]);
                *used = 1;
            }
        }
    } else {
        /* Pieces: what the open batch still holds, then whole batches. */
        int64_t first = size < room ? size : room;
        int64_t rest = size - first;
        int64_t extra = (rest + q->batch_limit - 1) / q->batch_limit;
        int n = (first > 0 ? 1 : 0) + (int)extra;
        if (q->num_batches + extra > q->max_batches) {
            st = full();
        } else if (n > max_tasks) {
            st = pl_error(PL_INTERNAL, "a task of %lld rows needs %d pieces", (long long)size, n);
        } else {
            int64_t offset = 0;
            for (int i = 0; i < n && !st; i++) {
                int64_t piece = i == 0 && first > 0 ? first : (rest < q->batch_limit ? rest : q->batch_limit);
                if (!(i == 0 && first > 0)) rest -= piece;
                batch *bt = open;
                if (i > 0 || first == 0 || !open) bt = open = open_batch(q, now);
                if (!bt) {
                    /* Pieces already queued will run; the caller waits for them. */
                    st = oom();
                    break;
                }
                tasks[i].offset = offset;
                tasks[i].size = piece;
                tasks[i].piece = i;
                tasks[i].enqueue_ns = now;
                add_task(bt, &tasks[i]);
                offset += piece;
                *used = i + 1;
            }
        }
    }
    if (*used) pthread_cond_signal(&b->work_cv);
    pthread_mutex_unlock(&b->mu);
    return st;
}
