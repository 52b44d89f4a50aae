/* Reads a message of a named type (text format, or binary with --binary) and
 * prints it as proto3 JSON, so that tests can compare plinth's text parser and
 * JSON printer with Python's protobuf.
 *
 *   pb_json [--binary] [--camel] [--no-defaults] [--compact] TYPE FILE
 *
 * JSON goes to stdout; a parse error goes to stderr with exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "pb/pb.h"
#include "tensorflow/core/framework/graph.pb-c.h"
#include "tensorflow/core/framework/tensor.pb-c.h"
#include "tensorflow/core/protobuf/saved_model.pb-c.h"
#include "tensorflow/core/protobuf/tensor_bundle.pb-c.h"
#include "tensorflow_serving/apis/get_model_metadata.pb-c.h"
#include "tensorflow_serving/apis/get_model_status.pb-c.h"
#include "tensorflow_serving/apis/predict.pb-c.h"
#include "tensorflow_serving/apis/prediction_log.pb-c.h"
#include "tensorflow_serving/config/model_server_config.pb-c.h"
#include "tensorflow_serving/config/monitoring_config.pb-c.h"
#include "tensorflow_serving/config/platform_config.pb-c.h"
#include "tensorflow_serving/config/ssl_config.pb-c.h"
#include "tensorflow_serving/servables/tensorflow/session_bundle_config.pb-c.h"
#include "grpc_predict_v2.pb-c.h"

static const ProtobufCMessageDescriptor *const types[] = {
    &tensorflow__serving__model_server_config__descriptor,
    &tensorflow__serving__batching_parameters__descriptor,
    &tensorflow__serving__monitoring_config__descriptor,
    &tensorflow__serving__platform_config_map__descriptor,
    &tensorflow__serving__sslconfig__descriptor,
    &tensorflow__serving__get_model_status_response__descriptor,
    &tensorflow__serving__get_model_metadata_response__descriptor,
    &tensorflow__serving__signature_def_map__descriptor,
    &tensorflow__serving__predict_request__descriptor,
    &tensorflow__serving__predict_response__descriptor,
    &tensorflow__serving__prediction_log__descriptor,
    &tensorflow__saved_model__descriptor,
    &tensorflow__asset_file_def__descriptor, /* packed in Any in TF1 SavedModel collections */
    &tensorflow__graph_def__descriptor,
    &tensorflow__tensor_proto__descriptor,
    &tensorflow__bundle_entry_proto__descriptor,
    &inference__model_infer_request__descriptor,
};

static const ProtobufCMessageDescriptor *find_type(const char *name) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(types[i]->name, name)) return types[i];
    return NULL;
}

int main(int argc, char **argv) {
    bool binary = false;
    pl_pb_json_options o = {.proto_field_names = true, .print_defaults = true, .pretty = true, .resolve_any = find_type};
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strcmp(argv[i], "--binary")) binary = true;
        else if (!strcmp(argv[i], "--camel")) o.proto_field_names = false;
        else if (!strcmp(argv[i], "--no-defaults")) o.print_defaults = false;
        else if (!strcmp(argv[i], "--compact")) o.pretty = false;
        else break;
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: pb_json [--binary] [--camel] [--no-defaults] [--compact] TYPE FILE\n");
        return 2;
    }
    const ProtobufCMessageDescriptor *d = find_type(argv[i]);
    if (!d) {
        fprintf(stderr, "pb_json: unknown type %s\n", argv[i]);
        return 2;
    }
    char *data;
    size_t len;
    pl_status st = pl_file_read(argv[i + 1], (size_t)1 << 30, &data, &len);
    if (st) {
        fprintf(stderr, "%s\n", pl_status_message(st));
        pl_status_free(st);
        return 2;
    }
    ProtobufCMessage *m = NULL;
    if (binary) {
        m = protobuf_c_message_unpack(d, NULL, len, (const uint8_t *)data);
        if (!m) st = pl_error(PL_INVALID_ARGUMENT, "cannot unpack %s", d->name);
    } else {
        st = pl_pb_parse_text(d, data, len, &m);
    }
    free(data);
    char *json = NULL;
    if (!st) st = pl_pb_to_json(m, &o, &json, NULL);
    if (m) protobuf_c_message_free_unpacked(m, NULL);
    if (st) {
        fprintf(stderr, "%s\n", pl_status_message(st));
        pl_status_free(st);
        return 1;
    }
    fputs(json, stdout);
    free(json);
    return 0;
}
