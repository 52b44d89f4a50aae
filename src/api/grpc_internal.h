/* Internals shared by the gRPC server loop and its method handlers. */
#ifndef PL_API_GRPC_INTERNAL_H
#define PL_API_GRPC_INTERNAL_H

#include <grpc/grpc.h>
#include <grpc/slice.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/grpc.h"
#include "base/arena.h"
#include "serving/serving.h"
#include "tensorflow/core/framework/tensor.pb-c.h"
#include "tensorflow_serving/apis/model.pb-c.h"

/* Decoded requests and built responses live in the call's arena, reset after
 * each call and reused by the next one, so protobuf-c's many small
 * allocations cost a pointer bump and nothing is freed piecemeal. This makes
 * protobuf-c allocate from pool->arena; its free does nothing.
 *
 * Blocks of PL__PB_BIG bytes and more (the tensor_content of a large input)
 * are malloc'd instead, 64-byte aligned, so that decoding can hand one to a
 * tensor instead of copying it (pl__pb_take_tensor); pl__pb_pool_release
 * frees those left over when the call ends. */
#define PL__PB_BIG ((size_t)256 << 10)
typedef struct pl__pb_pool {
    pl_arena *arena;
    void *big;           /* malloc'd blocks still owned by the call */
} pl__pb_pool;
void pl__pb_allocator(ProtobufCAllocator *al, pl__pb_pool *pool);
/* One big block of the pool, as protobuf-c would get it; NULL when out of memory. */
void *pl__pb_big_alloc(pl__pb_pool *pool, size_t size);

/* Messages from this size on are gathered piece by piece (pl__grpc_gather,
 * read_payload) rather than copied whole first. */
#define PL__GATHER_FROM ((size_t)1 << 20)

/* What pl__grpc_gather took out of a PredictRequest: for inputs entry k (in
 * wire order, as protobuf-c lists them), the tensor_content block it
 * carried, or data NULL. */
typedef struct pl__grpc_gathered_entry {
    void *data;
    size_t len;
} pl__grpc_gathered_entry;
typedef struct pl__grpc_gathered {
    pl__grpc_gathered_entry *entries;   /* in the call's arena */
    int num_entries, cap_entries;
} pl__grpc_gathered;
/* Reads a PredictRequest out of its received pieces (releasing each once
 * read): tensor_contents of min_content bytes and more (PL__PB_BIG when
 * serving) into big blocks of `pool`, the rest re-encoded into *compact
 * without them (grpc_gather.c). INTERNAL "Failed to parse request" when the
 * wire format is broken. */
pl_status pl__grpc_gather(grpc_slice_buffer *pieces, size_t min_content, pl__pb_pool *pool, pl_arena *arena,
                          grpc_slice *compact, pl__grpc_gathered *found);
void pl__pb_pool_release(pl__pb_pool *pool);

/* ---- one method ---- */

typedef struct pl__grpc_call_ctx {
    pl_grpc_server *server;
    pl_serving *serving;
    pl_arena *arena;
    ProtobufCAllocator *pb;    /* allocates from `arena` */
    pl_run_options run;
    const pl_grpc_options *opt;
    const char *model_name;    /* the request's model name, for the request metrics */
    grpc_slice *request;       /* the request bytes; see pl__grpc_release_request */
    const pl__grpc_gathered *gathered;  /* tensor contents kept out of `request`, or NULL */
    size_t received_len;       /* the message's size as received (request may be smaller) */
} pl__grpc_call_ctx;

/* Drops the request bytes once they are decoded (a 25 MB image need not stay
 * while the model runs); the handler's `req` pointer is invalid afterwards. */
void pl__grpc_release_request(pl__grpc_call_ctx *ctx);
/* The tensor of `p`, taking over its tensor_content block when it is one of
 * the call's big blocks and holds exactly the tensor's bytes (no copy);
 * otherwise pl_tensor_from_proto. */
pl_status pl__pb_take_tensor(pl__grpc_call_ctx *ctx, Tensorflow__TensorProto *p, pl_tensor **out);

