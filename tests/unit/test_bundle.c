/* The checkpoint reader: CRC-32C vectors, Snappy streams, the LevelDB table
 * format, tensor bundles built here byte by byte, the bundles of the shared
 * test models, and truncated or corrupted copies of them (which must give
 * errors, never crashes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/crc32c.h"
#include "runtime/bundle.h"
#include "runtime/bundle_internal.h"
#include "tensorflow/core/protobuf/tensor_bundle.pb-c.h"

/* ---- helpers: files, a deterministic PRNG, a table writer ---- */

static char tmpdir[256];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/plinth_bundle_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(1);
    }
}

static void remove_tmpdir(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

static uint8_t *read_whole(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) n = 0;
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void write_whole(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
}
static void put_varint(buf *b, uint64_t v) {
    uint8_t t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    put(b, t, n);
}
static void put32(buf *b, uint32_t v) {
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, t, 4);
}

/* A block of entries without prefix sharing and a single restart point. */
typedef struct kv {
    const char *key;
    const uint8_t *val;
    size_t val_len;
} kv;

static void block_of(buf *out, const kv *kvs, int n) {
    for (int i = 0; i < n; i++) {
        size_t kl = strlen(kvs[i].key);
        put_varint(out, 0);
        put_varint(out, kl);
        put_varint(out, kvs[i].val_len);
        put(out, kvs[i].key, kl);
        put(out, kvs[i].val, kvs[i].val_len);
    }
    put32(out, 0);
    put32(out, 1);
}

/* Appends a block with its trailer; returns its handle. */
static void emit_block(buf *file, const buf *block, uint8_t type, uint64_t *off, uint64_t *size) {
    *off = file->n;
    *size = block->n;
    put(file, block->p, block->n);
    put(file, &type, 1);
    uint32_t crc = pl_crc32c_extend(pl_crc32c(block->p, block->n), &type, 1);
    put32(file, pl_crc32c_mask(crc));
}

/* A whole table of one data block (raw contents given), an empty metaindex and a footer. */
static void table_of_block(buf *file, const buf *data_block, uint8_t type) {
    uint64_t doff, dsize, moff, msize, ioff, isize;
    emit_block(file, data_block, type, &doff, &dsize);
    buf meta = {0}, index = {0}, handle = {0};
    put32(&meta, 0);
    put32(&meta, 1);
    emit_block(file, &meta, 0, &moff, &msize);
    put_varint(&handle, doff);
    put_varint(&handle, dsize);
    kv ie = {"\xff", handle.p, handle.n};
    block_of(&index, &ie, 1);
    emit_block(file, &index, 0, &ioff, &isize);
    size_t footer_start = file->n;
    put_varint(file, moff);
    put_varint(file, msize);
    put_varint(file, ioff);
    put_varint(file, isize);
    uint8_t zero = 0;
    while (file->n < footer_start + 40) put(file, &zero, 1);
    put32(file, 0x8b80fb57u);
    put32(file, 0xdb477524u);
    free(meta.p);
    free(index.p);
    free(handle.p);
}

static void table_of(buf *file, const kv *kvs, int n) {
    buf block = {0};
    block_of(&block, kvs, n);
    table_of_block(file, &block, 0);
    free(block.p);
}

static int try_bundle(const char *prefix);

/* ---- CRC-32C ---- */

static void test_crc32c_vectors(void) {
    CHECK_EQ_INT(pl_crc32c("123456789", 9), 0xe3069283u);  /* the standard check value */
    uint8_t zeros[32] = {0}, ones[32], inc[32];
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++) inc[i] = (uint8_t)i;
    /* RFC 3720 (iSCSI) B.4 test vectors. */
    CHECK_EQ_INT(pl_crc32c(zeros, 32), 0x8a9136aau);
    CHECK_EQ_INT(pl_crc32c(ones, 32), 0x62a8ab43u);
    CHECK_EQ_INT(pl_crc32c(inc, 32), 0x46dd794eu);
    /* Extending piece by piece equals one pass, at every split. */
    for (size_t k = 0; k <= 32; k++) CHECK_EQ_INT(pl_crc32c_extend(pl_crc32c(inc, k), inc + k, 32 - k), 0x46dd794eu);
    /* The hardware and table routes agree at every length and alignment. */
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)rng();
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= sizeof buf; n += 7)
            CHECK_EQ_INT(pl_crc32c_extend(0x1234u, buf + off, n), pl__crc32c_extend_portable(0x1234u, buf + off, n));
    CHECK_EQ_INT(pl__crc32c_extend_portable(0, "123456789", 9), 0xe3069283u);
    CHECK_EQ_INT(pl_crc32c_unmask(pl_crc32c_mask(0x12345678u)), 0x12345678u);
    CHECK(pl_crc32c_mask(0x12345678u) != 0x12345678u);
}

