/* Text format parser over protobuf-c descriptors, following protobuf's C++
 * TextFormat::Parser (ConsumeField / ConsumeFieldValue) rule for rule. */
#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb/internal.h"
#include "pb/pb.h"

typedef struct {
    pl__lexer lx;
    int depth;
    /* first error */
    bool failed;
    int err_line, err_col;
    char err[512];
} parser;

static const pl__token *cur(const parser *ps) { return &ps->lx.cur; }

/* Reports at the current token, like ParserImpl::ReportError(message). */
__attribute__((format(printf, 2, 3))) static bool error(parser *ps, const char *fmt, ...) {
    if (ps->failed) return false;
    ps->failed = true;
    ps->err_line = cur(ps)->line;
    ps->err_col = cur(ps)->col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err, sizeof ps->err, fmt, ap);
    va_end(ap);
    return false;
}

/* Moves on; a tokenizer error becomes the parse error at its own position. */
static bool next(parser *ps) {
    pl__lex_next(&ps->lx);
    if (ps->lx.failed && !ps->failed) {
        ps->failed = true;
        ps->err_line = ps->lx.err_line;
        ps->err_col = ps->lx.err_col;
        snprintf(ps->err, sizeof ps->err, "%s", ps->lx.err);
    }
    return !ps->failed;
}

/* The current token's text, NUL-terminated and shortened for messages. */
static const char *tok_text(const parser *ps, char *buf, size_t size) {
    size_t n = cur(ps)->type == PL__TOK_END ? 0 : cur(ps)->len;
    if (n >= size) n = size - 1;
    memcpy(buf, cur(ps)->text, n);
    buf[n] = 0;
    return buf;
}

static bool looking_at(const parser *ps, const char *s) {
    size_t n = strlen(s);
    return cur(ps)->type != PL__TOK_END && cur(ps)->len == n && !memcmp(cur(ps)->text, s, n);
}

static bool try_consume(parser *ps, const char *s) {
    if (!looking_at(ps, s)) return false;
    next(ps);
    return true;
}

static bool consume(parser *ps, const char *s) {
    char buf[128];
    if (!looking_at(ps, s)) return error(ps, "Expected \"%s\", found \"%s\".", s, tok_text(ps, buf, sizeof buf));
    return next(ps);
}

/* ---- numbers ---- */

