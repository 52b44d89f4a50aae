/* Status objects: creation, inspection, and the code tables. */
#include "base/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

struct pl_status_s {
    pl_code code;
    char *message;
};

static char *vformat(const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) n = 0;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

/* Returned when even the status cannot be allocated: callers free it like any other. */
static struct pl_status_s out_of_memory = {PL_RESOURCE_EXHAUSTED, "out of memory"};

pl_status pl__status_new(const char *file, int line, pl_code code, const char *fmt, ...) {
    struct pl_status_s *st = malloc(sizeof *st);
    if (!st) return &out_of_memory;
    va_list ap;
    va_start(ap, fmt);
    st->message = vformat(fmt, ap);
    va_end(ap);
    st->code = code == PL_OK ? PL_UNKNOWN : code;
    if (!st->message) {
        free(st);
        return &out_of_memory;
    }
    pl_log_debug("status %s at %s:%d: %s", pl_code_name(st->code), file, line, st->message);
    return st;
}

pl_code pl_status_code(pl_status st) { return st ? st->code : PL_OK; }

const char *pl_status_message(pl_status st) { return st ? st->message : ""; }

void pl_status_free(pl_status st) {
    if (!st || st == &out_of_memory) return;
    free(st->message);
    free(st);
}

pl_status pl_status_prefix(pl_status st, const char *fmt, ...) {
    if (!st || st == &out_of_memory) return st;
    va_list ap;
    va_start(ap, fmt);
    char *prefix = vformat(fmt, ap);
    va_end(ap);
    if (!prefix) return st;
    size_t a = strlen(prefix), b = strlen(st->message);
    char *joined = malloc(a + b + 1);
    if (joined) {
        memcpy(joined, prefix, a);
        memcpy(joined + a, st->message, b + 1);
        free(st->message);
        st->message = joined;
    }
    free(prefix);
    return st;
}

const char *pl_code_name(pl_code code) {
    switch (code) {
#define PL__CODE_NAME(name, num, http) case PL_##name: return #name;
        PL_CODE_LIST(PL__CODE_NAME)
#undef PL__CODE_NAME
    default: return "UNKNOWN";
    }
}

int pl_code_http_status(pl_code code) {
    switch (code) {
#define PL__CODE_HTTP(name, num, http) case PL_##name: return http;
        PL_CODE_LIST(PL__CODE_HTTP)
#undef PL__CODE_HTTP
    default: return 500;
    }
}
