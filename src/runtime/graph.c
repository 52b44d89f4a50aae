/* GraphDef import: nodes, inputs resolved to indices, attribute maps. */
#include "runtime/graph.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/function.h"
#include "runtime/internal.h"

/* Consumers may name outputs up to this index; larger ones are hostile. */
#define MAX_OUTPUT_INDEX 65535

static const struct {
    const char *op;
    pl__node_kind kind;
} op_kinds[] = {
    {"Switch", PL__KIND_SWITCH},        {"RefSwitch", PL__KIND_SWITCH},
    {"Merge", PL__KIND_MERGE},          {"RefMerge", PL__KIND_MERGE},
    {"Enter", PL__KIND_ENTER},          {"RefEnter", PL__KIND_ENTER},
    {"Exit", PL__KIND_EXIT},            {"RefExit", PL__KIND_EXIT},
    {"NextIteration", PL__KIND_NEXT_ITERATION}, {"RefNextIteration", PL__KIND_NEXT_ITERATION},
    {"LoopCond", PL__KIND_LOOP_COND},   {"ControlTrigger", PL__KIND_CONTROL_TRIGGER},
};

pl__node_kind pl__op_kind(const char *op) {
    for (size_t i = 0; i < sizeof op_kinds / sizeof op_kinds[0]; i++)
        if (!strcmp(op_kinds[i].op, op)) return op_kinds[i].kind;
    return PL__KIND_OP;
}

static const char *node_name_of(void *arg, int i) { return ((pl_graph *)arg)->nodes[i].name; }

int pl_graph_num_nodes(const pl_graph *g) { return g->num_nodes; }
const pl_node *pl_graph_node(const pl_graph *g, int i) { return &g->nodes[i]; }
const Tensorflow__GraphDef *pl_graph_def(const pl_graph *g) { return g->def; }

int pl_graph_producer(const pl_graph *g) { return g->def && g->def->versions ? g->def->versions->producer : 0; }

int pl_graph_find_n(const pl_graph *g, const char *name, size_t len) {
    return pl__name_map_find(&g->names, name, len, node_name_of, (void *)g);
}

int pl_graph_find(const pl_graph *g, const char *name) { return pl_graph_find_n(g, name, strlen(name)); }

/* Splits "name:k" into the name's length and k; plain "name" is output 0. */
static bool split_tensor_name(const char *s, size_t *name_len, int *index) {
    size_t len = strlen(s);
    const char *colon = strrchr(s, ':');
    *index = 0;
    *name_len = len;
    if (!colon) return len > 0;
    const char *d = colon + 1;
    if (!*d) return false;
    long v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9') return false;
        v = v * 10 + (*d - '0');
        if (v > MAX_OUTPUT_INDEX) return false;
    }
    *index = (int)v;
    *name_len = (size_t)(colon - s);
    return *name_len > 0;
}

pl_status pl_graph_resolve_tensor(const pl_graph *g, const char *name, pl_endpoint *out) {
    size_t len;
    int index;
    if (!split_tensor_name(name, &len, &index))
        return pl_error(PL_INVALID_ARGUMENT, "'%s' is not a valid tensor name", name);
    int n = pl_graph_find_n(g, name, len);
    if (n < 0)
        return pl_error(PL_NOT_FOUND, "The tensor '%s' does not exist: the graph has no node '%.*s'", name, (int)len,
                        name);
    out->node = n;
    out->index = index;
    return NULL;
}

void pl_graph_free(pl_graph *g) {
    if (!g) return;
    if (g->attrs)
        for (int i = 0; i < g->num_nodes; i++) pl__attrs_deinit(&g->attrs[i]);
    free(g->attrs);
    free(g->nodes);
    free(g->kinds);
    for (int f = 0; f < g->num_frames; f++) free(g->frames[f].name);
    free(g->frames);
    free(g->node_frame);
    free(g->out_frame);
    free(g->endpoint_pool);
    free(g->control_pool);
    pl__name_map_free(&g->names);
    if (g->owns_lib) pl_function_lib_free(g->lib);
    if (g->owns_def && g->def) protobuf_c_message_free_unpacked(&g->def->base, NULL);
    free(g);
}