/* ---- Snappy ---- */

static pl_status unsnappy(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len) {
    return pl__snappy_uncompress(in, n, out, out_len);
}

static void test_snappy_streams(void) {
    uint8_t *out;
    size_t n;
    /* literal "abc" */
    const uint8_t lit[] = {3, 2 << 2, 'a', 'b', 'c'};
    CHECK_OK(unsnappy(lit, sizeof lit, &out, &n));
    CHECK(n == 3 && !memcmp(out, "abc", 3));
    free(out);
    /* "ab" then an overlapping 1-byte-offset copy of length 6 at offset 2: "abababab" */
    const uint8_t ov[] = {8, 1 << 2, 'a', 'b', (uint8_t)(((6 - 4) << 2) | 1), 2};
    CHECK_OK(unsnappy(ov, sizeof ov, &out, &n));
    CHECK(n == 8 && !memcmp(out, "abababab", 8));
    free(out);
    /* 2-byte-offset copy and 4-byte-offset copy */
    const uint8_t c2[] = {7, 3 << 2, 'w', 'x', 'y', 'z', (uint8_t)((3 - 1) << 2 | 2), 4, 0};
    CHECK_OK(unsnappy(c2, sizeof c2, &out, &n));
    CHECK(n == 7 && !memcmp(out, "wxyzwxy", 7));
    free(out);
    const uint8_t c4[] = {6, 2 << 2, 'p', 'q', 'r', (uint8_t)((3 - 1) << 2 | 3), 3, 0, 0, 0};
    CHECK_OK(unsnappy(c4, sizeof c4, &out, &n));
    CHECK(n == 6 && !memcmp(out, "pqrpqr", 6));
    free(out);
    /* a literal whose length-1 (99) is in one extra byte (tag 60) */
    uint8_t big[2 + 1 + 100];
    big[0] = 100;
    big[1] = 60 << 2;
    big[2] = 99;
    for (int i = 0; i < 100; i++) big[3 + i] = (uint8_t)i;
    CHECK_OK(unsnappy(big, sizeof big, &out, &n));
    CHECK(n == 100 && out[99] == 99);
    free(out);
    /* empty */
    const uint8_t empty[] = {0};
    CHECK_OK(unsnappy(empty, 1, &out, &n));
    CHECK_EQ_INT(n, 0);
    free(out);
}

static void test_snappy_malformed(void) {
    uint8_t *out;
    size_t n;
    const uint8_t zero_offset[] = {5, 0, 'a', (uint8_t)(0 << 2 | 1), 0};
    CHECK_ERR(unsnappy(zero_offset, sizeof zero_offset, &out, &n), PL_DATA_LOSS);
    const uint8_t far_offset[] = {5, 0, 'a', (uint8_t)(0 << 2 | 1), 2};
    CHECK_ERR(unsnappy(far_offset, sizeof far_offset, &out, &n), PL_DATA_LOSS);
    const uint8_t short_out[] = {5, 2 << 2, 'a', 'b', 'c'};
    CHECK_ERR(unsnappy(short_out, sizeof short_out, &out, &n), PL_DATA_LOSS);
    const uint8_t long_out[] = {2, 2 << 2, 'a', 'b', 'c'};
    CHECK_ERR(unsnappy(long_out, sizeof long_out, &out, &n), PL_DATA_LOSS);
    const uint8_t trunc_lit[] = {3, 2 << 2, 'a'};
    CHECK_ERR(unsnappy(trunc_lit, sizeof trunc_lit, &out, &n), PL_DATA_LOSS);
    const uint8_t trunc_len[] = {0x80};
    CHECK_ERR(unsnappy(trunc_len, sizeof trunc_len, &out, &n), PL_DATA_LOSS);
    /* claims 2^27 bytes from 5 input bytes */
    const uint8_t bomb[] = {0x80, 0x80, 0x80, 0x40, 0};
    CHECK_ERR(unsnappy(bomb, sizeof bomb, &out, &n), PL_DATA_LOSS);
    /* random streams: errors or output, never a crash (ASan watches) */
    for (int it = 0; it < 20000; it++) {
        uint8_t in[64];
        size_t len = 1 + rng() % sizeof in;
        for (size_t i = 0; i < len; i++) in[i] = (uint8_t)rng();
        in[0] &= 0x7f;
        pl_status st = unsnappy(in, len, &out, &n);
        if (!st) free(out);
        else CHECK(pl_status_code(st) == PL_DATA_LOSS);
        pl_status_free(st);
    }
}

/* ---- the table format ---- */

