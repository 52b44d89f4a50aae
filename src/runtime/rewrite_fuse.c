/* Fusions made when an execution is prepared: Conv2D (or depthwise) followed
 * by BiasAdd and optionally a PReLU becomes one _PlFusedConv2D node, and a
 * PReLU written as element-wise ops becomes one _PlPReLU node.
 *
 * PReLU is recognised in the two shapes graphs spell it:
 *   Select(Greater(x, 0), x, Mul(x, alpha))                (tf-mtcnn, TF1 slim)
 *   Add(Relu(x), Mul(Mul(alpha, Sub(x, Abs(x))), 0.5))     (Keras-style, with
 *                                                            any operand order)
 * Both compute x > 0 ? x : alpha * x exactly (x - |x| is 2x, and halving is
 * exact), so the fused kernels give the same bits.
 *
 * A MaxPool over such a fused convolution joins it too (its attrs travel as
 * _pool_ksize/_pool_strides/_pool_padding): the kernel then runs the batch in
 * fixed-size chunks, so R-Net/O-Net's full-size activations never exist at
 * once and their oneDNN plans do not depend on the number of candidates.
 *
 * Chains of element-wise Add/Sub/Mul/RealDiv by scalar constants (an input
 * normalisation such as (x - 127.5) / 128) become one _PlScalarChain node: one
 * pass over the data and no intermediate tensor, each step rounded as the
 * separate ops round it.
 *
 * A node is absorbed only when nothing else sees its output: it has no other
 * consumer, is not fetched or fed, and carries no control edges out. The fused
 * node takes the name of the node whose output it replaces, so consumers and
 * fetches are untouched, and inherits every absorbed node's control inputs. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

#define MAX_ABSORBED 8

#define MAX_CHAIN 8

typedef struct fused_node {
    pl_node node;
    pl_endpoint inputs[MAX_CHAIN + 1];
    int *controls;
    /* Attrs of its own (a chain's "ops"), when it does not borrow a node's. */
    pl_attrs attrs;
    Tensorflow__AttrValue ops_value;
    char ops[MAX_CHAIN + 1];
} fused_node;

struct pl__rewrites {
    int n;
    fused_node *nodes;   /* capacity: one per graph node */
};

typedef struct scan {
    pl__rewrite_ctx *c;
    int *uses;           /* data edges out of each node, over needed nodes */
    int *control_uses;
    int *consumer;       /* the last node found consuming each node's output */
    bool *pinned;        /* fed or fetched */
    bool *absorbed;
    pl__rewrites *r;
} scan;

void pl__rewrites_free(pl__rewrites *r) {
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        free(r->nodes[i].controls);
        pl__attrs_deinit(&r->nodes[i].attrs);
    }
    free(r->nodes);
    free(r);
}

static const pl_node *node_of(const scan *s, int i) { return s->c->view[i]; }

static bool is_op(const scan *s, pl_endpoint ep, const char *op) {
    return ep.index == 0 && !strcmp(node_of(s, ep.node)->op, op);
}

static bool same_ep(pl_endpoint a, pl_endpoint b) { return a.node == b.node && a.index == b.index; }

static bool float_typed(const pl_node *n) { return pl_attr_type_or(n->attrs, "T", PL_DT_FLOAT) == PL_DT_FLOAT; }

/* Whether node i can disappear into a fused node that consumes its output
 * `edges` times: nobody else sees it. */
static bool absorbable(const scan *s, int i, int edges) {
    return s->c->needed[i] && !s->absorbed[i] && !s->pinned[i] && s->uses[i] == edges && s->control_uses[i] == 0 &&
           node_of(s, i)->num_outputs == 1 && float_typed(node_of(s, i));
}

/* A float Const holding the single value `want` (0 or 0.5), as a scalar. */
static bool is_scalar_const(const scan *s, pl_endpoint ep, float want) {
    if (!is_op(s, ep, "Const")) return false;
    pl_tensor *t = NULL;
    pl_status st = pl_attr_tensor(node_of(s, ep.node)->attrs, "value", &t);
    if (st) {
        pl_status_free(st);
        return false;
    }
    bool ok = t->dtype == PL_DT_FLOAT && t->rank == 0 && ((const float *)t->data)[0] == want;
    pl_tensor_unref(t);
    return ok;
}

/* ---- PReLU patterns: on a match, *x and *alpha are the operands and
 * absorbed[] the nodes the fused node replaces besides the root ---- */

