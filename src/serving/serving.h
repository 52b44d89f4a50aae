/* Serving: the model manager and the request handling every transport shares.
 *
 * A pl_serving object plays TensorFlow Serving's ServerCore. It watches each
 * configured model's base path for numeric version directories, loads and
 * unloads versions by the model's version policy (a new version is loaded
 * before the old one is unloaded), keeps each version's state
 * (START → LOADING → AVAILABLE → UNLOADING → END, with the error of a failed
 * load), and resolves a model spec (name + version, label or latest) to a
 * refcounted servable handle. The request functions below (predict, classify,
 * regress, multi-inference, status) take plain C values; transports (gRPC,
 * REST) decode their wire format into them and encode the results back.
 *
 *     pl_serving_options opt;
 *     pl_serving_options_init(&opt);
 *     pl_server_config cfg;
 *     PL_TRY(pl_server_config_single("default", "/models/half_plus_two", &cfg));
 *     pl_serving *s;
 *     pl_status st = pl_serving_create(&opt, &cfg, &s);  // waits for the initial loads
 *     pl_server_config_clear(&cfg);
 *     if (st) return st;
 *     pl_model_spec spec = {.name = "default"};
 *     pl_servable *sv;
 *     PL_TRY(pl_serving_get_servable(s, &spec, &sv));
 *     ... pl_serving_predict(sv, sig, NULL, &req, &resp) ...
 *     pl_servable_release(sv);
 *     pl_serving_free(s);
 *
 * Threads: every function may be called from any thread. Resolving a handle
 * takes a read lock only for the lookup; a handle keeps its version loaded
 * until it is released, even while that version is being unloaded. */
#ifndef PL_SERVING_SERVING_H
#define PL_SERVING_SERVING_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "runtime/model.h"
#include "tensor/tensor.h"

/* ---- configuration (ModelServerConfig) ---- */

typedef enum pl_version_policy {
    PL_POLICY_LATEST,   /* the highest `latest_num_versions` versions (default 1) */
    PL_POLICY_ALL,      /* every version found */
    PL_POLICY_SPECIFIC, /* the versions listed in `specific` */
} pl_version_policy;

typedef struct pl_version_label {
    char *label;
    int64_t version;
} pl_version_label;

/* One ModelConfig. All strings and arrays are owned by the config. */
typedef struct pl_model_config {
    char *name;
    char *base_path;
    char *platform;     /* model_platform; "tensorflow" */
    pl_version_policy policy;
    uint32_t latest_num_versions;
    int num_specific;
    int64_t *specific;
    int num_labels;
    pl_version_label *labels;
} pl_model_config;

typedef enum pl_config_kind {
    PL_CONFIG_NOT_SET,   /* an empty ModelServerConfig: nothing to do */
    PL_CONFIG_MODEL_LIST,
    PL_CONFIG_CUSTOM,    /* custom_model_config: not supported */
} pl_config_kind;

typedef struct pl_server_config {
    pl_config_kind kind;
    int num_models;
    pl_model_config *models;
} pl_server_config;

/* The config of --model_name/--model_base_path. */
pl_status pl_server_config_single(const char *name, const char *base_path, pl_server_config *out);
/* Reads a text-format ModelServerConfig. Errors say "Error parsing text-format
 * tensorflow.serving.ModelServerConfig" like TensorFlow Serving. */
pl_status pl_server_config_read_file(const char *path, pl_server_config *out);
/* A decoded tensorflow.serving.ModelServerConfig (HandleReloadConfigRequest). */
struct Tensorflow__Serving__ModelServerConfig;
pl_status pl_server_config_from_proto(const struct Tensorflow__Serving__ModelServerConfig *p, pl_server_config *out);
pl_status pl_server_config_copy(const pl_server_config *src, pl_server_config *dst);
bool pl_server_config_equal(const pl_server_config *a, const pl_server_config *b);
void pl_server_config_clear(pl_server_config *c);
/* Checks names are unique and base paths absolute (spec 1a "Config validation"). */
pl_status pl_server_config_validate(const pl_server_config *c);

/* ---- the manager ---- */

/* How a version directory becomes a model; the default loads with pl_model_load. */
typedef struct pl_model_loader {
    pl_status (*load)(void *ctx, const char *path, pl_model **out);
    void (*unload)(void *ctx, pl_model *model);
    void *ctx;
} pl_model_loader;

/* BatchingParameters (spec 1e) with the scheduler's defaults filled in. */
typedef struct pl_batching_params {
    int64_t max_batch_size;            /* largest task, and batch without splitting; default 1000 */
    int64_t batch_timeout_micros;      /* default 0 */
    int64_t max_enqueued_batches;      /* per queue; default 10 */
    int64_t num_batch_threads;         /* shared by every queue; default: the CPUs */
    char *thread_pool_name;            /* default "batch_threads" */
    bool enable_large_batch_splitting;
    int64_t max_execution_batch_size;  /* batch size with splitting; default max_batch_size */
    int num_allowed_batch_sizes;
    int64_t *allowed_batch_sizes;      /* increasing; batches are padded up to one of these */
    bool pad_variable_length_inputs;   /* pad dims 1+ to the largest task's */
} pl_batching_params;

