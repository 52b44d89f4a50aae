/* What the REST files share: the parsed /v1 route, the server context, and
 * the handlers of each group of routes (spec/tfs-api.md 1c). */
#ifndef PL_API_REST_INTERNAL_H
#define PL_API_REST_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/http.h"
#include "api/rest.h"
#include "base/strbuf.h"
#include "runtime/model.h"
#include "serving/serving.h"

/* ---- /v1 paths (rest_route.c) ---- */

typedef enum pl__rest_kind {
    PL__REST_MALFORMED,  /* no route: "Malformed request: <METHOD> <path>" */
    PL__REST_PREDICT,
    PL__REST_CLASSIFY,
    PL__REST_REGRESS,
    PL__REST_STATUS,     /* GET /v1/models[/m][/versions/v|/labels/l] */
    PL__REST_METADATA,   /* GET .../metadata */
    PL__REST_LIST,       /* GET /v1/models?<query>: plinth's model listing */
} pl__rest_kind;

typedef struct pl__rest_route {
    pl__rest_kind kind;
    char *model_name;    /* URL-decoded; "" when the path has none */
    bool has_version;
    int64_t version;
    char *label;         /* URL-decoded, or NULL */
    const char *api;     /* the request_latency "API" label: "predict", ... or "" */
    const atomic_int *cancelled;  /* the request's client-hang-up flag, or NULL */
} pl__rest_route;

/* Matches a /v1 request as TF Serving's http_rest_api_util.cc does: its two
 * case-insensitive regexes, leftmost-first, over the path and query as sent;
 * the model name and label are then percent-decoded (curl_easy_unescape).
 * Errors are those ParseModelInfo returns before any handler runs ("Failed to
 * convert version: X to numeric."). On success *out owns its strings
 * (pl__rest_route_clear); on error it is cleared but may hold the model name
 * already decoded (for the metrics). */
pl_status pl__rest_parse_v1(const char *method, const char *target, pl__rest_route *out);
void pl__rest_route_clear(pl__rest_route *r);
/* curl_easy_unescape: %XX (either case) decoded, everything else kept.
 * NULL when out of memory or when the result would hold a NUL byte. */
char *pl__rest_unescape(const char *s, size_t len);

/* ---- the server ---- */

typedef struct pl__rest_ctx {
    pl_serving *serving;
    pl_rest_options opt;
    char *prometheus_path;
} pl__rest_ctx;

/* Run options of one REST call: the --rest_api_timeout_in_ms deadline, and
 * cancellation when the client hangs up. */
pl_run_options pl__rest_run_options(const pl__rest_ctx *ctx, const pl__rest_route *r);

/* ---- handlers; each fills `out` with the JSON reply body on success ---- */

/* rest_predict.c */
pl_status pl__rest_predict(pl__rest_ctx *ctx, const pl__rest_route *r, const char *body, size_t len,
                           pl_strbuf *out);
pl_status pl__rest_classify(pl__rest_ctx *ctx, const pl__rest_route *r, const char *body, size_t len,
                            pl_strbuf *out);
pl_status pl__rest_regress(pl__rest_ctx *ctx, const pl__rest_route *r, const char *body, size_t len,
                           pl_strbuf *out);

/* rest_model.c */
pl_status pl__rest_status(pl__rest_ctx *ctx, const pl__rest_route *r, pl_strbuf *out);
pl_status pl__rest_metadata(pl__rest_ctx *ctx, const pl__rest_route *r, pl_strbuf *out);
pl_status pl__rest_list(pl__rest_ctx *ctx, pl_strbuf *out);

/* rest_v2.c: KServe v2 health routes. Returns false when the path is not one. */
bool pl__rest_v2(pl__rest_ctx *ctx, const pl_http_request *req, pl_http_response *resp);

/* Appends s as a JSON string: '"' and '\\' escaped, control bytes as \u00XX. */
void pl__rest_json_string(pl_strbuf *b, const char *s);

/* A model spec for a route, pointing into it. */
pl_model_spec pl__rest_spec(const pl__rest_route *r, const char *signature_name);

#endif
