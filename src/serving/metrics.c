/* The metrics registry: registering metrics, finding or creating the cell of a
 * label tuple, and atomic updates of its value. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "serving/metrics_internal.h"

pl_metrics *pl_metrics_new(void) {
    pl_metrics *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

static void cell_free(pl__metric_cell *c, int num_labels) {
    if (!c) return;
    for (int i = 0; i < num_labels; i++) free(c->values[i]);
    free(c->values);
    free((void *)c->buckets);
    free(c);
}

static void metric_free(pl_metric *m) {
    if (!m) return;
    for (int i = 0; i < m->num_cells; i++) cell_free(m->list[i], m->num_labels);
    free(m->list);
    pl_map_deinit(&m->cells);
    pthread_rwlock_destroy(&m->lock);
    for (int i = 0; i < m->num_labels; i++) free(m->labels[i]);
    free(m->limits);
    free(m->name);
    free(m->help);
    free(m);
}

void pl_metrics_free(pl_metrics *r) {
    if (!r) return;
    for (int i = 0; i < r->num; i++) metric_free(r->list[i]);
    free(r->list);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static pl_metric *find_locked(pl_metrics *r, const char *name) {
    for (int i = 0; i < r->num; i++)
        if (!strcmp(r->list[i]->name, name)) return r->list[i];
    return NULL;
}

pl_metric *pl_metrics_find(pl_metrics *r, const char *name) {
    pthread_mutex_lock(&r->lock);
    pl_metric *m = find_locked(r, name);
    pthread_mutex_unlock(&r->lock);
    return m;
}

static bool same_shape(const pl_metric *m, pl_metric_kind kind, int num_labels, const char *const *labels,
                       int num_limits, const double *limits) {
    if (m->kind != kind || m->num_labels != num_labels) return false;
    for (int i = 0; i < num_labels; i++)
        if (strcmp(m->labels[i], labels[i])) return false;
    if (kind != PL_METRIC_HISTOGRAM) return true;
    if (m->num_buckets != num_limits + 1) return false;
    for (int i = 0; i < num_limits; i++)
        if (m->limits[i] != limits[i]) return false;
    return true;
}

static pl_metric *metric_new(const char *name, const char *help, pl_metric_kind kind, int num_labels,
                             const char *const *labels, int num_limits, const double *limits) {
    pl_metric *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->kind = kind;
    m->num_labels = num_labels;
    pthread_rwlock_init(&m->lock, NULL);
    pl_map_init(&m->cells, &pl_map_type_str);
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    bool ok = m->name && m->help;
    for (int i = 0; i < num_labels; i++) ok = ok && (m->labels[i] = strdup(labels[i]));
    if (kind == PL_METRIC_HISTOGRAM) {
        m->num_buckets = num_limits + 1;
        m->limits = malloc(sizeof *m->limits * (size_t)m->num_buckets);
        if (m->limits) {
            memcpy(m->limits, limits, sizeof *limits * (size_t)num_limits);
            m->limits[num_limits] = DBL_MAX;
        }
        ok = ok && m->limits;
    }
    if (!ok) {
        metric_free(m);
        return NULL;
    }
    return m;
}

static pl_metric *metrics_register(pl_metrics *r, const char *name, const char *help, pl_metric_kind kind,
                                   int num_labels, const char *const *labels, int num_limits,
                                   const double *limits) {
    if (!r || !name || num_labels < 0 || num_labels > PL_METRIC_MAX_LABELS || num_limits < 0) return NULL;
    for (int i = 1; i < num_limits; i++)
        if (!(limits[i] > limits[i - 1])) return NULL;
    pthread_mutex_lock(&r->lock);
    pl_metric *m = find_locked(r, name);
    if (m) {
        if (!same_shape(m, kind, num_labels, labels, num_limits, limits)) m = NULL;
        pthread_mutex_unlock(&r->lock);
        return m;
    }
    if (r->num == r->cap) {
        int ncap = r->cap ? 2 * r->cap : 16;
        pl_metric **nl = realloc(r->list, sizeof *nl * (size_t)ncap);
        if (!nl) {
            pthread_mutex_unlock(&r->lock);
            return NULL;
        }
        r->list = nl;
        r->cap = ncap;
    }
    m = metric_new(name, help, kind, num_labels, labels, num_limits, limits);
    if (m) r->list[r->num++] = m;
    pthread_mutex_unlock(&r->lock);
    return m;
}

pl_metric *pl_metrics_counter(pl_metrics *r, const char *name, const char *help, int num_labels,
                              const char *const *label_names) {
    return metrics_register(r, name, help, PL_METRIC_COUNTER, num_labels, label_names, 0, NULL);
}

pl_metric *pl_metrics_gauge(pl_metrics *r, const char *name, const char *help, int num_labels,
                            const char *const *label_names) {
    return metrics_register(r, name, help, PL_METRIC_GAUGE, num_labels, label_names, 0, NULL);
}

pl_metric *pl_metrics_histogram(pl_metrics *r, const char *name, const char *help, int num_labels,
                                const char *const *label_names, int num_limits, const double *limits) {
    return metrics_register(r, name, help, PL_METRIC_HISTOGRAM, num_labels, label_names, num_limits, limits);
}

void pl_metrics_exponential_buckets(double scale, double growth, int count, double *limits) {
    double bound = scale;
    for (int i = 0; i < count; i++) {
        limits[i] = bound;
        bound *= growth;
    }
}

/* ---- cells ---- */

