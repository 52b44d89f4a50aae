/* GET /v1/models/{m}[...] (GetModelStatus), .../metadata (GetModelMetadata)
 * and plinth's listing GET /v1/models?list, with the JSON layouts TF Serving
 * prints: protobuf's MessageToJsonString with whitespace and default values
 * (http_rest_api_util.cc ToJsonString), the metadata assembled by hand from
 * the model spec and the SignatureDefMap as TF Serving does. */
#include <stdlib.h>
#include <string.h>

#include "api/rest_internal.h"
#include "api/signature_proto.h"
#include "base/arena.h"
#include "pb/pb.h"
#include "tensorflow_serving/apis/get_model_metadata.pb-c.h"
#include "tensorflow_serving/apis/get_model_status.pb-c.h"

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

/* Prints msg and appends it to out. */
static pl_status append_json(const ProtobufCMessage *msg, bool proto_names, pl_strbuf *out) {
    pl_pb_json_options o = {.proto_field_names = proto_names, .print_defaults = true, .pretty = true};
    char *json;
    size_t len;
    pl_status st = pl_pb_to_json(msg, &o, &json, &len);
    if (st) return pl_error(PL_INTERNAL, "Failed to convert proto to json. Error: %s", pl_status_message(st));
    pl_strbuf_append(out, json, len);
    free(json);
    return pl_strbuf_status(out);
}

/* ---- GetModelStatus ---- */

static pl_status status_response(const pl_version_status *vs, int n, pl_arena *a,
                                 Tensorflow__Serving__GetModelStatusResponse *r) {
    tensorflow__serving__get_model_status_response__init(r);
    r->n_model_version_status = (size_t)n;
    r->model_version_status = pl_arena_calloc(a, (size_t)n + 1, sizeof *r->model_version_status);
    if (!r->model_version_status) return oom();
    for (int i = 0; i < n; i++) {
        Tensorflow__Serving__ModelVersionStatus *m = pl_arena_alloc(a, sizeof *m);
        Tensorflow__Serving__StatusProto *sp = pl_arena_alloc(a, sizeof *sp);
        if (!m || !sp) return oom();
        tensorflow__serving__model_version_status__init(m);
        tensorflow__serving__status_proto__init(sp);
        m->version = vs[i].version;
        m->state = (Tensorflow__Serving__ModelVersionStatus__State)vs[i].state;
        sp->error_code = (Tensorflow__Error__Code)vs[i].error_code;
        sp->error_message = vs[i].error_message ? vs[i].error_message : "";
        m->status = sp;
        r->model_version_status[i] = m;
    }
    return NULL;
}

pl_status pl__rest_status(pl__rest_ctx *ctx, const pl__rest_route *r, pl_strbuf *out) {
    /* Only one model's status: in step with gRPC's GetModelStatus. */
    if (!*r->model_name) return pl_error(PL_INVALID_ARGUMENT, "Missing model name in request.");
    if (r->has_version && r->label)
        return pl_error(PL_INVALID_ARGUMENT, "Both model version (%lld) and model version label (%s) cannot be supplied.",
                        (long long)r->version, r->label);
    pl_version_status *vs;
    int n;
    /* A label is ignored: every version is reported (spec 1b). */
    PL_TRY(pl_serving_model_status(ctx->serving, r->model_name, r->has_version ? &r->version : NULL, &vs, &n));
    pl_arena a;
    pl_arena_init(&a, 0);
    Tensorflow__Serving__GetModelStatusResponse resp;
    pl_status st = status_response(vs, n, &a, &resp);
    if (!st) st = append_json(&resp.base, false, out);
    pl_arena_deinit(&a);
    pl_version_status_free(vs, n);
    return st;
}

/* ---- GetModelMetadata ---- */

