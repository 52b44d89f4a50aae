/* Batching for one model version: TensorFlow Serving's BatchingSession
 * (batching/batching_session.cc, spec 1e). Every run with the same set of
 * feeds and fetches (a tensor signature) goes to that signature's queue on the
 * shared scheduler; a thread concatenates the queued requests' inputs on
 * dim 0, pads the batch up to an allowed size, runs the model once and cuts
 * the outputs back into each request's rows.
 *
 * The caller of pl__servable_run blocks until its rows are done: its request
 * and tasks live on its stack and heap, and batch threads report completion
 * under `done_mu` and never touch a request after its last piece is done. */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "serving/internal.h"
#include "serving/metrics.h"

typedef struct sig_queue {
    int nin, nout;
    char **inputs;    /* sorted, distinct tensor names */
    char **outputs;
    pl__batch_queue *queue;
    struct pl__servable_batching *owner;
    struct sig_queue *next;
} sig_queue;

struct pl__servable_batching {
    pl__batcher *batcher;
    pl_batching_params params;
    pl_model *model;
    pthread_mutex_t mu;        /* guards `sigs` */
    pthread_mutex_t done_mu;   /* guards every request's completion */
    sig_queue *sigs;
    int num_sigs;
};

/* Each output_filter subset is a signature of its own; past this many
 * queues a version runs further signatures unbatched, so clients cannot
 * grow the queue list without bound. */
#define MAX_QUEUES 256

typedef struct request {
    pl_tensor **inputs;        /* [nin] in the queue's order; borrowed */
    pl_tensor **outputs;       /* [piece * nout + k] in the queue's order */
    int nout;
    int pending;               /* pieces not yet done */
    pl_status status;
    int64_t deadline_ns;
    pthread_cond_t cv;
} request;

/* ---- metrics (batching_session.cc) ---- */

static pl_metric *queuing_latency, *wrapped_run_count;
static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;

static void metrics_init(void) {
    pl_metrics *r = pl_metrics_default();
    /* Scale of 100, power of 1.2 with bucket count 52 (~1 second). */
    double buckets[52];
    pl_metrics_exponential_buckets(100, 1.2, 52, buckets);
    static const char *const labels[] = {"thread_pool_name"};
    queuing_latency = pl_metrics_histogram(r, "/tensorflow/serving/batching_session/queuing_latency",
                                           "Distribution of wall time spent (in microseconds) in queuing", 1, labels,
                                           52, buckets);
    wrapped_run_count = pl_metrics_counter(r, "/tensorflow/serving/batching_session/wrapped_run_count",
                                           "Total count of run calls on the wrapped session", 0, NULL);
}

/* ---- tensor signatures ---- */

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted, distinct copy of the names (pointers into the caller's strings). */
static const char **name_set(const char *const *names, int n, int *out_n) {
    const char **set = malloc(sizeof *set * (size_t)(n > 0 ? n : 1));
    if (!set) return NULL;
    memcpy(set, names, sizeof *set * (size_t)n);
    if (n > 1) qsort(set, (size_t)n, sizeof *set, cmp_cstr);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || strcmp(set[m - 1], set[i])) set[m++] = set[i];
    *out_n = m;
    return set;
}

static bool same_set(char *const *a, int na, const char *const *b, int nb) {
    if (na != nb) return false;
    for (int i = 0; i < na; i++)
        if (strcmp(a[i], b[i])) return false;
    return true;
}

static int index_of(char *const *set, int n, const char *name) {
    char *const *hit = n ? bsearch(&name, set, (size_t)n, sizeof *set, cmp_cstr) : NULL;
    return hit ? (int)(hit - set) : -1;
}

static void sig_free(sig_queue *sq) {
    if (!sq) return;
    pl__batch_queue_remove(sq->queue);
    for (int i = 0; i < sq->nin; i++) free(sq->inputs[i]);
    for (int i = 0; i < sq->nout; i++) free(sq->outputs[i]);
    free(sq->inputs);
    free(sq->outputs);
    free(sq);
}

static void process(void *ctx, pl__batch_task **tasks, int num_tasks, int64_t size);

