/* Tensor bundles: TensorFlow's V2 checkpoint format, as found in a
 * SavedModel's `variables/` directory.
 *
 * A bundle with prefix P is `P.index` (a LevelDB-format table: key "" holds a
 * BundleHeaderProto, every other key a BundleEntryProto with dtype, shape,
 * shard, offset, size and masked CRC-32C) plus data shards
 * `P.data-00000-of-0000N` holding the raw tensor bytes. Opening reads the
 * index whole and maps every shard; reading a tensor checks its size and
 * checksum and copies it into a new, aligned tensor.
 *
 *     pl_bundle *b;
 *     PL_TRY(pl_bundle_open("/models/m/1/variables/variables", &b));
 *     pl_tensor *w;
 *     pl_status st = pl_bundle_read(b, "dense/kernel", &w);
 *     ...
 *     pl_bundle_free(b);
 *
 * A bundle is immutable once open: any number of threads may read from it. */
#ifndef PL_RUNTIME_BUNDLE_H
#define PL_RUNTIME_BUNDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "tensor/tensor.h"

typedef struct pl_bundle pl_bundle;

/* What the index says about one stored tensor. */
typedef struct pl_bundle_entry {
    const char *key;            /* NUL-terminated; owned by the bundle */
    size_t key_len;
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
    int shard_id;
    int64_t offset;             /* bytes into the shard */
    int64_t size;               /* bytes in the shard */
    uint32_t crc32c;            /* unmasked CRC-32C of the stored bytes */
    bool is_sliced;             /* a partitioned variable stored as slices */
    int num_slices;             /* the stored slices of a partitioned variable */
    const struct pl_bundle_slice *slices;
} pl_bundle_entry;

/* A hyper-rectangle of a tensor: per dimension a start and a length, where
 * length -1 means the whole dimension (TensorFlow's TensorSlice). */
typedef struct pl_bundle_slice {
    int64_t start[PL_MAX_RANK];
    int64_t length[PL_MAX_RANK];
} pl_bundle_slice;

/* Opens the bundle at `prefix` (the path without ".index"). A missing index
 * is NOT_FOUND; a corrupt index or missing shard is DATA_LOSS or NOT_FOUND;
 * a big-endian or newer-format bundle is UNIMPLEMENTED / INVALID_ARGUMENT. */
pl_status pl_bundle_open(const char *prefix, pl_bundle **out);
void pl_bundle_free(pl_bundle *b);  /* NULL is fine */

/* Entries in key order, without the header entry. Pointers stay valid until pl_bundle_free. */
int pl_bundle_num_entries(const pl_bundle *b);
const pl_bundle_entry *pl_bundle_entry_at(const pl_bundle *b, int i);
const pl_bundle_entry *pl_bundle_find(const pl_bundle *b, const char *key);  /* NULL when absent */

/* Reads a whole tensor into a new reference. A key not in the bundle is
 * NOT_FOUND ("Key k not found in checkpoint"), a size or checksum mismatch is
 * DATA_LOSS, sliced and variant entries are UNIMPLEMENTED. */
pl_status pl_bundle_read(const pl_bundle *b, const char *key, pl_tensor **out);
pl_status pl_bundle_read_entry(const pl_bundle *b, const pl_bundle_entry *e, pl_tensor **out);

/* Reads slice `s` of tensor `key` (rank = the entry's rank): from a
 * partitioned variable when one stored slice equals it, or cut out of a
 * tensor stored whole. Assembling a slice from several stored slices is
 * UNIMPLEMENTED. */
pl_status pl_bundle_read_slice(const pl_bundle *b, const char *key, const pl_bundle_slice *s, pl_tensor **out);

/* Parses a RestoreV2 / SaveV2 shape_and_slices string, "d0 d1 ... spec" with
 * spec "start,length:..." and "-" for a whole dimension, into the full shape
 * (*rank, dims) and the slice. */
pl_status pl_bundle_parse_shape_and_slice(const char *spec, int *rank, int64_t dims[PL_MAX_RANK],
                                          pl_bundle_slice *s);

#endif