/* TensorFlow's defaults, with `thread_pool_name` (NULL: "batch_threads"). */
pl_status pl_batching_params_init(pl_batching_params *p, const char *thread_pool_name);
/* Reads a text-format BatchingParameters file on top of the defaults.
 * INVALID_ARGUMENT "Invalid protobuf file: 'PATH'" when it does not parse. */
pl_status pl_batching_params_read_file(const char *path, pl_batching_params *p);
pl_status pl_batching_params_copy(const pl_batching_params *src, pl_batching_params *dst);
void pl_batching_params_clear(pl_batching_params *p);

typedef struct pl_serving_options {
    int max_num_load_retries;            /* retries after a failed load; default 5 */
    int64_t load_retry_interval_micros;  /* default 60 s; negative: no wait */
    int file_system_poll_wait_seconds;   /* default 1; 0: once per model; < 0: never */
    bool allow_version_labels_for_unavailable_models;
    bool enable_signature_method_name_check;
    const char *saved_model_tags;        /* default "serve" */
    pl_model_loader loader;              /* load == NULL: pl_model_load */
    /* --enable_batching: NULL serves every request on its own. The shared
     * scheduler takes its threads from these parameters and, without
     * per_model_batching, every version's queues their options. */
    const pl_batching_params *batching;
    /* --enable_per_model_batching_parameters: a version is batched only when
     * its directory holds batching_params.pbtxt, with those queue options. */
    bool per_model_batching;
    /* --enable_model_warmup (default true): replay
     * assets.extra/tf_serving_warmup_requests before a version is AVAILABLE,
     * each record warmup_iterations times (<= 0: once). */
    bool enable_model_warmup;
    int warmup_iterations;
    /* Loads that may run at once, each model loading one version at a time:
     * during the first config (num_initial_load_threads) and afterwards
     * (--num_load_threads). 0 loads one at a time on the manager thread. */
    int num_initial_load_threads;
    int num_load_threads;
} pl_serving_options;

void pl_serving_options_init(pl_serving_options *opt);

typedef struct pl_serving pl_serving;

/* Starts the manager with `config` and waits until the latest version of every
 * model is AVAILABLE or has failed; fails with UNKNOWN "N model(s) did not
 * become available: {...}" like TensorFlow Serving. The config is copied. */
pl_status pl_serving_create(const pl_serving_options *opt, const pl_server_config *config, pl_serving **out);

/* ServerCore::ReloadConfig: the new config replaces the old one (models it
 * omits are unloaded); blocks until newly added models are available. */
pl_status pl_serving_reload_config(pl_serving *s, const pl_server_config *config);

/* Re-reads `path` every `seconds` (> 0) and reloads it; parse errors are logged. */
pl_status pl_serving_watch_config_file(pl_serving *s, const char *path, int seconds);

/* Stops polling and unloads everything. Every servable handle must have been released. */
void pl_serving_free(pl_serving *s);

/* ---- model specs and servable handles ---- */

typedef enum pl_version_choice {
    PL_VERSION_LATEST,
    PL_VERSION_SPECIFIC,
    PL_VERSION_LABEL,
} pl_version_choice;

typedef struct pl_model_spec {
    const char *name;
    pl_version_choice choice;
    int64_t version;            /* PL_VERSION_SPECIFIC */
    const char *version_label;  /* PL_VERSION_LABEL */
    const char *signature_name; /* NULL or "" means "serving_default" */
} pl_model_spec;

#define PL_DEFAULT_SIGNATURE "serving_default"

/* A loaded model version, held by reference. */
typedef struct pl_servable pl_servable;

/* Errors: INVALID_ARGUMENT "ModelSpec has no name specified.",
 * INVALID_ARGUMENT "Unrecognized servable version label: L",
 * NOT_FOUND "Servable not found for request: Latest(m)" / "Specific(m, v)". */
pl_status pl_serving_get_servable(pl_serving *s, const pl_model_spec *spec, pl_servable **out);
void pl_servable_release(pl_servable *sv);   /* NULL is fine */
const char *pl_servable_name(const pl_servable *sv);
int64_t pl_servable_version(const pl_servable *sv);
pl_model *pl_servable_model(const pl_servable *sv);

/* The signature key a spec names: "serving_default" for NULL or "". */
const char *pl_signature_key(const char *signature_name);

/* ---- Predict ---- */

