/* ModelService (GetModelStatus, HandleReloadConfigRequest) and the standard
 * grpc.health.v1 Check over gRPC (spec 1b, model_service_impl.cc). */
#include <string.h>

#include "api/grpc_internal.h"
#include "base/log.h"
#include "grpc/health/v1/health.pb-c.h"
#include "serving/metrics.h"
#include "tensorflow_serving/apis/get_model_status.pb-c.h"
#include "tensorflow_serving/apis/model_management.pb-c.h"

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

pl_status pl__grpc_get_model_status(pl__grpc_call_ctx *ctx, const uint8_t *data, size_t len, grpc_slice *resp) {
    Tensorflow__Serving__GetModelStatusRequest *req;
    PL_TRY(pl__grpc_unpack(ctx, &tensorflow__serving__get_model_status_request__descriptor, data, len,
                           (ProtobufCMessage **)&req));
    const Tensorflow__Serving__ModelSpec *ms = req->model_spec;
    if (!ms) return pl_error(PL_INVALID_ARGUMENT, "Missing ModelSpec");
    /* A version label is ignored: every version is reported. */
    bool has_version = ms->version_choice_case == TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION;
    int64_t version = has_version && ms->version ? ms->version->value : 0;
    pl_version_status *vs;
    int n;
    PL_TRY(pl_serving_model_status(ctx->serving, ms->name, has_version ? &version : NULL, &vs, &n));

    Tensorflow__Serving__GetModelStatusResponse r = TENSORFLOW__SERVING__GET_MODEL_STATUS_RESPONSE__INIT;
    pl_arena *a = ctx->arena;
    r.n_model_version_status = (size_t)n;
    r.model_version_status = pl_arena_alloc(a, sizeof *r.model_version_status * (size_t)(n + 1));
    pl_status st = r.model_version_status ? NULL : oom();
    for (int i = 0; !st && i < n; i++) {
        Tensorflow__Serving__ModelVersionStatus *m = pl_arena_alloc(a, sizeof *m);
        Tensorflow__Serving__StatusProto *sp = pl_arena_alloc(a, sizeof *sp);
        if (!m || !sp) {
            st = oom();
            break;
        }
        tensorflow__serving__model_version_status__init(m);
        tensorflow__serving__status_proto__init(sp);
        m->version = vs[i].version;
        m->state = (Tensorflow__Serving__ModelVersionStatus__State)vs[i].state;
        sp->error_code = (Tensorflow__Error__Code)vs[i].error_code;
        sp->error_message = pl_arena_strdup(a, vs[i].error_message);
        if (!sp->error_message) st = oom();
        m->status = sp;
        r.model_version_status[i] = m;
    }
    pl_version_status_free(vs, n);
    if (!st) st = pl__grpc_pack(&r.base, resp);
    return st;
}

/* GetMetrics of model_service_impl.cc: each named metric's first point, 0
 * for a metric that does not exist. */
static void read_metrics(const Tensorflow__Serving__ReloadConfigRequest *req, int64_t *values) {
    pl_metrics *r = pl_metrics_default();
    for (size_t i = 0; i < req->n_metric_names; i++)
        values[i] = pl_metric_first_value(pl_metrics_find(r, req->metric_names[i] ? req->metric_names[i] : ""));
}