static void test_table_roundtrip(void) {
    const uint8_t v1[] = {1, 2, 3}, v2[] = {9};
    kv kvs[] = {{"", v1, 3}, {"alpha", v2, 1}, {"beta", NULL, 0}};
    buf file = {0};
    table_of(&file, kvs, 3);
    pl__table *t;
    CHECK_OK(pl__table_parse(file.p, file.n, "t", &t));
    if (t) {
        CHECK_EQ_INT(t->num_entries, 3);
        const pl__table_entry *e = pl__table_find(t, "alpha", 5);
        CHECK(e && e->value_len == 1 && e->value[0] == 9);
        CHECK(pl__table_find(t, "", 0) && pl__table_find(t, "", 0)->value_len == 3);
        CHECK(pl__table_find(t, "beta", 4) != NULL);
        CHECK(pl__table_find(t, "gamma", 5) == NULL);
        CHECK(pl__table_find(t, "alph", 4) == NULL);
        pl__table_free(t);
    }
    free(file.p);
}

static void test_table_prefix_compression_and_snappy(void) {
    /* Entries sharing prefixes, hand-encoded: "abc"="1", "abd"="2" (shared 2), "b"="3". */
    buf block = {0};
    put_varint(&block, 0); put_varint(&block, 3); put_varint(&block, 1); put(&block, "abc1", 4);
    put_varint(&block, 2); put_varint(&block, 1); put_varint(&block, 1); put(&block, "d2", 2);
    put_varint(&block, 0); put_varint(&block, 1); put_varint(&block, 1); put(&block, "b3", 2);
    put32(&block, 0);
    put32(&block, 1);
    /* Same block Snappy-compressed as one literal. */
    buf comp = {0};
    put_varint(&comp, block.n);
    uint8_t tag = (uint8_t)((block.n - 1) << 2);
    put(&comp, &tag, 1);
    put(&comp, block.p, block.n);
    for (int type = 0; type < 2; type++) {
        buf file = {0};
        table_of_block(&file, type ? &comp : &block, (uint8_t)type);
        pl__table *t;
        CHECK_OK(pl__table_parse(file.p, file.n, "t", &t));
        if (t) {
            CHECK_EQ_INT(t->num_entries, 3);
            const pl__table_entry *e = pl__table_find(t, "abd", 3);
            CHECK(e && e->value_len == 1 && e->value[0] == '2');
            pl__table_free(t);
        }
        free(file.p);
    }
    /* Unknown compression type */
    buf file = {0};
    table_of_block(&file, &block, 7);
    pl__table *t;
    CHECK_ERR(pl__table_parse(file.p, file.n, "t", &t), PL_DATA_LOSS);
    free(file.p);
    /* Keys out of order */
    const uint8_t v[] = {0};
    kv bad[] = {{"b", v, 1}, {"a", v, 1}};
    file = (buf){0};
    table_of(&file, bad, 2);
    CHECK_ERR(pl__table_parse(file.p, file.n, "t", &t), PL_DATA_LOSS);
    free(file.p);
    free(block.p);
    free(comp.p);
}

static void test_table_garbage_blocks(void) {
    /* Random block contents behind a valid CRC reach the entry parser itself. */
    for (int it = 0; it < 20000; it++) {
        buf block = {0};
        size_t len = rng() % 48;
        for (size_t i = 0; i < len; i++) {
            uint8_t c = (uint8_t)rng();
            if (rng() % 3 == 0) c &= 0x0f;
            put(&block, &c, 1);
        }
        buf file = {0};
        table_of_block(&file, &block, (uint8_t)(rng() % 3 == 0));
        pl__table *t = NULL;
        pl_status st = pl__table_parse(file.p, file.n, "t", &t);
        if (!st) pl__table_free(t);
        else CHECK(pl_status_code(st) == PL_DATA_LOSS);
        pl_status_free(st);
        free(block.p);
        free(file.p);
    }
}

static void test_table_short_and_bad_magic(void) {
    pl__table *t;
    uint8_t small[47] = {0};
    CHECK_ERR(pl__table_parse(small, sizeof small, "t", &t), PL_DATA_LOSS);
    uint8_t zeros[100] = {0};
    pl_status st = pl__table_parse(zeros, sizeof zeros, "x.index", &t);
    CHECK_STR(pl_status_message(st), "x.index: not an sstable (bad magic number)");
    pl_status_free(st);
}

/* ---- bundles built here ---- */

