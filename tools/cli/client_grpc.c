/* The gRPC transport: TensorFlow Serving's ModelService/GetModelStatus and
 * PredictionService/GetModelMetadata and Predict, as any TFS client sends them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client_internal.h"
#include "cli/rpc.h"
#include "tensor/tensor_proto.h"
#include "tensorflow_serving/apis/get_model_metadata.pb-c.h"
#include "tensorflow_serving/apis/get_model_status.pb-c.h"
#include "tensorflow_serving/apis/predict.pb-c.h"

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

static pl_status grpc_open(pl_client *c) { return pl_rpc_connect(c->cli->server, (pl_rpc **)&c->transport); }
static void grpc_close(pl_client *c) { pl_rpc_close(c->transport); }

/* Fills spec (and version, which must outlive it); strings are borrowed. */
static void fill_spec(const pl_cli *cli, const char *model, const char *signature, Tensorflow__Serving__ModelSpec *spec,
                      Google__Protobuf__Int64Value *version) {
    tensorflow__serving__model_spec__init(spec);
    spec->name = (char *)model;
    if (signature) spec->signature_name = (char *)signature;
    if (cli->label) {
        spec->version_choice_case = TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION_LABEL;
        spec->version_label = (char *)cli->label;
    } else if (cli->version > 0) {
        google__protobuf__int64_value__init(version);
        version->value = cli->version;
        spec->version_choice_case = TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION;
        spec->version = version;
    }
}

static const char *state_name(int state) {
    switch (state) {
    case 10: return "START";
    case 20: return "LOADING";
    case 30: return "AVAILABLE";
    case 40: return "UNLOADING";
    case 50: return "END";
    default: return "UNKNOWN";
    }
}

static pl_status grpc_status(pl_client *c, const char *model, pl_client_version **versions, int *n) {
    Tensorflow__Serving__GetModelStatusRequest req = TENSORFLOW__SERVING__GET_MODEL_STATUS_REQUEST__INIT;
    Tensorflow__Serving__ModelSpec spec;
    Google__Protobuf__Int64Value version;
    fill_spec(c->cli, model, NULL, &spec, &version);
    req.model_spec = &spec;
    ProtobufCMessage *reply = NULL;
    PL_TRY(pl_rpc_call(c->transport, "/tensorflow.serving.ModelService/GetModelStatus", &req.base,
                       &tensorflow__serving__get_model_status_response__descriptor, c->cli->timeout, &reply));
    Tensorflow__Serving__GetModelStatusResponse *res = (Tensorflow__Serving__GetModelStatusResponse *)reply;
    pl_client_version *v = calloc(res->n_model_version_status + 1, sizeof *v);
    pl_status st = v ? NULL : oom();
    for (size_t i = 0; !st && i < res->n_model_version_status; i++) {
        const Tensorflow__Serving__ModelVersionStatus *m = res->model_version_status[i];
        v[i].version = m->version;
        snprintf(v[i].state, sizeof v[i].state, "%s", state_name(m->state));
        v[i].error = strdup(m->status && m->status->error_message ? m->status->error_message : "");
        if (!v[i].error) st = oom();
    }
    if (st) pl_client_versions_free(v, (int)res->n_model_version_status);
    else *versions = v, *n = (int)res->n_model_version_status;
    protobuf_c_message_free_unpacked(reply, NULL);
    return st;
}

static pl_status info_from_proto(const char *alias, const Tensorflow__TensorInfo *p, pl_tensor_info *out) {
    memset(out, 0, sizeof *out);
    out->dtype = p ? (pl_dtype)p->dtype : PL_DT_INVALID;
    out->rank = -1;
    const Tensorflow__TensorShapeProto *s = p ? p->tensor_shape : NULL;
    if (s && !s->unknown_rank && s->n_dim <= PL_MAX_RANK) {
        out->rank = (int)s->n_dim;
        for (size_t i = 0; i < s->n_dim; i++) out->dims[i] = s->dim[i]->size;
    }
    const char *name = p && p->encoding_case == TENSORFLOW__TENSOR_INFO__ENCODING_NAME ? p->name : "";
    out->alias = strdup(alias);
    out->tensor_name = strdup(name);
    return out->alias && out->tensor_name ? NULL : oom();
}

