/* plinth: a model server that speaks TensorFlow Serving's protocols.
 *
 * This file is the command line: tensorflow_model_server's flags with the same
 * names, defaults and validation (spec 1a), the startup order of its server.cc
 * (models first, then the ports), and a clean shutdown on SIGINT/SIGTERM that
 * lets in-flight requests finish. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/grpc.h"
#include "api/rest.h"
#include "base/log.h"
#include "serving/serving.h"

/* ---- flags ---- */

typedef enum flag_type { FLAG_INT32, FLAG_INT64, FLAG_FLOAT, FLAG_BOOL, FLAG_STRING } flag_type;

typedef struct flag {
    const char *name;
    flag_type type;
    void *dst;
    const char *help;
} flag;

/* Server::Options of server.h, plus main.cc's own flags. */
typedef struct options {
    int32_t port, rest_api_port, rest_api_num_threads, rest_api_timeout_in_ms;
    char *grpc_socket_path, *grpc_channel_arguments;
    int32_t grpc_max_threads;
    bool rest_api_enable_cors_support, enable_batching, enable_per_model_batching_parameters;
    bool allow_version_labels_for_unavailable_models;
    char *batching_parameters_file, *model_config_file, *model_name, *model_base_path;
    int32_t model_config_file_poll_wait_seconds;
    int32_t num_load_threads, num_unload_threads, max_num_load_retries, file_system_poll_wait_seconds;
    int64_t load_retry_interval_micros;
    bool flush_filesystem_caches;
    int64_t tensorflow_session_parallelism, tensorflow_intra_op_parallelism, tensorflow_inter_op_parallelism;
    char *tensorflow_session_config_file, *ssl_config_file, *platform_config_file, *saved_model_tags;
    bool use_alts_credentials;
    float per_process_gpu_memory_fraction;
    bool enable_model_warmup;
    int32_t num_request_iterations_for_warmup;
    bool version;
    char *monitoring_config_file;
    bool remove_unused_fields_from_bundle_metagraph, prefer_tflite_model;
    int32_t num_tflite_pools, num_tflite_interpreters_per_pool;
    bool enable_signature_method_name_check, xla_cpu_compilation_enabled, xla_gpu_compilation_enabled;
    bool enable_profiler, skip_initialize_tpu, enable_grpc_healthcheck_service;
    bool enable_serialization_as_tensor_content;
    char *thread_pool_factory_config_file, *mixed_precision;
    int64_t rest_api_max_body_bytes;
} options;

static void options_defaults(options *o) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus > 0 && cpus < 4096 ? (int)cpus : 1;
    memset(o, 0, sizeof *o);
    o->port = 8500;
    o->grpc_socket_path = "";
    o->grpc_channel_arguments = "";
    o->grpc_max_threads = 4 * n;
    o->rest_api_num_threads = 4 * n;
    o->rest_api_timeout_in_ms = 30000;
    o->batching_parameters_file = "";
    o->model_config_file = "";
    o->model_name = "default";
    o->model_base_path = "";
    o->max_num_load_retries = 5;
    o->load_retry_interval_micros = 60LL * 1000 * 1000;
    o->file_system_poll_wait_seconds = 1;
    o->flush_filesystem_caches = true;
    o->tensorflow_session_config_file = "";
    o->ssl_config_file = "";
    o->platform_config_file = "";
    o->saved_model_tags = "serve";
    o->enable_model_warmup = true;
    o->monitoring_config_file = "";
    o->remove_unused_fields_from_bundle_metagraph = true;
    o->num_tflite_pools = n;
    o->num_tflite_interpreters_per_pool = 1;
    o->enable_profiler = true;
    o->thread_pool_factory_config_file = "";
    o->mixed_precision = "";
    o->rest_api_max_body_bytes = INT32_MAX;
}

/* The order and help texts of tensorflow_model_server's main.cc. Flags marked
 * "(no-op)" are accepted for compatibility; docs/flags.md says why. */
