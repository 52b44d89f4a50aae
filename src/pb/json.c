/* proto3 JSON printer over protobuf-c descriptors, laid out like protobuf's
 * MessageToJsonString (see pb.h for the mapping). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/strbuf.h"
#include "pb/internal.h"
#include "pb/pb.h"

typedef struct {
    pl_strbuf b;
    pl_pb_json_options o;
    pl_status err;
    int depth;
} writer;

static void indent(writer *w, int level) {
    if (!w->o.pretty) return;
    pl_strbuf_putc(&w->b, '\n');
    for (int i = 0; i < level; i++) pl_strbuf_putc(&w->b, ' ');
}

static void put_string(writer *w, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    pl_strbuf_putc(&w->b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': pl_strbuf_puts(&w->b, "\\\""); break;
        case '\\': pl_strbuf_puts(&w->b, "\\\\"); break;
        case '\b': pl_strbuf_puts(&w->b, "\\b"); break;
        case '\f': pl_strbuf_puts(&w->b, "\\f"); break;
        case '\n': pl_strbuf_puts(&w->b, "\\n"); break;
        case '\r': pl_strbuf_puts(&w->b, "\\r"); break;
        case '\t': pl_strbuf_puts(&w->b, "\\t"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
                pl_strbuf_puts(&w->b, e);
            } else {
                pl_strbuf_putc(&w->b, (char)c);
            }
        }
    }
    pl_strbuf_putc(&w->b, '"');
}

/* Shortest of %.{short}g and %.{long}g that reads back as the same value, as
 * protobuf's SimpleDtoa / SimpleFtoa do. */
static void put_real(writer *w, double v, bool is_float) {
    if (isnan(v)) return pl_strbuf_puts(&w->b, "\"NaN\"");
    if (isinf(v)) return pl_strbuf_puts(&w->b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    char buf[40];
    snprintf(buf, sizeof buf, "%.*g", is_float ? 6 : 15, v);
    bool same = is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v;
    if (!same) snprintf(buf, sizeof buf, "%.*g", is_float ? 9 : 17, v);
    pl_strbuf_puts(&w->b, buf);
}

/* A field name as JSON spells it. protoc-c drops json_name options; these
 * are the ones TensorFlow Serving's protos set (to their own proto names). */
static void put_key(writer *w, const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f) {
    static const struct { const char *message, *field; } keep[] = {
        {"tensorflow.serving.GetModelStatusResponse", "model_version_status"},
        {"tensorflow.serving.StatusProto", "error_code"},
        {"tensorflow.serving.StatusProto", "error_message"},
    };
    bool proto_name = w->o.proto_field_names;
    for (size_t i = 0; !proto_name && i < sizeof keep / sizeof keep[0]; i++)
        proto_name = !strcmp(d->name, keep[i].message) && !strcmp(f->name, keep[i].field);
    pl_strbuf_putc(&w->b, '"');
    bool upper = false;
    for (const char *c = f->name; *c; c++) {
        if (!proto_name && *c == '_') {
            upper = true;
        } else {
            pl_strbuf_putc(&w->b, upper && *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c);
            upper = false;
        }
    }
    pl_strbuf_puts(&w->b, w->o.pretty ? "\": " : "\":");
}

static bool fail(writer *w, pl_status st) {
    if (!w->err) w->err = st;
    else pl_status_free(st);
    return false;
}

static bool put_message(writer *w, const ProtobufCMessage *m, int level);

/* One value of field f stored at v (an element of a repeated array or the
 * singular member). */
static bool put_value(writer *w, const ProtobufCFieldDescriptor *f, const void *v, int level) {
    char buf[32];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(buf, sizeof buf, "%d", *(const int32_t *)v);
        break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        snprintf(buf, sizeof buf, "%u", *(const uint32_t *)v);
        break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(buf, sizeof buf, "\"%lld\"", (long long)*(const int64_t *)v);
        break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        snprintf(buf, sizeof buf, "\"%llu\"", (unsigned long long)*(const uint64_t *)v);
        break;
    case PROTOBUF_C_TYPE_BOOL: snprintf(buf, sizeof buf, "%s", *(const protobuf_c_boolean *)v ? "true" : "false"); break;
    case PROTOBUF_C_TYPE_FLOAT: put_real(w, *(const float *)v, true); return true;
    case PROTOBUF_C_TYPE_DOUBLE: put_real(w, *(const double *)v, false); return true;
    case PROTOBUF_C_TYPE_ENUM: {
        int32_t e = *(const int32_t *)v;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, e);
        if (ev) {
            put_string(w, ev->name, strlen(ev->name));
            return true;
        }
        snprintf(buf, sizeof buf, "%d", e); /* unknown values print as numbers */
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)v;
        if (!s) s = "";
        size_t n = strlen(s);
        if (!pl__pb_utf8_valid((const uint8_t *)s, n))
            return fail(w, pl_error(PL_INVALID_ARGUMENT, "string field \"%s\" holds invalid UTF-8", f->name));
        put_string(w, s, n);
        return true;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = v;
        size_t n = pl_base64_encoded_nbytes(bd->len);
        pl_strbuf_putc(&w->b, '"');
        char *dst = pl_strbuf_reserve(&w->b, n);
        if (dst) {
            pl_base64_encode(bd->data, bd->len, dst);
            pl_strbuf_commit(&w->b, n);
        }
        pl_strbuf_putc(&w->b, '"');
        return true;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)v;
        if (!sub) {
            pl_strbuf_puts(&w->b, "{}");
            return true;
        }
        if (pl__pb_is_wrapper(sub->descriptor)) {
            const ProtobufCFieldDescriptor *inner = &sub->descriptor->fields[0];
            return put_value(w, inner, pl__pb_member(sub, inner->offset), level);
        }
        return put_message(w, sub, level);
    }
    }
    pl_strbuf_puts(&w->b, buf);
    return true;
}

