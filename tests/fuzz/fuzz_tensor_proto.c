/* Fuzz target: binary TensorProto bytes -> plinth tensor -> TensorProto again.
 * Every input must end in a tensor or a clean error, never a crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include "tensor/tensor_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Tensorflow__TensorProto *proto = tensorflow__tensor_proto__unpack(NULL, size, data);
    if (!proto) return 0;
    pl_tensor *t = NULL;
    pl_status st = pl_tensor_from_proto(proto, &t);
    if (st) {
        pl_status_free(st);
    } else {
        for (int content = 0; content < 2; content++) {
            Tensorflow__TensorProto *back = NULL;
            st = pl_tensor_to_proto(t, content, NULL, &back);
            if (st) pl_status_free(st);
            else protobuf_c_message_free_unpacked(&back->base, NULL);
        }
        pl_tensor_unref(t);
    }
    protobuf_c_message_free_unpacked(&proto->base, NULL);
    return 0;
}
