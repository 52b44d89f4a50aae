/* Text format parser: TensorFlow Serving's test configs parse to the right
 * values; every syntax feature; every error with protobuf's C++ message and
 * 1-based line:column (reported at the token after the offending one, as
 * ParserImpl::ReportError does); hostile inputs are errors, never crashes. */
#include <stdint.h>

#include "base/file.h"
#include "check.h"
#include "pb/pb.h"
#include "tensorflow/core/framework/tensor.pb-c.h"
#include "tensorflow_serving/apis/model.pb-c.h"
#include "tensorflow_serving/config/logging_config.pb-c.h"
#include "tensorflow_serving/config/model_server_config.pb-c.h"
#include "tensorflow_serving/config/monitoring_config.pb-c.h"
#include "tensorflow_serving/servables/tensorflow/session_bundle_config.pb-c.h"

#define MSC (&tensorflow__serving__model_server_config__descriptor)
#define BATCH (&tensorflow__serving__batching_parameters__descriptor)

static ProtobufCMessage *parse_ok(const ProtobufCMessageDescriptor *d, const char *text) {
    ProtobufCMessage *m = NULL;
    CHECK_OK(pl_pb_parse_text(d, text, strlen(text), &m));
    return m;
}

static ProtobufCMessage *parse_file(const ProtobufCMessageDescriptor *d, const char *name) {
    const char *shared = getenv("PLINTH_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/models/tfs-testdata/%s", shared ? shared : "../shared", name);
    char *data = NULL;
    size_t len = 0;
    CHECK_OK(pl_file_read(path, 1 << 20, &data, &len));
    if (!data) return NULL;
    ProtobufCMessage *m = NULL;
    CHECK_OK(pl_pb_parse_text(d, data, len, &m));
    free(data);
    return m;
}

/* Expects the exact error "Error parsing text-format <type>: <want>". */
static void expect_error(const ProtobufCMessageDescriptor *d, const char *text, size_t len, const char *want) {
    ProtobufCMessage *m = NULL;
    pl_status st = pl_pb_parse_text(d, text, len, &m);
    char full[1024];
    snprintf(full, sizeof full, "Error parsing text-format %s: %s", d->name, want);
    CHECK(st != NULL && m == NULL);
    CHECK_EQ_INT(pl_status_code(st), PL_INVALID_ARGUMENT);
    CHECK_STR(pl_status_message(st), full);
    pl_status_free(st);
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}
#define EXPECT_ERROR(d, text, want) expect_error(d, text, sizeof(text) - 1, want)

static void test_good_model_config(void) {
    Tensorflow__Serving__ModelServerConfig *c = (void *)parse_file(MSC, "good_model_config.txt");
    if (!c) return;
    CHECK_EQ_INT(c->config_case, TENSORFLOW__SERVING__MODEL_SERVER_CONFIG__CONFIG_MODEL_CONFIG_LIST);
    Tensorflow__Serving__ModelConfigList *l = c->model_config_list;
    CHECK(l && l->n_config == 2);
    if (l && l->n_config == 2) {
        CHECK_STR(l->config[0]->name, "half_plus_two");
        CHECK_STR(l->config[0]->base_path, "${TEST_HALF_PLUS_TWO_DIR}");
        CHECK_STR(l->config[0]->model_platform, "tensorflow");
        CHECK_STR(l->config[1]->name, "half_plus_three");
        CHECK_STR(l->config[1]->base_path, "${TEST_HALF_PLUS_THREE_DIR}");
        CHECK(l->config[1]->model_version_policy == NULL && l->config[1]->n_version_labels == 0);
    }
    protobuf_c_message_free_unpacked(&c->base, NULL);
}