pl_status pl__rest_metadata(pl__rest_ctx *ctx, const pl__rest_route *r, pl_strbuf *out) {
    if (!*r->model_name) return pl_error(PL_INVALID_ARGUMENT, "Missing model name in request.");
    if (r->has_version && r->label)
        return pl_error(PL_INVALID_ARGUMENT, "Both model version (%lld) and model version label (%s) cannot be supplied.",
                        (long long)r->version, r->label);
    pl_model_spec spec = pl__rest_spec(r, NULL);
    pl_servable *sv;
    PL_TRY(pl_serving_get_servable(ctx->serving, &spec, &sv));
    pl_arena a;
    pl_arena_init(&a, 0);
    /* The servable's own name and version; no signature name. */
    Tensorflow__Serving__ModelSpec ms = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    Google__Protobuf__Int64Value version = GOOGLE__PROTOBUF__INT64_VALUE__INIT;
    ms.name = (char *)pl_servable_name(sv);
    version.value = pl_servable_version(sv);
    ms.version_choice_case = TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION;
    ms.version = &version;
    Tensorflow__Serving__SignatureDefMap map;
    pl_status st = pl__signature_def_map(&a, pl_servable_model(sv), &map);
    /* ToJsonString(GetModelMetadataResponse): the pieces joined by hand. */
    if (!st) {
        pl_strbuf_puts(out, "{\n\"model_spec\":");
        st = append_json(&ms.base, true, out);
    }
    if (!st) {
        pl_strbuf_puts(out, ",\n\"metadata\": {\"signature_def\": ");
        st = append_json(&map.base, true, out);
    }
    if (!st) {
        pl_strbuf_puts(out, "}\n}\n");
        st = pl_strbuf_status(out);
    }
    pl_arena_deinit(&a);
    pl_servable_release(sv);
    return st;
}

/* ---- plinth: GET /v1/models?list ---- */

void pl__rest_json_string(pl_strbuf *b, const char *s) {
    pl_strbuf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            pl_strbuf_putc(b, '\\');
            pl_strbuf_putc(b, (char)*p);
        } else if (*p < 0x20) {
            pl_strbuf_printf(b, "\\u%04x", *p);
        } else {
            pl_strbuf_putc(b, (char)*p);
        }
    }
    pl_strbuf_putc(b, '"');
}

/* {"models": [{"name": m, "model_version_status": [...]}, ...]} in the
 * layout of the status reply, one model per configured name. */
pl_status pl__rest_list(pl__rest_ctx *ctx, pl_strbuf *out) {
    char **names;
    int num;
    PL_TRY(pl_serving_model_names(ctx->serving, &names, &num));
    pl_status st = NULL;
    pl_strbuf_puts(out, "{\n \"models\": [");
    for (int i = 0; !st && i < num; i++) {
        pl_version_status *vs = NULL;
        int n = 0;
        pl_status ms = pl_serving_model_status(ctx->serving, names[i], NULL, &vs, &n);
        if (ms && pl_status_code(ms) != PL_NOT_FOUND) {
            st = ms;
            break;
        }
        pl_status_free(ms);  /* no version seen yet: an empty list */
        pl_strbuf_puts(out, i ? ",\n  {\n   \"name\": " : "\n  {\n   \"name\": ");
        pl__rest_json_string(out, names[i]);
        pl_strbuf_puts(out, ",\n   \"model_version_status\": [");
        for (int j = 0; j < n; j++) {
            pl_strbuf_printf(out, "%s\n    {\n     \"version\": \"%lld\",\n     \"state\": \"%s\",\n     \"status\": {\n"
                                  "      \"error_code\": \"%s\",\n      \"error_message\": ",
                             j ? "," : "", (long long)vs[j].version, pl_servable_state_name(vs[j].state),
                             pl_code_name(vs[j].error_code));
            pl__rest_json_string(out, vs[j].error_message ? vs[j].error_message : "");
            pl_strbuf_puts(out, "\n     }\n    }");
        }
        pl_strbuf_puts(out, n ? "\n   ]\n  }" : "]\n  }");
        pl_version_status_free(vs, n);
    }
    pl_strbuf_puts(out, num ? "\n ]\n}\n" : "]\n}\n");
    pl_serving_model_names_free(names, num);
    if (!st) st = pl_strbuf_status(out);
    return st;
}
