/* Static shape and type inference, the way TensorFlow's ShapeRefiner does it
 * when a GraphDef is imported: one pass in topological order (a loop's back
 * edge is seen as unknown), each op's shape function (shape_fns.c), and
 * constant evaluation of the inputs a shape function asks for — Const
 * values, shapes already known (tf.shape(x), tf.shape(x)[i], rank, size),
 * and otherwise the constant subgraph behind the input run through the
 * kernels. The results describe a frozen graph's signature. */
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/internal.h"

/* Constant subgraphs deeper than this are not evaluated. */
#define MAX_EVAL_DEPTH 512

enum { V_UNTRIED = 0, V_BUSY, V_DONE };

typedef struct infer_state {
    const pl_graph *g;
    int producer;
    pl__tensor_type **types;
    bool *inferred;
    pl_tensor ***values;       /* per node output, once evaluated */
    unsigned char **vstate;
    pl__tensor_type unknown;
    int depth;
} infer_state;

static const pl__tensor_type *output_type(infer_state *s, pl_endpoint ep) {
    if (!s->inferred[ep.node] || ep.index >= s->g->nodes[ep.node].num_outputs) return &s->unknown;
    return &s->types[ep.node][ep.index];
}

/* ---- constant evaluation ---- */

static bool is_int_dtype(pl_dtype d) { return d == PL_DT_INT32 || d == PL_DT_INT64; }

static pl_status int_tensor(pl_dtype dtype, int rank, const int64_t *values, int64_t n, pl_tensor **out) {
    int64_t dims[1] = {n};
    PL_TRY(pl_tensor_alloc(dtype, rank, dims, out));
    for (int64_t i = 0; i < n; i++) {
        if (dtype == PL_DT_INT32) {
            if (values[i] >= INT32_MAX) {
                pl_tensor_unref(*out);
                return pl_error(PL_INVALID_ARGUMENT, "Value is out of int32 range: %lld", (long long)values[i]);
            }
            ((int32_t *)(*out)->data)[i] = (int32_t)values[i];
        } else {
            ((int64_t *)(*out)->data)[i] = values[i];
        }
    }
    return NULL;
}

static bool fully_defined(const pl__tensor_type *t) {
    if (t->rank < 0) return false;
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] < 0) return false;
    return true;
}

static bool int_attr_is(const pl_node *n, const char *name, int64_t want) {
    const Tensorflow__AttrValue *v = pl__attrs_get(n->attrs, name);
    return v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_I && v->i == want;
}

/* A Const node's single int32/int64 element. */
static bool int_const(const pl_node *n, int64_t *out) {
    if (strcmp(n->op, "Const")) return false;
    pl_tensor *t;
    pl_status st = pl_attr_tensor(n->attrs, "value", &t);
    if (st) {
        pl_status_free(st);
        return false;
    }
    bool ok = is_int_dtype(t->dtype) && t->count == 1;
    if (ok) *out = pl_tensor_get_i64(t, 0);
    pl_tensor_unref(t);
    return ok;
}

/* TryInferFromShapes: tf.shape(x), tf.rank(x), tf.size(x), tf.shape(x)[i]
 * and tf.unstack(tf.shape(x))[i] from shapes already inferred. */
