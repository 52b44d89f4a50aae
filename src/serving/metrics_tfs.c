/* TensorFlow Serving's request metrics (servables/tensorflow/util.cc,
 * core/request_logger.cc, machine_learning_metadata.cc) on the process-wide
 * registry: the same names, help texts, labels and buckets, so
 * dashboards built for TF Serving read plinth unchanged (spec/tfs-api.md 1g). */
#include <pthread.h>
#include <stdlib.h>

#include "serving/metrics.h"

static pl_metrics *default_registry;
static pl_metric *request_count, *request_latency, *runtime_latency, *example_counts, *example_count_total;
static pl_metric *load_attempt_count, *load_latency;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void create_default(void) {
    pl_metrics *r = pl_metrics_new();
    if (!r) return;
    static const char *const count_labels[] = {"model_name", "status"};
    request_count = pl_metrics_counter(r, "/tensorflow/serving/request_count", "The total number of requests.", 2,
                                       count_labels);

    /* Scale of 10, power of 1.8 with bucket count 33 (~20 minutes). */
    double latency_buckets[33];
    pl_metrics_exponential_buckets(10, 1.8, 33, latency_buckets);
    static const char *const request_labels[] = {"model_name", "API", "entrypoint"};
    request_latency = pl_metrics_histogram(
        r, "/tensorflow/serving/request_latency",
        "Distribution of wall time (in microseconds) for Tensorflow Serving request.", 3, request_labels, 33,
        latency_buckets);
    static const char *const runtime_labels[] = {"model_name", "API", "runtime"};
    runtime_latency = pl_metrics_histogram(r, "/tensorflow/serving/runtime_latency",
                                           "Distribution of wall time (in microseconds) for Tensorflow runtime.",
                                           3, runtime_labels, 33, latency_buckets);

    /* 15 buckets [1, 2, 4, ..., 16 * 1024] and the last one up to DBL_MAX. */
    double example_buckets[15];
    pl_metrics_exponential_buckets(1, 2, 15, example_buckets);
    static const char *const model_label[] = {"model"};
    example_counts = pl_metrics_histogram(r, "/tensorflow/serving/request_example_counts",
                                          "The number of tensorflow.Examples per request.", 1, model_label, 15,
                                          example_buckets);
    example_count_total = pl_metrics_counter(r, "/tensorflow/serving/request_example_count_total",
                                             "The total number of tensorflow.Examples.", 1, model_label);

    static const char *const log_labels[] = {"model_name", "status_code"};
    pl_metrics_counter(r, "/tensorflow/serving/request_log_count",
                       "The total number of requests logged from the model server sliced down by model_name and "
                       "status code.",
                       2, log_labels);
    static const char *const mlmd_labels[] = {"model_name", "version"};
    pl_metrics_gauge(r, "/tensorflow/serving/mlmd_map", "Mapping for ML Metadata UUID to model_name and version.", 2,
                     mlmd_labels);

    /* Defined where they are recorded (batch_session.c, warmup.c) and
     * registered here too, with the same names, labels and buckets, so that
     * the page lists them from the start as TF Serving's does (its metrics
     * are static objects, registered when the process starts). A later
     * registration with the same kind and labels returns these. The TFRT
     * runtime's batching metric is listed without ever being recorded:
     * plinth has no TFRT runtime. */
    double queue_buckets[52];
    pl_metrics_exponential_buckets(100, 1.2, 52, queue_buckets);
    static const char *const pool_label[] = {"thread_pool_name"};
    pl_metrics_histogram(r, "/tensorflow/serving/batching_session/queuing_latency",
                         "Distribution of wall time spent (in microseconds) in queuing", 1, pool_label, 52,
                         queue_buckets);
    pl_metrics_counter(r, "/tensorflow/serving/batching_session/wrapped_run_count",
                       "Total count of run calls on the wrapped session", 0, NULL);
    pl_metrics_histogram(r, "/tensorflow/serving/saved_model_with_batching/queuing_latency",
                         "Distribution of wall time spent (in microseconds) in queuing", 0, NULL, 52, queue_buckets);
    static const char *const warmup_labels[] = {"model_path", "status"};
    pl_metrics_histogram(r, "/tensorflow/serving/model_warmup_latency",
                         "Distribution of wall time (in microseconds) for warming up the model.", 2, warmup_labels,
                         33, latency_buckets);
    pl_metrics_counter(r, "/tensorflow/serving/model_warmup_records_read",
                       "Total number of warmup records read during model warmup.", 2, warmup_labels);

    /* TensorFlow's SavedModel loader (cc/saved_model/loader.cc). */
    static const char *const load_labels[] = {"model_path", "status"};
    load_attempt_count = pl_metrics_counter(r, "/tensorflow/cc/saved_model/load_attempt_count",
                                            "The number of times a SavedModel was successfully loaded.", 2,
                                            load_labels);
    static const char *const path_label[] = {"model_path"};
    load_latency = pl_metrics_counter(r, "/tensorflow/cc/saved_model/load_latency",
                                      "Latency in microseconds for SavedModels that were successfully loaded.", 1,
                                      path_label);
    default_registry = r;
}

pl_metrics *pl_metrics_default(void) {
    pthread_once(&once, create_default);
    return default_registry;
}

void pl_metrics_record_request_count(const char *model_name, pl_code code) {
    pl_metrics_default();
    const char *values[] = {model_name ? model_name : "", pl_code_name(code)};
    pl_metric_add(request_count, values, 1);
}

void pl_metrics_record_request_latency(const char *model_name, const char *api, const char *entrypoint,
                                       int64_t usec) {
    pl_metrics_default();
    const char *values[] = {model_name ? model_name : "", api ? api : "", entrypoint ? entrypoint : ""};
    pl_metric_observe(request_latency, values, (double)usec);
}

void pl_metrics_record_runtime_latency(const char *model_name, const char *api, const char *runtime,
                                       int64_t usec) {
    pl_metrics_default();
    const char *values[] = {model_name ? model_name : "", api ? api : "", runtime ? runtime : ""};
    pl_metric_observe(runtime_latency, values, (double)usec);
}

void pl_metrics_record_example_count(const char *model_name, int64_t count) {
    pl_metrics_default();
    const char *values[] = {model_name ? model_name : ""};
    pl_metric_observe(example_counts, values, (double)count);
    pl_metric_add(example_count_total, values, count);
}

void pl_metrics_record_saved_model_load(const char *export_dir, bool ok, int64_t usec) {
    pl_metrics_default();
    const char *path = export_dir ? export_dir : "";
    const char *values[] = {path, ok ? "success" : "fail"};
    pl_metric_add(load_attempt_count, values, 1);
    pl_metric_add(load_latency, &path, usec > 0 ? usec : 0);
}
