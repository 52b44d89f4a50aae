/* Function instantiation: a FunctionDef plus the caller's attrs become an
 * ordinary graph (args as feeds, rets as fetches, control_rets as targets)
 * which is then prepared like any other. */
#include "runtime/function.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/internal.h"

/* Function bodies that instantiate functions deeper than this are recursive
 * or hostile. */
#define MAX_INSTANTIATION_DEPTH 32

struct pl_function_lib {
    const Tensorflow__FunctionDefLibrary *def;
};

struct pl_function {
    pl_graph *body;
    pl_exec *exec;
    int num_args, num_rets;
};

pl_status pl_function_lib_new(const Tensorflow__FunctionDefLibrary *def, pl_function_lib **out) {
    pl_function_lib *lib = calloc(1, sizeof *lib);
    if (!lib) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    lib->def = def;
    *out = lib;
    return NULL;
}

void pl_function_lib_free(pl_function_lib *lib) { free(lib); }

const Tensorflow__FunctionDef *pl_function_lib_find(const pl_function_lib *lib, const char *name) {
    if (!lib || !lib->def) return NULL;
    for (size_t i = 0; i < lib->def->n_function; i++) {
        const Tensorflow__FunctionDef *f = lib->def->function[i];
        if (f && f->signature && f->signature->name && !strcmp(f->signature->name, name)) return f;
    }
    return NULL;
}

int pl_function_num_args(const pl_function *f) { return f->num_args; }
int pl_function_num_rets(const pl_function *f) { return f->num_rets; }

void pl_function_free(pl_function *f) {
    if (!f) return;
    pl_exec_free(f->exec);
    pl_graph_free(f->body);
    free(f);
}

pl_status pl_function_call(const pl_function *f, struct pl_run *run, pl_tensor *const *args, pl_tensor **rets) {
    return pl_exec_run_nested(f->exec, run, args, rets);
}

/* ---- temporary allocations, freed once the body is packed ---- */

typedef struct pool {
    void **items;
    size_t n, cap;
    bool failed;
} pool;

static void *pool_alloc(pool *p, size_t size) {
    if (p->failed) return NULL;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        void **grown = realloc(p->items, cap * sizeof *grown);
        if (!grown) {
            p->failed = true;
            return NULL;
        }
        p->items = grown;
        p->cap = cap;
    }
    void *m = calloc(1, size ? size : 1);
    if (!m) {
        p->failed = true;
        return NULL;
    }
    return p->items[p->n++] = m;
}

static char *pool_printf(pool *p, const char *fmt, const char *a, long long b) {
    int n = snprintf(NULL, 0, fmt, a, b);
    char *s = pool_alloc(p, (size_t)n + 1);
    if (s) snprintf(s, (size_t)n + 1, fmt, a, b);
    return s;
}

static void pool_free(pool *p) {
    for (size_t i = 0; i < p->n; i++) free(p->items[i]);
    free(p->items);
}

/* ---- attrs ---- */

typedef struct inst {
    pl_function_lib *lib;
    const Tensorflow__FunctionDef *fdef;
    const pl_attrs *call_attrs;
    pool pool;
    pl__name_map body_names;
} inst;

/* The value an attr placeholder stands for: the caller's, else the
 * function signature's default. */
static const Tensorflow__AttrValue *resolve_placeholder(inst *in, const char *name) {
    const Tensorflow__AttrValue *v = pl__attrs_get(in->call_attrs, name);
    if (v) return v;
    const Tensorflow__OpDef *sig = in->fdef->signature;
    for (size_t i = 0; i < sig->n_attr; i++)
        if (sig->attr[i] && sig->attr[i]->name && !strcmp(sig->attr[i]->name, name)) return sig->attr[i]->default_value;
    return NULL;
}

static pl_status substitute(inst *in, const Tensorflow__AttrValue *v, const Tensorflow__AttrValue **out, int depth);