/* The map key of a label tuple: each value as "<length>:<bytes>", so no
 * value can run into the next. Written into buf (cap bytes) when it fits, so
 * the common update allocates nothing; otherwise into a new malloc'd string.
 * NULL when out of memory. */
static char *encode_key(const pl_metric *m, const char *const *values, char *buf, size_t cap) {
    size_t n = 1;
    for (int i = 0; i < m->num_labels; i++) n += strlen(values[i] ? values[i] : "") + 24;
    char *key = n <= cap ? buf : malloc(n), *p = key;
    if (!key) return NULL;
    for (int i = 0; i < m->num_labels; i++) {
        const char *v = values[i] ? values[i] : "";
        size_t len = strlen(v);
        p += sprintf(p, "%zu:", len);
        memcpy(p, v, len);
        p += len;
    }
    *p = 0;
    return key;
}

static pl__metric_cell *cell_new(const pl_metric *m, const char *const *values) {
    pl__metric_cell *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->values = calloc((size_t)m->num_labels + 1, sizeof *c->values);
    bool ok = c->values != NULL;
    for (int i = 0; ok && i < m->num_labels; i++) ok = (c->values[i] = strdup(values[i] ? values[i] : ""));
    if (ok && m->kind == PL_METRIC_HISTOGRAM) {
        c->buckets = calloc((size_t)m->num_buckets, sizeof *c->buckets);
        ok = c->buckets != NULL;
    }
    if (!ok) {
        if (c->values)
            for (int i = 0; i < m->num_labels; i++) free(c->values[i]);
        free(c->values);
        free((void *)c->buckets);
        free(c);
        return NULL;
    }
    return c;
}

/* The cell of `values`, created when `create` is set; NULL when absent, out
 * of memory, or the metric is full. */
static pl__metric_cell *cell_get(pl_metric *m, const char *const *values, bool create) {
    char buf[256];
    char *key = encode_key(m, values, buf, sizeof buf);
    if (!key) return NULL;
    pthread_rwlock_rdlock(&m->lock);
    pl__metric_cell *c = pl_map_find(&m->cells, key);
    pthread_rwlock_unlock(&m->lock);
    if (c || !create) {
        if (key != buf) free(key);
        return c;
    }
    pthread_rwlock_wrlock(&m->lock);
    c = pl_map_find(&m->cells, key);  /* another thread may have made it meanwhile */
    if (!c && m->num_cells >= PL_METRIC_MAX_CELLS) {
        if (!atomic_exchange(&m->warned_full, true))
            pl_log_warning("metric %s has %d label combinations; further ones are not recorded", m->name,
                           PL_METRIC_MAX_CELLS);
    } else if (!c && (c = cell_new(m, values))) {
        if (m->num_cells == m->cap_cells) {
            int ncap = m->cap_cells ? 2 * m->cap_cells : 8;
            pl__metric_cell **nl = realloc(m->list, sizeof *nl * (size_t)ncap);
            if (nl) {
                m->list = nl;
                m->cap_cells = ncap;
            }
        }
        pl_status st = m->num_cells < m->cap_cells ? pl_map_put(&m->cells, key, c)
                                                   : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        if (st) {
            pl_status_free(st);
            cell_free(c, m->num_labels);
            c = NULL;
        } else {
            m->list[m->num_cells++] = c;
        }
    }
    pthread_rwlock_unlock(&m->lock);
    if (key != buf) free(key);
    return c;
}

void pl_metric_add(pl_metric *m, const char *const *values, int64_t delta) {
    if (!m || m->kind != PL_METRIC_COUNTER) return;
    pl__metric_cell *c = cell_get(m, values, true);
    if (c) atomic_fetch_add_explicit(&c->value, delta, memory_order_relaxed);
}

void pl_metric_set(pl_metric *m, const char *const *values, int64_t value) {
    if (!m || m->kind != PL_METRIC_GAUGE) return;
    pl__metric_cell *c = cell_get(m, values, true);
    if (c) atomic_store_explicit(&c->value, value, memory_order_relaxed);
}

/* TF's Histogram::Add: the first bucket whose limit is above the sample; the
 * last bucket takes everything else (DBL_MAX, infinities). */
static int bucket_of(const pl_metric *m, double sample) {
    int lo = 0, hi = m->num_buckets;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (m->limits[mid] > sample) hi = mid;
        else lo = mid + 1;
    }
    return lo < m->num_buckets ? lo : m->num_buckets - 1;
}

void pl_metric_observe(pl_metric *m, const char *const *values, double sample) {
    if (!m || m->kind != PL_METRIC_HISTOGRAM) return;
    pl__metric_cell *c = cell_get(m, values, true);
    if (!c) return;
    atomic_fetch_add_explicit(&c->buckets[bucket_of(m, sample)], 1, memory_order_relaxed);
    uint64_t old = atomic_load_explicit(&c->sum_bits, memory_order_relaxed), next;
    do {
        double d;
        memcpy(&d, &old, sizeof d);
        d += sample;
        memcpy(&next, &d, sizeof next);
    } while (!atomic_compare_exchange_weak_explicit(&c->sum_bits, &old, next, memory_order_relaxed,
                                                    memory_order_relaxed));
    atomic_fetch_add_explicit(&c->value, 1, memory_order_relaxed);
}

int64_t pl_metric_value(pl_metric *m, const char *const *values) {
    if (!m) return 0;
    pl__metric_cell *c = cell_get(m, values, false);
    return c ? atomic_load_explicit(&c->value, memory_order_relaxed) : 0;
}
