/* Metrics registry and Prometheus page: exact text for hand-computed
 * counters and histograms (TF Serving's PrometheusExporter layout), TF's
 * bucket rule, label escaping, the cell cap, and concurrent updates. */
#include <float.h>
#include <math.h>
#include <pthread.h>

#include "check.h"
#include "serving/metrics.h"

static char *page_of(pl_metrics *r) {
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    CHECK_OK(pl_metrics_prometheus(r, &b));
    return pl_strbuf_detach(&b, NULL);
}

static void test_empty_page(void) {
    pl_metrics *r = pl_metrics_new();
    char *p = page_of(r);
    CHECK_STR(p, "\n");
    free(p);
    pl_metrics_free(r);
}

static void test_counter_page(void) {
    pl_metrics *r = pl_metrics_new();
    const char *labels[] = {"model_name", "status"};
    pl_metric *c = pl_metrics_counter(r, "/tensorflow/serving/request_count", "help", 2, labels);
    CHECK(c != NULL);
    /* Registering again with the same shape finds it; another shape fails. */
    CHECK(pl_metrics_counter(r, "/tensorflow/serving/request_count", "help", 2, labels) == c);
    CHECK(pl_metrics_gauge(r, "/tensorflow/serving/request_count", "help", 2, labels) == NULL);
    CHECK(pl_metrics_counter(r, "/tensorflow/serving/request_count", "help", 1, labels) == NULL);
    CHECK(pl_metrics_find(r, "/tensorflow/serving/request_count") == c);
    CHECK(pl_metrics_find(r, "/nope") == NULL);

    const char *ok[] = {"default", "OK"}, *nf[] = {"default", "NOT_FOUND"}, *other[] = {"a\"b\\c\nd", "OK"};
    pl_metric_add(c, ok, 1);
    pl_metric_add(c, ok, 2);
    pl_metric_add(c, nf, 1);
    pl_metric_add(c, other, 5);
    CHECK_EQ_INT(pl_metric_value(c, ok), 3);
    CHECK_EQ_INT(pl_metric_value(c, nf), 1);
    const char *absent[] = {"x", "OK"};
    CHECK_EQ_INT(pl_metric_value(c, absent), 0);

    const char *glabels[] = {"9 lives"};
    pl_metric *g = pl_metrics_gauge(r, "/a/gauge-x", "", 1, glabels);
    const char *gv[] = {"v"};
    pl_metric_set(g, gv, 7);
    pl_metric_set(g, gv, -4);
    pl_metric_add(g, gv, 100);  /* not a counter: ignored */

    char *p = page_of(r);
    /* Metrics by name ("/a..." < "/tensorflow..."), cells by label values
     * ("a\"..." < "default"; "NOT_FOUND" < "OK"). */
    CHECK_STR(p, "# TYPE :a:gauge:x gauge\n"
                 ":a:gauge:x{_9_lives=\"v\"} -4\n"
                 "# TYPE :tensorflow:serving:request_count counter\n"
                 ":tensorflow:serving:request_count{model_name=\"a\\\"b\\\\c\\nd\",status=\"OK\"} 5\n"
                 ":tensorflow:serving:request_count{model_name=\"default\",status=\"NOT_FOUND\"} 1\n"
                 ":tensorflow:serving:request_count{model_name=\"default\",status=\"OK\"} 3\n");
    free(p);
    pl_metrics_free(r);
}

static void test_histogram_page(void) {
    pl_metrics *r = pl_metrics_new();
    const char *labels[] = {"m"};
    const double limits[] = {1, 2, 4};
    pl_metric *h = pl_metrics_histogram(r, "/h", "", 1, labels, 3, limits);
    CHECK(h != NULL);
    const char *v[] = {"x"};
    /* TF's Histogram::Add puts a sample in the first bucket whose limit is
     * above it: 0.5 -> [..1), 1 -> [1,2), 1.5 -> [1,2), 2 -> [2,4), 100 ->
     * [4,DBL_MAX), and +inf into the last bucket too. */
    double samples[] = {0.5, 1, 1.5, 2, 100};
    for (int i = 0; i < 5; i++) pl_metric_observe(h, v, samples[i]);
    CHECK_EQ_INT(pl_metric_value(h, v), 5);
    char *p = page_of(r);
    CHECK_STR(p, "# TYPE :h histogram\n"
                 ":h_bucket{m=\"x\",le=\"1\"} 1\n"
                 ":h_bucket{m=\"x\",le=\"2\"} 3\n"
                 ":h_bucket{m=\"x\",le=\"4\"} 4\n"
                 ":h_bucket{m=\"x\",le=\"+Inf\"} 5\n"
                 ":h_sum{m=\"x\"} 105\n"
                 ":h_count{m=\"x\"} 5\n");
    free(p);

    /* No labels: TF still writes the braces. Large sums in %g form. */
    pl_metric *u = pl_metrics_histogram(r, "/u", "", 0, NULL, 1, limits);
    pl_metric_observe(u, NULL, 1234567.0);
    p = page_of(r);
    CHECK(strstr(p, "# TYPE :u histogram\n:u_bucket{le=\"1\"} 0\n:u_bucket{le=\"+Inf\"} 1\n"
                    ":u_sum{} 1.23457e+06\n:u_count{} 1\n") != NULL);
    free(p);
    /* Limits must increase. */
    const double bad[] = {1, 1};
    CHECK(pl_metrics_histogram(r, "/bad", "", 0, NULL, 2, bad) == NULL);
    pl_metrics_free(r);
}

