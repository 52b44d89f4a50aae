/* Arena allocator: chunk list, aligned bump allocation, reset and limits. */
#include "base/arena.h"

#include <stdlib.h>
#include <string.h>

struct pl_arena_chunk {
    pl_arena_chunk *next;
    size_t size;  /* usable bytes in data[] */
    size_t used;  /* bytes of data[] handed out, padding included */
    /* Keeps data[] aligned to PL_ARENA_ALIGN whatever the header size. */
    _Alignas(16) unsigned char data[];
};

/* Allocations larger than this fraction of a chunk get a chunk of their own,
 * so a big tensor never wastes the rest of the current chunk. */
#define BIG_DIVISOR 4

void pl_arena_init(pl_arena *a, size_t chunk_nbytes) {
    memset(a, 0, sizeof *a);
    a->chunk_nbytes = chunk_nbytes ? chunk_nbytes : PL_ARENA_CHUNK_NBYTES;
    a->limit_nbytes = SIZE_MAX;
}

static void free_chunks(pl_arena_chunk *c) {
    while (c) {
        pl_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
}

void pl_arena_deinit(pl_arena *a) {
    free_chunks(a->chunks);
    a->chunks = NULL;
    a->nbytes_used = a->nbytes_reserved = a->n_chunks = 0;
}

void pl_arena_set_limit(pl_arena *a, size_t limit_nbytes) {
    a->limit_nbytes = limit_nbytes ? limit_nbytes : SIZE_MAX;
}

void pl_arena_reset(pl_arena *a) {
    pl_arena_chunk *keep = NULL, *c = a->chunks;
    while (c) {
        pl_arena_chunk *next = c->next;
        if (!keep && c->size == a->chunk_nbytes) {
            keep = c;
        } else {
            free(c);
        }
        c = next;
    }
    a->chunks = keep;
    a->nbytes_used = 0;
    a->nbytes_reserved = keep ? sizeof *keep + keep->size : 0;
    a->n_chunks = keep ? 1 : 0;
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
}

/* Offset into c->data at which an allocation of the given alignment starts. */
static size_t aligned_offset(const pl_arena_chunk *c, size_t align) {
    uintptr_t p = (uintptr_t)(c->data + c->used);
    uintptr_t q = (p + (align - 1)) & ~(uintptr_t)(align - 1);
    return c->used + (size_t)(q - p);
}

static pl_arena_chunk *new_chunk(pl_arena *a, size_t size) {
    size_t total = sizeof(pl_arena_chunk) + size;
    if (total < size || total > a->limit_nbytes - a->nbytes_reserved ||
        a->nbytes_reserved > a->limit_nbytes)
        return NULL;
    pl_arena_chunk *c = malloc(total);
    if (!c) return NULL;
    c->size = size;
    c->used = 0;
    a->nbytes_reserved += total;
    a->n_chunks++;
    return c;
}

void *pl_arena_alloc_aligned(pl_arena *a, size_t nbytes, size_t align) {
    if (!align || (align & (align - 1)) || align > PL_ARENA_MAX_ALIGN || nbytes > PL_ARENA_MAX_ALLOC) return NULL;
    if (align < PL_ARENA_ALIGN) align = PL_ARENA_ALIGN;

    pl_arena_chunk *head = a->chunks;
    if (head) {
        size_t off = aligned_offset(head, align);
        if (off <= head->size && nbytes <= head->size - off) {
            head->used = off + nbytes;
            a->nbytes_used += nbytes;
            return head->data + off;
        }
    }
    /* Room that guarantees the fit whatever the padding: data[] itself is
     * PL_ARENA_ALIGN-aligned. */
    size_t need = nbytes + align - PL_ARENA_ALIGN;
    if (need > a->chunk_nbytes / BIG_DIVISOR) {
        /* A dedicated chunk, linked behind the head so the head keeps
         * serving small allocations. */
        pl_arena_chunk *c = new_chunk(a, need);
        if (!c) return NULL;
        size_t off = aligned_offset(c, align);
        c->used = off + nbytes;
        if (head) {
            c->next = head->next;
            head->next = c;
        } else {
            c->next = NULL;
            a->chunks = c;
        }
        a->nbytes_used += nbytes;
        return c->data + off;
    }
    pl_arena_chunk *c = new_chunk(a, a->chunk_nbytes);
    if (!c) return NULL;
    c->next = head;
    a->chunks = c;
    size_t off = aligned_offset(c, align);
    c->used = off + nbytes;
    a->nbytes_used += nbytes;
    return c->data + off;
}

void *pl_arena_alloc(pl_arena *a, size_t nbytes) { return pl_arena_alloc_aligned(a, nbytes, PL_ARENA_ALIGN); }

void *pl_arena_alloc_array(pl_arena *a, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    return pl_arena_alloc(a, n * size);
}

void *pl_arena_calloc(pl_arena *a, size_t n, size_t size) {
    void *p = pl_arena_alloc_array(a, n, size);
    if (p) memset(p, 0, n * size);
    return p;
}

void *pl_arena_memdup(pl_arena *a, const void *src, size_t nbytes) {
    void *p = pl_arena_alloc(a, nbytes);
    if (p && nbytes) memcpy(p, src, nbytes);
    return p;
}

char *pl_arena_strndup(pl_arena *a, const char *s, size_t len) {
    if (len == SIZE_MAX) return NULL;
    char *p = pl_arena_alloc(a, len + 1);
    if (!p) return NULL;
    if (len) memcpy(p, s, len);
    p[len] = 0;
    return p;
}

char *pl_arena_strdup(pl_arena *a, const char *s) { return pl_arena_strndup(a, s, strlen(s)); }

pl_arena_stats pl_arena_get_stats(const pl_arena *a) {
    pl_arena_stats s = {a->nbytes_used, a->nbytes_reserved, a->n_chunks};
    return s;
}
