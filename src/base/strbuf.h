/* String builder: a growable byte buffer with a sticky error.
 *
 * Once an append fails (out of memory, or the buffer would pass its cap) the
 * builder stays failed and every later append does nothing, so writers such
 * as the JSON encoder append in their inner loops without checking, and the
 * stage that owns the builder checks once with pl_strbuf_status().
 *
 *     pl_strbuf b;
 *     pl_strbuf_init(&b, 0);
 *     pl_strbuf_puts(&b, "{\"error\": ");
 *     pl_strbuf_printf(&b, "%d", n);
 *     pl_status st = pl_strbuf_status(&b);
 *     if (!st) send(b.data, b.len);
 *     pl_strbuf_deinit(&b);
 */
#ifndef PL_BASE_STRBUF_H
#define PL_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "base/status.h"

typedef struct pl_strbuf {
    char *data;         /* owned; NUL-terminated at len while not failed */
    size_t len;         /* bytes written */
    size_t cap;         /* usable bytes allocated, NUL included; <= max_nbytes + 1; 0 once failed */
    size_t max_nbytes;  /* growing len past this fails the builder */
    bool failed;        /* sticky: set by the first failed append */
    bool over_cap;      /* why it failed: the cap (true) or memory (false) */
} pl_strbuf;

/* max_nbytes 0 means no cap beyond what memory allows. */
void pl_strbuf_init(pl_strbuf *b, size_t max_nbytes);
void pl_strbuf_deinit(pl_strbuf *b);
/* Empties the builder and clears its error, keeping the allocation. */
void pl_strbuf_clear(pl_strbuf *b);

/* Room for n more bytes at data + len, or NULL once failed. Write at most n
 * bytes there, then pl_strbuf_commit() how many were written. */
char *pl_strbuf_reserve(pl_strbuf *b, size_t n);
static inline void pl_strbuf_commit(pl_strbuf *b, size_t n) {
    b->len += n;
    b->data[b->len] = 0;
}

void pl_strbuf_append(pl_strbuf *b, const void *p, size_t n);
static inline void pl_strbuf_puts(pl_strbuf *b, const char *s) { pl_strbuf_append(b, s, strlen(s)); }
static inline void pl_strbuf_putc(pl_strbuf *b, char c) {
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = 0;
    } else {
        pl_strbuf_append(b, &c, 1);
    }
}
void pl_strbuf_printf(pl_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* NULL while the builder is good; otherwise RESOURCE_EXHAUSTED saying why. */
pl_status pl_strbuf_status(const pl_strbuf *b);
/* Hands the bytes to the caller (free() them) and empties the builder; NULL if
 * it failed. *len may be NULL. */
char *pl_strbuf_detach(pl_strbuf *b, size_t *len);

#endif