static pl_tensor *infer_from_shapes(infer_state *s, int node, int output) {
    const pl_node *n = &s->g->nodes[node];
    if (n->num_inputs == 0 || !s->inferred[node]) return NULL;
    pl_dtype dtype = s->types[node][output].dtype;
    if (!is_int_dtype(dtype)) return NULL;
    const pl__tensor_type *in = output_type(s, n->inputs[0]);
    int64_t data[PL_MAX_RANK];
    int rank = -1;
    int64_t count = 0;
    if (!strcmp(n->op, "Shape")) {
        if (fully_defined(in)) {
            for (int i = 0; i < in->rank; i++) data[i] = in->dims[i];
            rank = 1;
            count = in->rank;
        }
    } else if (!strcmp(n->op, "Rank")) {
        if (in->rank >= 0) data[0] = in->rank, rank = 0, count = 1;
    } else if (!strcmp(n->op, "Size")) {
        if (fully_defined(in)) {
            int64_t size = 1;
            for (int i = 0; i < in->rank; i++) size *= in->dims[i];
            data[0] = size, rank = 0, count = 1;
        }
    } else if (!strcmp(s->g->nodes[n->inputs[0].node].op, "Shape")) {
        int src = n->inputs[0].node;
        const pl__tensor_type *x = s->g->nodes[src].num_inputs ? output_type(s, s->g->nodes[src].inputs[0]) : &s->unknown;
        int64_t ix = 0;
        bool have = false;
        if (!strcmp(n->op, "Unpack")) {
            have = int_attr_is(n, "axis", 0);
            ix = output;
        } else if (!strcmp(n->op, "StridedSlice") && n->num_inputs > 1 && int_attr_is(n, "begin_mask", 0) &&
                   int_attr_is(n, "end_mask", 0) && int_attr_is(n, "ellipsis_mask", 0) &&
                   int_attr_is(n, "new_axis_mask", 0) && int_attr_is(n, "shrink_axis_mask", 1)) {
            have = int_const(&s->g->nodes[n->inputs[1].node], &ix);
        }
        if (have && x->rank >= 0 && -x->rank <= ix && ix < x->rank) {
            int64_t d = x->dims[ix < 0 ? ix + x->rank : ix];
            if (d >= 0) data[0] = d, rank = 0, count = 1;
        }
    }
    if (rank < 0) return NULL;
    pl_tensor *t = NULL;
    pl_status st = int_tensor(dtype, rank, data, count, &t);
    pl_status_free(st);
    return t;
}

static bool supported_for_evaluation(infer_state *s, int node) {
    const pl_node *n = &s->g->nodes[node];
    pl__node_kind kind = s->g->kinds[node];
    if (!strcmp(n->op, "Const")) return true;
    if (n->num_inputs == 0 || !strcmp(n->op, "PlaceholderWithDefault")) return false;
    if (kind == PL__KIND_MERGE || kind == PL__KIND_ENTER || kind == PL__KIND_EXIT) return false;
    if (kind != PL__KIND_OP) return true; /* Switch, NextIteration, LoopCond run like kernels */
    const pl_kernel_def *k = pl_kernel_find(n->op);
    return k && k->compute && !(k->flags & PL_KERNEL_STATEFUL);
}

static pl_tensor *evaluate(infer_state *s, int node, int output, bool target);

/* Runs one node on constant inputs; stores every output it produced. */
static void run_node(infer_state *s, int node) {
    const pl_node *n = &s->g->nodes[node];
    pl__node_kind kind = s->g->kinds[node];
    pl_tensor *in[64] = {0}, *out[64] = {0};
    if (n->num_inputs > 64 || n->num_outputs > 64) return;
    for (int i = 0; i < n->num_inputs; i++)
        if (!(in[i] = evaluate(s, n->inputs[i].node, n->inputs[i].index, false))) return;
    if (kind == PL__KIND_SWITCH) {
        if (n->num_inputs != 2 || in[1]->dtype != PL_DT_BOOL || in[1]->count != 1) return;
        out[*(uint8_t *)in[1]->data ? 1 : 0] = pl_tensor_ref(in[0]);
    } else if (kind != PL__KIND_OP) {
        if (n->num_inputs < 1) return;
        out[0] = pl_tensor_ref(in[0]);
    } else {
        pl_status st = pl__eval_node(n, pl_kernel_find(n->op), s->g->lib, NULL, in, n->num_outputs, out);
        if (st) {
            pl_status_free(st);
            return;
        }
    }
    for (int i = 0; i < n->num_outputs; i++) {
        if (s->vstate[node][i] != V_DONE) {
            s->values[node][i] = out[i];
            s->vstate[node][i] = V_DONE;
        } else {
            pl_tensor_unref(out[i]);
        }
    }
    for (int i = n->num_outputs; i < 64; i++) pl_tensor_unref(out[i]);
}

