/* HTTP server over real sockets: keep-alive, the raw request target, bodies
 * (Content-Length, chunked, Expect: 100-continue), the body limit (413 before
 * the body is read), a lying Content-Length, and gzip inflation limits. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "api/http.h"
#include "check.h"

/* Echoes "<method> <target> <body length> <first body bytes>" and the
 * X-Test header, if any. */
static void echo(void *ctx, const pl_http_request *req, pl_http_response *resp) {
    (void)ctx;
    const char *h = pl_http_request_header(req, "x-test");
    pl_http_response_set(resp, 200, "text/plain");
    pl_strbuf_printf(&resp->body, "%s %s %zu %.16s%s%s", req->method, req->target, req->body_len, req->body,
                     h ? " h=" : "", h ? h : "");
    if (req->body[req->body_len] != 0) pl_strbuf_puts(&resp->body, " NOT-TERMINATED");
}

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k <= 0) return;
        c += k;
        n -= (size_t)k;
    }
}

/* Reads one response (headers + Content-Length body) into buf; returns the
 * status, or -1 on a closed connection / timeout. */
static int read_response(int fd, char *buf, size_t cap, const char **body) {
    size_t n = 0;
    *body = NULL;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0) return -1;
        ssize_t k = recv(fd, buf + n, cap - 1 - n, 0);
        if (k <= 0) return -1;
        n += (size_t)k;
        buf[n] = 0;
        char *eoh = strstr(buf, "\r\n\r\n");
        if (!eoh) continue;
        if (!strncmp(buf + 9, "100", 3)) {  /* 100 Continue: drop it, read on */
            size_t hl = (size_t)(eoh + 4 - buf);
            memmove(buf, eoh + 4, n - hl + 1);
            n -= hl;
            continue;
        }
        const char *cl = strcasestr(buf, "Content-Length:");
        size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;
        if (n >= (size_t)(eoh + 4 - buf) + want) {
            *body = eoh + 4;
            return atoi(buf + 9);
        }
    }
}

static bool is_closed(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) <= 0) return false;
    char c;
    return recv(fd, &c, 1, 0) == 0;
}

static pl_http_server *start(uint64_t max_body) {
    pl_http_options o;
    pl_http_options_init(&o);
    o.loopback_only = true;
    o.num_threads = 2;
    if (max_body) o.max_body_bytes = max_body;
    pl_http_server *s = NULL;
    CHECK_OK(pl_http_start(&o, echo, NULL, &s));
    CHECK(s && pl_http_port(s) > 0);
    return s;
}

static char buf[1 << 20];

static void test_keep_alive_and_target(void) {
    pl_http_server *s = start(0);
    int fd = connect_to(pl_http_port(s));
    CHECK(fd >= 0);
    const char *body;
    const char *r1 = "GET /v1/models/a%20b?x=1&y=%2F HTTP/1.1\r\nHost: x\r\nX-Test: hi\r\n\r\n";
    send_all(fd, r1, strlen(r1));
    CHECK_EQ_INT(read_response(fd, buf, sizeof buf, &body), 200);
    CHECK_STR(body, "GET /v1/models/a%20b?x=1&y=%2F 0  h=hi");
    CHECK(strcasestr(buf, "Content-Type: text/plain") != NULL);
    /* Same connection, a POST with a body. */
    const char *r2 = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    send_all(fd, r2, strlen(r2));
    CHECK_EQ_INT(read_response(fd, buf, sizeof buf, &body), 200);
    CHECK_STR(body, "POST /p 5 hello");
    /* Pipelined: two requests in one write. */
    buf[0] = 0;
    const char *r3 = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nAGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, r3, strlen(r3));
    size_t n = 0;
    while (!strstr(buf, "GET /b 0 ")) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0) break;
        ssize_t k = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (k <= 0) break;
        n += (size_t)k;
        buf[n] = 0;
    }
    const char *first = strstr(buf, "\r\n\r\nPOST /a 1 A"), *second = strstr(buf, "\r\n\r\nGET /b 0 ");
    CHECK(first && second && first < second);
    close(fd);
    pl_http_stop(s);
}

static void test_chunked_and_continue(void) {
    pl_http_server *s = start(0);
    int fd = connect_to(pl_http_port(s));
    const char *body;
    const char *r = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
    send_all(fd, r, strlen(r));
    CHECK_EQ_INT(read_response(fd, buf, sizeof buf, &body), 200);
    CHECK_STR(body, "POST /c 7 abcdefg");
    /* Expect: 100-continue gets "100 Continue" before the body is sent. */
    const char *h = "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
    send_all(fd, h, strlen(h));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 5000) == 1);
    ssize_t k = recv(fd, buf, sizeof buf - 1, 0);
    buf[k > 0 ? k : 0] = 0;
    CHECK(strstr(buf, "HTTP/1.1 100 Continue") == buf);
    send_all(fd, "xyz", 3);
    CHECK_EQ_INT(read_response(fd, buf, sizeof buf, &body), 200);
    CHECK_STR(body, "POST /e 3 xyz");
    close(fd);
    pl_http_stop(s);
}

