/* A blocking unary gRPC client over the gRPC core C API, speaking protobuf-c
 * messages. One channel per server; calls may come from one thread at a time. */
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

#endif
