/* Declarations shared between the runtime's files; not for other modules. */
#ifndef PL_RUNTIME_INTERNAL_H
#define PL_RUNTIME_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/kernel.h"
#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "tensorflow/core/framework/attr_value.pb-c.h"
#include "tensorflow/core/framework/tensor.pb-c.h"

/* ---- attributes (attrs.c) ---- */

typedef struct pl__attr {
    const char *name;
    const Tensorflow__AttrValue *value;
    pl_dtype *types;               /* list(type), converted at import */
    _Atomic(pl_tensor *) tensor;   /* a tensor attr, converted on first use and shared */
} pl__attr;

struct pl_attrs {
    int n;
    pl__attr *items;
};

/* Builds an attr map over `n` (key, value) pairs; the values must outlive it. */
pl_status pl__attrs_init(pl_attrs *a, size_t n, const char *const *keys,
                         const Tensorflow__AttrValue *const *values);
void pl__attrs_deinit(pl_attrs *a);
const Tensorflow__AttrValue *pl__attrs_get(const pl_attrs *a, const char *name);

/* ---- name lookup (name_map.c): open addressing over node names ---- */

typedef struct pl__name_map {
    size_t cap;       /* power of two */
    int *slots;       /* node index + 1; 0 is empty */
} pl__name_map;

pl_status pl__name_map_build(pl__name_map *m, int n, const char *(*name_of)(void *arg, int i), void *arg);
int pl__name_map_find(const pl__name_map *m, const char *name, size_t len,
                      const char *(*name_of)(void *arg, int i), void *arg);
void pl__name_map_free(pl__name_map *m);

/* ---- graph structure (graph.c, graph_frames.c) ---- */

enum {
    PL__FRAME_ROOT = 0,
};

/* What the executor and the frame analysis need to know of a node's op. */
typedef enum pl__node_kind {
    PL__KIND_OP = 0,
    PL__KIND_SWITCH,
    PL__KIND_MERGE,
    PL__KIND_ENTER,
    PL__KIND_EXIT,
    PL__KIND_NEXT_ITERATION,
    PL__KIND_LOOP_COND,
    PL__KIND_CONTROL_TRIGGER,
} pl__node_kind;

pl__node_kind pl__op_kind(const char *op);

/* Loop frames found by the frame analysis. Frame 0 is the root. */
typedef struct pl__frame_info {
    char *name;              /* Enter's frame_name; "" for the root */
    int parent;              /* -1 for the root */
    int parallel_iterations; /* from the first Enter seen */
} pl__frame_info;

struct pl_graph {
    Tensorflow__GraphDef *def;
    bool owns_def;
    int num_nodes;
    pl_node *nodes;
    pl_attrs *attrs;              /* one per node */
    pl__node_kind *kinds;         /* one per node */
    pl__name_map names;
    int num_frames;
    pl__frame_info *frames;
    int *node_frame;              /* the frame each node runs in */
    int *out_frame;               /* the frame its outputs flow into (differs for Enter and Exit) */
    struct pl_function_lib *lib;  /* the GraphDef's function library (NULL when empty) */
    bool owns_lib;                /* false for function bodies, which share their caller's */
    pl_endpoint *endpoint_pool;   /* storage behind nodes[i].inputs */
    int *control_pool;            /* storage behind nodes[i].controls */
};

/* Refuses a node with fewer or more data inputs than its op takes (op_arity.c). */
pl_status pl__check_arity(const char *op, const char *node, int num_inputs);

/* Checks for cycles outside loops and assigns every node its loop frame. */
pl_status pl__graph_analyze(pl_graph *g);

/* ---- prepared executions (exec_prepare.c, exec_run.c) ---- */

typedef enum pl__xrole {
    PL__XN_NODE = 0, /* a graph node */
    PL__XN_FEED,     /* emits the run's feed `io_index` */
    PL__XN_FETCH,    /* stores its input as the run's fetch `io_index` */
} pl__xrole;

