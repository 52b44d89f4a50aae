/* Preparing an execution: resolve feeds and fetches, prune the graph to what
 * they need, lay out each loop frame's input slots and pending counts, and
 * choose and prepare a kernel for every node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/function.h"
#include "runtime/internal.h"

/* Iterations of one loop run at once at most; TensorFlow's default is 10 and
 * results do not depend on it, only memory does. */
#define MAX_PARALLEL_ITERATIONS 32

typedef struct builder {
    const pl_graph *g;
    pl_exec *e;
    int num_feeds;
    pl_endpoint *feeds;
    int num_fetches;
    pl_endpoint *fetches;
    int num_targets;
    int *targets;
    bool *has_fed_output;   /* per graph node */
    int *map;               /* graph node -> execution node, or -1 */
    const pl_node **view;   /* graph node -> the node to run (rewrites replace some) */
    pl_tensor ***folded;    /* per graph node: its outputs, computed at prepare time, or NULL */
    int *outputs;           /* per graph node: outputs consumers or fetches use */
} builder;

static int fed_index(const builder *b, pl_endpoint ep) {
    if (!b->has_fed_output[ep.node]) return -1;
    for (int i = 0; i < b->num_feeds; i++)
        if (b->feeds[i].node == ep.node && b->feeds[i].index == ep.index) return i;
    return -1;
}

static pl_status resolve(builder *b, int num_feeds, const char *const *feeds, int num_fetches,
                         const char *const *fetches, int num_targets, const char *const *targets) {
    const pl_graph *g = b->g;
    b->feeds = calloc((size_t)num_feeds + 1, sizeof *b->feeds);
    b->fetches = calloc((size_t)num_fetches + 1, sizeof *b->fetches);
    b->targets = calloc((size_t)num_targets + 1, sizeof *b->targets);
    b->has_fed_output = calloc((size_t)g->num_nodes + 1, sizeof *b->has_fed_output);
    b->map = malloc(((size_t)g->num_nodes + 1) * sizeof *b->map);
    b->view = malloc(((size_t)g->num_nodes + 1) * sizeof *b->view);
    if (!b->feeds || !b->fetches || !b->targets || !b->has_fed_output || !b->map || !b->view)
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < g->num_nodes; i++) b->view[i] = &g->nodes[i];
    b->outputs = malloc(((size_t)g->num_nodes + 1) * sizeof *b->outputs);
    if (!b->outputs) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < g->num_nodes; i++) b->outputs[i] = g->nodes[i].num_outputs;
    b->num_feeds = num_feeds;
    b->num_fetches = num_fetches;
    b->num_targets = num_targets;
    for (int i = 0; i < num_feeds; i++) {
        PL_TRY(pl_graph_resolve_tensor(g, feeds[i], &b->feeds[i]));
        if (fed_index(b, b->feeds[i]) >= 0)
            return pl_error(PL_INVALID_ARGUMENT, "Tensor %s is fed more than once", feeds[i]);
        b->has_fed_output[b->feeds[i].node] = true;
        if (g->out_frame[b->feeds[i].node] != PL__FRAME_ROOT)
            return pl_error(PL_INVALID_ARGUMENT, "Tensor %s is inside a while loop and cannot be fed", feeds[i]);
    }
    for (int i = 0; i < num_fetches; i++) {
        PL_TRY(pl_graph_resolve_tensor(g, fetches[i], &b->fetches[i]));
        /* a fetched output counts as used even when no node consumes it */
        if (b->fetches[i].index + 1 > b->outputs[b->fetches[i].node]) b->outputs[b->fetches[i].node] = b->fetches[i].index + 1;
        if (g->out_frame[b->fetches[i].node] != PL__FRAME_ROOT)
            return pl_error(PL_INVALID_ARGUMENT, "Tensor %s is inside a while loop and cannot be fetched", fetches[i]);
    }
    for (int i = 0; i < num_targets; i++) {
        const char *t = targets[i][0] == '^' ? targets[i] + 1 : targets[i];
        b->targets[i] = pl_graph_find(g, t);
        if (b->targets[i] < 0)
            return pl_error(PL_NOT_FOUND, "Target node '%s' does not exist in the graph", t);
    }
    return NULL;
}