static pl_status substitute_func(inst *in, const Tensorflow__NameAttrList *f, Tensorflow__NameAttrList **out, int depth) {
    Tensorflow__NameAttrList *copy = pool_alloc(&in->pool, sizeof *copy);
    Tensorflow__NameAttrList__AttrEntry **entries = pool_alloc(&in->pool, (f->n_attr + 1) * sizeof *entries);
    if (!copy || !entries) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    tensorflow__name_attr_list__init(copy);
    copy->name = f->name;
    copy->n_attr = f->n_attr;
    copy->attr = entries;
    for (size_t i = 0; i < f->n_attr; i++) {
        entries[i] = pool_alloc(&in->pool, sizeof **entries);
        if (!entries[i]) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        tensorflow__name_attr_list__attr_entry__init(entries[i]);
        entries[i]->key = f->attr[i] ? f->attr[i]->key : (char *)"";
        const Tensorflow__AttrValue *sv = NULL;
        if (f->attr[i] && f->attr[i]->value) PL_TRY(substitute(in, f->attr[i]->value, &sv, depth + 1));
        entries[i]->value = (Tensorflow__AttrValue *)sv;
    }
    *out = copy;
    return NULL;
}

static pl_status substitute(inst *in, const Tensorflow__AttrValue *v, const Tensorflow__AttrValue **out, int depth) {
    *out = v;
    if (depth > 16) return pl_error(PL_INVALID_ARGUMENT, "attr values nest too deeply");
    if (v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER) {
        const char *name = v->placeholder ? v->placeholder : "";
        const Tensorflow__AttrValue *r = resolve_placeholder(in, name);
        if (!r) return pl_error(PL_INVALID_ARGUMENT, "Attr %s is not defined.", name);
        *out = r;
    } else if (v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_FUNC && v->func) {
        bool has_placeholder = false;
        for (size_t i = 0; i < v->func->n_attr; i++)
            if (v->func->attr[i] && v->func->attr[i]->value &&
                (v->func->attr[i]->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER ||
                 v->func->attr[i]->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE_FUNC))
                has_placeholder = true;
        if (!has_placeholder) return NULL;
        Tensorflow__AttrValue *copy = pool_alloc(&in->pool, sizeof *copy);
        if (!copy) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        tensorflow__attr_value__init(copy);
        copy->value_case = TENSORFLOW__ATTR_VALUE__VALUE_FUNC;
        PL_TRY(substitute_func(in, v->func, &copy->func, depth));
        *out = copy;
    }
    return NULL;
}

/* ---- argument counts and output layouts ---- */

static int64_t attr_list_len(const Tensorflow__AttrValue *v) {
    if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST || !v->list) return 0;
    return (int64_t)v->list->n_type;
}

/* How many tensors an OpDef arg stands for, given attr values. */
static int64_t arg_count(const Tensorflow__OpDef__ArgDef *a, const Tensorflow__AttrValue *(*get)(void *, const char *),
                         void *ctx) {
    if (a->number_attr && a->number_attr[0]) {
        const Tensorflow__AttrValue *v = get(ctx, a->number_attr);
        return v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_I ? v->i : -1;
    }
    if (a->type_list_attr && a->type_list_attr[0]) {
        const Tensorflow__AttrValue *v = get(ctx, a->type_list_attr);
        return v ? attr_list_len(v) : -1;
    }
    return 1;
}

static pl_dtype arg_dtype(const Tensorflow__OpDef__ArgDef *a, const Tensorflow__AttrValue *(*get)(void *, const char *),
                          void *ctx) {
    if (a->type) return (pl_dtype)a->type;
    const Tensorflow__AttrValue *v = NULL;
    if (a->type_attr && a->type_attr[0]) v = get(ctx, a->type_attr);
    if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE) return (pl_dtype)v->type;
    if (a->type_list_attr && a->type_list_attr[0]) v = get(ctx, a->type_list_attr);
    if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST && v->list && v->list->n_type)
        return (pl_dtype)v->list->type[0];
    return PL_DT_INVALID;
}

