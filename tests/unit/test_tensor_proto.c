/* TensorProto <-> tensor: TensorFlow's FromProto rules on every dtype, every
 * malformed-proto error, and encodings compared byte for byte with what
 * Python's protobuf serialises for the same TensorProto. */
#include <stdint.h>

#include "check.h"
#include "tensor/tensor_proto.h"

/* A proto with the given dtype and shape; dims live in the caller's arrays. */
typedef struct {
    Tensorflow__TensorProto p;
    Tensorflow__TensorShapeProto shape;
    Tensorflow__TensorShapeProto__Dim dim_store[10];
    Tensorflow__TensorShapeProto__Dim *dims[10];
} proto_buf;

static Tensorflow__TensorProto *make(proto_buf *b, int dtype, int rank, const int64_t *dims) {
    tensorflow__tensor_proto__init(&b->p);
    tensorflow__tensor_shape_proto__init(&b->shape);
    b->p.dtype = (Tensorflow__DataType)dtype;
    b->p.tensor_shape = &b->shape;
    for (int i = 0; i < rank; i++) {
        tensorflow__tensor_shape_proto__dim__init(&b->dim_store[i]);
        b->dim_store[i].size = dims[i];
        b->dims[i] = &b->dim_store[i];
    }
    b->shape.n_dim = (size_t)rank;
    b->shape.dim = b->dims;
    return &b->p;
}

static pl_tensor *decode_ok(const Tensorflow__TensorProto *p) {
    pl_tensor *t = NULL;
    CHECK_OK(pl_tensor_from_proto(p, &t));
    return t;
}

/* ---- decoding typed fields ---- */

static void test_float_broadcast_rules(void) {
    proto_buf b;
    int64_t d3[] = {3}, d22[] = {2, 2};
    float two[] = {1.5f, -2.0f}, five[] = {1, 2, 3, 4, 5};

    Tensorflow__TensorProto *p = make(&b, 1, 1, d3);
    p->n_float_val = 2, p->float_val = two;  /* fewer: the last value repeats */
    pl_tensor *t = decode_ok(p);
    if (t) {
        float *v = t->data;
        CHECK(t->dtype == PL_DT_FLOAT && t->rank == 1 && t->dims[0] == 3 && t->count == 3);
        CHECK(v[0] == 1.5f && v[1] == -2.0f && v[2] == -2.0f);
        pl_tensor_unref(t);
    }
    p = make(&b, 1, 2, d22);
    p->n_float_val = 1, p->float_val = two;  /* one value fills the shape */
    t = decode_ok(p);
    if (t) {
        float *v = t->data;
        CHECK(t->rank == 2 && v[0] == 1.5f && v[1] == 1.5f && v[2] == 1.5f && v[3] == 1.5f);
        pl_tensor_unref(t);
    }
    p = make(&b, 1, 1, d3);
    p->n_float_val = 5, p->float_val = five;  /* more: the extra values are ignored */
    t = decode_ok(p);
    if (t) {
        float *v = t->data;
        CHECK(v[0] == 1 && v[1] == 2 && v[2] == 3);
        pl_tensor_unref(t);
    }
    p = make(&b, 1, 1, d3);  /* none: zeros, even with values in another field */
    int32_t ints[] = {7, 8, 9};
    p->n_int_val = 3, p->int_val = ints;
    t = decode_ok(p);
    if (t) {
        float *v = t->data;
        CHECK(v[0] == 0 && v[1] == 0 && v[2] == 0);
        pl_tensor_unref(t);
    }
}

static void test_scalar_without_shape(void) {
    Tensorflow__TensorProto p = TENSORFLOW__TENSOR_PROTO__INIT;
    double v = 2.25;
    p.dtype = TENSORFLOW__DATA_TYPE__DT_DOUBLE;
    p.n_double_val = 1, p.double_val = &v;
    pl_tensor *t = decode_ok(&p);
    if (t) {
        CHECK(t->rank == 0 && t->count == 1 && *(double *)t->data == 2.25);
        pl_tensor_unref(t);
    }
}