static void write_bundle(const char *name, const Tensorflow__BundleHeaderProto *h, int n,
                         const char *const *keys, Tensorflow__BundleEntryProto *const *entries, const void *data,
                         size_t data_len) {
    kv *kvs = calloc((size_t)n + 1, sizeof *kvs);
    uint8_t **vals = calloc((size_t)n + 1, sizeof *vals);
    size_t hn = tensorflow__bundle_header_proto__get_packed_size(h);
    vals[0] = malloc(hn + 1);
    tensorflow__bundle_header_proto__pack(h, vals[0]);
    kvs[0] = (kv){"", vals[0], hn};
    for (int i = 0; i < n; i++) {
        size_t en = tensorflow__bundle_entry_proto__get_packed_size(entries[i]);
        vals[i + 1] = malloc(en + 1);
        tensorflow__bundle_entry_proto__pack(entries[i], vals[i + 1]);
        kvs[i + 1] = (kv){keys[i], vals[i + 1], en};
    }
    buf file = {0};
    table_of(&file, kvs, n + 1);
    char path[512];
    snprintf(path, sizeof path, "%s/%s.index", tmpdir, name);
    write_whole(path, file.p, file.n);
    int shards = h->num_shards;
    for (int s = 0; s < shards; s++) {
        snprintf(path, sizeof path, "%s/%s.data-%05d-of-%05d", tmpdir, name, s, shards);
        write_whole(path, data, s == 0 ? data_len : 0);
    }
    for (int i = 0; i <= n; i++) free(vals[i]);
    free(vals);
    free(kvs);
    free(file.p);
}

