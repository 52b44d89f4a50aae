/* A loaded model: what serving sees of the runtime.
 *
 * pl_model_load() reads a SavedModel directory, a directory holding one frozen
 * GraphDef (.pb), or a .pb file; restores variables, runs init ops and
 * prepares the graph. pl_model_run() is Session::Run: feed tensors by name
 * ("x:0"), fetch tensors by name. It is safe to call from many threads at once.
 *
 *     pl_model *m;
 *     PL_TRY(pl_model_load("/models/half_plus_two/123", NULL, &m));
 *     const pl_signature *sig = pl_model_find_signature(m, "serving_default");
 *     const char *feed = sig->inputs[0].tensor_name, *fetch = sig->outputs[0].tensor_name;
 *     pl_tensor *y;
 *     PL_TRY(pl_model_run(m, NULL, 1, &feed, &x, 1, &fetch, &y));
 *     ...
 *     pl_tensor_unref(y);
 *     pl_model_free(m);
 */
#ifndef PL_RUNTIME_MODEL_H
#define PL_RUNTIME_MODEL_H

#include <stdint.h>

#include "base/status.h"
#include "tensor/tensor.h"

/* TensorInfo of a signature input or output. */
typedef struct pl_tensor_info {
    char *alias;        /* key in the signature's inputs/outputs map */
    char *tensor_name;  /* "x:0" */
    pl_dtype dtype;
    int rank;           /* -1: unknown rank */
    int64_t dims[PL_MAX_RANK]; /* -1: unknown dim */
} pl_tensor_info;

typedef struct pl_signature {
    char *key;          /* "serving_default" */
    char *method_name;  /* "tensorflow/serving/predict" */
    int num_inputs;
    pl_tensor_info *inputs;   /* sorted by alias */
    int num_outputs;
    pl_tensor_info *outputs;  /* sorted by alias */
} pl_signature;

typedef struct pl_model_options {
    const char *tags;   /* comma-separated MetaGraph tags; NULL means "serve" */
} pl_model_options;

/* One kernel that ran, as profiling sees it: its tensors are borrowed for the
 * duration of the callback. */
typedef struct pl_node_trace {
    const char *name, *op;
    int num_inputs;
    pl_tensor *const *inputs;
    int num_outputs;
    pl_tensor *const *outputs;   /* NULL entries for outputs not produced */
    int64_t ns;                  /* time inside the kernel */
    double flops;                /* 2 x multiply-adds, when the kernel reports them; else 0 */
} pl_node_trace;

typedef struct pl_run_options {
    int64_t deadline_ns;        /* CLOCK_MONOTONIC; 0 means none */
    const atomic_int *cancelled; /* set non-zero to stop the run; may be NULL */
    /* Called after every kernel that ran (profiling, benchmarks); may be NULL. */
    void (*on_node)(void *arg, const pl_node_trace *t);
    void *on_node_arg;
    /* Called between kernels once at least poll_every_ns (> 0) has passed
     * since the run began or since the previous call, so that a caller can
     * look at the outside world (a client that left) during a long run; a run
     * shorter than poll_every_ns never calls it. It runs on the thread
     * running the graph, never on two threads at once, and may set
     * *cancelled. May be NULL. */
    void (*poll)(void *arg);
    void *poll_arg;
    int64_t poll_every_ns;
    /* The run takes over the caller's references to the feeds, whatever it
     * returns, and drops each as soon as the graph is done with it: a feed
     * nobody else holds can then be overwritten in place (the normalised
     * image over the request's image) or freed mid-run. */
    bool take_feeds;
} pl_run_options;

typedef struct pl_model pl_model;

pl_status pl_model_load(const char *path, const pl_model_options *opt, pl_model **out);
void pl_model_free(pl_model *m);

/* "tensorflow_savedmodel" or "tensorflow_graphdef". */
const char *pl_model_format(const pl_model *m);
int pl_model_num_signatures(const pl_model *m);
const pl_signature *pl_model_signature(const pl_model *m, int i);  /* sorted by key */
const pl_signature *pl_model_find_signature(const pl_model *m, const char *key);

/* Runs the graph. fetched[i] receives a new reference; on error nothing is returned. */
pl_status pl_model_run(pl_model *m, const pl_run_options *opt, int num_feeds, const char *const *feed_names,
                       pl_tensor *const *feeds, int num_fetches, const char *const *fetch_names,
                       pl_tensor **fetched);

#endif
