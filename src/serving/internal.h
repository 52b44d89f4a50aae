/* Serving internals shared by the manager, the version source, the state
 * monitor and the request handlers. Nothing here is seen outside src/serving. */
#ifndef PL_SERVING_INTERNAL_H
#define PL_SERVING_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "serving/serving.h"

/* ---- version source: what a poll of a base path finds ---- */

typedef struct pl__aspired {
    int64_t version;
    char *path;
} pl__aspired;

/* Lists the versions `cfg`'s policy aspires to under its base path, highest
 * first. An error (missing base path) means "no information", not "no versions". */
pl_status pl__poll_versions(const pl_model_config *cfg, pl__aspired **out, int *num);
void pl__aspired_free(pl__aspired *a, int num);

/* Parses a version directory name like absl::SimpleAtoi: optional whitespace,
 * optional sign, decimal digits, nothing else; fails on int64 overflow. */
bool pl__parse_version(const char *s, int64_t *out);

/* ---- servable handles ---- */

/* A loaded version. The manager holds one reference while the version is
 * published; each request holds one while it runs. When the count reaches 0
 * the servable goes on the manager's dead list, and the manager thread frees
 * the model: a request never pays for an unload. */
struct pl_servable {
    atomic_int refs;
    pl_serving *owner;
    char *name;
    int64_t version;
    pl_model *model;
    struct pl__servable_batching *batching;  /* NULL: requests run on their own */
    struct pl_servable *next_dead;
};

/* ---- the published view of what can serve ----
 *
 * Rebuilt by the manager whenever a version becomes available or starts
 * unloading, or labels change, and swapped in under the write side of
 * `snap_lock`. A request takes the read side only to find a servable and take
 * a reference on it; it never waits for a load or an unload. */
typedef struct pl__snap_model {
    char *name;
    int num_servables;
    pl_servable **servables;     /* ascending version */
    int num_labels;
    pl_version_label *labels;    /* copies; sorted by label */
} pl__snap_model;

typedef struct pl__snapshot {
    int num_models;
    pl__snap_model *models;      /* sorted by name */
} pl__snapshot;

void pl__snapshot_free(pl__snapshot *snap);

/* ---- the state monitor (ServableStateMonitor) ---- */

typedef struct pl__version_state {
    int64_t version;
    pl_servable_state state;
    pl_status error;             /* kept after a failed load */
    uint64_t seq;                /* event number of the last change */
} pl__version_state;

typedef struct pl__stream {
    char *name;
    int num, cap;
    pl__version_state *versions; /* descending version */
    uint64_t available_seq;      /* last event that made some version AVAILABLE */
    uint64_t end_seq;            /* last event that ended some version */
} pl__stream;

typedef struct pl__monitor {
    int num, cap;
    pl__stream **streams;
    uint64_t seq;
} pl__monitor;

/* Both under pl_serving.mu. */
void pl__monitor_set(pl__monitor *m, const char *name, int64_t version, pl_servable_state state,
                     pl_status error);
pl__stream *pl__monitor_find(pl__monitor *m, const char *name);
void pl__monitor_clear(pl__monitor *m);

/* ---- the manager ---- */

/* Life of one version in the manager (LoaderHarness states). */
typedef enum pl__harness {
    PL__NEW,
    PL__LOADING,
    PL__READY,
    PL__UNLOADING,   /* unpublished; waiting for in-flight requests */
    PL__DISABLED,    /* unloaded */
    PL__ERROR,       /* load failed */
} pl__harness;

typedef struct pl__version {
    int64_t version;
    char *path;
    bool aspired;
    pl__harness harness;
    pl_servable *servable;       /* PL__READY, PL__UNLOADING */
} pl__version;

typedef struct pl__model {
    pl_model_config config;      /* the current config entry */
    bool in_config;              /* false: draining after removal from the config */
    uint64_t config_gen;         /* bumped when base path or policy change */
    bool poll_once_done;         /* for file_system_poll_wait_seconds == 0 */
    bool poll_pending;           /* poll at the next source round */
    bool loading;                /* a load of one of its versions runs on a load thread */
    int num_versions, cap_versions;
    pl__version *versions;
} pl__model;

struct pl_serving {
    pl_serving_options opt;
    char *tags;

    /* Everything below `mu` is guarded by it. */
    pthread_mutex_t mu;
    pthread_cond_t manager_cv;   /* wakes the manager thread */
    pthread_cond_t source_cv;    /* wakes the source thread */
    pthread_cond_t state_cv;     /* broadcast on every state event */
    bool stopping;
    int num_models, cap_models;
    pl__model **models;
    pl__monitor monitor;
    pl_servable *dead;           /* released servables waiting to be freed */
    int load_threads;            /* loads that may run at once; 0: on the manager thread */
    int loads_in_flight;
    int live_servables;          /* created and not yet freed */
    pl_server_config config;     /* the last accepted config */
    bool have_config;

    pthread_mutex_t reload_mu;   /* one config reload at a time */

    pthread_rwlock_t snap_lock;
    pl__snapshot *snap;

    struct pl__batcher *batcher; /* the shared batch scheduler; NULL without batching */
    pl_batching_params batch_params;

    pthread_t manager_thread, source_thread;
    bool threads_started;

    /* config file watcher */
    pthread_cond_t watch_cv;
    pthread_t watch_thread;
    bool watching;
    char *watch_path;
    int watch_seconds;
};