static void test_bundle_dtypes_strings_and_errors(void) {
    Tensorflow__BundleHeaderProto h = TENSORFLOW__BUNDLE_HEADER_PROTO__INIT;
    h.num_shards = 1;
    /* data: float[2] {1.5, -2}, bool[3] {0, 1, 7}, string[2] {"hi", ""} */
    buf data = {0};
    float f[2] = {1.5f, -2.0f};
    put(&data, f, sizeof f);
    uint8_t bools[3] = {0, 1, 7};
    put(&data, bools, 3);
    size_t str_off = data.n;
    put_varint(&data, 2);
    put_varint(&data, 0);
    uint32_t lc = 0;
    uint32_t l2 = 2, l0 = 0;
    lc = pl_crc32c_extend(lc, &l2, 4);
    lc = pl_crc32c_extend(lc, &l0, 4);
    uint32_t masked = pl_crc32c_mask(lc);
    put(&data, &masked, 4);
    put(&data, "hi", 2);
    uint32_t str_crc = pl_crc32c_extend(pl_crc32c_extend(lc, &masked, 4), "hi", 2);

    Tensorflow__TensorShapeProto__Dim d2 = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT, d3 = d2;
    d2.size = 2;
    d3.size = 3;
    Tensorflow__TensorShapeProto__Dim *dl2[] = {&d2}, *dl3[] = {&d3};
    Tensorflow__TensorShapeProto s2 = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT, s3 = s2;
    s2.n_dim = 1;
    s2.dim = dl2;
    s3.n_dim = 1;
    s3.dim = dl3;

    Tensorflow__BundleEntryProto ef = TENSORFLOW__BUNDLE_ENTRY_PROTO__INIT, eb = ef, es = ef, ebad = ef,
                                 eshort = ef, eslice = ef, evar = ef, eshard = ef, epast = ef;
    ef.dtype = TENSORFLOW__DATA_TYPE__DT_FLOAT;
    ef.shape = &s2;
    ef.size = 8;
    ef.crc32c = pl_crc32c_mask(pl_crc32c(data.p, 8));
    eb.dtype = TENSORFLOW__DATA_TYPE__DT_BOOL;
    eb.shape = &s3;
    eb.offset = 8;
    eb.size = 3;
    eb.crc32c = pl_crc32c_mask(pl_crc32c(data.p + 8, 3));
    es.dtype = TENSORFLOW__DATA_TYPE__DT_STRING;
    es.shape = &s2;
    es.offset = (int64_t)str_off;
    es.size = (int64_t)(data.n - str_off);
    es.crc32c = pl_crc32c_mask(str_crc);
    ebad = ef;
    ebad.crc32c ^= 1;  /* checksum mismatch */
    eshort = ef;
    eshort.size = 4;   /* size disagrees with the shape */
    Tensorflow__TensorSliceProto__Extent whole = TENSORFLOW__TENSOR_SLICE_PROTO__EXTENT__INIT;
    Tensorflow__TensorSliceProto__Extent *extents[] = {&whole};
    Tensorflow__TensorSliceProto slice = TENSORFLOW__TENSOR_SLICE_PROTO__INIT;
    slice.n_extent = 1;
    slice.extent = extents;
    Tensorflow__TensorSliceProto *slices[] = {&slice};
    eslice = ef;
    eslice.n_slices = 1;
    eslice.slices = slices;
    evar = ef;
    evar.dtype = TENSORFLOW__DATA_TYPE__DT_VARIANT;
    eshard = ef;
    eshard.shard_id = 3;
    epast = ef;
    epast.offset = 1000;
    const char *keys[] = {"bad_crc", "bools", "floats", "past_end", "short", "sliced", "strings", "variant"};
    Tensorflow__BundleEntryProto *ents[] = {&ebad, &eb, &ef, &epast, &eshort, &eslice, &es, &evar};
    write_bundle("mixed", &h, 8, keys, ents, data.p, data.n);

    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/mixed", tmpdir);
    pl_bundle *b = NULL;
    CHECK_OK(pl_bundle_open(prefix, &b));
    if (!b) return;
    CHECK_EQ_INT(pl_bundle_num_entries(b), 8);
    CHECK_STR(pl_bundle_entry_at(b, 0)->key, "bad_crc");
    pl_tensor *t;
    CHECK_OK(pl_bundle_read(b, "floats", &t));
    if (t) {
        CHECK(t->dtype == PL_DT_FLOAT && t->rank == 1 && t->dims[0] == 2);
        CHECK_NEAR(((float *)t->data)[0], 1.5, 0);
        CHECK_NEAR(((float *)t->data)[1], -2.0, 0);
        CHECK_EQ_INT((uintptr_t)t->data % PL_TENSOR_ALIGN, 0);
        pl_tensor_unref(t);
    }
    CHECK_OK(pl_bundle_read(b, "bools", &t));
    if (t) {
        uint8_t *v = t->data;
        CHECK(v[0] == 0 && v[1] == 1 && v[2] == 1);
        pl_tensor_unref(t);
    }
    CHECK_OK(pl_bundle_read(b, "strings", &t));
    if (t) {
        pl_str *s = t->data;
        CHECK(s[0].len == 2 && !memcmp(s[0].data, "hi", 2));
        CHECK_EQ_INT(s[1].len, 0);
        pl_tensor_unref(t);
    }
    CHECK_ERR(pl_bundle_read(b, "bad_crc", &t), PL_DATA_LOSS);
    CHECK_ERR(pl_bundle_read(b, "short", &t), PL_DATA_LOSS);
    CHECK_ERR(pl_bundle_read(b, "past_end", &t), PL_DATA_LOSS);
    CHECK_ERR(pl_bundle_read(b, "sliced", &t), PL_UNIMPLEMENTED);
    CHECK_ERR(pl_bundle_read(b, "variant", &t), PL_UNIMPLEMENTED);
    pl_status st = pl_bundle_read(b, "nope", &t);
    CHECK_STR(pl_status_message(st), "Key nope not found in checkpoint");
    CHECK(pl_status_code(st) == PL_NOT_FOUND);
    pl_status_free(st);
    pl_bundle_free(b);

    /* An entry naming a shard the header does not have fails the open. */
    const char *k1[] = {"x"};
    Tensorflow__BundleEntryProto *e1[] = {&eshard};
    write_bundle("badshard", &h, 1, k1, e1, data.p, data.n);
    snprintf(prefix, sizeof prefix, "%s/badshard", tmpdir);
    CHECK_ERR(pl_bundle_open(prefix, &b), PL_DATA_LOSS);

    /* Big-endian and too-new bundles are refused. */
    Tensorflow__BundleHeaderProto big = h;
    big.endianness = TENSORFLOW__BUNDLE_HEADER_PROTO__ENDIANNESS__BIG;
    Tensorflow__BundleEntryProto *e2[] = {&ef};
    write_bundle("big", &big, 1, k1, e2, data.p, data.n);
    snprintf(prefix, sizeof prefix, "%s/big", tmpdir);
    CHECK_ERR(pl_bundle_open(prefix, &b), PL_UNIMPLEMENTED);
    Tensorflow__VersionDef v = TENSORFLOW__VERSION_DEF__INIT;
    v.min_consumer = 2;
    Tensorflow__BundleHeaderProto newer = h;
    newer.version = &v;
    write_bundle("newer", &newer, 1, k1, e2, data.p, data.n);
    snprintf(prefix, sizeof prefix, "%s/newer", tmpdir);
    CHECK_ERR(pl_bundle_open(prefix, &b), PL_INVALID_ARGUMENT);

    /* Two shards, the second missing. */
    Tensorflow__BundleHeaderProto two = h;
    two.num_shards = 2;
    write_bundle("two", &two, 1, k1, e2, data.p, data.n);
    char path[600];
    snprintf(path, sizeof path, "%s/two.data-00001-of-00002", tmpdir);
    unlink(path);
    snprintf(prefix, sizeof prefix, "%s/two", tmpdir);
    CHECK_ERR(pl_bundle_open(prefix, &b), PL_NOT_FOUND);
    snprintf(prefix, sizeof prefix, "%s/absent", tmpdir);
    CHECK_ERR(pl_bundle_open(prefix, &b), PL_NOT_FOUND);
    free(data.p);
}

