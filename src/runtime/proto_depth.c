/* A guard run before protobuf-c parses untrusted bytes: protobuf-c recurses
 * once per nested message, so a few hundred kilobytes of nesting (an attr
 * holding a function whose attr holds a function ...) would exhaust the
 * stack. This walks the wire format with the message descriptors and refuses
 * nesting deeper than a bound, the way protobuf's own parsers do. */
#include <stdint.h>

#include "runtime/graph.h"

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Returns -1 when nesting exceeds max_depth, 0 otherwise (malformed bytes
 * are left for the real parser to report). */
static int check(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end, int depth, int max_depth) {
    if (depth > max_depth) return -1;
    while (p < end) {
        uint64_t tag, len;
        if (!read_varint(&p, end, &tag)) return 0;
        switch (tag & 7) {
        case 0:
            if (!read_varint(&p, end, &len)) return 0;
            break;
        case 1:
            if (end - p < 8) return 0;
            p += 8;
            break;
        case 5:
            if (end - p < 4) return 0;
            p += 4;
            break;
        case 2: {
            if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p)) return 0;
            const ProtobufCFieldDescriptor *f =
                d && tag >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                check(f->descriptor, p, p + len, depth + 1, max_depth) < 0)
                return -1;
            p += len;
            break;
        }
        default:
            return 0;
        }
    }
    return 0;
}

pl_status pl_proto_check_nesting(const ProtobufCMessageDescriptor *desc, const void *data, size_t len) {
    const uint8_t *p = data;
    if (check(desc, p, p + len, 0, PL_PROTO_MAX_NESTING) < 0)
        return pl_error(PL_INVALID_ARGUMENT, "%s nests messages more than %d levels deep", desc->name,
                        PL_PROTO_MAX_NESTING);
    return NULL;
}
