/* Slices of checkpointed tensors, for partitioned variables: TensorFlow's
 * "shape_and_slices" strings, the OrderedCode keys a saved slice is stored
 * under (core/lib/strings/ordered_code.cc, util/saved_tensor_slice_util.cc),
 * and reading a slice either from the stored piece that is exactly it or
 * out of a tensor stored whole. */
#include <stdlib.h>
#include <string.h>

#include "runtime/bundle.h"
#include "runtime/bundle_internal.h"

/* ---- OrderedCode ---- */

typedef struct obuf {
    uint8_t *p;
    size_t n, cap;
    bool failed;
} obuf;

static void put(obuf *b, const void *data, size_t n) {
    if (b->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 16;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

/* A length byte, then the value big-endian without leading zero bytes. */
static void write_num_increasing(obuf *b, uint64_t v) {
    uint8_t buf[9];
    int len = 0;
    for (uint64_t x = v; x; x >>= 8) len++;
    buf[0] = (uint8_t)len;
    for (int i = 0; i < len; i++) buf[1 + i] = (uint8_t)(v >> (8 * (len - 1 - i)));
    put(b, buf, (size_t)len + 1);
}

/* The bytes with 0x00 -> 00 ff and 0xff -> ff 00, then the separator 00 01. */
static void write_string(obuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == 0x00) put(b, "\x00\xff", 2);
        else if (c == 0xff) put(b, "\xff\x00", 2);
        else put(b, &c, 1);
    }
    put(b, "\x00\x01", 2);
}

/* Sign bit, then as many further bits equal to it as bytes follow the first
 * byte, a delimiter bit, and the value in two's complement, big-endian. */
