/* proto3 JSON printer: exact output for each type mapping, both name styles,
 * defaults, maps, wrappers, Any, protobuf's add_whitespace layout, errors. */
#include <stdint.h>

#include "check.h"
#include "pb/pb.h"
#include "tensorflow/core/framework/function.pb-c.h"
#include "tensorflow/core/protobuf/struct.pb-c.h"
#include "tensorflow/core/protobuf/tensor_bundle.pb-c.h"
#include "tensorflow_serving/apis/get_model_metadata.pb-c.h"
#include "tensorflow_serving/apis/get_model_status.pb-c.h"
#include "tensorflow_serving/apis/predict.pb-c.h"
#include "tensorflow_serving/config/model_server_config.pb-c.h"

/* Parses text, prints JSON with the options, compares with want (NULL: expects an error). */
static void check_json(const ProtobufCMessageDescriptor *d, const char *text, const pl_pb_json_options *o,
                       const char *want) {
    ProtobufCMessage *m = NULL;
    CHECK_OK(pl_pb_parse_text(d, text, strlen(text), &m));
    if (!m) return;
    char *json = NULL;
    size_t len = 0;
    pl_status st = pl_pb_to_json(m, o, &json, &len);
    if (want) {
        CHECK_OK(st);
        CHECK_STR(json, want);
        CHECK(json && len == strlen(json));
    } else {
        CHECK(st != NULL && json == NULL);
        CHECK_EQ_INT(pl_status_code(st), PL_INVALID_ARGUMENT);
        pl_status_free(st);
    }
    free(json);
    protobuf_c_message_free_unpacked(m, NULL);
}

static const pl_pb_json_options compact = {0};
static const pl_pb_json_options proto_names = {.proto_field_names = true};
static const pl_pb_json_options defaults = {.print_defaults = true};

static void test_scalars(void) {
    check_json(&tensorflow__tensor_proto__descriptor,
               "dtype: DT_FLOAT version_number: -7 int64_val: [-9223372036854775808, 9223372036854775807] "
               "uint64_val: 18446744073709551615 uint32_val: 4294967295 bool_val: [true, false] "
               "half_val: 15360 string_val: ['', 'a', 'ab', 'abc', '\\377\\000'] tensor_content: 'hi!'",
               &compact,
               /* field-number order: half_val (13) after bool_val (11) */
               "{\"dtype\":\"DT_FLOAT\",\"versionNumber\":-7,\"tensorContent\":\"aGkh\","
               "\"stringVal\":[\"\",\"YQ==\",\"YWI=\",\"YWJj\",\"/wA=\"],"
               "\"int64Val\":[\"-9223372036854775808\",\"9223372036854775807\"],\"boolVal\":[true,false],"
               "\"halfVal\":[15360],\"uint32Val\":[4294967295],\"uint64Val\":[\"18446744073709551615\"]}");
    check_json(&tensorflow__tensor_proto__descriptor, "dtype: 77 float_val: [0.1, -0, 3, 3.4028234663852886e38]",
               &proto_names, "{\"dtype\":77,\"float_val\":[0.1,-0,3,3.40282347e+38]}");
    check_json(&tensorflow__tensor_proto__descriptor, "double_val: [0.1, 1e21, 1e-7, nan, -inf, 0.30000000000000004]",
               &proto_names, "{\"double_val\":[0.1,1e+21,1e-07,\"NaN\",\"-Infinity\",0.30000000000000004]}");
    /* sint64 and fixed32 */
    check_json(&tensorflow__structured_value__descriptor, "int64_value: -5", &compact, "{\"int64Value\":\"-5\"}");
    check_json(&tensorflow__bundle_entry_proto__descriptor, "crc32c: 4294967295 offset: 8", &compact,
               "{\"offset\":\"8\",\"crc32c\":4294967295}");
}

static void test_strings(void) {
    check_json(&tensorflow__serving__model_spec__descriptor,
               "name: \"q\\\"b\\\\s/n\\nt\\tc\\001d\\177 \\303\\251 \\360\\237\\230\\200\"", &compact,
               "{\"name\":\"q\\\"b\\\\s/n\\nt\\tc\\u0001d\\u007f \xc3\xa9 \xf0\x9f\x98\x80\"}");
}

static void test_names_defaults_and_wrappers(void) {
    const char *spec = "name: 'm' version { value: 7 }";
    check_json(&tensorflow__serving__model_spec__descriptor, spec, &compact, "{\"name\":\"m\",\"version\":\"7\"}");
    check_json(&tensorflow__serving__model_spec__descriptor, spec, &defaults,
               "{\"name\":\"m\",\"version\":\"7\",\"signatureName\":\"\"}");
    /* A wrapper at its default value is still present, and a set oneof member prints. */
    check_json(&tensorflow__serving__model_spec__descriptor, "version { }", &compact, "{\"version\":\"0\"}");
    check_json(&tensorflow__serving__model_spec__descriptor, "version_label: ''", &compact, "{\"versionLabel\":\"\"}");
    /* Defaults: scalars without presence, [] and {}; unset messages and oneofs stay out. */
    pl_pb_json_options all = {.proto_field_names = true, .print_defaults = true};
    check_json(&tensorflow__serving__model_config__descriptor, "", &all,
               "{\"name\":\"\",\"base_path\":\"\",\"model_type\":\"MODEL_TYPE_UNSPECIFIED\",\"model_platform\":\"\","
               "\"version_labels\":{}}");
    check_json(&tensorflow__serving__predict_request__descriptor, "", &all, "{\"inputs\":{},\"output_filter\":[]}");
    check_json(&tensorflow__serving__predict_request__descriptor, "client_id: ''", &compact, "{\"clientId\":\"\"}");
}

