/* Names shared by the files of the tensor JSON codec: the cursor and the
 * rapidjson-compatible syntax errors (json_scan.c), numbers (json_number.c,
 * json_format.c), the debug printer used in error texts (json_debug.c) and
 * the pretty writer (json_writer.c). */
#ifndef PL_API_JSON_INTERNAL_H
#define PL_API_JSON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/status.h"
#include "base/strbuf.h"
#include "tensor/tensor.h"

/* The per-number fast paths are inlined into the decoder's loop. */
#ifdef __GNUC__
#define PL__JSON_HOT __attribute__((always_inline))
#else
#define PL__JSON_HOT
#endif

/* Syntax errors, with rapidjson 1.1.0's codes and English texts (TF Serving
 * reports them as "JSON Parse error: <text> at offset: <n>"). */
#define PL__JSON_ERROR_LIST(X)                                                                   \
    X(NONE, "No error.")                                                                         \
    X(DOCUMENT_EMPTY, "The document is empty.")                                                  \
    X(ROOT_NOT_SINGULAR, "The document root must not be followed by other values.")              \
    X(VALUE_INVALID, "Invalid value.")                                                           \
    X(OBJECT_MISS_NAME, "Missing a name for object member.")                                     \
    X(OBJECT_MISS_COLON, "Missing a colon after a name of object member.")                       \
    X(OBJECT_MISS_COMMA_OR_CURLY, "Missing a comma or '}' after an object member.")              \
    X(ARRAY_MISS_COMMA_OR_SQUARE, "Missing a comma or ']' after an array element.")              \
    X(STRING_UNICODE_ESCAPE_INVALID_HEX, "Incorrect hex digit after \\u escape in string.")      \
    X(STRING_UNICODE_SURROGATE_INVALID, "The surrogate pair in string is invalid.")              \
    X(STRING_ESCAPE_INVALID, "Invalid escape character in string.")                              \
    X(STRING_MISS_QUOTATION_MARK, "Missing a closing quotation mark in string.")                 \
    X(NUMBER_TOO_BIG, "Number too big to be stored in double.")                                  \
    X(NUMBER_MISS_FRACTION, "Miss fraction part in number.")                                     \
    X(NUMBER_MISS_EXPONENT, "Miss exponent in number.")

typedef enum pl__json_error {
#define PL__JSON_ERROR_ENUM(name, text) PL__JSON_ERR_##name,
    PL__JSON_ERROR_LIST(PL__JSON_ERROR_ENUM)
#undef PL__JSON_ERROR_ENUM
} pl__json_error;

/* A position in a JSON text. The text must be followed by a NUL byte, which
 * ends it as rapidjson's MemoryStream does: an embedded NUL also ends it. */
typedef struct pl__json_cur {
    const char *p;       /* next byte */
    const char *base;    /* first byte of the text, for error offsets */
    const char *end;     /* the terminating NUL: base + length */
    pl__json_error err;  /* the first syntax error, or NONE */
    size_t err_offset;
} pl__json_cur;

/* Records a syntax error at pos (the first one wins); always returns false. */
bool pl__json_fail(pl__json_cur *c, pl__json_error err, const char *pos);
/* "JSON Parse error: <text> at offset: <n>" for the recorded error. */
pl_status pl__json_syntax_status(const pl__json_cur *c);

static inline void pl__json_ws(pl__json_cur *c) {
    const char *p = c->p;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    c->p = p;
}

/* Strings: c->p is at the opening quote. parse appends the decoded bytes to
 * out (which may be NULL to only validate) and leaves c->p after the closing
 * quote. Bytes are taken as they are (rapidjson does not validate UTF-8). */
bool pl__json_parse_string(pl__json_cur *c, pl_strbuf *out);
/* Walks an object's members. Call with c->p at '{' and *started false; each
 * call moves to the next member and returns 1 with its decoded key in `key`
 * (NULL: not kept) and c->p at its value, 0 after the closing '}', or -1 on
 * a syntax error. The caller reads or skips each value before calling again. */
int pl__json_next_member(pl__json_cur *c, bool *started, pl_strbuf *key);
/* The same for a list's elements: 1 with c->p at the next element, 0 after
 * the closing ']', -1 on a syntax error. Inline: it runs between every two
 * numbers of a tensor. */
