/* Transport-independent parts of the client: choosing the transport, and
 * releasing and searching what the transports return. */
#include "cli/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client_internal.h"
#include "base/sort.h"

pl_status pl_client_open(const pl_cli *cli, pl_client **out) {
    pl_client *c = calloc(1, sizeof *c);
    if (!c) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    c->cli = cli;
    c->ops = cli->rest ? &pl__client_rest : &pl__client_grpc;
    pl_status st = c->ops->open(c);
    if (st) {
        free(c);
        return st;
    }
    *out = c;
    return NULL;
}

void pl_client_close(pl_client *c) {
    if (!c) return;
    c->ops->close(c);
    free(c);
}

pl_status pl_client_status(pl_client *c, const char *model, pl_client_version **versions, int *n) {
    return c->ops->status(c, model, versions, n);
}

pl_status pl_client_metadata(pl_client *c, const char *model, pl_client_signatures *out) {
    memset(out, 0, sizeof *out);
    PL_TRY(c->ops->metadata(c, model, out));
    pl_client_signatures_sort(out);
    return NULL;
}

pl_status pl_client_predict(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                            const char *const *names, pl_tensor *const *inputs, int num_filters,
                            const char *const *filters, pl_client_outputs *out) {
    memset(out, 0, sizeof *out);
    PL_TRY(c->ops->predict(c, model, sig, num_inputs, names, inputs, num_filters, filters, out));
    /* By name, so output does not depend on the order of a protobuf map. */
    for (int i = 1; i < out->num; i++)
        for (int j = i; j > 0 && strcmp(out->names[j - 1], out->names[j]) > 0; j--) {
            char *n = out->names[j];
            pl_tensor *t = out->tensors[j];
            out->names[j] = out->names[j - 1], out->tensors[j] = out->tensors[j - 1];
            out->names[j - 1] = n, out->tensors[j - 1] = t;
        }
    return NULL;
}

pl_status pl_client_prepare_predict(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                                    const char *const *names, pl_tensor *const *inputs, pl_client_prepared *out) {
    memset(out, 0, sizeof *out);
    pl_status st = c->ops->prepare(c, model, sig, num_inputs, names, inputs, out);
    if (st) pl_client_prepared_deinit(out);
    return st;
}

pl_status pl_client_send_prepared(pl_client *c, const pl_client_prepared *p) { return c->ops->send(c, p); }

void pl_client_prepared_deinit(pl_client_prepared *p) {
    free(p->path);
    free(p->data);
    memset(p, 0, sizeof *p);
}

const char *pl_client_transport_name(const pl_client *c) { return c->ops->name; }

void pl_client_versions_free(pl_client_version *v, int n) {
    for (int i = 0; v && i < n; i++) free(v[i].error);
    free(v);
}

void pl_client_outputs_deinit(pl_client_outputs *o) {
    for (int i = 0; i < o->num; i++) {
        if (o->names) free(o->names[i]);
        if (o->tensors) pl_tensor_unref(o->tensors[i]);
    }
    free(o->names);
    free(o->tensors);
    memset(o, 0, sizeof *o);
}

void pl_client_signature_clear(pl_signature *sig) {
    for (int i = 0; sig->inputs && i < sig->num_inputs; i++) {
        free(sig->inputs[i].alias);
        free(sig->inputs[i].tensor_name);
    }
    for (int i = 0; sig->outputs && i < sig->num_outputs; i++) {
        free(sig->outputs[i].alias);
        free(sig->outputs[i].tensor_name);
    }
    free(sig->inputs);
    free(sig->outputs);
    free(sig->key);
    free(sig->method_name);
    memset(sig, 0, sizeof *sig);
}

void pl_client_signatures_deinit(pl_client_signatures *s) {
    for (int i = 0; s->sigs && i < s->num; i++) pl_client_signature_clear(&s->sigs[i]);
    free(s->sigs);
    memset(s, 0, sizeof *s);
}

static int cmp_sig(const void *a, const void *b) { return strcmp(((const pl_signature *)a)->key, ((const pl_signature *)b)->key); }
static int cmp_info(const void *a, const void *b) {
    return strcmp(((const pl_tensor_info *)a)->alias, ((const pl_tensor_info *)b)->alias);
}

void pl_client_signatures_sort(pl_client_signatures *s) {
    if (s->num > 1) pl_qsort(s->sigs, (size_t)s->num, sizeof *s->sigs, cmp_sig);
    for (int i = 0; i < s->num; i++) {
        pl_signature *sig = &s->sigs[i];
        if (sig->num_inputs > 1) pl_qsort(sig->inputs, (size_t)sig->num_inputs, sizeof *sig->inputs, cmp_info);
        if (sig->num_outputs > 1) pl_qsort(sig->outputs, (size_t)sig->num_outputs, sizeof *sig->outputs, cmp_info);
    }
}

pl_status pl_client_find_signature(const pl_client_signatures *s, const char *key, const pl_signature **out) {
    if (!key) key = "serving_default";
    for (int i = 0; i < s->num; i++)
        if (!strcmp(s->sigs[i].key, key)) {
            *out = &s->sigs[i];
            return NULL;
        }
    char have[512] = "";
    size_t n = 0;
    for (int i = 0; i < s->num && n < sizeof have; i++)
        n += (size_t)snprintf(have + n, sizeof have - n, "%s'%s'", i ? ", " : "", s->sigs[i].key);
    return pl_error(PL_NOT_FOUND, "the model has no signature '%s' (it has %s)", key, s->num ? have : "none");
}