static void test_int_val_types(void) {
    proto_buf b;
    int64_t d4[] = {4};
    int32_t vals[] = {300, -1, 200, 40000};
    struct { int dtype; int64_t want[4]; } cases[] = {
        {PL_DT_INT32, {300, -1, 200, 40000}},
        {PL_DT_QINT32, {300, -1, 200, 40000}},
        {PL_DT_UINT8, {44, 255, 200, 64}},        /* low 8 bits */
        {PL_DT_QUINT8, {44, 255, 200, 64}},
        {PL_DT_INT8, {44, -1, -56, 64}},
        {PL_DT_QINT8, {44, -1, -56, 64}},
        {PL_DT_INT16, {300, -1, 200, -25536}},     /* low 16 bits */
        {PL_DT_QINT16, {300, -1, 200, -25536}},
        {PL_DT_UINT16, {300, 65535, 200, 40000}},
        {PL_DT_QUINT16, {300, 65535, 200, 40000}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensorflow__TensorProto *p = make(&b, cases[c].dtype, 1, d4);
        p->n_int_val = 4, p->int_val = vals;
        pl_tensor *t = decode_ok(p);
        if (!t) continue;
        CHECK_EQ_INT(t->dtype, cases[c].dtype);
        for (int i = 0; i < 4; i++) CHECK_EQ_INT(pl_tensor_get_i64(t, i), cases[c].want[i]);
        pl_tensor_unref(t);
    }
}

static void test_wide_int_types(void) {
    proto_buf b;
    int64_t d3[] = {3};
    int64_t i64[] = {INT64_MIN, -5};
    uint32_t u32[] = {4000000000u};
    uint64_t u64[] = {18446744073709551615ull, 1};

    Tensorflow__TensorProto *p = make(&b, PL_DT_INT64, 1, d3);
    p->n_int64_val = 2, p->int64_val = i64;
    pl_tensor *t = decode_ok(p);
    if (t) {
        int64_t *v = t->data;
        CHECK(v[0] == INT64_MIN && v[1] == -5 && v[2] == -5);
        pl_tensor_unref(t);
    }
    p = make(&b, PL_DT_UINT32, 1, d3);
    p->n_uint32_val = 1, p->uint32_val = u32;
    t = decode_ok(p);
    if (t) {
        uint32_t *v = t->data;
        CHECK(v[0] == 4000000000u && v[2] == 4000000000u);
        pl_tensor_unref(t);
    }
    p = make(&b, PL_DT_UINT64, 1, d3);
    p->n_uint64_val = 2, p->uint64_val = u64;
    t = decode_ok(p);
    if (t) {
        uint64_t *v = t->data;
        CHECK(v[0] == UINT64_MAX && v[1] == 1 && v[2] == 1);
        pl_tensor_unref(t);
    }
}

static void test_half_bfloat16_bool(void) {
    proto_buf b;
    int64_t d3[] = {3};
    int32_t halves[] = {0x3c00, 0xc000};  /* 1.0, -2.0 as IEEE half */
    int32_t bf[] = {0x3f80, 0x10000 | 0x4049};  /* 1.0; high bits beyond 16 are dropped */
    protobuf_c_boolean bools[] = {1, 0};

    Tensorflow__TensorProto *p = make(&b, PL_DT_HALF, 1, d3);
    p->n_half_val = 2, p->half_val = halves;
    pl_tensor *t = decode_ok(p);
    if (t) {
        uint16_t *v = t->data;
        CHECK(v[0] == 0x3c00 && v[1] == 0xc000 && v[2] == 0xc000);
        CHECK(pl_tensor_get_f64(t, 1) == -2.0);
        pl_tensor_unref(t);
    }
    p = make(&b, PL_DT_BFLOAT16, 1, d3);
    p->n_half_val = 2, p->half_val = bf;
    t = decode_ok(p);
    if (t) {
        uint16_t *v = t->data;
        CHECK(v[0] == 0x3f80 && v[1] == 0x4049 && v[2] == 0x4049);
        CHECK(pl_tensor_get_f64(t, 0) == 1.0);
        pl_tensor_unref(t);
    }
    p = make(&b, PL_DT_HALF, 1, d3);  /* BFLOAT16 and HALF never read int_val */
    int32_t ints[] = {0x3c00};
    p->n_int_val = 1, p->int_val = ints;
    t = decode_ok(p);
    if (t) {
        uint16_t *v = t->data;
        CHECK(v[0] == 0 && v[2] == 0);
        pl_tensor_unref(t);
    }
    p = make(&b, PL_DT_BOOL, 1, d3);
    p->n_bool_val = 2, p->bool_val = bools;
    t = decode_ok(p);
    if (t) {
        uint8_t *v = t->data;
        CHECK(v[0] == 1 && v[1] == 0 && v[2] == 0);
        pl_tensor_unref(t);
    }
}

static void test_complex(void) {
    proto_buf b;
    int64_t d2[] = {2};
    float sc[] = {1, 2, 3};  /* odd: the trailing 3 is not a whole element */
    double dc[] = {1.5, -2.5, 3.5, -4.5};

    Tensorflow__TensorProto *p = make(&b, PL_DT_COMPLEX64, 1, d2);
    p->n_scomplex_val = 3, p->scomplex_val = sc;
    pl_tensor *t = decode_ok(p);
    if (t) {
        float *v = t->data;
        CHECK(v[0] == 1 && v[1] == 2 && v[2] == 1 && v[3] == 2);
        pl_tensor_unref(t);
    }
    p = make(&b, PL_DT_COMPLEX128, 1, d2);
    p->n_dcomplex_val = 4, p->dcomplex_val = dc;
    t = decode_ok(p);
    if (t) {
        double *v = t->data;
        CHECK(v[0] == 1.5 && v[1] == -2.5 && v[2] == 3.5 && v[3] == -4.5);
        pl_tensor_unref(t);
    }
}

static void test_strings(void) {
    proto_buf b;
    int64_t d3[] = {3}, d2[] = {2};
    ProtobufCBinaryData sv[] = {{1, (uint8_t *)"a"}, {3, (uint8_t *)"b\0c"}};

    Tensorflow__TensorProto *p = make(&b, PL_DT_STRING, 1, d3);
    p->n_string_val = 2, p->string_val = sv;
    pl_tensor *t = decode_ok(p);
    if (t) {
        pl_str *s = t->data;
        CHECK(s[0].len == 1 && !memcmp(s[0].data, "a", 1));
        CHECK(s[1].len == 3 && !memcmp(s[1].data, "b\0c", 3));
        CHECK(s[2].len == 3 && !memcmp(s[2].data, "b\0c", 3));
        pl_tensor_unref(t);
    }
    p = make(&b, PL_DT_STRING, 1, d2);  /* no values: empty strings */
    t = decode_ok(p);
    if (t) {
        pl_str *s = t->data;
        CHECK(s[0].len == 0 && s[1].len == 0);
        pl_tensor_unref(t);
    }
}

/* ---- decoding tensor_content ---- */

static void test_content_numeric(void) {
    proto_buf b;
    int64_t d21[] = {2, 1};
    uint8_t bytes[] = {7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    float ignored[] = {9};

    /* Every numeric dtype reads its little-endian bytes, whatever typed values are present. */
    static const int numeric[] = {PL_DT_FLOAT, PL_DT_INT32, PL_DT_UINT32, PL_DT_QINT32, PL_DT_INT16, PL_DT_UINT16,
                                  PL_DT_HALF, PL_DT_BFLOAT16, PL_DT_INT8, PL_DT_UINT8, PL_DT_QINT8, PL_DT_QUINT8,
                                  PL_DT_QINT16, PL_DT_QUINT16, PL_DT_DOUBLE, PL_DT_INT64, PL_DT_UINT64,
                                  PL_DT_COMPLEX64, PL_DT_COMPLEX128};
    for (size_t c = 0; c < sizeof numeric / sizeof numeric[0]; c++) {
        pl_dtype dt = (pl_dtype)numeric[c];
        size_t need = 2 * pl_dtype_size(dt);
        uint8_t content[40];
        for (size_t i = 0; i < need; i++) content[i] = (uint8_t)(i * 37 + 1);
        Tensorflow__TensorProto *p = make(&b, dt, 2, d21);
        p->tensor_content.len = need, p->tensor_content.data = content;
        p->n_float_val = 1, p->float_val = ignored;
        pl_tensor *t = decode_ok(p);
        if (!t) continue;
        CHECK(t->dtype == dt && t->count == 2 && !memcmp(t->data, content, need));
        pl_tensor_unref(t);

        p->tensor_content.len = need - 1;  /* one byte short */
        CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
        p->tensor_content.len = need + 1;
        content[need] = 0;
        CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
    }

    Tensorflow__TensorProto *p = make(&b, PL_DT_INT32, 2, d21);
    p->tensor_content.len = 8, p->tensor_content.data = bytes;
    pl_tensor *t = decode_ok(p);
    if (t) {
        CHECK(((int32_t *)t->data)[0] == 7 && ((int32_t *)t->data)[1] == -1);
        pl_tensor_unref(t);
    }
    uint8_t bools[] = {0, 2};  /* any non-zero byte is true */
    p = make(&b, PL_DT_BOOL, 2, d21);
    p->tensor_content.len = 2, p->tensor_content.data = bools;
    t = decode_ok(p);
    if (t) {
        CHECK(((uint8_t *)t->data)[0] == 0 && ((uint8_t *)t->data)[1] == 1);
        pl_tensor_unref(t);
    }
}

static void test_content_strings(void) {
    proto_buf b;
    int64_t d3[] = {3}, d2[] = {2};
    /* lengths 1, 0, 130 (varint 0x82 0x01), then the bytes */
    uint8_t content[4 + 1 + 130];
    content[0] = 1, content[1] = 0, content[2] = 0x82, content[3] = 0x01, content[4] = 'x';
    for (int i = 0; i < 130; i++) content[5 + i] = (uint8_t)('a' + i % 26);

    Tensorflow__TensorProto *p = make(&b, PL_DT_STRING, 1, d3);
    p->tensor_content.len = sizeof content, p->tensor_content.data = content;
    pl_tensor *t = decode_ok(p);
    if (t) {
        pl_str *s = t->data;
        CHECK(s[0].len == 1 && s[0].data[0] == 'x');
        CHECK(s[1].len == 0);
        CHECK(s[2].len == 130 && s[2].data[0] == 'a' && s[2].data[129] == 'a' + 129 % 26);
        pl_tensor_unref(t);
    }
    p->tensor_content.len = sizeof content - 1;  /* data shorter than the lengths say */
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
    p = make(&b, PL_DT_STRING, 1, d2);           /* data longer than the lengths say */
    p->tensor_content.len = 5, p->tensor_content.data = content;
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
    uint8_t truncated[] = {1, 0x82};             /* varint cut short */
    p->tensor_content.len = 2, p->tensor_content.data = truncated;
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
    uint8_t long_varint[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0};  /* six-byte varint */
    p->tensor_content.len = sizeof long_varint, p->tensor_content.data = long_varint;
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
    int64_t huge[] = {(int64_t)1 << 40};         /* more strings than bytes: refused before allocating */
    p = make(&b, PL_DT_STRING, 1, huge);
    p->tensor_content.len = 4, p->tensor_content.data = content;
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
}

/* ---- errors and empty tensors ---- */

static void test_shape_errors(void) {
    proto_buf b;
    pl_tensor *t = NULL;
    float one = 1;

    int64_t neg[] = {2, -1};
    Tensorflow__TensorProto *p = make(&b, PL_DT_FLOAT, 2, neg);
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);

    int64_t over[] = {(int64_t)1 << 32, (int64_t)1 << 32};
    p = make(&b, PL_DT_FLOAT, 2, over);
    p->n_float_val = 1, p->float_val = &one;
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
    int64_t over3[] = {(int64_t)1 << 21, (int64_t)1 << 21, (int64_t)1 << 21};
    p = make(&b, PL_DT_FLOAT, 3, over3);
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);

    int64_t ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    p = make(&b, PL_DT_FLOAT, 9, ones);
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
    p = make(&b, PL_DT_FLOAT, 8, ones);
    t = decode_ok(p);
    if (t) {
        CHECK(t->rank == 8 && t->count == 1);
        pl_tensor_unref(t);
    }

    p = make(&b, PL_DT_FLOAT, 0, NULL);
    b.shape.unknown_rank = 1;
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);

    /* Within int64 but beyond what a tensor may hold: refused, not attempted. */
    int64_t big[] = {(int64_t)1 << 40};
    p = make(&b, PL_DT_FLOAT, 1, big);
    p->n_float_val = 1, p->float_val = &one;
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_RESOURCE_EXHAUSTED);
    p->n_float_val = 0;
    p->tensor_content.len = 4, p->tensor_content.data = (uint8_t *)&one;
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
}

