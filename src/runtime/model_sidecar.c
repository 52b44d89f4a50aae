/* The signature file of a frozen graph: `signature.pbtxt` next to the .pb,
 * a text-format tensorflow.serving.SignatureDefMap that replaces the derived
 * serving_default signature (docs/frozen-graphs.md). TensorInfos may leave
 * out dtype and shape; they are then taken from shape inference. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb/pb.h"
#include "runtime/internal.h"
#include "tensor/tensor_proto.h"
#include "tensorflow_serving/apis/get_model_metadata.pb-c.h"

#define SIDECAR_NAME "signature.pbtxt"
#define MAX_SIDECAR_BYTES (1 << 20)

static pl_status read_text(const char *path, char **out, size_t *len, bool *found) {
    FILE *f = fopen(path, "rb");
    *found = f != NULL;
    if (!f) return errno == ENOENT ? NULL : pl_error(PL_FAILED_PRECONDITION, "cannot open '%s': %s", path, strerror(errno));
    char *buf = malloc(MAX_SIDECAR_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_SIDECAR_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (n > MAX_SIDECAR_BYTES) {
        free(buf);
        return pl_error(PL_INVALID_ARGUMENT, "'%s' is larger than %d bytes", path, MAX_SIDECAR_BYTES);
    }
    *out = buf;
    *len = n;
    return NULL;
}

static pl_status tensor_info(const pl_graph *g, pl__tensor_type **types, const char *alias,
                             const Tensorflow__TensorInfo *ti, pl_tensor_info *out) {
    if (!ti || ti->encoding_case != TENSORFLOW__TENSOR_INFO__ENCODING_NAME || !ti->name)
        return pl_error(PL_INVALID_ARGUMENT, "'%s' must name a tensor (sparse and composite tensors are not supported)",
                        alias);
    pl_endpoint ep;
    PL_TRY(pl_status_prefix(pl_graph_resolve_tensor(g, ti->name, &ep), "'%s': ", alias));
    const pl_node *n = pl_graph_node(g, ep.node);
    const pl__tensor_type *t = ep.index < n->num_outputs ? &types[ep.node][ep.index] : NULL;
    out->alias = strdup(alias);
    out->tensor_name = strdup(ti->name);
    if (!out->alias || !out->tensor_name) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    out->dtype = ti->dtype ? (pl_dtype)ti->dtype : t ? t->dtype : PL_DT_INVALID;
    out->rank = -1;
    if (ti->tensor_shape) {
        PL_TRY(pl_status_prefix(pl_partial_shape_from_proto(ti->tensor_shape, &out->rank, out->dims), "'%s': ", alias));
    } else if (t) {
        out->rank = t->rank;
        for (int d = 0; d < t->rank; d++) out->dims[d] = t->dims[d];
    }
    return NULL;
}

/* keys[i] / values[i]: one map's entries (inputs or outputs). */
static pl_status tensor_infos(const pl_graph *g, pl__tensor_type **types, size_t n, char *const *keys,
                              Tensorflow__TensorInfo *const *values, pl_tensor_info **out, int *count) {
    *out = calloc(n + 1, sizeof **out);
    if (!*out) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!keys[i]) return pl_error(PL_INVALID_ARGUMENT, "empty map entry");
        (*count)++;
        PL_TRY(tensor_info(g, types, keys[i], values[i], &(*out)[i]));
    }
    return NULL;
}

#define SPLIT_ENTRIES(n, entries, keys, values)                                 \
    do {                                                                        \
        for (size_t k_ = 0; k_ < (n); k_++) {                                   \
            (keys)[k_] = (entries)[k_] ? (entries)[k_]->key : NULL;             \
            (values)[k_] = (entries)[k_] ? (entries)[k_]->value : NULL;         \
        }                                                                       \
    } while (0)

static pl_status signature_infos(const pl_graph *g, pl__tensor_type **types, const Tensorflow__SignatureDef *def,
                                 pl_signature *sig) {
    size_t n = def->n_inputs > def->n_outputs ? def->n_inputs : def->n_outputs;
    char **keys = calloc(n + 1, sizeof *keys);
    Tensorflow__TensorInfo **values = calloc(n + 1, sizeof *values);
    pl_status st = keys && values ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st) {
        SPLIT_ENTRIES(def->n_inputs, def->inputs, keys, values);
        st = tensor_infos(g, types, def->n_inputs, keys, values, &sig->inputs, &sig->num_inputs);
    }
    if (!st) {
        SPLIT_ENTRIES(def->n_outputs, def->outputs, keys, values);
        st = tensor_infos(g, types, def->n_outputs, keys, values, &sig->outputs, &sig->num_outputs);
    }
    free(keys);
    free(values);
    return st;
}

pl_status pl__graphdef_sidecar(const pl_graph *g, pl__tensor_type **types, const char *dir, pl_signature **sigs,
                               int *num_sigs, bool *found) {
    size_t plen = strlen(dir) + sizeof SIDECAR_NAME + 2;
    char *path = malloc(plen);
    if (!path) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    snprintf(path, plen, "%s/%s", dir, SIDECAR_NAME);
    char *text = NULL;
    size_t len = 0;
    pl_status st = read_text(path, &text, &len, found);
    ProtobufCMessage *msg = NULL;
    if (!st && *found) st = pl_pb_parse_text(&tensorflow__serving__signature_def_map__descriptor, text, len, &msg);
    free(text);
    const Tensorflow__Serving__SignatureDefMap *map = (const void *)msg;
    if (!st && *found && map->n_signature_def == 0) st = pl_error(PL_INVALID_ARGUMENT, "it defines no signature");
    pl_signature *s = NULL;
    int n = 0;
    if (!st && *found && !(s = calloc(map->n_signature_def, sizeof *s))) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; !st && *found && i < map->n_signature_def; i++) {
        const Tensorflow__Serving__SignatureDefMap__SignatureDefEntry *e = map->signature_def[i];
        const Tensorflow__SignatureDef *def = e ? e->value : NULL;
        pl_signature *sig = &s[n++];
        if (!e || !e->key || !def) {
            st = pl_error(PL_INVALID_ARGUMENT, "empty signature entry");
            break;
        }
        sig->key = strdup(e->key);
        sig->method_name = strdup(def->method_name && def->method_name[0] ? def->method_name : "tensorflow/serving/predict");
        if (!sig->key || !sig->method_name) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        if (!st) st = signature_infos(g, types, def, sig);
        if (st) st = pl_status_prefix(st, "signature '%s': ", e->key);
    }
    if (msg) protobuf_c_message_free_unpacked(msg, NULL);
    if (st) {
        for (int i = 0; i < n; i++) pl__signature_clear(&s[i]);
        free(s);
        st = pl_status_prefix(st, "%s: ", path);
        free(path);
        return st;
    }
    free(path);
    *sigs = s;
    *num_sigs = n;
    return NULL;
}
