/* Monotonic time in nanoseconds, for latencies, deadlines and benchmarks. */
#ifndef PL_BASE_CLOCK_H
#define PL_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns: never jumps with the wall clock. */
static inline int64_t pl_clock_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The monotonic time timeout_ms from now; 0 (no deadline) for timeout_ms <= 0
 * and INT64_MAX when the sum would overflow. */
static inline int64_t pl_clock_deadline_ns(int64_t timeout_ms) {
    if (timeout_ms <= 0) return 0;
    int64_t now = pl_clock_now_ns();
    if (timeout_ms > (INT64_MAX - now) / 1000000) return INT64_MAX;
    return now + timeout_ms * 1000000;
}

/* Nanoseconds left until deadline_ns (0 when passed); INT64_MAX for no deadline. */
static inline int64_t pl_clock_remaining_ns(int64_t deadline_ns) {
    if (deadline_ns == 0) return INT64_MAX;
    int64_t left = deadline_ns - pl_clock_now_ns();
    return left > 0 ? left : 0;
}

static inline double pl_clock_ns_to_ms(int64_t ns) { return (double)ns / 1e6; }
static inline double pl_clock_ns_to_s(int64_t ns) { return (double)ns / 1e9; }

#endif
