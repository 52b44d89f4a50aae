/* Frozen GraphDef models: a .pb file (or a directory holding exactly one)
 * served with a signature derived from the graph itself — its Placeholders
 * are the inputs and the tensors nothing consumes are the outputs (see
 * docs/frozen-graphs.md). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/internal.h"

/* Ops whose nodes produce no tensor a client could want: a graph's
 * unconsumed NoOp or Assert is a side effect, not an output. */
static const char *const effect_ops[] = {
    "NoOp", "Assert", "ControlTrigger", "SaveV2", "Save", "SaveSlices", "MergeV2Checkpoints", "RestoreV2",
    "AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp", "DestroyResourceOp", "TensorArrayCloseV3",
    "InitializeTableV2", "InitializeTableFromTextFileV2", "LookupTableImportV2", "VarHandleOp", "VariableV2",
    "Variable", "HashTableV2", "MutableHashTableV2", "Print", "PrintV2", "Placeholder", "PlaceholderV2",
    "PlaceholderWithDefault", "Const", NULL,
};

static bool is_effect_op(const char *op) {
    for (int i = 0; effect_ops[i]; i++)
        if (!strcmp(op, effect_ops[i])) return true;
    return false;
}

static bool is_placeholder(const char *op) { return !strcmp(op, "Placeholder") || !strcmp(op, "PlaceholderV2"); }

static pl_status fill_info(pl_tensor_info *info, const char *name, const pl__tensor_type *t) {
    info->alias = strdup(name);
    size_t len = strlen(name) + 3;
    info->tensor_name = malloc(len);
    if (!info->alias || !info->tensor_name) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    snprintf(info->tensor_name, len, "%s:0", name);
    info->dtype = t->dtype;
    info->rank = t->rank;
    for (int d = 0; d < PL_MAX_RANK; d++) info->dims[d] = d < t->rank ? t->dims[d] : 0;
    return NULL;
}

static pl_status derive_signature(const pl_graph *g, pl__tensor_type **types, pl_signature *sig) {
    bool *consumed = calloc((size_t)g->num_nodes + 1, sizeof *consumed);
    pl_status st = consumed ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; !st && i < g->num_nodes; i++) {
        const pl_node *n = &g->nodes[i];
        for (int k = 0; k < n->num_inputs; k++) consumed[n->inputs[k].node] = true;
        for (int k = 0; k < n->num_controls; k++) consumed[n->controls[k]] = true;
    }
    int ni = 0, no = 0;
    for (int i = 0; !st && i < g->num_nodes; i++) {
        const pl_node *n = &g->nodes[i];
        if (is_placeholder(n->op)) ni++;
        else if (!consumed[i] && !is_effect_op(n->op) && types[i][0].dtype != PL_DT_RESOURCE) no++;
    }
    sig->key = strdup("serving_default");
    sig->method_name = strdup("tensorflow/serving/predict");
    sig->inputs = calloc((size_t)ni + 1, sizeof *sig->inputs);
    sig->outputs = calloc((size_t)no + 1, sizeof *sig->outputs);
    if (!st && (!sig->key || !sig->method_name || !sig->inputs || !sig->outputs))
        st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; !st && i < g->num_nodes; i++) {
        const pl_node *n = &g->nodes[i];
        if (is_placeholder(n->op))
            st = fill_info(&sig->inputs[sig->num_inputs++], n->name, &types[i][0]);
        else if (!consumed[i] && !is_effect_op(n->op) && types[i][0].dtype != PL_DT_RESOURCE)
            st = fill_info(&sig->outputs[sig->num_outputs++], n->name, &types[i][0]);
    }
    if (!st && sig->num_outputs == 0)
        st = pl_error(PL_INVALID_ARGUMENT, "The graph has no output: every node's result is consumed by another node");
    free(consumed);
    return st;
}

/* The signatures of a frozen graph: signature.pbtxt in its directory when
 * there is one, else the derived serving_default. */
static pl_status signatures(const pl_graph *g, const char *file, pl_signature **out, int *n) {
    pl__tensor_type **types;
    PL_TRY(pl__infer_types(g, &types));
    char *dir = strdup(file);
    pl_status st = dir ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    bool found = false;
    if (!st) {
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else strcpy(dir, ".");
        st = pl__graphdef_sidecar(g, types, dir, out, n, &found);
    }
    if (!st && !found) {
        *out = calloc(1, sizeof **out);
        *n = 1;
        st = *out ? derive_signature(g, types, *out) : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        if (st && *out) {
            pl__signature_clear(*out);
            free(*out);
        }
        if (st) *out = NULL, *n = 0;
    }
    free(dir);
    pl__types_free(types, g);
    return st;
}

/* The one .pb file of a version directory. */
static pl_status find_pb(const char *dir, char **out) {
    DIR *d = opendir(dir);
    if (!d) return pl_error(PL_NOT_FOUND, "cannot open model directory '%s'", dir);
    char *found = NULL;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".pb")) continue;
        if (++count == 1) found = strdup(e->d_name);
    }
    closedir(d);
    if (count == 0) {
        free(found);
        return pl_error(PL_NOT_FOUND, "Could not find SavedModel .pb or .pbtxt at supplied export directory path: %s",
                        dir);
    }
    if (count > 1) {
        free(found);
        return pl_error(PL_INVALID_ARGUMENT, "'%s' holds %d .pb files; a frozen graph directory must hold exactly one",
                        dir, count);
    }
    if (!found) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    size_t len = strlen(dir) + strlen(found) + 2;
    *out = malloc(len);
    if (*out) snprintf(*out, len, "%s/%s", dir, found);
    free(found);
    return *out ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
}

pl_status pl__graphdef_model_load(const char *path, pl_model **out) {
    char *file = NULL;
    DIR *d = opendir(path);
    if (d) {
        closedir(d);
        PL_TRY(find_pb(path, &file));
    } else if (!(file = strdup(path))) {
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    pl_graph *g = NULL;
    pl_session *s = NULL;
    pl_signature *sigs = NULL;
    int num_sigs = 0;
    pl_status st = pl_graph_load_file(file, &g);
    if (!st) st = pl__graph_check_ops(g);
    if (!st) st = signatures(g, file, &sigs, &num_sigs);
    if (!st) st = pl_session_new(&s);
    if (st) {
        for (int i = 0; i < num_sigs; i++) pl__signature_clear(&sigs[i]);
        free(sigs);
        pl_graph_free(g);
        st = pl_status_prefix(st, "%s: ", file);
        free(file);
        return st;
    }
    free(file);
    return pl__model_new("tensorflow_graphdef", g, s, sigs, num_sigs, true, out);
}
