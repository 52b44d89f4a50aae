/* The HTTP server on libmicrohttpd: daemon setup, collecting each request's
 * raw target and body, the body limit, and turning a handler's response into
 * a reply. */
#include "api/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/http_internal.h"
#include "base/log.h"

struct pl_http_server {
    struct MHD_Daemon *daemon;
    pl__http_watch *watch;
    pl_http_handler *handler;
    void *ctx;
    uint64_t max_body_bytes;
    int port;
};

/* Per-request state, created when the request line arrives (uri_logger) and
 * freed when MHD is done with the request (request_completed). */
typedef struct request_state {
    char *target;          /* raw request target */
    bool started;          /* the headers have been seen */
    bool replied;          /* a reply was queued before the body ended */
    bool too_large;        /* a chunked body crossed the limit: drained, then 413 */
    uint64_t drained;      /* bytes thrown away since */
    char *body;
    size_t len, cap;       /* cap excludes the NUL */
} request_state;

/* The largest buffer reserved up front from a Content-Length: beyond it the
 * buffer grows with the bytes that actually arrive. */
#define UPFRONT_BYTES ((size_t)64 << 20)

void pl_http_options_init(pl_http_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->max_body_bytes = (uint64_t)INT32_MAX;
    opt->idle_timeout_s = 300;
}

const char *pl_http_request_header(const pl_http_request *req, const char *name) {
    return MHD_lookup_connection_value(req->conn_, MHD_HEADER_KIND, name);
}

void pl_http_response_set(pl_http_response *resp, int status, const char *content_type) {
    resp->status = status;
    if (content_type) pl_http_response_header(resp, "Content-Type", content_type);
}

void pl_http_response_header(pl_http_response *resp, const char *name, const char *value) {
    for (int i = 0; i < resp->num_headers; i++)
        if (!strcasecmp(resp->headers[i].name, name)) {
            resp->headers[i].value = value;
            return;
        }
    if (resp->num_headers < PL_HTTP_MAX_HEADERS) resp->headers[resp->num_headers++] = (pl_http_header){name, value};
}

const char *pl_http_reason(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
    }
}

void pl_http_response_libevent_error(pl_http_response *resp, int status) {
    const char *reason = pl_http_reason(status);
    pl_strbuf_clear(&resp->body);
    pl_strbuf_printf(&resp->body, "<HTML><HEAD>\n<TITLE>%d %s</TITLE>\n</HEAD><BODY>\n<H1>%s</H1>\n</BODY></HTML>\n",
                     status, reason, reason);
    resp->num_headers = 0;
    pl_http_response_set(resp, status, "text/html");
    resp->close = true;
}

/* ---- replies ---- */

static enum MHD_Result send_reply(struct MHD_Connection *conn, pl_http_response *r) {
    if (r->body.failed) {
        pl_strbuf_clear(&r->body);
        r->body.failed = false;
        r->num_headers = 0;
        pl_http_response_set(r, 500, "application/json");
        pl_strbuf_puts(&r->body, "{\n    \"error\": \"out of memory\"\n}");
    }
    size_t len = 0;
    char *data = pl_strbuf_detach(&r->body, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data ? data : (char *)"",
                                                                data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    for (int i = 0; i < r->num_headers; i++) MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    if (r->close) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A JSON error the transport itself gives (413), in TF Serving's error layout. */
static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pl_http_response r = {0};
    pl_strbuf_init(&r.body, 0);
    pl_http_response_set(&r, status, "application/json");
    pl_strbuf_printf(&r.body, "{\n    \"error\": \"%s\"\n}", msg);
    r.close = true;
    return send_reply(conn, &r);
}

/* ---- request flow ---- */

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn) {
    (void)cls;
    (void)conn;
    request_state *st = calloc(1, sizeof *st);
    if (st) st->target = strdup(uri ? uri : "/");
    if (st && !st->target) {
        free(st);
        st = NULL;
    }
    return st;
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                              enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)conn;
    (void)toe;
    request_state *st = *req_cls;
    if (!st) return;
    free(st->body);
    free(st->target);
    free(st);
    *req_cls = NULL;
}

static bool reserve(request_state *st, size_t need) {
    if (need <= st->cap) return true;
    size_t ncap = st->cap ? st->cap : 4096;
    while (ncap < need) ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    char *nb = realloc(st->body, ncap + 1);
    if (!nb) return false;
    st->body = nb;
    st->cap = ncap;
    return true;
}

/* First call for a request: its headers are in. Refuses a declared body over
 * the limit before it is sent (a client waiting on "Expect: 100-continue"
 * then never sends it). */
static enum MHD_Result on_headers(pl_http_server *s, struct MHD_Connection *conn, request_state *st) {
    st->started = true;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl) return MHD_YES;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno || end == cl) return MHD_YES;  /* MHD itself rejects a malformed length */
    if (n > s->max_body_bytes) {
        st->replied = true;
        return send_error(conn, 413, "Request body of %llu bytes is larger than the limit of %llu bytes", n,
                          (unsigned long long)s->max_body_bytes);
    }
    if (n && !reserve(st, n < UPFRONT_BYTES ? (size_t)n : UPFRONT_BYTES)) {
        st->replied = true;
        return send_error(conn, 503, "Out of memory for a request body of %llu bytes", n);
    }
    return MHD_YES;
}