/* Inputs and outputs map entries share one layout (key, TensorInfo). */
static pl_status infos_from_map(size_t n, Tensorflow__SignatureDef__InputsEntry **entries, pl_tensor_info **out,
                                int *num) {
    *out = calloc(n + 1, sizeof **out);
    if (!*out) return oom();
    for (size_t i = 0; i < n; i++) {
        (*num)++;
        PL_TRY(info_from_proto(entries[i]->key, entries[i]->value, &(*out)[i]));
    }
    return NULL;
}

static pl_status signatures_from_proto(const Tensorflow__Serving__SignatureDefMap *map, pl_client_signatures *out) {
    out->sigs = calloc(map->n_signature_def + 1, sizeof *out->sigs);
    if (!out->sigs) return oom();
    for (size_t s = 0; s < map->n_signature_def; s++) {
        const Tensorflow__SignatureDef *def = map->signature_def[s]->value;
        pl_signature *sig = &out->sigs[out->num++];
        sig->key = strdup(map->signature_def[s]->key);
        sig->method_name = strdup(def && def->method_name ? def->method_name : "");
        if (!sig->key || !sig->method_name) return oom();
        if (!def) continue;
        PL_TRY(infos_from_map(def->n_inputs, def->inputs, &sig->inputs, &sig->num_inputs));
        PL_TRY(infos_from_map(def->n_outputs, (Tensorflow__SignatureDef__InputsEntry **)def->outputs, &sig->outputs,
                              &sig->num_outputs));
    }
    return NULL;
}

static pl_status grpc_metadata(pl_client *c, const char *model, pl_client_signatures *out) {
    Tensorflow__Serving__GetModelMetadataRequest req = TENSORFLOW__SERVING__GET_MODEL_METADATA_REQUEST__INIT;
    Tensorflow__Serving__ModelSpec spec;
    Google__Protobuf__Int64Value version;
    fill_spec(c->cli, model, NULL, &spec, &version);
    char *field = "signature_def";
    req.model_spec = &spec;
    req.n_metadata_field = 1;
    req.metadata_field = &field;
    ProtobufCMessage *reply = NULL;
    PL_TRY(pl_rpc_call(c->transport, "/tensorflow.serving.PredictionService/GetModelMetadata", &req.base,
                       &tensorflow__serving__get_model_metadata_response__descriptor, c->cli->timeout, &reply));
    Tensorflow__Serving__GetModelMetadataResponse *res = (Tensorflow__Serving__GetModelMetadataResponse *)reply;
    out->version = res->model_spec && res->model_spec->version ? res->model_spec->version->value : 0;
    Tensorflow__Serving__SignatureDefMap *map = NULL;
    for (size_t m = 0; m < res->n_metadata && !map; m++) {
        Google__Protobuf__Any *any = res->metadata[m]->value;
        if (!strcmp(res->metadata[m]->key, "signature_def") && any)
            map = tensorflow__serving__signature_def_map__unpack(NULL, any->value.len, any->value.data);
    }
    protobuf_c_message_free_unpacked(reply, NULL);
    if (!map) return pl_error(PL_DATA_LOSS, "the server's signature_def metadata is missing or does not parse");
    pl_status st = signatures_from_proto(map, out);
    tensorflow__serving__signature_def_map__free_unpacked(map, NULL);
    if (st) pl_client_signatures_deinit(out);
    return st;
}

#define PREDICT_METHOD "/tensorflow.serving.PredictionService/Predict"