typedef struct pl__xedge {
    int dst;       /* execution node */
    int dst_slot;  /* absolute input slot in dst's frame */
    int src_slot;  /* output index of the source */
} pl__xedge;

typedef struct pl__xnode {
    const char *name;
    const pl_node *node;          /* NULL for feeds and fetches */
    pl__xrole role;
    pl__node_kind kind;
    int io_index;
    const pl_kernel_def *kernel;  /* PL__KIND_OP only */
    void *state;
    int num_inputs, num_outputs;
    int frame;                    /* static frame (graph frame id) the node runs in */
    int local;                    /* index among its frame's nodes */
    int input_base;               /* first input slot in its frame */
    int child_frame;              /* Enter: the frame it enters */
    bool constant_enter;          /* Enter with is_constant: a loop invariant */
    int initial_pending;
    int num_out_edges;
    pl__xedge *out_edges;
    int num_out_controls;
    int *out_controls;
} pl__xnode;

typedef struct pl__xframe {
    int parent;
    int num_nodes;
    int num_slots;                /* input slots per iteration */
    int num_enters;               /* Enter nodes leading into the frame */
    int parallel_iterations;
    int *initial_pending;         /* per local node */
    const char *name;
} pl__xframe;

struct pl_exec {
    const pl_graph *graph;
    pl_session *session;
    int num_nodes;
    pl__xnode *nodes;
    int num_frames;
    pl__xframe *frames;
    int num_feeds, num_fetches;
    pl_dtype *feed_dtypes;          /* what each feed must be (PL_DT_INVALID: not known) */
    int num_roots;
    int *roots;
    int max_outputs;
    pl__xedge *edge_pool;
    int *control_pool;
    struct pl__rewrites *rewrites;  /* nodes the preparation rewrote (rewrite_*.c) */
};

/* Runs one node's kernel on known inputs, outside any execution (eval.c);
 * outputs[0..num_outputs) receive new references (NULL where the kernel set none). */
pl_status pl__eval_node(const pl_node *n, const pl_kernel_def *k, struct pl_function_lib *lib, pl_session *session,
                        pl_tensor *const *inputs, int num_outputs, pl_tensor **outputs);

/* Runs `e` within `run`; fetched[i] get new references. */
/* taken_feeds: the run's own references to feeds, which _Feed nodes move
 * out (pl_run_options.take_feeds); NULL when the caller keeps them. */
pl_status pl__exec_execute(const pl_exec *e, struct pl_run *run, pl_tensor *const *feeds, pl_tensor **taken_feeds,
                           pl_tensor **fetched);
/* Releases tensors kernels allocated at output indices their node does not expose. */
void pl__ctx_release_dropped(void);

/* ---- cores per run (run_threads.c) ---- */

/* One run's use of cores. */
typedef struct pl__run_threads {
    int before;              /* the OpenMP thread count to restore */
    int team;                /* threads the run uses now */
    int64_t next_check_ns;   /* the contention watch's next look */
    int64_t since_ns, waited_since_ns;  /* its last mark; waited_since_ns < 0: none yet */
} pl__run_threads;

/* Chooses the OpenMP threads the calling thread's run may use: all, or one
 * when another run is in flight, the machine is oversubscribed, or a recent
 * run found its team starved of CPU. */
void pl__run_threads_begin(pl__run_threads *t);
/* Called between kernels: a team run whose thread waits for a core a third
 * of the time or more (other processes took the cores) goes on with one
 * thread, and so do the runs of the next 250 ms. Costs a clock read. */
void pl__run_threads_check(pl__run_threads *t);
void pl__run_threads_end(const pl__run_threads *t);

/* ---- graph rewrites at preparation (rewrite_*.c) ---- */

/* What a rewrite sees of one preparation. view[i] is the node the execution
 * uses for graph node i; a rewrite may point it at a node of its own (a fused
 * node keeps the name of the node whose output it replaces, so fetches and
 * consumers are unchanged). needed[i] says whether node i is kept; fed and
 * fetched endpoints are never absorbed into a fused node. */