/* Marks (map[i] = 0) every graph node the fetches and targets need, walking
 * inputs backwards and stopping at fed tensors. */
static pl_status mark_needed(builder *b) {
    const pl_graph *g = b->g;
    int *stack = malloc(((size_t)g->num_nodes + 1) * sizeof *stack);
    if (!stack) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < g->num_nodes; i++) b->map[i] = -1;
    int top = 0;
#define PUSH(n)                       \
    do {                              \
        if (b->map[n] < 0) {          \
            b->map[n] = 0;            \
            stack[top++] = (n);       \
        }                             \
    } while (0)
    for (int i = 0; i < b->num_fetches; i++)
        if (fed_index(b, b->fetches[i]) < 0) PUSH(b->fetches[i].node);
    for (int i = 0; i < b->num_targets; i++) PUSH(b->targets[i]);
    while (top > 0) {
        int i = stack[--top];
        const pl_node *nd = b->view[i];
        if (b->folded && b->folded[i]) continue; /* a folded constant needs nothing */
        for (int k = 0; k < nd->num_inputs; k++)
            if (fed_index(b, nd->inputs[k]) < 0) PUSH(nd->inputs[k].node);
        for (int k = 0; k < nd->num_controls; k++) PUSH(nd->controls[k]);
    }
#undef PUSH
    free(stack);
    return NULL;
}

/* Lets the rewrites replace nodes (fusions), then prunes again: nodes a fused
 * node absorbed are no longer needed. */
static pl_status rewrite(builder *b) {
    const pl_graph *g = b->g;
    bool *needed = malloc(((size_t)g->num_nodes + 1) * sizeof *needed);
    if (!needed) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < g->num_nodes; i++) needed[i] = b->map[i] >= 0;
    pl__rewrite_ctx c = {g, b->view, needed, b->num_feeds, b->feeds, b->num_fetches, b->fetches};
    pl_status st = pl__rewrite_fuse(&c, &b->e->rewrites);
    free(needed);
    if (st || !b->e->rewrites) return st;
    return mark_needed(b);
}

static int node_outputs(pl__node_kind kind, int from_graph) {
    int n = kind == PL__KIND_SWITCH || kind == PL__KIND_MERGE ? 2 : 1;
    if (kind == PL__KIND_CONTROL_TRIGGER) n = 0;
    return from_graph > n ? from_graph : n;
}

/* ---- constant folding ---- */

/* Folded outputs larger than this stay computed at run time, so folding
 * never trades a small graph for a huge constant. */
#define MAX_FOLDED_BYTES ((size_t)10 << 20)

typedef struct folded_outputs {
    int n;
    pl_tensor *t[];
} folded_outputs;

static pl_status folded_compute(pl_kernel_ctx *c) {
    const folded_outputs *f = c->state;
    for (int i = 0; i < f->n && i < c->num_outputs; i++) pl_ctx_set_output(c, i, pl_tensor_ref(f->t[i]));
    return NULL;
}

static void folded_release(void *state) {
    folded_outputs *f = state;
    for (int i = 0; f && i < f->n; i++) pl_tensor_unref(f->t[i]);
    free(f);
}

static const pl_kernel_def folded_kernel = {.op = "", .compute = folded_compute, .release = folded_release};

static size_t tensor_bytes(const pl_tensor *t) {
    size_t n = pl_tensor_nbytes(t);
    if (t->dtype == PL_DT_STRING)
        for (int64_t i = 0; i < t->count; i++) n += ((const pl_str *)t->data)[i].len;
    return n;
}

