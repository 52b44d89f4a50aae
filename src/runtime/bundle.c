/* Tensor-bundle reader: the index table into entries, the data shards mapped
 * read-only, tensors copied out after size and CRC-32C checks (TensorFlow's
 * core/util/tensor_bundle/tensor_bundle.cc is the reference for the format). */
#include "runtime/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "runtime/bundle_internal.h"
#include "tensorflow/core/protobuf/tensor_bundle.pb-c.h"

/* More shards than this is a forged header, not a checkpoint. */
#define MAX_SHARDS 65536
/* The bundle format this reader implements (kTensorBundleVersion). */
#define BUNDLE_VERSION 1

typedef struct mapping {
    uint8_t *data;  /* NULL for an empty file */
    size_t size;
} mapping;

struct pl_bundle {
    char *prefix;
    int num_entries;
    pl_bundle_entry *entries;   /* sorted by key */
    int num_slice_entries;
    pl_bundle_entry *slice_entries; /* a partitioned variable's pieces, keyed by
                                       pl__bundle_slice_key; sorted bytewise */
    int num_shards;
    mapping *shards;
};

static pl_status map_file(const char *path, mapping *m) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pl_error(errno == ENOENT ? PL_NOT_FOUND : PL_FAILED_PRECONDITION, "%s; %s", path, strerror(errno));
    struct stat sb;
    pl_status st = NULL;
    m->data = NULL;
    m->size = 0;
    if (fstat(fd, &sb) != 0) {
        st = pl_error(PL_FAILED_PRECONDITION, "%s; %s", path, strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        st = pl_error(PL_FAILED_PRECONDITION, "%s is not a regular file", path);
    } else if (sb.st_size > 0) {
        void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) st = pl_error(PL_RESOURCE_EXHAUSTED, "mmap %s: %s", path, strerror(errno));
        else {
            m->data = p;
            m->size = (size_t)sb.st_size;
        }
    }
    close(fd);
    return st;
}

static void unmap(mapping *m) {
    if (m->data) munmap(m->data, m->size);
    m->data = NULL;
}

static void entry_deinit(pl_bundle_entry *e) {
    free((char *)e->key);
    free((void *)e->slices);
}

void pl_bundle_free(pl_bundle *b) {
    if (!b) return;
    for (int i = 0; i < b->num_entries; i++) entry_deinit(&b->entries[i]);
    for (int i = 0; i < b->num_slice_entries; i++) entry_deinit(&b->slice_entries[i]);
    free(b->entries);
    free(b->slice_entries);
    for (int i = 0; b->shards && i < b->num_shards; i++) unmap(&b->shards[i]);
    free(b->shards);
    free(b->prefix);
    free(b);
}

static pl_status check_header(pl_bundle *b, const pl__table_entry *e) {
    Tensorflow__BundleHeaderProto *h = tensorflow__bundle_header_proto__unpack(NULL, e->value_len, e->value);
    if (!h) return pl_error(PL_DATA_LOSS, "unable to parse header");
    pl_status st = NULL;
    int32_t min_consumer = h->version ? h->version->min_consumer : 0;
    if (h->num_shards < 0 || h->num_shards > MAX_SHARDS)
        st = pl_error(PL_DATA_LOSS, "header declares %d shards", (int)h->num_shards);
    else if (h->endianness != TENSORFLOW__BUNDLE_HEADER_PROTO__ENDIANNESS__LITTLE)
        st = pl_error(PL_UNIMPLEMENTED, "big-endian checkpoints are not supported");
    else if (min_consumer > BUNDLE_VERSION)
        st = pl_error(PL_INVALID_ARGUMENT, "Checkpoint min consumer version %d above current version %d for checkpoint",
                      (int)min_consumer, BUNDLE_VERSION);
    for (size_t i = 0; h->version && !st && i < h->version->n_bad_consumers; i++)
        if (h->version->bad_consumers[i] == BUNDLE_VERSION)
            st = pl_error(PL_INVALID_ARGUMENT, "Checkpoint disallows consumer version %d", BUNDLE_VERSION);
    b->num_shards = h->num_shards;
    tensorflow__bundle_header_proto__free_unpacked(h, NULL);
    return st;
}