static pl_status import_attrs(pl_graph *g, int i, const Tensorflow__NodeDef *nd) {
    size_t n = nd->n_attr;
    const char **keys = n ? malloc(n * sizeof *keys) : NULL;
    const Tensorflow__AttrValue **values = n ? malloc(n * sizeof *values) : NULL;
    if (n && (!keys || !values)) {
        free(keys);
        free(values);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (size_t k = 0; k < n; k++) {
        keys[k] = nd->attr[k] ? nd->attr[k]->key : "";
        values[k] = nd->attr[k] ? nd->attr[k]->value : NULL;
    }
    pl_status st = pl__attrs_init(&g->attrs[i], n, keys, values);
    free(keys);
    free(values);
    return st;
}

static pl_status import_nodes(pl_graph *g) {
    const Tensorflow__GraphDef *def = g->def;
    size_t total_inputs = 0;
    for (int i = 0; i < g->num_nodes; i++) {
        const Tensorflow__NodeDef *nd = def->node[i];
        if (!nd) return pl_error(PL_INVALID_ARGUMENT, "GraphDef has an empty node entry");
        if (!nd->name || !nd->name[0]) return pl_error(PL_INVALID_ARGUMENT, "Node %d has no name", i);
        if (!nd->op || !nd->op[0]) return pl_error(PL_INVALID_ARGUMENT, "Node '%s' has no op", nd->name);
        if (strchr(nd->name, ':') || nd->name[0] == '^')
            return pl_error(PL_INVALID_ARGUMENT, "Node name '%s' contains invalid characters", nd->name);
        total_inputs += nd->n_input;
        g->nodes[i].name = nd->name;
        g->nodes[i].op = nd->op;
        g->nodes[i].def = nd;
        g->nodes[i].attrs = &g->attrs[i];
        g->nodes[i].num_outputs = 1;
        g->kinds[i] = pl__op_kind(nd->op);
        PL_TRY(import_attrs(g, i, nd));
    }
    PL_TRY(pl__name_map_build(&g->names, g->num_nodes, node_name_of, g));
    if (total_inputs > (size_t)INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "GraphDef has too many inputs");
    g->endpoint_pool = malloc((total_inputs ? total_inputs : 1) * sizeof *g->endpoint_pool);
    g->control_pool = malloc((total_inputs ? total_inputs : 1) * sizeof *g->control_pool);
    if (!g->endpoint_pool || !g->control_pool) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    size_t ne = 0, nc = 0;
    for (int i = 0; i < g->num_nodes; i++) {
        const Tensorflow__NodeDef *nd = def->node[i];
        pl_node *node = &g->nodes[i];
        node->inputs = &g->endpoint_pool[ne];
        node->controls = &g->control_pool[nc];
        for (size_t k = 0; k < nd->n_input; k++) {
            const char *in = nd->input[k] ? nd->input[k] : "";
            if (in[0] == '^') {
                int src = pl_graph_find(g, in + 1);
                if (src < 0) return pl_error(PL_INVALID_ARGUMENT, "Node '%s': Unknown input node '%s'", nd->name, in);
                g->control_pool[nc++] = src;
                node->num_controls++;
                continue;
            }
            if (node->num_controls)
                return pl_error(PL_INVALID_ARGUMENT,
                                "Node '%s': Control dependencies must come after regular dependencies", nd->name);
            size_t len;
            int index;
            if (!split_tensor_name(in, &len, &index))
                return pl_error(PL_INVALID_ARGUMENT, "Node '%s': malformed input '%s'", nd->name, in);
            int src = pl_graph_find_n(g, in, len);
            if (src < 0) return pl_error(PL_INVALID_ARGUMENT, "Node '%s': Unknown input node '%s'", nd->name, in);
            g->endpoint_pool[ne++] = (pl_endpoint){src, index};
            node->num_inputs++;
            if (index + 1 > g->nodes[src].num_outputs) g->nodes[src].num_outputs = index + 1;
        }
        PL_TRY(pl__check_arity(node->op, node->name, node->num_inputs));
    }
    return NULL;
}

pl_status pl_graph_import(Tensorflow__GraphDef *def, bool take_ownership, pl_graph **out) {
    pl_graph *g = calloc(1, sizeof *g);
    if (!g) {
        if (take_ownership) protobuf_c_message_free_unpacked(&def->base, NULL);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    g->def = def;
    g->owns_def = take_ownership;
    if (def->n_node > (size_t)INT32_MAX / 4) {
        pl_graph_free(g);
        return pl_error(PL_INVALID_ARGUMENT, "GraphDef has too many nodes");
    }
    g->num_nodes = (int)def->n_node;
    size_t n = g->num_nodes ? (size_t)g->num_nodes : 1;
    g->nodes = calloc(n, sizeof *g->nodes);
    g->attrs = calloc(n, sizeof *g->attrs);
    g->kinds = calloc(n, sizeof *g->kinds);
    g->node_frame = calloc(n, sizeof *g->node_frame);
    pl_status st = NULL;
    if (!g->nodes || !g->attrs || !g->kinds || !g->node_frame) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st && def->library && def->library->n_function) {
        st = pl_function_lib_new(def->library, &g->lib);
        g->owns_lib = !st;
    }
    if (!st) st = import_nodes(g);
    if (!st) st = pl__graph_analyze(g);
    if (st) {
        pl_graph_free(g);
        return st;
    }
    *out = g;
    return NULL;
}

pl_status pl_graph_parse(const void *data, size_t len, pl_graph **out) {
    PL_TRY(pl_status_prefix(pl_proto_check_nesting(&tensorflow__graph_def__descriptor, data, len), "Invalid GraphDef: "));
    Tensorflow__GraphDef *def = tensorflow__graph_def__unpack(NULL, len, data);
    if (!def) return pl_error(PL_INVALID_ARGUMENT, "Invalid GraphDef: the bytes are not a binary GraphDef");
    return pl_graph_import(def, true, out);
}

pl_status pl_graph_load_file(const char *path, pl_graph **out) {
    FILE *f = fopen(path, "rb");
    if (!f) return pl_error(errno == ENOENT ? PL_NOT_FOUND : PL_FAILED_PRECONDITION, "cannot open '%s': %s", path,
                            strerror(errno));
    pl_status st = NULL;
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) st = pl_error(PL_FAILED_PRECONDITION, "cannot read '%s'", path);
    if (!st && !(buf = malloc(size ? (size_t)size : 1))) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st && fread(buf, 1, (size_t)size, f) != (size_t)size)
        st = pl_error(PL_DATA_LOSS, "cannot read '%s': short read", path);
    fclose(f);
    if (!st) st = pl_status_prefix(pl_graph_parse(buf, (size_t)size, out), "%s: ", path);
    free(buf);
    return st;
}
