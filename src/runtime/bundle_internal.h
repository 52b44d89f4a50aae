/* Names shared between the files of the tensor-bundle reader: the LevelDB
 * table (SSTable) format that holds a bundle's index, and the Snappy block
 * decompressor some TensorFlow versions used for it. */
#ifndef PL_RUNTIME_BUNDLE_INTERNAL_H
#define PL_RUNTIME_BUNDLE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

/* Upper bound of any varint-prefixed count or size we accept from a file,
 * so that a forged length cannot drive a huge allocation. */
#define PL__SNAPPY_MAX_OUTPUT ((size_t)1 << 28)

/* Decompresses a Snappy raw stream (no framing). On success *out is a new
 * malloc'd buffer of *out_len bytes the caller frees. A malformed stream is
 * DATA_LOSS; a declared length above PL__SNAPPY_MAX_OUTPUT or impossible for
 * the input size is DATA_LOSS too. */
pl_status pl__snappy_uncompress(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len);

/* One key/value pair of a table. Key and value are one allocation; the key
 * is NUL-terminated (keys may hold NULs; key_len is authoritative). */
typedef struct pl__table_entry {
    const char *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
} pl__table_entry;

/* A whole table decoded into memory, entries in strictly increasing bytewise
 * key order. Bundle indexes are small (one entry per variable), so reading
 * them whole keeps lookups a binary search and the reader simple. */
typedef struct pl__table {
    size_t num_entries;
    pl__table_entry *entries;
} pl__table;

/* Decodes the table file held in data[0..size). `name` appears in errors.
 * Corruption is DATA_LOSS ("not an sstable (bad magic number)", "block
 * checksum mismatch", ...), as in TensorFlow's table reader. */
pl_status pl__table_parse(const uint8_t *data, size_t size, const char *name, pl__table **out);
void pl__table_free(pl__table *t);
/* Exact-match lookup; NULL when absent. */
const pl__table_entry *pl__table_find(const pl__table *t, const char *key, size_t key_len);

/* The key a slice of tensor `name` is stored under (TensorFlow's
 * EncodeTensorNameSlice: OrderedCode of 0, the name, the rank, then each
 * extent's start and length). Returns a malloc'd buffer of *len bytes. */
uint8_t *pl__bundle_slice_key(const char *name, int rank, const int64_t *start, const int64_t *length, size_t *len);

/* The stored piece of a partitioned variable under slice key `key`, or NULL. */
struct pl_bundle;
struct pl_bundle_entry;
const struct pl_bundle_entry *pl__bundle_find_slice_entry(const struct pl_bundle *b, const uint8_t *key, size_t len);

/* Varint decoding shared by the table and entry readers: returns bytes used, 0 when malformed or truncated. */
size_t pl__varint64(const uint8_t *p, const uint8_t *end, uint64_t *v);

#endif
