/* HTTP/1.1 requests over a keep-alive socket: Content-Length and chunked
 * bodies, a deadline over the whole exchange, one reconnect when the server
 * has dropped an idle connection. */
#include "cli/http.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

/* Response headers larger than this are refused: no REST reply needs them. */
#define MAX_HEADER_BYTES (64 * 1024)
/* Bodies above protobuf's 2 GB are no TensorFlow Serving answer. */
#define MAX_BODY_BYTES ((size_t)2 << 30)

struct pl_http {
    char *host, *port;
    char *hostport;
    int fd;                 /* -1 while not connected */
    char *buf;              /* bytes read past the previous response */
    size_t buf_len, buf_cap;
};

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

pl_status pl_http_new(const char *hostport, pl_http **out) {
    const char *colon = strrchr(hostport, ':');
    if (!colon || !colon[1]) return pl_error(PL_INVALID_ARGUMENT, "'%s' is not HOST:PORT", hostport);
    pl_http *h = calloc(1, sizeof *h);
    if (!h) return oom();
    const char *host = hostport;
    size_t host_len = (size_t)(colon - hostport);
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') host++, host_len -= 2;
    h->host = strndup(host, host_len);
    h->port = strdup(colon + 1);
    h->hostport = strdup(hostport);
    h->fd = -1;
    if (!h->host || !h->port || !h->hostport) {
        pl_http_free(h);
        return oom();
    }
    *out = h;
    return NULL;
}

static void disconnect(pl_http *h) {
    if (h->fd >= 0) close(h->fd);
    h->fd = -1;
    h->buf_len = 0;
}

void pl_http_free(pl_http *h) {
    if (!h) return;
    disconnect(h);
    free(h->host);
    free(h->port);
    free(h->hostport);
    free(h->buf);
    free(h);
}

void pl_http_response_deinit(pl_http_response *r) {
    free(r->body);
    memset(r, 0, sizeof *r);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static pl_status connect_to(pl_http *h) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(h->host, h->port, &hints, &res);
    if (rc) return pl_error(PL_UNAVAILABLE, "cannot resolve %s: %s", h->host, gai_strerror(rc));
    int err = 0;
    for (struct addrinfo *a = res; a && h->fd < 0; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            int one = 1;
            /* Requests are written whole; don't let Nagle hold back their last segment. */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            h->fd = fd;
        } else {
            err = errno;
            close(fd);
        }
    }
    freeaddrinfo(res);
    return h->fd >= 0 ? NULL : pl_error(PL_UNAVAILABLE, "cannot connect to %s: %s", h->hostport, strerror(err));
}

/* Waits until fd is ready for `events` or the deadline passes. */
static pl_status wait_fd(int fd, short events, double deadline) {
    for (;;) {
        double left = deadline - now();
        if (left <= 0) return pl_error(PL_DEADLINE_EXCEEDED, "no answer in time");
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)(left * 1000) + 1);
        if (rc > 0) return NULL;
        if (rc < 0 && errno != EINTR) return pl_error(PL_UNAVAILABLE, "poll: %s", strerror(errno));
    }
}