static int flag_table(options *o, flag *f) {
    int n = 0;
#define F(nm, ty, field, text) f[n++] = (flag){nm, ty, &o->field, text}
    F("port", FLAG_INT32, port, "TCP port to listen on for gRPC/HTTP API. Disabled if port set to zero.");
    F("grpc_socket_path", FLAG_STRING, grpc_socket_path,
      "If non-empty, listen to a UNIX socket for gRPC API on the given path. Can be either relative or absolute "
      "path.");
    F("rest_api_port", FLAG_INT32, rest_api_port,
      "Port to listen on for HTTP/REST API. If set to zero HTTP/REST API will not be exported. This port must be "
      "different than the one specified in --port.");
    F("rest_api_num_threads", FLAG_INT32, rest_api_num_threads,
      "Number of threads for HTTP/REST API processing. If not set, will be auto set based on number of CPUs.");
    F("rest_api_timeout_in_ms", FLAG_INT32, rest_api_timeout_in_ms, "Timeout for HTTP/REST API calls.");
    F("rest_api_enable_cors_support", FLAG_BOOL, rest_api_enable_cors_support, "Enable CORS headers in response");
    F("enable_batching", FLAG_BOOL, enable_batching, "enable batching");
    F("allow_version_labels_for_unavailable_models", FLAG_BOOL, allow_version_labels_for_unavailable_models,
      "If true, allows assigning unused version labels to models that are not available yet.");
    F("batching_parameters_file", FLAG_STRING, batching_parameters_file,
      "If non-empty, read an ascii BatchingParameters protobuf from the supplied file name and use the contained "
      "values instead of the defaults.");
    F("enable_per_model_batching_parameters", FLAG_BOOL, enable_per_model_batching_parameters,
      "Enables model specific batching params like batch sizes, timeouts, batching feature flags to be read from "
      "`batching_params.pbtxt` file present in SavedModel dir of the model. Associated params in the global config "
      "from --batching_parameters_file are *ignored*. Only threadpool (name and size) related params are used from "
      "the global config, as this threadpool is shared across all the models that want to batch requests. This "
      "option is only applicable when --enable_batching flag is set.");
    F("model_config_file", FLAG_STRING, model_config_file,
      "If non-empty, read an ascii ModelServerConfig protobuf from the supplied file name, and serve the models in "
      "that file. This config file can be used to specify multiple models to serve and other advanced parameters "
      "including non-default version policy. (If used, --model_name, --model_base_path are ignored.)");
    F("model_config_file_poll_wait_seconds", FLAG_INT32, model_config_file_poll_wait_seconds,
      "Interval in seconds between each poll of the filesystem for model_config_file. If unset or set to zero, "
      "poll will be done exactly once and not periodically. Setting this to negative is reserved for testing "
      "purposes only.");
    F("model_name", FLAG_STRING, model_name, "name of model (ignored if --model_config_file flag is set)");
    F("model_base_path", FLAG_STRING, model_base_path,
      "path to export (ignored if --model_config_file flag is set, otherwise required)");
    F("num_load_threads", FLAG_INT32, num_load_threads,
      "The number of threads in the thread-pool used to load servables. If set as 0, we don't use a thread-pool, "
      "and servable loads are performed serially in the manager's main work loop, may casue the Serving request "
      "to be delayed. Default: 0");
    F("num_unload_threads", FLAG_INT32, num_unload_threads,
      "The number of threads in the thread-pool used to unload servables. If set as 0, we don't use a "
      "thread-pool, and servable loads are performed serially in the manager's main work loop, may casue the "
      "Serving request to be delayed. Default: 0");
    F("max_num_load_retries", FLAG_INT32, max_num_load_retries,
      "maximum number of times it retries loading a model after the first failure, before giving up. If set to "
      "0, a load is attempted only once. Default: 5");
    F("load_retry_interval_micros", FLAG_INT64, load_retry_interval_micros,
      "The interval, in microseconds, between each servable load retry. If set negative, it doesn't wait. "
      "Default: 1 minute");
    F("file_system_poll_wait_seconds", FLAG_INT32, file_system_poll_wait_seconds,
      "Interval in seconds between each poll of the filesystem for new model version. If set to zero poll will "
      "be exactly done once and not periodically. Setting this to negative value will disable polling entirely "
      "causing ModelServer to indefinitely wait for a new model at startup. Negative values are reserved for "
      "testing purposes only.");
    F("flush_filesystem_caches", FLAG_BOOL, flush_filesystem_caches,
      "If true (the default), filesystem caches will be flushed after the initial load of all servables, and "
      "after each subsequent individual servable reload (if the number of load threads is 1). (no-op)");
    F("tensorflow_session_parallelism", FLAG_INT64, tensorflow_session_parallelism,
      "Number of threads to use for running a Tensorflow session. Auto-configured by default.Note that this "
      "option is ignored if --platform_config_file is non-empty. (no-op)");
    F("tensorflow_session_config_file", FLAG_STRING, tensorflow_session_config_file,
      "If non-empty, read an ascii TensorFlow Session ConfigProto protobuf from the supplied file name. (no-op)");
    F("tensorflow_intra_op_parallelism", FLAG_INT64, tensorflow_intra_op_parallelism,
      "Number of threads to use to parallelize the executionof an individual op. Auto-configured by default. "
      "(no-op)");
    F("tensorflow_inter_op_parallelism", FLAG_INT64, tensorflow_inter_op_parallelism,
      "Controls the number of operators that can be executed simultaneously. Auto-configured by default. "
      "(no-op)");
    F("use_alts_credentials", FLAG_BOOL, use_alts_credentials, "Use Google ALTS credentials (not supported)");
    F("ssl_config_file", FLAG_STRING, ssl_config_file,
      "If non-empty, read an ascii SSLConfig protobuf from the supplied file name and set up a secure gRPC "
      "channel");
    F("platform_config_file", FLAG_STRING, platform_config_file,
      "If non-empty, read an ascii PlatformConfigMap protobuf from the supplied file name, and use that platform "
      "config instead of the Tensorflow platform. (If used, --enable_batching is ignored.) (no-op)");
    F("per_process_gpu_memory_fraction", FLAG_FLOAT, per_process_gpu_memory_fraction,
      "Fraction that each process occupies of the GPU memory space the value is between 0.0 and 1.0 (with 0.0 as "
      "the default) If 1.0, the server will allocate all the memory when the server starts, If 0.0, Tensorflow "
      "will automatically select a value. (no-op: CPU only)");
    F("saved_model_tags", FLAG_STRING, saved_model_tags,
      "Comma-separated set of tags corresponding to the meta graph def to load from SavedModel.");
    F("grpc_channel_arguments", FLAG_STRING, grpc_channel_arguments,
      "A comma separated list of arguments to be passed to the grpc server. (e.g. "
      "grpc.max_connection_age_ms=2000)");
    F("grpc_max_threads", FLAG_INT32, grpc_max_threads, "Max grpc server threads to handle grpc messages.");
    F("enable_model_warmup", FLAG_BOOL, enable_model_warmup,
      "Enables model warmup, which triggers lazy initializations (such as TF optimizations) at load time, to "
      "reduce first request latency.");
    F("num_request_iterations_for_warmup", FLAG_INT32, num_request_iterations_for_warmup,
      "Number of times a request is iterated during warmup replay. This value is used only if > 0.");
    F("version", FLAG_BOOL, version, "Display version");
    F("monitoring_config_file", FLAG_STRING, monitoring_config_file,
      "If non-empty, read an ascii MonitoringConfig protobuf from the supplied file name");
    F("remove_unused_fields_from_bundle_metagraph", FLAG_BOOL, remove_unused_fields_from_bundle_metagraph,
      "Removes unused fields from MetaGraphDef proto message to save memory. (no-op)");
    F("prefer_tflite_model", FLAG_BOOL, prefer_tflite_model,
      "EXPERIMENTAL; CAN BE REMOVED ANYTIME! Prefer TensorFlow Lite model from `model.tflite` file in SavedModel "
      "directory, instead of the TensorFlow model from `saved_model.pb` file. If no TensorFlow Lite model found, "
      "fallback to TensorFlow model. (no-op: the SavedModel is served)");
    F("num_tflite_pools", FLAG_INT32, num_tflite_pools,
      "EXPERIMENTAL; CAN BE REMOVED ANYTIME! Number of TFLite interpreters in an interpreter pool of "
      "TfLiteSession. (no-op)");
    F("num_tflite_interpreters_per_pool", FLAG_INT32, num_tflite_interpreters_per_pool,
      "EXPERIMENTAL; CAN BE REMOVED ANYTIME! Number of TFLite interpreters in an interpreter pool of "
      "TfLiteSession. (no-op)");
    F("enable_signature_method_name_check", FLAG_BOOL, enable_signature_method_name_check,
      "Enable method_name check for SignatureDef. Disable this if serving native TF2 regression/classification "
      "models.");
    F("xla_cpu_compilation_enabled", FLAG_BOOL, xla_cpu_compilation_enabled,
      "EXPERIMENTAL; CAN BE REMOVED ANYTIME! Enable XLA:CPU JIT (default is disabled). (no-op)");
    F("xla_gpu_compilation_enabled", FLAG_BOOL, xla_gpu_compilation_enabled,
      "EXPERIMENTAL; CAN BE REMOVED ANYTIME! Enable both XLA:CPU JIT and XLA:GPU JIT (default is disabled). "
      "(no-op)");
    F("enable_profiler", FLAG_BOOL, enable_profiler, "Enable profiler service. (no-op)");
    F("thread_pool_factory_config_file", FLAG_STRING, thread_pool_factory_config_file,
      "If non-empty, read an ascii ThreadPoolConfig protobuf from the supplied file name. (no-op)");
    F("mixed_precision", FLAG_STRING, mixed_precision, "specify mixed_precision mode (no-op)");
    F("skip_initialize_tpu", FLAG_BOOL, skip_initialize_tpu, "Whether to skip auto initializing TPU. (no-op)");
    F("enable_grpc_healthcheck_service", FLAG_BOOL, enable_grpc_healthcheck_service,
      "Enable the standard gRPC healthcheck service.");
    F("enable_serialization_as_tensor_content", FLAG_BOOL, enable_serialization_as_tensor_content,
      "Enable serialization of predict response as tensor content.");
    F("rest_api_max_body_bytes", FLAG_INT64, rest_api_max_body_bytes,
      "(plinth) Largest HTTP/REST request body accepted; larger ones get 413.");
#undef F
    return n;
}