/* A queue for this signature; with sb->mu. `in` and `out` are name sets. */
static pl_status sig_add(pl__servable_batching *sb, const char *const *in, int nin, const char *const *out, int nout,
                         sig_queue **res) {
    sig_queue *sq = calloc(1, sizeof *sq);
    if (!sq) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    sq->owner = sb;
    sq->inputs = calloc((size_t)nin + 1, sizeof *sq->inputs);
    sq->outputs = calloc((size_t)nout + 1, sizeof *sq->outputs);
    bool ok = sq->inputs && sq->outputs;
    for (int i = 0; ok && i < nin; i++) ok = (sq->inputs[sq->nin++] = pl__strdup(in[i])) != NULL;
    for (int i = 0; ok && i < nout; i++) ok = (sq->outputs[sq->nout++] = pl__strdup(out[i])) != NULL;
    pl_status st = ok ? pl__batch_queue_add(sb->batcher, &sb->params, process, sq, &sq->queue)
                      : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (st) {
        sig_free(sq);
        return st;
    }
    sq->next = sb->sigs;
    sb->sigs = sq;
    sb->num_sigs++;
    *res = sq;
    return NULL;
}

/* The queue of a run's signature, made on first use as TensorFlow Serving's
 * default scheduler creator does for signatures the model does not declare;
 * NULL past MAX_QUEUES. */
static pl_status sig_find(pl__servable_batching *sb, const char *const *feeds, int nf, const char *const *fetches,
                          int nt, sig_queue **out) {
    int nin, nout;
    const char **in = name_set(feeds, nf, &nin), **outs = name_set(fetches, nt, &nout);
    pl_status st = NULL;
    *out = NULL;
    if (!in || !outs) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pthread_mutex_lock(&sb->mu);
    for (sig_queue *sq = sb->sigs; !st && sq && !*out; sq = sq->next)
        if (same_set(sq->inputs, sq->nin, in, nin) && same_set(sq->outputs, sq->nout, outs, nout)) *out = sq;
    if (!st && !*out && sb->num_sigs < MAX_QUEUES) st = sig_add(sb, in, nin, outs, nout, out);
    pthread_mutex_unlock(&sb->mu);
    free(in);
    free(outs);
    return st;
}

/* ---- processing a batch (on a scheduler thread) ---- */

/* RoundToLowestAllowedBatchSize. */
static int64_t padded_size(const pl_batching_params *p, int64_t size) {
    for (int i = 0; i < p->num_allowed_batch_sizes; i++)
        if (p->allowed_batch_sizes[i] >= size) return p->allowed_batch_sizes[i];
    return size;
}

static int64_t row_elems(const pl_tensor *t) {
    int64_t n = 1;
    for (int d = 1; d < t->rank; d++) n *= t->dims[d];
    return n;
}

/* MergeInputTensors for input i. */
static pl_status merge_input(const sig_queue *sq, pl__batch_task **tasks, int n, int64_t padded, int i,
                             pl_tensor **out) {
    const pl_batching_params *p = &sq->owner->params;
    const pl_tensor *first = ((request *)tasks[0]->owner)->inputs[i];
    int64_t dims[PL_MAX_RANK];
    memcpy(dims, first->dims, sizeof dims);
    dims[0] = padded;
    for (int t = 1; t < n; t++) {
        const pl_tensor *x = ((request *)tasks[t]->owner)->inputs[i];
        if (x->dtype != first->dtype)
            return pl_error(PL_INTERNAL, "Tensor concat operation failed: inputs of %s have different types",
                            sq->inputs[i]);
        bool same = x->rank == first->rank;
        for (int d = 1; same && d < x->rank; d++) {
            if (p->pad_variable_length_inputs) {
                if (x->dims[d] > dims[d]) dims[d] = x->dims[d];
            } else {
                same = x->dims[d] == first->dims[d];
            }
        }
        if (!same)
            return pl_error(PL_FAILED_PRECONDITION,
                            "Tensors with name '%s' from different tasks have different shapes and padding is turned "
                            "off. Set pad_variable_length_inputs to true, or ensure that all tensors with the same "
                            "name have equal dimensions starting with the first dim.",
                            sq->inputs[i]);
    }
    pl_tensor *m;
    PL_TRY(pl_tensor_alloc(first->dtype, first->rank, dims, &m));
    pl_status st = NULL;
    int64_t row = 0;
    for (int t = 0; t < n && !st; t++) {
        const pl_tensor *x = ((request *)tasks[t]->owner)->inputs[i];
        st = pl__rows_copy(m, row, x, tasks[t]->offset, tasks[t]->size, tasks[t]->offset * row_elems(x));
        row += tasks[t]->size;
    }
    /* Padding rows repeat the last task's first row: a valid input row. */
    const pl__batch_task *last = tasks[n - 1];
    const pl_tensor *lx = ((request *)last->owner)->inputs[i];
    for (; row < padded && !st; row++) st = pl__rows_copy(m, row, lx, last->offset, 1, last->offset * row_elems(lx));
    if (st) {
        pl_tensor_unref(m);
        return st;
    }
    *out = m;
    return NULL;
}

