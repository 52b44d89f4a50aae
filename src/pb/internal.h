/* Shared by the text parser and the JSON printer: generic access to protobuf-c
 * message fields through their descriptors, and UTF-8 validation. */
#ifndef PL_PB_INTERNAL_H
#define PL_PB_INTERNAL_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a field's value (or a repeated field's array pointer) lives. */
static inline void *pl__pb_member(const ProtobufCMessage *m, unsigned offset) { return (char *)m + offset; }

/* Bytes one element of the type takes in a message or repeated array. */
size_t pl__pb_elem_size(ProtobufCType type);

static inline bool pl__pb_in_oneof(const ProtobufCFieldDescriptor *f) {
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}
/* The field number of the oneof member that is set, 0 if none. */
static inline uint32_t pl__pb_oneof_case(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    return *(const uint32_t *)pl__pb_member(m, f->quantifier_offset);
}
static inline size_t pl__pb_repeated_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    return *(const size_t *)pl__pb_member(m, f->quantifier_offset);
}

/* protobuf's HasField: a repeated field has elements, a oneof member is the
 * one set, a field with presence was set, a proto3 field without presence
 * differs from its default. */
bool pl__pb_has_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* A new zeroed element at the end of a repeated field; NULL when out of
 * memory. Arrays grow to powers of two, so no capacity needs storing. */
void *pl__pb_repeated_append(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* A repeated field of map entries (protoc's nested "<Name>Entry" messages
 * with fields key = 1 and value = 2); protobuf-c keeps no map_entry option. */
bool pl__pb_is_map(const ProtobufCMessageDescriptor *owner, const ProtobufCFieldDescriptor *f);

/* google.protobuf.Int64Value and the other wrappers, which JSON prints bare. */
bool pl__pb_is_wrapper(const ProtobufCMessageDescriptor *d);
bool pl__pb_is_any(const ProtobufCMessageDescriptor *d);

/* Whether the n bytes are well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF). */
bool pl__pb_utf8_valid(const uint8_t *s, size_t n);

/* ---- text format tokenizer (text_lex.c) ---- */

typedef enum {
    PL__TOK_END,
    PL__TOK_IDENT,
    PL__TOK_INT,
    PL__TOK_FLOAT,
    PL__TOK_STRING, /* text includes the quotes; escapes not yet decoded */
    PL__TOK_SYMBOL, /* one character */
} pl__tok_type;

typedef struct {
    pl__tok_type type;
    const char *text;
    size_t len;
    int line, col; /* 0-based, as protobuf's tokenizer counts them */
} pl__token;

typedef struct {
    const char *p, *end;
    int line, col;
    pl__token cur;
    /* The first tokenizer error; the token stream ends there. */
    bool failed;
    int err_line, err_col;
    char err[160];
} pl__lexer;

void pl__lex_init(pl__lexer *lx, const char *text, size_t len);
/* Advances to the next token; on a tokenizer error sets `failed`. */
void pl__lex_next(pl__lexer *lx);
/* Decodes a string token's escapes, appending to out (capacity: the token's
 * length is always enough). Returns the bytes written. */
size_t pl__lex_unescape(const pl__token *t, uint8_t *out);

#endif
