/* A minimal unit-test harness: CHECK macros that count failures and report
 * file:line, and a main() helper that runs named test functions. */
#ifndef PL_TESTS_CHECK_H
#define PL_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/status.h"

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        check_count++;                                                               \
        if (!(cond)) {                                                               \
            check_failures++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                             \
    do {                                                                                               \
        long long check_a = (long long)(a), check_b = (long long)(b);                                  \
        check_count++;                                                                                 \
        if (check_a != check_b) {                                                                      \
            check_failures++;                                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld vs %lld\n", __FILE__, __LINE__, #a, #b, check_a, \
                    check_b);                                                                          \
        }                                                                                              \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                         \
    do {                                                                                              \
        double check_a = (double)(a), check_b = (double)(b);                                          \
        check_count++;                                                                                \
        if (!(fabs(check_a - check_b) <= (tol))) {                                                    \
            check_failures++;                                                                         \
            fprintf(stderr, "%s:%d: %s ~= %s failed: %.9g vs %.9g\n", __FILE__, __LINE__, #a, #b, check_a, \
                    check_b);                                                                         \
        }                                                                                             \
    } while (0)

#define CHECK_STR(a, b)                                                                                    \
    do {                                                                                                   \
        const char *check_a = (a), *check_b = (b);                                                         \
        check_count++;                                                                                     \
        if (!check_a || !check_b || strcmp(check_a, check_b)) {                                            \
            check_failures++;                                                                              \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" vs \"%s\"\n", __FILE__, __LINE__, #a, #b,          \
                    check_a ? check_a : "(null)", check_b ? check_b : "(null)");                           \
        }                                                                                                  \
    } while (0)

/* Expects success; prints the message of an unexpected error and frees it. */
#define CHECK_OK(expr)                                                                                     \
    do {                                                                                                   \
        pl_status check_st = (expr);                                                                       \
        check_count++;                                                                                     \
        if (check_st) {                                                                                    \
            check_failures++;                                                                              \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, pl_status_message(check_st)); \
            pl_status_free(check_st);                                                                      \
        }                                                                                                  \
    } while (0)

/* Expects an error with the given code; frees it. */
#define CHECK_ERR(expr, code)                                                                           \
    do {                                                                                                \
        pl_status check_st = (expr);                                                                    \
        check_count++;                                                                                  \
        if (pl_status_code(check_st) != (code)) {                                                       \
            check_failures++;                                                                           \
            fprintf(stderr, "%s:%d: %s: expected %s, got %s (%s)\n", __FILE__, __LINE__, #expr,         \
                    pl_code_name(code), pl_code_name(pl_status_code(check_st)), pl_status_message(check_st)); \
        }                                                                                               \
        pl_status_free(check_st);                                                                       \
    } while (0)

#define RUN_TEST(fn)                                      \
    do {                                                  \
        int check_before = check_failures;                \
        fn();                                             \
        fprintf(stderr, "%s %s\n", check_failures == check_before ? "ok  " : "FAIL", #fn); \
    } while (0)

/* Creates root/rel and every missing directory on the way, for model trees. */
static inline void check_mkdirs(const char *root, const char *rel) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
}

static inline int check_summary(void) {
    fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
