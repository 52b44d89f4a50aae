/* .npy reading and writing (see npy.h). */
#include "tensor/npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *code; /* descr without the byte-order character */
    pl_dtype dtype;
} kinds[] = {
    {"f4", PL_DT_FLOAT}, {"f8", PL_DT_DOUBLE}, {"f2", PL_DT_HALF},     {"i4", PL_DT_INT32},
    {"i8", PL_DT_INT64}, {"i2", PL_DT_INT16},  {"i1", PL_DT_INT8},     {"u1", PL_DT_UINT8},
    {"u2", PL_DT_UINT16}, {"u4", PL_DT_UINT32}, {"u8", PL_DT_UINT64},  {"b1", PL_DT_BOOL},
    {"c8", PL_DT_COMPLEX64}, {"c16", PL_DT_COMPLEX128},
};

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == ',')) p++;
    return p;
}

/* Finds 'key': in the header dict and returns a pointer just after the colon. */
static const char *find_key(const char *h, const char *end, const char *key) {
    size_t klen = strlen(key);
    for (const char *p = h; p + klen + 2 < end; p++)
        if ((*p == '\'' || *p == '"') && !memcmp(p + 1, key, klen) && p[klen + 1] == *p) {
            const char *q = skip_ws(p + klen + 2, end);
            if (q < end && *q == ':') return skip_ws(q + 1, end);
            return NULL;
        }
    return NULL;
}

static pl_status parse_header(const char *h, size_t hlen, pl_dtype *dtype, size_t *str_width, int *rank,
                              int64_t dims[PL_MAX_RANK]) {
    const char *end = h + hlen;
    const char *d = find_key(h, end, "descr");
    if (!d || (*d != '\'' && *d != '"')) return pl_error(PL_INVALID_ARGUMENT, "npy header has no descr");
    char quote = *d++;
    const char *dq = memchr(d, quote, (size_t)(end - d));
    if (!dq || dq - d < 2 || dq - d > 16) return pl_error(PL_INVALID_ARGUMENT, "npy header has a bad descr");
    char descr[20];
    memcpy(descr, d, (size_t)(dq - d));
    descr[dq - d] = '\0';
    char order = descr[0];
    const char *code = descr + 1;
    *dtype = PL_DT_INVALID;
    *str_width = 0;
    if (code[0] == 'S') {
        char *stop;
        long w = strtol(code + 1, &stop, 10);
        if (*stop || w < 0 || w > (1 << 24)) return pl_error(PL_INVALID_ARGUMENT, "npy descr '%s' is not supported", descr);
        *dtype = PL_DT_STRING;
        *str_width = (size_t)w;
    } else {
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (!strcmp(code, kinds[i].code)) *dtype = kinds[i].dtype;
        bool one_byte = code[1] == '1' && !code[2];
        if (*dtype == PL_DT_INVALID || order == '>' || (order != '<' && order != '|' && order != '=') ||
            (order == '|' && !one_byte))
            return pl_error(PL_INVALID_ARGUMENT, "npy descr '%s' is not supported (little-endian numeric or bool only)",
                            descr);
    }
    const char *f = find_key(h, end, "fortran_order");
    if (!f || (size_t)(end - f) < 4) return pl_error(PL_INVALID_ARGUMENT, "npy header has no fortran_order");
    if (!strncmp(f, "True", 4)) return pl_error(PL_INVALID_ARGUMENT, "npy arrays in Fortran order are not supported");
    const char *s = find_key(h, end, "shape");
    if (!s || *s != '(') return pl_error(PL_INVALID_ARGUMENT, "npy header has no shape");
    s++;
    *rank = 0;
    for (;;) {
        s = skip_ws(s, end);
        if (s >= end) return pl_error(PL_INVALID_ARGUMENT, "npy header has a bad shape");
        if (*s == ')') break;
        if (*rank >= PL_MAX_RANK) return pl_error(PL_INVALID_ARGUMENT, "npy array has more than %d dimensions", PL_MAX_RANK);
        int64_t v = 0;
        if (*s < '0' || *s > '9') return pl_error(PL_INVALID_ARGUMENT, "npy header has a bad shape");
        while (s < end && *s >= '0' && *s <= '9') {
            if (v > (INT64_MAX - 9) / 10) return pl_error(PL_INVALID_ARGUMENT, "npy shape is too large");
            v = v * 10 + (*s++ - '0');
        }
        if (s < end && *s == 'L') s++;
        dims[(*rank)++] = v;
    }
    return NULL;
}

