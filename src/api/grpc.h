/* The gRPC server: TensorFlow Serving's PredictionService and ModelService
 * (and grpc.health.v1 when asked) on the gRPC core C API, on a TCP port and/or
 * a UNIX socket (spec 1b).
 *
 *     pl_grpc_options opt = {.port = 8500};
 *     pl_grpc_server *g;
 *     PL_TRY(pl_grpc_start(serving, &opt, &g));
 *     ... until shutdown ...
 *     pl_grpc_stop(g);   // finishes the calls in flight first
 *
 * Calls are served by a few completion-queue threads that decode, run and
 * answer each call themselves: no thread is created per request. */
#ifndef PL_API_GRPC_H
#define PL_API_GRPC_H

#include <stdbool.h>

#include "base/status.h"
#include "serving/serving.h"

typedef struct pl_grpc_options {
    int port;                       /* TCP port on 0.0.0.0; 0: none; -1: any free port */
    const char *socket_path;        /* UNIX socket path; NULL or "": none */
    const char *channel_arguments;  /* --grpc_channel_arguments: "k=v,k=v" */
    int num_threads;                /* completion-queue threads; 0: one per CPU */
    int max_threads;                /* --grpc_max_threads: upper bound on the above; 0: none */
    /* Calls of one method a thread accepts ahead; 0: 4. gRPC hands a new call
     * to the first thread with a free slot, so calls that block (waiting in a
     * batch queue) need 1 here to spread over the threads. */
    int slots_per_method;
    bool enable_health;             /* grpc.health.v1.Health */
    bool tensor_content;            /* --enable_serialization_as_tensor_content */
    /* --ssl_config_file: a text-format SSLConfig; TLS (mTLS with
     * client_verify) on every listening port. NULL or "": plaintext. */
    const char *ssl_config_file;
} pl_grpc_options;

typedef struct pl_grpc_server pl_grpc_server;

/* Binds, starts the threads and returns. */
pl_status pl_grpc_start(pl_serving *serving, const pl_grpc_options *opt, pl_grpc_server **out);

/* The TCP port bound, or 0 without TCP. */
int pl_grpc_port(const pl_grpc_server *g);

/* Stops accepting calls, waits for the calls being served (30 s at most),
 * refuses those no thread has taken, then frees everything. */
void pl_grpc_stop(pl_grpc_server *g);

#endif
