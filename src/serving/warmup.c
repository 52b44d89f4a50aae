/* Model warmup (spec 1f, saved_model_warmup_util.cc): before a version is
 * AVAILABLE, replay the requests logged in
 * <version>/assets.extra/tf_serving_warmup_requests, a TFRecord file of
 * serialized tensorflow.serving.PredictionLog. The replay goes through the
 * same code as live requests (batching included), so whatever is prepared on
 * first use is prepared before the first client arrives. Any failing record
 * fails the load. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/crc32c.h"
#include "base/file.h"
#include "base/log.h"
#include "serving/internal.h"
#include "serving/metrics.h"
#include "tensor/tensor_proto.h"
#include "tensorflow_serving/apis/prediction_log.pb-c.h"

/* WarmupConsts::kMaxNumRecords. */
#define MAX_RECORDS 1000

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

/* ---- metrics ---- */

static pl_metric *warmup_latency, *records_read;
static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;

static void metrics_init(void) {
    pl_metrics *r = pl_metrics_default();
    static const char *const labels[] = {"model_path", "status"};
    /* Scale of 10, power of 1.8 with bucket count 33 (~20 minutes). */
    double buckets[33];
    pl_metrics_exponential_buckets(10, 1.8, 33, buckets);
    warmup_latency = pl_metrics_histogram(r, "/tensorflow/serving/model_warmup_latency",
                                          "Distribution of wall time (in microseconds) for warming up the model.", 2,
                                          labels, 33, buckets);
    records_read = pl_metrics_counter(r, "/tensorflow/serving/model_warmup_records_read",
                                      "Total number of warmup records read during model warmup.", 2, labels);
}

/* ---- replaying one record ---- */

/* Serialized examples of a tensorflow.serving.Input, re-packed from the
 * decoded log; `buf` owns their bytes. */
typedef struct packed_input {
    pl_examples ex;
    pl_str *list;
    pl_str context;
    uint8_t *buf;
} packed_input;

static pl_status pack_input(const Tensorflow__Serving__Input *in, packed_input *p) {
    memset(p, 0, sizeof *p);
    size_t n = 0;
    Tensorflow__Example **examples = NULL, *context = NULL;
    if (in && in->kind_case == TENSORFLOW__SERVING__INPUT__KIND_EXAMPLE_LIST && in->example_list) {
        n = in->example_list->n_examples;
        examples = in->example_list->examples;
    } else if (in && in->kind_case == TENSORFLOW__SERVING__INPUT__KIND_EXAMPLE_LIST_WITH_CONTEXT &&
               in->example_list_with_context) {
        n = in->example_list_with_context->n_examples;
        examples = in->example_list_with_context->examples;
        context = in->example_list_with_context->context;
    }
    size_t total = context ? protobuf_c_message_get_packed_size(&context->base) : 0;
    for (size_t i = 0; i < n; i++) total += protobuf_c_message_get_packed_size(&examples[i]->base);
    p->list = calloc(n + 1, sizeof *p->list);
    p->buf = malloc(total + 1);
    if (!p->list || !p->buf) return oom();
    uint8_t *at = p->buf;
    for (size_t i = 0; i < n; i++) {
        p->list[i].data = (char *)at;
        p->list[i].len = protobuf_c_message_pack(&examples[i]->base, at);
        at += p->list[i].len;
    }
    p->ex.num = (int64_t)n;
    p->ex.examples = p->list;
    if (in && in->kind_case == TENSORFLOW__SERVING__INPUT__KIND_EXAMPLE_LIST_WITH_CONTEXT) {
        if (context) {
            p->context.data = (char *)at;
            p->context.len = protobuf_c_message_pack(&context->base, at);
        } else {
            p->context.data = (char *)at;
        }
        p->ex.context = &p->context;
    }
    return NULL;
}

static void packed_input_clear(packed_input *p) {
    free(p->list);
    free(p->buf);
}

static const char *spec_signature(const Tensorflow__Serving__ModelSpec *spec) {
    return spec && spec->signature_name ? spec->signature_name : "";
}

