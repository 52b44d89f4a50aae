/* Snappy decompression for table blocks. TensorFlow 1.x and 2.x have written
 * checkpoint indexes with Snappy-compressed blocks; the decoder is small
 * enough that carrying it beats a C++ library dependency. Format: a varint
 * uncompressed length, then literal and copy elements (snappy
 * format_description.txt). */
#include <stdlib.h>
#include <string.h>

#include "runtime/bundle_internal.h"

/* The best a copy element can expand is 64 output bytes from a 3-byte tag, so
 * any honest stream satisfies out_len <= 22 * in_len; rejecting larger claims
 * keeps the allocation proportional to the input. */
#define MAX_EXPANSION 22

static pl_status corrupt(const char *what) {
    return pl_error(PL_DATA_LOSS, "corrupted compressed block contents (%s)", what);
}

static pl_status decode(const uint8_t *p, const uint8_t *end, uint8_t *out, size_t out_len) {
    size_t pos = 0;
    while (p < end) {
        uint8_t tag = *p++;
        size_t len, offset;
        switch (tag & 3) {
        case 0: /* literal */
            len = tag >> 2;
            if (len >= 60) {
                size_t nb = len - 59;
                if ((size_t)(end - p) < nb) return corrupt("truncated literal length");
                len = 0;
                for (size_t i = 0; i < nb; i++) len |= (size_t)p[i] << (8 * i);
                p += nb;
            }
            len += 1;
            if ((size_t)(end - p) < len) return corrupt("truncated literal");
            if (out_len - pos < len) return corrupt("literal past the declared length");
            memcpy(out + pos, p, len);
            p += len;
            pos += len;
            continue;
        case 1:
            if (end - p < 1) return corrupt("truncated copy");
            len = 4 + ((tag >> 2) & 7);
            offset = (size_t)(tag >> 5) << 8 | p[0];
            p += 1;
            break;
        case 2:
            if (end - p < 2) return corrupt("truncated copy");
            len = 1 + (tag >> 2);
            offset = (size_t)p[0] | (size_t)p[1] << 8;
            p += 2;
            break;
        default:
            if (end - p < 4) return corrupt("truncated copy");
            len = 1 + (tag >> 2);
            offset = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
            p += 4;
            break;
        }
        if (offset == 0 || offset > pos) return corrupt("copy offset out of range");
        if (out_len - pos < len) return corrupt("copy past the declared length");
        /* Byte by byte: a copy may overlap its own output (offset < len repeats a pattern). */
        for (size_t i = 0; i < len; i++) out[pos + i] = out[pos + i - offset];
        pos += len;
    }
    if (pos != out_len) return corrupt("shorter than the declared length");
    return NULL;
}

pl_status pl__snappy_uncompress(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len) {
    uint64_t n;
    size_t used = pl__varint64(in, in + in_len, &n);
    if (!used || n > UINT32_MAX) return corrupt("bad length header");
    if (n > PL__SNAPPY_MAX_OUTPUT || n > (uint64_t)MAX_EXPANSION * in_len)
        return corrupt("declared length is too large");
    uint8_t *buf = malloc(n ? (size_t)n : 1);
    if (!buf) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory decompressing a block");
    pl_status st = decode(in + used, in + in_len, buf, (size_t)n);
    if (st) {
        free(buf);
        return st;
    }
    *out = buf;
    *out_len = (size_t)n;
    return NULL;
}
