/* Prepared executions: a graph pruned to what a set of fetches needs, with a
 * kernel chosen and prepared for every node, run by a single-threaded
 * dataflow executor with TensorFlow's semantics (dead tensors through
 * Switch/Merge, while-loop frames and iterations).
 *
 * A pl_exec is immutable once prepared: any number of threads may run it at
 * once, each run keeping its own state. Kernels run one at a time within a
 * run (a kernel may use every core itself).
 *
 *     const char *feeds[] = {"x:0"}, *fetches[] = {"y:0"};
 *     pl_exec *e;
 *     PL_TRY(pl_exec_prepare(graph, session, 1, feeds, 1, fetches, 0, NULL, &e));
 *     pl_tensor *y;
 *     PL_TRY(pl_exec_run(e, NULL, &x, &y));
 *     ...
 *     pl_tensor_unref(y);
 *     pl_exec_free(e);
 */
#ifndef PL_RUNTIME_EXECUTOR_H
#define PL_RUNTIME_EXECUTOR_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/status.h"
#include "runtime/graph.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "tensor/tensor.h"

/* One execution. Kernels see it as pl_kernel_ctx.run; nested function calls
 * share their caller's. */
struct pl_run {
    struct pl_session *session;
    int64_t deadline_ns;            /* CLOCK_MONOTONIC; 0: none */
    const atomic_int *cancelled;    /* may be NULL */
    int call_depth;                 /* nested function calls, bounded against runaway recursion */
    void (*on_node)(void *arg, const pl_node_trace *t);  /* see pl_run_options; may be NULL */
    void *on_node_arg;
    struct pl__run_threads *threads;  /* the run's cores, watched between kernels; may be NULL */
    struct pl__run_poll *poll;      /* see pl_run_options.poll; NULL: none */
};

typedef struct pl_exec pl_exec;

/* Prepares `g` to compute `fetches` (tensor names "node:k" or "node") given
 * `feeds` (tensor names whose values the caller supplies), also running the
 * `targets` (node names) for their effects. Only nodes those need are kept.
 * The graph and the session must outlive the execution. */
pl_status pl_exec_prepare(const pl_graph *g, pl_session *session, int num_feeds, const char *const *feeds,
                          int num_fetches, const char *const *fetches, int num_targets,
                          const char *const *targets, pl_exec **out);
void pl_exec_free(pl_exec *e);

/* Runs once. feeds[i] are borrowed; fetched[i] receive new references (on
 * error nothing is returned). opt may be NULL. */
pl_status pl_exec_run(const pl_exec *e, const pl_run_options *opt, pl_tensor *const *feeds, pl_tensor **fetched);
/* The same, inside an existing run (function calls): shares its session,
 * deadline and cancellation. */
pl_status pl_exec_run_nested(const pl_exec *e, struct pl_run *parent, pl_tensor *const *feeds,
                             pl_tensor **fetched);

int pl_exec_num_nodes(const pl_exec *e);  /* nodes kept after pruning */
/* The dtype feed i must have (a placeholder's or constant's dtype), or
 * PL_DT_INVALID when the graph does not say. Runs check it. */
pl_dtype pl_exec_feed_dtype(const pl_exec *e, int i);
/* TensorFlow's error for a feed of the wrong dtype: "Expects arg[i] to be float but int32 is provided". */
pl_status pl_exec_check_feed(const pl_exec *e, int i, const pl_tensor *t, int arg_index);
/* Node i's name and the op it runs ("_PlFusedConv2D" where preparation fused
 * nodes; "_Feed"/"_Fetch" for the run's inputs and outputs): for tests and
 * tools. */
const char *pl_exec_node_name(const pl_exec *e, int i);
const char *pl_exec_node_op(const pl_exec *e, int i);

#endif
