/* Helpers every gRPC method shares: protobuf-c allocation from the call
 * arena, decoding, packing a response into a slice, and model specs to and
 * from their protobuf form. */
#include <stdlib.h>
#include <string.h>

#include "api/grpc_internal.h"
#include "base/heap.h"
#include "tensor/tensor_proto.h"
#include "google/protobuf/wrappers.pb-c.h"

/* A big block: this header, then the data at the next 64-byte boundary. */
typedef struct big_block {
    struct big_block *prev, *next;
    size_t size;
} big_block;
#define BIG_HEADER ((size_t)64)

static big_block *block_of(void *data) { return (big_block *)((char *)data - BIG_HEADER); }

static void *pb_alloc(void *data, size_t size) {
    pl__pb_pool *pool = data;
    if (size < PL__PB_BIG || size > SIZE_MAX - BIG_HEADER) return pl_arena_alloc(pool->arena, size);
    return pl__pb_big_alloc(pool, size);
}

void *pl__pb_big_alloc(pl__pb_pool *pool, size_t size) {
    if (size > SIZE_MAX - BIG_HEADER - 64) return NULL;
    big_block *b = aligned_alloc(64, (size + BIG_HEADER + 63) / 64 * 64);
    if (!b) return NULL;
    /* A 25 MB image is then 12 faults, not 6000. */
    pl_heap_advise_huge(b, BIG_HEADER + size);
    b->size = size;
    b->prev = NULL;
    b->next = pool->big;
    if (b->next) ((big_block *)b->next)->prev = b;
    pool->big = b;
    return (char *)b + BIG_HEADER;
}

static bool is_big(const pl__pb_pool *pool, void *ptr) {
    for (big_block *b = pool->big; b; b = b->next)
        if ((char *)b + BIG_HEADER == ptr) return true;
    return false;
}

static void unlink_block(pl__pb_pool *pool, big_block *b) {
    if (b->prev) b->prev->next = b->next;
    else pool->big = b->next;
    if (b->next) b->next->prev = b->prev;
}

static void pb_free(void *data, void *ptr) {
    (void)data;
    (void)ptr;
}

void pl__pb_allocator(ProtobufCAllocator *al, pl__pb_pool *pool) {
    al->alloc = pb_alloc;
    al->free = pb_free;
    al->allocator_data = pool;
}

void pl__pb_pool_release(pl__pb_pool *pool) {
    for (big_block *b = pool->big, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    pool->big = NULL;
}

void pl__grpc_release_request(pl__grpc_call_ctx *ctx) {
    if (!ctx->request) return;
    grpc_slice_unref(*ctx->request);
    *ctx->request = grpc_empty_slice();
}

static void free_block_data(void *data) { free(block_of(data)); }

pl_status pl__pb_take_tensor(pl__grpc_call_ctx *ctx, Tensorflow__TensorProto *p, pl_tensor **out) {
    pl__pb_pool *pool = ctx->pb->allocator_data;
    pl_dtype dt = (pl_dtype)p->dtype;
    size_t esize = pl_dtype_valid(dt) ? pl_dtype_size(dt) : 0;
    bool numeric = esize && dt != PL_DT_STRING && dt != PL_DT_RESOURCE && dt != PL_DT_VARIANT;
    const Tensorflow__TensorShapeProto *s = p->tensor_shape;
    int rank = s ? (int)s->n_dim : 0;
    int64_t dims[PL_MAX_RANK], count = 0;
    bool ok = numeric && p->tensor_content.len >= PL__PB_BIG && s && !s->unknown_rank && rank <= PL_MAX_RANK &&
              is_big(pool, p->tensor_content.data);
    for (int i = 0; ok && i < rank; i++) ok = s->dim[i] && (dims[i] = s->dim[i]->size) >= 0;
    if (ok) {
        pl_status st = pl_shape_count(rank, dims, &count);
        ok = !st && (uint64_t)count <= SIZE_MAX / esize && (size_t)count * esize == p->tensor_content.len;
        pl_status_free(st);
    }
    if (!ok) return pl_tensor_from_proto(p, out);
    PL_TRY(pl_tensor_wrap(dt, rank, dims, p->tensor_content.data, free_block_data, p->tensor_content.data, out));
    unlink_block(pool, block_of(p->tensor_content.data));
    p->tensor_content.data = NULL;
    p->tensor_content.len = 0;
    return NULL;
}

/* protobuf C++'s default recursion limit. */
enum { MAX_DEPTH = 100 };

pl_status pl__grpc_unpack(pl__grpc_call_ctx *ctx, const ProtobufCMessageDescriptor *desc, const uint8_t *req,
                          size_t len, ProtobufCMessage **out) {
    *out = NULL;
    if (!pl__wire_depth_ok(desc, req, len, MAX_DEPTH)) return pl_error(PL_INTERNAL, "Failed to parse request");
    *out = protobuf_c_message_unpack(desc, ctx->pb, len, req);
    if (!*out) return pl_error(PL_INTERNAL, "Failed to parse request");
    return NULL;
}

pl_status pl__grpc_pack(const ProtobufCMessage *msg, grpc_slice *out) {
    size_t size = protobuf_c_message_get_packed_size(msg);
    if (size > INT32_MAX)
        return pl_error(PL_RESOURCE_EXHAUSTED, "response of %zu bytes exceeds the gRPC message limit", size);
    *out = grpc_slice_malloc(size);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(*out));
    return NULL;
}

pl_status pl__grpc_spec_from_proto(const Tensorflow__Serving__ModelSpec *p, pl_model_spec *out) {
    memset(out, 0, sizeof *out);
    if (!p) return pl_error(PL_INVALID_ARGUMENT, "Missing ModelSpec");
    out->name = p->name;
    out->signature_name = p->signature_name;
    switch (p->version_choice_case) {
    case TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION:
        out->choice = PL_VERSION_SPECIFIC;
        out->version = p->version ? p->version->value : 0;
        break;
    case TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION_LABEL:
        out->choice = PL_VERSION_LABEL;
        out->version_label = p->version_label;
        break;
    default: out->choice = PL_VERSION_LATEST; break;
    }
    return NULL;
}

Tensorflow__Serving__ModelSpec *pl__grpc_spec_to_proto(pl__grpc_call_ctx *ctx, const char *name,
                                                       const char *signature_name, int64_t version) {
    Tensorflow__Serving__ModelSpec *spec = pl_arena_alloc(ctx->arena, sizeof *spec);
    Google__Protobuf__Int64Value *v = pl_arena_alloc(ctx->arena, sizeof *v);
    if (!spec || !v) return NULL;
    tensorflow__serving__model_spec__init(spec);
    google__protobuf__int64_value__init(v);
    spec->name = (char *)(name ? name : "");
    if (signature_name) spec->signature_name = (char *)pl_signature_key(signature_name);
    v->value = version;
    spec->version_choice_case = TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION;
    spec->version = v;
    return spec;
}