/* Merges, runs and splits; on success outs[t * nout + k] gets task t's rows
 * of output k. */
static pl_status run_batch(sig_queue *sq, pl__batch_task **tasks, int n, int64_t size, int64_t deadline_ns,
                           pl_tensor **outs) {
    pl__servable_batching *sb = sq->owner;
    int64_t padded = padded_size(&sb->params, size);
    pl_tensor **merged = calloc((size_t)(sq->nin + sq->nout) + 1, sizeof *merged);
    if (!merged) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_tensor **fetched = merged + sq->nin;
    pl_status st = NULL;
    pl_log_debug("Batch of %d task(s), %lld row(s) padded to %lld, feeding %s", n, (long long)size,
                 (long long)padded, sq->inputs[0]);
    for (int i = 0; i < sq->nin && !st; i++) st = merge_input(sq, tasks, n, padded, i, &merged[i]);
    if (!st) {
        pl_run_options run = {.deadline_ns = deadline_ns};
        st = pl_model_run(sb->model, &run, sq->nin, (const char *const *)sq->inputs, merged, sq->nout,
                          (const char *const *)sq->outputs, fetched);
        pl_metric_add(wrapped_run_count, NULL, 1);
        if (st) memset(fetched, 0, sizeof *fetched * (size_t)sq->nout);
    }
    for (int k = 0; k < sq->nout && !st; k++) {
        const pl_tensor *y = fetched[k];
        if (y->rank == 0) {
            st = pl_error(PL_FAILED_PRECONDITION, "Batched output tensor has 0 dimensions");
        } else if (y->dims[0] != padded) {
            st = pl_error(PL_FAILED_PRECONDITION, "Batched output tensor's 0th dimension does not equal the sum of "
                                                  "the 0th dimension sizes of the input tensors");
        }
        int64_t row = 0;
        for (int t = 0; t < n && !st; t++) {
            st = pl__rows_slice(y, row, tasks[t]->size, &outs[t * sq->nout + k]);
            row += tasks[t]->size;
        }
    }
    for (int i = 0; i < sq->nin + sq->nout; i++) pl_tensor_unref(merged[i]);
    free(merged);
    return st;
}

static void process(void *ctx, pl__batch_task **tasks, int n, int64_t size) {
    sig_queue *sq = ctx;
    pl__servable_batching *sb = sq->owner;
    pthread_once(&metrics_once, metrics_init);
    int64_t now = pl_clock_now_ns();
    /* The batch runs until the latest deadline among its tasks; tasks that
     * waited past their own deadline alone do not keep it alive. */
    bool all_expired = true, unbounded = false;
    int64_t deadline = 0;
    const char *pool[] = {""};  /* TF Serving names the BatchingSession's pool "" */
    for (int t = 0; t < n; t++) {
        const request *r = tasks[t]->owner;
        pl_metric_observe(queuing_latency, pool, (double)(now - tasks[t]->enqueue_ns) / 1000.0);
        if (r->deadline_ns == 0) {
            unbounded = true;
            all_expired = false;
        } else if (r->deadline_ns > now) {
            all_expired = false;
            if (r->deadline_ns > deadline) deadline = r->deadline_ns;
        }
    }
    pl_tensor **outs = calloc((size_t)n * (size_t)sq->nout + 1, sizeof *outs);
    pl_status st = NULL;
    if (!outs)
        st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    else if (all_expired)
        st = pl_error(PL_RESOURCE_EXHAUSTED, "Run() timeout exceeded while waiting in batching queue");
    else
        st = run_batch(sq, tasks, n, size, unbounded ? 0 : deadline, outs);

    pthread_mutex_lock(&sb->done_mu);
    for (int t = 0; t < n; t++) {
        request *r = tasks[t]->owner;
        for (int k = 0; k < sq->nout; k++) {
            pl_tensor *y = outs ? outs[t * sq->nout + k] : NULL;
            if (st || r->status)
                pl_tensor_unref(y);
            else
                r->outputs[tasks[t]->piece * sq->nout + k] = y;
        }
        if (st && !r->status) r->status = pl_error(pl_status_code(st), "%s", pl_status_message(st));
        if (--r->pending == 0) pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&sb->done_mu);
    pl_status_free(st);
    free(outs);
}

