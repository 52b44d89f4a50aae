/* SignatureDef -> pl_signature: aliases sorted, dtypes and shapes from the
 * TensorInfo, reference dtypes folded to their value types. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"
#include "runtime/saved_model_internal.h"
#include "base/sort.h"

/* TensorFlow numbers a reference dtype as its value dtype + 100. */
#define TF_REF_OFFSET 100

static void info_deinit(pl_tensor_info *t) {
    free(t->alias);
    free(t->tensor_name);
}

static pl_status info_from_proto(const char *alias, const Tensorflow__TensorInfo *p, pl_tensor_info *out) {
    memset(out, 0, sizeof *out);
    int dt = (int)p->dtype;
    if (dt > TF_REF_OFFSET) dt -= TF_REF_OFFSET;
    out->dtype = pl_dtype_valid((pl_dtype)dt) ? (pl_dtype)dt : PL_DT_INVALID;
    out->rank = -1;
    const Tensorflow__TensorShapeProto *s = p->tensor_shape;
    if (s && !s->unknown_rank) {
        if (s->n_dim > PL_MAX_RANK)
            return pl_error(PL_UNIMPLEMENTED, "signature tensor '%s' has rank %zu; at most %d is supported", alias,
                            s->n_dim, PL_MAX_RANK);
        out->rank = (int)s->n_dim;
        for (size_t i = 0; i < s->n_dim; i++) out->dims[i] = s->dim[i]->size < 0 ? -1 : s->dim[i]->size;
    }
    /* Sparse and composite encodings have no single tensor; the name stays empty. */
    const char *name = p->encoding_case == TENSORFLOW__TENSOR_INFO__ENCODING_NAME ? p->name : "";
    out->alias = strdup(alias);
    out->tensor_name = strdup(name);
    if (!out->alias || !out->tensor_name) {
        info_deinit(out);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    return NULL;
}

static int cmp_info(const void *a, const void *b) {
    return strcmp(((const pl_tensor_info *)a)->alias, ((const pl_tensor_info *)b)->alias);
}

/* Converts n map entries (key, TensorInfo) into a sorted array. A key repeated
 * in the wire map keeps its last value, as protobuf map parsing does. */
static pl_status infos_from_map(size_t n, char **keys, Tensorflow__TensorInfo **vals, pl_tensor_info **out,
                                int *num_out) {
    *out = NULL;
    *num_out = 0;
    if (n == 0) return NULL;
    pl_tensor_info *infos = calloc(n, sizeof *infos);
    if (!infos) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++) later = !strcmp(keys[i], keys[j]);
        if (later) continue;
        const Tensorflow__TensorInfo empty = TENSORFLOW__TENSOR_INFO__INIT;
        pl_status st = info_from_proto(keys[i], vals[i] ? vals[i] : &empty, &infos[count]);
        if (st) {
            for (int k = 0; k < count; k++) info_deinit(&infos[k]);
            free(infos);
            return st;
        }
        count++;
    }
    pl_qsort(infos, (size_t)count, sizeof *infos, cmp_info);
    *out = infos;
    *num_out = count;
    return NULL;
}

pl_status pl__signature_from_proto(const char *key, const Tensorflow__SignatureDef *def, pl_signature *out) {
    memset(out, 0, sizeof *out);
    size_t ni = def->n_inputs, no = def->n_outputs;
    char **keys = malloc((ni + no + 1) * sizeof *keys);
    Tensorflow__TensorInfo **vals = malloc((ni + no + 1) * sizeof *vals);
    pl_status st = keys && vals ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st) {
        for (size_t i = 0; i < ni; i++) keys[i] = def->inputs[i]->key, vals[i] = def->inputs[i]->value;
        for (size_t i = 0; i < no; i++) keys[ni + i] = def->outputs[i]->key, vals[ni + i] = def->outputs[i]->value;
        st = infos_from_map(ni, keys, vals, &out->inputs, &out->num_inputs);
    }
    if (!st) st = infos_from_map(no, keys + ni, vals + ni, &out->outputs, &out->num_outputs);
    if (!st) {
        out->key = strdup(key);
        out->method_name = strdup(def->method_name ? def->method_name : "");
        if (!out->key || !out->method_name) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    free(keys);
    free(vals);
    if (st) {
        st = pl_status_prefix(st, "signature '%s': ", key);
        pl__signature_clear(out);
    }
    return st;
}