/* The stored slices of a partitioned variable, each extent's length -1 when it spans the dimension. */
static pl_status convert_slices(const char *name, const Tensorflow__BundleEntryProto *p, pl_bundle_entry *e) {
    if (!p->n_slices) return NULL;
    if (p->n_slices > (size_t)INT32_MAX) return pl_error(PL_DATA_LOSS, "Entry for key %s has too many slices", name);
    pl_bundle_slice *sl = calloc(p->n_slices, sizeof *sl);
    if (!sl) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    e->slices = sl;
    e->num_slices = (int)p->n_slices;
    for (size_t i = 0; i < p->n_slices; i++) {
        const Tensorflow__TensorSliceProto *tp = p->slices[i];
        if (tp->n_extent != (size_t)e->rank)
            return pl_error(PL_DATA_LOSS, "Entry for key %s has a slice of rank %zu for a tensor of rank %d", name,
                            tp->n_extent, e->rank);
        for (int d = 0; d < e->rank; d++) {
            const Tensorflow__TensorSliceProto__Extent *x = tp->extent[d];
            bool has_len = x->has_length_case == TENSORFLOW__TENSOR_SLICE_PROTO__EXTENT__HAS_LENGTH_LENGTH;
            sl[i].start[d] = x->start;
            sl[i].length[d] = has_len ? x->length : -1;
            if (x->start < 0 || (has_len && x->length < 0))
                return pl_error(PL_DATA_LOSS, "Entry for key %s has a slice with a negative extent", name);
        }
    }
    return NULL;
}

/* `name` is the key for messages: the key itself, or a stand-in for binary slice keys. */
static pl_status convert_entry(const pl__table_entry *te, const char *name, const Tensorflow__BundleEntryProto *p,
                               int num_shards, pl_bundle_entry *e) {
    memset(e, 0, sizeof *e);
    e->dtype = (pl_dtype)p->dtype;
    if (!pl_dtype_valid(e->dtype))
        return pl_error(PL_DATA_LOSS, "Entry for key %s has invalid dtype %d", name, (int)p->dtype);
    const Tensorflow__TensorShapeProto *s = p->shape;
    if (s && s->unknown_rank) return pl_error(PL_DATA_LOSS, "Invalid tensor shape: %s (unknown rank)", name);
    size_t rank = s ? s->n_dim : 0;
    if (rank > PL_MAX_RANK)
        return pl_error(PL_UNIMPLEMENTED, "tensor %s has rank %zu; at most %d is supported", name, rank, PL_MAX_RANK);
    e->rank = (int)rank;
    for (size_t i = 0; i < rank; i++) e->dims[i] = s->dim[i]->size;
    int64_t count;
    pl_status st = pl_shape_count(e->rank, e->dims, &count);
    if (st) {
        pl_status_free(st);
        return pl_error(PL_DATA_LOSS, "Invalid tensor shape: %s", name);
    }
    if (p->shard_id < 0 || p->shard_id >= num_shards)
        return pl_error(PL_DATA_LOSS, "Entry for key %s names shard %d of %d", name, (int)p->shard_id, num_shards);
    if (p->offset < 0 || p->size < 0) return pl_error(PL_DATA_LOSS, "Entry for key %s has a negative extent", name);
    e->shard_id = p->shard_id;
    e->offset = p->offset;
    e->size = p->size;
    e->crc32c = pl_crc32c_unmask(p->crc32c);
    e->is_sliced = p->n_slices > 0;
    char *key = malloc(te->key_len + 1);
    if (!key) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(key, te->key, te->key_len + 1);
    e->key = key;
    e->key_len = te->key_len;
    return convert_slices(name, p, e);
}

static pl_status load_entries(pl_bundle *b, const pl__table *t) {
    if (t->num_entries == 0 || t->entries[0].key_len != 0)
        return pl_error(PL_DATA_LOSS, "failed to seek to header entry");
    PL_TRY(check_header(b, &t->entries[0]));
    if (t->num_entries - 1 > (size_t)INT32_MAX) return pl_error(PL_DATA_LOSS, "too many entries");
    b->entries = calloc(t->num_entries, sizeof *b->entries);
    b->slice_entries = calloc(t->num_entries, sizeof *b->slice_entries);
    if (!b->entries || !b->slice_entries) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 1; i < t->num_entries; i++) {
        const pl__table_entry *te = &t->entries[i];
        /* Slice keys start with OrderedCode's 0 (a NUL byte); tensor names never do. */
        bool is_slice = te->key[0] == 0;
        if (!is_slice && strlen(te->key) != te->key_len) return pl_error(PL_DATA_LOSS, "Entry key holds a NUL byte");
        const char *name = is_slice ? "<a stored slice>" : te->key;
        Tensorflow__BundleEntryProto *p = tensorflow__bundle_entry_proto__unpack(NULL, te->value_len, te->value);
        if (!p) return pl_error(PL_DATA_LOSS, "Entry for key %s not parseable.", name);
        pl_bundle_entry *e = is_slice ? &b->slice_entries[b->num_slice_entries] : &b->entries[b->num_entries];
        pl_status st = convert_entry(te, name, p, b->num_shards, e);
        tensorflow__bundle_entry_proto__free_unpacked(p, NULL);
        if (st) {
            entry_deinit(e);
            return st;
        }
        if (is_slice) b->num_slice_entries++;
        else b->num_entries++;
    }
    return NULL;
}