/* The needed graph nodes in topological order (loop back edges left out). */
static int *needed_order(const builder *b, int *count) {
    const pl_graph *g = b->g;
    int n = g->num_nodes;
    int *indeg = calloc((size_t)n + 1, sizeof *indeg), *order = malloc(((size_t)n + 1) * sizeof *order);
    int *start = calloc((size_t)n + 2, sizeof *start), *fill = calloc((size_t)n + 1, sizeof *fill);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (size_t)b->view[i]->num_inputs + (size_t)b->view[i]->num_controls;
    int *dst = malloc((total + 1) * sizeof *dst);
    if (!indeg || !order || !start || !fill || !dst) {
        free(indeg), free(order), free(start), free(fill), free(dst);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (b->map[i] < 0) continue;
        const pl_node *nd = b->view[i];
        for (int k = 0; k < nd->num_inputs + nd->num_controls; k++) {
            int src = k < nd->num_inputs ? nd->inputs[k].node : nd->controls[k - nd->num_inputs];
            if (b->map[src] < 0 || g->kinds[src] == PL__KIND_NEXT_ITERATION) continue;
            start[src + 1]++;
            indeg[i]++;
        }
    }
    for (int i = 0; i < n; i++) start[i + 1] += start[i];
    for (int i = 0; i < n; i++) {
        if (b->map[i] < 0) continue;
        const pl_node *nd = b->view[i];
        for (int k = 0; k < nd->num_inputs + nd->num_controls; k++) {
            int src = k < nd->num_inputs ? nd->inputs[k].node : nd->controls[k - nd->num_inputs];
            if (b->map[src] < 0 || g->kinds[src] == PL__KIND_NEXT_ITERATION) continue;
            dst[start[src] + fill[src]++] = i;
        }
    }
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (b->map[i] >= 0 && !indeg[i]) order[tail++] = i;
    while (head < tail) {
        int v = order[head++];
        for (int k = start[v]; k < start[v + 1]; k++)
            if (--indeg[dst[k]] == 0) order[tail++] = dst[k];
    }
    free(indeg), free(start), free(fill), free(dst);
    *count = tail;
    return order;
}

/* Evaluates node i if everything it reads is constant: a Const, or a node
 * folded before it, with no fed tensor among its inputs. */
static void fold_node(builder *b, int i, bool *constant, pl_session *session) {
    const pl_graph *g = b->g;
    const pl_node *nd = b->view[i];
    if (g->kinds[i] != PL__KIND_OP || g->node_frame[i] != PL__FRAME_ROOT) return;
    if (!strcmp(nd->op, "Const")) {
        constant[i] = true;
        return;
    }
    if (nd->num_inputs == 0 || !strcmp(nd->op, "PlaceholderWithDefault")) return;
    const pl_kernel_def *k = pl_kernel_find(nd->op);
    if (!k || !k->compute || (k->flags & (PL_KERNEL_STATEFUL | PL_KERNEL_CONTROL_FLOW))) return;
    for (int c = 0; c < nd->num_controls; c++)
        if (!constant[nd->controls[c]]) return;
    for (int c = 0; c < nd->num_inputs; c++)
        if (!constant[nd->inputs[c].node] || fed_index(b, nd->inputs[c]) >= 0) return;
    pl_tensor **in = calloc((size_t)nd->num_inputs, sizeof *in);
    int nout = b->outputs[i] > nd->num_outputs ? b->outputs[i] : nd->num_outputs;
    folded_outputs *f = calloc(1, sizeof *f + (size_t)nout * sizeof(pl_tensor *));
    bool ok = in && f;
    for (int c = 0; ok && c < nd->num_inputs; c++) {
        pl_endpoint ep = nd->inputs[c];
        if (b->folded[ep.node]) {
            folded_outputs *src = (folded_outputs *)b->folded[ep.node];
            in[c] = ep.index < src->n ? pl_tensor_ref(src->t[ep.index]) : NULL;
        } else {
            pl_status st = ep.index == 0 ? pl_attr_tensor(b->view[ep.node]->attrs, "value", &in[c])
                                         : pl_error(PL_INVALID_ARGUMENT, "no such output");
            if (st) pl_status_free(st), in[c] = NULL;
        }
        ok = in[c] != NULL;
    }
    if (ok) {
        f->n = nout;
        pl_status st = pl__eval_node(nd, k, g->lib, session, in, f->n, f->t);
        if (st) pl_status_free(st), ok = false;
    }
    size_t bytes = 0;
    for (int o = 0; ok && o < f->n; o++) {
        if (!f->t[o] || f->t[o]->dtype == PL_DT_RESOURCE || f->t[o]->dtype == PL_DT_VARIANT) ok = false;
        else bytes += tensor_bytes(f->t[o]);
    }
    if (ok && bytes <= MAX_FOLDED_BYTES) {
        b->folded[i] = (pl_tensor **)f;
        constant[i] = true;
    } else {
        folded_release(f);
    }
    for (int c = 0; in && c < nd->num_inputs; c++) pl_tensor_unref(in[c]);
    free(in);
}