static void write_signed_num_increasing(obuf *b, int64_t v) {
    static const uint8_t header[11][2] = {{0, 0},    {0x80, 0}, {0xc0, 0}, {0xe0, 0},    {0xf0, 0},   {0xf8, 0},
                                          {0xfc, 0}, {0xfe, 0}, {0xff, 0}, {0xff, 0x80}, {0xff, 0xc0}};
    uint64_t x = v < 0 ? ~(uint64_t)v : (uint64_t)v;
    if (x < 64) {
        uint8_t c = (uint8_t)(header[1][0] ^ (uint8_t)v);
        put(b, &c, 1);
        return;
    }
    int bits = 0;
    for (uint64_t t = x; t; t >>= 1) bits++;
    int len = (bits + 1 + 6) / 7; /* n bytes hold 7n - 1 value bits beside the sign */
    if (len > 10) len = 10;
    uint8_t buf[10];
    uint8_t sign = v < 0 ? 0xff : 0x00;
    buf[0] = buf[1] = sign;
    for (int i = 0; i < 8; i++) buf[2 + i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    uint8_t *begin = buf + 10 - len;
    begin[0] ^= header[len][0];
    begin[1] ^= header[len][1];
    put(b, begin, (size_t)len);
}

uint8_t *pl__bundle_slice_key(const char *name, int rank, const int64_t *start, const int64_t *length, size_t *len) {
    obuf b = {0};
    write_num_increasing(&b, 0);
    write_string(&b, name, strlen(name));
    write_num_increasing(&b, (uint64_t)rank);
    for (int d = 0; d < rank; d++) {
        write_signed_num_increasing(&b, start[d]);
        write_signed_num_increasing(&b, length[d]);
    }
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *len = b.n;
    return b.p;
}

/* ---- shape_and_slices ---- */

static pl_status parse_int(const char **p, int64_t *out) {
    char *end;
    long long v = strtoll(*p, &end, 10);
    if (end == *p) return pl_error(PL_INVALID_ARGUMENT, "expected a number at \"%s\"", *p);
    *p = end;
    *out = v;
    return NULL;
}

pl_status pl_bundle_parse_shape_and_slice(const char *spec, int *rank, int64_t dims[PL_MAX_RANK],
                                          pl_bundle_slice *s) {
    /* The last space-separated item is the slice; everything before it the shape. */
    const char *last = strrchr(spec, ' ');
    if (!last) return pl_error(PL_INVALID_ARGUMENT, "Expected shape and slice in \"%s\"", spec);
    int n = 0;
    const char *p = spec;
    while (p < last) {
        while (*p == ' ') p++;
        if (p >= last) break;
        if (n == PL_MAX_RANK) return pl_error(PL_UNIMPLEMENTED, "slice spec \"%s\" has too many dimensions", spec);
        pl_status st = parse_int(&p, &dims[n]);
        if (st || dims[n] < 0) {
            pl_status_free(st);
            return pl_error(PL_INVALID_ARGUMENT, "Invalid shape in shape and slice spec \"%s\"", spec);
        }
        n++;
    }
    p = last + 1;
    for (int d = 0; d < n; d++) {
        if (d > 0 && *p++ != ':')
            return pl_error(PL_INVALID_ARGUMENT, "Expected %d dimensions in slice spec \"%s\"", n, spec);
        if (*p == '-') {
            s->start[d] = 0;
            s->length[d] = -1;
            p++;
            continue;
        }
        pl_status st = parse_int(&p, &s->start[d]);
        if (!st && *p++ != ',') st = pl_error(PL_INVALID_ARGUMENT, "expected ','");
        if (!st) st = parse_int(&p, &s->length[d]);
        if (st || s->start[d] < 0 || s->length[d] < 0 || s->start[d] > dims[d] || s->length[d] > dims[d] - s->start[d]) {
            pl_status_free(st);
            return pl_error(PL_INVALID_ARGUMENT, "Invalid slice \"%s\" for shape in \"%s\"", last + 1, spec);
        }
    }
    if (*p) return pl_error(PL_INVALID_ARGUMENT, "Expected %d dimensions in slice spec \"%s\"", n, spec);
    *rank = n;
    return NULL;
}

/* ---- reading ---- */

static int64_t ext_start(const pl_bundle_slice *s, int d) { return s->length[d] < 0 ? 0 : s->start[d]; }
static int64_t ext_len(const pl_bundle_slice *s, int d, int64_t dim) { return s->length[d] < 0 ? dim : s->length[d]; }

static bool same_region(const pl_bundle_slice *a, const pl_bundle_slice *b, const pl_bundle_entry *e) {
    for (int d = 0; d < e->rank; d++)
        if (ext_start(a, d) != ext_start(b, d) || ext_len(a, d, e->dims[d]) != ext_len(b, d, e->dims[d])) return false;
    return true;
}

/* Copies the region `s` of full tensor t into a new tensor. */
static pl_status cut(const pl_tensor *t, const pl_bundle_slice *s, pl_tensor **out) {
    int64_t dims[PL_MAX_RANK], start[PL_MAX_RANK];
    for (int d = 0; d < t->rank; d++) {
        start[d] = ext_start(s, d);
        dims[d] = ext_len(s, d, t->dims[d]);
    }
    pl_tensor *o;
    PL_TRY(pl_tensor_alloc(t->dtype, t->rank, dims, &o));
    size_t es = pl_dtype_size(t->dtype);
    int64_t idx[PL_MAX_RANK] = {0};
    for (int64_t i = 0; i < o->count; i++) {
        int64_t src = 0;
        for (int d = 0; d < t->rank; d++) src = src * t->dims[d] + start[d] + idx[d];
        if (t->dtype == PL_DT_STRING) {
            const pl_str *str = (const pl_str *)t->data + src;
            pl_status st = pl_tensor_set_string(o, i, str->data, str->len);
            if (st) {
                pl_tensor_unref(o);
                return st;
            }
        } else {
            memcpy((char *)o->data + (size_t)i * es, (const char *)t->data + (size_t)src * es, es);
        }
        for (int d = t->rank - 1; d >= 0 && ++idx[d] == dims[d]; d--) idx[d] = 0;
    }
    *out = o;
    return NULL;
}

pl_status pl_bundle_read_slice(const pl_bundle *b, const char *key, const pl_bundle_slice *s, pl_tensor **out) {
    const pl_bundle_entry *e = pl_bundle_find(b, key);
    if (!e) return pl_error(PL_NOT_FOUND, "Key %s not found in checkpoint", key);
    if (!e->is_sliced) {
        pl_tensor *full;
        PL_TRY(pl_bundle_read_entry(b, e, &full));
        pl_status st = cut(full, s, out);
        pl_tensor_unref(full);
        return st;
    }
    for (int i = 0; i < e->num_slices; i++) {
        const pl_bundle_slice *stored = &e->slices[i];
        if (!same_region(stored, s, e)) continue;
        size_t len;
        uint8_t *skey = pl__bundle_slice_key(key, e->rank, stored->start, stored->length, &len);
        if (!skey) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        const pl_bundle_entry *piece = pl__bundle_find_slice_entry(b, skey, len);
        free(skey);
        if (!piece) return pl_error(PL_DATA_LOSS, "checkpoint lists a slice of %s it does not hold", key);
        if (piece->dtype != e->dtype) return pl_error(PL_DATA_LOSS, "a slice of %s has another dtype", key);
        for (int d = 0; d < e->rank; d++)
            if (piece->rank != e->rank || piece->dims[d] != ext_len(s, d, e->dims[d]))
                return pl_error(PL_DATA_LOSS, "a slice of %s has the wrong shape", key);
        pl_status st = pl_bundle_read_entry(b, piece, out);
        return st ? pl_status_prefix(st, "slice of %s: ", key) : NULL;
    }
    return pl_error(PL_UNIMPLEMENTED, "restoring %s needs a slice the checkpoint stores in several pieces; only slices "
                                      "saved as one piece are supported", key);
}