pl_status pl_npy_parse(const void *data, size_t len, pl_tensor **out) {
    const unsigned char *b = data;
    if (len < 10 || memcmp(b, "\x93NUMPY", 6)) return pl_error(PL_INVALID_ARGUMENT, "not a .npy file");
    size_t hlen, off;
    if (b[6] == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        off = 10;
    } else if (b[6] == 2 || b[6] == 3) {
        if (len < 12) return pl_error(PL_INVALID_ARGUMENT, "truncated .npy header");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        off = 12;
    } else {
        return pl_error(PL_INVALID_ARGUMENT, ".npy format version %d is not supported", b[6]);
    }
    if (hlen > len - off) return pl_error(PL_INVALID_ARGUMENT, "truncated .npy header");
    pl_dtype dtype = PL_DT_INVALID;
    size_t width = 0;
    int rank = 0;
    int64_t dims[PL_MAX_RANK] = {0};
    PL_TRY(parse_header((const char *)b + off, hlen, &dtype, &width, &rank, dims));
    off += hlen;
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(dtype, rank, dims, &t));
    size_t esize = dtype == PL_DT_STRING ? width : pl_dtype_size(dtype);
    if (esize && (size_t)t->count > (len - off) / esize) {
        pl_tensor_unref(t);
        return pl_error(PL_INVALID_ARGUMENT, ".npy data is truncated");
    }
    size_t need = (size_t)t->count * esize;
    if (need != len - off) {
        pl_tensor_unref(t);
        return pl_error(PL_INVALID_ARGUMENT, ".npy data has %zu bytes, expected %zu", len - off, need);
    }
    if (dtype == PL_DT_STRING) {
        for (int64_t i = 0; i < t->count; i++) {
            const char *s = (const char *)b + off + (size_t)i * width;
            size_t n = width;
            while (n > 0 && s[n - 1] == '\0') n--; /* numpy strips trailing NULs */
            pl_status st = pl_tensor_set_string(t, i, s, n);
            if (st) {
                pl_tensor_unref(t);
                return st;
            }
        }
    } else if (dtype == PL_DT_BOOL) {
        uint8_t *d = t->data;
        for (int64_t i = 0; i < t->count; i++) d[i] = b[off + (size_t)i] != 0;
    } else if (need) {
        memcpy(t->data, b + off, need);
    }
    *out = t;
    return NULL;
}

static pl_status read_all(const char *path, char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return pl_error(errno == ENOENT ? PL_NOT_FOUND : PL_FAILED_PRECONDITION, "cannot open '%s': %s", path,
                            strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    pl_status st = NULL;
    char *buf = NULL;
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) st = pl_error(PL_FAILED_PRECONDITION, "cannot read '%s'", path);
    if (!st && !(buf = malloc(size ? (size_t)size : 1))) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st && fread(buf, 1, (size_t)size, f) != (size_t)size) st = pl_error(PL_DATA_LOSS, "short read of '%s'", path);
    fclose(f);
    if (st) {
        free(buf);
        return st;
    }
    *data = buf;
    *len = (size_t)size;
    return NULL;
}

pl_status pl_npy_read_file(const char *path, pl_tensor **out) {
    char *data = NULL;
    size_t len = 0;
    PL_TRY(read_all(path, &data, &len));
    pl_status st = pl_status_prefix(pl_npy_parse(data, len, out), "%s: ", path);
    free(data);
    return st;
}

pl_status pl_npy_encode(const pl_tensor *t, char **data, size_t *len) {
    const char *descr = NULL;
    char sdescr[32];
    size_t width = 0;
    if (t->dtype == PL_DT_STRING) {
        const pl_str *s = t->data;
        for (int64_t i = 0; i < t->count; i++)
            if (s[i].len > width) width = s[i].len;
        if (width == 0) width = 1; /* numpy has no S0 */
        snprintf(sdescr, sizeof sdescr, "|S%zu", width);
        descr = sdescr;
    } else {
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (kinds[i].dtype == t->dtype) {
                snprintf(sdescr, sizeof sdescr, "%c%s", pl_dtype_size(t->dtype) == 1 ? '|' : '<', kinds[i].code);
                descr = sdescr;
            }
    }
    if (!descr) return pl_error(PL_UNIMPLEMENTED, "%s tensors cannot be written as .npy", pl_dtype_name(t->dtype));
    char header[512];
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < t->rank; i++) n += snprintf(header + n, sizeof header - (size_t)n, "%lld, ", (long long)t->dims[i]);
    if (t->rank > 1) n -= 2; /* numpy writes "(2, 3)" but "(2,)" */
    else if (t->rank == 1) n -= 1;
    n += snprintf(header + n, sizeof header - (size_t)n, "), }");
    size_t total_header = 10 + (size_t)n + 1;
    size_t pad = (64 - total_header % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    size_t esize = t->dtype == PL_DT_STRING ? width : pl_dtype_size(t->dtype);
    size_t body = (size_t)t->count * esize;
    char *buf = malloc(10 + hlen + body);
    if (!buf) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + 10, header, (size_t)n);
    memset(buf + 10 + n, ' ', pad);
    buf[10 + hlen - 1] = '\n';
    char *p = buf + 10 + hlen;
    if (t->dtype == PL_DT_STRING) {
        const pl_str *s = t->data;
        memset(p, 0, body);
        for (int64_t i = 0; i < t->count; i++)
            if (s[i].len) memcpy(p + (size_t)i * width, s[i].data, s[i].len);
    } else if (body) {
        memcpy(p, t->data, body);
    }
    *data = buf;
    *len = 10 + hlen + body;
    return NULL;
}

pl_status pl_npy_write_file(const char *path, const pl_tensor *t) {
    char *data = NULL;
    size_t len = 0;
    PL_TRY(pl_npy_encode(t, &data, &len));
    FILE *f = fopen(path, "wb");
    pl_status st = NULL;
    if (!f) {
        st = pl_error(PL_FAILED_PRECONDITION, "cannot create '%s': %s", path, strerror(errno));
    } else {
        if (fwrite(data, 1, len, f) != len) st = pl_error(PL_DATA_LOSS, "cannot write '%s'", path);
        if (fclose(f) && !st) st = pl_error(PL_DATA_LOSS, "cannot write '%s'", path);
    }
    free(data);
    return st;
}