/* Constant folding: nodes computing only from constants run once here and
 * become constants, so their inputs drop out of the execution. */
static pl_status fold_constants(builder *b, pl_session *session) {
    const char *env = getenv("PLINTH_CONSTANT_FOLDING");
    if (env && !strcmp(env, "0")) return NULL;
    int n = b->g->num_nodes, count = 0;
    b->folded = calloc((size_t)n + 1, sizeof *b->folded);
    bool *constant = calloc((size_t)n + 1, sizeof *constant);
    int *order = b->folded && constant ? needed_order(b, &count) : NULL;
    if (!order) {
        free(constant);
        free(order);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (int t = 0; t < count; t++) fold_node(b, order[t], constant, session);
    free(order);
    free(constant);
    /* Folded nodes need no inputs: walk the graph again from the fetches. */
    return mark_needed(b);
}

static void free_folded(builder *b) {
    for (int i = 0; b->folded && i < b->g->num_nodes; i++) folded_release(b->folded[i]);
    free(b->folded);
}

static pl_status create_nodes(builder *b) {
    const pl_graph *g = b->g;
    pl_exec *e = b->e;
    int n = 0;
    for (int i = 0; i < g->num_nodes; i++)
        if (b->map[i] >= 0) b->map[i] = n++;
    e->num_nodes = n + b->num_feeds + b->num_fetches;
    e->nodes = calloc((size_t)e->num_nodes + 1, sizeof *e->nodes);
    if (!e->nodes) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < g->num_nodes; i++) {
        if (b->map[i] < 0) continue;
        pl__xnode *x = &e->nodes[b->map[i]];
        const pl_node *nd = b->view[i];
        x->name = nd->name;
        x->node = nd;
        x->role = PL__XN_NODE;
        x->kind = g->kinds[i];
        x->num_inputs = b->folded && b->folded[i] ? 0 : nd->num_inputs;
        x->num_outputs = node_outputs(x->kind, b->outputs[i] > nd->num_outputs ? b->outputs[i] : nd->num_outputs);
        if (b->folded && b->folded[i]) { /* the exec takes the folded outputs over */
            x->kernel = &folded_kernel;
            x->state = b->folded[i];
            b->folded[i] = NULL;
        }
        x->frame = g->node_frame[i];
        x->child_frame = x->kind == PL__KIND_ENTER ? g->out_frame[i] : -1;
        x->constant_enter = x->kind == PL__KIND_ENTER && pl_attr_bool_or(nd->attrs, "is_constant", false);
    }
    for (int i = 0; i < b->num_feeds; i++) {
        pl__xnode *x = &e->nodes[n + i];
        x->name = g->nodes[b->feeds[i].node].name;
        x->role = PL__XN_FEED;
        x->io_index = i;
        x->num_outputs = 1;
        x->frame = PL__FRAME_ROOT;
        x->child_frame = -1;
    }
    for (int i = 0; i < b->num_fetches; i++) {
        pl__xnode *x = &e->nodes[n + b->num_feeds + i];
        x->name = g->nodes[b->fetches[i].node].name;
        x->role = PL__XN_FETCH;
        x->io_index = i;
        x->num_inputs = 1;
        x->frame = PL__FRAME_ROOT;
        x->child_frame = -1;
    }
    e->num_feeds = b->num_feeds;
    e->num_fetches = b->num_fetches;
    e->feed_dtypes = calloc((size_t)b->num_feeds + 1, sizeof *e->feed_dtypes);
    if (!e->feed_dtypes) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < b->num_feeds; i++) {
        const pl_node *nd = b->view[b->feeds[i].node];
        bool typed = !strcmp(nd->op, "Placeholder") || !strcmp(nd->op, "PlaceholderV2") ||
                     !strcmp(nd->op, "PlaceholderWithDefault") || !strcmp(nd->op, "Const");
        e->feed_dtypes[i] = typed && b->feeds[i].index == 0 ? pl_attr_type_or(nd->attrs, "dtype", PL_DT_INVALID)
                                                            : PL_DT_INVALID;
    }
    return NULL;
}

