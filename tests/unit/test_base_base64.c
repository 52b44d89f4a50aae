/* Base64: RFC 4648 vectors, round trips of every length, and the inputs
 * absl::Base64Unescape (and so TF Serving) accepts and refuses. */
#include "base/base64.h"
#include "check.h"

static void check_encode(const char *in, const char *want) {
    char out[64];
    size_t n = strlen(in);
    CHECK_EQ_INT(pl_base64_encoded_nbytes(n), strlen(want));
    pl_base64_encode(in, n, out);
    out[pl_base64_encoded_nbytes(n)] = 0;
    CHECK_STR(out, want);
}

/* Decodes `in`; returns the result as a string or NULL on failure. */
static char *decode(const char *in) {
    static char out[256];
    size_t n = 0;
    if (!pl_base64_decode(in, strlen(in), out, &n)) return NULL;
    out[n] = 0;
    return out;
}

static void test_rfc4648_vectors(void) {
    check_encode("", "");
    check_encode("f", "Zg==");
    check_encode("fo", "Zm8=");
    check_encode("foo", "Zm9v");
    check_encode("foob", "Zm9vYg==");
    check_encode("fooba", "Zm9vYmE=");
    check_encode("foobar", "Zm9vYmFy");
    CHECK_STR(decode(""), "");
    CHECK_STR(decode("Zg=="), "f");
    CHECK_STR(decode("Zm8="), "fo");
    CHECK_STR(decode("Zm9v"), "foo");
    CHECK_STR(decode("Zm9vYg=="), "foob");
    CHECK_STR(decode("Zm9vYmE="), "fooba");
    CHECK_STR(decode("Zm9vYmFy"), "foobar");
}

static void test_round_trip_all_lengths(void) {
    unsigned char in[300], back[300];
    char enc[400];
    for (size_t i = 0; i < sizeof in; i++) in[i] = (unsigned char)(i * 167 + 13);
    int bad = 0;
    for (size_t n = 0; n <= sizeof in; n++) {
        pl_base64_encode(in, n, enc);
        size_t m = 0, elen = pl_base64_encoded_nbytes(n);
        CHECK(pl_base64_decoded_max_nbytes(elen) >= n);
        if (!pl_base64_decode(enc, elen, back, &m) || m != n || memcmp(in, back, n)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    /* Every byte value. */
    unsigned char all[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
    pl_base64_encode(all, 256, enc);
    size_t m = 0;
    CHECK(pl_base64_decode(enc, pl_base64_encoded_nbytes(256), back, &m));
    CHECK(m == 256 && memcmp(all, back, 256) == 0);
}

static void test_absl_leniency(void) {
    /* Padding may be left out... */
    CHECK_STR(decode("Zg"), "f");
    CHECK_STR(decode("Zm8"), "fo");
    /* ...or given with '.' ... */
    CHECK_STR(decode("Zg.."), "f");
    /* ...and whitespace is skipped anywhere. */
    CHECK_STR(decode(" Zm9v\nYm\tFy \r\n"), "foobar");
    CHECK_STR(decode("Zm9vYg= ="), "foob");
    CHECK_STR(decode("Z m 9 v"), "foo");
}

static void test_refused(void) {
    CHECK(decode("Z") == NULL);           /* six bits left over */
    CHECK(decode("Zm9vY") == NULL);
    CHECK(decode("Zg=") == NULL);         /* incomplete padding */
    CHECK(decode("Zm8==") == NULL);       /* too much padding */
    CHECK(decode("Zm9v=") == NULL);       /* padding after a whole group */
    CHECK(decode("Zg==Zg==") == NULL);    /* data after padding */
    CHECK(decode("Zm9v!") == NULL);
    CHECK(decode("====") == NULL);
    /* The web-safe alphabet is not accepted (TF Serving: "Unable to base64 decode"). */
    CHECK(decode("-_8=") == NULL);
    CHECK(decode("ab-c") == NULL);
    CHECK(decode("ab_c") == NULL);
    CHECK_STR(decode("+/8="), "\xfb\xff");
    /* A NUL byte inside the data. */
    size_t n;
    char out[8];
    CHECK(!pl_base64_decode("Zm\0v", 4, out, &n));
    /* Bytes >= 0x80. */
    CHECK(decode("Zm\xc3\xa9v") == NULL);
}

int main(void) {
    RUN_TEST(test_rfc4648_vectors);
    RUN_TEST(test_round_trip_all_lengths);
    RUN_TEST(test_absl_leniency);
    RUN_TEST(test_refused);
    return check_summary();
}