/* A map key: JSON object keys are strings whatever the key type. */
static bool put_map_key(writer *w, const ProtobufCMessage *entry) {
    const ProtobufCFieldDescriptor *kf = &entry->descriptor->fields[0];
    const void *k = pl__pb_member(entry, kf->offset);
    if (kf->type == PROTOBUF_C_TYPE_STRING) {
        if (!put_value(w, kf, k, 0)) return false;
    } else {
        char buf[32];
        switch (kf->type) {
        case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
            snprintf(buf, sizeof buf, "\"%lld\"", (long long)*(const int64_t *)k);
            break;
        case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
            snprintf(buf, sizeof buf, "\"%llu\"", (unsigned long long)*(const uint64_t *)k);
            break;
        case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
            snprintf(buf, sizeof buf, "\"%u\"", *(const uint32_t *)k);
            break;
        case PROTOBUF_C_TYPE_BOOL:
            snprintf(buf, sizeof buf, "\"%s\"", *(const protobuf_c_boolean *)k ? "true" : "false");
            break;
        default: snprintf(buf, sizeof buf, "\"%d\"", *(const int32_t *)k); break;
        }
        pl_strbuf_puts(&w->b, buf);
    }
    pl_strbuf_puts(&w->b, w->o.pretty ? ": " : ":");
    return true;
}

static bool put_map(writer *w, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int level) {
    size_t n = pl__pb_repeated_count(m, f);
    ProtobufCMessage *const *entries = *(ProtobufCMessage *const *const *)pl__pb_member(m, f->offset);
    if (n == 0) {
        pl_strbuf_puts(&w->b, "{}");
        return true;
    }
    pl_strbuf_putc(&w->b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) pl_strbuf_putc(&w->b, ',');
        indent(w, level + 1);
        const ProtobufCMessage *e = entries[i];
        const ProtobufCFieldDescriptor *vf = &e->descriptor->fields[1];
        if (!put_map_key(w, e) || !put_value(w, vf, pl__pb_member(e, vf->offset), level + 1)) return false;
    }
    indent(w, level);
    pl_strbuf_putc(&w->b, '}');
    return true;
}

static bool put_repeated(writer *w, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int level) {
    size_t n = pl__pb_repeated_count(m, f), elem = pl__pb_elem_size(f->type);
    const char *arr = *(const char *const *)pl__pb_member(m, f->offset);
    if (n == 0) {
        pl_strbuf_puts(&w->b, "[]");
        return true;
    }
    pl_strbuf_putc(&w->b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) pl_strbuf_putc(&w->b, ',');
        indent(w, level + 1);
        if (!put_value(w, f, arr + i * elem, level + 1)) return false;
    }
    indent(w, level);
    pl_strbuf_putc(&w->b, ']');
    return true;
}

static bool should_print(const writer *w, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    if (pl__pb_has_field(m, f)) return true;
    /* Defaults are printed only for fields without presence. */
    if (!w->o.print_defaults || pl__pb_in_oneof(f) ||
        (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED))
        return false;
    return f->label == PROTOBUF_C_LABEL_REPEATED || f->label == PROTOBUF_C_LABEL_NONE;
}