pl_status pl__grpc_reload_config(pl__grpc_call_ctx *ctx, const uint8_t *data, size_t len, grpc_slice *resp) {
    Tensorflow__Serving__ReloadConfigRequest *req;
    PL_TRY(pl__grpc_unpack(ctx, &tensorflow__serving__reload_config_request__descriptor, data, len,
                           (ProtobufCMessage **)&req));
    int64_t *before = pl_arena_alloc(ctx->arena, sizeof *before * (req->n_metric_names + 1));
    if (!before) return oom();
    read_metrics(req, before);
    pl_status st;
    if (!req->config ||
        req->config->config_case != TENSORFLOW__SERVING__MODEL_SERVER_CONFIG__CONFIG_MODEL_CONFIG_LIST) {
        st = pl_error(PL_INVALID_ARGUMENT, "ServerModelConfig type not supported by HandleReloadConfigRequest. Only "
                                           "ModelConfigList is currently supported");
    } else {
        pl_server_config cfg;
        st = pl_server_config_from_proto(req->config, &cfg);
        if (!st) {
            for (int i = 0; i < cfg.num_models; i++)
                pl_log_info("Config entry index : %d path : %s name : %s platform : %s", i, cfg.models[i].base_path,
                            cfg.models[i].name, cfg.models[i].platform);
            st = pl_serving_reload_config(ctx->serving, &cfg);
            pl_server_config_clear(&cfg);
        }
    }
    if (st) {
        pl_log_error("ReloadConfig failed: %s", pl_status_message(st));
        /* The status also goes back as the RPC status, so the body is not sent. */
        return st;
    }
    Tensorflow__Serving__ReloadConfigResponse r = TENSORFLOW__SERVING__RELOAD_CONFIG_RESPONSE__INIT;
    Tensorflow__Serving__StatusProto sp = TENSORFLOW__SERVING__STATUS_PROTO__INIT;
    r.status = &sp;
    /* RecordMetricsIncrease: one entry per distinct name, what it moved by across the reload. */
    int64_t *after = pl_arena_alloc(ctx->arena, sizeof *after * (req->n_metric_names + 1));
    r.metric = pl_arena_alloc(ctx->arena, sizeof *r.metric * (req->n_metric_names + 1));
    if (!after || !r.metric) return oom();
    read_metrics(req, after);
    for (size_t i = 0; i < req->n_metric_names; i++) {
        const char *name = req->metric_names[i] ? req->metric_names[i] : "";
        bool seen = false;
        for (size_t j = 0; j < r.n_metric && !seen; j++) seen = !strcmp(r.metric[j]->name, name);
        if (seen) continue;
        Tensorflow__Serving__Metric *m = pl_arena_alloc(ctx->arena, sizeof *m);
        if (!m) return oom();
        tensorflow__serving__metric__init(m);
        m->name = (char *)name;
        m->value_increase_case = TENSORFLOW__SERVING__METRIC__VALUE_INCREASE_INT64_VALUE_INCREASE;
        m->int64_value_increase = after[i] - before[i];
        r.metric[r.n_metric++] = m;
    }
    return pl__grpc_pack(&r.base, resp);
}

/* The default health service of gRPC C++ as TensorFlow Serving sets it up:
 * the server ("") and the two services it names are SERVING; anything else is
 * NOT_FOUND. */
static bool known_service(const char *service) {
    return !*service || !strcmp(service, "ModelService") || !strcmp(service, "PredictionService");
}

/* Watch answers an unknown service with SERVICE_UNKNOWN instead of an error,
 * and keeps the stream open in case it appears (grpc health protocol). */
pl_status pl__grpc_health_watch(pl__grpc_call_ctx *ctx, const uint8_t *data, size_t len, grpc_slice *resp) {
    Grpc__Health__V1__HealthCheckRequest *req;
    PL_TRY(pl__grpc_unpack(ctx, &grpc__health__v1__health_check_request__descriptor, data, len,
                           (ProtobufCMessage **)&req));
    Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = known_service(req->service ? req->service : "")
                   ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                   : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    return pl__grpc_pack(&r.base, resp);
}

pl_status pl__grpc_health_check(pl__grpc_call_ctx *ctx, const uint8_t *data, size_t len, grpc_slice *resp) {
    Grpc__Health__V1__HealthCheckRequest *req;
    PL_TRY(pl__grpc_unpack(ctx, &grpc__health__v1__health_check_request__descriptor, data, len,
                           (ProtobufCMessage **)&req));
    const char *service = req->service ? req->service : "";
    if (*service && strcmp(service, "ModelService") && strcmp(service, "PredictionService"))
        return pl_error(PL_NOT_FOUND, "%s", "");
    Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    return pl__grpc_pack(&r.base, resp);
}
