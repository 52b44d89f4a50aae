/* Generic protobuf-c field access: element sizes, presence, repeated growth,
 * map and well-known-type recognition, UTF-8 validation. */
#include <stdlib.h>
#include <string.h>

#include "pb/internal.h"

size_t pl__pb_elem_size(ProtobufCType type) {
    switch (type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

static bool value_is_default(const ProtobufCFieldDescriptor *f, const void *v) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)v;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)v)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(void *const *)v == NULL;
    case PROTOBUF_C_TYPE_FLOAT: {
        /* -0.0 is not the default: compare bits, as protobuf does. */
        uint32_t bits;
        memcpy(&bits, v, 4);
        return bits == 0;
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, v, 8);
        return bits == 0;
    }
    default: {
        static const uint8_t zeros[8];
        return !memcmp(v, zeros, pl__pb_elem_size(f->type));
    }
    }
}

bool pl__pb_has_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    if (f->label == PROTOBUF_C_LABEL_REPEATED) return pl__pb_repeated_count(m, f) > 0;
    if (pl__pb_in_oneof(f)) return pl__pb_oneof_case(m, f) == f->id;
    const void *v = pl__pb_member(m, f->offset);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) return *(void *const *)v != NULL;
    if (f->label == PROTOBUF_C_LABEL_NONE) return !value_is_default(f, v);
    /* proto2 optional / required */
    if (f->type == PROTOBUF_C_TYPE_STRING) return *(char *const *)v && *(char *const *)v != f->default_value;
    return *(const protobuf_c_boolean *)pl__pb_member(m, f->quantifier_offset);
}

void *pl__pb_repeated_append(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    size_t *n = pl__pb_member(m, f->quantifier_offset);
    void **arr = pl__pb_member(m, f->offset);
    size_t elem = pl__pb_elem_size(f->type);
    if (*n == 0 || (*n & (*n - 1)) == 0) { /* full: grow to the next power of two */
        size_t cap = *n ? *n * 2 : 1;
        if (cap > SIZE_MAX / elem) return NULL;
        void *grown = realloc(*arr, cap * elem);
        if (!grown) return NULL;
        *arr = grown;
    }
    void *slot = (char *)*arr + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}

bool pl__pb_is_map(const ProtobufCMessageDescriptor *owner, const ProtobufCFieldDescriptor *f) {
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE) return false;
    const ProtobufCMessageDescriptor *e = f->descriptor;
    if (e->n_fields != 2 || e->fields[0].id != 1 || e->fields[1].id != 2 || strcmp(e->fields[0].name, "key") ||
        strcmp(e->fields[1].name, "value"))
        return false;
    /* protoc names the entry "<CamelCaseField>Entry", nested in the owner. */
    size_t on = strlen(owner->name), sn = strlen(e->short_name);
    return sn > 5 && !strcmp(e->short_name + sn - 5, "Entry") && !strncmp(e->name, owner->name, on) &&
           e->name[on] == '.' && !strcmp(e->name + on + 1, e->short_name);
}

bool pl__pb_is_wrapper(const ProtobufCMessageDescriptor *d) {
    static const char *const names[] = {
        "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(d->name, names[i])) return d->n_fields == 1;
    return false;
}

bool pl__pb_is_any(const ProtobufCMessageDescriptor *d) { return !strcmp(d->name, "google.protobuf.Any"); }

bool pl__pb_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07, min = 0x10000;
        else return false;
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}