/* Packs the PredictRequest into a malloc'd buffer. */
static pl_status pack_predict(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                              const char *const *names, pl_tensor *const *inputs, int num_filters,
                              const char *const *filters, uint8_t **data, size_t *len) {
    Tensorflow__TensorProto **protos = calloc((size_t)num_inputs + 1, sizeof *protos);
    Tensorflow__Serving__PredictRequest__InputsEntry *entries = calloc((size_t)num_inputs + 1, sizeof *entries);
    Tensorflow__Serving__PredictRequest__InputsEntry **entry_ptrs = calloc((size_t)num_inputs + 1, sizeof *entry_ptrs);
    pl_status st = protos && entries && entry_ptrs ? NULL : oom();
    for (int i = 0; !st && i < num_inputs; i++) {
        /* tensor_content, as TensorFlow's make_tensor_proto writes numeric arrays. */
        st = pl_tensor_to_proto(inputs[i], inputs[i]->dtype != PL_DT_STRING, NULL, &protos[i]);
        tensorflow__serving__predict_request__inputs_entry__init(&entries[i]);
        entries[i].key = (char *)names[i];
        entries[i].value = protos[i];
        entry_ptrs[i] = &entries[i];
    }
    if (!st) {
        Tensorflow__Serving__PredictRequest req = TENSORFLOW__SERVING__PREDICT_REQUEST__INIT;
        Tensorflow__Serving__ModelSpec spec;
        Google__Protobuf__Int64Value version;
        fill_spec(c->cli, model, sig ? sig->key : c->cli->signature, &spec, &version);
        req.model_spec = &spec;
        req.n_inputs = (size_t)num_inputs;
        req.inputs = entry_ptrs;
        req.n_output_filter = (size_t)num_filters;
        req.output_filter = (char **)filters;
        *len = tensorflow__serving__predict_request__get_packed_size(&req);
        if (*len > (size_t)INT32_MAX) st = pl_error(PL_RESOURCE_EXHAUSTED, "the request passes gRPC's 2 GB limit");
        else if (!(*data = malloc(*len + 1))) st = oom();
        else tensorflow__serving__predict_request__pack(&req, *data);
    }
    for (int i = 0; protos && i < num_inputs; i++)
        if (protos[i]) protobuf_c_message_free_unpacked(&protos[i]->base, NULL);
    free(protos);
    free(entries);
    free(entry_ptrs);
    return st;
}

static pl_status grpc_predict(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                              const char *const *names, pl_tensor *const *inputs, int num_filters,
                              const char *const *filters, pl_client_outputs *out) {
    uint8_t *data = NULL;
    void *bytes = NULL;
    size_t len = 0, reply_len = 0;
    PL_TRY(pack_predict(c, model, sig, num_inputs, names, inputs, num_filters, filters, &data, &len));
    pl_status st = pl_rpc_call_raw(c->transport, PREDICT_METHOD, data, len, c->cli->timeout, &bytes, &reply_len);
    free(data);
    Tensorflow__Serving__PredictResponse *res = NULL;
    if (!st && !(res = tensorflow__serving__predict_response__unpack(NULL, reply_len, bytes)))
        st = pl_error(PL_DATA_LOSS, "the reply to Predict does not parse");
    free(bytes);
    if (!st) {
        size_t n = res->n_outputs;
        out->names = calloc(n + 1, sizeof *out->names);
        out->tensors = calloc(n + 1, sizeof *out->tensors);
        if (!out->names || !out->tensors) st = oom();
        for (size_t i = 0; i < n && !st; i++) {
            out->num++;
            if (!(out->names[i] = strdup(res->outputs[i]->key))) st = oom();
            else st = pl_tensor_from_proto(res->outputs[i]->value, &out->tensors[i]);
            if (st) st = pl_status_prefix(st, "output '%s': ", res->outputs[i]->key);
        }
        if (st) pl_client_outputs_deinit(out);
    }
    if (res) tensorflow__serving__predict_response__free_unpacked(res, NULL);
    return st;
}

static pl_status grpc_prepare(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                              const char *const *names, pl_tensor *const *inputs, pl_client_prepared *out) {
    if (!(out->path = strdup(PREDICT_METHOD))) return oom();
    return pack_predict(c, model, sig, num_inputs, names, inputs, 0, NULL, (uint8_t **)&out->data, &out->len);
}

static pl_status grpc_send(pl_client *c, const pl_client_prepared *p) {
    return pl_rpc_call_raw(c->transport, p->path, p->data, p->len, c->cli->timeout, NULL, NULL);
}

const pl__client_ops pl__client_grpc = {
    .open = grpc_open,
    .close = grpc_close,
    .status = grpc_status,
    .metadata = grpc_metadata,
    .predict = grpc_predict,
    .prepare = grpc_prepare,
    .send = grpc_send,
    .name = "gRPC",
};
