/* The /v1 routes of TF Serving's REST API, matched as its two RE2 regexes
 * match them (http_rest_api_util.cc), without a regex engine:
 *
 *   POST (?i)/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)
 *   GET  (?i)/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:\/(metadata))?
 *
 * Both are matched in full against the path and query as sent. RE2 picks the
 * leftmost-first (Perl) alternative, which decides cases such as
 * "/v1/models/versions/1" (no model name, version 1) and
 * "/v1/models/metadata" (the model called "metadata"). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/rest_internal.h"

static bool ci_eq(const char *s, size_t n, const char *lit) { return strlen(lit) == n && !strncasecmp(s, lit, n); }

static bool all_digits(const char *s, size_t n) {
    if (!n) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *pl__rest_unescape(const char *s, size_t len) {
    char *out = malloc(len + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
            char c = (char)(hi * 16 + lo);
            if (c == 0) {
                free(out);
                return NULL;
            }
            *o++ = c;
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = 0;
    return out;
}

/* absl::SimpleAtoi on the digits the regex captured: only overflow fails. */
static bool parse_version(const char *s, size_t n, int64_t *out) {
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* A span of the target. */
typedef struct span {
    const char *p;
    size_t n;
} span;

typedef struct captures {
    span model, version, label, tail;  /* tail: the method (POST) or subresource (GET) */
    bool has_model, has_version, has_label, has_tail;
} captures;

/* [^/:]+ starting at p: its length. */
static size_t name_len(const char *p) {
    size_t n = 0;
    while (p[n] && p[n] != '/' && p[n] != ':') n++;
    return n;
}

static bool match_post(const char *t, captures *c) {
    static const char prefix[] = "/v1/models/";
    if (strncasecmp(t, prefix, sizeof prefix - 1)) return false;
    const char *p = t + sizeof prefix - 1;
    size_t n = name_len(p);
    if (!n) return false;
    c->model = (span){p, n};
    c->has_model = true;
    p += n;
    if (*p == '/') {
        if (!strncasecmp(p, "/versions/", 10)) {
            const char *q = p + 10;
            size_t k = 0;
            while (q[k] >= '0' && q[k] <= '9') k++;
            if (!k) return false;
            c->version = (span){q, k};
            c->has_version = true;
            p = q + k;
        } else if (!strncasecmp(p, "/labels/", 8)) {
            const char *q = p + 8;
            size_t k = name_len(q);
            if (!k) return false;
            c->label = (span){q, k};
            c->has_label = true;
            p = q + k;
        } else {
            return false;
        }
    }
    if (*p != ':') return false;
    p++;
    size_t k = strlen(p);
    if (!ci_eq(p, k, "classify") && !ci_eq(p, k, "regress") && !ci_eq(p, k, "predict")) return false;
    c->tail = (span){p, k};
    c->has_tail = true;
    return true;
}

#define MAX_SEGS 5

/* The optional (?:/versions/N|/labels/L)?(?:/metadata)? part on segments
 * seg[0..n). */
static bool match_get_rest(const span *seg, int n, captures *c) {
    int i = 0;
    if (n >= 2 && ci_eq(seg[0].p, seg[0].n, "versions") && all_digits(seg[1].p, seg[1].n)) {
        if (n == 2 || (n == 3 && ci_eq(seg[2].p, seg[2].n, "metadata"))) {
            c->version = seg[1];
            c->has_version = true;
            i = 2;
        }
    }
    if (!i && n >= 2 && ci_eq(seg[0].p, seg[0].n, "labels")) {
        if (n == 2 || (n == 3 && ci_eq(seg[2].p, seg[2].n, "metadata"))) {
            c->label = seg[1];
            c->has_label = true;
            i = 2;
        }
    }
    if (i == n) return true;
    if (i == n - 1 && ci_eq(seg[i].p, seg[i].n, "metadata")) {
        c->tail = seg[i];
        c->has_tail = true;
        return true;
    }
    return false;
}

static bool match_get(const char *t, captures *c) {
    static const char prefix[] = "/v1/models";
    if (strncasecmp(t, prefix, sizeof prefix - 1)) return false;
    const char *r = t + sizeof prefix - 1;
    if (strchr(r, ':')) return false;
    span seg[MAX_SEGS];
    int n = 0;
    if (*r) {
        if (*r != '/') return false;
        const char *p = r + 1;
        for (;;) {
            size_t k = name_len(p);
            if (!k || n == MAX_SEGS) return false;  /* an empty segment; or more than any branch takes */
            seg[n++] = (span){p, k};
            p += k;
            if (!*p) break;
            p++;  /* the '/' */
        }
    }
    /* With a model name first (the optional group is greedy), then without. */
    captures with = {0};
    if (n >= 1 && match_get_rest(seg + 1, n - 1, &with)) {
        *c = with;
        c->model = seg[0];
        c->has_model = true;
        return true;
    }
    return match_get_rest(seg, n, c);
}

void pl__rest_route_clear(pl__rest_route *r) {
    free(r->model_name);
    free(r->label);
    memset(r, 0, sizeof *r);
    r->api = "";
}

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

pl_status pl__rest_parse_v1(const char *method, const char *target, pl__rest_route *out) {
    memset(out, 0, sizeof *out);
    out->api = "";
    out->kind = PL__REST_MALFORMED;
    captures c = {0};
    bool post = !strcmp(method, "POST"), get = !strcmp(method, "GET");
    bool matched = (post && match_post(target, &c)) || (get && match_get(target, &c));
    if (!matched) memset(&c, 0, sizeof c);  /* a failed match captures nothing */
    if (get && !matched && !strncasecmp(target, "/v1/models?", 11)) {
        out->kind = PL__REST_LIST;
        out->model_name = strdup("");
        return out->model_name ? NULL : oom();
    }
    out->model_name = c.has_model ? pl__rest_unescape(c.model.p, c.model.n) : strdup("");
    if (!out->model_name) {
        if (!c.has_model) return oom();
        /* Hold the raw name for the error text and the metrics. */
        out->model_name = strndup(c.model.p, c.model.n);
        return pl_error(PL_INVALID_ARGUMENT, "Failed to decode model name:%.*s", (int)c.model.n, c.model.p);
    }
    if (c.has_version && !parse_version(c.version.p, c.version.n, &out->version))
        return pl_error(PL_INVALID_ARGUMENT, "Failed to convert version: %.*s to numeric.", (int)c.version.n,
                        c.version.p);
    out->has_version = c.has_version;
    if (c.has_label && !(out->label = pl__rest_unescape(c.label.p, c.label.n)))
        return pl_error(PL_INVALID_ARGUMENT, "Failed to decode model version label:%.*s", (int)c.label.n,
                        c.label.p);
    if (!matched) return NULL;
    /* The method and subresource are compared as written: the regex is
     * case-insensitive, the dispatch after it is not. */
    if (post) {
        static const struct { const char *name; pl__rest_kind kind; } methods[] = {
            {"classify", PL__REST_CLASSIFY}, {"regress", PL__REST_REGRESS}, {"predict", PL__REST_PREDICT}};
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
            if (c.tail.n == strlen(methods[i].name) && !memcmp(c.tail.p, methods[i].name, c.tail.n)) {
                out->kind = methods[i].kind;
                out->api = methods[i].name;
            }
    } else {
        out->kind = c.has_tail && c.tail.n == 8 && !memcmp(c.tail.p, "metadata", 8) ? PL__REST_METADATA
                                                                                      : PL__REST_STATUS;
    }
    return NULL;
}

pl_model_spec pl__rest_spec(const pl__rest_route *r, const char *signature_name) {
    pl_model_spec spec = {.name = r->model_name, .signature_name = signature_name};
    if (r->has_version) {
        spec.choice = PL_VERSION_SPECIFIC;
        spec.version = r->version;
    } else if (r->label) {
        spec.choice = PL_VERSION_LABEL;
        spec.version_label = r->label;
    }
    return spec;
}
