/* gRPC Predict benchmark: plinth serving half_plus_two against a minimal gRPC
 * core echo server built from the same library, both driven by the same
 * asynchronous C client at concurrency 1, 16 and 64. The echo server answers
 * every Predict with the bytes of the response plinth sends, so the ratio
 * shows what plinth's request path (decode, model lookup, run, encode) costs
 * on top of gRPC itself.
 *
 *     grpc_bench [--plinth PATH] [--model DIR] [--seconds S]
 *     grpc_bench echo PORT          (the echo server alone)
 *     grpc_bench client TARGET C S  (the client alone)
 *
 * Targets: QPS at concurrency 64 >= 80% of echo; p50 at concurrency 1 less
 * than 30 us above echo. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tensorflow_serving/apis/predict.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"

#define METHOD "/tensorflow.serving.PredictionService/Predict"

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- messages ---- */

/* A float tensor of shape [1] — what the request and the response each carry —
 * with the parts it points at, so it can live on the caller's stack. */
typedef struct one_float {
    Tensorflow__TensorShapeProto__Dim dim, *dims[1];
    Tensorflow__TensorShapeProto shape;
    float value;
    Tensorflow__TensorProto t;
} one_float;

static Tensorflow__TensorProto *one_float_tensor(one_float *o, float value) {
    tensorflow__tensor_shape_proto__dim__init(&o->dim);
    o->dim.size = 1;
    o->dims[0] = &o->dim;
    tensorflow__tensor_shape_proto__init(&o->shape);
    o->shape.n_dim = 1;
    o->shape.dim = o->dims;
    o->value = value;
    tensorflow__tensor_proto__init(&o->t);
    o->t.dtype = TENSORFLOW__DATA_TYPE__DT_FLOAT;
    o->t.tensor_shape = &o->shape;
    o->t.n_float_val = 1;
    o->t.float_val = &o->value;
    return &o->t;
}

/* PredictRequest{model_spec{name:"default"}, inputs{"x": float [1] = 2.0}, output_filter:"y"}. */
static grpc_slice make_request(void) {
    one_float x;
    Tensorflow__Serving__PredictRequest__InputsEntry e = TENSORFLOW__SERVING__PREDICT_REQUEST__INPUTS_ENTRY__INIT;
    e.key = "x";
    e.value = one_float_tensor(&x, 2.0f);
    Tensorflow__Serving__PredictRequest__InputsEntry *entries[] = {&e};
    Tensorflow__Serving__ModelSpec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    spec.name = "default";
    Tensorflow__Serving__PredictRequest r = TENSORFLOW__SERVING__PREDICT_REQUEST__INIT;
    r.model_spec = &spec;
    r.n_inputs = 1;
    r.inputs = entries;
    char *filter[] = {"y"};
    r.n_output_filter = 1;
    r.output_filter = filter;
    grpc_slice s = grpc_slice_malloc(protobuf_c_message_get_packed_size(&r.base));
    protobuf_c_message_pack(&r.base, GRPC_SLICE_START_PTR(s));
    return s;
}

/* The response plinth gives for the request above: y = [3.0], version 123. */
static grpc_slice make_response(void) {
    one_float y;
    Tensorflow__Serving__PredictResponse__OutputsEntry e = TENSORFLOW__SERVING__PREDICT_RESPONSE__OUTPUTS_ENTRY__INIT;
    e.key = "y";
    e.value = one_float_tensor(&y, 3.0f);
    Tensorflow__Serving__PredictResponse__OutputsEntry *entries[] = {&e};
    Google__Protobuf__Int64Value v = GOOGLE__PROTOBUF__INT64_VALUE__INIT;
    v.value = 123;
    Tensorflow__Serving__ModelSpec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    spec.name = "default";
    spec.signature_name = "serving_default";
    spec.version_choice_case = TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION;
    spec.version = &v;
    Tensorflow__Serving__PredictResponse r = TENSORFLOW__SERVING__PREDICT_RESPONSE__INIT;
    r.model_spec = &spec;
    r.n_outputs = 1;
    r.outputs = entries;
    grpc_slice s = grpc_slice_malloc(protobuf_c_message_get_packed_size(&r.base));
    protobuf_c_message_pack(&r.base, GRPC_SLICE_START_PTR(s));
    return s;
}

