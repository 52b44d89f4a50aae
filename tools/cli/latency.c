/* Percentiles and a log-bucketed histogram over request latencies. */
#include "cli/latency.h"
#include "base/sort.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pl_latency_percentile(const double *sorted_ms, size_t count, double p) {
    if (!count) return 0;
    size_t rank = (size_t)ceil(p / 100.0 * (double)count);
    if (rank < 1) rank = 1;
    if (rank > count) rank = count;
    return sorted_ms[rank - 1];
}

void pl_latency_summarize(double *ms, size_t count, pl_latency_summary *out) {
    *out = (pl_latency_summary){.count = count};
    if (!count) return;
    pl_qsort(ms, count, sizeof *ms, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += ms[i];
    out->min_ms = ms[0];
    out->max_ms = ms[count - 1];
    out->mean_ms = sum / (double)count;
    out->p50_ms = pl_latency_percentile(ms, count, 50);
    out->p90_ms = pl_latency_percentile(ms, count, 90);
    out->p99_ms = pl_latency_percentile(ms, count, 99);
}

/* Logarithmic buckets: latencies spread over orders of magnitude (a cache
 * miss, a queueing spike), and equal ratios keep both ends readable. */
void pl_latency_histogram_make(const double *sorted_ms, size_t count, pl_latency_histogram *out) {
    *out = (pl_latency_histogram){0};
    if (!count) return;
    double lo = sorted_ms[0], hi = sorted_ms[count - 1];
    if (lo <= 0) lo = 1e-3;
    if (hi <= lo) hi = lo * 1.01;
    int n = count < PL_LATENCY_BUCKETS ? (int)count : PL_LATENCY_BUCKETS;
    if (n < 1) n = 1;
    out->num_buckets = n;
    double ratio = pow(hi / lo, 1.0 / n);
    for (int i = 0; i <= n; i++) out->edge_ms[i] = lo * pow(ratio, i);
    out->edge_ms[n] = hi;
    size_t b = 0;
    for (size_t i = 0; i < count; i++) {
        while (b + 1 < (size_t)n && sorted_ms[i] >= out->edge_ms[b + 1]) b++;
        out->count[b]++;
    }
}

void pl_latency_histogram_print(FILE *f, const pl_latency_histogram *h, int bar_width) {
    size_t most = 0;
    for (int i = 0; i < h->num_buckets; i++)
        if (h->count[i] > most) most = h->count[i];
    for (int i = 0; i < h->num_buckets; i++) {
        int bar = most ? (int)((double)h->count[i] * bar_width / (double)most + 0.5) : 0;
        if (h->count[i] && !bar) bar = 1;
        fprintf(f, "    %9.2f - %9.2f ms  %-*.*s %zu\n", h->edge_ms[i], h->edge_ms[i + 1], bar_width, bar,
                "################################################################################", h->count[i]);
    }
}

void pl_latency_histogram_json(pl_strbuf *b, const pl_latency_histogram *h) {
    pl_strbuf_putc(b, '[');
    for (int i = 0; i < h->num_buckets; i++)
        pl_strbuf_printf(b, "%s{\"from_ms\": %.4f, \"to_ms\": %.4f, \"count\": %zu}", i ? ", " : "", h->edge_ms[i],
                         h->edge_ms[i + 1], h->count[i]);
    pl_strbuf_putc(b, ']');
}