static pl_status replay_predict(pl_servable *sv, const Tensorflow__Serving__PredictRequest *req) {
    static const Tensorflow__Serving__PredictRequest empty = TENSORFLOW__SERVING__PREDICT_REQUEST__INIT;
    if (!req) req = &empty;
    const pl_signature *sig;
    PL_TRY(pl_serving_predict_signature(sv, spec_signature(req->model_spec), &sig));
    size_t n = req->n_inputs;
    const char **aliases = calloc(n + 1, sizeof *aliases);
    pl_tensor **inputs = calloc(n + 1, sizeof *inputs);
    pl_status st = aliases && inputs ? NULL : oom();
    for (size_t i = 0; i < n && !st; i++) {
        const Tensorflow__Serving__PredictRequest__InputsEntry *e = req->inputs[i];
        aliases[i] = e->key ? e->key : "";
        static const Tensorflow__TensorProto none = TENSORFLOW__TENSOR_PROTO__INIT;
        st = pl_tensor_from_proto(e->value ? e->value : &none, &inputs[i]);
        if (st && pl_status_code(st) == PL_INVALID_ARGUMENT) {
            pl_status_free(st);
            st = pl_error(PL_INVALID_ARGUMENT, "tensor parsing error: %s", aliases[i]);
        }
    }
    if (!st) {
        pl_predict_request preq = {
            .num_inputs = (int)n,
            .input_aliases = aliases,
            .inputs = inputs,
            .num_output_filter = (int)req->n_output_filter,
            .output_filter = (const char *const *)req->output_filter,
        };
        pl_predict_response resp;
        st = pl_serving_predict(sv, sig, NULL, &preq, &resp);
        pl_predict_response_clear(&resp);
    }
    for (size_t i = 0; inputs && i < n; i++) pl_tensor_unref(inputs[i]);
    free(aliases);
    free(inputs);
    return st;
}

static pl_status replay_classify(pl_servable *sv, const Tensorflow__Serving__ClassificationRequest *req) {
    packed_input in;
    pl_status st = pack_input(req ? req->input : NULL, &in);
    if (!st) {
        pl_classify_response resp;
        st = pl_serving_classify(sv, spec_signature(req ? req->model_spec : NULL), NULL, &in.ex, &resp);
        pl_classify_response_clear(&resp);
    }
    packed_input_clear(&in);
    return st;
}

static pl_status replay_regress(pl_servable *sv, const Tensorflow__Serving__RegressionRequest *req) {
    packed_input in;
    pl_status st = pack_input(req ? req->input : NULL, &in);
    if (!st) {
        pl_regress_response resp;
        st = pl_serving_regress(sv, spec_signature(req ? req->model_spec : NULL), NULL, &in.ex, &resp);
        pl_regress_response_clear(&resp);
    }
    packed_input_clear(&in);
    return st;
}

static pl_status replay_multi(pl_servable *sv, const Tensorflow__Serving__MultiInferenceRequest *req) {
    if (!req || req->n_tasks == 0) return pl_error(PL_INVALID_ARGUMENT, "Expected at least one task");
    size_t n = req->n_tasks;
    pl_inference_task *tasks = calloc(n, sizeof *tasks);
    pl_inference_result *results = calloc(n, sizeof *results);
    packed_input in = {0};
    pl_status st = tasks && results ? NULL : oom();
    for (size_t i = 0; i < n && !st; i++) {
        const Tensorflow__Serving__InferenceTask *t = req->tasks[i];
        tasks[i].model_name = t->model_spec && t->model_spec->name ? t->model_spec->name : "";
        tasks[i].signature_name = spec_signature(t->model_spec);
        tasks[i].method_name = t->method_name ? t->method_name : "";
    }
    if (!st) st = pack_input(req->input, &in);
    if (!st) {
        st = pl_serving_multi_inference(sv, NULL, (int)n, tasks, &in.ex, results);
        pl_inference_results_clear(results, (int)n);
    }
    packed_input_clear(&in);
    free(tasks);
    free(results);
    return st;
}

/* RunWarmupRequest. */
static pl_status replay(pl_servable *sv, const Tensorflow__Serving__PredictionLog *log) {
    switch (log->log_type_case) {
    case TENSORFLOW__SERVING__PREDICTION_LOG__LOG_TYPE_REGRESS_LOG:
        return replay_regress(sv, log->regress_log ? log->regress_log->request : NULL);
    case TENSORFLOW__SERVING__PREDICTION_LOG__LOG_TYPE_CLASSIFY_LOG:
        return replay_classify(sv, log->classify_log ? log->classify_log->request : NULL);
    case TENSORFLOW__SERVING__PREDICTION_LOG__LOG_TYPE_PREDICT_LOG:
        return replay_predict(sv, log->predict_log ? log->predict_log->request : NULL);
    case TENSORFLOW__SERVING__PREDICTION_LOG__LOG_TYPE_MULTI_INFERENCE_LOG:
        return replay_multi(sv, log->multi_inference_log ? log->multi_inference_log->request : NULL);
    case TENSORFLOW__SERVING__PREDICTION_LOG__LOG_TYPE_PREDICT_STREAMED_LOG:
    case TENSORFLOW__SERVING__PREDICTION_LOG__LOG_TYPE_SESSION_RUN_LOG:
        return pl_error(PL_UNIMPLEMENTED, "Unsupported log_type for warmup: %d", (int)log->log_type_case);
    default:
        return NULL;
    }
}