#define MAX_FLAGS 64

/* tensorflow::Flags::Usage: "\t%-33s\t%s\t%s\n" per flag with its default. */
static void print_usage(FILE *out, const char *argv0, const flag *flags, int n) {
    fprintf(out, "usage: %s\nFlags:\n", argv0);
    char def[512];
    for (int i = 0; i < n; i++) {
        const flag *f = &flags[i];
        const char *type = "";
        switch (f->type) {
        case FLAG_INT32:
            type = "int32";
            snprintf(def, sizeof def, "--%s=%d", f->name, *(int32_t *)f->dst);
            break;
        case FLAG_INT64:
            type = "int64";
            snprintf(def, sizeof def, "--%s=%lld", f->name, (long long)*(int64_t *)f->dst);
            break;
        case FLAG_FLOAT:
            type = "float";
            snprintf(def, sizeof def, "--%s=%f", f->name, (double)*(float *)f->dst);
            break;
        case FLAG_BOOL:
            type = "bool";
            snprintf(def, sizeof def, "--%s=%s", f->name, *(bool *)f->dst ? "true" : "false");
            break;
        case FLAG_STRING:
            type = "string";
            snprintf(def, sizeof def, "--%s=\"%s\"", f->name, *(char **)f->dst);
            break;
        }
        fprintf(out, "\t%-33s\t%s\t%s\n", def, type, f->help);
    }
}