static pl_status send_all(pl_http *h, const char *data, size_t len, double deadline) {
    while (len) {
        PL_TRY(wait_fd(h->fd, POLLOUT, deadline));
        ssize_t n = send(h->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return pl_error(PL_UNAVAILABLE, "the connection to %s broke: %s", h->hostport, strerror(errno));
        data += n;
        len -= (size_t)n;
    }
    return NULL;
}

/* Reads more bytes into h->buf; *got 0 means the server closed the connection. */
static pl_status read_more(pl_http *h, double deadline, size_t *got) {
    if (h->buf_cap - h->buf_len < 65536) {
        size_t cap = h->buf_cap ? h->buf_cap * 2 : 131072;
        char *grown = realloc(h->buf, cap + 1);
        if (!grown) return oom();
        h->buf = grown;
        h->buf_cap = cap;
    }
    for (;;) {
        PL_TRY(wait_fd(h->fd, POLLIN, deadline));
        ssize_t n = recv(h->fd, h->buf + h->buf_len, h->buf_cap - h->buf_len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) return pl_error(PL_UNAVAILABLE, "reading from %s: %s", h->hostport, strerror(errno));
        h->buf_len += (size_t)n;
        *got = (size_t)n;
        return NULL;
    }
}

static const char *find_header(const char *headers, size_t len, const char *name) {
    size_t n = strlen(name);
    for (const char *p = headers; p && p < headers + len;) {
        if (!strncasecmp(p, name, n) && p[n] == ':') {
            p += n + 1;
            while (*p == ' ' || *p == '\t') p++;
            return p;
        }
        p = memchr(p, '\n', (size_t)(headers + len - p));
        if (p) p++;
    }
    return NULL;
}

/* Drops the first n buffered bytes (the response just consumed). */
static void consume(pl_http *h, size_t n) {
    memmove(h->buf, h->buf + n, h->buf_len - n);
    h->buf_len -= n;
}

/* Decodes a chunked body that starts at h->buf + start into out. */
static pl_status read_chunked(pl_http *h, size_t start, double deadline, pl_http_response *out) {
    size_t pos = start, cap = 0;
    for (;;) {
        char *eol;
        while (!(eol = memmem(h->buf + pos, h->buf_len - pos, "\r\n", 2))) {
            size_t got;
            PL_TRY(read_more(h, deadline, &got));
            if (!got) return pl_error(PL_UNAVAILABLE, "%s closed the connection mid-reply", h->hostport);
        }
        char *end;
        unsigned long long size = strtoull(h->buf + pos, &end, 16);
        if (end == h->buf + pos || size > MAX_BODY_BYTES - out->len)
            return pl_error(PL_DATA_LOSS, "malformed chunked reply from %s", h->hostport);
        pos = (size_t)(eol + 2 - h->buf);
        while (h->buf_len - pos < size + 2) {
            size_t got;
            PL_TRY(read_more(h, deadline, &got));
            if (!got) return pl_error(PL_UNAVAILABLE, "%s closed the connection mid-reply", h->hostport);
        }
        if (size == 0) {
            /* No trailers expected; skip to the blank line that ends the message. */
            char *blank = memmem(h->buf + pos - 2, h->buf_len - pos + 2, "\r\n\r\n", 4);
            consume(h, blank ? (size_t)(blank + 4 - h->buf) : h->buf_len);
            return NULL;
        }
        if (out->len + size + 1 > cap) {
            cap = (out->len + size + 1) * 2;
            char *grown = realloc(out->body, cap);
            if (!grown) return oom();
            out->body = grown;
        }
        memcpy(out->body + out->len, h->buf + pos, size);
        out->len += size;
        out->body[out->len] = 0;
        pos += size + 2;
    }
}

static pl_status read_response(pl_http *h, double deadline, bool *keep_alive, pl_http_response *out) {
    char *end;
    while (!(end = h->buf_len ? memmem(h->buf, h->buf_len, "\r\n\r\n", 4) : NULL)) {
        if (h->buf_len > MAX_HEADER_BYTES) return pl_error(PL_DATA_LOSS, "%s sent oversized headers", h->hostport);
        size_t got;
        PL_TRY(read_more(h, deadline, &got));
        if (!got) return pl_error(PL_UNAVAILABLE, "%s closed the connection", h->hostport);
    }
    size_t header_len = (size_t)(end + 4 - h->buf);
    h->buf[header_len - 1] = 0;
    int status = 0;
    if (sscanf(h->buf, "HTTP/1.%*d %d", &status) != 1) return pl_error(PL_DATA_LOSS, "%s does not speak HTTP", h->hostport);
    out->status = status;
    const char *conn = find_header(h->buf, header_len, "Connection");
    *keep_alive = !(conn && !strncasecmp(conn, "close", 5));
    const char *te = find_header(h->buf, header_len, "Transfer-Encoding");
    const char *cl = find_header(h->buf, header_len, "Content-Length");
    if (te && !strncasecmp(te, "chunked", 7)) {
        out->body = calloc(1, 1);
        if (!out->body) return oom();
        return read_chunked(h, header_len, deadline, out);
    }
    size_t want = SIZE_MAX;
    if (cl) {
        unsigned long long v = strtoull(cl, NULL, 10);
        if (v > MAX_BODY_BYTES) return pl_error(PL_RESOURCE_EXHAUSTED, "the reply from %s is too large", h->hostport);
        want = (size_t)v;
    } else {
        *keep_alive = false; /* the body runs to the end of the connection */
    }
    while (h->buf_len - header_len < want) {
        size_t got;
        PL_TRY(read_more(h, deadline, &got));
        if (!got) {
            if (cl) return pl_error(PL_UNAVAILABLE, "%s closed the connection mid-reply", h->hostport);
            want = h->buf_len - header_len;
        }
    }
    out->len = want;
    out->body = malloc(want + 1);
    if (!out->body) return oom();
    memcpy(out->body, h->buf + header_len, want);
    out->body[want] = 0;
    consume(h, header_len + want);
    return NULL;
}

pl_status pl_http_request(pl_http *h, const char *method, const char *path, const char *body, size_t len,
                          double timeout_seconds, pl_http_response *out) {
    memset(out, 0, sizeof *out);
    double deadline = now() + timeout_seconds;
    char head[1024];
    int head_len = snprintf(head, sizeof head,
                            "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: plinth-cli\r\nAccept: application/json\r\n"
                            "%sContent-Length: %zu\r\n\r\n",
                            method, path, h->hostport, body ? "Content-Type: application/json\r\n" : "", len);
    if (head_len < 0 || (size_t)head_len >= sizeof head) return pl_error(PL_INVALID_ARGUMENT, "request path too long");
    /* A reused connection may have been closed by the server while idle:
     * then, and only then, reconnect and send again. */
    for (int attempt = 0;; attempt++) {
        bool reused = h->fd >= 0;
        if (!reused) PL_TRY(connect_to(h));
        pl_status st = send_all(h, head, (size_t)head_len, deadline);
        if (!st && body) st = send_all(h, body, len, deadline);
        bool keep_alive = false;
        if (!st) st = read_response(h, deadline, &keep_alive, out);
        if (!st) {
            if (!keep_alive) disconnect(h);
            return NULL;
        }
        disconnect(h);
        pl_http_response_deinit(out);
        if (!(reused && attempt == 0 && pl_status_code(st) == PL_UNAVAILABLE)) return st;
        pl_status_free(st);
    }
}