static void test_batching_and_monitoring_configs(void) {
    Tensorflow__Serving__BatchingParameters *b = (void *)parse_file(BATCH, "batching_config.txt");
    if (b) {
        CHECK(b->max_batch_size && b->max_batch_size->value == 128);
        CHECK(b->batch_timeout_micros && b->batch_timeout_micros->value == 0);  /* present though zero */
        CHECK(b->max_enqueued_batches && b->max_enqueued_batches->value == 1000000);
        CHECK(b->num_batch_threads && b->num_batch_threads->value == 8);
        CHECK(b->thread_pool_name == NULL && b->max_execution_batch_size == NULL);
        protobuf_c_message_free_unpacked(&b->base, NULL);
    }
    Tensorflow__Serving__MonitoringConfig *m =
        (void *)parse_file(&tensorflow__serving__monitoring_config__descriptor, "monitoring_config.txt");
    if (m) {
        CHECK(m->prometheus_config && m->prometheus_config->enable);
        if (m->prometheus_config) CHECK_STR(m->prometheus_config->path, "/monitoring/prometheus/metrics");
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
}

static void test_bad_model_config(void) {
    const char *shared = getenv("PLINTH_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/models/tfs-testdata/bad_model_config.txt", shared ? shared : "../shared");
    char *data = NULL;
    size_t len = 0;
    CHECK_OK(pl_file_read(path, 1 << 20, &data, &len));
    if (!data) return;
    expect_error(MSC, data, len,
                 "1:12: Message type \"tensorflow.serving.ModelServerConfig\" has no field named \"improperly\".");
    free(data);
}

static void test_syntax_features(void) {
    static const char text[] =
        "# a comment\n"
        "model_config_list <\n"
        "  config: { name: 'a' \"b\"  # adjacent strings join\n"
        "            base_path: \"\\x41\\101\\u00e9\\U0001F600\\ud83d\\ude00\\n\\t\\\\\\'\\\"\"\n"
        "            model_type: 1 ;\n"
        "            model_version_policy { specific { versions: [1, 0x10, 010] versions: -2 versions: [] } }\n"
        "            version_labels { key: \"stable\" value: 9223372036854775807 }\n"
        "            version_labels [{ key: \"canary\" value: -9223372036854775808 }]\n"
        "            logging_config { sampling_config { sampling_rate: 1e-3 } } },\n"
        "  config < name: \"\" name: \"again\" model_version_policy: < latest < num_versions: 4294967295 > > >\n"
        "  config {}\n"
        ">";
    Tensorflow__Serving__ModelServerConfig *c = (void *)parse_ok(MSC, text);
    if (!c) return;
    Tensorflow__Serving__ModelConfigList *l = c->model_config_list;
    CHECK(l && l->n_config == 3);
    if (!l || l->n_config != 3) goto out;
    Tensorflow__Serving__ModelConfig *a = l->config[0];
    CHECK_STR(a->name, "ab");
    CHECK_STR(a->base_path, "AA\xc3\xa9\xf0\x9f\x98\x80\xf0\x9f\x98\x80\n\t\\'\"");
    CHECK(a->model_version_policy && a->model_version_policy->specific);
    if (a->model_version_policy && a->model_version_policy->specific) {
        Tensorflow__Serving__FileSystemStoragePathSourceConfig__ServableVersionPolicy__Specific *s =
            a->model_version_policy->specific;
        CHECK(s->n_versions == 4 && s->versions[0] == 1 && s->versions[1] == 16 && s->versions[2] == 8 &&
              s->versions[3] == -2);
    }
    CHECK(a->n_version_labels == 2);
    if (a->n_version_labels == 2) {
        CHECK_STR(a->version_labels[0]->key, "stable");
        CHECK(a->version_labels[0]->value == INT64_MAX);
        CHECK_STR(a->version_labels[1]->key, "canary");
        CHECK(a->version_labels[1]->value == INT64_MIN);
    }
    CHECK(a->logging_config && a->logging_config->sampling_config &&
          a->logging_config->sampling_config->sampling_rate == 1e-3);
    /* proto3: a string still at its default may be given again */
    CHECK_STR(l->config[1]->name, "again");
    CHECK(l->config[1]->model_version_policy && l->config[1]->model_version_policy->latest &&
          l->config[1]->model_version_policy->latest->num_versions == UINT32_MAX);
    CHECK_STR(l->config[2]->name, "");
out:
    protobuf_c_message_free_unpacked(&c->base, NULL);
}

static void test_scalar_values(void) {
    static const char text[] =
        "float_val: [1.5f, -inf, .5, 1e400, 3, nan, -Infinity]\n"
        "double_val: 2.5e-3 double_val: -0\n"
        "bool_val: [true, True, t, 1, false, False, f, 0]\n"
        "string_val: \"\\xff\\000\" string_val: ''\n"  /* bytes may hold anything */
        "dtype: DT_HALF version_number: -2147483648 uint64_val: 18446744073709551615 uint32_val: 0xffffffff\n";
    Tensorflow__TensorProto *t = (void *)parse_ok(&tensorflow__tensor_proto__descriptor, text);
    if (!t) return;
    CHECK(t->n_float_val == 7);
    if (t->n_float_val == 7) {
        CHECK(t->float_val[0] == 1.5f && isinf(t->float_val[1]) && t->float_val[1] < 0 && t->float_val[2] == 0.5f);
        CHECK(isinf(t->float_val[3]) && t->float_val[4] == 3 && isnan(t->float_val[5]) && t->float_val[6] < 0);
    }
    CHECK(t->n_double_val == 2 && t->double_val[0] == 2.5e-3 && t->double_val[1] == 0 && signbit(t->double_val[1]));
    CHECK(t->n_bool_val == 8);
    for (size_t i = 0; i < t->n_bool_val; i++) CHECK_EQ_INT(t->bool_val[i], i < 4);
    CHECK(t->n_string_val == 2 && t->string_val[0].len == 2 && t->string_val[0].data[0] == 0xff &&
          t->string_val[0].data[1] == 0 && t->string_val[1].len == 0);
    CHECK_EQ_INT(t->dtype, TENSORFLOW__DATA_TYPE__DT_HALF);
    CHECK_EQ_INT(t->version_number, INT32_MIN);
    CHECK(t->n_uint64_val == 1 && t->uint64_val[0] == UINT64_MAX);
    CHECK(t->n_uint32_val == 1 && t->uint32_val[0] == UINT32_MAX);
    protobuf_c_message_free_unpacked(&t->base, NULL);

    /* An unknown number is kept in a (proto3, open) enum field. */
    t = (void *)parse_ok(&tensorflow__tensor_proto__descriptor, "dtype: 77");
    if (t) {
        CHECK_EQ_INT(t->dtype, 77);
        protobuf_c_message_free_unpacked(&t->base, NULL);
    }
}

static void test_oneof_and_wrappers(void) {
    Tensorflow__Serving__ModelSpec *s =
        (void *)parse_ok(&tensorflow__serving__model_spec__descriptor, "name: 'm' version { value: 0 }");
    if (s) {
        CHECK_EQ_INT(s->version_choice_case, TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION);
        CHECK(s->version && s->version->value == 0);
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }
    s = (void *)parse_ok(&tensorflow__serving__model_spec__descriptor, "version_label: ''");
    if (s) {  /* set, though to the empty string */
        CHECK_EQ_INT(s->version_choice_case, TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION_LABEL);
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }
    EXPECT_ERROR(&tensorflow__serving__model_spec__descriptor, "version { value: 1 } version_label: \"x\"",
                 "1:35: Field \"version_label\" is specified along with field \"version\", another member of the "
                 "same oneof.");
    EXPECT_ERROR(&tensorflow__serving__model_spec__descriptor, "version_label: \"\" version_label: \"x\"",
                 "1:32: Non-repeated field \"version_label\" is specified multiple times.");
}

static void test_empty_inputs(void) {
    static const char *const empties[] = {"", "   \n\t ", "# only a comment", "# c1\n\n# c2\n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        Tensorflow__Serving__ModelServerConfig *c = (void *)parse_ok(MSC, empties[i]);
        if (!c) continue;
        CHECK_EQ_INT(c->config_case, TENSORFLOW__SERVING__MODEL_SERVER_CONFIG__CONFIG__NOT_SET);
        protobuf_c_message_free_unpacked(&c->base, NULL);
    }
    ProtobufCMessage *m = NULL;  /* zero bytes at a NULL pointer are fine too */
    CHECK_OK(pl_pb_parse_text(MSC, NULL, 0, &m));
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static void test_errors(void) {
    EXPECT_ERROR(MSC, "model_config_list { config { foo: 1 } }",
                 "1:33: Message type \"tensorflow.serving.ModelConfig\" has no field named \"foo\".");
    EXPECT_ERROR(MSC, "model_config_list { config { name: 1 } }", "1:36: Expected string, got: 1");
    EXPECT_ERROR(MSC, "model_config_list { config { name: \"a\" name: \"b\" } }",
                 "1:44: Non-repeated field \"name\" is specified multiple times.");
    EXPECT_ERROR(MSC, "model_config_list { } model_config_list { }",
                 "1:41: Non-repeated field \"model_config_list\" is specified multiple times.");
    EXPECT_ERROR(MSC, "model_config_list { config { model_type: FOO } }",
                 "1:46: Unknown enumeration value of \"FOO\" for field \"model_type\".");
    EXPECT_ERROR(MSC, "model_config_list { config { model_type: 2147483648 } }",
                 "1:42: Integer out of range (2147483648)");
    EXPECT_ERROR(MSC, "model_config_list { config { model_type: \"TENSORFLOW\" } }",
                 "1:42: Expected integer or identifier, got: \"TENSORFLOW\"");
    EXPECT_ERROR(MSC, "model_config_list: [{}, {}]", "1:20: Expected \"{\", found \"[\".");
    EXPECT_ERROR(MSC, "model_config_list {", "1:20: Expected identifier, got: ");
    EXPECT_ERROR(MSC, "model_config_list { config { name \"x\" } }", "1:35: Expected \":\", found \"\"x\"\".");
    EXPECT_ERROR(MSC, "model_config_list < config { } }", "1:32: Expected \">\", found \"}\".");
    EXPECT_ERROR(MSC, "}", "1:1: Expected identifier, got: }");
    EXPECT_ERROR(MSC, "model_config_list { config { name: \"abc } }", "1:44: Unexpected end of string.");
    EXPECT_ERROR(MSC, "model_config_list { config {\n name: \"ab\ncd\" } }",
                 "2:11: String literals cannot cross line boundaries.");
    EXPECT_ERROR(MSC, "model_config_list { config { name: \"a\\qb\" } }",
                 "1:39: Invalid escape sequence in string literal.");
    EXPECT_ERROR(MSC, "model_config_list { config { name: \"\\x\" } }",
                 "1:39: Expected hex digits for escape sequence.");
    EXPECT_ERROR(MSC, "model_config_list { config { name: \"\\u12\" } }",
                 "1:41: Expected four hex digits for \\u escape sequence.");
    EXPECT_ERROR(MSC, "model_config_list { config { name: \"\\xff\" } }",
                 "1:36: String field \"name\" contains invalid UTF-8.");
    EXPECT_ERROR(MSC, "model_config_list { config { name: \"\\xed\\xa0\\x80\" } }",  /* a UTF-16 surrogate */
                 "1:36: String field \"name\" contains invalid UTF-8.");
    EXPECT_ERROR(MSC, "model_config_list { config { name: \"\\ud800\" } }",
                 "1:36: String field \"name\" contains invalid UTF-8.");
    EXPECT_ERROR(MSC, "model_config_list { config { name: \"a\\0b\" } }",
                 "1:36: String field \"name\" contains a NUL character.");
    EXPECT_ERROR(MSC, "\tmodel_config_list { foo: 1 }",
                 "1:32: Message type \"tensorflow.serving.ModelConfigList\" has no field named \"foo\".");
    EXPECT_ERROR(MSC, "\n\n  model_config_list {\n\tconfig { bar {} } }",
                 "4:22: Message type \"tensorflow.serving.ModelConfig\" has no field named \"bar\".");
    EXPECT_ERROR(MSC, "model_config_list { config { model_version_policy { latest { num_versions: -1 } } } }",
                 "1:76: Expected integer, got: -");
    EXPECT_ERROR(MSC, "[type.googleapis.com/x] {}",
                 "1:1: Extensions and google.protobuf.Any type URLs are not supported (in message type "
                 "\"tensorflow.serving.ModelServerConfig\").");
    EXPECT_ERROR(MSC, "model_config_list { \xc3\xa9 }", "1:21: Interpreting non ascii codepoint 195.");
    EXPECT_ERROR(MSC, "model_config_list {\x01}", "1:20: Invalid control characters encountered in text.");
    EXPECT_ERROR(MSC, "model_config_list {\0}", "1:20: Invalid control characters encountered in text.");

    EXPECT_ERROR(BATCH, "pad_variable_length_inputs: yes",
                 "1:32: Invalid value for boolean field \"pad_variable_length_inputs\". Value: \"yes\".");
    EXPECT_ERROR(BATCH, "pad_variable_length_inputs: 2", "1:29: Integer out of range (2)");
    EXPECT_ERROR(BATCH, "allowed_batch_sizes: 9223372036854775808", "1:22: Integer out of range (9223372036854775808)");
    EXPECT_ERROR(BATCH, "allowed_batch_sizes: -9223372036854775809", "1:23: Integer out of range (9223372036854775809)");
    EXPECT_ERROR(BATCH, "allowed_batch_sizes: 0x10000000000000000", "1:22: Integer out of range (0x10000000000000000)");
    EXPECT_ERROR(BATCH, "allowed_batch_sizes: 1.5", "1:22: Expected integer, got: 1.5");
    EXPECT_ERROR(BATCH, "allowed_batch_sizes: 08", "1:23: Numbers starting with leading zero must be in octal.");
    EXPECT_ERROR(BATCH, "allowed_batch_sizes: 1x", "1:23: Need space between number and identifier.");
    EXPECT_ERROR(BATCH, "allowed_batch_sizes: [1, 2", "1:27: Expected \",\", found \"\".");
    EXPECT_ERROR(BATCH, "allowed_batch_sizes: [1 2]", "1:25: Expected \",\", found \"2\".");
    EXPECT_ERROR(BATCH, "max_batch_size: 5", "1:17: Expected \"{\", found \"5\".");
    EXPECT_ERROR(BATCH, "max_batch_size { value: 5 } max_batch_size { }",
                 "1:44: Non-repeated field \"max_batch_size\" is specified multiple times.");

    const ProtobufCMessageDescriptor *sampling = &tensorflow__serving__sampling_config__descriptor;
    EXPECT_ERROR(sampling, "sampling_rate: 0x10", "1:16: Expect a decimal number, got: 0x10");
    EXPECT_ERROR(sampling, "sampling_rate: 1e", "1:18: \"e\" must be followed by exponent.");
    EXPECT_ERROR(sampling, "sampling_rate: 1.5.2", "1:19: Already saw decimal point or exponent; can't have another one.");
    EXPECT_ERROR(sampling, "sampling_rate: Abc", "1:16: Expected double, got: abc");
    EXPECT_ERROR(sampling, "sampling_rate: \"1\"", "1:16: Expected double, got: \"1\"");
}

/* Nested TensorProto -> variant_val -> tensors -> ...: two levels per step. */
static char *nested(int levels, bool close) {
    size_t n = (size_t)levels * 16 + 16, len = 0;
    char *s = malloc(n);
    for (int i = 0; i < levels; i++) {
        const char *open = i % 2 ? "tensors {" : "variant_val {";
        memcpy(s + len, open, strlen(open));
        len += strlen(open);
    }
    for (int i = 0; close && i < levels; i++) s[len++] = '}';
    s[len] = 0;
    return s;
}

static void test_nesting_limit(void) {
    const ProtobufCMessageDescriptor *d = &tensorflow__tensor_proto__descriptor;
    char *ok = nested(PL_PB_MAX_DEPTH, true);
    ProtobufCMessage *m = NULL;
    CHECK_OK(pl_pb_parse_text(d, ok, strlen(ok), &m));
    if (m) protobuf_c_message_free_unpacked(m, NULL);
    free(ok);
    static const int too_deep[] = {PL_PB_MAX_DEPTH + 1, 10000, 1000000};
    for (size_t i = 0; i < sizeof too_deep / sizeof too_deep[0]; i++) {
        char *s = nested(too_deep[i], i == 0);
        m = NULL;
        pl_status st = pl_pb_parse_text(d, s, strlen(s), &m);
        CHECK(st && !m);
        CHECK(st && strstr(pl_status_message(st),
                           "Message is too deep, the parser exceeded the configured recursion limit of 100."));
        pl_status_free(st);
        free(s);
    }
}

static void test_many_values(void) {
    /* 100000 repeated values and 20000 messages: arrays grow, and all is freed. */
    size_t n = 100000;
    char *s = malloc(n * 8 + 64), *p = s;
    p += sprintf(p, "allowed_batch_sizes: [");
    for (size_t i = 0; i < n; i++) p += sprintf(p, i ? ",%zu" : "%zu", i);
    sprintf(p, "]");
    Tensorflow__Serving__BatchingParameters *b = (void *)parse_ok(BATCH, s);
    if (b) {
        CHECK(b->n_allowed_batch_sizes == n && b->allowed_batch_sizes[n - 1] == (int64_t)n - 1);
        protobuf_c_message_free_unpacked(&b->base, NULL);
    }
    p = s + sprintf(s, "model_config_list {");
    for (size_t i = 0; i < 20000; i++) p += sprintf(p, "config{}");
    sprintf(p, "}");
    Tensorflow__Serving__ModelServerConfig *c = (void *)parse_ok(MSC, s);
    if (c) {
        CHECK(c->model_config_list && c->model_config_list->n_config == 20000);
        protobuf_c_message_free_unpacked(&c->base, NULL);
    }
    free(s);
}

static void test_truncations_never_crash(void) {
    /* Every prefix of a valid config either parses or fails cleanly. */
    static const char text[] =
        "model_config_list { config { name: \"a\\x41\" base_path: '/p' model_version_policy { specific "
        "{ versions: [1, 2] } } version_labels { key: \"k\" value: -3 } model_type: TENSORFLOW } }";
    int errors = 0;
    for (size_t n = 0; n < sizeof text; n++) {
        ProtobufCMessage *m = NULL;
        pl_status st = pl_pb_parse_text(MSC, text, n, &m);
        if (st) {
            errors++;
            CHECK(m == NULL && strncmp(pl_status_message(st), "Error parsing text-format ", 26) == 0);
            pl_status_free(st);
        } else {
            protobuf_c_message_free_unpacked(m, NULL);
        }
    }
    CHECK(errors > 100);
}

int main(void) {
    RUN_TEST(test_good_model_config);
    RUN_TEST(test_batching_and_monitoring_configs);
    RUN_TEST(test_bad_model_config);
    RUN_TEST(test_syntax_features);
    RUN_TEST(test_scalar_values);
    RUN_TEST(test_oneof_and_wrappers);
    RUN_TEST(test_empty_inputs);
    RUN_TEST(test_errors);
    RUN_TEST(test_nesting_limit);
    RUN_TEST(test_many_values);
    RUN_TEST(test_truncations_never_crash);
    return check_summary();
}