typedef struct prelu_match {
    pl_endpoint x, alpha;
    int num_absorbed;
    int absorbed[MAX_ABSORBED];
    int x_edges;         /* edges from x inside the pattern */
} prelu_match;

/* Select(Greater(x, 0), x, Mul(x, alpha) or Mul(alpha, x)). */
static bool match_prelu_select(const scan *s, int root, prelu_match *m) {
    const pl_node *sel = node_of(s, root);
    if (strcmp(sel->op, "Select") || sel->num_inputs != 3 || !float_typed(sel)) return false;
    pl_endpoint cond = sel->inputs[0], x = sel->inputs[1], other = sel->inputs[2];
    if (!is_op(s, cond, "Greater") || !is_op(s, other, "Mul")) return false;
    const pl_node *gt = node_of(s, cond.node), *mul = node_of(s, other.node);
    if (gt->num_inputs != 2 || mul->num_inputs != 2) return false;
    if (!same_ep(gt->inputs[0], x) || !is_scalar_const(s, gt->inputs[1], 0.0f)) return false;
    int k = same_ep(mul->inputs[0], x) ? 0 : same_ep(mul->inputs[1], x) ? 1 : -1;
    if (k < 0 || !absorbable(s, cond.node, 1) || !absorbable(s, other.node, 1)) return false;
    m->x = x;
    m->alpha = mul->inputs[1 - k];
    m->num_absorbed = 2;
    m->absorbed[0] = cond.node;
    m->absorbed[1] = other.node;
    m->x_edges = same_ep(m->alpha, x) ? 4 : 3;
    return true;
}

/* Mul(alpha, Sub(x, Abs(x))) in either order; *inner is the Sub. */
static bool match_scaled_negative_part(const scan *s, pl_endpoint ep, pl_endpoint x, pl_endpoint *alpha,
                                       pl_endpoint *sub) {
    if (!is_op(s, ep, "Mul")) return false;
    const pl_node *mul = node_of(s, ep.node);
    if (mul->num_inputs != 2) return false;
    for (int k = 0; k < 2; k++) {
        pl_endpoint d = mul->inputs[k];
        if (!is_op(s, d, "Sub")) continue;
        const pl_node *sb = node_of(s, d.node);
        if (sb->num_inputs != 2 || !same_ep(sb->inputs[0], x) || !is_op(s, sb->inputs[1], "Abs")) continue;
        const pl_node *ab = node_of(s, sb->inputs[1].node);
        if (ab->num_inputs != 1 || !same_ep(ab->inputs[0], x)) continue;
        *alpha = mul->inputs[1 - k];
        *sub = d;
        return true;
    }
    return false;
}

/* Add(Relu(x), Mul(Mul(alpha, Sub(x, Abs(x))), 0.5)), operands in any order. */
static bool match_prelu_keras(const scan *s, int root, prelu_match *m) {
    const pl_node *add = node_of(s, root);
    if ((strcmp(add->op, "Add") && strcmp(add->op, "AddV2")) || add->num_inputs != 2 || !float_typed(add))
        return false;
    for (int k = 0; k < 2; k++) {
        pl_endpoint relu = add->inputs[k], neg = add->inputs[1 - k];
        if (!is_op(s, relu, "Relu") || !is_op(s, neg, "Mul")) continue;
        pl_endpoint x = node_of(s, relu.node)->inputs[0];
        const pl_node *half_mul = node_of(s, neg.node);
        if (half_mul->num_inputs != 2) continue;
        for (int h = 0; h < 2; h++) {
            pl_endpoint scaled = half_mul->inputs[h], alpha, sub, absn;
            if (!is_scalar_const(s, half_mul->inputs[1 - h], 0.5f)) continue;
            if (!match_scaled_negative_part(s, scaled, x, &alpha, &sub)) continue;
            absn = node_of(s, sub.node)->inputs[1];
            int nodes[] = {relu.node, neg.node, scaled.node, sub.node, absn.node};
            bool ok = node_of(s, relu.node)->num_inputs == 1;
            for (int i = 0; ok && i < 5; i++) ok = absorbable(s, nodes[i], 1);
            if (!ok || same_ep(alpha, x)) continue;
            m->x = x;
            m->alpha = alpha;
            m->num_absorbed = 5;
            memcpy(m->absorbed, nodes, sizeof nodes);
            m->x_edges = 3;
            return true;
        }
    }
    return false;
}