static void test_dtype_errors(void) {
    proto_buf b;
    pl_tensor *t = NULL;
    int64_t d1[] = {1}, d0[] = {0};
    static const int bad[] = {0, 24, 101, 119, -1, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Tensorflow__TensorProto *p = make(&b, bad[i], 1, d1);
        CHECK_ERR(pl_tensor_from_proto(p, &t), PL_INVALID_ARGUMENT);
    }
    Tensorflow__TensorProto *p = make(&b, PL_DT_RESOURCE, 1, d1);
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_UNIMPLEMENTED);
    p = make(&b, PL_DT_VARIANT, 1, d1);
    CHECK_ERR(pl_tensor_from_proto(p, &t), PL_UNIMPLEMENTED);
    p = make(&b, PL_DT_VARIANT, 1, d0);  /* no elements: nothing to decode */
    t = decode_ok(p);
    if (t) {
        CHECK(t->dtype == PL_DT_VARIANT && t->count == 0);
        pl_tensor_unref(t);
    }
}

static void test_empty_ignores_values(void) {
    proto_buf b;
    int64_t d[] = {3, 0};
    uint8_t junk[] = {1, 2, 3};
    Tensorflow__TensorProto *p = make(&b, PL_DT_FLOAT, 2, d);
    p->tensor_content.len = 3, p->tensor_content.data = junk;  /* wrong size, but unused */
    pl_tensor *t = decode_ok(p);
    if (t) {
        CHECK(t->rank == 2 && t->dims[0] == 3 && t->dims[1] == 0 && t->count == 0);
        pl_tensor_unref(t);
    }
}

