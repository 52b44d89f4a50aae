/* The REST transport: TensorFlow Serving's HTTP API (GET /v1/models/M,
 * GET /v1/models/M/metadata, POST /v1/models/M:predict). Predict bodies go
 * through plinth's own tensor JSON codec in both directions, so the client
 * writes and reads exactly the JSON the server's REST API speaks. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/json.h"
#include "cli/cli.h"
#include "cli/client_internal.h"
#include "cli/http.h"
#include "cli/show.h"

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

static pl_status rest_open(pl_client *c) { return pl_http_new(c->cli->rest, (pl_http **)&c->transport); }
static void rest_close(pl_client *c) { pl_http_free(c->transport); }

/* Percent-encodes what cannot stand in one path segment ('/', ':', '?',
 * '%', spaces, non-ASCII); the server decodes model names and labels. */
static void put_segment(pl_strbuf *b, const char *s) {
    static const char safe[] = "-._~!$&'()*+,;=@";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  strchr(safe, *p);
        if (ok) pl_strbuf_putc(b, (char)*p);
        else pl_strbuf_printf(b, "%%%02X", *p);
    }
}

/* /v1/models/M[/versions/N | /labels/L]<suffix>; malloc'd. */
static char *model_path(const pl_cli *cli, const char *model, const char *suffix) {
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    pl_strbuf_puts(&b, "/v1/models/");
    put_segment(&b, model);
    if (cli->label) {
        pl_strbuf_puts(&b, "/labels/");
        put_segment(&b, cli->label);
    }
    if (!cli->label && cli->version > 0) pl_strbuf_printf(&b, "/versions/%lld", (long long)cli->version);
    pl_strbuf_puts(&b, suffix);
    return pl_strbuf_detach(&b, NULL);
}

/* TensorFlow Serving answers errors as {"error": "..."} with the HTTP status of the code. */
static pl_status reply_error(const pl_http_response *r) {
    json_t *doc = json_loadb(r->body, r->len, 0, NULL);
    const char *msg = doc ? json_string_value(json_object_get(doc, "error")) : NULL;
    pl_code code = PL_UNKNOWN;
    switch (r->status) {
    case 400: code = PL_INVALID_ARGUMENT; break;
    case 404: code = PL_NOT_FOUND; break;
    case 408: case 504: code = PL_DEADLINE_EXCEEDED; break;
    case 409: code = PL_ABORTED; break;
    case 429: code = PL_RESOURCE_EXHAUSTED; break;
    case 501: code = PL_UNIMPLEMENTED; break;
    default: code = PL_INTERNAL; break; /* 503 included: the server was reached */
    }
    pl_status st = msg ? pl_error(code, "%s", msg)
                       : pl_error(code, "HTTP %d: %.200s", r->status, r->body ? r->body : "");
    json_decref(doc);
    return st;
}

static pl_status get_json(pl_client *c, const char *path, json_t **out) {
    pl_http_response r;
    PL_TRY(pl_http_request(c->transport, "GET", path, NULL, 0, c->cli->timeout, &r));
    pl_status st = NULL;
    json_error_t err;
    if (r.status != 200) st = reply_error(&r);
    else if (!(*out = json_loadb(r.body, r.len, 0, &err)))
        st = pl_error(PL_DATA_LOSS, "the reply to GET %s is not JSON: %s", path, err.text);
    pl_http_response_deinit(&r);
    return st;
}