/* The execution node and output feeding input endpoint `ep`. */
static void source_of(const builder *b, pl_endpoint ep, int *src, int *slot) {
    int f = fed_index(b, ep);
    if (f >= 0) {
        *src = b->e->num_nodes - b->num_fetches - b->num_feeds + f;
        *slot = 0;
    } else {
        *src = b->map[ep.node];
        *slot = ep.index;
    }
}

/* Calls fn for every in-edge of execution node xi: (src, src_slot, k) with
 * k the input index, or -1 (and src_slot -1) for a control edge. */
static void for_each_in_edge(builder *b, int xi, void (*fn)(builder *b, int xi, int src, int slot, int k)) {
    const pl__xnode *x = &b->e->nodes[xi];
    int src, slot;
    if (x->role == PL__XN_NODE && x->kernel == &folded_kernel) {
        return;
    } else if (x->role == PL__XN_NODE) {
        for (int k = 0; k < x->node->num_inputs; k++) {
            source_of(b, x->node->inputs[k], &src, &slot);
            fn(b, xi, src, slot, k);
        }
        for (int c = 0; c < x->node->num_controls; c++) fn(b, xi, b->map[x->node->controls[c]], -1, -1);
    } else if (x->role == PL__XN_FETCH) {
        source_of(b, b->fetches[x->io_index], &src, &slot);
        fn(b, xi, src, slot, 0);
    }
}

static void count_edge(builder *b, int xi, int src, int slot, int k) {
    (void)slot;
    pl__xnode *x = &b->e->nodes[xi];
    if (k < 0) {
        b->e->nodes[src].num_out_controls++;
        x->initial_pending++; /* counts control inputs for now */
    } else {
        b->e->nodes[src].num_out_edges++;
    }
}

static void fill_edge(builder *b, int xi, int src, int slot, int k) {
    pl__xnode *s = &b->e->nodes[src];
    if (k < 0)
        s->out_controls[s->num_out_controls++] = xi;
    else
        s->out_edges[s->num_out_edges++] = (pl__xedge){xi, b->e->nodes[xi].input_base + k, slot};
}

static pl_status layout_frames(builder *b) {
    const pl_graph *g = b->g;
    pl_exec *e = b->e;
    e->num_frames = g->num_frames;
    e->frames = calloc((size_t)e->num_frames, sizeof *e->frames);
    if (!e->frames) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int f = 0; f < e->num_frames; f++) {
        e->frames[f].parent = g->frames[f].parent;
        e->frames[f].name = g->frames[f].name;
        int p = g->frames[f].parallel_iterations;
        e->frames[f].parallel_iterations = p > MAX_PARALLEL_ITERATIONS ? MAX_PARALLEL_ITERATIONS : p < 1 ? 1 : p;
    }
    for (int i = 0; i < e->num_nodes; i++) {
        pl__xnode *x = &e->nodes[i];
        pl__xframe *fr = &e->frames[x->frame];
        x->local = fr->num_nodes++;
        x->input_base = fr->num_slots;
        if (fr->num_slots > INT32_MAX - x->num_inputs) return pl_error(PL_INVALID_ARGUMENT, "graph is too large");
        fr->num_slots += x->num_inputs;
        if (x->kind == PL__KIND_ENTER) e->frames[x->child_frame].num_enters++;
        if (x->num_outputs > e->max_outputs) e->max_outputs = x->num_outputs;
    }
    for (int f = 0; f < e->num_frames; f++) {
        e->frames[f].initial_pending = calloc((size_t)e->frames[f].num_nodes + 1, sizeof(int));
        if (!e->frames[f].initial_pending) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    return NULL;
}

