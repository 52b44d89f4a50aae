/* String builder: growth, the sticky error and formatted appends. */
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void pl_strbuf_init(pl_strbuf *b, size_t max_nbytes) {
    memset(b, 0, sizeof *b);
    b->max_nbytes = max_nbytes ? max_nbytes : SIZE_MAX / 2;
}

void pl_strbuf_deinit(pl_strbuf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void pl_strbuf_clear(pl_strbuf *b) {
    b->len = 0;
    b->failed = b->over_cap = false;
    if (b->data) b->data[0] = 0;
}

static void fail(pl_strbuf *b, bool over_cap) {
    b->failed = true;
    b->over_cap = over_cap;
    /* No room as far as the inline fast paths can tell, so they fall through
     * to the checked path and do nothing; realloc still knows the real size. */
    b->cap = 0;
}

char *pl_strbuf_reserve(pl_strbuf *b, size_t n) {
    if (b->failed) return NULL;
    if (n > b->max_nbytes - b->len) {
        fail(b, true);
        return NULL;
    }
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        /* Never beyond the cap, so that the inline putc fast path, which
         * only compares against cap, cannot pass max_nbytes. */
        if (cap > b->max_nbytes + 1) cap = b->max_nbytes + 1;
        char *p = realloc(b->data, cap);
        if (!p) {
            fail(b, false);
            return NULL;
        }
        b->data = p;
        b->cap = cap;
    }
    return b->data + b->len;
}

void pl_strbuf_append(pl_strbuf *b, const void *p, size_t n) {
    char *dst = pl_strbuf_reserve(b, n);
    if (!dst) return;
    if (n) memcpy(dst, p, n);
    pl_strbuf_commit(b, n);
}

void pl_strbuf_printf(pl_strbuf *b, const char *fmt, ...) {
    if (b->failed) return;
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fail(b, false);
        return;
    }
    if ((size_t)n < sizeof small) {
        pl_strbuf_append(b, small, (size_t)n);
        return;
    }
    char *dst = pl_strbuf_reserve(b, (size_t)n);
    if (!dst) return;
    va_start(ap, fmt);
    vsnprintf(dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
    pl_strbuf_commit(b, (size_t)n);
}

pl_status pl_strbuf_status(const pl_strbuf *b) {
    if (!b->failed) return NULL;
    if (b->over_cap) return pl_error(PL_RESOURCE_EXHAUSTED, "output larger than %zu bytes", b->max_nbytes);
    return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory writing output");
}

char *pl_strbuf_detach(pl_strbuf *b, size_t *len) {
    char *p = NULL;
    if (!b->failed) {
        p = b->data ? b->data : calloc(1, 1);
        if (p && len) *len = b->len;
        if (p) b->data = NULL;
    }
    size_t max = b->max_nbytes;
    pl_strbuf_deinit(b);
    b->max_nbytes = max;
    return p;
}
