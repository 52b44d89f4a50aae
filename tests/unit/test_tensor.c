/* Tensors: allocation, shapes and their limits, views, strings, objects,
 * element access, and IEEE half / bfloat16 conversions checked against values
 * numpy computes (np.float32(x).astype(np.float16); bfloat16 by exact
 * comparison of the two neighbouring values, ties to even). */
#include <stdint.h>

#include "check.h"
#include "tensor/tensor.h"

static float bits_to_float(uint32_t b) {
    float f;
    memcpy(&f, &b, 4);
    return f;
}
static uint32_t float_to_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static void test_dtype_tables(void) {
    CHECK_STR(pl_dtype_name(PL_DT_FLOAT), "DT_FLOAT");
    CHECK_STR(pl_dtype_name(PL_DT_UINT64), "DT_UINT64");
    CHECK_STR(pl_dtype_name((pl_dtype)99), "DT_INVALID");
    CHECK_STR(pl_dtype_string(PL_DT_FLOAT), "float");
    CHECK_STR(pl_dtype_string(PL_DT_BFLOAT16), "bfloat16");
    CHECK_STR(pl_dtype_string(PL_DT_VARIANT), "variant");
    CHECK_STR(pl_dtype_string(PL_DT_COMPLEX128), "complex128");
    CHECK_STR(pl_dtype_string(PL_DT_INVALID), "INVALID");
    CHECK_STR(pl_dtype_string((pl_dtype)99), "unknown");
    CHECK_EQ_INT(pl_dtype_size(PL_DT_COMPLEX128), 16);
    CHECK_EQ_INT(pl_dtype_size(PL_DT_BFLOAT16), 2);
    CHECK_EQ_INT(pl_dtype_size(PL_DT_BOOL), 1);
    CHECK_EQ_INT(pl_dtype_size(PL_DT_INVALID), 0);
    CHECK(!pl_dtype_valid(PL_DT_INVALID) && !pl_dtype_valid(PL_DT_COUNT) && pl_dtype_valid(PL_DT_HALF));
}

static void test_shape_count(void) {
    int64_t n = -1;
    int64_t d[] = {2, 3, 4};
    CHECK_OK(pl_shape_count(3, d, &n));
    CHECK_EQ_INT(n, 24);
    CHECK_OK(pl_shape_count(0, NULL, &n));
    CHECK_EQ_INT(n, 1);
    int64_t zero_first[] = {0, (int64_t)1 << 31, ((int64_t)1 << 32) - 1};  /* zero elements */
    CHECK_OK(pl_shape_count(3, zero_first, &n));
    CHECK_EQ_INT(n, 0);
    /* A zero dim does not excuse the others: kernels multiply runs of them
     * (strides, inner sizes) and must not overflow doing so. */
    int64_t zero_then_over[] = {0, INT64_MAX, INT64_MAX};
    CHECK_ERR(pl_shape_count(3, zero_then_over, &n), PL_INVALID_ARGUMENT);
    int64_t over_then_zero[] = {(int64_t)1 << 31, (int64_t)1 << 32, 0};
    CHECK_ERR(pl_shape_count(3, over_then_zero, &n), PL_INVALID_ARGUMENT);
    pl_tensor *t = NULL;
    CHECK_ERR(pl_tensor_alloc(PL_DT_FLOAT, 3, zero_then_over, &t), PL_INVALID_ARGUMENT);
    CHECK(t == NULL);
    int64_t edge[] = {(int64_t)1 << 31, ((int64_t)1 << 32) - 1};  /* 2^63 - 2^31 fits */
    CHECK_OK(pl_shape_count(2, edge, &n));
    CHECK_EQ_INT(n, INT64_MAX - (((int64_t)1 << 31) - 1));
    int64_t over[] = {(int64_t)1 << 31, (int64_t)1 << 32};      /* 2^63 does not */
    CHECK_ERR(pl_shape_count(2, over, &n), PL_INVALID_ARGUMENT);
    int64_t neg[] = {3, -2};
    CHECK_ERR(pl_shape_count(2, neg, &n), PL_INVALID_ARGUMENT);
    int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_ERR(pl_shape_count(9, nine, &n), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_shape_count(-1, nine, &n), PL_INVALID_ARGUMENT);
    CHECK_OK(pl_shape_count(8, nine, &n));
}