/* int64 fields arrive as strings in proto3 JSON; accept numbers too. */
static long long json_int64(const json_t *v) {
    if (json_is_integer(v)) return json_integer_value(v);
    if (json_is_string(v)) return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

static pl_status rest_status(pl_client *c, const char *model, pl_client_version **versions, int *n) {
    char *path = model_path(c->cli, model, "");
    if (!path) return oom();
    json_t *doc = NULL;
    pl_status st = get_json(c, path, &doc);
    free(path);
    if (st) return st;
    json_t *list = json_object_get(doc, "model_version_status");
    size_t count = json_is_array(list) ? json_array_size(list) : 0;
    pl_client_version *v = calloc(count + 1, sizeof *v);
    if (!v) st = oom();
    for (size_t i = 0; !st && i < count; i++) {
        json_t *item = json_array_get(list, i);
        const char *state = json_string_value(json_object_get(item, "state"));
        const char *msg = json_string_value(json_object_get(json_object_get(item, "status"), "error_message"));
        v[i].version = json_int64(json_object_get(item, "version"));
        snprintf(v[i].state, sizeof v[i].state, "%s", state ? state : "UNKNOWN");
        if (!(v[i].error = strdup(msg ? msg : ""))) st = oom();
    }
    json_decref(doc);
    if (st) {
        pl_client_versions_free(v, (int)count);
        return st;
    }
    *versions = v;
    *n = (int)count;
    return NULL;
}

static pl_dtype dtype_from_name(const char *name) {
    for (int d = 1; d < PL_DT_COUNT; d++)
        if (name && !strcmp(pl_dtype_name((pl_dtype)d), name)) return (pl_dtype)d;
    return PL_DT_INVALID;
}

/* A TensorInfo in proto3 JSON: {"dtype": "DT_FLOAT", "tensor_shape": {...}, "name": "x:0"}. */
static pl_status info_from_json(const char *alias, const json_t *j, pl_tensor_info *out) {
    memset(out, 0, sizeof *out);
    out->dtype = dtype_from_name(json_string_value(json_object_get(j, "dtype")));
    out->rank = -1;
    const json_t *shape = json_object_get(j, "tensor_shape");
    const json_t *dims = json_object_get(shape, "dim");
    if (shape && !json_is_true(json_object_get(shape, "unknown_rank"))) {
        size_t n = json_is_array(dims) ? json_array_size(dims) : 0;
        if (n <= PL_MAX_RANK) {
            out->rank = (int)n;
            for (size_t i = 0; i < n; i++) out->dims[i] = json_int64(json_object_get(json_array_get(dims, i), "size"));
        }
    }
    const char *name = json_string_value(json_object_get(j, "name"));
    out->alias = strdup(alias);
    out->tensor_name = strdup(name ? name : "");
    return out->alias && out->tensor_name ? NULL : oom();
}

static pl_status infos_from_json(const json_t *map, pl_tensor_info **out, int *num) {
    size_t n = json_is_object(map) ? json_object_size(map) : 0;
    if (!(*out = calloc(n + 1, sizeof **out))) return oom();
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)map, key, value) {
        (*num)++;
        PL_TRY(info_from_json(key, value, &(*out)[*num - 1]));
    }
    return NULL;
}

static pl_status rest_metadata(pl_client *c, const char *model, pl_client_signatures *out) {
    char *path = model_path(c->cli, model, "/metadata");
    if (!path) return oom();
    json_t *doc = NULL;
    pl_status st = get_json(c, path, &doc);
    free(path);
    if (st) return st;
    out->version = json_int64(json_object_get(json_object_get(doc, "model_spec"), "version"));
    json_t *map = json_object_get(json_object_get(json_object_get(doc, "metadata"), "signature_def"), "signature_def");
    if (!json_is_object(map)) st = pl_error(PL_DATA_LOSS, "the server's metadata has no signature_def");
    size_t n = st ? 0 : json_object_size(map);
    if (!st && !(out->sigs = calloc(n + 1, sizeof *out->sigs))) st = oom();
    const char *key;
    json_t *def;
    if (!st) json_object_foreach(map, key, def) {
        pl_signature *sig = &out->sigs[out->num++];
        const char *method = json_string_value(json_object_get(def, "method_name"));
        sig->key = strdup(key);
        sig->method_name = strdup(method ? method : "");
        if (!sig->key || !sig->method_name) st = oom();
        if (!st) st = infos_from_json(json_object_get(def, "inputs"), &sig->inputs, &sig->num_inputs);
        if (!st) st = infos_from_json(json_object_get(def, "outputs"), &sig->outputs, &sig->num_outputs);
        if (st) break;
    }
    json_decref(doc);
    if (st) pl_client_signatures_deinit(out);
    return st;
}

