/* Status: the error type every fallible plinth function returns.
 *
 * A status is NULL on success and a heap object on failure, so the success
 * path costs nothing and `if (st) return st;` propagates an error. Codes are
 * the TensorFlow / gRPC codes (the same numbers on the wire); messages follow
 * TensorFlow Serving's texts wherever a client can see them.
 *
 *     pl_status st = pl_model_load(dir, &model);
 *     if (st) {
 *         pl_log_error("load failed: %s", pl_status_message(st));
 *         pl_status_free(st);
 *     }
 *
 * Every error is created through pl_error(), which logs its source location
 * at debug level: one breakpoint on pl__status_new catches every error where
 * it starts. */
#ifndef PL_BASE_STATUS_H
#define PL_BASE_STATUS_H

#include <stdarg.h>

/* One list of codes builds the enum, the names and the REST mapping.
 * X(name, number, http status) */
#define PL_CODE_LIST(X)                     \
    X(OK, 0, 200)                           \
    X(CANCELLED, 1, 499)                    \
    X(UNKNOWN, 2, 500)                      \
    X(INVALID_ARGUMENT, 3, 400)             \
    X(DEADLINE_EXCEEDED, 4, 504)            \
    X(NOT_FOUND, 5, 404)                    \
    X(ALREADY_EXISTS, 6, 409)               \
    X(PERMISSION_DENIED, 7, 403)            \
    X(RESOURCE_EXHAUSTED, 8, 429)           \
    X(FAILED_PRECONDITION, 9, 400)          \
    X(ABORTED, 10, 409)                     \
    X(OUT_OF_RANGE, 11, 400)                \
    X(UNIMPLEMENTED, 12, 501)               \
    X(INTERNAL, 13, 500)                    \
    X(UNAVAILABLE, 14, 503)                 \
    X(DATA_LOSS, 15, 500)                   \
    X(UNAUTHENTICATED, 16, 401)

typedef enum pl_code {
#define PL__CODE_ENUM(name, num, http) PL_##name = num,
    PL_CODE_LIST(PL__CODE_ENUM)
#undef PL__CODE_ENUM
    PL_CODE_COUNT
} pl_code;

typedef struct pl_status_s *pl_status;

/* Creates an error. `code` must not be PL_OK. */
#define pl_error(code, ...) pl__status_new(__FILE__, __LINE__, (code), __VA_ARGS__)
pl_status pl__status_new(const char *file, int line, pl_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

pl_code pl_status_code(pl_status st);            /* PL_OK for NULL */
const char *pl_status_message(pl_status st);     /* "" for NULL */
void pl_status_free(pl_status st);               /* NULL is fine */

/* Prefixes the message with context ("loading 'x': <old message>"); returns st. */
pl_status pl_status_prefix(pl_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

const char *pl_code_name(pl_code code);          /* "INVALID_ARGUMENT" */
int pl_code_http_status(pl_code code);           /* TensorFlow Serving's REST mapping */

/* Propagates an error to the caller. */
#define PL_TRY(expr)                 \
    do {                             \
        pl_status pl__st = (expr);   \
        if (pl__st) return pl__st;   \
    } while (0)

/* "Cannot happen unless a model file or a client lies": loud in debug builds,
 * an ordinary error path in release builds, never a crash. */
#ifdef NDEBUG
#define PL_NEVER(x) (x)
#else
#include <assert.h>
#define PL_NEVER(x) ((x) ? (assert(0 && #x), 1) : 0)
#endif

#endif