static void test_alloc_and_limits(void) {
    int64_t d[] = {3, 5};
    pl_tensor *t = NULL;
    CHECK_OK(pl_tensor_zeros(PL_DT_DOUBLE, 2, d, &t));
    if (t) {
        CHECK(t->rank == 2 && t->count == 15 && t->dtype == PL_DT_DOUBLE);
        CHECK(((uintptr_t)t->data % PL_TENSOR_ALIGN) == 0);
        CHECK_EQ_INT(pl_tensor_nbytes(t), 120);
        double *v = t->data;
        for (int i = 0; i < 15; i++) CHECK(v[i] == 0.0);
        pl_tensor_unref(t);
    }
    int64_t empty[] = {0};
    CHECK_OK(pl_tensor_alloc(PL_DT_FLOAT, 1, empty, &t));
    if (t) {
        CHECK(t->count == 0 && t->data != NULL);
        pl_tensor_unref(t);
    }
    /* 2^32 floats are exactly PL_TENSOR_MAX_BYTES; one more element is refused before allocating. */
    int64_t over_limit[] = {((int64_t)1 << 32) + 1, 1};
    CHECK_ERR(pl_tensor_alloc(PL_DT_FLOAT, 2, over_limit, &t), PL_RESOURCE_EXHAUSTED);
    int64_t huge[] = {(int64_t)1 << 40};
    CHECK_ERR(pl_tensor_alloc(PL_DT_UINT8, 1, huge, &t), PL_RESOURCE_EXHAUSTED);
    int64_t neg[] = {-1};
    CHECK_ERR(pl_tensor_alloc(PL_DT_FLOAT, 1, neg, &t), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_tensor_alloc(PL_DT_INVALID, 0, NULL, &t), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_tensor_alloc((pl_dtype)30, 0, NULL, &t), PL_INVALID_ARGUMENT);
}

static void test_reshape_and_refs(void) {
    int64_t d[] = {2, 3}, d6[] = {6}, d4[] = {4};
    pl_tensor *t = NULL, *r = NULL;
    CHECK_OK(pl_tensor_alloc(PL_DT_INT32, 2, d, &t));
    if (!t) return;
    for (int i = 0; i < 6; i++) ((int32_t *)t->data)[i] = i * 10;
    CHECK_OK(pl_tensor_reshape(t, 1, d6, &r));
    if (r) {
        CHECK(r->rank == 1 && r->dims[0] == 6 && r->data == t->data);
        pl_tensor_unref(t);  /* the view keeps the buffer alive */
        t = NULL;
        CHECK(((int32_t *)r->data)[5] == 50);
        CHECK_ERR(pl_tensor_reshape(r, 1, d4, &t), PL_INVALID_ARGUMENT);
        pl_tensor *s = NULL;
        CHECK_ERR(pl_tensor_reshape(r, 0, NULL, &s), PL_INVALID_ARGUMENT);
        pl_tensor *same = pl_tensor_ref(r);
        CHECK(same == r && atomic_load(&r->refs) == 2);
        pl_tensor_unref(same);
        pl_tensor_unref(r);
    }
    pl_tensor_unref(t);
    pl_tensor_unref(NULL);
    CHECK(pl_tensor_ref(NULL) == NULL);
}

static void test_strings(void) {
    int64_t d[] = {3};
    pl_tensor *t = NULL, *c = NULL;
    CHECK_OK(pl_tensor_alloc(PL_DT_STRING, 1, d, &t));
    if (!t) return;
    pl_str *s = t->data;
    CHECK(s[0].len == 0 && s[1].len == 0 && s[2].len == 0);  /* strings start empty */
    CHECK_OK(pl_tensor_set_string(t, 0, "a\0b", 3));
    CHECK_OK(pl_tensor_set_string(t, 2, "long enough to allocate", 23));
    CHECK_OK(pl_tensor_set_string(t, 2, "xy", 2));  /* replacing frees the old value */
    CHECK(s[0].len == 3 && !memcmp(s[0].data, "a\0b", 3));
    CHECK(s[2].len == 2 && !memcmp(s[2].data, "xy", 2));
    CHECK_OK(pl_tensor_copy(t, &c));
    if (c) {
        pl_str *cs = c->data;
        CHECK(cs[0].data != s[0].data && cs[0].len == 3 && !memcmp(cs[0].data, "a\0b", 3));
        CHECK(cs[1].len == 0 && cs[2].len == 2);
        pl_tensor_unref(t);  /* the copy is independent */
        t = NULL;
        CHECK(!memcmp(cs[2].data, "xy", 2));
        pl_tensor_unref(c);
    }
    pl_tensor_unref(t);
}