/* ---- echo server: the same shape as plinth's loop, with no work per call ---- */

enum { ECHO_SLOTS = 8 };

typedef struct echo_call {
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *payload, *response;
    grpc_slice details;
    int cancelled;
    bool sending;
    grpc_completion_queue *cq;
} echo_call;

static grpc_server *echo_server;
static void *echo_method;
static grpc_slice echo_body;

static void echo_request(echo_call *c) {
    c->sending = false;
    grpc_server_request_registered_call(echo_server, echo_method, &c->call, &c->deadline, &c->md, &c->payload, c->cq,
                                        c->cq, c);
}

static void *echo_worker(void *arg) {
    grpc_completion_queue *cq = arg;
    echo_call *calls = calloc(ECHO_SLOTS, sizeof *calls);
    for (int i = 0; i < ECHO_SLOTS; i++) {
        calls[i].cq = cq;
        grpc_metadata_array_init(&calls[i].md);
        echo_request(&calls[i]);
    }
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
        echo_call *c = ev.tag;
        if (!ev.success && !c->sending) continue;
        if (!c->sending) {
            grpc_op ops[4];
            memset(ops, 0, sizeof ops);
            grpc_slice body = grpc_slice_ref(echo_body);
            c->response = grpc_raw_byte_buffer_create(&body, 1);
            grpc_slice_unref(body);
            c->details = grpc_empty_slice();
            ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
            ops[1].op = GRPC_OP_SEND_MESSAGE;
            ops[1].data.send_message.send_message = c->response;
            ops[2].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
            ops[2].data.send_status_from_server.status = GRPC_STATUS_OK;
            ops[2].data.send_status_from_server.status_details = &c->details;
            ops[3].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
            ops[3].data.recv_close_on_server.cancelled = &c->cancelled;
            c->sending = true;
            grpc_call_start_batch(c->call, ops, 4, c, NULL);
        } else {
            grpc_call_unref(c->call);
            grpc_byte_buffer_destroy(c->payload);
            grpc_byte_buffer_destroy(c->response);
            grpc_metadata_array_destroy(&c->md);
            grpc_metadata_array_init(&c->md);
            echo_request(c);
        }
    }
    return NULL;
}

