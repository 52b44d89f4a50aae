/* Reading a text-format ModelServerConfig file (--model_config_file), with
 * TensorFlow Serving's ParseProtoTextFile behaviour: the parser's message goes
 * to the log, the error names the file. */
#include <stdlib.h>

#include "pb/pb.h"
#include "serving/internal.h"
#include "tensorflow_serving/config/model_server_config.pb-c.h"

/* A config file is small; this only stops a wrong path from reading a disk image. */
#define MAX_CONFIG_BYTES ((size_t)64 << 20)

pl_status pl_server_config_read_file(const char *path, pl_server_config *out) {
    ProtobufCMessage *msg;
    PL_TRY(pl_pb_read_text_file(&tensorflow__serving__model_server_config__descriptor, path, MAX_CONFIG_BYTES, &msg));
    pl_status st = pl_server_config_from_proto((const Tensorflow__Serving__ModelServerConfig *)msg, out);
    protobuf_c_message_free_unpacked(msg, NULL);
    return st;
}
