/* Unary gRPC calls from the client, one batch per call on a pluck queue. */
#include "cli/rpc.h"

#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

struct pl_rpc {
    grpc_channel *channel;
    grpc_completion_queue *cq;
};

pl_status pl_rpc_connect(const char *target, pl_rpc **out) {
    /* The system resolver (getaddrinfo), unless the user chose one: a
     * short-lived client gains nothing from c-ares, whose resolver leaves an
     * allocation behind at shutdown that LeakSanitizer reports. */
    setenv("GRPC_DNS_RESOLVER", "native", 0);
    grpc_init();
    pl_rpc *rpc = calloc(1, sizeof *rpc);
    if (!rpc) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    /* Like TensorFlow Serving's own clients, accept replies of any size. A
     * local subchannel pool gives each pl_rpc its own connection, so the load
     * generator's clients are separate connections, as separate processes are. */
    grpc_arg arg[2] = {
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, .value.integer = -1},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, .value.integer = 1},
    };
    grpc_channel_args args = {.num_args = 2, .args = arg};
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    rpc->channel = grpc_channel_create(target, creds, &args);
    grpc_channel_credentials_release(creds);
    rpc->cq = grpc_completion_queue_create_for_pluck(NULL);
    *out = rpc;
    return NULL;
}

void pl_rpc_close(pl_rpc *rpc) {
    if (!rpc) return;
    grpc_channel_destroy(rpc->channel);
    grpc_completion_queue_shutdown(rpc->cq);
    while (grpc_completion_queue_pluck(rpc->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(rpc->cq);
    free(rpc);
    grpc_shutdown();
}

pl_status pl_rpc_call_raw(pl_rpc *rpc, const char *method, const void *data, size_t len, double timeout_seconds,
                          void **reply, size_t *reply_len) {
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_millis((int64_t)(timeout_seconds * 1000), GPR_TIMESPAN));
    grpc_slice method_slice = grpc_slice_from_copied_string(method);
    grpc_call *call = grpc_channel_create_call(rpc->channel, NULL, GRPC_PROPAGATE_DEFAULTS, rpc->cq, method_slice,
                                               NULL, deadline, NULL);
    grpc_slice_unref(method_slice);

    grpc_slice payload = grpc_slice_from_copied_buffer(data, len);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&payload, 1), *recv = NULL;
    grpc_slice_unref(payload);
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_status_code code = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.status = &code;
    ops[5].data.recv_status_on_client.status_details = &details;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing;

    pl_status st = NULL;
    if (grpc_call_start_batch(call, ops, 6, call, NULL) != GRPC_CALL_OK) {
        st = pl_error(PL_INTERNAL, "cannot start the call to %s", method);
    } else {
        grpc_completion_queue_pluck(rpc->cq, call, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (code != GRPC_STATUS_OK) {
            char *msg = grpc_slice_to_c_string(details);
            st = pl_error((pl_code)code, "%s", msg);
            gpr_free(msg);
        } else if (!recv) {
            st = pl_error(PL_INTERNAL, "the server sent no reply to %s", method);
        } else if (reply) {
            grpc_byte_buffer_reader reader;
            grpc_byte_buffer_reader_init(&reader, recv);
            grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
            grpc_byte_buffer_reader_destroy(&reader);
            *reply_len = GRPC_SLICE_LENGTH(all);
            if ((*reply = malloc(*reply_len + 1))) memcpy(*reply, GRPC_SLICE_START_PTR(all), *reply_len);
            else st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            grpc_slice_unref(all);
        }
    }
    grpc_byte_buffer_destroy(send);
    if (recv) grpc_byte_buffer_destroy(recv);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(call);
    return st;
}

pl_status pl_rpc_call(pl_rpc *rpc, const char *method, const ProtobufCMessage *request,
                      const ProtobufCMessageDescriptor *reply_desc, double timeout_seconds,
                      ProtobufCMessage **reply) {
    size_t n = protobuf_c_message_get_packed_size(request);
    uint8_t *data = malloc(n + 1);
    if (!data) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    protobuf_c_message_pack(request, data);
    void *bytes = NULL;
    size_t len = 0;
    pl_status st = pl_rpc_call_raw(rpc, method, data, n, timeout_seconds, &bytes, &len);
    free(data);
    if (!st && !(*reply = protobuf_c_message_unpack(reply_desc, NULL, len, bytes)))
        st = pl_error(PL_DATA_LOSS, "the reply to %s does not parse", method);
    free(bytes);
    return st;
}