/* ---- the caller's side ---- */

/* ComputeTensorBatchSize. */
static pl_status task_size(int n, pl_tensor *const *feeds, int64_t *size) {
    if (n == 0) return pl_error(PL_INVALID_ARGUMENT, "Batching Run() must have at least one input tensor");
    for (int i = 0; i < n; i++) {
        if (feeds[i]->rank == 0)
            return pl_error(PL_INVALID_ARGUMENT, "Batching Run() input tensors must have at least one dimension");
        if (i == 0)
            *size = feeds[i]->dims[0];
        else if (feeds[i]->dims[0] != *size)
            return pl_error(PL_INVALID_ARGUMENT, "Batching Run() input tensors must have equal 0th-dimension size");
    }
    return NULL;
}

/* The pieces of a split request, back into one tensor per output. */
static pl_status join_pieces(pl_tensor **pieces, int used, int nout, int k, pl_tensor **out) {
    const pl_tensor *p0 = pieces[k];
    int64_t dims[PL_MAX_RANK];
    memcpy(dims, p0->dims, sizeof dims);
    dims[0] = 0;
    for (int i = 0; i < used; i++) dims[0] += pieces[i * nout + k]->dims[0];
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(p0->dtype, p0->rank, dims, &t));
    int64_t row = 0;
    for (int i = 0; i < used; i++) {
        const pl_tensor *x = pieces[i * nout + k];
        bool same = x->rank == p0->rank && x->dtype == p0->dtype;
        for (int d = 1; same && d < x->rank; d++) same = x->dims[d] == p0->dims[d];
        pl_status st = same ? pl__rows_copy(t, row, x, 0, x->dims[0], 0)
                            : pl_error(PL_INTERNAL, "Tensor concat operation failed: pieces of different shapes");
        if (st) {
            pl_tensor_unref(t);
            return st;
        }
        row += x->dims[0];
    }
    *out = t;
    return NULL;
}

