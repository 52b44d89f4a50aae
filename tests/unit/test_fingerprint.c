/* Fingerprint64 against FarmHash's published values and TensorFlow's
 * StringToHashBucketFast test (['a','b','c','d'] into 10 buckets → 9,2,2,5). */
#include <string.h>

#include "check.h"
#include "ops/fingerprint.h"

static uint64_t fp(const char *s) { return pl_fingerprint64(s, strlen(s)); }

static void test_published_values(void) {
    CHECK(fp("") == 11160318154034397263ULL);
    CHECK(fp("a") == 12917804110809363939ULL);
    CHECK(fp("hello") == 13009744463427800296ULL);
    CHECK(fp("hello world") == 6381520714923946011ULL);
    CHECK(fp("1234567890123456") == 17239105360639788068ULL);
    CHECK(fp("session_20b9ed23-cc36-4177-8661-b2a6d4a71c18") == 16528987318367749121ULL);
    CHECK(fp("The quick brown fox jumps over the lazy dog") == 12375473906752639284ULL);
}

static void test_tensorflow_buckets(void) {
    CHECK_EQ_INT(fp("a") % 10, 9);
    CHECK_EQ_INT(fp("b") % 10, 2);
    CHECK(fp("b") == 11795596070477164822ULL);
    CHECK(fp("c") == 11430444447143000872ULL);
    CHECK(fp("d") == 4470636696479570465ULL);
}

static void test_long_inputs_are_stable_and_distinct(void) {
    char buf[300];
    memset(buf, 'x', sizeof buf);
    uint64_t h65 = pl_fingerprint64(buf, 65), h128 = pl_fingerprint64(buf, 128), h300 = pl_fingerprint64(buf, 300);
    CHECK(h65 != h128 && h128 != h300 && h65 != h300);
    CHECK(h300 == pl_fingerprint64(buf, 300));
}

int main(void) {
    RUN_TEST(test_published_values);
    RUN_TEST(test_tensorflow_buckets);
    RUN_TEST(test_long_inputs_are_stable_and_distinct);
    return check_summary();
}
