/* PredictionService.Predict and GetModelMetadata over gRPC: protobuf in,
 * serving's plain values through, protobuf out (spec 1b). */
#include <string.h>

#include "api/grpc_internal.h"
#include "api/signature_proto.h"
#include "google/protobuf/any.pb-c.h"
#include "tensor/tensor_proto.h"
#include "tensorflow_serving/apis/get_model_metadata.pb-c.h"
#include "tensorflow_serving/apis/predict.pb-c.h"

/* A request tensor may not decode to more than this many bytes per byte of
 * request plus a fixed allowance: a TensorProto with a huge shape and one
 * value would otherwise make a few bytes allocate gigabytes. */
enum { DECODE_AMPLIFICATION = 16 };
#define DECODE_ALLOWANCE ((int64_t)64 << 20)

typedef struct decode_ctx {
    pl__grpc_call_ctx *ctx;
    Tensorflow__Serving__PredictRequest *req;
    int64_t budget;  /* bytes the inputs may still decode to */
} decode_ctx;

static int64_t declared_bytes(const Tensorflow__TensorProto *p) {
    int64_t count = 1;
    const Tensorflow__TensorShapeProto *s = p->tensor_shape;
    for (size_t i = 0; s && i < s->n_dim; i++) {
        int64_t d = s->dim[i] ? s->dim[i]->size : 0;
        if (d <= 0) return 0;  /* empty or malformed: the decoder says which */
        if (count > INT64_MAX / d) return INT64_MAX;
        count *= d;
    }
    size_t elem = pl_dtype_size((pl_dtype)p->dtype);
    if (elem == 0) elem = 1;
    return count > INT64_MAX / (int64_t)elem ? INT64_MAX : count * (int64_t)elem;
}

static pl_status decode_input(void *arg, int index, pl_tensor **out) {
    decode_ctx *d = arg;
    const Tensorflow__Serving__PredictRequest__InputsEntry *e = d->req->inputs[index];
    Tensorflow__TensorProto empty = TENSORFLOW__TENSOR_PROTO__INIT;
    const Tensorflow__TensorProto *p = e->value ? e->value : &empty;
    int64_t want = declared_bytes(p);
    if (want > d->budget)
        return pl_error(PL_RESOURCE_EXHAUSTED, "tensor parsing error: %s: its shape declares %lld bytes, more than "
                                               "the request may decode to",
                        e->key, (long long)want);
    pl_status st = e->value ? pl__pb_take_tensor(d->ctx, e->value, out) : pl_tensor_from_proto(p, out);
    if (st) {
        if (pl_status_code(st) != PL_INVALID_ARGUMENT) return st;
        pl_status_free(st);
        /* Tensor::FromProto failed: TensorFlow's text. */
        return pl_error(PL_INVALID_ARGUMENT, "tensor parsing error: %s", e->key);
    }
    d->budget -= want;
    return NULL;
}