static void test_partial_shapes(void) {
    proto_buf b;
    int rank;
    int64_t dims[PL_MAX_RANK];
    int64_t d[] = {-1, 3};
    make(&b, PL_DT_FLOAT, 2, d);
    CHECK_OK(pl_partial_shape_from_proto(&b.shape, &rank, dims));
    CHECK(rank == 2 && dims[0] == -1 && dims[1] == 3);
    CHECK_ERR(pl_shape_from_proto(&b.shape, &rank, dims), PL_INVALID_ARGUMENT);
    int64_t d2[] = {-2};
    make(&b, PL_DT_FLOAT, 1, d2);
    CHECK_ERR(pl_partial_shape_from_proto(&b.shape, &rank, dims), PL_INVALID_ARGUMENT);
    make(&b, PL_DT_FLOAT, 0, NULL);
    b.shape.unknown_rank = 1;
    CHECK_OK(pl_partial_shape_from_proto(&b.shape, &rank, dims));
    CHECK(rank == -1);
    make(&b, PL_DT_FLOAT, 2, d);
    b.shape.unknown_rank = 1;  /* unknown rank with dimensions is contradictory */
    CHECK_ERR(pl_partial_shape_from_proto(&b.shape, &rank, dims), PL_INVALID_ARGUMENT);
    CHECK_OK(pl_partial_shape_from_proto(NULL, &rank, dims));
    CHECK(rank == 0);
}