/* ---- building fused nodes ---- */

static pl_status add_controls(fused_node *f, const pl_node *n) {
    for (int k = 0; k < n->num_controls; k++) {
        bool seen = false;
        for (int j = 0; j < f->node.num_controls && !seen; j++) seen = f->controls[j] == n->controls[k];
        if (seen) continue;
        int *grown = realloc(f->controls, ((size_t)f->node.num_controls + 1) * sizeof *grown);
        if (!grown) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        f->controls = grown;
        f->controls[f->node.num_controls++] = n->controls[k];
    }
    f->node.controls = f->controls;
    return NULL;
}

/* Replaces node `root` by op `op` over `inputs`, with `attrs_from`'s attrs,
 * absorbing nodes[]. */
static pl_status emit(scan *s, int root, const char *op, const pl_node *attrs_from, int num_inputs,
                      const pl_endpoint *inputs, int num_absorbed, const int *absorbed) {
    fused_node *f = &s->r->nodes[s->r->n++];
    const pl_node *orig = node_of(s, root);
    f->node = *orig;
    f->node.op = op;
    f->node.attrs = attrs_from->attrs;
    f->node.num_inputs = num_inputs;
    memcpy(f->inputs, inputs, (size_t)num_inputs * sizeof *inputs);
    f->node.inputs = f->inputs;
    f->node.num_controls = 0;
    f->node.controls = NULL;
    PL_TRY(add_controls(f, orig));
    for (int i = 0; i < num_absorbed; i++) {
        PL_TRY(add_controls(f, node_of(s, absorbed[i])));
        s->absorbed[absorbed[i]] = true;
    }
    s->absorbed[root] = true;
    s->c->view[root] = &f->node;
    return NULL;
}

/* The convolution under BiasAdd node `bias_node`, when the pair can fuse. */
static int conv_under_bias(const scan *s, int bias_node) {
    const pl_node *b = node_of(s, bias_node);
    if ((strcmp(b->op, "BiasAdd") && strcmp(b->op, "BiasAddV1")) || b->num_inputs != 2) return -1;
    if (!float_typed(b) || pl_attr_string_equals(b->attrs, "data_format", "NCHW")) return -1;
    pl_endpoint v = b->inputs[0];
    if (!is_op(s, v, "Conv2D") && !is_op(s, v, "DepthwiseConv2dNative")) return -1;
    const pl_node *conv = node_of(s, v.node);
    if (conv->num_inputs != 2 || !absorbable(s, v.node, 1)) return -1;
    if (pl_attr_string_equals(conv->attrs, "data_format", "NCHW")) return -1;
    return v.node;
}

static const char *fused_conv_op(const pl_node *conv) {
    return strcmp(conv->op, "Conv2D") ? "_PlFusedDepthwiseConv2dNative" : "_PlFusedConv2D";
}

static pl_status fuse_prelus(scan *s) {
    const pl_graph *g = s->c->g;
    for (int i = 0; i < g->num_nodes; i++) {
        if (!s->c->needed[i] || s->absorbed[i]) continue;
        prelu_match m;
        if (!match_prelu_select(s, i, &m) && !match_prelu_keras(s, i, &m)) continue;
        int conv = m.x.index == 0 && absorbable(s, m.x.node, m.x_edges) ? conv_under_bias(s, m.x.node) : -1;
        if (conv >= 0) {
            const pl_node *cn = node_of(s, conv), *bn = node_of(s, m.x.node);
            pl_endpoint in[4] = {cn->inputs[0], cn->inputs[1], bn->inputs[1], m.alpha};
            m.absorbed[m.num_absorbed++] = m.x.node;
            m.absorbed[m.num_absorbed++] = conv;
            PL_TRY(emit(s, i, fused_conv_op(cn), cn, 4, in, m.num_absorbed, m.absorbed));
        } else {
            pl_endpoint in[2] = {m.x, m.alpha};
            PL_TRY(emit(s, i, "_PlPReLU", node_of(s, i), 2, in, m.num_absorbed, m.absorbed));
        }
    }
    return NULL;
}

static bool is_fused_conv(const pl_node *n) {
    return !strcmp(n->op, "_PlFusedConv2D") || !strcmp(n->op, "_PlFusedDepthwiseConv2dNative");
}