static bool parse_int(const char *s, long long lo, long long hi, long long *out) {
    if (!*s) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool set_value(const flag *f, const char *value) {
    long long v;
    switch (f->type) {
    case FLAG_INT32:
        if (!parse_int(value, INT32_MIN, INT32_MAX, &v)) return false;
        *(int32_t *)f->dst = (int32_t)v;
        return true;
    case FLAG_INT64:
        if (!parse_int(value, INT64_MIN, INT64_MAX, &v)) return false;
        *(int64_t *)f->dst = (int64_t)v;
        return true;
    case FLAG_FLOAT: {
        char *end;
        errno = 0;
        float x = strtof(value, &end);
        if (!*value || *end || errno) return false;
        *(float *)f->dst = x;
        return true;
    }
    case FLAG_BOOL:
        if (!strcmp(value, "true")) *(bool *)f->dst = true;
        else if (!strcmp(value, "false")) *(bool *)f->dst = false;
        else return false;
        return true;
    case FLAG_STRING:
        *(const char **)f->dst = value;
        return true;
    }
    return false;
}

typedef enum parse_result { PARSE_OK, PARSE_HELP, PARSE_ERROR } parse_result;

/* Accepts --name=value, --name value (not for bools), and --name for bools. */
static parse_result parse_flags(int argc, char **argv, const flag *flags, int n) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-help") || !strcmp(arg, "-h")) return PARSE_HELP;
        if (strncmp(arg, "--", 2) || !arg[2]) {
            fprintf(stderr, "unknown argument: %s\n", arg);
            return PARSE_ERROR;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const flag *f = NULL;
        for (int k = 0; k < n && !f; k++)
            if (strlen(flags[k].name) == len && !strncmp(flags[k].name, name, len)) f = &flags[k];
        if (!f) {
            fprintf(stderr, "unknown argument: %s\n", arg);
            return PARSE_ERROR;
        }
        const char *value;
        if (eq) {
            value = eq + 1;
        } else if (f->type == FLAG_BOOL) {
            value = "true";
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "Couldn't interpret value for flag %s: missing value.\n", f->name);
            return PARSE_ERROR;
        }
        if (!set_value(f, value)) {
            fprintf(stderr, "Couldn't interpret value %s for flag %s.\n", value, f->name);
            return PARSE_ERROR;
        }
    }
    return PARSE_OK;
}