static const Tensorflow__AttrValue *inst_attr(void *ctx, const char *name) { return resolve_placeholder(ctx, name); }

/* Output args of ops that have more than one, with their sizes: "" is one
 * tensor, "N:attr" a number attr, "L:attr" a type list attr. */
static const struct {
    const char *op;
    const char *args[7][2];
} multi_output_ops[] = {
    {"Switch", {{"output_false", ""}, {"output_true", ""}}},
    {"RefSwitch", {{"output_false", ""}, {"output_true", ""}}},
    {"Merge", {{"output", ""}, {"value_index", ""}}},
    {"RefMerge", {{"output", ""}, {"value_index", ""}}},
    {"FusedBatchNorm", {{"y", ""}, {"batch_mean", ""}, {"batch_variance", ""}, {"reserve_space_1", ""}, {"reserve_space_2", ""}}},
    {"FusedBatchNormV2", {{"y", ""}, {"batch_mean", ""}, {"batch_variance", ""}, {"reserve_space_1", ""}, {"reserve_space_2", ""}}},
    {"FusedBatchNormV3",
     {{"y", ""}, {"batch_mean", ""}, {"batch_variance", ""}, {"reserve_space_1", ""}, {"reserve_space_2", ""}, {"reserve_space_3", ""}}},
    {"TopK", {{"values", ""}, {"indices", ""}}},
    {"TopKV2", {{"values", ""}, {"indices", ""}}},
    {"Unique", {{"y", ""}, {"idx", ""}}},
    {"UniqueV2", {{"y", ""}, {"idx", ""}}},
    {"UniqueWithCounts", {{"y", ""}, {"idx", ""}, {"count", ""}}},
    {"NonMaxSuppressionV4", {{"selected_indices", ""}, {"valid_outputs", ""}}},
    {"NonMaxSuppressionV5", {{"selected_indices", ""}, {"selected_scores", ""}, {"valid_outputs", ""}}},
    {"TensorArrayV3", {{"handle", ""}, {"flow", ""}}},
    {"TensorArrayConcatV3", {{"value", ""}, {"lengths", ""}}},
    {"TensorArrayGradV3", {{"grad_handle", ""}, {"flow_out", ""}}},
    {"BroadcastGradientArgs", {{"r0", ""}, {"r1", ""}}},
    {"LookupTableExportV2", {{"keys", ""}, {"values", ""}}},
    {"MaxPoolWithArgmax", {{"output", ""}, {"argmax", ""}}},
    {"QuantizeV2", {{"output", ""}, {"output_min", ""}, {"output_max", ""}}},
    {"StringSplit", {{"indices", ""}, {"values", ""}, {"shape", ""}}},
    {"StringSplitV2", {{"indices", ""}, {"values", ""}, {"shape", ""}}},
    {"Svd", {{"s", ""}, {"u", ""}, {"v", ""}}},
    {"Qr", {{"q", ""}, {"r", ""}}},
    {"ParseExample",
     {{"sparse_indices", "N:Nsparse"}, {"sparse_values", "L:sparse_types"}, {"sparse_shapes", "N:Nsparse"},
      {"dense_values", "L:Tdense"}}},
    {"ParseExampleV2",
     {{"sparse_indices", "N:num_sparse"}, {"sparse_values", "L:sparse_types"}, {"sparse_shapes", "N:num_sparse"},
      {"dense_values", "L:Tdense"}, {"ragged_values", "L:ragged_value_types"}, {"ragged_row_splits", "L:ragged_split_types"}}},
    {"ParseSingleExample",
     {{"sparse_indices", "N:num_sparse"}, {"sparse_values", "L:sparse_types"}, {"sparse_shapes", "N:num_sparse"},
      {"dense_values", "L:Tdense"}}},
};