/* MaxPool over a fused convolution nobody else sees. */
static pl_status fuse_conv_pool(scan *s) {
    const pl_graph *g = s->c->g;
    static const char *const pool_keys[] = {"ksize", "strides", "padding"};
    static const char *const new_keys[] = {"_pool_ksize", "_pool_strides", "_pool_padding"};
    for (int i = 0; i < g->num_nodes; i++) {
        if (!s->c->needed[i] || s->absorbed[i]) continue;
        const pl_node *pool = node_of(s, i);
        if (strcmp(pool->op, "MaxPool") || pool->num_inputs != 1 || !float_typed(pool) ||
            pl_attr_string_equals(pool->attrs, "data_format", "NCHW"))
            continue;
        pl_endpoint x = pool->inputs[0];
        const pl_node *conv = node_of(s, x.node);
        if (x.index != 0 || !is_fused_conv(conv) || s->pinned[x.node] || s->uses[x.node] != 1 ||
            s->control_uses[x.node] != 0)
            continue;
        const Tensorflow__AttrValue *pv[3];
        bool ok = true;
        for (int k = 0; k < 3 && ok; k++) ok = (pv[k] = pl__attrs_get(pool->attrs, pool_keys[k])) != NULL;
        if (!ok || conv->attrs->n > 64) continue;
        const char *keys[64 + 3];
        const Tensorflow__AttrValue *values[64 + 3];
        int n = 0;
        for (int k = 0; k < conv->attrs->n; k++) {
            keys[n] = conv->attrs->items[k].name;
            values[n++] = conv->attrs->items[k].value;
        }
        for (int k = 0; k < 3; k++) {
            keys[n] = new_keys[k];
            values[n++] = pv[k];
        }
        fused_node *f = &s->r->nodes[s->r->n];
        int absorbed = x.node;
        PL_TRY(emit(s, i, conv->op, conv, conv->num_inputs, conv->inputs, 1, &absorbed));
        PL_TRY(pl__attrs_init(&f->attrs, (size_t)n, keys, values));
        f->node.attrs = &f->attrs;
    }
    return NULL;
}

static pl_status fuse_conv_bias(scan *s) {
    const pl_graph *g = s->c->g;
    for (int i = 0; i < g->num_nodes; i++) {
        if (!s->c->needed[i] || s->absorbed[i]) continue;
        const pl_node *b = node_of(s, i);
        if (strcmp(b->op, "BiasAdd") && strcmp(b->op, "BiasAddV1")) continue;
        int conv = conv_under_bias(s, i);
        if (conv < 0) continue;
        const pl_node *cn = node_of(s, conv);
        pl_endpoint in[3] = {cn->inputs[0], cn->inputs[1], b->inputs[1]};
        PL_TRY(emit(s, i, fused_conv_op(cn), cn, 3, in, 1, &conv));
    }
    return NULL;
}

/* ---- scalar chains ---- */

/* The step code of binary node n applied to `x` with its other operand a
 * scalar float Const (*c): 'a' x+c, 's' x-c, 'S' c-x, 'm' x*c, 'd' x/c,
 * 'D' c/x; 0 when n is no such step. */
static char chain_step(const scan *s, const pl_node *n, pl_endpoint *x, pl_endpoint *c) {
    static const char *const ops[] = {"Add", "AddV2", "Sub", "Mul", "RealDiv"};
    static const char codes[][2] = {{'a', 'a'}, {'a', 'a'}, {'s', 'S'}, {'m', 'm'}, {'d', 'D'}};
    if (n->num_inputs != 2 || !float_typed(n)) return 0;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        if (strcmp(n->op, ops[k])) continue;
        for (int side = 1; side >= 0; side--) {
            pl_endpoint cst = n->inputs[side];
            if (!is_op(s, cst, "Const")) continue;
            pl_tensor *t = NULL;
            pl_status st = pl_attr_tensor(node_of(s, cst.node)->attrs, "value", &t);
            bool scalar = !st && t->dtype == PL_DT_FLOAT && t->rank == 0;
            pl_status_free(st);
            pl_tensor_unref(t);
            if (!scalar) continue;
            *x = n->inputs[1 - side];
            *c = cst;
            return codes[k][side == 1 ? 0 : 1];
        }
    }
    return 0;
}

