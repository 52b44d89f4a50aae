/* The gRPC layer's wire-format walking: tf.Example inputs split out of
 * Classify / MultiInference requests byte for byte as protobuf-c serializes
 * them (merge and oneof rules included), the nesting-depth guard, and
 * malformed bytes that must be errors. */
#include <stdlib.h>
#include <string.h>

#include "api/grpc_internal.h"
#include "check.h"
#include "tensorflow/core/example/example.pb-c.h"
#include "tensorflow_serving/apis/classification.pb-c.h"
#include "tensorflow_serving/apis/inference.pb-c.h"
#include "tensor/tensor_proto.h"

static pl_arena arena;

/* An Example {features {feature {key: name, value {float_list {value: v}}}}}, packed. */
static size_t pack_example(const char *name, float v, uint8_t *out) {
    Tensorflow__FloatList fl = TENSORFLOW__FLOAT_LIST__INIT;
    fl.n_value = 1;
    fl.value = &v;
    Tensorflow__Feature f = TENSORFLOW__FEATURE__INIT;
    f.kind_case = TENSORFLOW__FEATURE__KIND_FLOAT_LIST;
    f.float_list = &fl;
    Tensorflow__Features__FeatureEntry e = TENSORFLOW__FEATURES__FEATURE_ENTRY__INIT;
    e.key = (char *)name;
    e.value = &f;
    Tensorflow__Features__FeatureEntry *ep = &e;
    Tensorflow__Features fs = TENSORFLOW__FEATURES__INIT;
    fs.n_feature = 1;
    fs.feature = &ep;
    Tensorflow__Example ex = TENSORFLOW__EXAMPLE__INIT;
    ex.features = &fs;
    return protobuf_c_message_pack(&ex.base, out);
}

static bool same_bytes(pl_str s, const uint8_t *p, size_t n) { return s.len == n && !memcmp(s.data, p, n); }

static void test_classification_request_examples(void) {
    uint8_t e1[64], e2[64], ctx[64];
    size_t n1 = pack_example("x", 2.0f, e1), n2 = pack_example("x", -7.5f, e2), nc = pack_example("c", 1.0f, ctx);
    Tensorflow__Example *parsed[2] = {tensorflow__example__unpack(NULL, n1, e1), tensorflow__example__unpack(NULL, n2, e2)};
    Tensorflow__Example *context = tensorflow__example__unpack(NULL, nc, ctx);
    Tensorflow__Serving__ExampleListWithContext list = TENSORFLOW__SERVING__EXAMPLE_LIST_WITH_CONTEXT__INIT;
    list.n_examples = 2;
    list.examples = parsed;
    list.context = context;
    Tensorflow__Serving__Input input = TENSORFLOW__SERVING__INPUT__INIT;
    input.kind_case = TENSORFLOW__SERVING__INPUT__KIND_EXAMPLE_LIST_WITH_CONTEXT;
    input.example_list_with_context = &list;
    Tensorflow__Serving__ModelSpec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    spec.name = "m";
    Tensorflow__Serving__ClassificationRequest req = TENSORFLOW__SERVING__CLASSIFICATION_REQUEST__INIT;
    req.model_spec = &spec;
    req.input = &input;
    uint8_t buf[512];
    size_t len = protobuf_c_message_pack(&req.base, buf);

    pl__wire_request w;
    CHECK_OK(pl__wire_scan_request(&arena, buf, len, false, &w));
    CHECK(w.has_model_spec);
    CHECK_EQ_INT(w.num_examples, 2);
    CHECK(w.has_context);
    if (w.num_examples == 2) {
        CHECK(same_bytes(w.examples[0], e1, n1));
        CHECK(same_bytes(w.examples[1], e2, n2));
    }
    CHECK(same_bytes(w.context, ctx, nc));
    Tensorflow__Serving__ModelSpec *ms =
        tensorflow__serving__model_spec__unpack(NULL, w.model_spec_len, w.model_spec);
    CHECK(ms && !strcmp(ms->name, "m"));
    protobuf_c_message_free_unpacked(&ms->base, NULL);

    /* A second `input` merges: its examples append. */
    uint8_t twice[1024];
    memcpy(twice, buf, len);
    memcpy(twice + len, buf, len);
    CHECK_OK(pl__wire_scan_request(&arena, twice, 2 * len, false, &w));
    CHECK_EQ_INT(w.num_examples, 4);
    /* ...and two contexts merge as their concatenation. */
    CHECK_EQ_INT(w.context.len, 2 * nc);

    /* Switching the oneof to example_list drops what came before. */
    Tensorflow__Serving__ExampleList plain = TENSORFLOW__SERVING__EXAMPLE_LIST__INIT;
    plain.n_examples = 1;
    plain.examples = &parsed[1];
    input.kind_case = TENSORFLOW__SERVING__INPUT__KIND_EXAMPLE_LIST;
    input.example_list = &plain;
    req.model_spec = NULL;
    size_t len2 = protobuf_c_message_pack(&req.base, twice + len);
    memcpy(twice, buf, len);
    CHECK_OK(pl__wire_scan_request(&arena, twice, len + len2, false, &w));
    CHECK_EQ_INT(w.num_examples, 1);
    CHECK(!w.has_context);
    if (w.num_examples == 1) CHECK(same_bytes(w.examples[0], e2, n2));

    tensorflow__example__free_unpacked(parsed[0], NULL);
    tensorflow__example__free_unpacked(parsed[1], NULL);
    tensorflow__example__free_unpacked(context, NULL);
    pl_arena_reset(&arena);
}