/* ---- loading a version (servable_load.c) ----
 *
 * A version is loaded as TensorFlow Serving's SavedModelBundleFactory does:
 * the model, then its batching queues, then warmup through those queues. The
 * servable is not published yet, so only the loading thread uses it. */
pl_status pl__servable_load(pl_serving *s, const char *name, int64_t version, const char *path,
                            pl_servable **out);
/* Frees the batching queues and the model of a servable nobody holds. */
void pl__servable_unload(pl_serving *s, pl_servable *sv);

/* Session::Run through the version's batching queues when it has them
 * (batch_session.c), else pl_model_run. Same contract as pl_model_run. */
pl_status pl__servable_run(pl_servable *sv, const pl_run_options *run, int num_feeds, const char *const *feed_names,
                           pl_tensor *const *feeds, int num_fetches, const char *const *fetch_names,
                           pl_tensor **fetched);

/* ---- the shared batch scheduler (batch_scheduler.c) ----
 *
 * TensorFlow's SharedBatchScheduler: a pool of threads serving many queues
 * fairly. Each queue collects tasks (a number of rows) into batches and hands
 * a batch to a thread when it is full, when its oldest task has waited
 * batch_timeout_micros, or at once when a thread is idle and the timeout is 0. */
typedef struct pl__batcher pl__batcher;
typedef struct pl__batch_queue pl__batch_queue;

/* One piece of a request in a batch: rows [offset, offset + size) of its inputs. */
typedef struct pl__batch_task {
    int64_t offset, size;
    int64_t enqueue_ns;
    int piece;                   /* index among the pieces of a split request */
    void *owner;                 /* the request; the scheduler never reads it */
    struct pl__batch_task *next; /* in its batch */
} pl__batch_task;

/* Runs a batch and completes its tasks. The tasks belong to waiting callers:
 * once a task is reported done, the callback must not touch it again. */
typedef void (*pl__batch_process_fn)(void *ctx, pl__batch_task **tasks, int num_tasks, int64_t size);

pl_status pl__batcher_create(const pl_batching_params *p, pl__batcher **out);
/* Every queue must have been removed. */
void pl__batcher_free(pl__batcher *b);
const char *pl__batcher_pool_name(const pl__batcher *b);

pl_status pl__batch_queue_add(pl__batcher *b, const pl_batching_params *p, pl__batch_process_fn process, void *ctx,
                              pl__batch_queue **out);
/* Waits for the batches being processed; the queue must hold no task. */
void pl__batch_queue_remove(pl__batch_queue *q);

/* Schedules a request of `size` rows. Without large batch splitting it is one
 * task (tasks[0]); with it, up to `max_tasks` pieces (*used of them) that each
 * fill the batch they join. Fails with INVALID_ARGUMENT "Task size N is
 * larger than maximum input batch size M" or UNAVAILABLE "The batch
 * scheduling queue to which this task was submitted is full". */
pl_status pl__batch_queue_schedule(pl__batch_queue *q, pl__batch_task *tasks, int max_tasks, int64_t size,
                                   int *used);
/* The most pieces a request of `size` rows may be split into. */
int pl__batch_max_pieces(const pl_batching_params *p, int64_t size);

/* ---- batch tensors (batch_tensor.c) ---- */

/* Copies rows [row, row + n) of `src` into `dst` from row `dst_row` on.
 * dst's dims 1+ may be larger than src's (pad_variable_length_inputs): the
 * rest is filled with src's element `pad_index`. Same dtype. */
pl_status pl__rows_copy(pl_tensor *dst, int64_t dst_row, const pl_tensor *src, int64_t row, int64_t n,
                        int64_t pad_index);
/* A new tensor holding rows [row, row + n) of src. */
pl_status pl__rows_slice(const pl_tensor *src, int64_t row, int64_t n, pl_tensor **out);

/* ---- per-version batching (batch_session.c) ---- */

typedef struct pl__servable_batching pl__servable_batching;
pl_status pl__servable_batching_create(pl__batcher *b, const pl_batching_params *p, pl_model *model,
                                       pl__servable_batching **out);
void pl__servable_batching_free(pl__servable_batching *sb);

/* ---- warmup (warmup.c) ---- */

/* Replays <path>/assets.extra/tf_serving_warmup_requests on `sv` (spec 1f). */
pl_status pl__warmup_run(pl_servable *sv, const char *path, int iterations);

/* Rebuilds and swaps the snapshot; call with `mu` held. */
pl_status pl__publish(pl_serving *s);

/* Label map of a model in the current config, or NULL. */
const pl_model_config *pl__config_find(const pl_server_config *c, const char *name);

/* Copies one model config. */
pl_status pl__model_config_copy(const pl_model_config *src, pl_model_config *dst);
void pl__model_config_clear(pl_model_config *c);

/* Builds the DT_STRING [n] tensor of serialized examples (context + example
 * each), INVALID_ARGUMENT "Input is empty." when there are none. */
pl_status pl__examples_tensor(const pl_examples *in, pl_tensor **out);

char *pl__strdup(const char *s);

/* The text of a builder, "" once it failed. */
static inline const char *pl__strbuf_str(const pl_strbuf *b) { return b->failed || !b->data ? "" : b->data; }

/* Joins `names` sorted and deduplicated with ",": "{a,b}" without the braces. */
void pl__strbuf_sorted_set(pl_strbuf *b, const char *const *names, int n);


/* SignatureDef::DebugString-like text of a signature, for error messages. */
void pl__strbuf_signature(pl_strbuf *b, const pl_signature *sig);

#endif
