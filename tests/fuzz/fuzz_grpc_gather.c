/* Fuzz target: a PredictRequest gathered out of received pieces must decode
 * to exactly what protobuf-c makes of the same bytes in one piece.
 *
 * The first input byte sets the piece size (gRPC hands messages over in
 * pieces of any size); tensor contents of 4 bytes and more are taken apart,
 * so small inputs reach every path. Any difference aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/grpc_internal.h"
#include "tensorflow_serving/apis/predict.pb-c.h"

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len + 1);
    if (b) protobuf_c_message_pack(m, b);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t piece = (size_t)data[0] % 17 + 1;
    data++, size--;

    grpc_slice_buffer pieces;
    grpc_slice_buffer_init(&pieces);
    for (size_t at = 0; at < size; at += piece)
        grpc_slice_buffer_add(&pieces, grpc_slice_from_copied_buffer((const char *)data + at,
                                                                      at + piece <= size ? piece : size - at));
    pl_arena arena;
    pl_arena_init(&arena, 0);
    pl__pb_pool pool = {.arena = &arena};
    ProtobufCAllocator al;
    pl__pb_allocator(&al, &pool);

    Tensorflow__Serving__PredictRequest *whole = tensorflow__serving__predict_request__unpack(NULL, size, data);
    grpc_slice compact;
    pl__grpc_gathered found;
    pl_status st = pl__grpc_gather(&pieces, 4, &pool, &arena, &compact, &found);
    if (st) {
        /* Only a message protobuf-c refuses as well may fail to gather. */
        if (whole) abort();
        pl_status_free(st);
    } else {
        Tensorflow__Serving__PredictRequest *req = tensorflow__serving__predict_request__unpack(
            &al, GRPC_SLICE_LENGTH(compact), GRPC_SLICE_START_PTR(compact));
        if (!req != !whole) abort();
        if (req) {
            for (int k = 0; k < found.num_entries && (size_t)k < req->n_inputs; k++)
                if (found.entries[k].data && req->inputs[k]->value) {
                    req->inputs[k]->value->tensor_content.data = found.entries[k].data;
                    req->inputs[k]->value->tensor_content.len = found.entries[k].len;
                }
            size_t a_len, b_len;
            uint8_t *a = pack(&req->base, &a_len), *b = pack(&whole->base, &b_len);
            if (!a || !b || a_len != b_len || memcmp(a, b, a_len)) abort();
            free(a);
            free(b);
        }
        grpc_slice_unref(compact);
    }
    if (whole) tensorflow__serving__predict_request__free_unpacked(whole, NULL);
    pl__pb_pool_release(&pool);
    pl_arena_deinit(&arena);
    grpc_slice_buffer_destroy(&pieces);
    return 0;
}