static const Tensorflow__AttrValue *node_attr(const Tensorflow__NodeDef *n, const char *name) {
    for (size_t i = 0; i < n->n_attr; i++)
        if (n->attr[i] && n->attr[i]->key && !strcmp(n->attr[i]->key, name)) return n->attr[i]->value;
    return NULL;
}

static const Tensorflow__AttrValue *node_attr_cb(void *ctx, const char *name) { return node_attr(ctx, name); }

/* The flat output index of `arg`:`idx` of body node n. */
static pl_status flat_output(inst *in, const Tensorflow__NodeDef *n, const char *arg, size_t arg_len, int64_t idx,
                             int64_t *out) {
    int64_t offset = 0;
    for (size_t t = 0; t < sizeof multi_output_ops / sizeof multi_output_ops[0]; t++) {
        if (strcmp(multi_output_ops[t].op, n->op)) continue;
        for (int a = 0; a < 7 && multi_output_ops[t].args[a][0]; a++) {
            const char *name = multi_output_ops[t].args[a][0], *size = multi_output_ops[t].args[a][1];
            if (strlen(name) == arg_len && !memcmp(name, arg, arg_len)) {
                *out = offset + idx;
                return NULL;
            }
            int64_t count = 1;
            if (size[0] == 'N') {
                const Tensorflow__AttrValue *v = node_attr(n, size + 2);
                count = v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_I ? v->i : 0;
            } else if (size[0] == 'L') {
                count = attr_list_len(node_attr(n, size + 2));
            }
            offset += count;
        }
        return pl_error(PL_INVALID_ARGUMENT, "Node '%s' (%s) has no output '%.*s'", n->name, n->op, (int)arg_len, arg);
    }
    const Tensorflow__FunctionDef *callee = pl_function_lib_find(in->lib, n->op);
    if (callee) {
        for (size_t a = 0; a < callee->signature->n_output_arg; a++) {
            const Tensorflow__OpDef__ArgDef *ad = callee->signature->output_arg[a];
            if (ad->name && strlen(ad->name) == arg_len && !memcmp(ad->name, arg, arg_len)) {
                *out = offset + idx;
                return NULL;
            }
            int64_t c = arg_count(ad, node_attr_cb, (void *)n);
            offset += c > 0 ? c : 0;
        }
    }
    *out = idx; /* every other op has a single output arg (possibly a list) */
    return NULL;
}

/* ---- building the body ---- */

static const char *body_name(void *arg, int i) {
    const Tensorflow__FunctionDef *f = arg;
    return f->node_def[i]->name;
}

static bool is_input_arg(const Tensorflow__OpDef *sig, const char *name, size_t len) {
    for (size_t i = 0; i < sig->n_input_arg; i++)
        if (sig->input_arg[i]->name && strlen(sig->input_arg[i]->name) == len && !memcmp(sig->input_arg[i]->name, name, len))
            return true;
    return false;
}

/* Rewrites a FunctionDef input reference into GraphDef form. */
static pl_status rewrite_input(inst *in, const char *ref, char **out) {
    if (ref[0] == '^') {
        *out = (char *)ref;
        return NULL;
    }
    const char *c1 = strchr(ref, ':');
    if (!c1) {
        *out = (char *)ref;
        return NULL;
    }
    size_t name_len = (size_t)(c1 - ref);
    const char *c2 = strchr(c1 + 1, ':');
    if (!c2) { /* "arg:k" */
        *out = (char *)ref;
        return NULL;
    }
    int b = pl__name_map_find(&in->body_names, ref, name_len, body_name, (void *)in->fdef);
    if (b < 0) {
        if (is_input_arg(in->fdef->signature, ref, name_len))
            return pl_error(PL_INVALID_ARGUMENT, "Input '%s' names an output of function argument", ref);
        return pl_error(PL_INVALID_ARGUMENT, "Function '%s': input '%s' names no node", in->fdef->signature->name, ref);
    }
    char *end;
    long long idx = strtoll(c2 + 1, &end, 10);
    if (*end || idx < 0 || idx > 65535) return pl_error(PL_INVALID_ARGUMENT, "malformed input '%s'", ref);
    int64_t flat;
    PL_TRY(flat_output(in, in->fdef->node_def[b], c1 + 1, (size_t)(c2 - c1 - 1), idx, &flat));
    char *name = pool_alloc(&in->pool, name_len + 1);
    if (!name) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(name, ref, name_len);
    *out = pool_printf(&in->pool, "%s:%lld", name, (long long)flat);
    return *out ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
}

