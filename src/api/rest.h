/* The REST server: TensorFlow Serving's HTTP/REST API on --rest_api_port
 * (spec/tfs-api.md 1c), its Prometheus endpoint (1g), and the KServe v2
 * health routes for Kubernetes probes (2). docs/rest.md describes the routes.
 *
 *     pl_rest_options opt;
 *     pl_rest_options_init(&opt);
 *     opt.port = 8501;
 *     PL_TRY(pl_rest_read_monitoring_config("/etc/monitoring.txt", &opt));
 *     pl_rest_server *r;
 *     PL_TRY(pl_rest_start(serving, &opt, &r));
 *     ...
 *     pl_rest_stop(r);   // finishes the requests in flight
 *
 * Requests run on the HTTP server's threads (api/http.h); each /v1 call
 * records TF Serving's request_count and request_latency metrics. */
#ifndef PL_API_REST_H
#define PL_API_REST_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "serving/serving.h"

typedef struct pl_rest_options {
    int port;                  /* --rest_api_port; 0 here means any free port */
    int num_threads;           /* --rest_api_num_threads; <= 0: 4 per CPU */
    int timeout_in_ms;         /* --rest_api_timeout_in_ms; <= 0: none */
    bool enable_cors;          /* --rest_api_enable_cors_support */
    uint64_t max_body_bytes;   /* --rest_api_max_body_bytes: 413 beyond it */
    bool loopback_only;        /* listen on 127.0.0.1 only */
    bool prometheus_enable;    /* MonitoringConfig.prometheus_config.enable */
    const char *prometheus_path;  /* its path; NULL or "": "/monitoring/prometheus/metrics" */
    char *owned;               /* what pl_rest_read_monitoring_config allocated */
} pl_rest_options;

/* TF Serving's defaults: 30 s timeout, 4 threads per CPU, no CORS, no
 * Prometheus; bodies up to INT32_MAX bytes (TF Serving's gRPC message limit). */
void pl_rest_options_init(pl_rest_options *opt);

#define PL_PROMETHEUS_DEFAULT_PATH "/monitoring/prometheus/metrics"

/* Reads a text-format tensorflow.serving.MonitoringConfig
 * (--monitoring_config_file) into opt->prometheus_*. The path string is
 * allocated; pl_rest_options_deinit frees it (pl_rest_start keeps a copy). */
pl_status pl_rest_read_monitoring_config(const char *path, pl_rest_options *opt);
void pl_rest_options_deinit(pl_rest_options *opt);

typedef struct pl_rest_server pl_rest_server;

pl_status pl_rest_start(pl_serving *serving, const pl_rest_options *opt, pl_rest_server **out);
int pl_rest_port(const pl_rest_server *r);
/* Stops accepting, lets the requests in flight finish, frees everything. */
void pl_rest_stop(pl_rest_server *r);

#endif
