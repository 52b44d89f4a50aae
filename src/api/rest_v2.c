/* KServe v2 (Open Inference Protocol) health routes for Kubernetes probes
 * (spec/tfs-api.md 2): GET /v2/health/live, /v2/health/ready and
 * /v2/models/{m}[/versions/{v}]/ready. Ready answers 200; not ready 503, so
 * a probe that only reads the status code works. */
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "api/rest_internal.h"

static void reply_json(pl_http_response *resp, int status, const char *json) {
    pl_http_response_set(resp, status, "application/json");
    pl_strbuf_puts(&resp->body, json);
}

static void reply_status(pl_http_response *resp, pl_status st) {
    pl_http_response_set(resp, pl_code_http_status(pl_status_code(st)), "application/json");
    pl_json_encode_error(pl_status_message(st), &resp->body);
    pl_status_free(st);
}

static bool servable_ready(pl_serving *s, const pl_model_spec *spec, pl_status *err) {
    pl_servable *sv;
    pl_status st = pl_serving_get_servable(s, spec, &sv);
    if (st) {
        if (err) *err = st;
        else pl_status_free(st);
        return false;
    }
    pl_servable_release(sv);
    return true;
}

/* Every configured model has its latest aspired version loaded. */
static void server_ready(pl__rest_ctx *ctx, pl_http_response *resp) {
    char **names;
    int n;
    pl_status st = pl_serving_model_names(ctx->serving, &names, &n);
    if (st) {
        reply_status(resp, st);
        return;
    }
    bool ready = true;
    for (int i = 0; i < n && ready; i++) {
        pl_model_spec spec = {.name = names[i]};
        ready = servable_ready(ctx->serving, &spec, NULL);
    }
    pl_serving_model_names_free(names, n);
    if (ready) reply_json(resp, 200, "{\"ready\": true}");
    else reply_json(resp, 503, "{\"ready\": false}");
}

static bool is_configured(pl__rest_ctx *ctx, const char *name) {
    char **names;
    int n;
    pl_status st = pl_serving_model_names(ctx->serving, &names, &n);
    if (st) {
        pl_status_free(st);
        return false;
    }
    bool found = false;
    for (int i = 0; i < n && !found; i++) found = !strcmp(names[i], name);
    pl_serving_model_names_free(names, n);
    return found;
}

/* "/v2/models/" has been matched; rest is "{m}[/versions/{v}]/ready". */
static bool model_ready(pl__rest_ctx *ctx, const char *rest, pl_http_response *resp) {
    size_t n = strcspn(rest, "/");
    if (!n || !rest[n]) return false;
    const char *tail = rest + n;
    pl_model_spec spec = {0};
    if (!strncmp(tail, "/versions/", 10)) {
        const char *v = tail + 10;
        size_t k = strspn(v, "0123456789");
        if (!k || k > 18 || strcmp(v + k, "/ready")) return false;
        spec.choice = PL_VERSION_SPECIFIC;
        spec.version = strtoll(v, NULL, 10);
    } else if (strcmp(tail, "/ready")) {
        return false;
    }
    char *name = pl__rest_unescape(rest, n);
    if (!name) {
        reply_status(resp, pl_error(PL_INVALID_ARGUMENT, "Failed to decode model name:%.*s", (int)n, rest));
        return true;
    }
    spec.name = name;
    pl_status err = NULL;
    bool ready = servable_ready(ctx->serving, &spec, &err);
    if (!ready && pl_status_code(err) == PL_NOT_FOUND && !is_configured(ctx, name)) {
        reply_status(resp, err);  /* no such model */
    } else {
        pl_status_free(err);
        pl_http_response_set(resp, ready ? 200 : 503, "application/json");
        pl_strbuf_puts(&resp->body, "{\"name\": ");
        pl__rest_json_string(&resp->body, name);
        pl_strbuf_printf(&resp->body, ", \"ready\": %s}", ready ? "true" : "false");
    }
    free(name);
    return true;
}

bool pl__rest_v2(pl__rest_ctx *ctx, const pl_http_request *req, pl_http_response *resp) {
    const char *t = req->target;
    if (strncmp(t, "/v2/", 4)) return false;
    size_t plen = strcspn(t, "?#");
    char path[1024];
    if (plen >= sizeof path) return false;
    memcpy(path, t, plen);
    path[plen] = 0;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    bool known = !strcmp(path, "/v2/health/live") || !strcmp(path, "/v2/health/ready") ||
                 !strncmp(path, "/v2/models/", 11);
    if (!known) return false;
    if (!get) {
        /* Only probes live here. */
        if (!strcmp(path, "/v2/health/live") || !strcmp(path, "/v2/health/ready") ||
            (!strncmp(path, "/v2/models/", 11) && strlen(path) > 6 && !strcmp(path + strlen(path) - 6, "/ready"))) {
            reply_status(resp, pl_error(PL_UNIMPLEMENTED, "Method %s is not supported on %s", req->method, path));
            resp->status = 405;
            pl_http_response_header(resp, "Allow", "GET, HEAD");
            return true;
        }
        return false;
    }
    if (!strcmp(path, "/v2/health/live")) {
        reply_json(resp, 200, "{\"live\": true}");
        return true;
    }
    if (!strcmp(path, "/v2/health/ready")) {
        server_ready(ctx, resp);
        return true;
    }
    return model_ready(ctx, path + 11, resp);
}
