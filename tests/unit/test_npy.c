/* .npy encoding and parsing: round trips, the header numpy writes, and
 * malformed files. */
#include <string.h>

#include "check.h"
#include "tensor/npy.h"

static void test_round_trip_float(void) {
    int64_t dims[2] = {2, 3};
    pl_tensor *t, *back = NULL;
    CHECK_OK(pl_tensor_alloc(PL_DT_FLOAT, 2, dims, &t));
    for (int i = 0; i < 6; i++) ((float *)t->data)[i] = (float)i * 0.5f;
    char *data;
    size_t len;
    CHECK_OK(pl_npy_encode(t, &data, &len));
    /* numpy's own header for this array (np.save of float32 [2,3]) */
    const char *want = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    CHECK(len > 10 + strlen(want));
    CHECK(!memcmp(data + 10, want, strlen(want)));
    CHECK_EQ_INT((10 + (data[8] & 0xff)) % 64, 0);
    CHECK_OK(pl_npy_parse(data, len, &back));
    CHECK(back && pl_tensor_same_shape(t, back) && back->dtype == PL_DT_FLOAT);
    if (back) CHECK(!memcmp(back->data, t->data, 24));
    free(data);
    pl_tensor_unref(t);
    pl_tensor_unref(back);
}

static void test_scalar_and_vector_headers(void) {
    pl_tensor *t;
    CHECK_OK(pl_tensor_scalar(PL_DT_INT64, 42, &t));
    char *data;
    size_t len;
    CHECK_OK(pl_npy_encode(t, &data, &len));
    CHECK(strstr(data + 10, "'shape': (), }") != NULL);
    free(data);
    pl_tensor_unref(t);
    int64_t n = 4;
    CHECK_OK(pl_tensor_zeros(PL_DT_BOOL, 1, &n, &t));
    CHECK_OK(pl_npy_encode(t, &data, &len));
    CHECK(strstr(data + 10, "'descr': '|b1', 'fortran_order': False, 'shape': (4,), }") != NULL);
    free(data);
    pl_tensor_unref(t);
}

static void test_strings(void) {
    int64_t n = 3;
    pl_tensor *t, *back = NULL;
    CHECK_OK(pl_tensor_alloc(PL_DT_STRING, 1, &n, &t));
    CHECK_OK(pl_tensor_set_string(t, 0, "abc", 3));
    CHECK_OK(pl_tensor_set_string(t, 2, "z", 1));
    char *data;
    size_t len;
    CHECK_OK(pl_npy_encode(t, &data, &len));
    CHECK(strstr(data + 10, "'|S3'") != NULL);
    CHECK_OK(pl_npy_parse(data, len, &back));
    if (back) {
        const pl_str *s = back->data;
        CHECK_EQ_INT(s[0].len, 3);
        CHECK_EQ_INT(s[1].len, 0);
        CHECK_EQ_INT(s[2].len, 1);
        CHECK(!memcmp(s[0].data, "abc", 3));
    }
    free(data);
    pl_tensor_unref(t);
    pl_tensor_unref(back);
}

static void test_malformed(void) {
    pl_tensor *t = NULL;
    CHECK_ERR(pl_npy_parse("", 0, &t), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_npy_parse("\x93NUMPY\x01\x00\xff\x00{", 11, &t), PL_INVALID_ARGUMENT);
    const char big[] = "\x93NUMPY\x01\x00\x3c\x00{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }   \n";
    CHECK_ERR(pl_npy_parse(big, sizeof big - 1, &t), PL_INVALID_ARGUMENT);
    const char fortran[] = "\x93NUMPY\x01\x00\x3c\x00{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }    \n";
    CHECK_ERR(pl_npy_parse(fortran, sizeof fortran - 1, &t), PL_INVALID_ARGUMENT);
    /* header promises 1000000 floats, data has none */
    const char trunc[] = "\x93NUMPY\x01\x00\x40\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }\n";
    CHECK_ERR(pl_npy_parse(trunc, sizeof trunc - 1, &t), PL_INVALID_ARGUMENT);
    const char huge[] =
        "\x93NUMPY\x01\x00\x50\x00{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n";
    CHECK_ERR(pl_npy_parse(huge, sizeof huge - 1, &t), PL_INVALID_ARGUMENT);
    CHECK(t == NULL);
}

int main(void) {
    RUN_TEST(test_round_trip_float);
    RUN_TEST(test_scalar_and_vector_headers);
    RUN_TEST(test_strings);
    RUN_TEST(test_malformed);
    return check_summary();
}