/* protobuf's Tokenizer::ParseInteger: 0x hex, leading-0 octal, decimal. */
static bool parse_uint(const pl__token *t, uint64_t max, uint64_t *out) {
    const char *s = t->text, *end = t->text + t->len;
    unsigned base = 10;
    if (s[0] == '0' && t->len > 1) {
        if (s[1] == 'x' || s[1] == 'X') base = 16, s += 2;
        else base = 8;
    }
    uint64_t v = 0;
    for (; s < end; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f') d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F') d = (unsigned)(*s - 'A' + 10);
        else return false;
        if (d >= base || d > max || v > (max - d) / base) return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

static bool consume_uint(parser *ps, uint64_t max, uint64_t *out) {
    char buf[128];
    if (cur(ps)->type != PL__TOK_INT) return error(ps, "Expected integer, got: %s", tok_text(ps, buf, sizeof buf));
    if (!parse_uint(cur(ps), max, out)) return error(ps, "Integer out of range (%s)", tok_text(ps, buf, sizeof buf));
    return next(ps);
}

static bool consume_int(parser *ps, uint64_t max, int64_t *out) {
    bool neg = try_consume(ps, "-");
    if (ps->failed) return false;
    uint64_t v;
    if (!consume_uint(ps, neg ? max + 1 : max, &v)) return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v; /* two's complement; v <= 2^63 when negative */
    return true;
}

static bool ident_is(const pl__token *t, const char *lower) {
    size_t n = strlen(lower);
    if (t->len != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t->text[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != lower[i]) return false;
    }
    return true;
}

static bool consume_double(parser *ps, double *out) {
    char buf[128];
    bool neg = try_consume(ps, "-");
    if (ps->failed) return false;
    const pl__token *t = cur(ps);
    if (t->type == PL__TOK_INT) {
        /* Decimal only; a value beyond uint64 is read as a double. */
        if (t->len > 1 && t->text[0] == '0')
            return error(ps, "Expect a decimal number, got: %s", tok_text(ps, buf, sizeof buf));
        uint64_t v;
        *out = parse_uint(t, UINT64_MAX, &v) ? (double)v : strtod(tok_text(ps, buf, sizeof buf), NULL);
    } else if (t->type == PL__TOK_FLOAT) {
        tok_text(ps, buf, sizeof buf);
        size_t n = strlen(buf);
        if (n && (buf[n - 1] == 'f' || buf[n - 1] == 'F')) buf[n - 1] = 0;
        *out = strtod(buf, NULL);
    } else if (t->type == PL__TOK_IDENT && (ident_is(t, "inf") || ident_is(t, "infinity"))) {
        *out = INFINITY;
    } else if (t->type == PL__TOK_IDENT && ident_is(t, "nan")) {
        *out = NAN;
    } else {
        tok_text(ps, buf, sizeof buf);
        if (t->type == PL__TOK_IDENT)
            for (char *c = buf; *c; c++)
                if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        return error(ps, "Expected double, got: %s", buf);
    }
    if (neg) *out = -*out;
    return next(ps);
}

/* ---- storing values ---- */

/* The slot for one more value of field f: the end of a repeated array, or the
 * singular member (marking presence or the oneof case). */
static void *value_slot(parser *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        void *slot = pl__pb_repeated_append(m, f);
        if (!slot) error(ps, "Out of memory.");
        return slot;
    }
    if (pl__pb_in_oneof(f)) *(uint32_t *)pl__pb_member(m, f->quantifier_offset) = f->id;
    else if (f->label != PROTOBUF_C_LABEL_NONE && f->type != PROTOBUF_C_TYPE_MESSAGE &&
             f->type != PROTOBUF_C_TYPE_STRING)
        *(protobuf_c_boolean *)pl__pb_member(m, f->quantifier_offset) = 1;
    return pl__pb_member(m, f->offset);
}

/* Adjacent string tokens, decoded and concatenated; malloc'd, NUL-terminated. */
static bool consume_string(parser *ps, uint8_t **out, size_t *len) {
    char buf[128];
    if (cur(ps)->type != PL__TOK_STRING) return error(ps, "Expected string, got: %s", tok_text(ps, buf, sizeof buf));
    uint8_t *s = NULL;
    size_t n = 0;
    while (cur(ps)->type == PL__TOK_STRING) {
        uint8_t *grown = realloc(s, n + cur(ps)->len + 1);
        if (!grown) {
            free(s);
            return error(ps, "Out of memory.");
        }
        s = grown;
        n += pl__lex_unescape(cur(ps), s + n);
        s[n] = 0;
        if (!next(ps)) {
            free(s);
            return false;
        }
    }
    *out = s;
    *len = n;
    return true;
}

static bool set_string(parser *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    int line = cur(ps)->line, col = cur(ps)->col;
    uint8_t *s = NULL;
    size_t n = 0;
    if (!consume_string(ps, &s, &n)) return false;
    if (f->type == PROTOBUF_C_TYPE_STRING && (memchr(s, 0, n) || !pl__pb_utf8_valid(s, n))) {
        bool nul = memchr(s, 0, n) != NULL;
        free(s);
        /* Reported where the value starts. */
        ps->lx.cur.line = line, ps->lx.cur.col = col;
        return error(ps, nul ? "String field \"%s\" contains a NUL character."
                             : "String field \"%s\" contains invalid UTF-8.",
                     f->name);
    }
    void *slot = value_slot(ps, m, f);
    if (!slot) {
        free(s);
        return false;
    }
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        char **dst = slot;
        /* A proto3 string may be given again while it is still empty. */
        if (*dst && *dst != (const char *)f->default_value) free(*dst);
        *dst = (char *)s;
    } else {
        ProtobufCBinaryData *dst = slot;
        free(dst->data);
        dst->len = n;
        dst->data = n ? s : NULL;
        if (!n) free(s);
    }
    return true;
}