static void test_multi_inference_tasks(void) {
    Tensorflow__Serving__ModelSpec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    spec.name = "m";
    Tensorflow__Serving__InferenceTask t1 = TENSORFLOW__SERVING__INFERENCE_TASK__INIT, t2 = t1;
    t1.model_spec = &spec;
    t1.method_name = "tensorflow/serving/regress";
    t2.method_name = "tensorflow/serving/classify";
    Tensorflow__Serving__InferenceTask *tasks[] = {&t1, &t2};
    Tensorflow__Serving__MultiInferenceRequest req = TENSORFLOW__SERVING__MULTI_INFERENCE_REQUEST__INIT;
    req.n_tasks = 2;
    req.tasks = tasks;
    uint8_t buf[256];
    size_t len = protobuf_c_message_pack(&req.base, buf);
    pl__wire_request w;
    CHECK_OK(pl__wire_scan_request(&arena, buf, len, true, &w));
    CHECK_EQ_INT(w.num_tasks, 2);
    CHECK_EQ_INT(w.num_examples, 0);
    if (w.num_tasks == 2) {
        Tensorflow__Serving__InferenceTask *u =
            tensorflow__serving__inference_task__unpack(NULL, w.tasks[1].len, (const uint8_t *)w.tasks[1].data);
        CHECK(u && !strcmp(u->method_name, "tensorflow/serving/classify"));
        if (u) tensorflow__serving__inference_task__free_unpacked(u, NULL);
    }
    pl_arena_reset(&arena);
}

static void test_malformed(void) {
    pl__wire_request w;
    const uint8_t truncated_len[] = {0x12, 0x05, 0x0a};            /* input: 5 bytes promised, 1 given */
    const uint8_t bad_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    const uint8_t group[] = {0x0b, 0x0c};                          /* start/end group */
    const uint8_t zero_field[] = {0x00, 0x01};
    const uint8_t bad_nested[] = {0x12, 0x03, 0x0a, 0x05, 0x0a};  /* example_list with a cut example */
    CHECK_ERR(pl__wire_scan_request(&arena, truncated_len, sizeof truncated_len, false, &w), PL_INTERNAL);
    CHECK_ERR(pl__wire_scan_request(&arena, bad_varint, sizeof bad_varint, false, &w), PL_INTERNAL);
    CHECK_ERR(pl__wire_scan_request(&arena, group, sizeof group, false, &w), PL_INTERNAL);
    CHECK_ERR(pl__wire_scan_request(&arena, zero_field, sizeof zero_field, false, &w), PL_INTERNAL);
    CHECK_ERR(pl__wire_scan_request(&arena, bad_nested, sizeof bad_nested, false, &w), PL_INTERNAL);
    /* Unknown fields of every wire type are skipped. */
    const uint8_t unknown[] = {0x18, 0x05, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x2d, 1, 2, 3, 4, 0x3a, 0x01, 0x00};
    CHECK_OK(pl__wire_scan_request(&arena, unknown, sizeof unknown, false, &w));
    CHECK_EQ_INT(w.num_examples, 0);
    pl_arena_reset(&arena);
}

/* The body of a TensorProto nesting variant_val { tensors { ... } } `levels` times. */
static size_t nested_predict(int levels, uint8_t *buf, size_t cap) {
    size_t n = 0;
    uint8_t *tmp = malloc(cap);
    for (int i = 0; i < levels; i++) {
        /* wrap buf[0..n) as field `tag`, twice: tensors (0x1a) then variant_val (0x7a) */
        for (int k = 0; k < 2; k++) {
            uint8_t hdr[6];
            size_t h = 0;
            hdr[h++] = k == 0 ? 0x1a : 0x7a;
            size_t v = n;
            do {
                hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
                v >>= 7;
            } while (v);
            memcpy(tmp, hdr, h);
            memcpy(tmp + h, buf, n);
            n += h;
            memcpy(buf, tmp, n);
        }
    }
    free(tmp);
    return n;
}

static void test_depth_guard(void) {
    static uint8_t buf[1 << 16];
    size_t n = nested_predict(40, buf, sizeof buf); /* 80 levels */
    CHECK(pl__wire_depth_ok(&tensorflow__tensor_proto__descriptor, buf, n, 100));
    n = nested_predict(60, buf, sizeof buf); /* 120 levels */
    CHECK(!pl__wire_depth_ok(&tensorflow__tensor_proto__descriptor, buf, n, 100));
    /* Bytes fields are not descended into, whatever they hold. */
    uint8_t content[] = {0x22, 0x02, 0x7a, 0x00};
    CHECK(pl__wire_depth_ok(&tensorflow__tensor_proto__descriptor, content, sizeof content, 0));
    uint8_t cut[] = {0x7a, 0x09, 0x1a};
    CHECK(!pl__wire_depth_ok(&tensorflow__tensor_proto__descriptor, cut, sizeof cut, 100));
}

int main(void) {
    pl_arena_init(&arena, 0);
    RUN_TEST(test_classification_request_examples);
    RUN_TEST(test_multi_inference_tasks);
    RUN_TEST(test_malformed);
    RUN_TEST(test_depth_guard);
    pl_arena_deinit(&arena);
    return check_summary();
}
