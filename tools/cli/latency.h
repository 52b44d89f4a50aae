/* Latency statistics for the load generator: percentiles by nearest rank and
 * a histogram with logarithmic buckets, as text or JSON. */
#ifndef PL_CLI_LATENCY_H
#define PL_CLI_LATENCY_H

#include <stddef.h>
#include <stdio.h>

#include "base/strbuf.h"

typedef struct pl_latency_summary {
    size_t count;
    double min_ms, mean_ms, p50_ms, p90_ms, p99_ms, max_ms;
} pl_latency_summary;

/* Sorts `ms` (count values) in place and summarises them; count may be 0. */
void pl_latency_summarize(double *ms, size_t count, pl_latency_summary *out);
/* The value below which p percent of the sorted samples lie (nearest rank). */
double pl_latency_percentile(const double *sorted_ms, size_t count, double p);

#define PL_LATENCY_BUCKETS 12

typedef struct pl_latency_histogram {
    int num_buckets;
    double edge_ms[PL_LATENCY_BUCKETS + 1];  /* bucket i holds [edge i, edge i+1); the last includes its end */
    size_t count[PL_LATENCY_BUCKETS];
} pl_latency_histogram;

/* Buckets the sorted samples between their min and max. */
void pl_latency_histogram_make(const double *sorted_ms, size_t count, pl_latency_histogram *out);
void pl_latency_histogram_print(FILE *f, const pl_latency_histogram *h, int bar_width);
void pl_latency_histogram_json(pl_strbuf *b, const pl_latency_histogram *h);

#endif