/* Server::BuildAndStart's checks, with its messages. */
static pl_status validate(const options *o) {
    if (o->port == 0 && !*o->grpc_socket_path)
        return pl_error(PL_INVALID_ARGUMENT, "At least one of server_options.grpc_port or "
                                             "server_options.grpc_socket_path must be set.");
    if (o->use_alts_credentials && *o->ssl_config_file)
        return pl_error(PL_INVALID_ARGUMENT, "Either use_alts_credentials must be false or ssl_config_file must "
                                             "be empty.");
    if (!*o->model_base_path && !*o->model_config_file)
        return pl_error(PL_INVALID_ARGUMENT, "Both server_options.model_base_path and "
                                             "server_options.model_config_file are empty!");
    if (!o->enable_batching && *o->batching_parameters_file)
        return pl_error(PL_INVALID_ARGUMENT, "server_options.batching_parameters_file is set without setting "
                                             "server_options.enable_batching to true.");
    if (o->tensorflow_intra_op_parallelism > 0 && o->tensorflow_inter_op_parallelism > 0 &&
        o->tensorflow_session_parallelism > 0)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Either configure server_options.tensorflow_session_parallelism or "
                        "(server_options.tensorflow_intra_op_parallelism, "
                        "server_options.tensorflow_inter_op_parallelism) separately. You cannot configure all.");
    if (o->use_alts_credentials)
        return pl_error(PL_UNIMPLEMENTED, "--use_alts_credentials is not supported by plinth");
    if (o->port < 0 || o->port > 65535)
        return pl_error(PL_INVALID_ARGUMENT, "--port must be between 0 and 65535; got %d", o->port);
    return NULL;
}

/* Flags that change nothing here; say so once so nobody tunes them in vain. */
static void note_no_ops(const options *o) {
    if (o->per_process_gpu_memory_fraction != 0)
        pl_log_info("--per_process_gpu_memory_fraction has no effect: plinth runs on the CPU");
    if (o->xla_cpu_compilation_enabled || o->xla_gpu_compilation_enabled)
        pl_log_info("--xla_*_compilation_enabled has no effect: plinth has no XLA");
    if (o->prefer_tflite_model) pl_log_info("--prefer_tflite_model has no effect: the SavedModel is served");
    if (*o->platform_config_file || *o->tensorflow_session_config_file || *o->thread_pool_factory_config_file)
        pl_log_info("platform, session and thread-pool config files have no effect in plinth");
}

/* ---- shutdown ---- */

static pthread_mutex_t stop_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cv = PTHREAD_COND_INITIALIZER;
static bool stop_requested, serving_started;

