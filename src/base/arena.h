/* Arena: a bump allocator over a list of chunks, freed in one go.
 *
 * One arena per request (decoded inputs, intermediates, the response) and one
 * per model (graph, weights, prepared kernels). Memory is never freed piece by
 * piece: pl_arena_reset() drops everything but one chunk for reuse, and
 * pl_arena_deinit() drops everything.
 *
 *     pl_arena a;
 *     pl_arena_init(&a, 0);
 *     float *v = pl_arena_alloc_array(&a, n, sizeof *v);
 *     if (!v) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
 *     ...
 *     pl_arena_deinit(&a);
 *
 * An arena belongs to one thread at a time; it has no lock. Sizes a client
 * chooses must be checked against limits before they reach an arena, but the
 * arena also refuses single allocations above PL_ARENA_MAX_ALLOC and totals
 * above its limit by returning NULL, so a bad size is an error, never a crash. */
#ifndef PL_BASE_ARENA_H
#define PL_BASE_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* Default size of the chunks small allocations are carved from. */
#define PL_ARENA_CHUNK_NBYTES ((size_t)64 << 10)
/* Default alignment: enough for any scalar type. */
#define PL_ARENA_ALIGN ((size_t)16)
/* Largest alignment an allocation may ask for. */
#define PL_ARENA_MAX_ALIGN ((size_t)4096)
/* Largest single allocation; anything above it returns NULL. */
#define PL_ARENA_MAX_ALLOC ((size_t)1 << 40)

typedef struct pl_arena_chunk pl_arena_chunk;

typedef struct pl_arena {
    pl_arena_chunk *chunks;  /* newest first; the head serves small allocations */
    size_t chunk_nbytes;     /* usable size of a standard chunk */
    size_t limit_nbytes;     /* cap on nbytes_reserved; SIZE_MAX when unlimited */
    size_t nbytes_used;      /* sum of requested sizes since init or reset */
    size_t nbytes_reserved;  /* sum of chunk sizes currently held (headers included) */
    size_t n_chunks;         /* chunks currently held */
} pl_arena;

typedef struct pl_arena_stats {
    size_t nbytes_used;
    size_t nbytes_reserved;
    size_t n_chunks;
} pl_arena_stats;

/* Prepares an empty arena; no memory is taken until the first allocation.
 * chunk_nbytes 0 means PL_ARENA_CHUNK_NBYTES. */
void pl_arena_init(pl_arena *a, size_t chunk_nbytes);
/* Frees every chunk. The arena may be initialised again afterwards. */
void pl_arena_deinit(pl_arena *a);
/* Caps the memory the arena may hold (chunk headers and padding included);
 * 0 removes the cap. Allocations that would pass it return NULL. */
void pl_arena_set_limit(pl_arena *a, size_t limit_nbytes);
/* Forgets every allocation. Pointers from before become invalid; one standard
 * chunk is kept so that a reused arena needs no malloc. */
void pl_arena_reset(pl_arena *a);

/* `nbytes` bytes aligned to PL_ARENA_ALIGN, uninitialised; valid until reset
 * or deinit. NULL when out of memory, over the limit or above
 * PL_ARENA_MAX_ALLOC. A zero-byte request returns a non-NULL pointer that
 * must not be dereferenced. */
void *pl_arena_alloc(pl_arena *a, size_t nbytes);
/* Same with a power-of-two alignment up to PL_ARENA_MAX_ALIGN (NULL otherwise). */
void *pl_arena_alloc_aligned(pl_arena *a, size_t nbytes, size_t align);
/* n * size bytes, NULL if the product overflows. */
void *pl_arena_alloc_array(pl_arena *a, size_t n, size_t size);
/* Same, zeroed. */
void *pl_arena_calloc(pl_arena *a, size_t n, size_t size);
/* Copies of memory and strings (always NUL-terminated). */
void *pl_arena_memdup(pl_arena *a, const void *src, size_t nbytes);
char *pl_arena_strdup(pl_arena *a, const char *s);
char *pl_arena_strndup(pl_arena *a, const char *s, size_t len);

pl_arena_stats pl_arena_get_stats(const pl_arena *a);

#endif