static enum MHD_Result on_body(pl_http_server *s, struct MHD_Connection *conn, request_state *st, const char *data,
                               size_t n) {
    if (st->too_large || st->len + n > s->max_body_bytes) {
        /* MHD can only reply once the body is in: drain it (without keeping
         * it), but not forever. */
        if (!st->too_large) {
            st->too_large = true;
            free(st->body);
            st->body = NULL;
            st->len = st->cap = 0;
        }
        st->drained += n;
        return st->drained > s->max_body_bytes ? MHD_NO : MHD_YES;
    }
    if (!reserve(st, st->len + n)) {
        st->replied = true;
        return send_error(conn, 503, "Out of memory for a request body of %zu bytes", st->len + n);
    }
    memcpy(st->body + st->len, data, n);
    st->len += n;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    (void)url;
    (void)version;
    pl_http_server *s = cls;
    request_state *st = *req_cls;
    if (!st) return MHD_NO;  /* out of memory when the request line came: drop the connection */
    if (!st->started) return on_headers(s, conn, st);
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->replied) return MHD_YES;  /* discard what follows a refusal */
        return on_body(s, conn, st, upload_data, n);
    }
    if (st->replied) return MHD_YES;
    if (st->too_large) {
        st->replied = true;
        return send_error(conn, 413, "Request body is larger than the limit of %llu bytes",
                          (unsigned long long)s->max_body_bytes);
    }
    if (!st->body) {
        st->body = malloc(1);
        if (!st->body) return MHD_NO;
    }
    st->body[st->len] = 0;
    pl_http_request req = {
        .method = method, .target = st->target, .body = st->body, .body_len = st->len, .conn_ = conn};
    pl_http_response resp = {.status = 200};
    pl_strbuf_init(&resp.body, 0);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    pl__http_watched watched;
    bool watch = ci && ci->connect_fd != MHD_INVALID_SOCKET;
    if (watch) {
        pl__http_watch_add(s->watch, &watched, ci->connect_fd);
        req.cancelled = &watched.cancelled;
    }
    s->handler(s->ctx, &req, &resp);
    if (watch) pl__http_watch_remove(s->watch, &watched);
    enum MHD_Result ret = send_reply(conn, &resp);
    pl_strbuf_deinit(&resp.body);
    /* The body is not needed any more; a keep-alive connection may sit idle. */
    free(st->body);
    st->body = NULL;
    st->len = st->cap = 0;
    return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = 0;
    pl_log_debug("http: %s", msg);
}

pl_status pl_http_start(const pl_http_options *opt, pl_http_handler *handler, void *ctx, pl_http_server **out) {
    *out = NULL;
    if (opt->port < 0 || opt->port > 65535)
        return pl_error(PL_INVALID_ARGUMENT, "HTTP port must be between 0 and 65535; got %d", opt->port);
    pl_http_server *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->handler = handler;
    s->ctx = ctx;
    s->max_body_bytes = opt->max_body_bytes;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = opt->num_threads > 0 ? (unsigned)opt->num_threads : (cpus > 0 ? (unsigned)cpus : 1);
    pl_status wst = pl__http_watch_start((int)threads, &s->watch);
    if (wst) {
        free(s);
        return wst;
    }

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                     MHD_USE_DUAL_STACK;
    struct sockaddr_in6 addr6;
    memset(&addr6, 0, sizeof addr6);
    addr6.sin6_family = AF_INET6;
    addr6.sin6_port = htons((uint16_t)opt->port);
    addr6.sin6_addr = in6addr_any;
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, threads, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_logger, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed, NULL},
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)(opt->idle_timeout_s > 0 ? opt->idle_timeout_s : 0), NULL},
        /* Headers and the read buffer live in this per-connection pool,
         * which MHD clears whole before each request of a keep-alive
         * connection: with 128 KiB (tried, for larger body pieces) that
         * clearing took 10% of the server's CPU on small requests, and a
         * 32 MiB body did not arrive measurably faster; 16 KiB against 32 KiB
         * raised small :predict from 0.70-0.78x to 0.77-0.81x nginx's rate.
         * Request headers up to about 14 KiB fit (nginx allows 8 KiB a line). */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)(16 * 1024), NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    /* Every address: IPv6 with IPv4 mapped, as TF Serving binds "::", or
     * 0.0.0.0 where the host has no IPv6. Loopback only: 127.0.0.1. */
    struct sockaddr_in addr4;
    memset(&addr4, 0, sizeof addr4);
    addr4.sin_family = AF_INET;
    addr4.sin_port = htons((uint16_t)opt->port);
    addr4.sin_addr.s_addr = htonl(opt->loopback_only ? INADDR_LOOPBACK : INADDR_ANY);
    bool v4 = opt->loopback_only;
    if (!v4)
        s->daemon = MHD_start_daemon(flags, (uint16_t)opt->port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, ops,
                                     MHD_OPTION_SOCK_ADDR, &addr6, MHD_OPTION_END);
    if (!s->daemon) {
        flags &= ~(unsigned)MHD_USE_DUAL_STACK;
        v4 = true;
        s->daemon = MHD_start_daemon(flags, (uint16_t)opt->port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, ops,
                                     MHD_OPTION_SOCK_ADDR, &addr4, MHD_OPTION_END);
    }
    if (!s->daemon) {
        pl__http_watch_stop(s->watch);
        free(s);
        return pl_error(PL_UNAVAILABLE, "Couldn't bind to port %d", opt->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : opt->port;
    pl_log_debug("HTTP server listening at %s:%d",
                v4 ? (opt->loopback_only ? "127.0.0.1" : "0.0.0.0") : "[::]", s->port);
    *out = s;
    return NULL;
}

int pl_http_port(const pl_http_server *s) { return s ? s->port : 0; }

void pl_http_stop(pl_http_server *s) {
    if (!s) return;
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    MHD_stop_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    pl__http_watch_stop(s->watch);
    free(s);
}