/* The codec reads a request, {"inputs": ...}; a columnar response,
 * {"outputs": ...}, differs only in that first key (a lone output is a bare
 * value there, as a lone input is in a request), so renaming it lets the
 * request decoder read the reply, typed by the signature's outputs. Returns a
 * malloc'd copy with `prefix` in front of the renamed key, or NULL when the
 * text does not start with {"from". */
static char *rename_first_key(const char *text, size_t len, const char *from, const char *to, const char *prefix,
                              size_t *out_len) {
    const char *p = text, *end = text + len;
    while (p < end && strchr(" \t\r\n", *p)) p++;
    if (p == end || *p++ != '{') return NULL;
    while (p < end && strchr(" \t\r\n", *p)) p++;
    size_t from_len = strlen(from);
    if ((size_t)(end - p) < from_len + 2 || *p != '"' || strncmp(p + 1, from, from_len) || p[from_len + 1] != '"')
        return NULL;
    p += from_len + 2;
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    pl_strbuf_putc(&b, '{');
    pl_strbuf_puts(&b, prefix);
    pl_strbuf_printf(&b, "\"%s\"", to);
    pl_strbuf_append(&b, p, (size_t)(end - p));
    return pl_strbuf_detach(&b, out_len);
}

/* Appends JSON text without the whitespace between tokens. The codec lays a
 * reply out for people, one number per line; as a request body that would be
 * two to three times the bytes for the server to read (about 15 bytes per
 * value for a picture instead of 6). */
static void append_compact(pl_strbuf *b, const char *p, size_t n) {
    bool in_string = false;
    char *dst = pl_strbuf_reserve(b, n);
    if (!dst) return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_string) {
            dst[k++] = c;
            if (c == '\\' && i + 1 < n) dst[k++] = p[++i];
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
            dst[k++] = c;
        } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
            dst[k++] = c;
        }
    }
    pl_strbuf_commit(b, k);
}

/* Appends the JSON of one tensor as the codec writes a value: it is what
 * follows "outputs": in a one-output columnar response, which for a request
 * goes under the input's own name (so a wrong name is the server's error to
 * report, as it is over gRPC). */
static pl_status append_value(pl_strbuf *b, const char *name, pl_tensor *t) {
    pl_strbuf one;
    pl_strbuf_init(&one, 0);
    pl_status st = pl_json_encode_predict(PL_JSON_FORMAT_COLUMNAR, 1, &name, &t, &one);
    if (!st) st = pl_strbuf_status(&one);
    const char *key = st ? NULL : strstr(one.data, "\"outputs\"");
    const char *colon = key ? strchr(key, ':') : NULL;
    size_t end = one.len;
    while (end > 0 && strchr(" \t\r\n", one.data[end - 1])) end--;
    if (!st && (!colon || end == 0 || one.data[end - 1] != '}'))
        st = pl_error(PL_INTERNAL, "unexpected encoding of input '%s'", name);
    if (!st) append_compact(b, colon + 1, (size_t)(one.data + end - 1 - (colon + 1)));
    pl_strbuf_deinit(&one);
    return st;
}

/* {"signature_name": KEY, "inputs": {NAME: VALUE, ...}}: the columnar request. */
static pl_status encode_request(const pl_signature *sig, int num_inputs, const char *const *names,
                                pl_tensor *const *inputs, char **body, size_t *len) {
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    pl_strbuf_putc(&b, '{');
    if (sig) {
        pl_strbuf_puts(&b, "\"signature_name\": ");
        pl_cli_json_string(&b, sig->key);
        pl_strbuf_puts(&b, ", ");
    }
    pl_strbuf_puts(&b, "\"inputs\": {");
    pl_status st = NULL;
    for (int i = 0; i < num_inputs && !st; i++) {
        if (i) pl_strbuf_puts(&b, ", ");
        pl_cli_json_string(&b, names[i]);
        pl_strbuf_puts(&b, ": ");
        st = append_value(&b, names[i], inputs[i]);
    }
    pl_strbuf_puts(&b, "}}");
    if (!st) st = pl_strbuf_status(&b);
    if (!st && !(*body = pl_strbuf_detach(&b, len))) st = oom();
    pl_strbuf_deinit(&b);
    return st;
}