static bool set_enum(parser *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    const ProtobufCEnumDescriptor *e = f->descriptor;
    char buf[128];
    int64_t v;
    if (cur(ps)->type == PL__TOK_IDENT) {
        tok_text(ps, buf, sizeof buf);
        /* Consumed first: protobuf reports the error at the token after the name. */
        if (!next(ps)) return false;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(e, buf);
        if (!ev) return error(ps, "Unknown enumeration value of \"%s\" for field \"%s\".", buf, f->name);
        v = ev->value;
    } else if (looking_at(ps, "-") || cur(ps)->type == PL__TOK_INT) {
        /* proto3 enums are open: any int32 is kept. */
        if (!consume_int(ps, INT32_MAX, &v)) return false;
    } else {
        return error(ps, "Expected integer or identifier, got: %s", tok_text(ps, buf, sizeof buf));
    }
    int32_t *slot = value_slot(ps, m, f);
    if (!slot) return false;
    *slot = (int32_t)v;
    return true;
}

static bool set_bool(parser *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    protobuf_c_boolean b;
    if (cur(ps)->type == PL__TOK_INT) {
        uint64_t v;
        if (!consume_uint(ps, 1, &v)) return false;
        b = v != 0;
    } else {
        char buf[128];
        if (cur(ps)->type != PL__TOK_IDENT) return error(ps, "Expected identifier, got: %s", tok_text(ps, buf, sizeof buf));
        tok_text(ps, buf, sizeof buf);
        if (!next(ps)) return false;
        if (!strcmp(buf, "true") || !strcmp(buf, "True") || !strcmp(buf, "t")) b = 1;
        else if (!strcmp(buf, "false") || !strcmp(buf, "False") || !strcmp(buf, "f")) b = 0;
        else return error(ps, "Invalid value for boolean field \"%s\". Value: \"%s\".", f->name, buf);
    }
    protobuf_c_boolean *slot = value_slot(ps, m, f);
    if (!slot) return false;
    *slot = b;
    return true;
}

static bool set_number(parser *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    bool ok;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        ok = consume_int(ps, INT32_MAX, &i);
        break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        ok = consume_int(ps, INT64_MAX, &i);
        break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: ok = consume_uint(ps, UINT32_MAX, &u); break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: ok = consume_uint(ps, UINT64_MAX, &u); break;
    default: ok = consume_double(ps, &d); break;
    }
    if (!ok) return false;
    void *slot = value_slot(ps, m, f);
    if (!slot) return false;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        *(int32_t *)slot = (int32_t)i;
        break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)slot = i;
        break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: *(uint32_t *)slot = (uint32_t)u; break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: *(uint64_t *)slot = u; break;
    case PROTOBUF_C_TYPE_FLOAT:
        /* io::SafeDoubleToFloat: out-of-range values become infinities. */
        *(float *)slot = d > FLT_MAX ? INFINITY : d < -FLT_MAX ? -INFINITY : (float)d;
        break;
    default: *(double *)slot = d; break;
    }
    return true;
}

static bool consume_value(parser *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_BYTES: return set_string(ps, m, f);
    case PROTOBUF_C_TYPE_ENUM: return set_enum(ps, m, f);
    case PROTOBUF_C_TYPE_BOOL: return set_bool(ps, m, f);
    default: return set_number(ps, m, f);
    }
}

/* ---- messages ---- */

static bool consume_fields(parser *ps, ProtobufCMessage *m, const char *delim);

static bool consume_message(parser *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    if (++ps->depth > PL_PB_MAX_DEPTH)
        return error(ps, "Message is too deep, the parser exceeded the configured recursion limit of %d.",
                     PL_PB_MAX_DEPTH);
    const char *delim;
    if (try_consume(ps, "<")) {
        delim = ">";
    } else {
        if (!consume(ps, "{")) return false;
        delim = "}";
    }
    const ProtobufCMessageDescriptor *d = f->descriptor;
    ProtobufCMessage *sub = malloc(d->sizeof_message);
    if (!sub) return error(ps, "Out of memory.");
    protobuf_c_message_init(d, sub);
    /* Attached before it is filled, so that an error frees it with the root. */
    ProtobufCMessage **slot = value_slot(ps, m, f);
    if (!slot) {
        free(sub);
        return false;
    }
    *slot = sub;
    if (!consume_fields(ps, sub, delim)) return false;
    ps->depth--;
    return true;
}