static inline bool pl__json_is_ws(char ch) { return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t'; }
PL__JSON_HOT static inline int pl__json_next_element(pl__json_cur *c, bool *started) {
    const char *p = c->p;
    if (!*started) {
        *started = true;
        for (p++; pl__json_is_ws(*p); p++) {
        }
        c->p = p + (*p == ']');
        return *p != ']';
    }
    while (pl__json_is_ws(*p)) p++;
    if (*p == ',') {
        for (p++; pl__json_is_ws(*p); p++) {
        }
        c->p = p;
        /* A trailing comma: rapidjson wants a value here. */
        return *p == ']' ? pl__json_fail(c, PL__JSON_ERR_VALUE_INVALID, p) - 1 : 1;
    }
    c->p = p + (*p == ']');
    return *p == ']' ? 0 : pl__json_fail(c, PL__JSON_ERR_ARRAY_MISS_COMMA_OR_SQUARE, p) - 1;
}

/* Skips one complete value of any nesting depth, checking its syntax exactly
 * as rapidjson's iterative parser does. c->p is at the value's first byte. */
bool pl__json_skip_value(pl__json_cur *c);
/* The literals true, false and null; c->p at their first letter. */
bool pl__json_parse_literal(pl__json_cur *c, int *value);  /* 1, 0, or -1 for null */

/* A number as rapidjson's Document holds it. */
typedef struct pl__json_num {
    double d;       /* GetDouble(): the value, correctly rounded */
    uint64_t mag;   /* |value| when is_int */
    bool is_int;    /* an integer within int64/uint64 range (rapidjson Int/Uint/Int64/Uint64) */
    bool neg;       /* a '-' was written */
} pl__json_num;

/* Parses a number (NaN and Infinity allowed, as with kParseNanAndInfFlag). */
bool pl__json_parse_number(pl__json_cur *c, pl__json_num *out);

/* rapidjson's Value type tests on an integer. */
static inline bool pl__json_num_is_int32(const pl__json_num *n) {
    return n->is_int && (n->neg ? n->mag <= 0x80000000u : n->mag <= 0x7fffffffu);
}
static inline bool pl__json_num_is_uint32(const pl__json_num *n) {
    return n->is_int && (n->neg ? n->mag == 0 : n->mag <= 0xffffffffu);
}
static inline bool pl__json_num_is_int64(const pl__json_num *n) {
    return n->is_int && (n->neg ? n->mag <= 0x8000000000000000u : n->mag <= 0x7fffffffffffffffu);
}
static inline bool pl__json_num_is_uint64(const pl__json_num *n) { return n->is_int && (!n->neg || n->mag == 0); }
/* The value as int64 (valid when is_int64). */
static inline int64_t pl__json_num_i64(const pl__json_num *n) {
    return n->neg ? (int64_t)(0 - n->mag) : (int64_t)n->mag;
}

/* Decimal to double, correctly rounded: w * 10^e10, where w holds the first
 * 19 significant digits; `truncated` says digits were dropped, and then
 * [text, text_end) is the full number for the slow path. */
double pl__json_decimal_to_double(uint64_t w, int e10, bool truncated, const char *text, const char *text_end);

extern const double pl__json_exact_pow10[23];  /* 1e0 .. 1e22, exact in double */

/* SWAR digit tests and conversion of eight ASCII digits (little endian). */
static inline bool pl__json_eight_digits(uint64_t v) {
    return !(((v + 0x4646464646464646ull) | (v - 0x3030303030303030ull)) & 0x8080808080808080ull);
}
static inline uint32_t pl__json_parse_eight(uint64_t v) {
    v -= 0x3030303030303030ull;
    v = v * 10 + (v >> 8);
    v = (((v & 0x000000FF000000FFull) * 0x000F424000000064ull) +
         (((v >> 16) & 0x000000FF000000FFull) * 0x0000271000000001ull)) >> 32;
    return (uint32_t)v;
}

/* The common numbers, fast: [-]digits[.digits] with at most 19 digits,
 * converted exactly (Clinger's division, or Eisel-Lemire beyond 2^53).
 * Returns the end, or NULL to send the number to pl__json_parse_number.
 * The value is rapidjson's GetDouble(): "-0" is an integer, so +0.0.
 * `end` is the end of the text: eight-byte reads stay before it. */
PL__JSON_HOT static inline const char *pl__json_fast_double(const char *s, const char *end, double *out) {
    bool neg = *s == '-';
    s += neg;
    const char *digits = s;
    uint64_t w;
    if (*s == '0') {
        w = 0;
        s++;
    } else if ((unsigned)(*s - '1') < 9) {
        w = (uint64_t)(*s++ - '0');
        while ((unsigned)(*s - '0') < 10) w = w * 10 + (uint64_t)(*s++ - '0');
    } else {
        return NULL;
    }
    ptrdiff_t nd = s - digits;
    int e10 = 0;
    if (*s == '.') {
        const char *f = ++s;
        uint64_t eight;
        while (end - s >= 8 && (memcpy(&eight, s, 8), pl__json_eight_digits(eight))) {
            w = w * 100000000 + pl__json_parse_eight(eight);
            s += 8;
        }
        while ((unsigned)(*s - '0') < 10) w = w * 10 + (uint64_t)(*s++ - '0');
        if (s == f) return NULL;
        nd += s - f;
        e10 = -(int)(s - f);
    } else if (w == 0) {
        neg = false;
    }
    /* More than 19 digits may have wrapped w. */
    if (nd > 19 || (*s | 0x20) == 'e') return NULL;
    /* "248.0" is 248: no division for fractions that are all zeros. */
    while (e10 < 0 && w && w % 10 == 0) {
        w /= 10;
        e10++;
    }
    double d;
    if (w <= (1ull << 53) && e10 >= -22) {
        d = e10 < 0 ? (double)w / pl__json_exact_pow10[-e10] : (double)w;
    } else {
        d = pl__json_decimal_to_double(w, e10, false, digits, s);
    }
    *out = neg ? -d : d;
    return s;
}

/* Integers without fraction or exponent, at most 18 digits. */
static inline const char *pl__json_fast_int(const char *s, int64_t *out) {
    bool neg = *s == '-';
    s += neg;
    const char *digits = s;
    uint64_t w;
    if (*s == '0') {
        w = 0;
        s++;
    } else if ((unsigned)(*s - '1') < 9) {
        w = (uint64_t)(*s++ - '0');
        while ((unsigned)(*s - '0') < 10) w = w * 10 + (uint64_t)(*s++ - '0');
    } else {
        return NULL;
    }
    if (*s == '.' || (*s | 0x20) == 'e' || s - digits > 18) return NULL;
    *out = neg ? -(int64_t)w : (int64_t)w;
    return s;
}

#define PL__JSON_POW10_MIN (-348)
#define PL__JSON_POW10_COUNT 696
extern const uint64_t pl__json_pow10_128[PL__JSON_POW10_COUNT][2];

/* Number formatting; each writes at most PL__JSON_NUM_MAX bytes, no NUL, and
 * returns the length. */
#define PL__JSON_NUM_MAX 32
/* TF Serving's WriteDecimal: six significant digits if they read back to the
 * same value, else max_digits10 (9 / 17); ".0" on numbers with neither '.'
 * nor 'e'; NaN, Infinity, -Infinity bare. */
int pl__json_format_float(float v, char *buf);
int pl__json_format_double(double v, char *buf);
/* rapidjson Writer::Double (Grisu-style shortest digits, "1e-7", "100.0"),
 * for finite values. */
int pl__json_format_double_rapidjson(double v, char *buf);
int pl__json_format_i64(int64_t v, char *buf);
int pl__json_format_u64(uint64_t v, char *buf);

/* Appends a JSON string as rapidjson's Writer does: '"', '\\' and bytes below
 * 0x20 escaped (\b \f \n \r \t or \u00XX), everything else, '/' and
 * non-ASCII included, as it is. */
void pl__json_write_string(pl_strbuf *out, const char *s, size_t n);

/* Appends the JSON value starting at `value` (already validated; the text
 * ends at `end`) as TF Serving's JsonValueToDebugString prints it:
 * PrettyWriter with single-line arrays, cut off once 256 bytes are written. */
void pl__json_debug_string(const char *value, const char *end, pl_strbuf *out);

/* ---- decoding one tensor value (json_tensor.c) ---- */

/* Values of one input, gathered over one or more JSON values (one per
 * instance in the row format). Numeric values are packed in a 64-byte
 * aligned buffer that grows without copying once large; strings are kept as
 * (offset, length) into `bytes`. */
typedef struct pl__json_acc {
    pl_dtype dtype;
    size_t elem_nbytes;      /* bytes per stored value; 16 (offset, length) for strings */
    unsigned char *data;
    size_t nbytes, cap_nbytes;
    bool mapped;             /* data comes from mmap */
    pl_strbuf bytes;         /* string contents */
    int64_t count;           /* values stored */
} pl__json_acc;

void pl__json_acc_init(pl__json_acc *a, pl_dtype dtype);
void pl__json_acc_deinit(pl__json_acc *a);
/* Turns the values into a tensor of the given shape (whose element count
 * must equal a->count) and empties the accumulator. */
pl_status pl__json_acc_finish(pl__json_acc *a, int rank, const int64_t *dims, pl_tensor **out);

/* The shape of one JSON tensor value as TF Serving derives it (from the first
 * element at each level) and what reading it found. */
typedef struct pl__json_tval {
    int rank;                   /* -1 until the first leaf */
    int max_rank;               /* deeper values are refused */
    const char *start;          /* the value's first byte, for error texts */
    int64_t dims[PL_MAX_RANK];
    int64_t count;              /* values stored from this JSON value */
    bool failed;                /* an error was found: stop storing */
} pl__json_tval;

/* Decodes the value at c->p into acc, checking it as TF Serving's
 * FillTensorProto does. Returns false only on a syntax error (in c);
 * otherwise *err is NULL or the first error in TF Serving's order. */
bool pl__json_decode_tensor(pl__json_cur *c, pl__json_acc *acc, pl__json_tval *tv, pl_strbuf *scratch,
                            pl_status *err);
/* True when the value at c->p is an object of exactly one member "b64" with
 * a string value (IsValBase64Object). Reads ahead without moving c. */
bool pl__json_is_b64_object(const pl__json_cur *c);
/* "[2,3]" as TF Serving prints shapes. */
void pl__json_shape_string(int rank, const int64_t *dims, char *buf, size_t size);
/* "JSON Value: <debug string> " + the rest, as TF Serving's FormatError. */
pl_status pl__json_value_error(pl_code code, const pl__json_cur *c, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