static int destroyed;
static void count_destroy(pl_object *o) {
    destroyed++;
    free(o);
}
static const pl_object_type counted_type = {"counted", count_destroy};

static void test_objects(void) {
    int64_t d[] = {2};
    pl_tensor *t = NULL, *c = NULL;
    destroyed = 0;
    CHECK_OK(pl_tensor_alloc(PL_DT_RESOURCE, 1, d, &t));
    if (!t) return;
    CHECK(pl_tensor_object(t, 0) == NULL && pl_tensor_object(t, 1) == NULL);
    pl_object *o = malloc(sizeof *o);
    pl_object_init(o, &counted_type);
    pl_tensor_set_object(t, 0, o);  /* takes the reference */
    CHECK_OK(pl_tensor_copy(t, &c));
    CHECK(c && pl_tensor_object(c, 0) == o && atomic_load(&o->refs) == 2);
    pl_tensor_unref(t);
    CHECK_EQ_INT(destroyed, 0);
    pl_tensor_unref(c);
    CHECK_EQ_INT(destroyed, 1);
}

static int released;
static void on_release(void *opaque) { released += *(int *)opaque; }

static void test_wrap(void) {
    float data[4] = {1, 2, 3, 4};
    int64_t d[] = {2, 2}, d4[] = {4};
    int weight = 1;
    pl_tensor *t = NULL, *r = NULL;
    released = 0;
    CHECK_OK(pl_tensor_wrap(PL_DT_FLOAT, 2, d, data, on_release, &weight, &t));
    if (!t) return;
    CHECK(t->data == data && t->count == 4);
    CHECK_OK(pl_tensor_reshape(t, 1, d4, &r));
    pl_tensor_unref(t);
    CHECK_EQ_INT(released, 0);
    pl_tensor_unref(r);
    CHECK_EQ_INT(released, 1);
    CHECK_ERR(pl_tensor_wrap(PL_DT_STRING, 1, d4, data, on_release, &weight, &t), PL_INTERNAL);
    CHECK_EQ_INT(released, 1);
}

static void test_element_access(void) {
    int64_t d[] = {3};
    pl_tensor *t = NULL;
    CHECK_OK(pl_tensor_alloc(PL_DT_INT8, 1, d, &t));
    if (t) {
        int8_t *v = t->data;
        v[0] = -128, v[1] = 127, v[2] = -1;
        CHECK_EQ_INT(pl_tensor_get_i64(t, 0), -128);
        CHECK_EQ_INT(pl_tensor_get_i64(t, 2), -1);
        CHECK(pl_tensor_get_f64(t, 1) == 127.0);
        pl_tensor_unref(t);
    }
    CHECK_OK(pl_tensor_alloc(PL_DT_UINT16, 1, d, &t));
    if (t) {
        ((uint16_t *)t->data)[0] = 65535;
        CHECK_EQ_INT(pl_tensor_get_i64(t, 0), 65535);
        pl_tensor_unref(t);
    }
    CHECK_OK(pl_tensor_alloc(PL_DT_FLOAT, 1, d, &t));
    if (t) {
        float *v = t->data;
        v[0] = NAN, v[1] = 1e30f, v[2] = -2.75f;
        CHECK_EQ_INT(pl_tensor_get_i64(t, 0), 0);        /* NaN reads as 0 */
        CHECK_EQ_INT(pl_tensor_get_i64(t, 1), INT64_MAX); /* saturates */
        CHECK_EQ_INT(pl_tensor_get_i64(t, 2), -2);        /* truncates toward zero */
        pl_tensor_unref(t);
    }
}