static pl_status copy_node(inst *in, const Tensorflow__NodeDef *src, Tensorflow__NodeDef *dst) {
    tensorflow__node_def__init(dst);
    if (!src->name || !src->op) return pl_error(PL_INVALID_ARGUMENT, "function body node without name or op");
    dst->name = src->name;
    dst->op = src->op;
    dst->n_input = src->n_input;
    dst->input = pool_alloc(&in->pool, (src->n_input + 1) * sizeof *dst->input);
    dst->n_attr = src->n_attr;
    dst->attr = pool_alloc(&in->pool, (src->n_attr + 1) * sizeof *dst->attr);
    if (!dst->input || !dst->attr) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < src->n_input; i++)
        PL_TRY(pl_status_prefix(rewrite_input(in, src->input[i] ? src->input[i] : "", &dst->input[i]),
                                "node '%s': ", src->name));
    for (size_t i = 0; i < src->n_attr; i++) {
        Tensorflow__NodeDef__AttrEntry *e = pool_alloc(&in->pool, sizeof *e);
        if (!e) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        tensorflow__node_def__attr_entry__init(e);
        e->key = src->attr[i] ? src->attr[i]->key : (char *)"";
        const Tensorflow__AttrValue *v = src->attr[i] ? src->attr[i]->value : NULL;
        if (v) PL_TRY(pl_status_prefix(substitute(in, v, &v, 0), "node '%s': ", src->name));
        e->value = (Tensorflow__AttrValue *)v;
        dst->attr[i] = e;
    }
    return NULL;
}

typedef struct names {
    int n, cap;
    char **items;
} names;

static pl_status names_add(inst *in, names *l, char *s) {
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 8;
        char **grown = pool_alloc(&in->pool, (size_t)cap * sizeof *grown);
        if (!grown) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        if (l->n) memcpy(grown, l->items, (size_t)l->n * sizeof *grown);
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->n++] = s;
    return NULL;
}

static const char *ret_value(const Tensorflow__FunctionDef *f, const char *key) {
    for (size_t i = 0; i < f->n_ret; i++)
        if (f->ret[i] && f->ret[i]->key && !strcmp(f->ret[i]->key, key)) return f->ret[i]->value;
    return NULL;
}

