/* Hash map: open addressing with linear probing, keyed by strings unless a
 * type table says otherwise.
 *
 * The type table says how keys hash and compare and who owns what:
 *   key_dup   NULL: the map stores the caller's key pointer, which must stay
 *             valid and unchanged while it is in the map; otherwise the map
 *             stores key_dup(key) and owns it.
 *   key_free  called on a stored key when its entry is removed or the map
 *             is deinitialised; NULL: never.
 *   val_free  called on a stored value when it is replaced, removed or the map
 *             is deinitialised; NULL: values are borrowed and never freed.
 *
 *     pl_map m;
 *     pl_map_init(&m, &pl_map_type_str);       // keys copied, values borrowed
 *     if ((st = pl_map_put(&m, "x", ptr))) return st;
 *     void *v = pl_map_find(&m, "x");          // NULL when absent
 *     pl_map_deinit(&m);
 *
 * Keys are never NULL. A map has no lock: one writer, or any number of
 * readers with no writer. Iteration order is unspecified, and the map must
 * not change during an iteration. */
#ifndef PL_BASE_MAP_H
#define PL_BASE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef struct pl_map_type {
    uint64_t (*hash)(const void *key);
    bool (*equal)(const void *a, const void *b);
    void *(*key_dup)(const void *key);
    void (*key_free)(void *key);
    void (*val_free)(void *val);
} pl_map_type;

/* NUL-terminated string keys copied and freed by the map; values borrowed. */
extern const pl_map_type pl_map_type_str;
/* NUL-terminated string keys borrowed from the caller; values borrowed. */
extern const pl_map_type pl_map_type_str_borrowed;

typedef struct pl_map_slot {
    uint64_t hash;
    void *key;  /* NULL marks an empty slot */
    void *val;
} pl_map_slot;

typedef struct pl_map {
    const pl_map_type *type;
    pl_map_slot *slots;  /* capacity slots, a power of two, or NULL while empty */
    size_t capacity;
    size_t count;
} pl_map;

/* type NULL means pl_map_type_str. Takes no memory until the first put. */
void pl_map_init(pl_map *m, const pl_map_type *type);
/* Frees stored keys and values as the type says, then the table. */
void pl_map_deinit(pl_map *m);

/* Inserts or replaces. On replace the stored key stays and the old value is
 * freed (unless it is the same pointer). Fails only when memory runs out, and
 * then the map is unchanged. */
pl_status pl_map_put(pl_map *m, const void *key, void *val);
/* The value stored under key (borrowed), or NULL when absent. */
void *pl_map_find(const pl_map *m, const void *key);
/* Like find, but tells a stored NULL value from an absent key. */
bool pl_map_lookup(const pl_map *m, const void *key, void **val);
/* Removes the entry and frees its key and value as the type says. */
bool pl_map_remove(pl_map *m, const void *key);
static inline size_t pl_map_count(const pl_map *m) { return m->count; }

/* Iterates: start with *pos = 0; returns false at the end. Keys and values
 * are borrowed. */
bool pl_map_next(const pl_map *m, size_t *pos, const void **key, void **val);

/* Hashes for building other type tables. */
uint64_t pl_hash_bytes(const void *data, size_t nbytes);
uint64_t pl_hash_str(const void *s);
bool pl_equal_str(const void *a, const void *b);

#endif