static int run_echo(int port) {
    grpc_init();
    echo_body = make_response();
    echo_server = grpc_server_create(NULL, NULL);
    echo_method = grpc_server_register_method(echo_server, METHOD, NULL, GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    char addr[64];
    snprintf(addr, sizeof addr, "0.0.0.0:%d", port);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    if (!grpc_server_add_http2_port(echo_server, addr, creds)) {
        fprintf(stderr, "echo: cannot listen on %s\n", addr);
        return 1;
    }
    grpc_server_credentials_release(creds);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    grpc_completion_queue **cqs = calloc((size_t)n, sizeof *cqs);
    for (long i = 0; i < n; i++) {
        cqs[i] = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(echo_server, cqs[i], NULL);
    }
    grpc_server_start(echo_server);
    pthread_t *threads = calloc((size_t)n, sizeof *threads);
    for (long i = 0; i < n; i++) pthread_create(&threads[i], NULL, echo_worker, cqs[i]);
    for (;;) pause();
}

/* ---- client ---- */

typedef struct client_call {
    grpc_call *call;
    int64_t start;
    grpc_byte_buffer *request, *response;
    grpc_metadata_array initial, trailing;
    grpc_status_code status;
    grpc_slice details;
} client_call;

typedef struct result {
    double qps, p50_us, p99_us;
    long errors;
} result;

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void client_start(grpc_channel *ch, void *method, grpc_completion_queue *cq, client_call *c, grpc_slice req) {
    memset(c, 0, sizeof *c);
    c->call = grpc_channel_create_registered_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method,
                                                  gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_metadata_array_init(&c->initial);
    grpc_metadata_array_init(&c->trailing);
    c->request = grpc_raw_byte_buffer_create(&req, 1);
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = c->request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &c->response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &c->trailing;
    ops[5].data.recv_status_on_client.status = &c->status;
    ops[5].data.recv_status_on_client.status_details = &c->details;
    c->start = now_ns();
    grpc_call_start_batch(c->call, ops, 6, c, NULL);
}

static void client_finish(client_call *c) {
    grpc_call_unref(c->call);
    grpc_byte_buffer_destroy(c->request);
    if (c->response) grpc_byte_buffer_destroy(c->response);
    grpc_metadata_array_destroy(&c->initial);
    grpc_metadata_array_destroy(&c->trailing);
    grpc_slice_unref(c->details);
}

/* `concurrency` calls kept in flight on one channel for `seconds`, after a warmup. */
static result run_client(const char *target, int concurrency, double seconds) {
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, creds, NULL);
    grpc_channel_credentials_release(creds);
    void *method = grpc_channel_register_call(ch, METHOD, NULL, NULL);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    grpc_slice req = make_request();
    client_call *calls = calloc((size_t)concurrency, sizeof *calls);
    size_t cap = 1 << 20, n = 0;
    int64_t *lat = malloc(sizeof *lat * cap);
    long errors = 0;
    int64_t warm_end = now_ns() + (int64_t)(0.5e9), end = warm_end + (int64_t)(seconds * 1e9), measured_start = 0;
    for (int i = 0; i < concurrency; i++) client_start(ch, method, cq, &calls[i], req);
    int inflight = concurrency;
    while (inflight > 0) {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type != GRPC_OP_COMPLETE) continue;
        client_call *c = ev.tag;
        int64_t t = now_ns();
        if (c->status != GRPC_STATUS_OK || !c->response) errors++;
        if (c->start >= warm_end && t <= end) {
            if (!measured_start) measured_start = c->start;
            if (n < cap) lat[n++] = t - c->start;
        }
        client_finish(c);
        if (t < end)
            client_start(ch, method, cq, c, req);
        else
            inflight--;
    }
    grpc_slice_unref(req);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
    grpc_channel_destroy(ch);
    free(calls);
    result r = {.errors = errors};
    if (n) {
        qsort(lat, n, sizeof *lat, cmp_i64);
        double span = (double)(end - (measured_start ? measured_start : warm_end)) / 1e9;
        r.qps = (double)n / span;
        r.p50_us = (double)lat[n / 2] / 1e3;
        r.p99_us = (double)lat[(size_t)((double)n * 0.99)] / 1e3;
    }
    free(lat);
    return r;
}

/* ---- orchestration ---- */

enum { ROUNDS = 3 };

