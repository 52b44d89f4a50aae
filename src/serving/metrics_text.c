/* The Prometheus text page of a registry, byte for byte as TF Serving's
 * util/prometheus_exporter.cc writes it (spec/tfs-api.md 1g): metrics in name
 * order, names with every character outside [A-Za-z0-9_] turned into ':',
 * label values with '\' and '"' escaped, numbers as absl::StrCat prints them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/metrics_internal.h"
#include "base/sort.h"

/* GetPrometheusMetricName. */
static void put_name(pl_strbuf *out, const char *name) {
    if (*name >= '0' && *name <= '9') pl_strbuf_putc(out, '_');
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        pl_strbuf_putc(out, ok ? c : ':');
    }
}

/* SanatizeLabelName: [^a-zA-Z0-9] becomes '_', a leading digit gets '_'. */
static void put_label_name(pl_strbuf *out, const char *name) {
    if (*name >= '0' && *name <= '9') pl_strbuf_putc(out, '_');
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        pl_strbuf_putc(out, ok ? c : '_');
    }
}

/* SanitizeLabelValue escapes '\' and '"'. A newline is escaped too (TF
 * writes it raw, which ends the line in the middle of a sample and breaks
 * the scrape): label values can come from client URLs. */
static void put_label_value(pl_strbuf *out, const char *v) {
    for (const char *p = v; *p; p++) {
        if (*p == '\\') pl_strbuf_puts(out, "\\\\");
        else if (*p == '"') pl_strbuf_puts(out, "\\\"");
        else if (*p == '\n') pl_strbuf_puts(out, "\\n");
        else pl_strbuf_putc(out, *p);
    }
}

/* name="value",name="value" */
static void put_labels(pl_strbuf *out, const pl_metric *m, const pl__metric_cell *c) {
    for (int i = 0; i < m->num_labels; i++) {
        if (i) pl_strbuf_putc(out, ',');
        put_label_name(out, m->labels[i]);
        pl_strbuf_puts(out, "=\"");
        put_label_value(out, c->values[i]);
        pl_strbuf_putc(out, '"');
    }
}

/* absl::StrCat(double): six significant digits, as %g. */
static void put_double(pl_strbuf *out, double d) { pl_strbuf_printf(out, "%g", d); }

/* std::map order of label tuples, as TF collects the cells. */
static int cmp_cells(const void *a, const void *b, void *metric) {
    const pl__metric_cell *x = *(pl__metric_cell *const *)a, *y = *(pl__metric_cell *const *)b;
    const pl_metric *m = metric;
    for (int i = 0; i < m->num_labels; i++) {
        int c = strcmp(x->values[i], y->values[i]);
        if (c) return c;
    }
    return 0;
}

static int cmp_metrics(const void *a, const void *b) {
    return strcmp((*(pl_metric *const *)a)->name, (*(pl_metric *const *)b)->name);
}

static void put_histogram_cell(pl_strbuf *out, const pl_metric *m, const pl__metric_cell *c) {
    int64_t cumulative = 0;
    for (int i = 0; i < m->num_buckets; i++) {
        cumulative += atomic_load_explicit(&((pl__metric_cell *)c)->buckets[i], memory_order_relaxed);
        put_name(out, m->name);
        pl_strbuf_puts(out, "_bucket{");
        put_labels(out, m, c);
        if (m->num_labels) pl_strbuf_putc(out, ',');
        pl_strbuf_puts(out, "le=\"");
        if (i < m->num_buckets - 1) put_double(out, m->limits[i]);
        else pl_strbuf_puts(out, "+Inf");
        pl_strbuf_printf(out, "\"} %lld\n", (long long)cumulative);
    }
    put_name(out, m->name);
    pl_strbuf_puts(out, "_sum{");
    put_labels(out, m, c);
    pl_strbuf_puts(out, "} ");
    put_double(out, pl__metric_cell_sum(c));
    pl_strbuf_putc(out, '\n');
    put_name(out, m->name);
    pl_strbuf_puts(out, "_count{");
    put_labels(out, m, c);
    pl_strbuf_printf(out, "} %lld\n", (long long)cumulative);
}

static void put_metric(pl_strbuf *out, pl_metric *m) {
    static const char *const types[] = {"counter", "gauge", "histogram"};
    pl_strbuf_puts(out, "# TYPE ");
    put_name(out, m->name);
    pl_strbuf_printf(out, " %s\n", types[m->kind]);

    /* Cells are only ever added, so a copy of the list taken under the lock
     * can be printed without it. */
    pthread_rwlock_rdlock(&m->lock);
    int n = m->num_cells;
    pl__metric_cell **cells = n ? malloc(sizeof *cells * (size_t)n) : NULL;
    if (cells) memcpy(cells, m->list, sizeof *cells * (size_t)n);
    pthread_rwlock_unlock(&m->lock);
    if (!cells) {
        if (n) out->failed = true;
        return;
    }
    qsort_r(cells, (size_t)n, sizeof *cells, cmp_cells, m);

    for (int i = 0; i < n; i++) {
        if (m->kind == PL_METRIC_HISTOGRAM) {
            put_histogram_cell(out, m, cells[i]);
            continue;
        }
        put_name(out, m->name);
        pl_strbuf_putc(out, '{');
        put_labels(out, m, cells[i]);
        pl_strbuf_printf(out, "} %lld\n", (long long)atomic_load_explicit(&cells[i]->value, memory_order_relaxed));
    }
    free(cells);
}

pl_status pl_metrics_prometheus(pl_metrics *r, pl_strbuf *out) {
    pthread_mutex_lock(&r->lock);
    int n = r->num;
    pl_metric **list = n ? malloc(sizeof *list * (size_t)n) : NULL;
    if (list) memcpy(list, r->list, sizeof *list * (size_t)n);
    pthread_mutex_unlock(&r->lock);
    if (n && !list) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_qsort(list, (size_t)n, sizeof *list, cmp_metrics);
    size_t start = out->len;
    for (int i = 0; i < n; i++) put_metric(out, list[i]);
    free(list);
    /* StrJoin(lines, "\n") + "\n": an empty page is one newline. */
    if (out->len == start) pl_strbuf_putc(out, '\n');
    return pl_strbuf_status(out);
}
