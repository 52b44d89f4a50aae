/* Reading a LevelDB-format table (TensorFlow's core/lib/io/table), the file
 * format of a checkpoint's `.index`: data blocks of prefix-compressed
 * key/value entries, an index block mapping separator keys to data block
 * handles, and a 48-byte footer ending in a magic number. Every block carries
 * a 5-byte trailer: compression type and masked CRC-32C. The whole table is
 * decoded at once into a sorted array. */
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "runtime/bundle_internal.h"

#define TABLE_MAGIC 0xdb4775248b80fb57ull
#define FOOTER_SIZE 48          /* two padded block handles (2 * 20) + magic (8) */
#define BLOCK_TRAILER_SIZE 5    /* compression type + masked crc */
#define NO_COMPRESSION 0
#define SNAPPY_COMPRESSION 1

size_t pl__varint64(const uint8_t *p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (unsigned i = 0, shift = 0; shift <= 63 && p + i < end; i++, shift += 7) {
        uint64_t b = p[i];
        if (shift == 63 && b > 1) return 0; /* more than 64 bits */
        r |= (b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

typedef struct handle {
    uint64_t offset, size;
} handle;

static pl_status decode_handle(const uint8_t **p, const uint8_t *end, handle *h) {
    size_t n1 = pl__varint64(*p, end, &h->offset);
    size_t n2 = n1 ? pl__varint64(*p + n1, end, &h->size) : 0;
    if (!n2) return pl_error(PL_DATA_LOSS, "bad block handle");
    *p += n1 + n2;
    return NULL;
}

/* Block contents after the trailer check and decompression. `owned` is set
 * when the bytes were decompressed into a new buffer. */
typedef struct block {
    const uint8_t *data;
    size_t size;
    uint8_t *owned;
} block;

static pl_status read_block(const uint8_t *file, size_t file_size, handle h, block *out) {
    if (h.offset > file_size || h.size > file_size - h.offset || file_size - h.offset - h.size < BLOCK_TRAILER_SIZE)
        return pl_error(PL_DATA_LOSS, "truncated block read");
    const uint8_t *data = file + h.offset;
    size_t n = (size_t)h.size;
    if (pl_crc32c_unmask(le32(data + n + 1)) != pl_crc32c(data, n + 1))
        return pl_error(PL_DATA_LOSS, "block checksum mismatch");
    memset(out, 0, sizeof *out);
    switch (data[n]) {
    case NO_COMPRESSION:
        out->data = data;
        out->size = n;
        return NULL;
    case SNAPPY_COMPRESSION:
        PL_TRY(pl__snappy_uncompress(data, n, &out->owned, &out->size));
        out->data = out->owned;
        return NULL;
    default:
        return pl_error(PL_DATA_LOSS, "bad block type");
    }
}

/* A growable entry list; each entry's key and value share one allocation. */
typedef struct entry_list {
    pl__table_entry *items;
    size_t n, cap;
} entry_list;

static pl_status push_entry(entry_list *l, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        pl__table_entry *items = realloc(l->items, cap * sizeof *items);
        if (!items) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory reading a table");
        l->items = items;
        l->cap = cap;
    }
    char *mem = malloc(key_len + 1 + val_len + 1);
    if (!mem) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory reading a table");
    if (key_len) memcpy(mem, key, key_len);
    mem[key_len] = 0;
    if (val_len) memcpy(mem + key_len + 1, val, val_len);
    l->items[l->n++] = (pl__table_entry){mem, key_len, (const uint8_t *)mem + key_len + 1, val_len};
    return NULL;
}

static int key_cmp(const char *a, size_t an, const char *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* Walks every entry of a block in order (restart points only speed up seeks,
 * so a full scan ignores them beyond bounding the entry area). */
static pl_status scan_block(const block *b, entry_list *out) {
    if (b->size < 4) return pl_error(PL_DATA_LOSS, "bad block contents");
    uint32_t num_restarts = le32(b->data + b->size - 4);
    if (num_restarts > (b->size - 4) / 4) return pl_error(PL_DATA_LOSS, "bad block contents");
    const uint8_t *p = b->data, *end = b->data + b->size - 4 - 4 * (size_t)num_restarts;
    uint8_t *key = NULL;
    size_t key_len = 0, key_cap = 0;
    pl_status st = NULL;
    while (p < end && !st) {
        uint64_t shared, non_shared, val_len;
        size_t n1 = pl__varint64(p, end, &shared);
        size_t n2 = n1 ? pl__varint64(p + n1, end, &non_shared) : 0;
        size_t n3 = n2 ? pl__varint64(p + n1 + n2, end, &val_len) : 0;
        if (!n3) {
            st = pl_error(PL_DATA_LOSS, "bad entry in block");
            break;
        }
        p += n1 + n2 + n3;
        if (shared > key_len || non_shared > (uint64_t)(end - p) || val_len > (uint64_t)(end - p) - non_shared) {
            st = pl_error(PL_DATA_LOSS, "bad entry in block");
            break;
        }
        size_t need = (size_t)shared + (size_t)non_shared;
        if (need > key_cap) {
            uint8_t *k = realloc(key, need);
            if (!k) {
                st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory reading a table");
                break;
            }
            key = k;
            key_cap = need;
        }
        if (non_shared) memcpy(key + shared, p, (size_t)non_shared);
        key_len = need;
        p += non_shared;
        st = push_entry(out, key, key_len, p, (size_t)val_len);
        p += val_len;
    }
    free(key);
    return st;
}

void pl__table_free(pl__table *t) {
    if (!t) return;
    for (size_t i = 0; i < t->num_entries; i++) free((char *)t->entries[i].key);
    free(t->entries);
    free(t);
}

static pl_status parse(const uint8_t *data, size_t size, entry_list *entries) {
    if (size < FOOTER_SIZE) return pl_error(PL_DATA_LOSS, "file is too short to be an sstable");
    const uint8_t *footer = data + size - FOOTER_SIZE;
    uint64_t magic = (uint64_t)le32(footer + FOOTER_SIZE - 4) << 32 | le32(footer + FOOTER_SIZE - 8);
    if (magic != TABLE_MAGIC) return pl_error(PL_DATA_LOSS, "not an sstable (bad magic number)");
    handle meta, index;
    const uint8_t *p = footer, *fend = footer + FOOTER_SIZE - 8;
    PL_TRY(decode_handle(&p, fend, &meta));
    PL_TRY(decode_handle(&p, fend, &index));

    block ib;
    PL_TRY(read_block(data, size, index, &ib));
    entry_list handles = {0};
    pl_status st = scan_block(&ib, &handles);
    uint64_t next_offset = 0;
    for (size_t i = 0; i < handles.n && !st; i++) {
        const uint8_t *hp = handles.items[i].value;
        handle h;
        block db;
        st = decode_handle(&hp, hp + handles.items[i].value_len, &h);
        /* Data blocks follow each other in the file; handles that overlap or go
         * back would let a small forged file decode into unbounded output. */
        if (!st && h.offset < next_offset) st = pl_error(PL_DATA_LOSS, "bad block handle");
        if (!st) st = read_block(data, size, h, &db);
        if (st) break;
        next_offset = h.offset + h.size + BLOCK_TRAILER_SIZE;
        st = scan_block(&db, entries);
        free(db.owned);
    }
    for (size_t i = 0; i < handles.n; i++) free((char *)handles.items[i].key);
    free(handles.items);
    free(ib.owned);
    if (st) return st;
    /* Strict order is what makes binary search valid; a table that breaks it is corrupt. */
    for (size_t i = 1; i < entries->n; i++) {
        const pl__table_entry *a = &entries->items[i - 1], *b = &entries->items[i];
        if (key_cmp(a->key, a->key_len, b->key, b->key_len) >= 0)
            return pl_error(PL_DATA_LOSS, "table keys out of order");
    }
    return NULL;
}

pl_status pl__table_parse(const uint8_t *data, size_t size, const char *name, pl__table **out) {
    entry_list entries = {0};
    pl__table *t = NULL;
    pl_status st = parse(data, size, &entries);
    if (!st && !(t = malloc(sizeof *t))) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory reading a table");
    if (st) {
        for (size_t i = 0; i < entries.n; i++) free((char *)entries.items[i].key);
        free(entries.items);
        return pl_status_prefix(st, "%s: ", name);
    }
    t->num_entries = entries.n;
    t->entries = entries.items;
    *out = t;
    return NULL;
}

const pl__table_entry *pl__table_find(const pl__table *t, const char *key, size_t key_len) {
    size_t lo = 0, hi = t->num_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const pl__table_entry *e = &t->entries[mid];
        int c = key_cmp(e->key, e->key_len, key, key_len);
        if (c == 0) return e;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}