/* ---- encoding ---- */

/* Counts live allocations so tests can prove free_unpacked releases all of
 * them, and can fail the k-th allocation. */
typedef struct { long live, total, fail_at; } counting;

static void *count_alloc(void *data, size_t size) {
    counting *c = data;
    if (c->fail_at && ++c->total == c->fail_at) return NULL;
    void *p = malloc(size);
    if (p) c->live++;
    return p;
}
static void count_free(void *data, void *p) {
    counting *c = data;
    if (p) c->live--;
    free(p);
}

static pl_tensor *tensor_of(pl_dtype dt, int rank, const int64_t *dims, const void *data) {
    pl_tensor *t = NULL;
    CHECK_OK(pl_tensor_alloc(dt, rank, dims, &t));
    if (t && data) memcpy(t->data, data, pl_tensor_nbytes(t));
    return t;
}

static void check_packed(const pl_tensor *t, bool content, const char *want, size_t want_len) {
    counting c = {0, 0, 0};
    ProtobufCAllocator a = {count_alloc, count_free, &c};
    Tensorflow__TensorProto *p = NULL;
    CHECK_OK(pl_tensor_to_proto(t, content, &a, &p));
    if (!p) return;
    uint8_t buf[256];
    size_t n = protobuf_c_message_get_packed_size(&p->base);
    CHECK_EQ_INT(n, want_len);
    if (n <= sizeof buf) {
        protobuf_c_message_pack(&p->base, buf);
        CHECK(n == want_len && !memcmp(buf, want, n));
    }
    protobuf_c_message_free_unpacked(&p->base, &a);
    CHECK_EQ_INT(c.live, 0);
}

