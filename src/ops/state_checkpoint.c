/* Checkpoint ops: RestoreV2 (and the V1 Restore / RestoreSlice over V2
 * bundles) read through the tensor-bundle reader, whole tensors or the slices
 * a partitioned variable's parts restore; the save ops refuse,
 * because a model server never writes checkpoints; ShardedFilename names
 * shards the way TensorFlow does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/state_internal.h"
#include "runtime/bundle.h"

/* ---- restore ---- */

typedef enum restore_kind { RESTORE_V2, RESTORE_V1, RESTORE_SLICE } restore_kind;

typedef struct restore_state {
    restore_kind kind;
    int num_dtypes;
    pl_dtype dtypes[];    /* RestoreV2: one per tensor; V1: dt */
} restore_state;

pl_status pl__state_restore_prepare(pl_kernel_prep *p) {
    restore_kind kind = !strcmp(p->op, "RestoreV2") ? RESTORE_V2 : !strcmp(p->op, "Restore") ? RESTORE_V1 : RESTORE_SLICE;
    const pl_dtype *types = NULL;
    pl_dtype dt;
    int n = 1;
    if (kind == RESTORE_V2) PL_TRY(pl_attr_type_list(p->attrs, "dtypes", &types, &n));
    else PL_TRY(pl_attr_type(p->attrs, "dt", &dt));
    restore_state *r = malloc(sizeof *r + (size_t)n * sizeof(pl_dtype));
    if (!r) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    r->kind = kind;
    r->num_dtypes = n;
    for (int i = 0; i < n; i++) r->dtypes[i] = types ? types[i] : dt;
    if (p->num_outputs < n) p->num_outputs = n;
    p->state = r;
    return NULL;
}

static pl_status string_at(const pl_tensor *t, int64_t i, const char *what, char **out) {
    if (t->dtype != PL_DT_STRING || i >= t->count)
        return pl_error(PL_INVALID_ARGUMENT, "%s must be a string tensor with at least %lld elements", what,
                        (long long)i + 1);
    const pl_str *s = (const pl_str *)t->data + i;
    /* An empty string's data may be NULL, which memchr must not see. */
    if (s->len && memchr(s->data, 0, s->len)) return pl_error(PL_INVALID_ARGUMENT, "%s holds a NUL byte", what);
    if (!(*out = strndup(s->data ? s->data : "", s->len))) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
}

static pl_status restore_one(pl_kernel_ctx *c, const pl_bundle *b, const char *name, const char *spec,
                             pl_dtype want, int out) {
    const pl_bundle_entry *e = pl_bundle_find(b, name);
    if (!e) return pl_error(PL_NOT_FOUND, "Key %s not found in checkpoint", name);
    if (e->dtype != want)
        return pl_error(PL_INVALID_ARGUMENT, "tensor_name = %s; expected dtype %s does not equal original dtype %s",
                        name, pl_dtype_name(want), pl_dtype_name(e->dtype));
    pl_tensor *t = NULL;
    if (!spec[0]) {
        PL_TRY(pl_bundle_read_entry(b, e, &t));
    } else {
        /* A partitioned variable: its part is a slice of the checkpointed tensor. */
        int rank;
        int64_t dims[PL_MAX_RANK];
        pl_bundle_slice slice;
        PL_TRY(pl_bundle_parse_shape_and_slice(spec, &rank, dims, &slice));
        bool same = rank == e->rank;
        for (int d = 0; same && d < rank; d++) same = dims[d] == e->dims[d];
        if (!same)
            return pl_error(PL_INVALID_ARGUMENT, "tensor_name = %s; shape in shape_and_slice spec \"%s\" does not "
                                                 "match the shape stored in checkpoint", name, spec);
        PL_TRY(pl_bundle_read_slice(b, name, &slice, &t));
    }
    pl_ctx_set_output(c, out, t);
    return NULL;
}

pl_status pl__state_restore_compute(pl_kernel_ctx *c) {
    const restore_state *r = c->state;
    int need = r->kind == RESTORE_V1 ? 2 : 3;
    if (c->num_inputs < need) return pl_error(PL_INVALID_ARGUMENT, "%s: expected %d inputs", c->node_name, need);
    const pl_tensor *names = c->inputs[1], *slices = r->kind == RESTORE_V1 ? NULL : c->inputs[2];
    if (c->inputs[0]->count != 1)
        return pl_error(PL_INVALID_ARGUMENT, "Input prefix should be a scalar tensor, got %lld elements",
                        (long long)c->inputs[0]->count);
    if (names->count != r->num_dtypes || (slices && slices->count != r->num_dtypes))
        return pl_error(PL_INVALID_ARGUMENT,
                        "Inconsistent number of tensor names (%lld), shape-and-slices (%lld) and dtypes (%d)",
                        (long long)names->count, (long long)(slices ? slices->count : names->count), r->num_dtypes);
    char *prefix = NULL;
    pl_bundle *b = NULL;
    pl_status st = string_at(c->inputs[0], 0, "prefix", &prefix);
    if (!st) st = pl_bundle_open(prefix, &b);
    if (st && pl_status_code(st) == PL_NOT_FOUND) {
        pl_status_free(st);
        st = pl_error(PL_NOT_FOUND, "Unsuccessful TensorSliceReader constructor: Failed to find any matching files for %s",
                      prefix);
    }
    for (int i = 0; !st && i < r->num_dtypes; i++) {
        char *name = NULL, *slice = NULL;
        st = string_at(names, i, "tensor_names", &name);
        if (!st) st = slices ? string_at(slices, i, "shape_and_slices", &slice) : NULL;
        if (!st) st = restore_one(c, b, name, slice ? slice : "", r->dtypes[i], i);
        free(name);
        free(slice);
    }
    pl_bundle_free(b);
    free(prefix);
    return st;
}

/* ---- save ---- */

pl_status pl__state_no_save_compute(pl_kernel_ctx *c) {
    return pl_error(PL_UNIMPLEMENTED, "%s: writing checkpoints is not supported by a model server", c->node_name);
}

/* ---- ShardedFilename ---- */

pl_status pl__state_sharded_filename_compute(pl_kernel_ctx *c) {
    if (c->num_inputs < 3) return pl_error(PL_INVALID_ARGUMENT, "%s: expected 3 inputs", c->node_name);
    char *base = NULL;
    PL_TRY(string_at(c->inputs[0], 0, "basename", &base));
    const pl_tensor *shard = c->inputs[1], *num = c->inputs[2];
    if (shard->count != 1 || num->count != 1 || shard->dtype != PL_DT_INT32 || num->dtype != PL_DT_INT32) {
        free(base);
        return pl_error(PL_INVALID_ARGUMENT, "%s: shard and num_shards must be int32 scalars", c->node_name);
    }
    int len = snprintf(NULL, 0, "%s-%05d-of-%05d", base, ((const int32_t *)shard->data)[0],
                       ((const int32_t *)num->data)[0]);
    char *name = malloc((size_t)len + 1);
    pl_tensor *t = NULL;
    pl_status st = name ? pl_ctx_alloc_output(c, 0, PL_DT_STRING, 0, NULL, &t)
                        : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st) {
        snprintf(name, (size_t)len + 1, "%s-%05d-of-%05d", base, ((const int32_t *)shard->data)[0],
                 ((const int32_t *)num->data)[0]);
        st = pl_tensor_set_string(t, 0, name, (size_t)len);
    }
    free(name);
    free(base);
    return st;
}