static void *signal_main(void *arg) {
    sigset_t *set = arg;
    int sig = 0;
    while (sigwait(set, &sig) != 0) {
    }
    pthread_mutex_lock(&stop_mu);
    bool started = serving_started;
    stop_requested = true;
    pthread_cond_broadcast(&stop_cv);
    pthread_mutex_unlock(&stop_mu);
    pl_log_info("Received signal %d, shutting down", sig);
    /* Nothing to drain before the ports are open. */
    if (!started) _exit(0);
    return NULL;
}

/* ---- main ---- */

static pl_status build_config(const options *o, pl_server_config *cfg) {
    if (*o->model_config_file) return pl_server_config_read_file(o->model_config_file, cfg);
    return pl_server_config_single(o->model_name, o->model_base_path, cfg);
}

/* server.cc: with --enable_batching and no file, every default applies and
 * the pool is "model_server_batch_threads". */
static pl_status batching_params(const options *o, pl_batching_params *p) {
    PL_TRY(pl_batching_params_init(p, *o->batching_parameters_file ? NULL : "model_server_batch_threads"));
    if (!*o->batching_parameters_file) return NULL;
    pl_status st = pl_batching_params_read_file(o->batching_parameters_file, p);
    if (st) pl_batching_params_clear(p);
    return st;
}

/* Server::BuildAndStart's HTTP part: a bad monitoring config fails the
 * start; a port that cannot be bound is only logged. */
static pl_status start_rest(const options *o, pl_serving *serving, pl_rest_server **out) {
    pl_rest_options ropt;
    pl_rest_options_init(&ropt);
    ropt.port = o->rest_api_port;
    ropt.num_threads = o->rest_api_num_threads;
    ropt.timeout_in_ms = o->rest_api_timeout_in_ms;
    ropt.enable_cors = o->rest_api_enable_cors_support;
    if (o->rest_api_max_body_bytes > 0) ropt.max_body_bytes = (uint64_t)o->rest_api_max_body_bytes;
    pl_status st = pl_rest_read_monitoring_config(o->monitoring_config_file, &ropt);
    if (st) {
        pl_rest_options_deinit(&ropt);
        return st;
    }
    st = pl_rest_start(serving, &ropt, out);
    pl_rest_options_deinit(&ropt);
    if (st) {
        pl_log_error("Failed to start HTTP Server at localhost:%d: %s", o->rest_api_port, pl_status_message(st));
        pl_status_free(st);
        *out = NULL;
    }
    return NULL;
}

static int fail(pl_status st) {
    char *msg = NULL;
    if (asprintf(&msg, "Failed to start server. Error: %s: %s", pl_code_name(pl_status_code(st)),
                 pl_status_message(st)) < 0)
        msg = NULL;
    pl_log_error("%s", msg ? msg : pl_status_message(st));
    printf("%s\n", msg ? msg : pl_status_message(st));
    fflush(stdout);
    free(msg);
    pl_status_free(st);
    return 255;  /* main.cc returns -1 */
}

