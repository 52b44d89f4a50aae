/* Fuzz target: the protobuf text-format parser, on the messages plinth reads
 * as text (model server config, and GraphDef for its deep nesting and maps). */
#include <stddef.h>
#include <stdint.h>

#include "pb/pb.h"
#include "tensorflow/core/framework/graph.pb-c.h"
#include "tensorflow_serving/config/model_server_config.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const ProtobufCMessageDescriptor *desc = (data[0] & 1) ? &tensorflow__graph_def__descriptor
                                                           : &tensorflow__serving__model_server_config__descriptor;
    ProtobufCMessage *msg = NULL;
    pl_status st = pl_pb_parse_text(desc, (const char *)data + 1, size - 1, &msg);
    if (st) pl_status_free(st);
    else protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}
