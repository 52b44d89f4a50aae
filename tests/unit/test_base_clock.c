/* Monotonic clock helpers: ordering, sleeps measured, deadlines. */
#include <time.h>

#include "base/clock.h"
#include "check.h"

static void test_monotonic_and_sleep(void) {
    int64_t a = pl_clock_now_ns();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    int64_t b = pl_clock_now_ns();
    CHECK(b - a >= 20 * 1000 * 1000);
    CHECK(b - a < 5LL * 1000 * 1000 * 1000);
    CHECK_NEAR(pl_clock_ns_to_ms(1500000), 1.5, 1e-12);
    CHECK_NEAR(pl_clock_ns_to_s(2500000000LL), 2.5, 1e-12);
}

static void test_deadlines(void) {
    CHECK_EQ_INT(pl_clock_deadline_ns(0), 0);
    CHECK_EQ_INT(pl_clock_deadline_ns(-5), 0);
    CHECK_EQ_INT(pl_clock_deadline_ns(INT64_MAX), INT64_MAX);
    CHECK_EQ_INT(pl_clock_remaining_ns(0), INT64_MAX);
    int64_t d = pl_clock_deadline_ns(1000);
    int64_t left = pl_clock_remaining_ns(d);
    CHECK(left > 900 * 1000 * 1000 && left <= 1000 * 1000 * 1000);
    CHECK_EQ_INT(pl_clock_remaining_ns(pl_clock_now_ns() - 1), 0);
}

int main(void) {
    RUN_TEST(test_monotonic_and_sleep);
    RUN_TEST(test_deadlines);
    return check_summary();
}
