/* Text-format proto files (model config, batching parameters, monitoring and
 * SSL configs), read the way TensorFlow Serving's ParseProtoTextFile does. */
#include <stdlib.h>

#include "base/file.h"
#include "base/log.h"
#include "pb/pb.h"

pl_status pl_pb_read_text_file(const ProtobufCMessageDescriptor *desc, const char *path, size_t max_bytes,
                               ProtobufCMessage **out) {
    char *text;
    size_t len;
    PL_TRY(pl_file_read(path, max_bytes, &text, &len));
    pl_status st = pl_pb_parse_text(desc, text, len, out);
    free(text);
    if (st) {
        /* The parser's words go to the log; the error names the file. */
        pl_log_error("%s", pl_status_message(st));
        pl_status_free(st);
        return pl_error(PL_INVALID_ARGUMENT, "Invalid protobuf file: '%s'", path);
    }
    return NULL;
}