typedef struct pl__rewrite_ctx {
    const pl_graph *g;
    const pl_node **view;
    const bool *needed;
    int num_feeds;
    const pl_endpoint *feeds;
    int num_fetches;
    const pl_endpoint *fetches;
} pl__rewrite_ctx;

typedef struct pl__rewrites pl__rewrites;
/* Fuses convolution + bias + PReLU chains and PReLU patterns into single
 * nodes (rewrite_fuse.c); *out owns the new nodes (NULL when none). */
pl_status pl__rewrite_fuse(pl__rewrite_ctx *c, pl__rewrites **out);
void pl__rewrites_free(pl__rewrites *r);

/* ---- shape and type inference (shape_infer.c) ---- */

/* What is known of one tensor before running: dtype (PL_DT_INVALID when
 * unknown), rank (-1 unknown) and dims (-1 unknown). */
typedef struct pl__tensor_type {
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
} pl__tensor_type;

/* Infers every node output of `g` in TensorFlow's way (one pass in
 * topological order; loop back edges count as unknown). (*out)[i] points at
 * node i's outputs, pl_graph_node(g, i)->num_outputs of them; free with
 * pl__types_free(*out, g). */
pl_status pl__infer_types(const pl_graph *g, pl__tensor_type ***out);
void pl__types_free(pl__tensor_type **types, const pl_graph *g);

/* The inference context one op's shape function sees (shape_fns.c). */
typedef struct pl__infer pl__infer;
struct pl__infer {
    void *state;                        /* the whole pass (shape_infer.c) */
    const pl_graph *g;
    int node;
    const pl_node *n;
    int producer;                       /* GraphDef producer version */
    const pl__tensor_type *const *in;   /* num_inputs entries */
    pl__tensor_type *out;               /* n->num_outputs entries, preset to unknown */
};

/* A constant input's value (borrowed; NULL when not statically known), the
 * way TensorFlow's shape refiner evaluates constant subgraphs. */
const pl_tensor *pl__infer_input_value(pl__infer *c, int i);
/* InferenceContext::MakeShapeFromShapeTensor for input i, with the shape
 * refiner's partial evaluation of shape vectors (Shape, Pack, ConcatV2,
 * StridedSlice, Cast). */
pl_status pl__infer_input_as_shape(pl__infer *c, int i, pl__tensor_type *out);

typedef pl_status (*pl__shape_fn)(pl__infer *c);
/* InferenceContext::Subshape(s, start, end, stride). */
pl_status pl__subshape(const pl__tensor_type *s, int64_t start, int64_t end, int64_t stride, pl__tensor_type *out);
/* The shape function of an op, or NULL (outputs stay unknown). */
pl__shape_fn pl__shape_fn_find(const char *op);

/* ---- models (model.c) ---- */

/* Wraps a loaded graph as a model, taking over graph, session and the
 * signatures array whatever happens. Every string and array inside the
 * signatures is malloc'd and freed by the model. The signatures are prepared
 * at once; with `strict` one that cannot be prepared fails the load. */
pl_status pl__model_new(const char *format, pl_graph *graph, pl_session *session, pl_signature *signatures,
                        int num_signatures, bool strict, pl_model **out);
void pl__signature_clear(pl_signature *sig);
/* One error naming every op of the graph that has no kernel (each op once,
 * with the first node using it), as TensorFlow fails an import. */
pl_status pl__graph_check_ops(const pl_graph *g);

/* ---- models built elsewhere in the runtime ---- */

/* Reads `dir`/signature.pbtxt, a frozen graph's own signatures
 * (model_sidecar.c); *found is false (and nothing returned) when there is none. */
pl_status pl__graphdef_sidecar(const pl_graph *g, pl__tensor_type **types, const char *dir, pl_signature **sigs,
                               int *num_sigs, bool *found);

/* Loads a frozen GraphDef: a .pb file or a directory holding exactly one
 * (model_graphdef.c). */
pl_status pl__graphdef_model_load(const char *path, pl_model **out);

#endif
