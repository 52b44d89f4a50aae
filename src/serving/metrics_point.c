/* A metric read the way TensorFlow's CollectionRegistry::CollectMetrics
 * lists it to ModelService.HandleReloadConfigRequest: the int64 value of its
 * first point, where points are cells in label order (TF keeps a metric's
 * cells in a std::map keyed by the tuple of label values). */
#include <string.h>

#include "serving/metrics_internal.h"

static int cmp_values(const pl__metric_cell *a, const pl__metric_cell *b, int n) {
    for (int i = 0; i < n; i++) {
        int c = strcmp(a->values[i], b->values[i]);
        if (c) return c;
    }
    return 0;
}

int64_t pl_metric_first_value(pl_metric *m) {
    if (!m || m->kind == PL_METRIC_HISTOGRAM) return 0;
    pthread_rwlock_rdlock(&m->lock);
    const pl__metric_cell *first = NULL;
    for (int i = 0; i < m->num_cells; i++)
        if (!first || cmp_values(m->list[i], first, m->num_labels) < 0) first = m->list[i];
    int64_t v = first ? atomic_load_explicit(&((pl__metric_cell *)first)->value, memory_order_relaxed) : 0;
    pthread_rwlock_unlock(&m->lock);
    return v;
}
