/* Running a prepared execution: TensorFlow's dataflow semantics on one
 * thread. Nodes become ready when their pending count reaches zero; a node
 * with a dead input is dead and only propagates deadness (Merge excepted);
 * while loops run in frames whose iterations each own their input slots, with
 * at most parallel_iterations iterations alive at once. The bookkeeping
 * follows TensorFlow's propagator (frames, iterations, loop invariants,
 * deferred NextIteration values, dead exits) so results match it exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/executor.h"
#include "runtime/internal.h"

/* Nested function calls deeper than this are a runaway recursion. */
#define MAX_CALL_DEPTH 64

typedef struct frame_state frame_state;

typedef struct iter_state {
    int64_t iter;
    int outstanding_ops;      /* ready or running nodes of this iteration */
    int outstanding_frames;   /* child frames alive */
    int *pending;
    int *dead;
    pl_tensor **inputs;
    frame_state *children;    /* child frames started in this iteration */
} iter_state;

typedef struct held {
    int node;
    pl_tensor *value;         /* NULL: dead */
} held;

typedef struct held_vec {
    int n, cap;
    held *items;
} held_vec;

struct frame_state {
    int info;                 /* static frame id */
    frame_state *parent;
    iter_state *parent_iter;
    frame_state *next_sibling;          /* in parent_iter->children */
    frame_state *all_prev, *all_next;   /* every live frame of the run */
    int64_t iteration_count;
    int num_outstanding_iterations;
    int max_parallel;
    int num_pending_inputs;
    iter_state **ring;        /* max_parallel + 1 slots */
    held_vec invariants;      /* constant Enter values */
    held_vec next_roots;      /* NextIteration values waiting for a free iteration */
    held_vec dead_exits;
};

typedef struct tagged {
    int node;
    frame_state *frame;
    iter_state *iter;
    bool dead;
} tagged;

typedef struct run_state {
    const pl_exec *e;
    struct pl_run *run;
    pl_tensor *const *feeds;
    pl_tensor **taken_feeds;  /* the run's own references, moved out by their _Feed nodes; or NULL */
    pl_tensor **fetched;
    tagged *ready;
    int num_ready, cap_ready;
    /* NextIteration nodes wait here until nothing else is ready, so one loop
     * iteration finishes before the next starts: a single-threaded run gains
     * nothing from overlapping iterations, and each one alive holds its
     * tensors (an image pyramid level per iteration, for instance). */
    tagged *deferred;
    int num_deferred, cap_deferred;
    frame_state *all_frames;
    pl_tensor **outputs;      /* scratch: the running node's outputs */
    pl_status error;
    int64_t nodes_run;
} run_state;

/* ---- errors ---- */

pl_status pl__node_error(pl_status st, const char *node_name) {
    const char *m = pl_status_message(st);
    if (strstr(m, "[[{{node ")) return st; /* already attributed (nested call) */
    pl_status out = pl_error(pl_status_code(st), "%s\n\t [[{{node %s}}]]", m, node_name);
    pl_status_free(st);
    return out;
}

/* ---- kernel context ---- */

/* Tensors allocated at an output index the node does not expose; the
 * executor drops them after compute. A thread runs one kernel at a time. */
static _Thread_local pl_tensor **dropped;
static _Thread_local int num_dropped, cap_dropped;

void pl__ctx_release_dropped(void) {
    for (int i = 0; i < num_dropped; i++) pl_tensor_unref(dropped[i]);
    num_dropped = 0;
    free(dropped);
    dropped = NULL;
    cap_dropped = 0;
}

