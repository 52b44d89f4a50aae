/* ScalarSummary and HistogramSummary: a serialized tensorflow.Summary
 * proto per run, with TensorFlow's histogram buckets (limits growing by 10%
 * from 1e-12 to 1e20, mirrored below zero; runs of empty buckets merged).
 * Training graphs exported for serving keep these nodes; they run when a
 * client fetches them. The few proto fields are written by hand. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ops/families.h"

/* ---- a growable byte buffer with a sticky out-of-memory flag ---- */

typedef struct pbuf {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} pbuf;

static void put_bytes(pbuf *b, const void *p, size_t n) {
    /* An empty string element's data may be NULL, which memcpy must not see
     * even for no bytes. */
    if (b->failed || n == 0) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_varint(pbuf *b, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put_bytes(b, tmp, n);
}

static void put_tag(pbuf *b, int field, int wire) { put_varint(b, (uint64_t)field << 3 | (uint64_t)wire); }

static void put_len_field(pbuf *b, int field, const void *p, size_t n) {
    put_tag(b, field, 2);
    put_varint(b, n);
    put_bytes(b, p, n);
}

static void put_le(pbuf *b, uint64_t v, int n) {
    uint8_t tmp[8];
    for (int i = 0; i < n; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    put_bytes(b, tmp, (size_t)n);
}

static void put_double_field(pbuf *b, int field, double d) {
    if (d == 0) return; /* proto3 leaves zero scalars out */
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    put_tag(b, field, 1);
    put_le(b, v, 8);
}

static void put_packed_doubles(pbuf *b, int field, const double *d, size_t n) {
    if (!n) return;
    put_tag(b, field, 2);
    put_varint(b, 8 * n);
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, &d[i], sizeof v);
        put_le(b, v, 8);
    }
}

/* Hands the buffer over as a scalar string output. */
static pl_status string_output(pl_kernel_ctx *c, pbuf *b) {
    if (b->failed) {
        free(b->data);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory writing a summary");
    }
    pl_tensor *t;
    pl_status st = pl_ctx_alloc_output(c, 0, PL_DT_STRING, 0, NULL, &t);
    if (!st) st = pl_tensor_set_string(t, 0, b->data ? (const char *)b->data : "", b->len);
    free(b->data);
    return st;
}

static bool real_dtype(pl_dtype t) {
    switch (t) {
    case PL_DT_STRING: case PL_DT_RESOURCE: case PL_DT_VARIANT: case PL_DT_COMPLEX64: case PL_DT_COMPLEX128:
    case PL_DT_INVALID: return false;
    default: return true;
    }
}

/* Element i as a double, half and bfloat16 widened first. */
static double value_at(const pl_tensor *t, int64_t i) {
    if (t->dtype == PL_DT_HALF) return pl_half_to_float(((const uint16_t *)t->data)[i]);
    if (t->dtype == PL_DT_BFLOAT16) return pl_bfloat16_to_float(((const uint16_t *)t->data)[i]);
    return pl_tensor_get_f64(t, i);
}

/* ---- ScalarSummary ---- */

static pl_status scalar_summary_compute(pl_kernel_ctx *c) {
    const pl_tensor *tags = c->inputs[0], *values = c->inputs[1];
    char s1[160], s2[160];
    if (tags->dtype != PL_DT_STRING || !real_dtype(values->dtype))
        return pl_error(PL_INVALID_ARGUMENT, "ScalarSummary takes string tags and real values");
    if (!pl_tensor_same_shape(tags, values)) {
        const pl_str *t0 = tags->data;
        return pl_error(PL_INVALID_ARGUMENT, "tags and values are not the same shape: %s != %s%s%.*s%s",
                        pl_shape_str(tags->rank, tags->dims, s1, sizeof s1),
                        pl_shape_str(values->rank, values->dims, s2, sizeof s2), tags->count == 1 ? " (tag '" : "",
                        tags->count == 1 ? (int)t0[0].len : 0, tags->count == 1 ? t0[0].data : "",
                        tags->count == 1 ? "')" : "");
    }
    pbuf out = {0};
    const pl_str *t = tags->data;
    for (int64_t i = 0; i < tags->count; i++) {
        pbuf v = {0};
        put_len_field(&v, 1, t[i].data, t[i].len);
        float f = (float)value_at(values, i);
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        put_tag(&v, 2, 5);
        put_le(&v, bits, 4);
        out.failed |= v.failed;
        put_len_field(&out, 1, v.data, v.len);
        free(v.data);
    }
    return string_output(c, &out);
}