/* Builds the body GraphDef's nodes and the feed, fetch and target names. */
static pl_status build(inst *in, Tensorflow__GraphDef *g, names *feeds, names *fetches, names *targets) {
    const Tensorflow__FunctionDef *f = in->fdef;
    const Tensorflow__OpDef *sig = f->signature;
    size_t n = sig->n_input_arg + f->n_node_def;
    g->node = pool_alloc(&in->pool, (n + 1) * sizeof *g->node);
    if (!g->node) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < sig->n_input_arg; i++) {
        const Tensorflow__OpDef__ArgDef *a = sig->input_arg[i];
        int64_t count = arg_count(a, inst_attr, in);
        if (!a->name || count < 0 || count > 65535)
            return pl_error(PL_INVALID_ARGUMENT, "function argument %zu has an unknown size", i);
        /* One placeholder per argument; its tensors (one, or a list) are fed by name. */
        Tensorflow__NodeDef *node = pool_alloc(&in->pool, sizeof *node);
        Tensorflow__NodeDef__AttrEntry *e = pool_alloc(&in->pool, sizeof *e), **attrs = pool_alloc(&in->pool, sizeof *attrs);
        Tensorflow__AttrValue *dt = pool_alloc(&in->pool, sizeof *dt);
        if (!node || !e || !attrs || !dt) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        tensorflow__node_def__init(node);
        tensorflow__node_def__attr_entry__init(e);
        tensorflow__attr_value__init(dt);
        dt->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
        dt->type = (Tensorflow__DataType)arg_dtype(a, inst_attr, in);
        e->key = "dtype";
        e->value = dt;
        attrs[0] = e;
        node->name = a->name;
        node->op = "Placeholder";
        node->n_attr = 1;
        node->attr = attrs;
        g->node[g->n_node++] = node;
        for (int64_t k = 0; k < count; k++) PL_TRY(names_add(in, feeds, pool_printf(&in->pool, "%s:%lld", a->name, k)));
    }
    for (size_t i = 0; i < f->n_node_def; i++) {
        Tensorflow__NodeDef *node = pool_alloc(&in->pool, sizeof *node);
        if (!node || !f->node_def[i]) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        PL_TRY(copy_node(in, f->node_def[i], node));
        g->node[g->n_node++] = node;
    }
    for (size_t i = 0; i < sig->n_output_arg; i++) {
        const Tensorflow__OpDef__ArgDef *a = sig->output_arg[i];
        const char *ret = a->name ? ret_value(f, a->name) : NULL;
        if (!ret) return pl_error(PL_INVALID_ARGUMENT, "Function '%s' has no ret for output '%s'", sig->name, a->name);
        int64_t count = arg_count(a, inst_attr, in);
        if (count < 0 || count > 65535) return pl_error(PL_INVALID_ARGUMENT, "function output has an unknown size");
        const char *c1 = strchr(ret, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (count == 1 || c2) {
            char *r;
            PL_TRY(rewrite_input(in, ret, &r));
            PL_TRY(names_add(in, fetches, r));
        } else {
            /* A whole list: "node:output_arg" or an argument name. */
            for (int64_t k = 0; k < count; k++) {
                char *ref = c1 ? pool_printf(&in->pool, "%s:%lld", ret, k) : pool_printf(&in->pool, "%s:%lld", ret, k);
                char *r = ref;
                if (ref && c1) {
                    size_t nl = (size_t)(c1 - ret);
                    int b = pl__name_map_find(&in->body_names, ret, nl, body_name, (void *)f);
                    int64_t flat = k;
                    if (b >= 0) PL_TRY(flat_output(in, f->node_def[b], c1 + 1, strlen(c1 + 1), k, &flat));
                    char *nm = pool_alloc(&in->pool, nl + 1);
                    if (!nm) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
                    memcpy(nm, ret, nl);
                    r = pool_printf(&in->pool, "%s:%lld", nm, flat);
                }
                PL_TRY(names_add(in, fetches, r));
            }
        }
    }
    for (size_t i = 0; i < f->n_control_ret; i++)
        if (f->control_ret[i] && f->control_ret[i]->value) PL_TRY(names_add(in, targets, f->control_ret[i]->value));
    return NULL;
}

static _Thread_local int instantiation_depth;