/* EvaluateConstantTensor for (node, output); borrowed result or NULL. */
static pl_tensor *evaluate(infer_state *s, int node, int output, bool target) {
    const pl_node *n = &s->g->nodes[node];
    if (output >= n->num_outputs) return NULL;
    unsigned char *state = &s->vstate[node][output];
    if (*state == V_DONE) return s->values[node][output];
    if (*state == V_BUSY || s->depth > MAX_EVAL_DEPTH) return NULL;
    *state = V_BUSY;
    pl_tensor *v = NULL;
    if (!strcmp(n->op, "Const")) {
        pl_status st = pl_attr_tensor(n->attrs, "value", &v);
        if (st) pl_status_free(st), v = NULL;
    } else if (!(v = infer_from_shapes(s, node, output)) &&
               ((target && s->g->kinds[node] == PL__KIND_ENTER) || supported_for_evaluation(s, node))) {
        s->depth++;
        run_node(s, node);
        s->depth--;
        if (*state == V_DONE) return s->values[node][output];
    }
    s->values[node][output] = v;
    *state = V_DONE;
    return v;
}

const pl_tensor *pl__infer_input_value(pl__infer *c, int i) {
    if (i < 0 || i >= c->n->num_inputs) return NULL;
    infer_state *s = c->state;
    return evaluate(s, c->n->inputs[i].node, c->n->inputs[i].index, true);
}

/* ---- shape tensors ---- */

static void set_unknown(pl__tensor_type *t) {
    t->rank = -1;
}

static bool int_scalar(const pl_tensor *t, int64_t *out) {
    if (!t || !is_int_dtype(t->dtype) || t->rank != 0) return false;
    *out = pl_tensor_get_i64(t, 0);
    return true;
}

/* InferenceContext::MakeShapeFromTensor: a 1-D int tensor (-1 = unknown dim)
 * or, without a value, as many unknown dims as the vector has elements. */
static pl_status shape_from_tensor(const pl_tensor *t, const pl__tensor_type *tshape, pl__tensor_type *out) {
    if (!t) {
        if (tshape->rank == 1 && tshape->dims[0] >= 0 && tshape->dims[0] <= PL_MAX_RANK) {
            out->rank = (int)tshape->dims[0];
            for (int i = 0; i < out->rank; i++) out->dims[i] = -1;
        } else {
            set_unknown(out);
        }
        return NULL;
    }
    if (!is_int_dtype(t->dtype)) return pl_error(PL_INVALID_ARGUMENT, "Input tensor must be int32 or int64");
    if (t->rank == 0) {
        if (pl_tensor_get_i64(t, 0) != -1)
            return pl_error(PL_INVALID_ARGUMENT, "Input tensor must be rank 1, or if its rank 0 it must have value -1 "
                            "(representing an unknown shape)");
        set_unknown(out);
        return NULL;
    }
    if (t->rank != 1) return pl_error(PL_INVALID_ARGUMENT, "Shape must be rank 1");
    if (t->count > PL_MAX_RANK) return pl_error(PL_UNIMPLEMENTED, "shape has too many dimensions");
    out->rank = (int)t->count;
    for (int i = 0; i < out->rank; i++) {
        int64_t v = pl_tensor_get_i64(t, i);
        if (v < -1) return pl_error(PL_INVALID_ARGUMENT, "Invalid value in tensor used for shape: %lld", (long long)v);
        out->dims[i] = v;
    }
    return NULL;
}

/* The value of a scalar int input of `node`, evaluated as a constant. */
static bool const_int_input(infer_state *s, int node, int i, int64_t *out) {
    const pl_node *n = &s->g->nodes[node];
    if (i >= n->num_inputs) return false;
    return int_scalar(evaluate(s, n->inputs[i].node, n->inputs[i].index, true), out);
}

static pl_status constant_partial_shape(infer_state *s, int node, int i, pl__tensor_type *out);