static void test_scalar(void) {
    struct { pl_dtype dt; double in; double want; } cases[] = {
        {PL_DT_FLOAT, 0.1, (double)0.1f},
        {PL_DT_INT32, -7.9, -7},
        {PL_DT_UINT8, 200, 200},
        {PL_DT_BOOL, 0.5, 1},
        {PL_DT_HALF, 1.0 / 3, 0.333251953125},       /* numpy: float16(1/3) */
        {PL_DT_BFLOAT16, 1.0 / 3, 0.333984375},       /* 0x3eab */
        {PL_DT_INT64, 1e15, 1e15},
        {PL_DT_DOUBLE, 1e300, 1e300},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl_tensor *t = NULL;
        CHECK_OK(pl_tensor_scalar(cases[i].dt, cases[i].in, &t));
        if (!t) continue;
        CHECK(t->rank == 0 && t->count == 1 && t->dtype == cases[i].dt);
        CHECK_NEAR(pl_tensor_get_f64(t, 0), cases[i].want, 0);
        pl_tensor_unref(t);
    }
    pl_tensor *t = NULL;
    CHECK_ERR(pl_tensor_scalar(PL_DT_STRING, 1, &t), PL_INVALID_ARGUMENT);
}

static void test_shape_str(void) {
    char buf[64];
    int64_t d[] = {2, -1, 300};
    CHECK_STR(pl_shape_str(3, d, buf, sizeof buf), "[2,-1,300]");
    CHECK_STR(pl_shape_str(0, NULL, buf, sizeof buf), "[]");
    char small[5];
    pl_shape_str(3, d, small, sizeof small);  /* truncated, still terminated */
    CHECK(strlen(small) < sizeof small);
}

/* float32 bits -> (numpy float16 bits, bfloat16 bits) */
static const struct { uint32_t f; uint16_t half, bf16; } to16[] = {
    {0x3f800000u, 0x3c00, 0x3f80}, /* 1.0 */
    {0xc0200000u, 0xc100, 0xc020}, /* -2.5 */
    {0x477fe000u, 0x7bff, 0x4780}, /* 65504, the largest half */
    {0x477fefffu, 0x7bff, 0x4780}, /* just below the overflow midpoint */
    {0x477ff000u, 0x7c00, 0x4780}, /* 65520: the midpoint rounds to inf */
    {0x322bcc77u, 0x0000, 0x322c}, /* 1e-8: below half the smallest subnormal */
    {0x3300d959u, 0x0001, 0x3301}, /* 3e-8: above it */
    {0x33000000u, 0x0000, 0x3300}, /* 2^-25: a tie, to even (zero) */
    {0x33800000u, 0x0001, 0x3380}, /* 2^-24, the smallest subnormal */
    {0x38800000u, 0x0400, 0x3880}, /* smallest normal half */
    {0x387fc000u, 0x03ff, 0x3880}, /* largest subnormal half */
    {0x3f801000u, 0x3c00, 0x3f80}, /* 1 + 2^-11: tie, to even */
    {0x3f803000u, 0x3c02, 0x3f80}, /* 1 + 3*2^-11: tie, to even (up) */
    {0x7f800000u, 0x7c00, 0x7f80}, /* inf */
    {0xff800000u, 0xfc00, 0xff80}, /* -inf */
    {0x80000000u, 0x8000, 0x8000}, /* -0 */
    {0x3dcccccdu, 0x2e66, 0x3dcd}, /* 0.1 */
    {0x40490fd0u, 0x4248, 0x4049}, /* 3.14159 */
    {0x47c35000u, 0x7c00, 0x47c3}, /* 1e5 overflows half */
    {0xb727c5acu, 0x80a8, 0xb728}, /* -1e-5, a negative subnormal half */
    {0x3eaaaaabu, 0x3555, 0x3eab}, /* 1/3 */
    {0x3f808000u, 0x3c04, 0x3f80}, /* bfloat16 tie, to even (down) */
    {0x3f818000u, 0x3c0c, 0x3f82}, /* bfloat16 tie, to even (up) */
    {0x3f808001u, 0x3c04, 0x3f81}, /* just above a bfloat16 tie */
    {0x7f7fffffu, 0x7c00, 0x7f80}, /* FLT_MAX rounds to bfloat16 inf */
    {0x7f7f7fffu, 0x7c00, 0x7f7f}, /* just below that midpoint */
    {0x00008000u, 0x0000, 0x0000}, /* float subnormal, bfloat16 tie to zero */
    {0x00018000u, 0x0000, 0x0002}, /* float subnormal, bfloat16 tie up */
    {0x00000001u, 0x0000, 0x0000}, /* smallest float subnormal */
    {0xbf808000u, 0xbc04, 0xbf80}, /* negative tie */
};

