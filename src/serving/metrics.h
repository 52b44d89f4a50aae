/* Metrics: a registry of labelled counters, gauges and histograms, TensorFlow
 * Serving's request metrics on it, and the Prometheus text page that TF
 * Serving's PrometheusExporter writes (spec/tfs-api.md 1g).
 *
 *     pl_metrics *r = pl_metrics_default();
 *     const char *labels[] = {"model_name", "status"};
 *     pl_metric *m = pl_metrics_counter(r, "/tensorflow/serving/request_count",
 *                                       "The total number of requests.", 2, labels);
 *     const char *values[] = {"default", "OK"};
 *     pl_metric_add(m, values, 1);
 *     pl_strbuf page;
 *     pl_strbuf_init(&page, 0);
 *     pl_metrics_prometheus(r, &page);
 *     // # TYPE :tensorflow:serving:request_count counter
 *     // :tensorflow:serving:request_count{model_name="default",status="OK"} 1
 *
 * A metric is a set of cells, one per distinct tuple of label values; cells
 * are created on first use and live as long as the registry (as in TF's
 * monitoring library). Label values can come from clients (a model name in a
 * URL), so each metric holds at most PL_METRIC_MAX_CELLS cells: updates to
 * further tuples are dropped, with one warning in the log.
 *
 * Threads: everything may be called from any thread. An update takes a read
 * lock to find its cell and then only atomic operations; creating a cell takes
 * the metric's write lock once. */
#ifndef PL_SERVING_METRICS_H
#define PL_SERVING_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "base/strbuf.h"

#define PL_METRIC_MAX_LABELS 4
#define PL_METRIC_MAX_CELLS 10000

typedef enum pl_metric_kind {
    PL_METRIC_COUNTER,    /* Prometheus "counter": TF's Counter (cumulative int64) */
    PL_METRIC_GAUGE,      /* Prometheus "gauge": TF's int64 Gauge */
    PL_METRIC_HISTOGRAM,  /* Prometheus "histogram": TF's Sampler */
} pl_metric_kind;

typedef struct pl_metrics pl_metrics;
typedef struct pl_metric pl_metric;

pl_metrics *pl_metrics_new(void);     /* NULL when out of memory */
void pl_metrics_free(pl_metrics *r);  /* NULL is fine */

/* The process-wide registry that serving, gRPC and REST record into and the
 * Prometheus endpoint shows; TF Serving's metrics (below) are registered on
 * it. Never NULL once created; created on the first call. */
pl_metrics *pl_metrics_default(void);

/* Registers a metric, or returns the one already registered under `name`
 * when it has the same kind and labels. NULL on a mismatch or when out of
 * memory. `name` is TF's path-like name ("/tensorflow/serving/request_count");
 * the Prometheus page mangles it. Strings are copied. */
pl_metric *pl_metrics_counter(pl_metrics *r, const char *name, const char *help, int num_labels,
                              const char *const *label_names);
pl_metric *pl_metrics_gauge(pl_metrics *r, const char *name, const char *help, int num_labels,
                            const char *const *label_names);
/* `limits` are the increasing upper bounds of the buckets, as TF's
 * Buckets::Explicit; a last bucket up to DBL_MAX is added, as TF does. */
pl_metric *pl_metrics_histogram(pl_metrics *r, const char *name, const char *help, int num_labels,
                                const char *const *label_names, int num_limits, const double *limits);
pl_metric *pl_metrics_find(pl_metrics *r, const char *name);

/* TF's Buckets::Exponential(scale, growth, count): scale * growth^i. */
void pl_metrics_exponential_buckets(double scale, double growth, int count, double *limits);

/* Updates; `values` holds one string per label, in registration order.
 * A call on a metric of another kind does nothing. */
void pl_metric_add(pl_metric *m, const char *const *values, int64_t delta);       /* counter */
void pl_metric_set(pl_metric *m, const char *const *values, int64_t value);       /* gauge */
void pl_metric_observe(pl_metric *m, const char *const *values, double sample);   /* histogram */

/* Reads a counter or gauge cell (0 when it does not exist), or a
 * histogram's sample count. */
int64_t pl_metric_value(pl_metric *m, const char *const *values);

/* The value of the metric's first cell in label order, as TF's
 * CollectMetrics reports a metric's first point (metrics_point.c); 0 for a
 * histogram or a metric without cells. */
int64_t pl_metric_first_value(pl_metric *m);

/* Appends the Prometheus page: metrics sorted by name, cells by label values,
 * "# TYPE" lines, histograms as _bucket{le=...} / _sum / _count, exactly as TF
 * Serving's PrometheusExporter::GeneratePage writes them. */
pl_status pl_metrics_prometheus(pl_metrics *r, pl_strbuf *out);

/* ---- TensorFlow Serving's metrics (servables/tensorflow/util.cc), on the default registry ---- */

/* Also registered, so that the page lists every metric TF Serving lists:
 * /tensorflow/serving/request_log_count{model_name, status_code} (counts
 * requests handed to a model's request logger; TF Serving's open-source build
 * has no log collector to configure, so it stays without samples) and
 * /tensorflow/serving/mlmd_map{model_name, version} (set only with session
 * metadata enabled, which tensorflow_model_server leaves off). */

#define PL_ENTRYPOINT_GRPC "GRPC"
#define PL_ENTRYPOINT_REST "REST"

/* /tensorflow/serving/request_count{model_name, status}: every call, with
 * its status code name ("OK", "NOT_FOUND", ...). */
void pl_metrics_record_request_count(const char *model_name, pl_code code);
/* /tensorflow/serving/request_latency{model_name, API, entrypoint} in µs:
 * successful calls. API is "Predict"/"Classify"/"Regress" for gRPC and the
 * REST method ("predict", "classify", "regress", "" for GETs). */
void pl_metrics_record_request_latency(const char *model_name, const char *api, const char *entrypoint,
                                       int64_t usec);
/* /tensorflow/serving/runtime_latency{model_name, API, runtime} in µs: the
 * time a successful Predict, Classify or Regress spends running the model
 * (with batching: waiting in the queue too), from gRPC and REST alike. API is
 * "Predict"/"Classify"/"Regress"; runtime is PL_RUNTIME_TF1, the label TF
 * Serving gives its Session-based runtime. */
#define PL_RUNTIME_TF1 "TF1"
void pl_metrics_record_runtime_latency(const char *model_name, const char *api, const char *runtime,
                                       int64_t usec);
/* /tensorflow/serving/request_example_counts and ..._count_total{model}: the
 * examples of a MultiInference whose run succeeded (TF Serving counts them
 * there only, not for Classify or Regress). */
void pl_metrics_record_example_count(const char *model_name, int64_t count);

/* TensorFlow's /tensorflow/cc/saved_model/load_attempt_count{model_path,
 * status} ("success" or "fail") and load_latency{model_path} (µs, summed,
 * failed loads included): one SavedModel load attempt of a version
 * directory. */
void pl_metrics_record_saved_model_load(const char *export_dir, bool ok, int64_t usec);

#endif
