/* Hash map: linear probing with backward-shift deletion (no tombstones), so
 * probe sequences stay short however many deletes a map sees. */
#include "base/map.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAPACITY 8

uint64_t pl_hash_bytes(const void *data, size_t nbytes) {
    /* FNV-1a, then a murmur3 finaliser so that the low bits used for the
     * slot index depend on every input bit. */
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < nbytes; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

uint64_t pl_hash_str(const void *s) { return pl_hash_bytes(s, strlen(s)); }

bool pl_equal_str(const void *a, const void *b) { return strcmp(a, b) == 0; }

static void *dup_str(const void *s) { return strdup(s); }

const pl_map_type pl_map_type_str = {pl_hash_str, pl_equal_str, dup_str, free, NULL};
const pl_map_type pl_map_type_str_borrowed = {pl_hash_str, pl_equal_str, NULL, NULL, NULL};

void pl_map_init(pl_map *m, const pl_map_type *type) {
    m->type = type ? type : &pl_map_type_str;
    m->slots = NULL;
    m->capacity = 0;
    m->count = 0;
}

void pl_map_deinit(pl_map *m) {
    for (size_t i = 0; i < m->capacity; i++) {
        pl_map_slot *s = &m->slots[i];
        if (!s->key) continue;
        if (m->type->key_free) m->type->key_free(s->key);
        if (m->type->val_free) m->type->val_free(s->val);
    }
    free(m->slots);
    m->slots = NULL;
    m->capacity = m->count = 0;
}

/* Index of key's slot, or of the empty slot where it would go. */
static size_t probe(const pl_map *m, const void *key, uint64_t hash) {
    size_t mask = m->capacity - 1, i = (size_t)hash & mask;
    for (;;) {
        const pl_map_slot *s = &m->slots[i];
        if (!s->key || (s->hash == hash && m->type->equal(s->key, key))) return i;
        i = (i + 1) & mask;
    }
}

static pl_status grow(pl_map *m) {
    size_t cap = m->capacity ? m->capacity * 2 : MIN_CAPACITY;
    if (cap < m->capacity || cap > SIZE_MAX / sizeof(pl_map_slot))
        return pl_error(PL_RESOURCE_EXHAUSTED, "hash map too large");
    pl_map_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory growing a hash map to %zu slots", cap);
    pl_map old = *m;
    m->slots = slots;
    m->capacity = cap;
    for (size_t i = 0; i < old.capacity; i++) {
        if (old.slots[i].key) m->slots[probe(m, old.slots[i].key, old.slots[i].hash)] = old.slots[i];
    }
    free(old.slots);
    return NULL;
}

pl_status pl_map_put(pl_map *m, const void *key, void *val) {
    uint64_t hash = m->type->hash(key);
    if (m->capacity) {
        pl_map_slot *s = &m->slots[probe(m, key, hash)];
        if (s->key) {
            if (m->type->val_free && s->val != val) m->type->val_free(s->val);
            s->val = val;
            return NULL;
        }
    }
    /* Keep the load at most 3/4 so probe runs stay short. */
    if ((m->count + 1) * 4 > m->capacity * 3) PL_TRY(grow(m));
    void *stored = (void *)key;
    if (m->type->key_dup && !(stored = m->type->key_dup(key)))
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory copying a hash map key");
    pl_map_slot *s = &m->slots[probe(m, key, hash)];
    s->hash = hash;
    s->key = stored;
    s->val = val;
    m->count++;
    return NULL;
}

bool pl_map_lookup(const pl_map *m, const void *key, void **val) {
    if (!m->count) return false;
    const pl_map_slot *s = &m->slots[probe(m, key, m->type->hash(key))];
    if (!s->key) return false;
    if (val) *val = s->val;
    return true;
}

void *pl_map_find(const pl_map *m, const void *key) {
    void *v = NULL;
    return pl_map_lookup(m, key, &v) ? v : NULL;
}

bool pl_map_remove(pl_map *m, const void *key) {
    if (!m->count) return false;
    size_t mask = m->capacity - 1, i = probe(m, key, m->type->hash(key));
    pl_map_slot *s = &m->slots[i];
    if (!s->key) return false;
    if (m->type->key_free) m->type->key_free(s->key);
    if (m->type->val_free) m->type->val_free(s->val);
    /* Backward shift: pull later entries of the run into the hole when their
     * home slot is not between the hole and where they sit. */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & mask;
        pl_map_slot *t = &m->slots[j];
        if (!t->key) break;
        size_t home = (size_t)t->hash & mask;
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays) continue;
        m->slots[hole] = *t;
        hole = j;
    }
    m->slots[hole].key = NULL;
    m->slots[hole].val = NULL;
    m->count--;
    return true;
}

bool pl_map_next(const pl_map *m, size_t *pos, const void **key, void **val) {
    for (size_t i = *pos; i < m->capacity; i++) {
        if (m->slots[i].key) {
            if (key) *key = m->slots[i].key;
            if (val) *val = m->slots[i].val;
            *pos = i + 1;
            return true;
        }
    }
    *pos = m->capacity;
    return false;
}