static void test_exponential_buckets(void) {
    double l[33];
    pl_metrics_exponential_buckets(10, 1.8, 33, l);
    CHECK_NEAR(l[0], 10, 0);
    CHECK_NEAR(l[1], 18, 1e-12);
    CHECK_NEAR(l[2], 32.4, 1e-12);
    CHECK_NEAR(l[32], 10 * pow(1.8, 32), 1e-6 * l[32]);  /* ~1.49e9 µs, about 25 minutes */
}

static void test_tfs_metrics(void) {
    pl_metrics_record_request_count("unit_model", PL_NOT_FOUND);
    pl_metrics_record_request_count("unit_model", PL_NOT_FOUND);
    pl_metrics_record_request_latency("unit_model", "Predict", PL_ENTRYPOINT_GRPC, 25);
    pl_metrics_record_example_count("unit_model", 3);
    pl_metric *c = pl_metrics_find(pl_metrics_default(), "/tensorflow/serving/request_count");
    const char *v[] = {"unit_model", "NOT_FOUND"};
    CHECK_EQ_INT(pl_metric_value(c, v), 2);
    char *p = page_of(pl_metrics_default());
    /* 25 µs is in the third bucket [18, 32.4). */
    const char *want =
        ":tensorflow:serving:request_latency_bucket{model_name=\"unit_model\",API=\"Predict\",entrypoint=\"GRPC\","
        "le=\"18\"} 0\n"
        ":tensorflow:serving:request_latency_bucket{model_name=\"unit_model\",API=\"Predict\",entrypoint=\"GRPC\","
        "le=\"32.4\"} 1\n"
        ":tensorflow:serving:request_latency_bucket{model_name=\"unit_model\",API=\"Predict\",entrypoint=\"GRPC\","
        "le=\"58.32\"} 1\n";
    CHECK(strstr(p, want) != NULL);
    CHECK(strstr(p, "# TYPE :tensorflow:serving:request_count counter\n") != NULL);
    CHECK(strstr(p, ":tensorflow:serving:request_example_count_total{model=\"unit_model\"} 3\n") != NULL);
    CHECK(strstr(p, "# TYPE :tensorflow:serving:runtime_latency histogram\n") != NULL);
    /* 33 limits plus +Inf per cell. */
    int buckets = 0;
    for (const char *q = p; (q = strstr(q, "request_latency_bucket{model_name=\"unit_model\"")); q++) buckets++;
    CHECK_EQ_INT(buckets, 34);
    free(p);
}

static void test_cell_cap(void) {
    pl_metrics *r = pl_metrics_new();
    const char *labels[] = {"k"};
    pl_metric *c = pl_metrics_counter(r, "/c", "", 1, labels);
    char name[32];
    for (int i = 0; i < PL_METRIC_MAX_CELLS + 50; i++) {
        snprintf(name, sizeof name, "m%d", i);
        const char *v[] = {name};
        pl_metric_add(c, v, 1);
    }
    const char *first[] = {"m0"}, *last[] = {name};
    CHECK_EQ_INT(pl_metric_value(c, first), 1);
    CHECK_EQ_INT(pl_metric_value(c, last), 0);  /* dropped, not crashed */
    pl_metrics_free(r);
}

typedef struct worker_arg {
    pl_metric *c, *h;
    int id;
} worker_arg;

static void *worker(void *p) {
    worker_arg *a = p;
    char name[8];
    snprintf(name, sizeof name, "w%d", a->id % 2);
    const char *v[] = {name};
    for (int i = 0; i < 20000; i++) {
        pl_metric_add(a->c, v, 1);
        pl_metric_observe(a->h, v, 0.5);
    }
    return NULL;
}

static void test_concurrent(void) {
    pl_metrics *r = pl_metrics_new();
    const char *labels[] = {"k"};
    const double limits[] = {1};
    worker_arg args[4];
    pthread_t t[4];
    pl_metric *c = pl_metrics_counter(r, "/c", "", 1, labels), *h = pl_metrics_histogram(r, "/h", "", 1, labels, 1, limits);
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){c, h, i};
        pthread_create(&t[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    const char *w0[] = {"w0"}, *w1[] = {"w1"};
    CHECK_EQ_INT(pl_metric_value(c, w0), 40000);
    CHECK_EQ_INT(pl_metric_value(c, w1), 40000);
    CHECK_EQ_INT(pl_metric_value(h, w0), 40000);
    char *p = page_of(r);
    CHECK(strstr(p, ":h_sum{k=\"w0\"} 20000\n") != NULL);
    free(p);
    pl_metrics_free(r);
}

int main(void) {
    RUN_TEST(test_empty_page);
    RUN_TEST(test_counter_page);
    RUN_TEST(test_histogram_page);
    RUN_TEST(test_exponential_buckets);
    RUN_TEST(test_tfs_metrics);
    RUN_TEST(test_cell_cap);
    RUN_TEST(test_concurrent);
    pl_metrics_free(pl_metrics_default());
    return check_summary();
}