pl_status pl__grpc_predict(pl__grpc_call_ctx *ctx, const uint8_t *data, size_t len, grpc_slice *resp) {
    Tensorflow__Serving__PredictRequest *req;
    PL_TRY(pl__grpc_unpack(ctx, &tensorflow__serving__predict_request__descriptor, data, len,
                           (ProtobufCMessage **)&req));
    ctx->model_name = req->model_spec ? req->model_spec->name : "";
    pl__grpc_release_request(ctx);  /* everything needed is in req now */
    /* Contents gathered straight into blocks of their own go back in place. */
    for (int k = 0; ctx->gathered && k < ctx->gathered->num_entries && (size_t)k < req->n_inputs; k++) {
        const pl__grpc_gathered_entry *g = &ctx->gathered->entries[k];
        if (g->data && req->inputs[k]->value) {
            req->inputs[k]->value->tensor_content.data = g->data;
            req->inputs[k]->value->tensor_content.len = g->len;
        }
    }
    if (ctx->received_len > len) len = ctx->received_len;
    pl_model_spec spec;
    PL_TRY(pl__grpc_spec_from_proto(req->model_spec, &spec));
    pl_servable *sv;
    PL_TRY(pl_serving_get_servable(ctx->serving, &spec, &sv));

    const pl_signature *sig;
    pl_predict_response out = {0};
    pl_status st = pl_serving_predict_signature(sv, spec.signature_name, &sig);
    const char **aliases = NULL;
    if (!st && req->n_inputs > (size_t)INT32_MAX) st = pl_error(PL_INVALID_ARGUMENT, "too many inputs");
    if (!st && req->n_inputs) {
        aliases = pl_arena_alloc(ctx->arena, sizeof *aliases * req->n_inputs);
        if (!aliases) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        for (size_t i = 0; !st && i < req->n_inputs; i++) aliases[i] = req->inputs[i]->key;
    }
    if (!st) {
        decode_ctx dctx = {ctx, req, (int64_t)len * DECODE_AMPLIFICATION + DECODE_ALLOWANCE};
        pl_predict_request preq = {
            .num_inputs = (int)req->n_inputs,
            .input_aliases = aliases,
            .decode = decode_input,
            .decode_ctx = &dctx,
            .num_output_filter = (int)(req->n_output_filter > (size_t)INT32_MAX ? INT32_MAX : req->n_output_filter),
            .output_filter = (const char *const *)req->output_filter,
        };
        st = pl_serving_predict(sv, sig, &ctx->run, &preq, &out);
    }
    Tensorflow__Serving__PredictResponse r = TENSORFLOW__SERVING__PREDICT_RESPONSE__INIT;
    if (!st) {
        r.model_spec = pl__grpc_spec_to_proto(ctx, spec.name, spec.signature_name, pl_servable_version(sv));
        r.n_outputs = (size_t)out.num_outputs;
        r.outputs = pl_arena_alloc(ctx->arena, sizeof *r.outputs * (size_t)(out.num_outputs + 1));
        if (!r.model_spec || !r.outputs) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (int i = 0; !st && i < out.num_outputs; i++) {
        Tensorflow__Serving__PredictResponse__OutputsEntry *e = pl_arena_alloc(ctx->arena, sizeof *e);
        if (!e) {
            st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            break;
        }
        tensorflow__serving__predict_response__outputs_entry__init(e);
        e->key = (char *)out.aliases[i];
        st = pl_tensor_to_proto(out.outputs[i], ctx->opt->tensor_content, ctx->pb, &e->value);
        r.outputs[i] = e;
    }
    if (!st) st = pl__grpc_pack(&r.base, resp);
    pl_predict_response_clear(&out);
    pl_servable_release(sv);
    return st;
}

/* ---- GetModelMetadata ---- */

/* Any(SignatureDefMap) of every signature of the model. */
static pl_status signature_def_map(pl_arena *a, const pl_model *m, Google__Protobuf__Any *any) {
    Tensorflow__Serving__SignatureDefMap map;
    PL_TRY(pl__signature_def_map(a, m, &map));
    size_t size = protobuf_c_message_get_packed_size(&map.base);
    uint8_t *buf = pl_arena_alloc(a, size ? size : 1);
    if (!buf) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    protobuf_c_message_pack(&map.base, buf);
    google__protobuf__any__init(any);
    any->type_url = "type.googleapis.com/tensorflow.serving.SignatureDefMap";
    any->value.data = buf;
    any->value.len = size;
    return NULL;
}

pl_status pl__grpc_get_model_metadata(pl__grpc_call_ctx *ctx, const uint8_t *data, size_t len, grpc_slice *resp) {
    Tensorflow__Serving__GetModelMetadataRequest *req;
    PL_TRY(pl__grpc_unpack(ctx, &tensorflow__serving__get_model_metadata_request__descriptor, data, len,
                           (ProtobufCMessage **)&req));
    pl_model_spec spec;
    PL_TRY(pl__grpc_spec_from_proto(req->model_spec, &spec));
    if (req->n_metadata_field > (size_t)INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "too many metadata fields");
    PL_TRY(pl_serving_check_metadata_fields((int)req->n_metadata_field, (const char *const *)req->metadata_field));
    pl_servable *sv;
    PL_TRY(pl_serving_get_servable(ctx->serving, &spec, &sv));

    Tensorflow__Serving__GetModelMetadataResponse r = TENSORFLOW__SERVING__GET_MODEL_METADATA_RESPONSE__INIT;
    Tensorflow__Serving__GetModelMetadataResponse__MetadataEntry entry =
        TENSORFLOW__SERVING__GET_MODEL_METADATA_RESPONSE__METADATA_ENTRY__INIT;
    Tensorflow__Serving__GetModelMetadataResponse__MetadataEntry *entries[1] = {&entry};
    Google__Protobuf__Any any;
    pl_status st = signature_def_map(ctx->arena, pl_servable_model(sv), &any);
    if (!st) {
        entry.key = "signature_def";
        entry.value = &any;
        r.n_metadata = 1;
        r.metadata = entries;
        /* The servable's own name and version; no signature name. */
        r.model_spec = pl__grpc_spec_to_proto(ctx, pl_servable_name(sv), NULL, pl_servable_version(sv));
        if (!r.model_spec) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (!st) st = pl__grpc_pack(&r.base, resp);
    pl_servable_release(sv);
    return st;
}
