/* A small blocking HTTP/1.1 client over one keep-alive TCP connection: what
 * the REST transport and the REST load generator need, nothing more (no TLS,
 * no redirects, no proxies). One pl_http is used by one thread at a time. */
#ifndef PL_CLI_HTTP_H
#define PL_CLI_HTTP_H

#include <stddef.h>

#include "base/status.h"

typedef struct pl_http pl_http;

/* "host:port" ("[::1]:8501" for IPv6). Connects at the first request. */
pl_status pl_http_new(const char *hostport, pl_http **out);
void pl_http_free(pl_http *h);

typedef struct pl_http_response {
    int status;     /* 200, 404, ... */
    char *body;     /* malloc'd, NUL-terminated */
    size_t len;
} pl_http_response;

/* Sends one request (body may be NULL for GET) and reads the whole answer
 * within timeout_seconds. A connection the server closed while idle is
 * reopened once. Failing to connect is UNAVAILABLE; running out of time is
 * DEADLINE_EXCEEDED. */
pl_status pl_http_request(pl_http *h, const char *method, const char *path, const char *body, size_t len,
                          double timeout_seconds, pl_http_response *out);
void pl_http_response_deinit(pl_http_response *r);

#endif