static void test_maps(void) {
    check_json(&tensorflow__serving__model_config__descriptor,
               "version_labels { key: 'stable' value: 1 } version_labels { key: 'canary' value: -2 }", &compact,
               "{\"versionLabels\":{\"stable\":\"1\",\"canary\":\"-2\"}}");
    check_json(&tensorflow__function_def__descriptor,
               "resource_arg_unique_id { key: 3 value: 4 } arg_attr { key: 0 value { } } "
               "ret { key: 'y' value: 'n:output:0' }",
               &compact,
               "{\"ret\":{\"y\":\"n:output:0\"},\"argAttr\":{\"0\":{}},\"resourceArgUniqueId\":{\"3\":4}}");
}

static void test_pretty_layout(void) {
    pl_pb_json_options o = {.proto_field_names = true, .print_defaults = true, .pretty = true};
    check_json(&tensorflow__serving__get_model_status_response__descriptor,
               "model_version_status { version: 123 state: AVAILABLE status { } }", &o,
               "{\n"
               " \"model_version_status\": [\n"
               "  {\n"
               "   \"version\": \"123\",\n"
               "   \"state\": \"AVAILABLE\",\n"
               "   \"status\": {\n"
               "    \"error_code\": \"OK\",\n"
               "    \"error_message\": \"\"\n"
               "   }\n"
               "  }\n"
               " ]\n"
               "}\n");
    /* camelCase keeps the names the json_name options give */
    pl_pb_json_options camel = {.pretty = true};
    check_json(&tensorflow__serving__get_model_status_response__descriptor,
               "model_version_status { version: 1 status { error_code: NOT_FOUND error_message: 'x' } }", &camel,
               "{\n"
               " \"model_version_status\": [\n"
               "  {\n"
               "   \"version\": \"1\",\n"
               "   \"status\": {\n"
               "    \"error_code\": \"NOT_FOUND\",\n"
               "    \"error_message\": \"x\"\n"
               "   }\n"
               "  }\n"
               " ]\n"
               "}\n");
    check_json(&tensorflow__serving__model_config__descriptor, "", &camel, "{}\n");
    check_json(&tensorflow__serving__model_config__descriptor, "version_labels { key: 'a' value: 1 }", &camel,
               "{\n \"versionLabels\": {\n  \"a\": \"1\"\n }\n}\n");
}

static const ProtobufCMessageDescriptor *resolve(const char *name) {
    if (!strcmp(name, "tensorflow.serving.ModelSpec")) return &tensorflow__serving__model_spec__descriptor;
    if (!strcmp(name, "google.protobuf.Int64Value")) return &google__protobuf__int64_value__descriptor;
    return NULL;
}

static void test_any(void) {
    /* ModelSpec{name: "m"} is 0a 01 6d; Int64Value{value: 5} is 08 05. */
    pl_pb_json_options o = {.resolve_any = resolve};
    check_json(&tensorflow__serving__get_model_metadata_response__descriptor,
               "metadata { key: 's' value { type_url: 'type.googleapis.com/tensorflow.serving.ModelSpec' "
               "value: '\\n\\001m' } } metadata { key: 'w' value { type_url: 'x/google.protobuf.Int64Value' "
               "value: '\\010\\005' } }",
               &o,
               "{\"metadata\":{\"s\":{\"@type\":\"type.googleapis.com/tensorflow.serving.ModelSpec\",\"name\":\"m\"},"
               "\"w\":{\"@type\":\"x/google.protobuf.Int64Value\",\"value\":\"5\"}}}");
    const char *unknown = "metadata { key: 's' value { type_url: 'type.googleapis.com/foo.Bar' value: '' } }";
    check_json(&tensorflow__serving__get_model_metadata_response__descriptor, unknown, &o, NULL);
    check_json(&tensorflow__serving__get_model_metadata_response__descriptor, unknown, &compact, NULL);
    const char *malformed = "metadata { key: 's' value { type_url: 'a/tensorflow.serving.ModelSpec' value: '\\377' } }";
    check_json(&tensorflow__serving__get_model_metadata_response__descriptor, malformed, &o, NULL);
}

static void test_invalid_utf8_is_an_error(void) {
    /* The text parser refuses such strings, but binary input can carry them. */
    static const uint8_t wire[] = {0x0a, 0x02, 0xc3, 0x28};  /* ModelSpec.name = "\xc3(" */
    ProtobufCMessage *m = protobuf_c_message_unpack(&tensorflow__serving__model_spec__descriptor, NULL, sizeof wire, wire);
    CHECK(m != NULL);
    if (!m) return;
    char *json = NULL;
    CHECK_ERR(pl_pb_to_json(m, &compact, &json, NULL), PL_INVALID_ARGUMENT);
    CHECK(json == NULL);
    protobuf_c_message_free_unpacked(m, NULL);
}

int main(void) {
    RUN_TEST(test_scalars);
    RUN_TEST(test_strings);
    RUN_TEST(test_names_defaults_and_wrappers);
    RUN_TEST(test_maps);
    RUN_TEST(test_pretty_layout);
    RUN_TEST(test_any);
    RUN_TEST(test_invalid_utf8_is_an_error);
    return check_summary();
}