/* PartialStridedSliceShape: a slice of a shape vector with scalar bounds. */
static pl_status strided_slice_shape(infer_state *s, int node, pl__tensor_type *out) {
    const pl_node *n = &s->g->nodes[node];
    set_unknown(out);
    if (n->num_inputs < 4) return NULL;
    for (int i = 1; i <= 3; i++) {
        const pl__tensor_type *t = output_type(s, n->inputs[i]);
        if (t->rank < 1 || t->dims[0] != 1) return NULL;
    }
    int64_t bm = pl_attr_int_or(n->attrs, "begin_mask", 0), em = pl_attr_int_or(n->attrs, "end_mask", 0);
    if (!(bm == 0 || bm == 1) || !(em == 0 || em == 1) || pl_attr_int_or(n->attrs, "ellipsis_mask", 0) ||
        pl_attr_int_or(n->attrs, "new_axis_mask", 0) || pl_attr_int_or(n->attrs, "shrink_axis_mask", 0))
        return NULL;
    int64_t begin = 0, end = INT64_MAX, stride;
    if (bm != 1 && !const_int_input(s, node, 1, &begin)) return NULL;
    if (em != 1 && !const_int_input(s, node, 2, &end)) return NULL;
    if (!const_int_input(s, node, 3, &stride)) return NULL;
    pl__tensor_type in;
    PL_TRY(constant_partial_shape(s, node, 0, &in));
    return pl__subshape(&in, begin, end, stride, out);
}

/* ShapeRefiner::ConstantPartialShape for input i of `node`. */
static pl_status constant_partial_shape(infer_state *s, int node, int i, pl__tensor_type *out) {
    const pl_node *n = &s->g->nodes[node];
    set_unknown(out);
    if (i >= n->num_inputs || s->depth > MAX_EVAL_DEPTH) return NULL;
    pl_endpoint ep = n->inputs[i];
    const pl_node *src = &s->g->nodes[ep.node];
    const pl__tensor_type *sshape = output_type(s, ep);
    if (sshape->rank == 0) {
        pl_tensor *t = evaluate(s, ep.node, ep.index, true);
        if (!t)
            return pl_error(PL_INVALID_ARGUMENT, "Received a shape scalar with unknown static value.  A static value of "
                            "'-1' is required to represent an unknown shape.");
        if (t->rank == 0 && is_int_dtype(t->dtype) && pl_tensor_get_i64(t, 0) == -1) return NULL;
        return pl_error(PL_INVALID_ARGUMENT, "Received an invalid shape scalar with a static value");
    }
    if (sshape->rank > 1) return pl_error(PL_INVALID_ARGUMENT, "Shape must be rank 1 but is rank %d", sshape->rank);
    pl__tensor_type vec = *sshape;
    if (vec.rank < 0) vec.rank = 1, vec.dims[0] = -1;
    s->depth++;
    pl_status st = NULL;
    if (vec.dims[0] == 0) {
        out->rank = 0;
    } else if (!strcmp(src->op, "Cast")) {
        pl_tensor *t = evaluate(s, ep.node, ep.index, true);
        pl__tensor_type got;
        pl_status e = t ? shape_from_tensor(t, &vec, &got) : pl_error(PL_INVALID_ARGUMENT, "not evaluated");
        if (!e) {
            *out = got;
        } else {
            pl_status_free(e);
            pl__tensor_type pre;
            st = constant_partial_shape(s, ep.node, 0, &pre);
            if (st) {
                pl_status_free(st);
                st = shape_from_tensor(NULL, &vec, out);
            } else if (pre.rank < 0) {
                set_unknown(out);
            } else {
                pl_dtype dst = pl_attr_type_or(src->attrs, "DstT", PL_DT_INVALID);
                *out = pre;
                if (!is_int_dtype(dst))
                    for (int d = 0; d < out->rank; d++) out->dims[d] = -1;
            }
        }
    } else if (!strcmp(src->op, "Shape")) {
        *out = src->num_inputs ? *output_type(s, src->inputs[0]) : s->unknown;
    } else if (!strcmp(src->op, "ShapeN")) {
        *out = ep.index < src->num_inputs ? *output_type(s, src->inputs[ep.index]) : s->unknown;
    } else if (!strcmp(src->op, "Pack")) {
        if (src->num_inputs > PL_MAX_RANK) {
            set_unknown(out);
        } else {
            out->rank = src->num_inputs;
            for (int k = 0; k < src->num_inputs; k++) {
                int64_t v;
                out->dims[k] = const_int_input(s, ep.node, k, &v) && v >= 0 ? v : -1;
            }
        }
    } else if (!strcmp(src->op, "Concat") || !strcmp(src->op, "ConcatV2")) {
        int axis_input = !strcmp(src->op, "Concat") ? 0 : src->num_inputs - 1;
        out->rank = 0;
        for (int k = 0; k < src->num_inputs && !st; k++) {
            if (k == axis_input) continue;
            pl__tensor_type sub;
            st = constant_partial_shape(s, ep.node, k, &sub);
            if (st) break;
            if (sub.rank < 0 || out->rank + sub.rank > PL_MAX_RANK) {
                set_unknown(out);
                break;
            }
            for (int d = 0; d < sub.rank; d++) out->dims[out->rank++] = sub.dims[d];
        }
    } else if (!strcmp(src->op, "StridedSlice")) {
        st = strided_slice_shape(s, ep.node, out);
    } else {
        st = shape_from_tensor(evaluate(s, ep.node, ep.index, true), &vec, out);
    }
    s->depth--;
    return st;
}