static void test_encode_matches_python(void) {
    /* Expected bytes: Python's SerializeToString() of the same TensorProto. */
    int64_t d2[] = {2}, d3[] = {3}, d21[] = {2, 1};
    float f[] = {1, 2};
    uint8_t u8[] = {1, 255, 0}, b[] = {1, 0};
    int32_t i32[] = {7, -1};
    uint16_t h = 0x3c00;

    pl_tensor *t = tensor_of(PL_DT_FLOAT, 1, d2, f);
    if (t) check_packed(t, false, "\x08\x01\x12\x04\x12\x02\x08\x02\x2a\x08\x00\x00\x80\x3f\x00\x00\x00\x40", 18);
    pl_tensor_unref(t);
    t = tensor_of(PL_DT_UINT8, 1, d3, u8);
    if (t) check_packed(t, false, "\x08\x04\x12\x04\x12\x02\x08\x03\x3a\x04\x01\xff\x01\x00", 14);
    pl_tensor_unref(t);
    t = tensor_of(PL_DT_HALF, 0, NULL, &h);
    if (t) check_packed(t, false, "\x08\x13\x12\x00\x6a\x02\x80\x78", 8);
    pl_tensor_unref(t);
    t = tensor_of(PL_DT_BOOL, 1, d2, b);
    if (t) check_packed(t, false, "\x08\x0a\x12\x04\x12\x02\x08\x02\x5a\x02\x01\x00", 12);
    pl_tensor_unref(t);
    t = tensor_of(PL_DT_INT32, 2, d21, i32);
    if (t) check_packed(t, true, "\x08\x03\x12\x08\x12\x02\x08\x02\x12\x02\x08\x01\x22\x08\x07\x00\x00\x00\xff\xff\xff\xff",
                        22);
    pl_tensor_unref(t);
    t = tensor_of(PL_DT_STRING, 1, d2, NULL);
    if (t) {
        CHECK_OK(pl_tensor_set_string(t, 0, "a", 1));
        check_packed(t, true, "\x08\x07\x12\x04\x12\x02\x08\x02\x22\x03\x01\x00\x61", 13);
    }
    pl_tensor_unref(t);
}

