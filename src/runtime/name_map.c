/* Node name to index lookup: an open-addressing hash table of indices whose
 * keys are read back through a callback, so names are never copied. Used
 * while importing and preparing, never while running. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

static uint64_t hash(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

pl_status pl__name_map_build(pl__name_map *m, int n, const char *(*name_of)(void *arg, int i), void *arg) {
    size_t cap = 16;
    while (cap < (size_t)n * 2) cap *= 2;
    m->cap = cap;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < n; i++) {
        const char *name = name_of(arg, i);
        size_t len = strlen(name);
        size_t k = hash(name, len) & (cap - 1);
        while (m->slots[k]) {
            const char *other = name_of(arg, m->slots[k] - 1);
            if (!strcmp(other, name)) {
                pl__name_map_free(m);
                return pl_error(PL_INVALID_ARGUMENT, "Node '%s' is not unique", name);
            }
            k = (k + 1) & (cap - 1);
        }
        m->slots[k] = i + 1;
    }
    return NULL;
}

int pl__name_map_find(const pl__name_map *m, const char *name, size_t len, const char *(*name_of)(void *arg, int i),
                      void *arg) {
    if (!m->slots) return -1;
    size_t k = hash(name, len) & (m->cap - 1);
    while (m->slots[k]) {
        const char *other = name_of(arg, m->slots[k] - 1);
        if (strlen(other) == len && !memcmp(other, name, len)) return m->slots[k] - 1;
        k = (k + 1) & (m->cap - 1);
    }
    return -1;
}

void pl__name_map_free(pl__name_map *m) {
    free(m->slots);
    m->slots = NULL;
    m->cap = 0;
}