/* ---- the TFRecord file ---- */

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* The record at *offset: OUT_OF_RANGE at the end of the file (a partial
 * header reads as the end, as TensorFlow's RecordReader does), DATA_LOSS for
 * a cut-off payload or a checksum that does not match. */
static pl_status next_record(const uint8_t *data, size_t size, size_t *offset, const uint8_t **rec, size_t *len) {
    size_t off = *offset;
    if (size - off < 12) return pl_error(PL_OUT_OF_RANGE, "eof");
    const uint8_t *h = data + off;
    if (pl_crc32c_unmask(le32(h + 8)) != pl_crc32c(h, 8))
        return pl_error(PL_DATA_LOSS, "corrupted record at %zu", off);
    uint64_t n = le64(h);
    if (n > size - off - 12 || size - off - 12 - n < 4) return pl_error(PL_DATA_LOSS, "truncated record at %zu", off);
    const uint8_t *payload = h + 12;
    if (pl_crc32c_unmask(le32(payload + n)) != pl_crc32c(payload, (size_t)n))
        return pl_error(PL_DATA_LOSS, "corrupted record at %zu", off);
    *rec = payload;
    *len = (size_t)n;
    *offset = off + 12 + (size_t)n + 4;
    return NULL;
}

/* "Failed to parse warmup record: <record>": the bytes C-escaped and cut, so
 * the message stays valid UTF-8 for GetModelStatus. */
static pl_status parse_error(const uint8_t *rec, size_t len, const char *path) {
    char shown[4 * 64 + 4];
    size_t w = 0;
    for (size_t i = 0; i < len && i < 64; i++) {
        uint8_t c = rec[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            shown[w++] = (char)c;
        else
            w += (size_t)snprintf(shown + w, sizeof shown - w, "\\%03o", c);
    }
    shown[w] = 0;
    return pl_error(PL_INVALID_ARGUMENT, "Failed to parse warmup record: %s%s from %s", shown, len > 64 ? "..." : "",
                    path);
}

static pl_status replay_file(pl_servable *sv, const char *warmup_path, const pl_mapped_file *f, int iterations,
                             int *num_records) {
    size_t offset = 0;
    const uint8_t *data = f->data;
    for (;;) {
        const uint8_t *rec = NULL;
        size_t len = 0;
        pl_status st = next_record(data, f->nbytes, &offset, &rec, &len);
        if (st) return st;
        Tensorflow__Serving__PredictionLog *log = tensorflow__serving__prediction_log__unpack(NULL, len, rec);
        if (!log) return parse_error(rec, len, warmup_path);
        for (int i = 0; i < iterations && !st; i++) st = replay(sv, log);
        tensorflow__serving__prediction_log__free_unpacked(log, NULL);
        if (st) return st;
        if (++*num_records > MAX_RECORDS)
            return pl_error(PL_INVALID_ARGUMENT, "Number of warmup records exceeds the maximum (%d) at %s",
                            MAX_RECORDS, warmup_path);
    }
}

pl_status pl__warmup_run(pl_servable *sv, const char *path, int iterations) {
    int64_t start = pl_clock_now_ns();
    char *extra = pl_path_join(path, "assets.extra");
    char *warmup_path = extra ? pl_path_join(extra, "tf_serving_warmup_requests") : NULL;
    free(extra);
    if (!warmup_path) return oom();
    struct stat sb;
    if (stat(warmup_path, &sb) != 0) {
        /* Warmup data is optional. */
        pl_log_info("No warmup data file found at %s", warmup_path);
        free(warmup_path);
        return NULL;
    }
    if (iterations <= 0) iterations = 1;
    pl_log_info("Starting to read warmup data for model at %s with model-warmup-options num_request_iterations: %d",
                warmup_path, iterations);
    pl_mapped_file f;
    pl_status st = pl_file_map(warmup_path, &f);
    int num_records = 0;
    if (!st) {
        st = replay_file(sv, warmup_path, &f, iterations, &num_records);
        pl_file_unmap(&f);
    }
    /* The end of the file is how a good file ends. */
    if (pl_status_code(st) == PL_OUT_OF_RANGE) {
        pl_status_free(st);
        st = NULL;
    }
    int64_t usec = (pl_clock_now_ns() - start) / 1000;
    pthread_once(&metrics_once, metrics_init);
    char *status_text = NULL;
    if (st && asprintf(&status_text, "%s: %s", pl_code_name(pl_status_code(st)), pl_status_message(st)) < 0)
        status_text = NULL;
    const char *labels[] = {path, st ? (status_text ? status_text : pl_code_name(pl_status_code(st))) : "OK"};
    pl_metric_observe(warmup_latency, labels, (double)usec);
    pl_metric_add(records_read, labels, num_records);
    free(status_text);
    if (pl_status_code(st) == PL_DATA_LOSS) {
        pl_status wrapped = pl_error(PL_DATA_LOSS, "%s. Please verify your warmup data is in TFRecord format.",
                                     pl_status_message(st));
        pl_status_free(st);
        st = wrapped;
    }
    if (!st)
        pl_log_info("Finished reading warmup data for model at %s. Number of warmup records read: %d. Elapsed time "
                    "(microseconds): %" PRId64 ".",
                    warmup_path, num_records, usec);
    free(warmup_path);
    return st;
}