/* Random entry values behind valid tables and CRCs reach the BundleEntryProto
 * decoding and every check after it: errors, never crashes. Some fields are
 * kept plausible so that reads get past the first checks. */
static void test_garbage_entries(void) {
    char prefix[512], path[600];
    snprintf(prefix, sizeof prefix, "%s/garbage", tmpdir);
    uint8_t data[64];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)rng();
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    write_whole(path, data, sizeof data);
    Tensorflow__BundleHeaderProto h = TENSORFLOW__BUNDLE_HEADER_PROTO__INIT;
    h.num_shards = 1;
    uint8_t hbuf[64];
    size_t hn = tensorflow__bundle_header_proto__pack(&h, hbuf);
    int opened = 0;
    for (int it = 0; it < 3000; it++) {
        uint8_t val[48];
        size_t vn = 0;
        if (rng() % 2) { /* a plausible entry with random numbers */
            Tensorflow__TensorShapeProto__Dim d = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
            d.size = (int64_t)(rng() % 40) - 4;
            Tensorflow__TensorShapeProto__Dim *dims[] = {&d};
            Tensorflow__TensorShapeProto s = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
            s.n_dim = rng() % 2;
            s.dim = dims;
            Tensorflow__BundleEntryProto e = TENSORFLOW__BUNDLE_ENTRY_PROTO__INIT;
            e.dtype = (Tensorflow__DataType)(rng() % 24);
            e.shape = &s;
            e.offset = (int64_t)(rng() % 80) - 8;
            e.size = (int64_t)(rng() % 80) - 8;
            e.crc32c = (uint32_t)rng();
            vn = tensorflow__bundle_entry_proto__pack(&e, val);
        } else {
            vn = rng() % sizeof val;
            for (size_t i = 0; i < vn; i++) val[i] = (uint8_t)rng();
        }
        kv kvs[] = {{"", hbuf, hn}, {"k", val, vn}};
        buf file = {0};
        table_of(&file, kvs, 2);
        snprintf(path, sizeof path, "%s.index", prefix);
        write_whole(path, file.p, file.n);
        free(file.p);
        int r = try_bundle(prefix);
        if (r >= 0) opened++;
    }
    CHECK(opened > 0); /* the plausible entries get past the open */
}

/* ---- slices of partitioned variables ---- */