pl_status pl_ctx_alloc_output(pl_kernel_ctx *c, int i, pl_dtype dtype, int rank, const int64_t *dims, pl_tensor **out) {
    if (i < 0) return pl_error(PL_INTERNAL, "output index %d is negative", i);
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(dtype, rank, dims, &t));
    if (i < c->num_outputs) {
        pl_tensor_unref(c->outputs[i]);
        c->outputs[i] = t;
    } else {
        if (num_dropped == cap_dropped) {
            int cap = cap_dropped ? cap_dropped * 2 : 4;
            pl_tensor **grown = realloc(dropped, (size_t)cap * sizeof *grown);
            if (!grown) {
                pl_tensor_unref(t);
                return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            }
            dropped = grown;
            cap_dropped = cap;
        }
        dropped[num_dropped++] = t;
    }
    *out = t;
    return NULL;
}

pl_status pl_ctx_reuse_or_alloc_output(pl_kernel_ctx *c, int in, int i, pl_dtype dtype, int rank,
                                       const int64_t *dims, pl_tensor **out) {
    pl_tensor *x = in >= 0 && in < c->num_inputs ? c->inputs[in] : NULL;
    bool numeric = dtype != PL_DT_STRING && dtype != PL_DT_RESOURCE && dtype != PL_DT_VARIANT;
    bool same = x && numeric && x->dtype == dtype && x->rank == rank && i >= 0 && i < c->num_outputs;
    for (int d = 0; same && d < rank; d++) same = x->dims[d] == dims[d];
    if (!same || !pl_tensor_unshared(x)) return pl_ctx_alloc_output(c, i, dtype, rank, dims, out);
    pl_ctx_set_output(c, i, pl_tensor_ref(x));
    *out = x;
    return NULL;
}

void pl_ctx_set_output(pl_kernel_ctx *c, int i, pl_tensor *t) {
    if (i < 0 || i >= c->num_outputs) {
        pl_tensor_unref(t);
        return;
    }
    pl_tensor_unref(c->outputs[i]);
    c->outputs[i] = t;
}

void pl_ctx_forward(pl_kernel_ctx *c, int in, int out) {
    if (in < 0 || in >= c->num_inputs) return;
    pl_ctx_set_output(c, out, pl_tensor_ref(c->inputs[in]));
}

/* ---- frames and iterations ---- */

static pl_status fail(run_state *rs, pl_status st) {
    if (!rs->error)
        rs->error = st;
    else
        pl_status_free(st);
    return rs->error;
}