pl_status pl__infer_input_as_shape(pl__infer *c, int i, pl__tensor_type *out) {
    infer_state *s = c->state;
    set_unknown(out);
    if (i >= c->n->num_inputs) return NULL;
    const pl__tensor_type *tshape = c->in[i];
    if (tshape->rank > 1) return pl_error(PL_INVALID_ARGUMENT, "Shape must be at most rank 1 but is rank %d", tshape->rank);
    pl__tensor_type partial;
    PL_TRY(constant_partial_shape(s, c->node, i, &partial));
    if (partial.rank >= 0) {
        *out = partial;
        return NULL;
    }
    return shape_from_tensor(NULL, tshape, out);
}

/* ---- the pass ---- */

static pl_dtype default_dtype(const pl_node *n) {
    static const char *const attrs[] = {"T", "dtype", "out_type", "DstT", "Tout", "output_type", "Tparams", NULL};
    for (int i = 0; attrs[i]; i++) {
        pl_dtype d = pl_attr_type_or(n->attrs, attrs[i], PL_DT_INVALID);
        if (d != PL_DT_INVALID) return d;
    }
    return PL_DT_INVALID;
}

static void infer_node(infer_state *s, int node) {
    const pl_node *n = &s->g->nodes[node];
    pl__tensor_type *out = s->types[node];
    pl_dtype d = default_dtype(n);
    for (int k = 0; k < n->num_outputs; k++) {
        out[k].dtype = d;
        out[k].rank = -1;
    }
    /* Calls and functional control flow list their output types. */
    const char *list_attr = pl_attr_has(n->attrs, "Tout") ? "Tout" : pl_attr_has(n->attrs, "T") ? "T" : NULL;
    const pl_dtype *types = NULL;
    int ntypes = 0;
    if (list_attr) {
        pl_status st = pl_attr_type_list(n->attrs, list_attr, &types, &ntypes);
        if (st) pl_status_free(st), ntypes = 0;
    }
    for (int k = 0; k < n->num_outputs && k < ntypes; k++) out[k].dtype = types[k];
    const pl__tensor_type *in_small[16];
    const pl__tensor_type **in = n->num_inputs <= 16 ? in_small : malloc((size_t)n->num_inputs * sizeof *in);
    if (in) {
        for (int k = 0; k < n->num_inputs; k++) in[k] = output_type(s, n->inputs[k]);
        pl__shape_fn fn = pl__shape_fn_find(n->op);
        if (fn) {
            pl__infer c = {s, s->g, node, n, s->producer, in, out};
            pl_status st = fn(&c);
            if (st) {
                /* A shape function that fails leaves what it could not infer unknown. */
                pl_status_free(st);
                for (int k = 0; k < n->num_outputs; k++) out[k].rank = -1;
            }
        }
        for (int k = 0; k < n->num_outputs; k++)
            if (out[k].rank > PL_MAX_RANK) out[k].rank = -1;
        if (in != in_small) free(in);
    }
    s->inferred[node] = true;
}

