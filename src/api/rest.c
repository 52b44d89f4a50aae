/* The REST server: options, the monitoring config, and the dispatch of each
 * request the way TF Serving's http_server.cc does it: the Prometheus path
 * first, then everything under /v1/ (with CORS, the JSON error body, the
 * status mapping and the request metrics), then plinth's /v2 health routes,
 * and libevent's 404 page for anything else. */
#include "api/rest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/json.h"
#include "api/rest_internal.h"
#include "base/clock.h"
#include "base/log.h"
#include "pb/pb.h"
#include "serving/metrics.h"
#include "tensorflow_serving/config/monitoring_config.pb-c.h"

struct pl_rest_server {
    pl__rest_ctx ctx;
    pl_http_server *http;
};

void pl_rest_options_init(pl_rest_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->timeout_in_ms = 30000;
    opt->max_body_bytes = (uint64_t)INT32_MAX;
}

/* A monitoring config is a few lines; this only stops a wrong path from reading a disk image. */
#define MAX_CONFIG_BYTES ((size_t)1 << 20)

pl_status pl_rest_read_monitoring_config(const char *path, pl_rest_options *opt) {
    if (!path || !*path) return NULL;
    ProtobufCMessage *msg;
    PL_TRY(pl_pb_read_text_file(&tensorflow__serving__monitoring_config__descriptor, path, MAX_CONFIG_BYTES, &msg));
    pl_status st = NULL;
    const Tensorflow__Serving__MonitoringConfig *mc = (const Tensorflow__Serving__MonitoringConfig *)msg;
    const Tensorflow__Serving__PrometheusConfig *pc = mc->prometheus_config;
    opt->prometheus_enable = pc && pc->enable;
    opt->prometheus_path = NULL;
    if (pc && pc->path && *pc->path) {
        free(opt->owned);
        opt->owned = strdup(pc->path);
        if (!opt->owned) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        opt->prometheus_path = opt->owned;
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    return st;
}

void pl_rest_options_deinit(pl_rest_options *opt) {
    free(opt->owned);
    opt->owned = NULL;
    opt->prometheus_path = NULL;
}

pl_run_options pl__rest_run_options(const pl__rest_ctx *ctx, const pl__rest_route *r) {
    pl_run_options run = {.deadline_ns = pl_clock_deadline_ns(ctx->opt.timeout_in_ms), .cancelled = r->cancelled};
    return run;
}

/* ---- Prometheus (ProcessPrometheusRequest) ---- */

static void prometheus(pl__rest_ctx *ctx, const pl_http_request *req, pl_http_response *resp) {
    pl_http_response_set(resp, 200, "text/plain");
    if (strcmp(req->target, ctx->prometheus_path)) {
        /* The handler is found by the path alone, then the path with its query is checked. */
        resp->status = 400;
        pl_strbuf_printf(&resp->body, "Unexpected path: %s. Should be %s", req->target, ctx->prometheus_path);
        return;
    }
    pl_status st = pl_metrics_prometheus(pl_metrics_default(), &resp->body);
    if (st) {
        resp->status = pl_code_http_status(pl_status_code(st));
        pl_status_free(st);
    }
}

/* The path of a target: up to '?' or '#'. */
static bool path_is(const char *target, const char *path) {
    size_t n = strcspn(target, "?#");
    return strlen(path) == n && !memcmp(target, path, n);
}

/* ---- /v1 (RestApiRequestDispatcher::ProcessRequest) ---- */

static void add_cors(pl_http_response *resp) {
    pl_http_response_header(resp, "Access-Control-Allow-Origin", "*");
    pl_http_response_header(resp, "Access-Control-Allow-Methods", "POST, GET");
    pl_http_response_header(resp, "Access-Control-Allow-Headers", "Content-Type");
}

/* Content-Encoding containing "gzip": inflated up to TF Serving's 100 MiB. */
#define MAX_INFLATED_BYTES ((size_t)100 << 20)

static pl_status dispatch_v1(pl__rest_ctx *ctx, const pl_http_request *req, const pl__rest_route *r,
                             pl_strbuf *out) {
    const char *body = req->body;
    size_t len = req->body_len;
    char *inflated = NULL;
    const char *enc = pl_http_request_header(req, "Content-Encoding");
    if (enc && strstr(enc, "gzip") && len) {
        size_t n;
        PL_TRY(pl_http_gunzip(body, len, MAX_INFLATED_BYTES, &inflated, &n));
        body = inflated;
        len = n;
    }
    pl_status st;
    switch (r->kind) {
    case PL__REST_PREDICT: st = pl__rest_predict(ctx, r, body, len, out); break;
    case PL__REST_CLASSIFY: st = pl__rest_classify(ctx, r, body, len, out); break;
    case PL__REST_REGRESS: st = pl__rest_regress(ctx, r, body, len, out); break;
    case PL__REST_STATUS: st = pl__rest_status(ctx, r, out); break;
    case PL__REST_METADATA: st = pl__rest_metadata(ctx, r, out); break;
    case PL__REST_LIST: st = pl__rest_list(ctx, out); break;
    default: st = pl_error(PL_INVALID_ARGUMENT, "Malformed request: %s %s", req->method, req->target); break;
    }
    free(inflated);
    return st;
}

static void handle_v1(pl__rest_ctx *ctx, const pl_http_request *req, pl_http_response *resp) {
    int64_t start = pl_clock_now_ns();
    pl__rest_route r;
    memset(&r, 0, sizeof r);
    r.api = "";
    pl_status st;
    if (!strcmp(req->method, "OPTIONS")) {
        /* A preflight gets no JSON and no Content-Type of TF Serving's;
         * libevent then labels the empty page as HTML. */
        const char *origin = pl_http_request_header(req, "Origin");
        st = origin && (strstr(origin, "http://") || strstr(origin, "https://"))
                 ? NULL
                 : pl_error(PL_FAILED_PRECONDITION, "Origin header is missing in CORS preflight");
        pl_http_response_header(resp, "Content-Type", "text/html; charset=ISO-8859-1");
    } else {
        pl_http_response_header(resp, "Content-Type", "application/json");
        /* A path that fails to parse ends the call before any body is written. */
        st = pl__rest_parse_v1(req->method, req->target, &r);
        r.cancelled = req->cancelled;
        if (!st) {
            st = dispatch_v1(ctx, req, &r, &resp->body);
            if (st) {
                pl_strbuf_clear(&resp->body);
                pl_json_encode_error(pl_status_message(st), &resp->body);
            }
        }
    }
    if (ctx->opt.enable_cors) add_cors(resp);
    pl_code code = pl_status_code(st);
    resp->status = pl_code_http_status(code);
    const char *model = r.model_name ? r.model_name : "";
    if (!st) pl_metrics_record_request_latency(model, r.api, PL_ENTRYPOINT_REST, (pl_clock_now_ns() - start) / 1000);
    else pl_log_debug("Error Processing HTTP/REST request: %s %s Error: %s", req->method, req->target,
                      pl_status_message(st));
    pl_metrics_record_request_count(model, code);
    pl_status_free(st);
    pl__rest_route_clear(&r);
}

static void handle(void *arg, const pl_http_request *req, pl_http_response *resp) {
    pl__rest_ctx *ctx = arg;
    if (ctx->opt.prometheus_enable && path_is(req->target, ctx->prometheus_path)) {
        prometheus(ctx, req, resp);
        return;
    }
    if (!strncasecmp(req->target, "/v1/", 4)) {
        handle_v1(ctx, req, resp);
        return;
    }
    if (pl__rest_v2(ctx, req, resp)) return;
    pl_http_response_libevent_error(resp, 404);
}

/* ---- lifecycle ---- */

pl_status pl_rest_start(pl_serving *serving, const pl_rest_options *opt, pl_rest_server **out) {
    *out = NULL;
    pl_rest_server *r = calloc(1, sizeof *r);
    if (!r) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    r->ctx.serving = serving;
    r->ctx.opt = *opt;
    r->ctx.prometheus_path =
        strdup(opt->prometheus_path && *opt->prometheus_path ? opt->prometheus_path : PL_PROMETHEUS_DEFAULT_PATH);
    r->ctx.opt.prometheus_path = r->ctx.prometheus_path;
    if (!r->ctx.prometheus_path) {
        free(r);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    pl_metrics_default();  /* the metrics exist, with their # TYPE lines, before the first request */

    pl_http_options h;
    pl_http_options_init(&h);
    h.port = opt->port;
    h.loopback_only = opt->loopback_only;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    h.num_threads = opt->num_threads > 0 ? opt->num_threads : 4 * (int)(cpus > 0 ? cpus : 1);
    if (opt->max_body_bytes) h.max_body_bytes = opt->max_body_bytes;
    pl_status st = pl_http_start(&h, handle, &r->ctx, &r->http);
    if (st) {
        free(r->ctx.prometheus_path);
        free(r);
        return st;
    }
    pl_log_info("Exporting HTTP/REST API at:localhost:%d ...", pl_http_port(r->http));
    *out = r;
    return NULL;
}

int pl_rest_port(const pl_rest_server *r) { return r ? pl_http_port(r->http) : 0; }

void pl_rest_stop(pl_rest_server *r) {
    if (!r) return;
    pl_http_stop(r->http);
    free(r->ctx.prometheus_path);
    free(r);
}
