/* Helpers every gRPC method shares: protobuf-c allocation from the call
 * arena, decoding, packing a response into a slice, and model specs to and
 * from their protobuf form. */
#include <string.h>

#include "api/grpc_internal.h"
#include "google/protobuf/wrappers.pb-c.h"

static void *pb_alloc(void *data, size_t size) { return pl_arena_alloc(data, size); }
static void pb_free(void *data, void *ptr) {
    (void)data;
    (void)ptr;
}

void pl__pb_allocator(ProtobufCAllocator *al, pl_arena *a) {
    al->alloc = pb_alloc;
    al->free = pb_free;
    al->allocator_data = a;
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