static pl_status build_edges(builder *b) {
    pl_exec *e = b->e;
    for (int i = 0; i < e->num_nodes; i++) for_each_in_edge(b, i, count_edge);
    size_t total_data = 0, total_ctrl = 0;
    for (int i = 0; i < e->num_nodes; i++) {
        pl__xnode *x = &e->nodes[i];
        int num_ctrl = x->initial_pending;
        x->initial_pending = x->kind == PL__KIND_MERGE ? (num_ctrl << 1) | 1 : x->num_inputs + num_ctrl;
        e->frames[x->frame].initial_pending[x->local] = x->initial_pending;
        total_data += (size_t)x->num_out_edges;
        total_ctrl += (size_t)x->num_out_controls;
    }
    e->edge_pool = malloc((total_data ? total_data : 1) * sizeof *e->edge_pool);
    e->control_pool = malloc((total_ctrl ? total_ctrl : 1) * sizeof *e->control_pool);
    if (!e->edge_pool || !e->control_pool) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    size_t de = 0, ce = 0;
    for (int i = 0; i < e->num_nodes; i++) {
        pl__xnode *x = &e->nodes[i];
        x->out_edges = &e->edge_pool[de];
        x->out_controls = &e->control_pool[ce];
        de += (size_t)x->num_out_edges;
        ce += (size_t)x->num_out_controls;
        x->num_out_edges = x->num_out_controls = 0;
    }
    for (int i = 0; i < e->num_nodes; i++) for_each_in_edge(b, i, fill_edge);
    int roots = 0;
    for (int i = 0; i < e->num_nodes; i++)
        if (e->nodes[i].initial_pending == 0) roots++;
    e->roots = malloc(((size_t)roots + 1) * sizeof *e->roots);
    if (!e->roots) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < e->num_nodes; i++)
        if (e->nodes[i].initial_pending == 0) e->roots[e->num_roots++] = i;
    return NULL;
}

static pl_status append(char **msg, size_t *len, const char *fmt, const char *a, const char *b) {
    int n = snprintf(NULL, 0, fmt, a, b);
    char *grown = realloc(*msg, *len + (size_t)n + 1);
    if (!grown) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    snprintf(grown + *len, (size_t)n + 1, fmt, a, b);
    *msg = grown;
    *len += (size_t)n;
    return NULL;
}

/* Finds every node's kernel first, so one error lists all missing ops. */
static pl_status find_kernels(pl_exec *e) {
    char *msg = NULL;
    size_t len = 0;
    pl_status st = NULL;
    for (int i = 0; i < e->num_nodes && !st; i++) {
        pl__xnode *x = &e->nodes[i];
        if (x->role != PL__XN_NODE || x->kind != PL__KIND_OP || x->kernel) continue;
        x->kernel = pl_kernel_find(x->node->op);
        if (x->kernel && x->kernel->compute) continue;
        if (pl_function_lib_find(e->graph->lib, x->node->op)) { /* a library function used as an op */
            x->kernel = &pl_function_call_kernel;
            continue;
        }
        st = append(&msg, &len, len ? "; Op type not registered '%s' in node '%s'" : "Op type not registered '%s' in node '%s'",
                    x->node->op, x->name);
    }
    if (!st && msg) st = pl_error(PL_NOT_FOUND, "%s", msg);
    free(msg);
    return st;
}

pl_status pl__node_error(pl_status st, const char *node_name);