static pl_status fuse_scalar_chains(scan *s) {
    const pl_graph *g = s->c->g;
    for (int i = 0; i < g->num_nodes; i++) {
        if (!s->c->needed[i] || s->absorbed[i]) continue;
        pl_endpoint x, cst[MAX_CHAIN];
        char codes[MAX_CHAIN];
        int absorbed[MAX_CHAIN], n = 0;
        char code = chain_step(s, node_of(s, i), &x, &cst[0]);
        if (!code) continue;
        /* A step whose only consumer is a step too is absorbed from there. */
        pl_endpoint ux, uc;
        int up = s->consumer[i];
        if (absorbable(s, i, 1) && !s->absorbed[up] && s->c->needed[up] && chain_step(s, node_of(s, up), &ux, &uc) &&
            ux.node == i && ux.index == 0)
            continue;
        codes[n++] = code;
        /* Walk down while the operand is itself a step nobody else sees. */
        while (n < MAX_CHAIN && x.index == 0 && absorbable(s, x.node, 1)) {
            pl_endpoint below, c;
            char k = chain_step(s, node_of(s, x.node), &below, &c);
            if (!k) break;
            absorbed[n - 1] = x.node;
            cst[n] = c;
            codes[n++] = k;
            x = below;
        }
        if (n < 2) continue;
        pl_endpoint in[MAX_CHAIN + 1];
        in[0] = x;
        fused_node *f = &s->r->nodes[s->r->n];
        for (int k = 0; k < n; k++) {
            in[1 + k] = cst[n - 1 - k];       /* bottom step first */
            f->ops[k] = codes[n - 1 - k];
        }
        f->ops[n] = 0;
        PL_TRY(emit(s, i, "_PlScalarChain", node_of(s, i), n + 1, in, n - 1, absorbed));
        tensorflow__attr_value__init(&f->ops_value);
        f->ops_value.value_case = TENSORFLOW__ATTR_VALUE__VALUE_S;
        f->ops_value.s.data = (uint8_t *)f->ops;
        f->ops_value.s.len = (size_t)n;
        const char *key = "ops";
        const Tensorflow__AttrValue *value = &f->ops_value;
        PL_TRY(pl__attrs_init(&f->attrs, 1, &key, &value));
        f->node.attrs = &f->attrs;
    }
    return NULL;
}

static void count_uses(scan *s) {
    pl__rewrite_ctx *c = s->c;
    for (int i = 0; i < c->g->num_nodes; i++) {
        if (!c->needed[i]) continue;
        const pl_node *n = node_of(s, i);
        for (int k = 0; k < n->num_inputs; k++) {
            s->uses[n->inputs[k].node]++;
            s->consumer[n->inputs[k].node] = i;
        }
        for (int k = 0; k < n->num_controls; k++) s->control_uses[n->controls[k]]++;
    }
    for (int i = 0; i < c->num_feeds; i++) s->pinned[c->feeds[i].node] = true;
    for (int i = 0; i < c->num_fetches; i++) s->pinned[c->fetches[i].node] = true;
}

pl_status pl__rewrite_fuse(pl__rewrite_ctx *c, pl__rewrites **out) {
    *out = NULL;
    size_t n = (size_t)c->g->num_nodes + 1;
    scan s = {.c = c};
    s.uses = calloc(n, sizeof *s.uses);
    s.control_uses = calloc(n, sizeof *s.control_uses);
    s.consumer = calloc(n, sizeof *s.consumer);
    s.pinned = calloc(n, sizeof *s.pinned);
    s.absorbed = calloc(n, sizeof *s.absorbed);
    s.r = calloc(1, sizeof *s.r);
    if (s.r) s.r->nodes = calloc(n, sizeof *s.r->nodes);
    pl_status st = NULL;
    if (!s.uses || !s.control_uses || !s.consumer || !s.pinned || !s.absorbed || !s.r || !s.r->nodes)
        st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st) {
        count_uses(&s);
        st = fuse_prelus(&s);
    }
    if (!st) st = fuse_conv_bias(&s);
    if (!st) st = fuse_conv_pool(&s);
    if (!st) st = fuse_scalar_chains(&s);
    free(s.uses);
    free(s.control_uses);
    free(s.consumer);
    free(s.pinned);
    free(s.absorbed);
    if (st || (s.r && s.r->n == 0)) {
        if (st) {
            for (int i = 0; i < c->g->num_nodes; i++) c->view[i] = &c->g->nodes[i];
        }
        pl__rewrites_free(s.r);
        return st;
    }
    *out = s.r;
    return NULL;
}
