/* What the metrics files share: the registry and metric structs (metrics.c
 * owns them, metrics_text.c prints them). */
#ifndef PL_SERVING_METRICS_INTERNAL_H
#define PL_SERVING_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/map.h"
#include "serving/metrics.h"

/* One tuple of label values and its value. Cells are never freed before
 * their registry, so a pointer to one stays valid without a lock. */
typedef struct pl__metric_cell {
    char **values;                /* num_labels strings */
    _Atomic int64_t value;        /* counter or gauge; a histogram's sample count */
    _Atomic uint64_t sum_bits;    /* histogram: the sum of samples, as a double's bits */
    _Atomic int64_t *buckets;     /* histogram: num_buckets counts */
} pl__metric_cell;

struct pl_metric {
    char *name;
    char *help;
    pl_metric_kind kind;
    int num_labels;
    char *labels[PL_METRIC_MAX_LABELS];
    int num_buckets;              /* histogram: limits given + the DBL_MAX one */
    double *limits;               /* num_buckets upper bounds, the last DBL_MAX */
    pthread_rwlock_t lock;        /* guards cells and list, not the values */
    pl_map cells;                 /* encoded label tuple -> pl__metric_cell* */
    pl__metric_cell **list;       /* every cell, in creation order */
    int num_cells, cap_cells;
    atomic_bool warned_full;      /* the "too many cells" warning was logged */
};

struct pl_metrics {
    pthread_mutex_t lock;         /* guards the list of metrics */
    pl_metric **list;
    int num, cap;
};

/* A histogram's sum of samples. */
static inline double pl__metric_cell_sum(const pl__metric_cell *c) {
    uint64_t bits = atomic_load_explicit(&((pl__metric_cell *)c)->sum_bits, memory_order_relaxed);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

#endif