static result best(result a, result b, bool first) {
    if (first) return b;
    if (b.qps > a.qps) a.qps = b.qps;
    if (b.p50_us < a.p50_us) a.p50_us = b.p50_us;
    if (b.p99_us < a.p99_us) a.p99_us = b.p99_us;
    a.errors += b.errors;
    return a;
}

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len)) return 0;
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t spawn(char *const argv[]) {
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Waits until a Predict succeeds (plinth loads the model first). */
static bool wait_ready(const char *target, double timeout_s) {
    int64_t until = now_ns() + (int64_t)(timeout_s * 1e9);
    while (now_ns() < until) {
        result r = run_client(target, 1, 0.05);
        if (r.errors == 0 && r.qps > 0) return true;
        usleep(100000);
    }
    return false;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "echo")) return run_echo(atoi(argv[2]));
    grpc_init();
    if (argc >= 5 && !strcmp(argv[1], "client")) {
        result r = run_client(argv[2], atoi(argv[3]), atof(argv[4]));
        printf("qps %.0f p50 %.1f us p99 %.1f us errors %ld\n", r.qps, r.p50_us, r.p99_us, r.errors);
        return 0;
    }
    const char *plinth = getenv("PLINTH_BIN");
    const char *shared = getenv("PLINTH_SHARED");
    char model[1024];
    snprintf(model, sizeof model, "%s/models/tfs-testdata/saved_model_half_plus_two_cpu", shared ? shared : "../shared");
    double seconds = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--plinth")) plinth = argv[i + 1];
        else if (!strcmp(argv[i], "--model")) snprintf(model, sizeof model, "%s", argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    }
    if (!plinth) {
        fprintf(stderr, "usage: grpc_bench --plinth PATH [--model DIR] [--seconds S] (or set PLINTH_BIN)\n");
        return 2;
    }
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) return 1;
    self[sl] = 0;

    int pport = free_port(), eport = free_port();
    char pflag[64], mflag[1200], eport_s[16], ptarget[64], etarget[64];
    snprintf(pflag, sizeof pflag, "--port=%d", pport);
    snprintf(mflag, sizeof mflag, "--model_base_path=%s", model);
    snprintf(eport_s, sizeof eport_s, "%d", eport);
    snprintf(ptarget, sizeof ptarget, "localhost:%d", pport);
    snprintf(etarget, sizeof etarget, "localhost:%d", eport);
    char *pargv[] = {(char *)plinth, pflag, mflag, "--file_system_poll_wait_seconds=0", NULL};
    char *eargv[] = {self, "echo", eport_s, NULL};
    setenv("PLINTH_LOG_LEVEL", "warning", 0);
    pid_t ppid = spawn(pargv), epid = spawn(eargv);
    int rc = 0;
    if (!wait_ready(ptarget, 60) || !wait_ready(etarget, 10)) {
        fprintf(stderr, "servers did not come up\n");
        rc = 1;
    } else {
        int levels[] = {1, 16, 64};
        result pr[3], er[3];
        printf("%-12s %10s %10s %10s %10s %10s %10s\n", "concurrency", "echo qps", "plinth qps", "ratio", "echo p50",
               "plinth p50", "added p50");
        for (int i = 0; i < 3; i++) {
            /* The machine is shared: interleave short rounds and keep each
             * server's best, so a burst of outside load hurts both alike. */
            er[i] = pr[i] = (result){0};
            for (int round = 0; round < ROUNDS; round++) {
                result e = run_client(etarget, levels[i], seconds / ROUNDS);
                result p = run_client(ptarget, levels[i], seconds / ROUNDS);
                er[i] = best(er[i], e, round == 0);
                pr[i] = best(pr[i], p, round == 0);
            }
            printf("%-12d %10.0f %10.0f %9.1f%% %8.1fus %8.1fus %8.1fus\n", levels[i], er[i].qps, pr[i].qps,
                   100 * pr[i].qps / (er[i].qps > 0 ? er[i].qps : 1), er[i].p50_us, pr[i].p50_us,
                   pr[i].p50_us - er[i].p50_us);
            if (pr[i].errors || er[i].errors)
                printf("  errors: plinth %ld, echo %ld\n", pr[i].errors, er[i].errors);
        }
        bool qps_ok = pr[2].qps >= 0.8 * er[2].qps, lat_ok = pr[0].p50_us - er[0].p50_us < 30;
        printf("target QPS@64 >= 80%% of echo: %s; added p50@1 < 30 us: %s\n", qps_ok ? "met" : "NOT met",
               lat_ok ? "met" : "NOT met");
    }
    kill(ppid, SIGTERM);
    kill(epid, SIGKILL);
    waitpid(ppid, NULL, 0);
    waitpid(epid, NULL, 0);
    return rc;
}