static iter_state *iter_new(run_state *rs, const pl__xframe *fi, int64_t iter) {
    iter_state *it = calloc(1, sizeof *it);
    size_t n = (size_t)fi->num_nodes + 1;
    if (it) {
        it->iter = iter;
        it->pending = malloc(n * sizeof *it->pending);
        it->dead = calloc(n, sizeof *it->dead);
        it->inputs = calloc((size_t)fi->num_slots + 1, sizeof *it->inputs);
    }
    if (!it || !it->pending || !it->dead || !it->inputs) {
        if (it) {
            free(it->pending);
            free(it->dead);
            free(it->inputs);
            free(it);
        }
        fail(rs, pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"));
        return NULL;
    }
    memcpy(it->pending, fi->initial_pending, (size_t)fi->num_nodes * sizeof *it->pending);
    return it;
}

static void iter_free(const pl__xframe *fi, iter_state *it) {
    if (!it) return;
    for (int i = 0; i < fi->num_slots; i++) pl_tensor_unref(it->inputs[i]);
    free(it->pending);
    free(it->dead);
    free(it->inputs);
    free(it);
}

static iter_state *get_iter(frame_state *f, int64_t iter) { return f->ring[iter % (f->max_parallel + 1)]; }
static void set_iter(frame_state *f, int64_t iter, iter_state *it) { f->ring[iter % (f->max_parallel + 1)] = it; }

static void held_clear(held_vec *v) {
    for (int i = 0; i < v->n; i++) pl_tensor_unref(v->items[i].value);
    free(v->items);
    v->items = NULL;
    v->n = v->cap = 0;
}

static bool held_push(run_state *rs, held_vec *v, int node, pl_tensor *value) {
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 4;
        held *grown = realloc(v->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            pl_tensor_unref(value);
            fail(rs, pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"));
            return false;
        }
        v->items = grown;
        v->cap = cap;
    }
    v->items[v->n++] = (held){node, value};
    return true;
}

static frame_state *frame_new(run_state *rs, int info, frame_state *parent, iter_state *parent_iter) {
    const pl__xframe *fi = &rs->e->frames[info];
    frame_state *f = calloc(1, sizeof *f);
    if (!f) {
        fail(rs, pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"));
        return NULL;
    }
    f->info = info;
    f->parent = parent;
    f->parent_iter = parent_iter;
    f->max_parallel = fi->parallel_iterations;
    f->num_pending_inputs = fi->num_enters;
    f->num_outstanding_iterations = 1;
    f->ring = calloc((size_t)f->max_parallel + 1, sizeof *f->ring);
    iter_state *it0 = f->ring ? iter_new(rs, fi, 0) : NULL;
    if (!it0) {
        free(f->ring);
        free(f);
        if (!rs->error) fail(rs, pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"));
        return NULL;
    }
    set_iter(f, 0, it0);
    f->all_next = rs->all_frames;
    if (rs->all_frames) rs->all_frames->all_prev = f;
    rs->all_frames = f;
    return f;
}

static void frame_free(run_state *rs, frame_state *f) {
    const pl__xframe *fi = &rs->e->frames[f->info];
    for (int i = 0; i <= f->max_parallel; i++) iter_free(fi, f->ring[i]);
    free(f->ring);
    held_clear(&f->invariants);
    held_clear(&f->next_roots);
    free(f->dead_exits.items);
    if (f->all_prev) f->all_prev->all_next = f->all_next;
    else rs->all_frames = f->all_next;
    if (f->all_next) f->all_next->all_prev = f->all_prev;
    free(f);
}

/* ---- activation ---- */

static bool push_ready(run_state *rs, int node, frame_state *f, iter_state *it, bool dead) {
    bool later = rs->e->nodes[node].kind == PL__KIND_NEXT_ITERATION;
    tagged **stack = later ? &rs->deferred : &rs->ready;
    int *n = later ? &rs->num_deferred : &rs->num_ready, *cap = later ? &rs->cap_deferred : &rs->cap_ready;
    if (*n == *cap) {
        int grown_cap = *cap ? *cap * 2 : 64;
        tagged *grown = realloc(*stack, (size_t)grown_cap * sizeof *grown);
        if (!grown) {
            fail(rs, pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"));
            return false;
        }
        *stack = grown;
        *cap = grown_cap;
    }
    (*stack)[(*n)++] = (tagged){node, f, it, dead};
    return true;
}

static void set_slot(iter_state *it, int slot, pl_tensor *v) {
    pl_tensor_unref(it->inputs[slot]);
    it->inputs[slot] = pl_tensor_ref(v);
}

/* Delivers a node's outputs (num_outputs of them; NULL entries and missing
 * ones are dead) to its consumers in iteration `it` of frame `f`; returns how
 * many consumers became ready. */
static int activate(run_state *rs, const pl__xnode *x, bool is_dead, frame_state *f, iter_state *it,
                    pl_tensor *const *outputs, int num_outputs) {
    const pl_exec *e = rs->e;
    int activated = 0;
    for (int k = 0; k < x->num_out_edges; k++) {
        const pl__xedge *ed = &x->out_edges[k];
        const pl__xnode *d = &e->nodes[ed->dst];
        int *pend = &it->pending[d->local], *dead = &it->dead[d->local];
        pl_tensor *v = is_dead || ed->src_slot >= num_outputs ? NULL : outputs[ed->src_slot];
        bool ready, dst_dead = false;
        if (d->kind == PL__KIND_MERGE) {
            if (v) {
                /* The first live input decides; the low bit of pending says
                 * whether one has arrived. */
                set_slot(it, ed->dst_slot, v);
                int before = *pend > 0 ? *pend : 0;
                if (*pend > 0) *pend &= ~1;
                ready = before == 1;
            } else {
                if (*pend > 0) (*dead)++;
                dst_dead = *dead == d->num_inputs || x->kind == PL__KIND_ENTER;
                ready = *pend == 1 && dst_dead;
            }
        } else {
            if (v) set_slot(it, ed->dst_slot, v);
            if (!v) (*dead)++;
            (*pend)--;
            dst_dead = *dead > 0;
            ready = *pend == 0;
        }
        if (ready) {
            if (d->kind == PL__KIND_CONTROL_TRIGGER) dst_dead = false;
            if (!push_ready(rs, ed->dst, f, it, dst_dead)) return activated;
            activated++;
        }
    }
    for (int k = 0; k < x->num_out_controls; k++) {
        int di = x->out_controls[k];
        const pl__xnode *d = &e->nodes[di];
        int *pend = &it->pending[d->local], *dead = &it->dead[d->local];
        bool ready, dst_dead;
        if (d->kind == PL__KIND_MERGE) {
            *pend -= 2;
            dst_dead = *dead == d->num_inputs;
            ready = *pend == 0 || (*pend == 1 && dst_dead);
        } else {
            if (is_dead) (*dead)++;
            (*pend)--;
            dst_dead = *dead > 0;
            ready = *pend == 0;
        }
        if (ready) {
            if (d->kind == PL__KIND_CONTROL_TRIGGER) dst_dead = false;
            if (!push_ready(rs, di, f, it, dst_dead)) return activated;
            activated++;
        }
    }
    return activated;
}

static bool cleanup_iterations(run_state *rs, frame_state *f, iter_state *it);

static bool is_iteration_done(frame_state *f, iter_state *it) {
    if (it->outstanding_ops || it->outstanding_frames) return false;
    if (it->iter == 0) return f->num_pending_inputs == 0;
    return get_iter(f, it->iter - 1) == NULL;
}

static bool is_frame_done(frame_state *f) { return f->num_pending_inputs == 0 && f->num_outstanding_iterations == 0; }

/* Adds delta to an iteration's outstanding ops; true when that finished the frame. */
static bool adjust_outstanding(run_state *rs, frame_state *f, iter_state *it, int delta) {
    it->outstanding_ops += delta;
    if (it->outstanding_ops != 0) return false;
    return cleanup_iterations(rs, f, it);
}

static void activate_held(run_state *rs, frame_state *f, iter_state *it, held_vec *v, bool consume) {
    int activated = 0;
    for (int i = 0; i < v->n; i++) {
        const pl__xnode *x = &rs->e->nodes[v->items[i].node];
        pl_tensor *val = v->items[i].value;
        activated += activate(rs, x, val == NULL, f, it, &val, 1);
        if (consume) pl_tensor_unref(val);
    }
    if (consume) v->n = 0;
    adjust_outstanding(rs, f, it, activated);
}

static iter_state *increment_iteration(run_state *rs, frame_state *f) {
    iter_state *it = iter_new(rs, &rs->e->frames[f->info], f->iteration_count + 1);
    if (!it) return NULL;
    f->iteration_count++;
    set_iter(f, f->iteration_count, it);
    f->num_outstanding_iterations++;
    f->dead_exits.n = 0;
    activate_held(rs, f, it, &f->next_roots, true);
    activate_held(rs, f, it, &f->invariants, false);
    return it;
}

static bool cleanup_iterations(run_state *rs, frame_state *f, iter_state *it) {
    int64_t cur = it->iter;
    while (cur <= f->iteration_count && is_iteration_done(f, it)) {
        iter_free(&rs->e->frames[f->info], it);
        set_iter(f, cur, NULL);
        f->num_outstanding_iterations--;
        cur++;
        if (f->next_roots.n) increment_iteration(rs, f);
        if (cur <= f->iteration_count) it = get_iter(f, cur);
        if (!it) break;
    }
    return is_frame_done(f);
}

static void delete_frame(run_state *rs, frame_state *f);

static void cleanup_frames_iterations(run_state *rs, frame_state *f, iter_state *it) {
    it->outstanding_frames--;
    if (cleanup_iterations(rs, f, it)) {
        frame_state *parent = f->parent;
        iter_state *parent_iter = f->parent_iter;
        delete_frame(rs, f);
        if (parent) cleanup_frames_iterations(rs, parent, parent_iter);
    }
}

/* A finished frame passes its dead exits on to the parent, then goes. */
static void delete_frame(run_state *rs, frame_state *f) {
    frame_state *parent = f->parent;
    iter_state *pit = f->parent_iter;
    if (parent) {
        for (int i = 0; i < f->dead_exits.n; i++) {
            const pl__xnode *x = &rs->e->nodes[f->dead_exits.items[i].node];
            int activated = activate(rs, x, true, parent, pit, NULL, 0);
            pit->outstanding_ops += activated;
        }
        frame_state **link = &pit->children;
        while (*link && *link != f) link = &(*link)->next_sibling;
        if (*link) *link = f->next_sibling;
    }
    frame_free(rs, f);
}

static frame_state *find_or_create_child(run_state *rs, frame_state *f, iter_state *it, int info) {
    for (frame_state *c = it->children; c; c = c->next_sibling)
        if (c->info == info) return c;
    frame_state *c = frame_new(rs, info, f, it);
    if (!c) return NULL;
    c->next_sibling = it->children;
    it->children = c;
    it->outstanding_frames++;
    return c;
}

/* Passes a finished node's outputs on; TensorFlow's PropagateOutputs. */
static void propagate(run_state *rs, const tagged *t, pl_tensor **outputs) {
    const pl__xnode *x = &rs->e->nodes[t->node];
    frame_state *f = t->frame;
    iter_state *it = t->iter;
    bool dead = t->dead;
    bool frame_done = false;
    switch (x->kind) {
    case PL__KIND_ENTER: {
        frame_state *child = find_or_create_child(rs, f, it, x->child_frame);
        if (!child) return;
        if (x->constant_enter) {
            pl_tensor *v = dead ? NULL : pl_tensor_ref(outputs[0]);
            if (!held_push(rs, &child->invariants, t->node, v)) return;
            for (int64_t i = 0; i <= child->iteration_count; i++) {
                iter_state *ci = get_iter(child, i);
                if (!ci) continue;
                int activated = activate(rs, x, v == NULL, child, ci, &v, 1);
                adjust_outstanding(rs, child, ci, activated);
            }
        } else {
            iter_state *c0 = get_iter(child, 0);
            int activated = c0 ? activate(rs, x, dead, child, c0, outputs, x->num_outputs) : 0;
            if (c0) adjust_outstanding(rs, child, c0, activated);
        }
        child->num_pending_inputs--;
        frame_done = adjust_outstanding(rs, f, it, -1);
        break;
    }
    case PL__KIND_EXIT:
        if (dead) {
            if (it->iter == f->iteration_count) held_push(rs, &f->dead_exits, t->node, NULL);
        } else {
            int activated = activate(rs, x, false, f->parent, f->parent_iter, outputs, x->num_outputs);
            f->parent_iter->outstanding_ops += activated;
        }
        frame_done = adjust_outstanding(rs, f, it, -1);
        break;
    case PL__KIND_NEXT_ITERATION:
        if (!dead) {
            if (it->iter == f->iteration_count) {
                if (f->num_outstanding_iterations == f->max_parallel) {
                    held_push(rs, &f->next_roots, t->node, pl_tensor_ref(outputs[0]));
                } else {
                    iter_state *next = increment_iteration(rs, f);
                    if (next) adjust_outstanding(rs, f, next, activate(rs, x, false, f, next, outputs, x->num_outputs));
                }
            } else {
                iter_state *next = get_iter(f, it->iter + 1);
                if (next) next->outstanding_ops += activate(rs, x, false, f, next, outputs, x->num_outputs);
            }
        }
        frame_done = adjust_outstanding(rs, f, it, -1);
        break;
    default:
        frame_done = adjust_outstanding(rs, f, it, activate(rs, x, dead, f, it, outputs, x->num_outputs) - 1);
        break;
    }
    if (frame_done) {
        frame_state *parent = f->parent;
        iter_state *parent_iter = f->parent_iter;
        delete_frame(rs, f);
        if (parent) cleanup_frames_iterations(rs, parent, parent_iter);
    }
}

/* ---- running one node ---- */

static pl_status check_predicate(const pl_tensor *p, const char *what) {
    if (!p || p->dtype != PL_DT_BOOL || p->rank != 0) {
        char shape[64] = "?";
        if (p) pl_shape_str(p->rank, p->dims, shape, sizeof shape);
        return pl_error(PL_INVALID_ARGUMENT, "The %s must be a boolean scalar, but it has shape %s", what, shape);
    }
    return NULL;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A run's poll (pl_run_options.poll), shared with its nested function calls.
 * A run's nodes, nested calls included, execute one at a time on the thread
 * that called the run; `busy` keeps the promise that the poll never runs on
 * two threads at once even for a kernel that would call a function from
 * threads of its own (a thread finding it taken goes on without polling). */
struct pl__run_poll {
    void (*fn)(void *arg);
    void *arg;
    int64_t every_ns;
    _Atomic int64_t due_ns;   /* poll_clock_ns() time of the next call */
    atomic_flag busy;
};

/* The poll's clock: one that only advances on timer ticks (a few ms) costs a
 * few nanoseconds to read, against tens for the precise one, and a poll due
 * every tens of milliseconds needs no better. */
static int64_t poll_clock_ns(void) {
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Before each kernel: the poll when due, then cancellation and deadline. */
static pl_status check_run(const struct pl_run *run) {
    if (run->threads) pl__run_threads_check(run->threads);
    struct pl__run_poll *p = run->poll;
    if (p && poll_clock_ns() >= atomic_load_explicit(&p->due_ns, memory_order_relaxed) &&
        !atomic_flag_test_and_set_explicit(&p->busy, memory_order_acquire)) {
        p->fn(p->arg);
        atomic_store_explicit(&p->due_ns, poll_clock_ns() + p->every_ns, memory_order_relaxed);
        atomic_flag_clear_explicit(&p->busy, memory_order_release);
    }
    if (run->cancelled && atomic_load_explicit(run->cancelled, memory_order_relaxed))
        return pl_error(PL_CANCELLED, "Run was cancelled");
    if (run->deadline_ns && now_ns() > run->deadline_ns) return pl_error(PL_DEADLINE_EXCEEDED, "Deadline Exceeded");
    return NULL;
}

static pl_status compute(run_state *rs, const pl__xnode *x, pl_tensor **in, pl_tensor **out) {
    switch (x->role) {
    case PL__XN_FEED:
        if (!rs->taken_feeds) {
            out[0] = pl_tensor_ref(rs->feeds[x->io_index]);
            return NULL;
        }
        /* Moved, not shared: once its consumers are done the tensor can go. */
        out[0] = rs->taken_feeds[x->io_index];
        rs->taken_feeds[x->io_index] = NULL;
        return out[0] ? NULL : pl_error(PL_INTERNAL, "feed %d was consumed twice", x->io_index);
    case PL__XN_FETCH:
        pl_tensor_unref(rs->fetched[x->io_index]);
        rs->fetched[x->io_index] = in[0];
        in[0] = NULL;
        return NULL;
    case PL__XN_NODE:
        break;
    }
    switch (x->kind) {
    case PL__KIND_SWITCH:
        PL_TRY(check_predicate(in[1], "second input of Switch (pred)"));
        out[*(const uint8_t *)in[1]->data ? 1 : 0] = in[0];
        in[0] = NULL;
        return NULL;
    case PL__KIND_MERGE:
        for (int i = 0; i < x->num_inputs; i++) {
            if (!in[i]) continue;
            out[0] = in[i];
            in[i] = NULL;
            return pl_tensor_scalar(PL_DT_INT32, i, &out[1]);
        }
        return pl_error(PL_INTERNAL, "Merge ran without a live input");
    case PL__KIND_LOOP_COND:
        PL_TRY(check_predicate(in[0], "input of LoopCond"));
        /* fall through */
    case PL__KIND_ENTER:
    case PL__KIND_EXIT:
    case PL__KIND_NEXT_ITERATION:
        out[0] = in[0];
        in[0] = NULL;
        return NULL;
    case PL__KIND_CONTROL_TRIGGER:
        return NULL;
    case PL__KIND_OP:
        break;
    }
    for (int i = 0; i < x->num_inputs; i++)
        if (!in[i]) return pl_error(PL_INTERNAL, "input %d is missing", i);
    pl_kernel_ctx c = {
        .state = x->state,
        .node_name = x->name,
        .num_inputs = x->num_inputs,
        .inputs = in,
        .num_outputs = x->num_outputs,
        .outputs = out,
        .run = rs->run,
        .session = rs->run->session,
    };
    int64_t t0 = rs->run->on_node ? now_ns() : 0;
    pl_status st = x->kernel->compute(&c);
    pl__ctx_release_dropped();
    if (st) return st;
    if (rs->run->on_node) {
        pl_node_trace t = {x->name, x->node->op, x->num_inputs, in, x->num_outputs, out, now_ns() - t0, c.flops};
        rs->run->on_node(rs->run->on_node_arg, &t);
    }
    for (int k = 0; k < x->num_out_edges; k++)
        if (!out[x->out_edges[k].src_slot])
            return pl_error(PL_INTERNAL, "Missing %d-th output from node", x->out_edges[k].src_slot);
    return NULL;
}

static void process(run_state *rs, const tagged *t) {
    const pl_exec *e = rs->e;
    const pl__xnode *x = &e->nodes[t->node];
    pl_tensor **in = t->iter->inputs + x->input_base;
    pl_tensor **out = rs->outputs;
    for (int i = 0; i < x->num_outputs; i++) out[i] = NULL;
    pl_status st = NULL;
    if (!t->dead) {
        st = check_run(rs->run);
        if (!st) st = compute(rs, x, in, out);
        rs->nodes_run++;
    }
    for (int i = 0; i < x->num_inputs; i++) {
        pl_tensor_unref(in[i]);
        in[i] = NULL;
    }
    if (st) {
        for (int i = 0; i < x->num_outputs; i++) pl_tensor_unref(out[i]);
        if (pl_status_code(st) != PL_CANCELLED && pl_status_code(st) != PL_DEADLINE_EXCEEDED)
            st = pl__node_error(st, x->name);
        fail(rs, st);
        return;
    }
    propagate(rs, t, out);
    for (int i = 0; i < x->num_outputs; i++) pl_tensor_unref(out[i]);
}

pl_status pl__exec_execute(const pl_exec *e, struct pl_run *run, pl_tensor *const *feeds, pl_tensor **taken_feeds,
                           pl_tensor **fetched) {
    if (run->call_depth > MAX_CALL_DEPTH)
        return pl_error(PL_RESOURCE_EXHAUSTED, "function calls nest deeper than %d", MAX_CALL_DEPTH);
    for (int i = 0; i < e->num_feeds; i++) {
        if (!feeds[i]) return pl_error(PL_INVALID_ARGUMENT, "feed %d is missing", i);
        PL_TRY(pl_exec_check_feed(e, i, feeds[i], i));
    }
    run_state rs = {.e = e, .run = run, .feeds = feeds, .taken_feeds = taken_feeds, .fetched = fetched};
    for (int i = 0; i < e->num_fetches; i++) fetched[i] = NULL;
    rs.outputs = calloc((size_t)e->max_outputs + 1, sizeof *rs.outputs);
    frame_state *root = rs.outputs ? frame_new(&rs, PL__FRAME_ROOT, NULL, NULL) : NULL;
    if (!root) {
        free(rs.outputs);
        return rs.error ? rs.error : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    iter_state *it0 = get_iter(root, 0);
    for (int i = 0; i < e->num_roots; i++) push_ready(&rs, e->roots[i], root, it0, false);
    it0->outstanding_ops = rs.num_ready + rs.num_deferred;
    if (e->num_roots == 0) adjust_outstanding(&rs, root, it0, 0);
    while ((rs.num_ready > 0 || rs.num_deferred > 0) && !rs.error) {
        tagged t = rs.num_ready > 0 ? rs.ready[--rs.num_ready] : rs.deferred[--rs.num_deferred];
        process(&rs, &t);
    }
    while (rs.all_frames) frame_free(&rs, rs.all_frames);
    free(rs.ready);
    free(rs.deferred);
    free(rs.outputs);
    for (int i = 0; i < e->num_fetches && !rs.error; i++)
        if (!fetched[i])
            rs.error = pl_error(PL_INVALID_ARGUMENT, "Retval[%d] does not have value: fetched tensor of node '%s' is dead "
                                "or was never computed", i, e->nodes[e->num_nodes - e->num_fetches + i].name);
    if (rs.error)
        for (int i = 0; i < e->num_fetches; i++) {
            pl_tensor_unref(fetched[i]);
            fetched[i] = NULL;
        }
    return rs.error;
}

pl_status pl_exec_run(const pl_exec *e, const pl_run_options *opt, pl_tensor *const *feeds, pl_tensor **fetched) {
    struct pl_run run = {.session = e->session};
    struct pl__run_poll poll = {.busy = ATOMIC_FLAG_INIT};
    pl_tensor **taken = NULL;
    if (opt && opt->poll && opt->poll_every_ns > 0) {
        poll.fn = opt->poll;
        poll.arg = opt->poll_arg;
        poll.every_ns = opt->poll_every_ns;
        atomic_init(&poll.due_ns, poll_clock_ns() + opt->poll_every_ns);
        run.poll = &poll;
    }
    if (opt) {
        run.deadline_ns = opt->deadline_ns;
        run.cancelled = opt->cancelled;
        run.on_node = opt->on_node;
        run.on_node_arg = opt->on_node_arg;
        if (opt->take_feeds) {
            taken = calloc((size_t)e->num_feeds + 1, sizeof *taken);
            if (!taken) {
                for (int i = 0; i < e->num_feeds; i++) pl_tensor_unref(feeds[i]);
                return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            }
            memcpy(taken, feeds, (size_t)e->num_feeds * sizeof *taken);
        }
    }
    pl__run_threads threads;
    pl__run_threads_begin(&threads);
    run.threads = &threads;
    pl_status st = pl__exec_execute(e, &run, feeds, taken, fetched);
    pl__run_threads_end(&threads);
    /* Feeds no _Feed node consumed (an error stopped the run first). */
    for (int i = 0; taken && i < e->num_feeds; i++) pl_tensor_unref(taken[i]);
    free(taken);
    return st;
}

pl_status pl_exec_run_nested(const pl_exec *e, struct pl_run *parent, pl_tensor *const *feeds, pl_tensor **fetched) {
    struct pl_run run = *parent;
    run.call_depth++;
    return pl__exec_execute(e, &run, feeds, NULL, fetched);
}