static void test_body_limit(void) {
    pl_http_server *s = start(1000);
    const char *body;
    /* Declared too large: 413 at once, without sending the body, then the
     * connection closes. */
    int fd = connect_to(pl_http_port(s));
    const char *r = "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n";
    send_all(fd, r, strlen(r));
    CHECK_EQ_INT(read_response(fd, buf, sizeof buf, &body), 413);
    CHECK(body && strstr(body, "\"error\": \"Request body of 1073741824 bytes is larger than the limit of 1000"));
    CHECK(is_closed(fd));
    close(fd);
    /* Chunked past the limit: the rest is drained unkept, then 413. */
    fd = connect_to(pl_http_port(s));
    const char *c = "POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    send_all(fd, c, strlen(c));
    char chunk[700];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 2; i++) {
        send_all(fd, "2bc\r\n", 5);
        send_all(fd, chunk, sizeof chunk);
        send_all(fd, "\r\n", 2);
    }
    send_all(fd, "0\r\n\r\n", 5);
    CHECK_EQ_INT(read_response(fd, buf, sizeof buf, &body), 413);
    CHECK(is_closed(fd));
    close(fd);
    /* Exactly at the limit is fine. */
    fd = connect_to(pl_http_port(s));
    char req[1200];
    int hl = snprintf(req, sizeof req, "POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    memset(req + hl, 'b', 1000);
    send_all(fd, req, (size_t)hl + 1000);
    CHECK_EQ_INT(read_response(fd, buf, sizeof buf, &body), 200);
    CHECK(body && !strncmp(body, "POST /ok 1000 bbbb", 18));
    close(fd);
    pl_http_stop(s);
}

static void test_lying_length(void) {
    /* A client that declares 1 GB (under the limit) and hangs up after a few
     * bytes costs the server nothing lasting; the next client is served. */
    pl_http_server *s = start(0);
    for (int i = 0; i < 3; i++) {
        int fd = connect_to(pl_http_port(s));
        const char *r = "POST /lie HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n{\"instances\": [";
        send_all(fd, r, strlen(r));
        close(fd);
    }
    int fd = connect_to(pl_http_port(s));
    const char *body;
    const char *r = "GET /after HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, r, strlen(r));
    CHECK_EQ_INT(read_response(fd, buf, sizeof buf, &body), 200);
    CHECK_STR(body, "GET /after 0 ");
    close(fd);
    pl_http_stop(s);
}

static size_t gzip_of(const char *in, size_t n, unsigned char *out, size_t cap) {
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

static void test_gunzip(void) {
    static char text[200000];
    for (size_t i = 0; i < sizeof text; i++) text[i] = (char)('a' + (i * 7 + i / 13) % 26);
    static unsigned char gz[300000];
    size_t gn = gzip_of(text, sizeof text, gz, sizeof gz);
    char *out;
    size_t on;
    CHECK_OK(pl_http_gunzip((char *)gz, gn, 1 << 20, &out, &on));
    CHECK_EQ_INT(on, sizeof text);
    CHECK(on == sizeof text && !memcmp(out, text, on) && out[on] == 0);
    free(out);
    /* Limits: exactly enough, one byte short. */
    CHECK_OK(pl_http_gunzip((char *)gz, gn, sizeof text, &out, &on));
    free(out);
    CHECK_ERR(pl_http_gunzip((char *)gz, gn, sizeof text - 1, &out, &on), PL_INVALID_ARGUMENT);
    /* A bomb: 50 MB of zeros in a few KB, with a 1 MB limit. */
    size_t big = 50u << 20;
    char *zeros = calloc(1, big);
    unsigned char *bomb = malloc(1 << 20);
    size_t bn = gzip_of(zeros, big, bomb, 1 << 20);
    CHECK(bn < 100000);
    CHECK_ERR(pl_http_gunzip((char *)bomb, bn, 1 << 20, &out, &on), PL_INVALID_ARGUMENT);
    free(zeros);
    free(bomb);
    /* Truncated and garbage input. */
    CHECK_ERR(pl_http_gunzip((char *)gz, gn / 2, 1 << 20, &out, &on), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_http_gunzip("not gzip at all", 15, 1 << 20, &out, &on), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_http_gunzip("", 0, 1 << 20, &out, &on), PL_INVALID_ARGUMENT);
}

static void test_libevent_page(void) {
    pl_http_response r = {0};
    pl_strbuf_init(&r.body, 0);
    pl_http_response_libevent_error(&r, 404);
    CHECK_EQ_INT(r.status, 404);
    CHECK_STR(r.body.data, "<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n</BODY></HTML>\n");
    CHECK(r.close);
    pl_strbuf_deinit(&r.body);
}

int main(void) {
    RUN_TEST(test_keep_alive_and_target);
    RUN_TEST(test_chunked_and_continue);
    RUN_TEST(test_body_limit);
    RUN_TEST(test_lying_length);
    RUN_TEST(test_gunzip);
    RUN_TEST(test_libevent_page);
    return check_summary();
}