/* {"@type": url, <fields of the packed message>}; wrappers put their value under "value". */
static bool put_any(writer *w, const ProtobufCMessage *any, int level) {
    const ProtobufCMessageDescriptor *d = any->descriptor;
    const ProtobufCFieldDescriptor *url_f = protobuf_c_message_descriptor_get_field(d, 1);
    const ProtobufCFieldDescriptor *val_f = protobuf_c_message_descriptor_get_field(d, 2);
    const char *url = *(char *const *)pl__pb_member(any, url_f->offset);
    const ProtobufCBinaryData *val = pl__pb_member(any, val_f->offset);
    if (!url || !*url) {
        pl_strbuf_puts(&w->b, "{}");
        return true;
    }
    const char *slash = strrchr(url, '/');
    const char *name = slash ? slash + 1 : url;
    const ProtobufCMessageDescriptor *packed = w->o.resolve_any ? w->o.resolve_any(name) : NULL;
    if (!packed)
        return fail(w, pl_error(PL_INVALID_ARGUMENT, "cannot print google.protobuf.Any holding unknown type \"%s\"", url));
    ProtobufCMessage *inner = protobuf_c_message_unpack(packed, NULL, val->len, val->data);
    if (!inner)
        return fail(w, pl_error(PL_INVALID_ARGUMENT, "google.protobuf.Any holds a malformed \"%s\"", url));
    pl_strbuf_putc(&w->b, '{');
    indent(w, level + 1);
    pl_strbuf_puts(&w->b, w->o.pretty ? "\"@type\": " : "\"@type\":");
    put_string(w, url, strlen(url));
    bool ok = true;
    if (pl__pb_is_wrapper(packed)) {
        pl_strbuf_putc(&w->b, ',');
        indent(w, level + 1);
        pl_strbuf_puts(&w->b, w->o.pretty ? "\"value\": " : "\"value\":");
        const ProtobufCFieldDescriptor *f = &packed->fields[0];
        ok = put_value(w, f, pl__pb_member(inner, f->offset), level + 1);
    } else {
        /* The packed message's fields join the Any's object. */
        for (unsigned i = 0; ok && i < packed->n_fields; i++) {
            const ProtobufCFieldDescriptor *f = &packed->fields[i];
            if (!should_print(w, inner, f)) continue;
            pl_strbuf_putc(&w->b, ',');
            indent(w, level + 1);
            put_key(w, packed, f);
            ok = f->label != PROTOBUF_C_LABEL_REPEATED ? put_value(w, f, pl__pb_member(inner, f->offset), level + 1)
                 : pl__pb_is_map(packed, f)            ? put_map(w, inner, f, level + 1)
                                                       : put_repeated(w, inner, f, level + 1);
        }
    }
    protobuf_c_message_free_unpacked(inner, NULL);
    indent(w, level);
    pl_strbuf_putc(&w->b, '}');
    return ok;
}

static bool put_message(writer *w, const ProtobufCMessage *m, int level) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (++w->depth > 2 * PL_PB_MAX_DEPTH)
        return fail(w, pl_error(PL_INVALID_ARGUMENT, "message nesting is too deep to print as JSON"));
    if (pl__pb_is_any(d)) {
        bool ok = put_any(w, m, level);
        w->depth--;
        return ok;
    }
    bool first = true;
    pl_strbuf_putc(&w->b, '{');
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!should_print(w, m, f)) continue;
        if (!first) pl_strbuf_putc(&w->b, ',');
        first = false;
        indent(w, level + 1);
        put_key(w, d, f);
        bool ok = f->label != PROTOBUF_C_LABEL_REPEATED ? put_value(w, f, pl__pb_member(m, f->offset), level + 1)
                  : pl__pb_is_map(d, f)                 ? put_map(w, m, f, level + 1)
                                                        : put_repeated(w, m, f, level + 1);
        if (!ok) return false;
    }
    if (!first) indent(w, level);
    pl_strbuf_putc(&w->b, '}');
    w->depth--;
    return true;
}

pl_status pl_pb_to_json(const ProtobufCMessage *msg, const pl_pb_json_options *opts, char **out, size_t *len) {
    writer w = {0};
    if (opts) w.o = *opts;
    pl_strbuf_init(&w.b, 0);
    bool ok = put_message(&w, msg, 0);
    if (ok && w.o.pretty) pl_strbuf_putc(&w.b, '\n');
    pl_status st = w.err ? w.err : pl_strbuf_status(&w.b);
    if (!st && !ok) st = pl_error(PL_INTERNAL, "printing JSON failed");
    if (st) {
        pl_strbuf_deinit(&w.b);
        return st;
    }
    size_t n = w.b.len;
    char *s = pl_strbuf_detach(&w.b, NULL);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory printing JSON");
    *out = s;
    if (len) *len = n;
    return NULL;
}