const pl_bundle_entry *pl__bundle_find_slice_entry(const pl_bundle *b, const uint8_t *key, size_t len) {
    int lo = 0, hi = b->num_slice_entries;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        const pl_bundle_entry *e = &b->slice_entries[mid];
        int c = memcmp(e->key, key, e->key_len < len ? e->key_len : len);
        if (c == 0) c = (e->key_len > len) - (e->key_len < len);
        if (c == 0) return e;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static pl_status map_shards(pl_bundle *b) {
    if (b->num_shards == 0) return NULL;
    b->shards = calloc((size_t)b->num_shards, sizeof *b->shards);
    if (!b->shards) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    size_t len = strlen(b->prefix) + 32;
    char *path = malloc(len);
    if (!path) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_status st = NULL;
    for (int i = 0; i < b->num_shards && !st; i++) {
        snprintf(path, len, "%s.data-%05d-of-%05d", b->prefix, i, b->num_shards);
        st = map_file(path, &b->shards[i]);
    }
    free(path);
    return st;
}

pl_status pl_bundle_open(const char *prefix, pl_bundle **out) {
    pl_bundle *b = calloc(1, sizeof *b);
    size_t len = strlen(prefix);
    char *index_path = malloc(len + sizeof ".index");
    if (!b || !index_path || !(b->prefix = strdup(prefix))) {
        free(index_path);
        pl_bundle_free(b);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    memcpy(index_path, prefix, len);
    memcpy(index_path + len, ".index", sizeof ".index");
    mapping index = {0};
    pl__table *t = NULL;
    pl_status st = map_file(index_path, &index);
    if (!st) st = pl__table_parse(index.data, index.size, index_path, &t);
    unmap(&index);
    if (!st) {
        st = load_entries(b, t);
        if (st)
            st = pl_status_prefix(st, "Unable to read file (%s). Perhaps the file is corrupt or was produced by a "
                                      "newer version of TensorFlow with format changes: ", index_path);
    }
    pl__table_free(t);
    if (!st) st = map_shards(b);
    free(index_path);
    if (st) {
        pl_bundle_free(b);
        return st;
    }
    *out = b;
    return NULL;
}

int pl_bundle_num_entries(const pl_bundle *b) { return b->num_entries; }

const pl_bundle_entry *pl_bundle_entry_at(const pl_bundle *b, int i) {
    return i >= 0 && i < b->num_entries ? &b->entries[i] : NULL;
}

const pl_bundle_entry *pl_bundle_find(const pl_bundle *b, const char *key) {
    int lo = 0, hi = b->num_entries;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(b->entries[mid].key, key);
        if (c == 0) return &b->entries[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* String tensors: varint64 lengths, a masked CRC of the lengths (each taken as
 * uint32 when it fits, as uint64 otherwise), then the bytes. The entry CRC
 * covers the lengths the same way, the raw length checksum, and the bytes. */
static pl_status read_strings(const pl_bundle_entry *e, const uint8_t *p, pl_tensor *t, uint32_t *crc) {
    const uint8_t *end = p + e->size;
    uint64_t *lens = malloc((size_t)(t->count ? t->count : 1) * sizeof *lens);
    if (!lens) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_status st = NULL;
    uint32_t c = 0;
    for (int64_t i = 0; i < t->count && !st; i++) {
        size_t n = pl__varint64(p, end, &lens[i]);
        if (!n) {
            st = pl_error(PL_DATA_LOSS, "String lengths longer than expected offset %lld", (long long)(e->offset + e->size));
            break;
        }
        p += n;
        if (lens[i] <= UINT32_MAX) {
            uint8_t b4[4] = {(uint8_t)lens[i], (uint8_t)(lens[i] >> 8), (uint8_t)(lens[i] >> 16), (uint8_t)(lens[i] >> 24)};
            c = pl_crc32c_extend(c, b4, 4);
        } else {
            uint8_t b8[8];
            for (int k = 0; k < 8; k++) b8[k] = (uint8_t)(lens[i] >> (8 * k));
            c = pl_crc32c_extend(c, b8, 8);
        }
    }
    if (!st && end - p < 4) st = pl_error(PL_DATA_LOSS, "string tensor %s is truncated", e->key);
    if (!st) {
        uint32_t stored = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (pl_crc32c_unmask(stored) != c)
            st = pl_error(PL_DATA_LOSS, "The length checksum does not match: expected %08u but actual is %08u",
                          pl_crc32c_unmask(stored), c);
        c = pl_crc32c_extend(c, p, 4);
        p += 4;
    }
    for (int64_t i = 0; i < t->count && !st; i++) {
        if (lens[i] > (uint64_t)(end - p)) {
            st = pl_error(PL_DATA_LOSS, "string tensor %s is truncated", e->key);
            break;
        }
        st = pl_tensor_set_string(t, i, p, (size_t)lens[i]);
        c = pl_crc32c_extend(c, p, (size_t)lens[i]);
        p += lens[i];
    }
    free(lens);
    *crc = c;
    return st;
}

pl_status pl_bundle_read_entry(const pl_bundle *b, const pl_bundle_entry *e, pl_tensor **out) {
    if (e->is_sliced)
        return pl_error(PL_UNIMPLEMENTED, "tensor %s is stored as slices (a partitioned variable); restore it by slice",
                        e->key);
    if (e->dtype == PL_DT_VARIANT || e->dtype == PL_DT_RESOURCE)
        return pl_error(PL_UNIMPLEMENTED, "restoring %s tensor %s is not supported", pl_dtype_name(e->dtype), e->key);
    const mapping *shard = &b->shards[e->shard_id];
    if ((uint64_t)e->offset > shard->size || (uint64_t)e->size > shard->size - (uint64_t)e->offset)
        return pl_error(PL_DATA_LOSS, "TensorBundle at %s shard %d: tensor %s (%lld bytes at %lld) is past the end of "
                                      "the %zu-byte shard", b->prefix, e->shard_id, e->key, (long long)e->size,
                        (long long)e->offset, shard->size);
    int64_t count;
    PL_TRY(pl_shape_count(e->rank, e->dims, &count));
    const uint8_t *p = shard->data ? shard->data + e->offset : NULL;
    bool is_string = e->dtype == PL_DT_STRING;
    if (!is_string && (uint64_t)e->size != (uint64_t)count * pl_dtype_size(e->dtype))
        return pl_error(PL_DATA_LOSS, "Invalid size in bundle entry: key %s; stored size %lld; expected size %llu",
                        e->key, (long long)e->size, (unsigned long long)count * pl_dtype_size(e->dtype));
    /* Every string costs at least one length byte: this also bounds the
     * allocation below by the file size. */
    if (is_string && e->size < count && e->size != 0)
        return pl_error(PL_DATA_LOSS, "Invalid size in bundle entry: key %s; stored size %lld; expected size is at "
                                      "least %lld", e->key, (long long)e->size, (long long)count);
    if (is_string && e->size == 0 && count > 0)
        return pl_error(PL_DATA_LOSS, "Invalid size in bundle entry: key %s; stored size 0", e->key);
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(e->dtype, e->rank, e->dims, &t));
    uint32_t crc = 0;
    pl_status st = NULL;
    if (is_string) {
        if (e->size > 0) st = read_strings(e, p, t, &crc);
    } else if (e->size > 0) {
        memcpy(t->data, p, (size_t)e->size);
        crc = pl_crc32c(p, (size_t)e->size);
        /* Kernels read bools as C bools, where only 0 and 1 are valid values. */
        if (e->dtype == PL_DT_BOOL)
            for (int64_t i = 0; i < count; i++) ((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
    }
    if (!st && crc != e->crc32c)
        st = pl_error(PL_DATA_LOSS, "TensorBundle at %s shard %d (%lld bytes): Checksum does not match: stored %08u vs. "
                                    "calculated on the restored bytes %u", b->prefix, e->shard_id, (long long)e->size,
                      e->crc32c, crc);
    if (st) {
        pl_tensor_unref(t);
        return st;
    }
    *out = t;
    return NULL;
}

pl_status pl_bundle_read(const pl_bundle *b, const char *key, pl_tensor **out) {
    const pl_bundle_entry *e = pl_bundle_find(b, key);
    if (!e) return pl_error(PL_NOT_FOUND, "Key %s not found in checkpoint", key);
    return pl_bundle_read_entry(b, e, out);
}