typedef struct output_lookup {
    const pl_signature *sig;
} output_lookup;

static pl_status lookup_outputs(void *ctx, const char *signature_name, const pl_tensor_info **infos, int *n) {
    (void)signature_name;
    const pl_signature *sig = ((output_lookup *)ctx)->sig;
    *infos = sig->outputs;
    *n = sig->num_outputs;
    return NULL;
}

static bool wanted(const char *name, int num_filters, const char *const *filters) {
    if (!num_filters) return true;
    for (int i = 0; i < num_filters; i++)
        if (!strcmp(filters[i], name)) return true;
    return false;
}

/* {"outputs": ...} back into tensors typed by the signature's outputs. */
static pl_status decode_reply(const pl_signature *sig, const pl_http_response *r, int num_filters,
                              const char *const *filters, pl_client_outputs *out) {
    size_t len;
    char *text = rename_first_key(r->body, r->len, "outputs", "inputs", "", &len);
    if (!text) return pl_error(PL_DATA_LOSS, "the predict reply has no \"outputs\": %.200s", r->body);
    output_lookup ctx = {sig};
    pl_json_predict dec;
    pl_status st = pl_json_decode_predict(text, len, lookup_outputs, &ctx, &dec);
    free(text);
    if (st) return pl_status_prefix(st, "the predict reply does not decode: ");
    out->names = calloc((size_t)dec.num_inputs + 1, sizeof *out->names);
    out->tensors = calloc((size_t)dec.num_inputs + 1, sizeof *out->tensors);
    if (!out->names || !out->tensors) st = oom();
    for (int i = 0; !st && i < dec.num_inputs; i++) {
        if (!wanted(dec.aliases[i], num_filters, filters)) continue;
        if (!(out->names[out->num] = strdup(dec.aliases[i]))) st = oom();
        else out->tensors[out->num++] = pl_tensor_ref(dec.tensors[i]);
    }
    pl_json_predict_deinit(&dec);
    if (st) pl_client_outputs_deinit(out);
    return st;
}

static pl_status rest_predict(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                              const char *const *names, pl_tensor *const *inputs, int num_filters,
                              const char *const *filters, pl_client_outputs *out) {
    if (!sig) return pl_error(PL_INTERNAL, "a REST predict needs the signature to read the reply");
    char *body = NULL, *path = model_path(c->cli, model, ":predict");
    size_t len = 0;
    pl_status st = path ? encode_request(sig, num_inputs, names, inputs, &body, &len) : oom();
    pl_http_response r = {0};
    if (!st) st = pl_http_request(c->transport, "POST", path, body, len, c->cli->timeout, &r);
    if (!st && r.status != 200) st = reply_error(&r);
    else if (!st) st = decode_reply(sig, &r, num_filters, filters, out);
    pl_http_response_deinit(&r);
    free(body);
    free(path);
    return st;
}

static pl_status rest_prepare(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                              const char *const *names, pl_tensor *const *inputs, pl_client_prepared *out) {
    if (!(out->path = model_path(c->cli, model, ":predict"))) return oom();
    return encode_request(sig, num_inputs, names, inputs, (char **)&out->data, &out->len);
}

static pl_status rest_send(pl_client *c, const pl_client_prepared *p) {
    pl_http_response r;
    PL_TRY(pl_http_request(c->transport, "POST", p->path, p->data, p->len, c->cli->timeout, &r));
    pl_status st = r.status == 200 ? NULL : reply_error(&r);
    pl_http_response_deinit(&r);
    return st;
}

const pl__client_ops pl__client_rest = {
    .open = rest_open,
    .close = rest_close,
    .status = rest_status,
    .metadata = rest_metadata,
    .predict = rest_predict,
    .prepare = rest_prepare,
    .send = rest_send,
    .name = "REST",
};