void pl__types_free(pl__tensor_type **types, const pl_graph *g) {
    if (!types) return;
    for (int i = 0; i < g->num_nodes; i++) free(types[i]);
    free(types);
}

static int *topological_order(const pl_graph *g) {
    int n = g->num_nodes;
    int *indeg = calloc((size_t)n + 1, sizeof *indeg), *order = malloc(((size_t)n + 1) * sizeof *order);
    int *start = calloc((size_t)n + 2, sizeof *start), *dst = NULL;
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (size_t)g->nodes[i].num_inputs + (size_t)g->nodes[i].num_controls;
    dst = malloc((total + 1) * sizeof *dst);
    if (!indeg || !order || !start || !dst) {
        free(indeg), free(order), free(start), free(dst);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const pl_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->num_inputs + nd->num_controls; k++) {
            int src = k < nd->num_inputs ? nd->inputs[k].node : nd->controls[k - nd->num_inputs];
            start[src + 1]++;
            if (g->kinds[src] != PL__KIND_NEXT_ITERATION) indeg[i]++;
        }
    }
    for (int i = 0; i < n; i++) start[i + 1] += start[i];
    int *fill = calloc((size_t)n + 1, sizeof *fill);
    if (!fill) {
        free(indeg), free(order), free(start), free(dst);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const pl_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->num_inputs + nd->num_controls; k++) {
            int src = k < nd->num_inputs ? nd->inputs[k].node : nd->controls[k - nd->num_inputs];
            dst[start[src] + fill[src]++] = i;
        }
    }
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (!indeg[i]) order[tail++] = i;
    while (head < tail) {
        int v = order[head++];
        if (g->kinds[v] == PL__KIND_NEXT_ITERATION) continue;
        for (int k = start[v]; k < start[v + 1]; k++)
            if (--indeg[dst[k]] == 0) order[tail++] = dst[k];
    }
    free(indeg), free(start), free(dst), free(fill);
    return order; /* import guarantees every node is reached */
}

pl_status pl__infer_types(const pl_graph *g, pl__tensor_type ***out) {
    infer_state s = {.g = g, .producer = pl_graph_producer(g)};
    s.unknown.dtype = PL_DT_INVALID;
    s.unknown.rank = -1;
    size_t n = (size_t)g->num_nodes + 1;
    s.types = calloc(n, sizeof *s.types);
    s.inferred = calloc(n, sizeof *s.inferred);
    s.values = calloc(n, sizeof *s.values);
    s.vstate = calloc(n, sizeof *s.vstate);
    int *order = topological_order(g);
    pl_status st = !s.types || !s.inferred || !s.values || !s.vstate || !order
                       ? pl_error(PL_RESOURCE_EXHAUSTED, "out of memory")
                       : NULL;
    for (int i = 0; !st && i < g->num_nodes; i++) {
        size_t k = (size_t)g->nodes[i].num_outputs;
        s.types[i] = calloc(k, sizeof **s.types);
        s.values[i] = calloc(k, sizeof **s.values);
        s.vstate[i] = calloc(k, 1);
        if (!s.types[i] || !s.values[i] || !s.vstate[i]) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (int t = 0; !st && t < g->num_nodes; t++) infer_node(&s, order[t]);
    for (int i = 0; s.values && i < g->num_nodes; i++) {
        if (s.values[i])
            for (int k = 0; k < g->nodes[i].num_outputs; k++) pl_tensor_unref(s.values[i][k]);
        free(s.values ? s.values[i] : NULL);
        free(s.vstate ? s.vstate[i] : NULL);
    }
    free(s.values);
    free(s.vstate);
    free(s.inferred);
    free(order);
    if (st) {
        pl__types_free(s.types, g);
        return st;
    }
    *out = s.types;
    return NULL;
}