pl_status pl_function_instantiate(pl_function_lib *lib, pl_session *session, const char *name,
                                  const pl_attrs *call_attrs, pl_function **out) {
    const Tensorflow__FunctionDef *fdef = pl_function_lib_find(lib, name);
    if (!fdef) return pl_error(PL_NOT_FOUND, "Function '%s' is not defined in the graph's function library", name);
    if (instantiation_depth >= MAX_INSTANTIATION_DEPTH)
        return pl_error(PL_INVALID_ARGUMENT, "Function '%s' is instantiated more than %d levels deep (recursion?)", name,
                        MAX_INSTANTIATION_DEPTH);
    inst in = {.lib = lib, .fdef = fdef, .call_attrs = call_attrs};
    pl_status st = pl__name_map_build(&in.body_names, (int)fdef->n_node_def, body_name, (void *)fdef);
    for (size_t i = 0; !st && i < fdef->n_node_def; i++)
        if (!fdef->node_def[i] || !fdef->node_def[i]->name) st = pl_error(PL_INVALID_ARGUMENT, "unnamed body node");
    Tensorflow__GraphDef g = TENSORFLOW__GRAPH_DEF__INIT;
    names feeds = {0}, fetches = {0}, targets = {0};
    if (!st) st = build(&in, &g, &feeds, &fetches, &targets);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!st && in.pool.failed) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st) {
        /* Packing and parsing gives the body a GraphDef it owns, independent
         * of the library and the caller's attrs. */
        len = tensorflow__graph_def__get_packed_size(&g);
        bytes = malloc(len ? len : 1);
        if (!bytes) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        else tensorflow__graph_def__pack(&g, bytes);
    }
    pl_function *fn = st ? NULL : calloc(1, sizeof *fn);
    if (!st && !fn) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st) st = pl_graph_parse(bytes, len, &fn->body);
    free(bytes);
    if (!st) {
        fn->body->lib = lib;
        fn->num_args = feeds.n;
        fn->num_rets = fetches.n;
        instantiation_depth++;
        st = pl_exec_prepare(fn->body, session, feeds.n, (const char *const *)feeds.items, fetches.n,
                             (const char *const *)fetches.items, targets.n, (const char *const *)targets.items,
                             &fn->exec);
        instantiation_depth--;
    }
    pl__name_map_free(&in.body_names);
    pool_free(&in.pool);
    if (st) {
        pl_function_free(fn);
        return pl_status_prefix(st, "in function '%s': ", name);
    }
    *out = fn;
    return NULL;
}

static pl_status instantiate_name_attr_list(pl_function_lib *lib, pl_session *session, const Tensorflow__NameAttrList *f,
                                           pl_function **out) {
    if (!f || !f->name) return pl_error(PL_INVALID_ARGUMENT, "a func attr names no function");
    size_t n = f->n_attr;
    const char **keys = malloc((n + 1) * sizeof *keys);
    const Tensorflow__AttrValue **values = malloc((n + 1) * sizeof *values);
    pl_attrs call = {0};
    pl_status st = keys && values ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        keys[i] = f->attr[i] ? f->attr[i]->key : "";
        values[i] = f->attr[i] ? f->attr[i]->value : NULL;
    }
    if (!st) st = pl__attrs_init(&call, n, keys, values);
    free(keys);
    free(values);
    if (!st) st = pl_function_instantiate(lib, session, f->name, &call, out);
    pl__attrs_deinit(&call);
    return st;
}

pl_status pl_function_instantiate_attr(pl_function_lib *lib, pl_session *session, const pl_attrs *attrs,
                                       const char *attr, pl_function **out) {
    const Tensorflow__AttrValue *v = pl__attrs_get(attrs, attr);
    if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_FUNC || !v->func || !v->func->name)
        return pl_error(PL_INVALID_ARGUMENT, "NodeDef missing func attr '%s'", attr);
    return instantiate_name_attr_list(lib, session, v->func, out);
}

int pl_function_list_attr_len(const pl_attrs *attrs, const char *attr) {
    const Tensorflow__AttrValue *v = pl__attrs_get(attrs, attr);
    if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST || !v->list) return -1;
    return v->list->n_func > INT32_MAX ? -1 : (int)v->list->n_func;
}

pl_status pl_function_instantiate_list_attr(pl_function_lib *lib, pl_session *session, const pl_attrs *attrs,
                                            const char *attr, int index, pl_function **out) {
    const Tensorflow__AttrValue *v = pl__attrs_get(attrs, attr);
    if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST || !v->list || index < 0 ||
        (size_t)index >= v->list->n_func)
        return pl_error(PL_INVALID_ARGUMENT, "NodeDef missing function %d of list attr '%s'", index, attr);
    return instantiate_name_attr_list(lib, session, v->list->func[index], out);
}
