/* Protocol buffer text format and proto3 JSON for any protobuf-c message,
 * driven by its ProtobufCMessageDescriptor (no per-message code).
 *
 *     ProtobufCMessage *m;
 *     pl_status st = pl_pb_parse_text(&tensorflow__serving__model_server_config__descriptor,
 *                                     text, len, &m);
 *     if (st) return st;   // "Error parsing text-format tensorflow.serving.ModelServerConfig: 3:5: ..."
 *     ...
 *     protobuf_c_message_free_unpacked(m, NULL);
 *
 *     pl_pb_json_options o = {.proto_field_names = true, .print_defaults = true, .pretty = true};
 *     char *json;
 *     PL_TRY(pl_pb_to_json(m, &o, &json, NULL));
 *     ...
 *     free(json);
 *
 * Text format follows protobuf's C++ TextFormat parser: fields by name,
 * messages in {} or <> with an optional ':', repeated fields given repeatedly
 * or as [a, b] lists, maps as repeated {key value} entries, enums by name or
 * number, C-escaped strings (adjacent ones concatenate), '#' comments, ';' or
 * ',' after a field, the same error texts and 1-based line:column positions
 * (tabs advance to the next multiple of 8). Beyond protobuf it refuses
 * invalid UTF-8 and NUL bytes in string fields (protobuf-c keeps strings
 * NUL-terminated), and nesting deeper than PL_PB_MAX_DEPTH. Extensions and
 * google.protobuf.Any's [type_url] syntax are refused with an error.
 *
 * JSON follows the proto3 mapping as protobuf's MessageToJsonString prints it:
 * lowerCamelCase names (or the proto names), int64 and uint64 as strings,
 * enums by name (numbers when unknown), bytes in base64, maps as objects,
 * wrapper types (google.protobuf.Int64Value, ...) as their bare value,
 * NaN / Infinity as strings, fields in field-number order. `pretty` gives
 * protobuf's add_whitespace layout (one space per level, a final newline).
 * protoc-c keeps no json_name options, so the few TensorFlow Serving fields
 * that set one are known by name (see json.c). */
#ifndef PL_PB_PB_H
#define PL_PB_PB_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"

/* The text parser's nesting limit, the depth protobuf's binary parser allows. */
#define PL_PB_MAX_DEPTH 100

/* Parses `len` bytes of text format into a new message of type `desc`,
 * allocated with malloc (free it with protobuf_c_message_free_unpacked(m,
 * NULL)). Empty input is a valid, empty message. Errors are INVALID_ARGUMENT
 * "Error parsing text-format <type>: <line>:<column>: <what>". */
pl_status pl_pb_parse_text(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                           ProtobufCMessage **out);

/* Reads the text-format file at path (at most max_bytes) into a new message,
 * as pl_pb_parse_text. A parse error is logged and reported as TensorFlow
 * Serving reports it: INVALID_ARGUMENT "Invalid protobuf file: 'PATH'". */
pl_status pl_pb_read_text_file(const ProtobufCMessageDescriptor *desc, const char *path, size_t max_bytes,
                               ProtobufCMessage **out);

typedef struct pl_pb_json_options {
    bool proto_field_names; /* "model_version_status" rather than "modelVersionStatus" */
    bool print_defaults;    /* also fields without presence at their default, [] and {} */
    bool pretty;            /* protobuf's add_whitespace layout */
    /* Finds the descriptor of an Any's packed type from its full name
     * ("tensorflow.serving.SignatureDefMap"); NULL, or a NULL result, makes an
     * Any an error. */
    const ProtobufCMessageDescriptor *(*resolve_any)(const char *full_name);
} pl_pb_json_options;

/* Prints `msg` as proto3 JSON into a new NUL-terminated malloc'd string
 * (*len, if not NULL, gets its length). opts NULL means all defaults off.
 * Fails with INVALID_ARGUMENT on a string field holding invalid UTF-8 and on
 * an Any that cannot be resolved or unpacked. */
pl_status pl_pb_to_json(const ProtobufCMessage *msg, const pl_pb_json_options *opts, char **out, size_t *len);

#endif
