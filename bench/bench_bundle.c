/* Checkpoint reading against memcpy of the same bytes in the same run: a
 * bundle of float tensors is written to a temporary directory, then read
 * back whole (open, index parse, size and CRC-32C checks, copy into aligned
 * tensors); the ratio says what the checks cost over copying the data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "runtime/bundle.h"
#include "tensorflow/core/protobuf/tensor_bundle.pb-c.h"

#define NUM_TENSORS 64
#define FLOATS_PER_TENSOR (256 * 1024) /* 1 MiB each: 64 MiB in all */
#define ROUNDS 5

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) exit(1);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put_varint(buf *b, uint64_t v) {
    uint8_t t[10];
    size_t n = 0;
    for (; v >= 0x80; v >>= 7) t[n++] = (uint8_t)(v | 0x80);
    t[n++] = (uint8_t)v;
    put(b, t, n);
}

static void put32(buf *b, uint32_t v) { put(b, &v, 4); } /* little-endian hosts only, as the bench runs */

/* Appends a block with its trailer and returns its handle. */
static void emit(buf *f, const buf *block, uint64_t *off, uint64_t *size) {
    uint8_t type = 0;
    *off = f->n;
    *size = block->n;
    put(f, block->p, block->n);
    put(f, &type, 1);
    put32(f, pl_crc32c_mask(pl_crc32c_extend(pl_crc32c(block->p, block->n), &type, 1)));
}

static void add_entry(buf *block, const char *key, const void *val, size_t len) {
    put_varint(block, 0);
    put_varint(block, strlen(key));
    put_varint(block, len);
    put(block, key, strlen(key));
    put(block, val, len);
}

static void write_bundle(const char *prefix) {
    buf data = {0}, block = {0}, index = {0}, meta = {0}, handle = {0}, file = {0};
    Tensorflow__BundleHeaderProto h = TENSORFLOW__BUNDLE_HEADER_PROTO__INIT;
    h.num_shards = 1;
    uint8_t tmp[256];
    add_entry(&block, "", tmp, tensorflow__bundle_header_proto__pack(&h, tmp));
    float *v = malloc(FLOATS_PER_TENSOR * sizeof *v);
    for (int i = 0; i < FLOATS_PER_TENSOR; i++) v[i] = (float)i * 0.5f;
    for (int t = 0; t < NUM_TENSORS; t++) {
        char key[32];
        snprintf(key, sizeof key, "layer_%03d/kernel", t);
        v[0] = (float)t;
        Tensorflow__TensorShapeProto__Dim d = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
        d.size = FLOATS_PER_TENSOR;
        Tensorflow__TensorShapeProto__Dim *dims[] = {&d};
        Tensorflow__TensorShapeProto s = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
        s.n_dim = 1;
        s.dim = dims;
        Tensorflow__BundleEntryProto e = TENSORFLOW__BUNDLE_ENTRY_PROTO__INIT;
        e.dtype = TENSORFLOW__DATA_TYPE__DT_FLOAT;
        e.shape = &s;
        e.offset = (int64_t)data.n;
        e.size = FLOATS_PER_TENSOR * sizeof *v;
        e.crc32c = pl_crc32c_mask(pl_crc32c(v, (size_t)e.size));
        put(&data, v, (size_t)e.size);
        add_entry(&block, key, tmp, tensorflow__bundle_entry_proto__pack(&e, tmp));
    }
    put32(&block, 0);
    put32(&block, 1);
    uint64_t doff, dsize, moff, msize, ioff, isize;
    emit(&file, &block, &doff, &dsize);
    put32(&meta, 0);
    put32(&meta, 1);
    emit(&file, &meta, &moff, &msize);
    put_varint(&handle, doff);
    put_varint(&handle, dsize);
    add_entry(&index, "\xff", handle.p, handle.n);
    put32(&index, 0);
    put32(&index, 1);
    emit(&file, &index, &ioff, &isize);
    size_t footer = file.n;
    put_varint(&file, moff);
    put_varint(&file, msize);
    put_varint(&file, ioff);
    put_varint(&file, isize);
    uint8_t zero = 0;
    while (file.n < footer + 40) put(&file, &zero, 1);
    put32(&file, 0x8b80fb57u);
    put32(&file, 0xdb477524u);
    char path[600];
    snprintf(path, sizeof path, "%s.index", prefix);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(file.p, 1, file.n, fp) != file.n) exit(1);
    fclose(fp);
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    fp = fopen(path, "wb");
    if (!fp || fwrite(data.p, 1, data.n, fp) != data.n) exit(1);
    fclose(fp);
    free(v);
    free(data.p), free(block.p), free(index.p), free(meta.p), free(handle.p), free(file.p);
}

int main(void) {
    char dir[] = "/tmp/plinth_bench_bundle_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s/ckpt", dir);
    write_bundle(prefix);
    size_t nbytes = (size_t)NUM_TENSORS * FLOATS_PER_TENSOR * sizeof(float);
    char *src = malloc(nbytes), *dst = malloc(nbytes);
    memset(src, 1, nbytes);
    memset(dst, 2, nbytes);
    double best_read = 1e9, best_copy = 1e9;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_s();
        pl_bundle *b;
        pl_status st = pl_bundle_open(prefix, &b);
        for (int i = 0; !st && i < pl_bundle_num_entries(b); i++) {
            pl_tensor *t;
            st = pl_bundle_read_entry(b, pl_bundle_entry_at(b, i), &t);
            if (!st) pl_tensor_unref(t);
        }
        if (st) {
            fprintf(stderr, "%s\n", pl_status_message(st));
            return 1;
        }
        pl_bundle_free(b);
        double t1 = now_s();
        memcpy(dst, src, nbytes);
        double t2 = now_s();
        if (t1 - t0 < best_read) best_read = t1 - t0;
        if (t2 - t1 < best_copy) best_copy = t2 - t1;
    }
    printf("bundle read: %d tensors, %.0f MiB: %.1f ms (%.0f MB/s); memcpy %.1f ms; ratio %.2f\n", NUM_TENSORS,
           nbytes / 1048576.0, best_read * 1e3, nbytes / best_read / 1e6, best_copy * 1e3, best_read / best_copy);
    free(src);
    free(dst);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
