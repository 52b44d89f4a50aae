/* Rewriting TF1 reference variables into handle + read pairs at load (see
 * saved_model_internal.h for the scheme and why). Operates on the parsed
 * GraphDef before it is imported; every string and message it adds is
 * malloc'd, as protobuf-c's default allocator expects when the GraphDef is
 * freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/saved_model_internal.h"
#include "base/sort.h"

/* Ops with reference inputs, as bit masks over input indices (from their
 * TensorFlow OpDefs). Inputs not listed read values. */
static const struct {
    const char *op;
    unsigned ref_inputs;
} ref_ops[] = {
    {"Assign", 1},
    {"AssignAdd", 1},
    {"AssignSub", 1},
    {"IsVariableInitialized", 1},
    {"CountUpTo", 1},
    {"ScatterUpdate", 1},
    {"ScatterAdd", 1},
    {"ScatterSub", 1},
    {"ScatterMul", 1},
    {"ScatterDiv", 1},
    {"ScatterMin", 1},
    {"ScatterMax", 1},
    {"ScatterNdUpdate", 1},
    {"ScatterNdAdd", 1},
    {"ScatterNdSub", 1},
    {"ApplyGradientDescent", 1},
    {"ApplyProximalGradientDescent", 1},
    {"ApplyMomentum", 3},
    {"ApplyAdagrad", 3},
    {"ApplyProximalAdagrad", 3},
    {"ApplyAdam", 7},
    {"ApplyAdaMax", 7},
    {"ApplyAdadelta", 7},
    {"ApplyRMSProp", 7},
    {"ApplyFtrl", 7},
    {"ApplyFtrlV2", 7},
    {"ApplyCenteredRMSProp", 15},
    {"SparseApplyMomentum", 3},
    {"SparseApplyAdagrad", 3},
    {"SparseApplyRMSProp", 7},
    {"SparseApplyFtrl", 7},
    {"SparseApplyAdadelta", 7},
    {"DestroyTemporaryVariable", 1},
};

static unsigned ref_inputs_of(const char *op) {
    for (size_t i = 0; i < sizeof ref_ops / sizeof ref_ops[0]; i++)
        if (!strcmp(ref_ops[i].op, op)) return ref_ops[i].ref_inputs;
    return 0;
}

static bool is_ref_variable(const Tensorflow__NodeDef *n) {
    return !strcmp(n->op, "VariableV2") || !strcmp(n->op, "Variable");
}

static void free_pb_string(char *s) {
    if (s && s != protobuf_c_empty_string) free(s);
}

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory rewriting variables"); }

/* Sorted node names for membership tests while choosing new names. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool name_taken(char **sorted, size_t n, const char *name) {
    return bsearch(&name, sorted, n, sizeof *sorted, cmp_str) != NULL;
}

/* "N/_handle", or "N/_handle_<k>" when a node already has that name. */
static char *handle_name(char **sorted, size_t n, const char *var) {
    size_t len = strlen(var) + 32;
    char *s = malloc(len);
    if (!s) return NULL;
    snprintf(s, len, "%s/_handle", var);
    for (int k = 1; name_taken(sorted, n, s); k++) snprintf(s, len, "%s/_handle_%d", var, k);
    return s;
}

static Tensorflow__NodeDef *clone_node(const Tensorflow__NodeDef *n) {
    size_t len = tensorflow__node_def__get_packed_size(n);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return NULL;
    tensorflow__node_def__pack(n, buf);
    Tensorflow__NodeDef *copy = tensorflow__node_def__unpack(NULL, len, buf);
    free(buf);
    return copy;
}

/* Sets string attr `key` (adding the entry when absent). */
static pl_status set_string_attr(Tensorflow__NodeDef *n, const char *key, const char *value) {
    Tensorflow__AttrValue *v = NULL;
    for (size_t i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attr[i]->key, key)) v = n->attr[i]->value;
    if (!v) {
        Tensorflow__NodeDef__AttrEntry **attrs = realloc(n->attr, (n->n_attr + 1) * sizeof *attrs);
        if (!attrs) return oom();
        n->attr = attrs;
        Tensorflow__NodeDef__AttrEntry *e = malloc(sizeof *e);
        v = malloc(sizeof *v);
        char *k = strdup(key);
        if (!e || !v || !k) {
            free(e);
            free(v);
            free(k);
            return oom();
        }
        tensorflow__node_def__attr_entry__init(e);
        tensorflow__attr_value__init(v);
        e->key = k;
        e->value = v;
        n->attr[n->n_attr++] = e;
    } else if (v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_S) {
        free(v->s.data);
    } else {
        return pl_error(PL_INVALID_ARGUMENT, "attr '%s' of node '%s' is not a string", key, n->name);
    }
    size_t len = strlen(value);
    uint8_t *data = malloc(len ? len : 1);
    if (!data) return oom();
    memcpy(data, value, len);
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_S;
    v->s.data = data;
    v->s.len = len;
    return NULL;
}