/* ---- HistogramSummary ---- */

static double *default_limits;
static int num_default_limits;
static pthread_once_t limits_once = PTHREAD_ONCE_INIT;

/* histogram.cc InitDefaultBuckets: -DBL_MAX, -(1e20 ...), ..., -1e-12, 0, 1e-12, ..., DBL_MAX. */
static void init_limits(void) {
    int n = 0;
    for (double v = 1.0e-12; v < 1.0e20; v *= 1.1) n++;
    double *l = malloc(sizeof *l * (size_t)(2 * n + 3));
    if (!l) return;
    int k = 0;
    l[k++] = -DBL_MAX;
    double *pos = l + n + 2;
    int j = 0;
    for (double v = 1.0e-12; v < 1.0e20; v *= 1.1) pos[j++] = v;
    for (int i = n - 1; i >= 0; i--) l[k++] = -pos[i];
    l[k++] = 0.0;
    k += n;
    l[k++] = DBL_MAX;
    default_limits = l;
    num_default_limits = k;
}

static pl_status histogram_summary_compute(pl_kernel_ctx *c) {
    const pl_tensor *tags = c->inputs[0], *values = c->inputs[1];
    if (tags->dtype != PL_DT_STRING || tags->rank != 0) return pl_error(PL_INVALID_ARGUMENT, "tags must be scalar");
    if (!real_dtype(values->dtype)) return pl_error(PL_INVALID_ARGUMENT, "HistogramSummary takes real values");
    pthread_once(&limits_once, init_limits);
    if (!default_limits) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    int nb = num_default_limits;
    double *buckets = calloc((size_t)nb, sizeof *buckets);
    if (!buckets) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    double mn = DBL_MAX, mx = -DBL_MAX, num = 0, sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < values->count; i++) {
        double v = value_at(values, i);
        if (isnan(v) || isinf(v)) {
            free(buckets);
            return pl_error(PL_INVALID_ARGUMENT, "%s in summary histogram for: %s", isnan(v) ? "Nan" : "Infinity",
                            c->node_name);
        }
        int lo = 0, hi = nb; /* upper_bound: first limit > v */
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (default_limits[mid] > v) hi = mid;
            else lo = mid + 1;
        }
        buckets[lo] += 1.0;
        if (mn > v) mn = v;
        if (mx < v) mx = v;
        num++;
        sum += v;
        sum_sq += v * v;
    }
    /* EncodeToProto without zero buckets: a run of empty buckets keeps its last limit. */
    double *out_limits = malloc(sizeof *out_limits * (size_t)nb), *out_counts = malloc(sizeof *out_counts * (size_t)nb);
    size_t m = 0;
    if (out_limits && out_counts) {
        for (int i = 0; i < nb;) {
            double end = default_limits[i], count = buckets[i];
            i++;
            if (count <= 0.0)
                while (i < nb && buckets[i] <= 0.0) {
                    end = default_limits[i];
                    count = buckets[i];
                    i++;
                }
            out_limits[m] = end;
            out_counts[m] = count;
            m++;
        }
    }
    pbuf h = {0}, v = {0}, s = {0};
    h.failed = !out_limits || !out_counts;
    put_double_field(&h, 1, mn);
    put_double_field(&h, 2, mx);
    put_double_field(&h, 3, num);
    put_double_field(&h, 4, sum);
    put_double_field(&h, 5, sum_sq);
    put_packed_doubles(&h, 6, out_limits, m);
    put_packed_doubles(&h, 7, out_counts, m);
    const pl_str *tag = tags->data;
    put_len_field(&v, 1, tag->data, tag->len);
    put_len_field(&v, 5, h.data, h.len);
    put_len_field(&s, 1, v.data, v.len);
    s.failed |= h.failed | v.failed;
    free(h.data);
    free(v.data);
    free(out_limits);
    free(out_counts);
    free(buckets);
    return string_output(c, &s);
}

const pl_kernel_def pl_kernels_summary[] = {
    {.op = "ScalarSummary", .compute = scalar_summary_compute},
    {.op = "HistogramSummary", .compute = histogram_summary_compute},
    {0},
};