static pl_status batched_run(pl__servable_batching *sb, sig_queue *sq, const pl_run_options *run, int nf,
                             const char *const *feed_names, pl_tensor *const *feeds, int nt,
                             const char *const *fetch_names, pl_tensor **fetched, int64_t size) {
    int max = pl__batch_max_pieces(&sb->params, size);
    request r = {.nout = sq->nout, .pending = max, .deadline_ns = run ? run->deadline_ns : 0};
    r.inputs = calloc((size_t)sq->nin + 1, sizeof *r.inputs);
    r.outputs = calloc((size_t)max * (size_t)sq->nout + 1, sizeof *r.outputs);
    pl__batch_task *tasks = calloc((size_t)max, sizeof *tasks);
    if (!r.inputs || !r.outputs || !tasks) {
        free(r.inputs);
        free(r.outputs);
        free(tasks);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (int i = 0; i < nf; i++) r.inputs[index_of(sq->inputs, sq->nin, feed_names[i])] = feeds[i];
    for (int i = 0; i < max; i++) tasks[i].owner = &r;
    pthread_cond_init(&r.cv, NULL);
    int used = 0;
    pl_status st = pl__batch_queue_schedule(sq->queue, tasks, max, size, &used);
    pthread_mutex_lock(&sb->done_mu);
    r.pending -= max - used;
    while (r.pending > 0) pthread_cond_wait(&r.cv, &sb->done_mu);
    pthread_mutex_unlock(&sb->done_mu);
    pthread_cond_destroy(&r.cv);
    if (!st) st = r.status;
    else pl_status_free(r.status);
    for (int j = 0; j < nt && !st; j++) {
        int k = index_of(sq->outputs, sq->nout, fetch_names[j]);
        if (used == 1)
            fetched[j] = pl_tensor_ref(r.outputs[k]);
        else
            st = join_pieces(r.outputs, used, sq->nout, k, &fetched[j]);
        if (st)
            for (int u = 0; u < j; u++) {
                pl_tensor_unref(fetched[u]);
                fetched[u] = NULL;
            }
    }
    for (int i = 0; i < max * sq->nout; i++) pl_tensor_unref(r.outputs[i]);
    free(r.inputs);
    free(r.outputs);
    free(tasks);
    return st;
}

static pl_status servable_run(pl_servable *sv, const pl_run_options *run, int num_feeds, const char *const *feed_names,
                              pl_tensor *const *feeds, int num_fetches, const char *const *fetch_names,
                              pl_tensor **fetched) {
    pl__servable_batching *sb = sv->batching;
    if (!sb || num_fetches == 0)
        return pl_model_run(sv->model, run, num_feeds, feed_names, feeds, num_fetches, fetch_names, fetched);
    pthread_once(&metrics_once, metrics_init);
    int64_t size = 0;
    PL_TRY(task_size(num_feeds, feeds, &size));
    /* Nothing to gather: an empty batch runs as it is. */
    if (size == 0) return pl_model_run(sv->model, run, num_feeds, feed_names, feeds, num_fetches, fetch_names, fetched);
    sig_queue *sq;
    PL_TRY(sig_find(sb, feed_names, num_feeds, fetch_names, num_fetches, &sq));
    if (!sq) return pl_model_run(sv->model, run, num_feeds, feed_names, feeds, num_fetches, fetch_names, fetched);
    return batched_run(sb, sq, run, num_feeds, feed_names, feeds, num_fetches, fetch_names, fetched, size);
}

pl_status pl__servable_run(pl_servable *sv, const pl_run_options *run, int num_feeds, const char *const *feed_names,
                           pl_tensor *const *feeds, int num_fetches, const char *const *fetch_names,
                           pl_tensor **fetched) {
    if (!run || !run->take_feeds || !sv->batching)
        return servable_run(sv, run, num_feeds, feed_names, feeds, num_fetches, fetch_names, fetched);
    /* Batches copy their rows out of the feeds: nothing to gain from handing them over. */
    pl_run_options kept = *run;
    kept.take_feeds = false;
    pl_status st = servable_run(sv, &kept, num_feeds, feed_names, feeds, num_fetches, fetch_names, fetched);
    for (int i = 0; i < num_feeds; i++) pl_tensor_unref(feeds[i]);
    return st;
}

/* ---- lifetime ---- */

void pl__servable_batching_free(pl__servable_batching *sb) {
    if (!sb) return;
    for (sig_queue *sq = sb->sigs, *next; sq; sq = next) {
        next = sq->next;
        sig_free(sq);
    }
    pthread_mutex_destroy(&sb->mu);
    pthread_mutex_destroy(&sb->done_mu);
    pl_batching_params_clear(&sb->params);
    free(sb);
}

/* WrapSessionForBatching's check, then a queue for each of the model's
 * signatures, so that a bad queue option fails the load as in TF Serving. */
pl_status pl__servable_batching_create(pl__batcher *b, const pl_batching_params *p, pl_model *model,
                                       pl__servable_batching **out) {
    *out = NULL;
    if (p->num_allowed_batch_sizes > 0 && p->allowed_batch_sizes[p->num_allowed_batch_sizes - 1] != p->max_batch_size)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Last entry in allowed_batch_sizes must match max_batch_size; last entry was %lld; "
                        "expected %lld",
                        (long long)p->allowed_batch_sizes[p->num_allowed_batch_sizes - 1],
                        (long long)p->max_batch_size);
    pl_log_info("Wrapping session to perform batch processing");
    pl__servable_batching *sb = calloc(1, sizeof *sb);
    if (!sb) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    sb->batcher = b;
    sb->model = model;
    pthread_mutex_init(&sb->mu, NULL);
    pthread_mutex_init(&sb->done_mu, NULL);
    pl_status st = pl_batching_params_copy(p, &sb->params);
    if (st) {
        free(sb);
        return st;
    }
    int n = pl_model_num_signatures(model);
    for (int i = 0; i < n && !st; i++) {
        const pl_signature *sig = pl_model_signature(model, i);
        const char **names = calloc((size_t)(sig->num_inputs + sig->num_outputs) + 1, sizeof *names);
        if (!names) {
            st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            break;
        }
        for (int j = 0; j < sig->num_inputs; j++) names[j] = sig->inputs[j].tensor_name;
        for (int j = 0; j < sig->num_outputs; j++) names[sig->num_inputs + j] = sig->outputs[j].tensor_name;
        sig_queue *sq;
        st = sig_find(sb, names, sig->num_inputs, names + sig->num_inputs, sig->num_outputs, &sq);
        free(names);
    }
    if (st) {
        pl__servable_batching_free(sb);
        return st;
    }
    *out = sb;
    return NULL;
}