/* Encodes in both forms, decodes again and compares with the original. */
static void roundtrip(pl_tensor *t) {
    for (int content = 0; content < 2; content++) {
        Tensorflow__TensorProto *p = NULL;
        CHECK_OK(pl_tensor_to_proto(t, content, NULL, &p));
        if (!p) continue;
        /* Through the wire too, so the unpacker sees what a client would send. */
        size_t n = protobuf_c_message_get_packed_size(&p->base);
        uint8_t *wire = malloc(n ? n : 1);
        protobuf_c_message_pack(&p->base, wire);
        protobuf_c_message_free_unpacked(&p->base, NULL);
        Tensorflow__TensorProto *q = tensorflow__tensor_proto__unpack(NULL, n, wire);
        free(wire);
        CHECK(q != NULL);
        if (!q) continue;
        if (content) CHECK(t->count == 0 || q->tensor_content.len > 0);
        else CHECK(q->tensor_content.len == 0);
        pl_tensor *u = NULL;
        CHECK_OK(pl_tensor_from_proto(q, &u));
        tensorflow__tensor_proto__free_unpacked(q, NULL);
        if (!u) continue;
        CHECK(u->dtype == t->dtype && pl_tensor_same_shape(u, t));
        if (t->dtype == PL_DT_STRING) {
            for (int64_t i = 0; i < t->count; i++) {
                pl_str *a = &((pl_str *)t->data)[i], *b = &((pl_str *)u->data)[i];
                CHECK(a->len == b->len && (a->len == 0 || !memcmp(a->data, b->data, a->len)));
            }
        } else {
            CHECK(!memcmp(t->data, u->data, pl_tensor_nbytes(t)));
        }
        pl_tensor_unref(u);
    }
}

static void test_roundtrip_every_dtype(void) {
    int64_t d[] = {2, 3};
    for (int dt = 1; dt < PL_DT_COUNT; dt++) {
        if (dt == PL_DT_RESOURCE || dt == PL_DT_VARIANT) continue;
        pl_tensor *t = NULL;
        CHECK_OK(pl_tensor_zeros((pl_dtype)dt, 2, d, &t));
        if (!t) continue;
        if (dt == PL_DT_STRING) {
            for (int64_t i = 0; i < t->count; i++) {
                char s[8] = {'s', (char)('0' + i), 0, (char)0xff};
                CHECK_OK(pl_tensor_set_string(t, i, s, (size_t)i % 5));
            }
        } else if (dt == PL_DT_BOOL) {
            for (int64_t i = 0; i < t->count; i++) ((uint8_t *)t->data)[i] = (uint8_t)(i & 1);
        } else {
            uint8_t *bytes = t->data;  /* distinct bytes, with sign bits set in places */
            for (size_t i = 0; i < pl_tensor_nbytes(t); i++) bytes[i] = (uint8_t)(i * 101 + 7);
        }
        roundtrip(t);
        pl_tensor_unref(t);
    }
    int64_t empty[] = {0, 4};
    pl_tensor *t = NULL;
    CHECK_OK(pl_tensor_alloc(PL_DT_FLOAT, 2, empty, &t));
    if (t) roundtrip(t);
    pl_tensor_unref(t);
}

static void test_encode_typed_fields(void) {
    int64_t d2[] = {2};
    int8_t i8[] = {-1, 5};
    uint16_t bf[] = {0x3f80, 0xffff};
    float c64[] = {1, 2, 3, 4};
    Tensorflow__TensorProto *p = NULL;

    pl_tensor *t = tensor_of(PL_DT_INT8, 1, d2, i8);
    if (t) {
        CHECK_OK(pl_tensor_to_proto(t, false, NULL, &p));
        if (p) {
            CHECK(p->n_int_val == 2 && p->int_val[0] == -1 && p->int_val[1] == 5);
            protobuf_c_message_free_unpacked(&p->base, NULL);
        }
    }
    pl_tensor_unref(t);
    t = tensor_of(PL_DT_BFLOAT16, 1, d2, bf);
    if (t) {
        CHECK_OK(pl_tensor_to_proto(t, false, NULL, &p));
        if (p) {  /* the 16 bits, zero-extended */
            CHECK(p->n_half_val == 2 && p->half_val[0] == 0x3f80 && p->half_val[1] == 0xffff);
            CHECK(p->n_int_val == 0);
            protobuf_c_message_free_unpacked(&p->base, NULL);
        }
    }
    pl_tensor_unref(t);
    t = tensor_of(PL_DT_COMPLEX64, 1, d2, c64);
    if (t) {
        CHECK_OK(pl_tensor_to_proto(t, false, NULL, &p));
        if (p) {
            CHECK(p->n_scomplex_val == 4 && p->scomplex_val[3] == 4);
            protobuf_c_message_free_unpacked(&p->base, NULL);
        }
    }
    pl_tensor_unref(t);
}

