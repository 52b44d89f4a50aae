/* A blocking unary gRPC client over the gRPC core C API, speaking protobuf-c
 * messages. One channel (and one connection) per pl_rpc; calls on it may come
 * from one thread at a time. */
#ifndef PL_CLI_RPC_H
#define PL_CLI_RPC_H

#include <protobuf-c/protobuf-c.h>

#include "base/status.h"

typedef struct pl_rpc pl_rpc;

pl_status pl_rpc_connect(const char *target, pl_rpc **out);
void pl_rpc_close(pl_rpc *rpc);

/* Calls `method` ("/tensorflow.serving.PredictionService/Predict"). On success
 * *reply is unpacked with reply_desc; free it with protobuf_c_message_free_unpacked.
 * A gRPC error becomes a status with the server's code and message. */
pl_status pl_rpc_call(pl_rpc *rpc, const char *method, const ProtobufCMessage *request,
                      const ProtobufCMessageDescriptor *reply_desc, double timeout_seconds,
                      ProtobufCMessage **reply);

/* Sends `len` already packed bytes to `method` and waits for the answer; a
 * gRPC error becomes a status. With `reply` non-NULL the reply bytes are
 * returned (*reply malloc'd, *reply_len bytes); otherwise they are dropped. */
pl_status pl_rpc_call_raw(pl_rpc *rpc, const char *method, const void *data, size_t len, double timeout_seconds,
                          void **reply, size_t *reply_len);

#endif