static void test_slice_keys(void) {
    size_t n = 0;
    /* 0 | "ab" 00 01 | rank 2 | (0, -1) (3, 4): signed numbers in one byte each. */
    int64_t start[2] = {0, 3}, length[2] = {-1, 4};
    uint8_t *k = pl__bundle_slice_key("ab", 2, start, length, &n);
    const uint8_t want[] = {0x00, 'a', 'b', 0x00, 0x01, 0x01, 0x02, 0x80, 0x7f, 0x83, 0x84};
    CHECK(k && n == sizeof want && !memcmp(k, want, n));
    free(k);
    /* ordered_code.cc's worked examples: 0x424242 -> f0 42 42 42, -0x800 -> 38 00; and 64 -> c0 40, -65 -> 3f bf. */
    int64_t s1[2] = {0x424242, -0x800}, l1[2] = {64, -65};
    k = pl__bundle_slice_key("", 2, s1, l1, &n);
    const uint8_t want1[] = {0x00, 0x00, 0x01, 0x01, 0x02, 0xf0, 0x42, 0x42, 0x42, 0xc0, 0x40, 0x38, 0x00, 0x3f, 0xbf};
    CHECK(k && n == sizeof want1 && !memcmp(k, want1, n));
    free(k);
    /* NUL and 0xff in names are escaped; large values take up to ten bytes. */
    int64_t s2[1] = {INT64_MAX}, l2[1] = {INT64_MIN};
    k = pl__bundle_slice_key("\xff", 1, s2, l2, &n);
    const uint8_t want2[] = {0x00, 0xff, 0x00, 0x00, 0x01, 0x01, 0x01, 0xff, 0xc0, 0x7f, 0xff, 0xff, 0xff, 0xff,
                             0xff, 0xff, 0xff, 0x00, 0x3f, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK(k && n == sizeof want2 && !memcmp(k, want2, n));
    free(k);
}

static void test_shape_and_slice_specs(void) {
    int rank;
    int64_t dims[PL_MAX_RANK];
    pl_bundle_slice s;
    CHECK_OK(pl_bundle_parse_shape_and_slice("4 3 0,2:-", &rank, dims, &s));
    CHECK(rank == 2 && dims[0] == 4 && dims[1] == 3);
    CHECK(s.start[0] == 0 && s.length[0] == 2 && s.start[1] == 0 && s.length[1] == -1);
    CHECK_OK(pl_bundle_parse_shape_and_slice("10 5,5", &rank, dims, &s));
    CHECK(rank == 1 && s.start[0] == 5 && s.length[0] == 5);
    CHECK_ERR(pl_bundle_parse_shape_and_slice("4 3 0,5:-", &rank, dims, &s), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_bundle_parse_shape_and_slice("4 3 0,2", &rank, dims, &s), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_bundle_parse_shape_and_slice("4 3 0,2:-:-", &rank, dims, &s), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_bundle_parse_shape_and_slice("x 3 -:-", &rank, dims, &s), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_bundle_parse_shape_and_slice("-", &rank, dims, &s), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_bundle_parse_shape_and_slice("4 -1,2", &rank, dims, &s), PL_INVALID_ARGUMENT);
}

/* ---- the shared models' checkpoints ---- */

static const char *shared_dir(void) {
    const char *s = getenv("PLINTH_SHARED");
    return s ? s : "../shared";
}

static void expect_scalar(const pl_bundle *b, const char *key, double want) {
    pl_tensor *t = NULL;
    CHECK_OK(pl_bundle_read(b, key, &t));
    if (!t) return;
    CHECK(t->dtype == PL_DT_FLOAT && t->rank == 0);
    CHECK_NEAR(pl_tensor_get_f64(t, 0), want, 0);
    pl_tensor_unref(t);
}

static pl_bundle *open_model(const char *rel) {
    char prefix[1024];
    snprintf(prefix, sizeof prefix, "%s/%s/variables/variables", shared_dir(), rel);
    pl_bundle *b = NULL;
    CHECK_OK(pl_bundle_open(prefix, &b));
    return b;
}

static void test_shared_models(void) {
    /* y = a*x + b with a = 0.5, b = 2 (half_plus_two), b = 3 (half_plus_three); c = 3 feeds regress_x2_to_y3. */
    pl_bundle *b = open_model("models/tfs-testdata/saved_model_half_plus_two_cpu/00000123");  /* Snappy index */
    if (b) {
        CHECK_EQ_INT(pl_bundle_num_entries(b), 5);
        expect_scalar(b, "a", 0.5);
        expect_scalar(b, "b", 2.0);
        expect_scalar(b, "c", 3.0);
        pl_bundle_free(b);
    }
    b = open_model("models/tfs-testdata/saved_model_half_plus_three/00000123");
    if (b) {
        expect_scalar(b, "a", 0.5);
        expect_scalar(b, "b", 3.0);
        pl_bundle_free(b);
    }
    b = open_model("models/tfs-testdata/saved_model_counter/00000123");  /* uncompressed index */
    if (b) {
        CHECK_EQ_INT(pl_bundle_num_entries(b), 1);
        expect_scalar(b, "counter", 0.0);
        pl_bundle_free(b);
    }
    b = open_model("models/tfs-testdata/saved_model_half_plus_two_tf2_cpu/00000123");
    if (b) {
        expect_scalar(b, "a/.ATTRIBUTES/VARIABLE_VALUE", 0.5);
        expect_scalar(b, "b/.ATTRIBUTES/VARIABLE_VALUE", 2.0);
        pl_tensor *t = NULL;
        CHECK_OK(pl_bundle_read(b, "_CHECKPOINTABLE_OBJECT_GRAPH", &t));  /* a string tensor with its CRC */
        if (t) {
            CHECK(t->dtype == PL_DT_STRING && t->count == 1 && ((pl_str *)t->data)[0].len > 100);
            pl_tensor_unref(t);
        }
        pl_bundle_free(b);
    }
    b = open_model("zoo/tfrust_regression_tf1/1");
    if (b) {
        const pl_bundle_entry *e = pl_bundle_find(b, "w");
        CHECK(e && e->dtype == PL_DT_FLOAT && e->rank == 1 && e->dims[0] == 1);
        pl_bundle_free(b);
    }
    b = open_model("zoo/tfjs_int64_multiply/1");
    if (b) {
        pl_tensor *t = NULL;
        CHECK_OK(pl_bundle_read(b, "v1/.ATTRIBUTES/VARIABLE_VALUE", &t));
        if (t) {
            CHECK(t->dtype == PL_DT_INT64 && pl_tensor_get_i64(t, 0) == 3);
            pl_tensor_unref(t);
        }
        pl_bundle_free(b);
    }
}

/* ---- truncated and corrupted copies ---- */

/* Opens the copy and reads every entry; returns how many reads succeeded, or -1 if the open failed.
 * Either way nothing may crash or leak, and errors carry a data-error code. */
static int try_bundle(const char *prefix) {
    pl_bundle *b;
    pl_status st = pl_bundle_open(prefix, &b);
    if (st) {
        pl_code c = pl_status_code(st);
        CHECK(c == PL_DATA_LOSS || c == PL_INVALID_ARGUMENT || c == PL_UNIMPLEMENTED || c == PL_NOT_FOUND);
        pl_status_free(st);
        return -1;
    }
    int ok = 0;
    for (int i = 0; i < pl_bundle_num_entries(b); i++) {
        pl_tensor *t;
        st = pl_bundle_read_entry(b, pl_bundle_entry_at(b, i), &t);
        if (!st) {
            ok++;
            pl_tensor_unref(t);
        } else {
            pl_code c = pl_status_code(st);
            CHECK(c == PL_DATA_LOSS || c == PL_UNIMPLEMENTED || c == PL_INVALID_ARGUMENT);
            pl_status_free(st);
        }
    }
    pl_bundle_free(b);
    return ok;
}

static void corrupt_model(const char *rel) {
    char src[1024], idx[700], dat[700], prefix[600];
    snprintf(prefix, sizeof prefix, "%s/c", tmpdir);
    snprintf(idx, sizeof idx, "%s.index", prefix);
    snprintf(dat, sizeof dat, "%s.data-00000-of-00001", prefix);
    size_t in, dn;
    snprintf(src, sizeof src, "%s/%s/variables/variables.index", shared_dir(), rel);
    uint8_t *index = read_whole(src, &in);
    snprintf(src, sizeof src, "%s/%s/variables/variables.data-00000-of-00001", shared_dir(), rel);
    uint8_t *data = read_whole(src, &dn);
    CHECK(index && data);
    if (!index || !data) goto done;
    write_whole(idx, index, in);
    write_whole(dat, data, dn);
    int all = try_bundle(prefix);
    CHECK(all > 0);
    /* Every truncation of the index loses the footer: the open fails. */
    for (size_t n = 0; n < in; n++) {
        write_whole(idx, index, n);
        CHECK_EQ_INT(try_bundle(prefix), -1);
    }
    /* Every flipped index byte is caught by a CRC or the footer checks, except
     * in what TensorFlow's reader never looks at either: the footer padding,
     * and the metaindex block and its handle (no filters are used). */
    uint64_t moff = 0, msize = 0;
    const uint8_t *footer = index + in - 48;
    size_t h1 = pl__varint64(footer, footer + 40, &moff);
    size_t h2 = pl__varint64(footer + h1, footer + 40, &msize);
    for (size_t i = 0; i < in; i++) {
        bool in_padding = i >= in - 48 && i < in - 8 && index[i] == 0 && i >= in - 48 + h1 + h2;
        bool in_meta = (i >= moff && i < moff + msize + 5) || (i >= in - 48 && i < in - 48 + h1 + h2);
        index[i] ^= 0x5a;
        write_whole(idx, index, in);
        int r = try_bundle(prefix);
        if (!in_padding && !in_meta) CHECK(r < all);
        index[i] ^= 0x5a;
    }
    write_whole(idx, index, in);
    /* A flipped data byte fails exactly the tensor that holds it; a truncated shard fails the tensors past the cut. */
    for (size_t i = 0; i < dn; i++) {
        data[i] ^= 0x01;
        write_whole(dat, data, dn);
        CHECK_EQ_INT(try_bundle(prefix), all - 1);
        data[i] ^= 0x01;
    }
    for (size_t n = 0; n < dn; n++) {
        write_whole(dat, data, n);
        CHECK(try_bundle(prefix) < all);
    }
done:
    free(index);
    free(data);
}

static void test_corrupted_copies(void) {
    corrupt_model("models/tfs-testdata/saved_model_half_plus_two_cpu/00000123");
    corrupt_model("models/tfs-testdata/saved_model_counter/00000123");
    corrupt_model("models/tfs-testdata/saved_model_half_plus_two_tf2_cpu/00000123");
}

int main(void) {
    make_tmpdir();
    RUN_TEST(test_crc32c_vectors);
    RUN_TEST(test_snappy_streams);
    RUN_TEST(test_snappy_malformed);
    RUN_TEST(test_table_roundtrip);
    RUN_TEST(test_table_prefix_compression_and_snappy);
    RUN_TEST(test_table_garbage_blocks);
    RUN_TEST(test_table_short_and_bad_magic);
    RUN_TEST(test_bundle_dtypes_strings_and_errors);
    RUN_TEST(test_garbage_entries);
    RUN_TEST(test_slice_keys);
    RUN_TEST(test_shape_and_slice_specs);
    RUN_TEST(test_shared_models);
    RUN_TEST(test_corrupted_copies);
    remove_tmpdir();
    return check_summary();
}