static void test_encode_errors_and_oom(void) {
    int64_t d1[] = {1}, d3[] = {3};
    pl_tensor *t = NULL;
    Tensorflow__TensorProto *p = NULL;
    CHECK_OK(pl_tensor_alloc(PL_DT_RESOURCE, 1, d1, &t));
    if (t) CHECK_ERR(pl_tensor_to_proto(t, false, NULL, &p), PL_UNIMPLEMENTED);
    pl_tensor_unref(t);

    /* Failing each allocation in turn: an error and nothing leaked, every time. */
    t = tensor_of(PL_DT_STRING, 1, d3, NULL);
    if (!t) return;
    CHECK_OK(pl_tensor_set_string(t, 0, "abc", 3));
    CHECK_OK(pl_tensor_set_string(t, 2, "de", 2));
    for (int content = 0; content < 2; content++) {
        int failures = 0;
        for (long k = 1; k < 20; k++) {
            counting c = {0, 0, k};
            ProtobufCAllocator a = {count_alloc, count_free, &c};
            p = NULL;
            pl_status st = pl_tensor_to_proto(t, content, &a, &p);
            if (st) {
                failures++;
                CHECK_EQ_INT(pl_status_code(st), PL_RESOURCE_EXHAUSTED);
                pl_status_free(st);
            } else {
                protobuf_c_message_free_unpacked(&p->base, &a);
            }
            CHECK_EQ_INT(c.live, 0);
        }
        /* message, shape, dim array, one dim, then the content or the string array and two non-empty strings */
        CHECK_EQ_INT(failures, content ? 5 : 7);
    }
    pl_tensor_unref(t);
}

/* Found by fuzzing: a string tensor with no elements, encoded into string_val,
 * handed memset a NULL array (undefined even for zero bytes). */
static void test_encode_empty_strings(void) {
    int64_t d[] = {3, 0};
    pl_tensor *t = NULL;
    CHECK_OK(pl_tensor_zeros(PL_DT_STRING, 2, d, &t));
    for (int content = 0; t && content < 2; content++) {
        Tensorflow__TensorProto *p = NULL;
        CHECK_OK(pl_tensor_to_proto(t, content, NULL, &p));
        if (p) {
            CHECK(p->dtype == TENSORFLOW__DATA_TYPE__DT_STRING && p->n_string_val == 0);
            CHECK(p->tensor_shape && p->tensor_shape->n_dim == 2 && p->tensor_shape->dim[1]->size == 0);
            protobuf_c_message_free_unpacked(&p->base, NULL);
        }
    }
    pl_tensor_unref(t);
}

int main(void) {
    RUN_TEST(test_float_broadcast_rules);
    RUN_TEST(test_scalar_without_shape);
    RUN_TEST(test_int_val_types);
    RUN_TEST(test_wide_int_types);
    RUN_TEST(test_half_bfloat16_bool);
    RUN_TEST(test_complex);
    RUN_TEST(test_strings);
    RUN_TEST(test_content_numeric);
    RUN_TEST(test_content_strings);
    RUN_TEST(test_shape_errors);
    RUN_TEST(test_dtype_errors);
    RUN_TEST(test_empty_ignores_values);
    RUN_TEST(test_partial_shapes);
    RUN_TEST(test_encode_matches_python);
    RUN_TEST(test_roundtrip_every_dtype);
    RUN_TEST(test_encode_typed_fields);
    RUN_TEST(test_encode_errors_and_oom);
    RUN_TEST(test_encode_empty_strings);
    return check_summary();
}