static const ProtobufCFieldDescriptor *field_by_id(const ProtobufCMessageDescriptor *d, uint32_t id) {
    return protobuf_c_message_descriptor_get_field(d, (unsigned)id);
}

static bool consume_field(parser *ps, ProtobufCMessage *m) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    char name[256], buf[128];
    if (looking_at(ps, "["))
        return error(ps, "Extensions and google.protobuf.Any type URLs are not supported (in message type \"%s\").",
                     d->name);
    if (cur(ps)->type != PL__TOK_IDENT) return error(ps, "Expected identifier, got: %s", tok_text(ps, buf, sizeof buf));
    tok_text(ps, name, sizeof name);
    if (!next(ps)) return false;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    if (!f) return error(ps, "Message type \"%s\" has no field named \"%s\".", d->name, name);

    if (f->label != PROTOBUF_C_LABEL_REPEATED && pl__pb_has_field(m, f))
        return error(ps, "Non-repeated field \"%s\" is specified multiple times.", name);
    if (pl__pb_in_oneof(f) && pl__pb_oneof_case(m, f)) {
        const ProtobufCFieldDescriptor *other = field_by_id(d, pl__pb_oneof_case(m, f));
        /* protobuf-c keeps no oneof names, so the oneof goes unnamed. */
        return error(ps, "Field \"%s\" is specified along with field \"%s\", another member of the same oneof.",
                     name, other ? other->name : "?");
    }

    bool is_msg = f->type == PROTOBUF_C_TYPE_MESSAGE;
    if (is_msg) try_consume(ps, ":");
    else if (!consume(ps, ":")) return false;
    if (ps->failed) return false;

    if (f->label == PROTOBUF_C_LABEL_REPEATED && try_consume(ps, "[")) {
        if (!try_consume(ps, "]")) {
            for (;;) {
                if (ps->failed || !(is_msg ? consume_message(ps, m, f) : consume_value(ps, m, f))) return false;
                if (try_consume(ps, "]")) break;
                if (!consume(ps, ",")) return false;
            }
        }
    } else if (is_msg) {
        if (!consume_message(ps, m, f)) return false;
    } else {
        if (!consume_value(ps, m, f)) return false;
    }
    if (ps->failed) return false;
    if (!try_consume(ps, ";")) try_consume(ps, ",");
    return !ps->failed;
}

/* Fields until the closing delimiter (consumed), or the end of input for the
 * root message (delim NULL). */
static bool consume_fields(parser *ps, ProtobufCMessage *m, const char *delim) {
    for (;;) {
        if (ps->failed) return false;
        if (delim ? looking_at(ps, ">") || looking_at(ps, "}") : cur(ps)->type == PL__TOK_END) break;
        if (!consume_field(ps, m)) return false;
    }
    return delim ? consume(ps, delim) : true;
}

pl_status pl_pb_parse_text(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                           ProtobufCMessage **out) {
    ProtobufCMessage *m = malloc(desc->sizeof_message);
    if (!m) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory parsing text-format %s", desc->name);
    protobuf_c_message_init(desc, m);
    parser *ps = calloc(1, sizeof *ps);
    if (!ps) {
        free(m);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory parsing text-format %s", desc->name);
    }
    pl__lex_init(&ps->lx, text ? text : "", text ? len : 0);
    if (ps->lx.failed) {
        ps->failed = true;
        ps->err_line = ps->lx.err_line;
        ps->err_col = ps->lx.err_col;
        snprintf(ps->err, sizeof ps->err, "%s", ps->lx.err);
    }
    pl_status st = NULL;
    if (!consume_fields(ps, m, NULL)) {
        st = pl_error(PL_INVALID_ARGUMENT, "Error parsing text-format %s: %d:%d: %s", desc->name, ps->err_line + 1,
                      ps->err_col + 1, ps->err);
        protobuf_c_message_free_unpacked(m, NULL);
    } else {
        *out = m;
    }
    free(ps);
    return st;
}