static void test_float_to_16(void) {
    for (size_t i = 0; i < sizeof to16 / sizeof to16[0]; i++) {
        float f = bits_to_float(to16[i].f);
        uint16_t h = pl_float_to_half(f), b = pl_float_to_bfloat16(f);
        if (h != to16[i].half || b != to16[i].bf16)
            fprintf(stderr, "  0x%08x: half 0x%04x (want 0x%04x), bfloat16 0x%04x (want 0x%04x)\n", to16[i].f, h,
                    to16[i].half, b, to16[i].bf16);
        CHECK_EQ_INT(h, to16[i].half);
        CHECK_EQ_INT(b, to16[i].bf16);
    }
}

static void test_16_to_float(void) {
    static const struct { uint16_t h; float f; } from_half[] = {
        {0x0000, 0.0f}, {0x0001, 5.960464477539063e-08f}, {0x03ff, 6.097555160522461e-05f},
        {0x0400, 6.103515625e-05f}, {0x3c00, 1.0f}, {0x7bff, 65504.0f}, {0x8001, -5.960464477539063e-08f},
        {0x3555, 0.333251953125f}, {0xc000, -2.0f}, {0x0200, 3.0517578125e-05f},
    };
    for (size_t i = 0; i < sizeof from_half / sizeof from_half[0]; i++)
        CHECK(pl_half_to_float(from_half[i].h) == from_half[i].f);
    CHECK(isinf(pl_half_to_float(0x7c00)) && pl_half_to_float(0x7c00) > 0);
    CHECK(isinf(pl_half_to_float(0xfc00)) && pl_half_to_float(0xfc00) < 0);
    CHECK(signbit(pl_half_to_float(0x8000)) && pl_half_to_float(0x8000) == 0);
    CHECK(isnan(pl_half_to_float(0x7e00)) && isnan(pl_half_to_float(0x7c01)) && isnan(pl_half_to_float(0xfe00)));
    CHECK(pl_bfloat16_to_float(0x3f80) == 1.0f && pl_bfloat16_to_float(0xc049) == bits_to_float(0xc0490000u));
    CHECK(isnan(pl_bfloat16_to_float(0x7fc0)));

    /* Every half value survives half -> float -> half, and the floats increase with the bits. */
    int bad = 0;
    float prev = -INFINITY;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = pl_half_to_float((uint16_t)h);
        bool nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff);
        if (nan) {
            bad += !isnan(f) || !isnan(pl_half_to_float(pl_float_to_half(f)));
            continue;
        }
        bad += pl_float_to_half(f) != h;
        if (h >= 0x8000) continue;  /* monotonic over the positive half; negatives mirror it */
        bad += h > 0 && !(f > prev);
        prev = f;
    }
    CHECK_EQ_INT(bad, 0);
    /* The same for bfloat16, whose values are the top halves of floats. */
    bad = 0;
    for (uint32_t b = 0; b < 0x10000; b++) {
        float f = pl_bfloat16_to_float((uint16_t)b);
        if (isnan(f)) {
            bad += !isnan(pl_bfloat16_to_float(pl_float_to_bfloat16(f)));
            continue;
        }
        bad += float_to_bits(f) != b << 16 || pl_float_to_bfloat16(f) != b;
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_nan_stays_nan(void) {
    /* A NaN never becomes an infinity, whatever its payload, and keeps its sign. */
    static const uint32_t nans[] = {0x7fc00000u, 0x7f800001u, 0x7fbfffffu, 0xffc00000u, 0xff800001u, 0x7f800100u};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        float f = bits_to_float(nans[i]);
        uint16_t h = pl_float_to_half(f), b = pl_float_to_bfloat16(f);
        CHECK((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0);
        CHECK((b & 0x7f80) == 0x7f80 && (b & 0x7f) != 0);
        CHECK((h >> 15) == (nans[i] >> 31) && (b >> 15) == (nans[i] >> 31));
    }
}

int main(void) {
    RUN_TEST(test_dtype_tables);
    RUN_TEST(test_shape_count);
    RUN_TEST(test_alloc_and_limits);
    RUN_TEST(test_reshape_and_refs);
    RUN_TEST(test_strings);
    RUN_TEST(test_objects);
    RUN_TEST(test_wrap);
    RUN_TEST(test_element_access);
    RUN_TEST(test_scalar);
    RUN_TEST(test_shape_str);
    RUN_TEST(test_float_to_16);
    RUN_TEST(test_16_to_float);
    RUN_TEST(test_nan_stays_nan);
    return check_summary();
}