int main(int argc, char **argv) {
    /* Blocks of 4 MB and more (request images, large activations) get their
     * own mappings and go back to the system when freed, and at most 4 MB of
     * free heap is kept. glibc otherwise raises the mmap threshold to the
     * largest block freed so far, after which every served image's memory
     * stays in the heap for good (measured: 157 MB idle after one 1920x1080
     * MTCNN request, 21 MB before). Below 4 MB, blocks are reused from the
     * heap rather than faulted in afresh on every request. */
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
    options o;
    options_defaults(&o);
    flag flags[MAX_FLAGS];
    int nflags = flag_table(&o, flags);

    parse_result pr = parse_flags(argc, argv, flags, nflags);
    if (pr != PARSE_OK) {
        /* Usage shows the defaults, so print it from a pristine table. */
        options d;
        options_defaults(&d);
        flag dflags[MAX_FLAGS];
        flag_table(&d, dflags);
        print_usage(pr == PARSE_HELP ? stdout : stderr, argv[0], dflags, nflags);
        return pr == PARSE_HELP ? 0 : 255;
    }
    if (o.version) {
        printf("TensorFlow ModelServer: %s-plinth\nTensorFlow Library: none (plinth runtime %s)\n", PLINTH_VERSION,
               PLINTH_VERSION);
        return 0;
    }
    pl_status st = validate(&o);
    if (st) return fail(st);
    note_no_ops(&o);

    /* Every thread inherits this mask; only signal_main receives the signals. */
    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_t sig_thread;
    if (pthread_create(&sig_thread, NULL, signal_main, &set))
        return fail(pl_error(PL_INTERNAL, "cannot start the signal thread"));
    pthread_detach(sig_thread);

    pl_server_config cfg;
    st = build_config(&o, &cfg);
    if (st) return fail(st);

    pl_batching_params batching = {0};
    if (o.enable_batching) {
        st = batching_params(&o, &batching);
        if (st) {
            pl_server_config_clear(&cfg);
            return fail(st);
        }
    }

    pl_serving_options sopt;
    pl_serving_options_init(&sopt);
    sopt.batching = o.enable_batching ? &batching : NULL;
    sopt.per_model_batching = o.enable_batching && o.enable_per_model_batching_parameters;
    sopt.enable_model_warmup = o.enable_model_warmup;
    sopt.warmup_iterations = o.num_request_iterations_for_warmup;
    /* server_core.h: the first config loads on 4·N threads (num_initial_load_threads). */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    sopt.num_initial_load_threads = 4 * (cpus > 0 && cpus < 4096 ? (int)cpus : 1);
    sopt.num_load_threads = o.num_load_threads > 0 ? o.num_load_threads : 0;
    sopt.max_num_load_retries = o.max_num_load_retries;
    sopt.load_retry_interval_micros = o.load_retry_interval_micros;
    sopt.file_system_poll_wait_seconds = o.file_system_poll_wait_seconds;
    sopt.allow_version_labels_for_unavailable_models = o.allow_version_labels_for_unavailable_models;
    sopt.enable_signature_method_name_check = o.enable_signature_method_name_check;
    sopt.saved_model_tags = o.saved_model_tags;
    pl_serving *serving;
    st = pl_serving_create(&sopt, &cfg, &serving);
    pl_server_config_clear(&cfg);
    pl_batching_params_clear(&batching);
    if (st) return fail(st);

    if (*o.model_config_file && o.model_config_file_poll_wait_seconds > 0) {
        st = pl_serving_watch_config_file(serving, o.model_config_file, o.model_config_file_poll_wait_seconds);
        if (st) {
            pl_serving_free(serving);
            return fail(st);
        }
    }

    pl_grpc_options gopt = {
        .port = o.port,
        .socket_path = o.grpc_socket_path,
        .channel_arguments = o.grpc_channel_arguments,
        .max_threads = o.grpc_max_threads,
        /* Calls wait in the batch queues: every gRPC thread TF Serving would
         * run (--grpc_max_threads) may hold one. */
        .num_threads = o.enable_batching ? o.grpc_max_threads : 0,
        .slots_per_method = o.enable_batching ? 1 : 0,
        .ssl_config_file = o.ssl_config_file,
        .enable_health = o.enable_grpc_healthcheck_service,
        .tensor_content = o.enable_serialization_as_tensor_content,
    };
    pl_grpc_server *grpc;
    st = pl_grpc_start(serving, &gopt, &grpc);
    if (st) {
        pl_serving_free(serving);
        return fail(st);
    }
    pl_rest_server *rest = NULL;
    if (o.rest_api_port != 0 && o.rest_api_port == o.port) {
        pl_log_error("server_options.http_port cannot be same as grpc_port. Please use a different port for "
                     "HTTP/REST API. Skipped exporting HTTP/REST API.");
    } else if (o.rest_api_port != 0) {
        st = start_rest(&o, serving, &rest);
        if (st) {
            pl_grpc_stop(grpc);
            pl_serving_free(serving);
            return fail(st);
        }
    }

    pthread_mutex_lock(&stop_mu);
    serving_started = true;
    while (!stop_requested) pthread_cond_wait(&stop_cv, &stop_mu);
    pthread_mutex_unlock(&stop_mu);

    /* Stop taking calls, let the running ones finish, then unload. */
    pl_rest_stop(rest);
    pl_grpc_stop(grpc);
    pl_serving_free(serving);
    pl_log_info("Server stopped");
    return 0;
}