static pl_status prepare_kernels(pl_exec *e) {
    for (int i = 0; i < e->num_nodes; i++) {
        pl__xnode *x = &e->nodes[i];
        if (!x->kernel || !x->kernel->prepare) continue;
        pl_kernel_prep p = {
            .node_name = x->name,
            .op = x->node->op,
            .attrs = x->node->attrs,
            .num_inputs = x->num_inputs,
            .num_outputs = x->num_outputs,
            .lib = e->graph->lib,
            .session = e->session,
        };
        pl_status st = x->kernel->prepare(&p);
        x->state = p.state;
        if (st) return pl__node_error(st, x->name);
        if (p.num_outputs > x->num_outputs) {
            x->num_outputs = p.num_outputs;
            if (x->num_outputs > e->max_outputs) e->max_outputs = x->num_outputs;
        }
    }
    return NULL;
}

void pl_exec_free(pl_exec *e) {
    if (!e) return;
    for (int i = 0; i < e->num_nodes; i++) {
        pl__xnode *x = &e->nodes[i];
        if (x->kernel && x->kernel->release && x->state) x->kernel->release(x->state);
    }
    for (int f = 0; f < e->num_frames; f++) free(e->frames[f].initial_pending);
    free(e->frames);
    free(e->nodes);
    free(e->roots);
    free(e->feed_dtypes);
    free(e->edge_pool);
    free(e->control_pool);
    pl__rewrites_free(e->rewrites);
    free(e);
}

int pl_exec_num_nodes(const pl_exec *e) { return e->num_nodes; }

pl_dtype pl_exec_feed_dtype(const pl_exec *e, int i) {
    return i >= 0 && i < e->num_feeds ? e->feed_dtypes[i] : PL_DT_INVALID;
}

pl_status pl_exec_check_feed(const pl_exec *e, int i, const pl_tensor *t, int arg_index) {
    pl_dtype want = pl_exec_feed_dtype(e, i);
    if (want == PL_DT_INVALID || !t || t->dtype == want) return NULL;
    return pl_error(PL_INVALID_ARGUMENT, "Expects arg[%d] to be %s but %s is provided", arg_index,
                    pl_dtype_string(want), pl_dtype_string(t->dtype));
}

const char *pl_exec_node_name(const pl_exec *e, int i) { return i >= 0 && i < e->num_nodes ? e->nodes[i].name : NULL; }

const char *pl_exec_node_op(const pl_exec *e, int i) {
    if (i < 0 || i >= e->num_nodes) return NULL;
    const pl__xnode *x = &e->nodes[i];
    return x->role == PL__XN_FEED ? "_Feed" : x->role == PL__XN_FETCH ? "_Fetch" : x->node->op;
}

pl_status pl_exec_prepare(const pl_graph *g, pl_session *session, int num_feeds, const char *const *feeds,
                          int num_fetches, const char *const *fetches, int num_targets, const char *const *targets,
                          pl_exec **out) {
    if (num_feeds < 0 || num_fetches < 0 || num_targets < 0)
        return pl_error(PL_INVALID_ARGUMENT, "negative number of feeds, fetches or targets");
    builder b = {.g = g};
    b.e = calloc(1, sizeof *b.e);
    if (!b.e) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    b.e->graph = g;
    b.e->session = session;
    pl_status st = resolve(&b, num_feeds, feeds, num_fetches, fetches, num_targets, targets);
    if (!st) st = mark_needed(&b);
    if (!st) st = rewrite(&b);
    if (!st) st = fold_constants(&b, session);
    if (!st) st = create_nodes(&b);
    if (!st) st = layout_frames(&b);
    if (!st) st = build_edges(&b);
    if (!st) st = find_kernels(b.e);
    if (!st) st = prepare_kernels(b.e);
    free(b.feeds);
    free(b.fetches);
    free(b.targets);
    free(b.has_fed_output);
    free(b.map);
    free(b.view);
    free(b.outputs);
    free_folded(&b);
    if (st) {
        pl_exec_free(b.e);
        return st;
    }
    *out = b.e;
    return NULL;
}
