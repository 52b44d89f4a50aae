/* Inflating gzip request bodies (Content-Encoding: gzip) with zlib, bounded
 * so that a small body cannot expand without limit. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/http.h"

pl_status pl_http_gunzip(const char *in, size_t len, size_t max_out, char **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 32: a gzip or zlib header, detected. */
    if (inflateInit2(&z, 15 + 32) != Z_OK) return pl_error(PL_INTERNAL, "Failed to initialise zlib");
    size_t cap = len * 4 + 1024, n = 0;
    if (cap > max_out) cap = max_out;
    char *buf = malloc(cap + 1);
    if (!buf) {
        inflateEnd(&z);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    const unsigned char *src = (const unsigned char *)in;
    size_t left = len;
    int rc = Z_OK;
    pl_status st = NULL;
    while (rc != Z_STREAM_END) {
        if (n == cap) {
            if (cap >= max_out) {
                st = pl_error(PL_INVALID_ARGUMENT, "gzip request body inflates to more than %zu bytes", max_out);
                break;
            }
            size_t ncap = cap > max_out / 2 ? max_out : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
                break;
            }
            buf = nb;
            cap = ncap;
        }
        /* zlib counts in uInt: feed at most 1 GiB at a time. */
        size_t in_chunk = left < (1u << 30) ? left : (1u << 30), out_room = cap - n;
        if (out_room > (1u << 30)) out_room = 1u << 30;
        z.next_in = (unsigned char *)src;
        z.avail_in = (uInt)in_chunk;
        z.next_out = (unsigned char *)buf + n;
        z.avail_out = (uInt)out_room;
        rc = inflate(&z, Z_NO_FLUSH);
        size_t used = in_chunk - z.avail_in, made = out_room - z.avail_out;
        src += used;
        left -= used;
        n += made;
        if (rc == Z_STREAM_END) break;
        if (rc == Z_BUF_ERROR && left == 0 && made == 0) {
            st = pl_error(PL_INVALID_ARGUMENT, "gzip request body is truncated");
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            st = pl_error(PL_INVALID_ARGUMENT, "gzip request body is invalid: %s", z.msg ? z.msg : "zlib error");
            break;
        }
    }
    inflateEnd(&z);
    if (st) {
        free(buf);
        return st;
    }
    buf[n] = 0;
    *out = buf;
    *out_len = n;
    return NULL;
}
