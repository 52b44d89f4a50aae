/* HTTP server: HTTP/1.1 with keep-alive on libmicrohttpd, handing each
 * request, with its body fully read, to one handler function.
 *
 *     static void handle(void *ctx, const pl_http_request *req, pl_http_response *resp) {
 *         pl_http_response_set(resp, 200, "application/json");
 *         pl_strbuf_puts(&resp->body, "{}");
 *     }
 *     pl_http_options opt;
 *     pl_http_options_init(&opt);
 *     opt.port = 8501;
 *     pl_http_server *h;
 *     PL_TRY(pl_http_start(&opt, handle, NULL, &h));
 *     ...
 *     pl_http_stop(h);   // stops accepting, lets the handlers in flight finish
 *
 * Threads: `num_threads` threads each own an epoll loop and a share of the
 * connections, and run the handler of a request on the thread that read it,
 * so a small request costs no hand-off between threads. A handler that runs a
 * model blocks only the other connections of its own thread.
 *
 * Client hang-ups: while a handler runs, a watcher thread notices the
 * client closing its connection and sets the request's `cancelled` flag, so
 * a model run can stop early instead of computing a reply nobody reads.
 *
 * Bodies: a request whose body (as declared by Content-Length, or as it
 * arrives when chunked) is larger than `max_body_bytes` gets 413 without the
 * body being read, and its connection is closed. Bodies are kept in one
 * buffer that grows as bytes arrive, never by what a header claims. */
#ifndef PL_API_HTTP_H
#define PL_API_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "base/strbuf.h"

typedef struct pl_http_options {
    int port;                 /* 0: any free port (see pl_http_port) */
    bool loopback_only;       /* bind 127.0.0.1 / ::1 instead of every address */
    int num_threads;          /* threads serving connections; <= 0: one per CPU */
    uint64_t max_body_bytes;  /* 413 beyond this */
    int idle_timeout_s;       /* close keep-alive connections idle this long; 0: never */
} pl_http_options;

/* Defaults: port 0, all addresses, one thread per CPU, 2 GiB bodies (the
 * gRPC message limit of TF Serving), 300 s idle timeout. */
void pl_http_options_init(pl_http_options *opt);

typedef struct pl_http_request {
    const char *method;       /* as sent: "GET", "POST", ... */
    const char *target;       /* request target as sent: path and query, not percent-decoded */
    const char *body;         /* NUL-terminated: body[body_len] == 0 */
    size_t body_len;
    /* Becomes non-zero when the client closes the connection while the
     * handler runs (noticed within about 0.2 s, once the handler has run for
     * 0.1 s); fit for pl_run_options.cancelled. NULL when not watched. */
    const atomic_int *cancelled;
    void *conn_;              /* for pl_http_request_header */
} pl_http_request;

/* A request header by name (case-insensitive), NULL when absent. */
const char *pl_http_request_header(const pl_http_request *req, const char *name);

#define PL_HTTP_MAX_HEADERS 8

typedef struct pl_http_header {
    const char *name;         /* must outlive the reply: string literals */
    const char *value;
} pl_http_header;

typedef struct pl_http_response {
    int status;               /* 200 unless set */
    pl_strbuf body;           /* the reply body; starts empty */
    int num_headers;
    pl_http_header headers[PL_HTTP_MAX_HEADERS];
    bool close;               /* close the connection after this reply */
} pl_http_response;

/* Sets the status and, when content_type is not NULL, Content-Type. */
void pl_http_response_set(pl_http_response *resp, int status, const char *content_type);
/* Adds a header; names and values must be string literals or otherwise
 * outlive the reply. Extra headers beyond PL_HTTP_MAX_HEADERS are dropped. */
void pl_http_response_header(pl_http_response *resp, const char *name, const char *value);
/* libevent's evhttp_send_error page ("<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>..."),
 * text/html, connection closed: what TF Serving's HTTP server answers for
 * paths it has no handler for and for requests it cannot parse. */
void pl_http_response_libevent_error(pl_http_response *resp, int status);
/* The reason phrase of a status code ("Not Found"). */
const char *pl_http_reason(int status);

/* Called on a server thread for each complete request. The handler fills
 * resp; if resp->body failed (out of memory), 500 is sent instead. */
typedef void pl_http_handler(void *ctx, const pl_http_request *req, pl_http_response *resp);

typedef struct pl_http_server pl_http_server;

pl_status pl_http_start(const pl_http_options *opt, pl_http_handler *handler, void *ctx, pl_http_server **out);
int pl_http_port(const pl_http_server *s);
/* Stops accepting, waits for the requests in flight, closes everything. */
void pl_http_stop(pl_http_server *s);

/* Inflates a gzip (or zlib) body into a new NUL-terminated buffer of at most
 * max_out bytes. INVALID_ARGUMENT when it is not valid gzip or inflates to
 * more than max_out. */
pl_status pl_http_gunzip(const char *in, size_t len, size_t max_out, char **out, size_t *out_len);

#endif