static bool shared_name_empty(const Tensorflow__NodeDef *n) {
    for (size_t i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attr[i]->key, "shared_name"))
            return n->attr[i]->value->value_case != TENSORFLOW__ATTR_VALUE__VALUE_S || n->attr[i]->value->s.len == 0;
    return true;
}

/* Variable name -> handle name, sorted by variable name for lookups. */
typedef struct var_pair {
    const char *var;
    const char *handle;
} var_pair;

static int cmp_pair(const void *a, const void *b) { return strcmp(((const var_pair *)a)->var, ((const var_pair *)b)->var); }

/* The handle for input `in` when it names output 0 of a rewritten variable ("v" or "v:0"). */
static const char *find_handle(const var_pair *pairs, size_t n, const char *in) {
    size_t len = strlen(in);
    if (len > 2 && !strcmp(in + len - 2, ":0")) len -= 2;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(pairs[mid].var, in, len);
        if (c == 0 && pairs[mid].var[len] != 0) c = 1;
        if (c == 0) return pairs[mid].handle;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* Splits variable node v into handle h (returned) and a read under v's name. */
static pl_status split_variable(Tensorflow__NodeDef *v, char *handle, Tensorflow__NodeDef **out) {
    Tensorflow__NodeDef *h = clone_node(v);
    char *read_op = strdup("ReadVariableOp");
    char **inputs = malloc(sizeof *inputs);
    char *input0 = strdup(handle);
    pl_status st = (h && read_op && inputs && input0) ? NULL : oom();
    /* The variable keeps the session key TF gives it: shared_name, else the node name. */
    if (!st && shared_name_empty(v)) st = set_string_attr(h, "shared_name", v->name);
    if (st) {
        if (h) tensorflow__node_def__free_unpacked(h, NULL);
        free(handle);
        free(read_op);
        free(inputs);
        free(input0);
        return st;
    }
    free_pb_string(h->name);
    h->name = handle;
    for (size_t i = 0; i < v->n_input; i++) free_pb_string(v->input[i]);
    free(v->input);
    v->input = inputs;
    v->input[0] = input0;
    v->n_input = 1;
    free_pb_string(v->op);
    v->op = read_op;
    *out = h;
    return NULL;
}

/* Points ref inputs and control inputs naming a rewritten variable at its handle. */
static pl_status rewire_consumers(Tensorflow__GraphDef *g, const var_pair *pairs, size_t num_pairs) {
    for (size_t i = 0; i < g->n_node; i++) {
        Tensorflow__NodeDef *n = g->node[i];
        unsigned refs = ref_inputs_of(n->op);
        int data_index = 0;
        for (size_t k = 0; k < n->n_input; k++) {
            char *in = n->input[k];
            const char *handle = NULL;
            char *repl = NULL;
            if (in[0] == '^') {
                if ((handle = find_handle(pairs, num_pairs, in + 1))) {
                    size_t len = strlen(handle) + 2;
                    if (!(repl = malloc(len))) return oom();
                    snprintf(repl, len, "^%s", handle);
                }
            } else {
                if (data_index < 32 && (refs >> data_index & 1) && (handle = find_handle(pairs, num_pairs, in)))
                    if (!(repl = strdup(handle))) return oom();
                data_index++;
            }
            if (repl) {
                free_pb_string(in);
                n->input[k] = repl;
            }
        }
    }
    return NULL;
}

pl_status pl__saved_model_rewrite_ref_variables(Tensorflow__GraphDef *g, int *num_rewritten) {
    *num_rewritten = 0;
    size_t n = g->n_node, num_vars = 0;
    for (size_t i = 0; i < n; i++)
        if (is_ref_variable(g->node[i])) num_vars++;
    if (!num_vars) return NULL;
    char **sorted = malloc(n * sizeof *sorted);
    var_pair *pairs = malloc(num_vars * sizeof *pairs);
    Tensorflow__NodeDef **nodes = realloc(g->node, (n + num_vars) * sizeof *nodes);
    if (nodes) g->node = nodes;
    if (!sorted || !pairs || !nodes) {
        free(sorted);
        free(pairs);
        return oom();
    }
    for (size_t i = 0; i < n; i++) sorted[i] = g->node[i]->name;
    pl_qsort(sorted, n, sizeof *sorted, cmp_str);
    pl_status st = NULL;
    size_t num_pairs = 0;
    for (size_t i = 0; i < n && !st; i++) {
        Tensorflow__NodeDef *v = g->node[i];
        if (!is_ref_variable(v)) continue;
        char *handle = handle_name(sorted, n, v->name);
        Tensorflow__NodeDef *h = NULL;
        st = handle ? split_variable(v, handle, &h) : oom();
        if (st) break;
        g->node[g->n_node++] = h;
        pairs[num_pairs++] = (var_pair){v->name, h->name};
    }
    if (!st) {
        pl_qsort(pairs, num_pairs, sizeof *pairs, cmp_pair);
        st = rewire_consumers(g, pairs, num_pairs);
    }
    *num_rewritten = (int)num_pairs;
    free(sorted);
    free(pairs);
    return st;
}