/* Decodes `req`, does the work and packs the response into *resp. */
typedef pl_status (*pl__grpc_handler)(pl__grpc_call_ctx *ctx, const uint8_t *req, size_t len, grpc_slice *resp);

pl_status pl__grpc_predict(pl__grpc_call_ctx *ctx, const uint8_t *req, size_t len, grpc_slice *resp);
pl_status pl__grpc_get_model_metadata(pl__grpc_call_ctx *ctx, const uint8_t *req, size_t len, grpc_slice *resp);
pl_status pl__grpc_classify(pl__grpc_call_ctx *ctx, const uint8_t *req, size_t len, grpc_slice *resp);
pl_status pl__grpc_regress(pl__grpc_call_ctx *ctx, const uint8_t *req, size_t len, grpc_slice *resp);
pl_status pl__grpc_multi_inference(pl__grpc_call_ctx *ctx, const uint8_t *req, size_t len, grpc_slice *resp);
pl_status pl__grpc_get_model_status(pl__grpc_call_ctx *ctx, const uint8_t *req, size_t len, grpc_slice *resp);
pl_status pl__grpc_reload_config(pl__grpc_call_ctx *ctx, const uint8_t *req, size_t len, grpc_slice *resp);
pl_status pl__grpc_health_check(pl__grpc_call_ctx *ctx, const uint8_t *req, size_t len, grpc_slice *resp);
/* The first (and, while serving, only) message of a Health/Watch stream. */
pl_status pl__grpc_health_watch(pl__grpc_call_ctx *ctx, const uint8_t *req, size_t len, grpc_slice *resp);

/* ---- wire format ---- */

/* True when `data` is well-formed as far as nesting goes and no message
 * field nests deeper than `max_depth` (protobuf C++'s default limit is 100).
 * protobuf-c recurses without a limit, so requests are checked first. */
bool pl__wire_depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len, int max_depth);

/* A request that carries a tensorflow.serving.Input (Classify, Regress,
 * MultiInference), split without decoding the examples: they stay serialized
 * and point into the request bytes, as TensorFlow Serving's SerializedInput. */
typedef struct pl__wire_request {
    const uint8_t *model_spec;     /* field 1 of Classification/RegressionRequest, merged */
    size_t model_spec_len;
    bool has_model_spec;
    int num_tasks;                 /* MultiInferenceRequest.tasks, serialized */
    pl_str *tasks;
    pl_str *examples;
    int64_t num_examples;
    pl_str context;
    bool has_context;              /* example_list_with_context */
} pl__wire_request;

/* multi: the request is a MultiInferenceRequest (field 1 = repeated tasks). */
pl_status pl__wire_scan_request(pl_arena *a, const uint8_t *data, size_t len, bool multi, pl__wire_request *out);

/* ---- transport security (grpc_tls.c) ---- */

/* The credentials every listening port uses: TLS from opt->ssl_config_file,
 * or plaintext. INVALID_ARGUMENT "Invalid protobuf file: 'PATH'" when the
 * file does not parse. */
pl_status pl__grpc_credentials(const pl_grpc_options *opt, grpc_server_credentials **out);

/* ---- shared helpers ---- */

/* Unpacks a request; INTERNAL "Failed to parse request" like gRPC C++ when the
 * bytes are not a valid message. */
pl_status pl__grpc_unpack(pl__grpc_call_ctx *ctx, const ProtobufCMessageDescriptor *desc, const uint8_t *req,
                          size_t len, ProtobufCMessage **out);

/* Packs `msg` into a new slice. */
pl_status pl__grpc_pack(const ProtobufCMessage *msg, grpc_slice *out);

/* A request's ModelSpec as plain values; NULL gives INVALID_ARGUMENT "Missing ModelSpec". */
pl_status pl__grpc_spec_from_proto(const Tensorflow__Serving__ModelSpec *p, pl_model_spec *out);

/* The model_spec a response echoes: `signature_name` NULL leaves it unset. */
Tensorflow__Serving__ModelSpec *pl__grpc_spec_to_proto(pl__grpc_call_ctx *ctx, const char *name,
                                                       const char *signature_name, int64_t version);

#endif
