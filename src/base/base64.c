/* Base64 encoding and absl-compatible decoding. */
#include "base/base64.h"

#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum { SPACE = -1, PAD = -2, BAD = -3 };

/* 0..63 for the alphabet; SPACE for what absl::ascii_isspace accepts
 * (" \t\n\v\f\r"); PAD for '=' and '.'; BAD for the rest. */
static const signed char decode_table[256] = {
    -3, -3, -3, -3, -3, -3, -3, -3, -3, -1, -1, -1, -1, -1, -3, -3,
    -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3,
    -1, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, 62, -3, -3, -2, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -3, -3, -3, -2, -3, -3,
    -3,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -3, -3, -3, -3, -3,
    -3, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -3, -3, -3, -3, -3,
    -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3,
    -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3,
    -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3,
    -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3,
    -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3,
    -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3,
    -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3,
    -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3,
};

void pl_base64_encode(const void *src, size_t n, char *dst) {
    const unsigned char *s = src;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *dst++ = alphabet[v >> 18];
        *dst++ = alphabet[(v >> 12) & 63];
        *dst++ = alphabet[(v >> 6) & 63];
        *dst++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *dst++ = alphabet[v >> 18];
        *dst++ = alphabet[(v >> 12) & 63];
        *dst++ = '=';
        *dst++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *dst++ = alphabet[v >> 18];
        *dst++ = alphabet[(v >> 12) & 63];
        *dst++ = alphabet[(v >> 6) & 63];
        *dst++ = '=';
    }
}

bool pl_base64_decode(const char *src, size_t n, void *dst, size_t *out_nbytes) {
    const unsigned char *s = (const unsigned char *)src;
    unsigned char *d = dst;
    size_t i = 0, out = 0;
    /* Fast path: whole groups of four alphabet characters. */
    while (i + 4 <= n) {
        int a = decode_table[s[i]], b = decode_table[s[i + 1]], c = decode_table[s[i + 2]],
            e = decode_table[s[i + 3]];
        if ((a | b | c | e) < 0) break;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)e;
        d[out] = (unsigned char)(v >> 16);
        d[out + 1] = (unsigned char)(v >> 8);
        d[out + 2] = (unsigned char)v;
        out += 3;
        i += 4;
    }
    /* Slow path: whitespace may fall anywhere, and the data may end early
     * (no padding) or at the first pad character. */
    uint32_t v = 0;
    int state = 0;
    for (; i < n; i++) {
        int x = decode_table[s[i]];
        if (x == SPACE) continue;
        if (x == PAD) break;
        if (x == BAD) return false;
        v = v << 6 | (uint32_t)x;
        if (++state == 4) {
            d[out] = (unsigned char)(v >> 16);
            d[out + 1] = (unsigned char)(v >> 8);
            d[out + 2] = (unsigned char)v;
            out += 3;
            state = 0;
            v = 0;
        }
    }
    int expected_pads = 0;
    if (state == 1) return false; /* six bits cannot make a byte */
    if (state == 2) {
        d[out++] = (unsigned char)(v >> 4);
        expected_pads = 2;
    } else if (state == 3) {
        d[out] = (unsigned char)(v >> 10);
        d[out + 1] = (unsigned char)(v >> 2);
        out += 2;
        expected_pads = 1;
    }
    /* After the data: only whitespace and either no padding or exactly the
     * padding the length calls for (absl accepts both). */
    int pads = 0;
    for (; i < n; i++) {
        int x = decode_table[s[i]];
        if (x == PAD) pads++;
        else if (x != SPACE) return false;
    }
    if (pads != 0 && pads != expected_pads) return false;
    *out_nbytes = out;
    return true;
}