typedef struct pl_predict_request {
    int num_inputs;
    const char *const *input_aliases;    /* a repeated alias: the last one counts */
    pl_tensor *const *inputs;            /* borrowed; an entry may be NULL, see decode */
    /* Optional lazy decoding: for a NULL inputs[i], decode(ctx, i, &t) is
     * called when the signature reaches that input and must return a new
     * reference. A malformed input is then reported after the signature checks,
     * where TensorFlow Serving reports it ("tensor parsing error: x"). */
    pl_status (*decode)(void *ctx, int index, pl_tensor **out);
    void *decode_ctx;
    int num_output_filter;               /* 0: every signature output */
    const char *const *output_filter;
} pl_predict_request;

typedef struct pl_predict_response {
    int num_outputs;
    const char **aliases;  /* point into the signature: valid while the servable is held */
    pl_tensor **outputs;   /* owned; freed by pl_predict_response_clear */
} pl_predict_response;

/* Finds the signature a Predict names: FAILED_PRECONDITION
 * `Serving signature key "X" not found.` */
pl_status pl_serving_predict_signature(const pl_servable *sv, const char *signature_name,
                                       const pl_signature **out);

/* PredictionService.Predict on a held servable (spec 1b): checks the inputs
 * against the signature, runs it and returns the outputs in output_filter
 * order (signature order without a filter). */
pl_status pl_serving_predict(pl_servable *sv, const pl_signature *sig, const pl_run_options *run,
                             const pl_predict_request *req, pl_predict_response *resp);
void pl_predict_response_clear(pl_predict_response *resp);

/* ---- Classify, Regress, MultiInference ---- */

/* tensorflow.serving.Input: serialized tf.Example messages, optionally with a
 * context Example that is merged into each of them. */
typedef struct pl_examples {
    int64_t num;
    const pl_str *examples;
    const pl_str *context;    /* NULL: example_list; else example_list_with_context */
} pl_examples;

typedef struct pl_classify_response {
    int64_t num_examples;
    int64_t num_classes;
    pl_tensor *classes;       /* DT_STRING [num_examples, num_classes], or NULL */
    pl_tensor *scores;        /* DT_FLOAT  [num_examples, num_classes], or NULL */
} pl_classify_response;

typedef struct pl_regress_response {
    int64_t num_examples;
    pl_tensor *values;        /* DT_FLOAT with num_examples elements */
} pl_regress_response;

pl_status pl_serving_classify(pl_servable *sv, const char *signature_name, const pl_run_options *run,
                              const pl_examples *input, pl_classify_response *resp);
pl_status pl_serving_regress(pl_servable *sv, const char *signature_name, const pl_run_options *run,
                             const pl_examples *input, pl_regress_response *resp);
void pl_classify_response_clear(pl_classify_response *resp);
void pl_regress_response_clear(pl_regress_response *resp);

#define PL_CLASSIFY_METHOD "tensorflow/serving/classify"
#define PL_REGRESS_METHOD "tensorflow/serving/regress"
#define PL_PREDICT_METHOD "tensorflow/serving/predict"

typedef struct pl_inference_task {
    const char *model_name;
    const char *signature_name;
    const char *method_name;  /* PL_CLASSIFY_METHOD or PL_REGRESS_METHOD */
} pl_inference_task;

typedef struct pl_inference_result {
    bool is_classification;
    pl_classify_response classification;
    pl_regress_response regression;
} pl_inference_result;

/* MultiInference: one run of the model feeds the examples to every task's
 * signature; results[i] answers tasks[i]. */
pl_status pl_serving_multi_inference(pl_servable *sv, const pl_run_options *run, int num_tasks,
                                     const pl_inference_task *tasks, const pl_examples *input,
                                     pl_inference_result *results);
void pl_inference_results_clear(pl_inference_result *results, int num_tasks);

/* ---- GetModelStatus ---- */

typedef enum pl_servable_state {
    PL_STATE_UNKNOWN = 0,
    PL_STATE_START = 10,
    PL_STATE_LOADING = 20,
    PL_STATE_AVAILABLE = 30,
    PL_STATE_UNLOADING = 40,
    PL_STATE_END = 50,
} pl_servable_state;

const char *pl_servable_state_name(pl_servable_state state);  /* "AVAILABLE" */

typedef struct pl_version_status {
    int64_t version;
    pl_servable_state state;
    pl_code error_code;
    char *error_message;     /* "" when OK */
} pl_version_status;

/* Every version of `name` the manager has seen, highest first, or only
 * `*version` when it is not NULL. NOT_FOUND "Could not find any versions of
 * model X" / "Could not find version V of model X". */
pl_status pl_serving_model_status(pl_serving *s, const char *name, const int64_t *version,
                                  pl_version_status **out, int *num);
void pl_version_status_free(pl_version_status *st, int num);

/* The names of the models in the current config, sorted; free with
 * pl_serving_model_names_free. */
pl_status pl_serving_model_names(pl_serving *s, char ***names, int *num);
void pl_serving_model_names_free(char **names, int num);

/* GetModelMetadata's request check: at least one field, only "signature_def". */
pl_status pl_serving_check_metadata_fields(int num, const char *const *fields);

#endif
