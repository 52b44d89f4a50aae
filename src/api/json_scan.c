/* JSON syntax, exactly as rapidjson 1.1.0 parses it for TF Serving
 * (kParseIterativeFlag | kParseNanAndInfFlag | kParseStopWhenDoneFlag, no
 * encoding validation): strings, literals, skipping whole values, and the
 * error texts and offsets it reports. Skipping is iterative, so nesting depth
 * costs one bit of memory per level, never stack. */
#include <stdlib.h>
#include <string.h>

#include "api/json_internal.h"

static const char *const error_texts[] = {
#define PL__JSON_ERROR_TEXT(name, text) text,
    PL__JSON_ERROR_LIST(PL__JSON_ERROR_TEXT)
#undef PL__JSON_ERROR_TEXT
};

bool pl__json_fail(pl__json_cur *c, pl__json_error err, const char *pos) {
    if (c->err == PL__JSON_ERR_NONE) {
        c->err = err;
        c->err_offset = (size_t)(pos - c->base);
    }
    return false;
}

pl_status pl__json_syntax_status(const pl__json_cur *c) {
    return pl_error(PL_INVALID_ARGUMENT, "JSON Parse error: %s at offset: %zu", error_texts[c->err], c->err_offset);
}

/* Bytes that stand for themselves inside a string. */
static bool plain_byte(unsigned char ch) { return ch >= 0x20 && ch != '"' && ch != '\\'; }

/* True when one of the 8 bytes is '"', '\\' or below 0x20 (SWAR). */
static inline bool word_has_special(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t lt = (x - ones * 0x20) & ~x;
    uint64_t zq = (q - ones) & ~q, zb = (b - ones) & ~b;
    return ((lt | zq | zb) & highs) != 0;
}

static int hex_value(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Four hex digits at *pp; reads no further than the first non-hex byte. */
static bool hex4(const char **pp, unsigned *out) {
    const char *p = *pp;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(p[i]);
        if (h < 0) return false;
        v = v << 4 | (unsigned)h;
    }
    *pp = p + 4;
    *out = v;
    return true;
}

static void put_utf8(pl_strbuf *out, unsigned cp) {
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    pl_strbuf_append(out, b, n);
}

bool pl__json_parse_string(pl__json_cur *c, pl_strbuf *out) {
    const char *p = c->p + 1;
    for (;;) {
        const char *run = p;
        while (p + 8 <= c->end) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (word_has_special(x)) break;
            p += 8;
        }
        while (plain_byte((unsigned char)*p)) p++;
        if (out && p > run) pl_strbuf_append(out, run, (size_t)(p - run));
        char ch = *p;
        if (ch == '"') {
            c->p = p + 1;
            return true;
        }
        if (ch != '\\') {
            /* A raw control byte; NUL is the end of the text. */
            return pl__json_fail(c, ch == 0 ? PL__JSON_ERR_STRING_MISS_QUOTATION_MARK : PL__JSON_ERR_STRING_ESCAPE_INVALID,
                                 p);
        }
        const char *esc = p++;
        char e = *p++, put;
        switch (e) {
        case '"': put = '"'; break;
        case '\\': put = '\\'; break;
        case '/': put = '/'; break;
        case 'b': put = '\b'; break;
        case 'f': put = '\f'; break;
        case 'n': put = '\n'; break;
        case 'r': put = '\r'; break;
        case 't': put = '\t'; break;
        case 'u': {
            unsigned cp, cp2;
            if (!hex4(&p, &cp)) return pl__json_fail(c, PL__JSON_ERR_STRING_UNICODE_ESCAPE_INVALID_HEX, esc);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p[0] != '\\' || p[1] != 'u') return pl__json_fail(c, PL__JSON_ERR_STRING_UNICODE_SURROGATE_INVALID, esc);
                p += 2;
                if (!hex4(&p, &cp2)) return pl__json_fail(c, PL__JSON_ERR_STRING_UNICODE_ESCAPE_INVALID_HEX, esc);
                if (cp2 < 0xDC00 || cp2 > 0xDFFF)
                    return pl__json_fail(c, PL__JSON_ERR_STRING_UNICODE_SURROGATE_INVALID, esc);
                cp = (((cp - 0xD800) << 10) | (cp2 - 0xDC00)) + 0x10000;
            }
            if (out) put_utf8(out, cp);
            continue;
        }
        default:
            return pl__json_fail(c, PL__JSON_ERR_STRING_ESCAPE_INVALID, esc);
        }
        if (out) pl_strbuf_putc(out, put);
    }
}

bool pl__json_parse_literal(pl__json_cur *c, int *value) {
    const char *p = c->p, *word;
    int v;
    switch (*p) {
    case 't': word = "true"; v = 1; break;
    case 'f': word = "false"; v = 0; break;
    default: word = "null"; v = -1; break;
    }
    /* rapidjson takes the first letter, then fails at the first mismatch. */
    for (int i = 1; word[i]; i++)
        if (p[i] != word[i]) return pl__json_fail(c, PL__JSON_ERR_VALUE_INVALID, p + i);
    c->p = p + strlen(word);
    *value = v;
    return true;
}

/* A syntax error at c->p, as the -1 of the walking functions. */
static int fail_step(pl__json_cur *c, pl__json_error err) {
    pl__json_fail(c, err, c->p);
    return -1;
}

int pl__json_next_member(pl__json_cur *c, bool *started, pl_strbuf *key) {
    if (!*started) {
        *started = true;
        c->p++;
        pl__json_ws(c);
        if (*c->p == '}') {
            c->p++;
            return 0;
        }
    } else {
        pl__json_ws(c);
        if (*c->p == '}') {
            c->p++;
            return 0;
        }
        if (*c->p != ',') return fail_step(c, PL__JSON_ERR_OBJECT_MISS_COMMA_OR_CURLY);
        c->p++;
        pl__json_ws(c);
    }
    if (*c->p != '"') return fail_step(c, PL__JSON_ERR_OBJECT_MISS_NAME);
    if (key) pl_strbuf_clear(key);
    if (!pl__json_parse_string(c, key)) return -1;
    pl__json_ws(c);
    if (*c->p != ':') return fail_step(c, PL__JSON_ERR_OBJECT_MISS_COLON);
    c->p++;
    pl__json_ws(c);
    return 1;
}

/* Container stack for skipping: one bit per level (1 = array), on the stack
 * for ordinary depths and on the heap beyond. */
typedef struct bitstack {
    uint64_t small[16];
    uint64_t *bits;
    size_t depth, cap_words;
} bitstack;

static bool push(bitstack *s, bool is_array) {
    size_t w = s->depth / 64;
    if (w >= s->cap_words) {
        size_t cap = s->cap_words * 2;
        uint64_t *nb = s->bits == s->small ? malloc(cap * sizeof *nb) : realloc(s->bits, cap * sizeof *nb);
        if (!nb) return false;
        if (s->bits == s->small) memcpy(nb, s->small, sizeof s->small);
        s->bits = nb;
        s->cap_words = cap;
    }
    uint64_t m = 1ull << (s->depth % 64);
    s->bits[w] = is_array ? s->bits[w] | m : s->bits[w] & ~m;
    s->depth++;
    return true;
}

static bool top_is_array(const bitstack *s) {
    size_t d = s->depth - 1;
    return (s->bits[d / 64] >> (d % 64)) & 1;
}

/* Skips a scalar value at c->p. */
static bool skip_scalar(pl__json_cur *c) {
    switch (*c->p) {
    case '"': return pl__json_parse_string(c, NULL);
    case 't':
    case 'f':
    case 'n': {
        int v;
        return pl__json_parse_literal(c, &v);
    }
    case ',':
    case ':':
    case ']':
    case '}':
    case '[':
    case '{':
    case 0: return pl__json_fail(c, PL__JSON_ERR_VALUE_INVALID, c->p);
    default: {
        pl__json_num n;
        return pl__json_parse_number(c, &n);
    }
    }
}

bool pl__json_skip_value(pl__json_cur *c) {
    bitstack s = {.bits = NULL, .depth = 0, .cap_words = 16};
    s.bits = s.small;
    bool ok = false;
    if (*c->p != '[' && *c->p != '{') return skip_scalar(c);
    for (;;) {
        /* At the start of a value. */
        char ch = *c->p;
        if (ch == '[' || ch == '{') {
            if (!push(&s, ch == '[')) {
                /* Nesting deeper than memory allows: report where it stopped. */
                pl__json_fail(c, PL__JSON_ERR_VALUE_INVALID, c->p);
                goto done;
            }
            c->p++;
            pl__json_ws(c);
            if (ch == '[') {
                if (*c->p == ']') {
                    c->p++;
                    s.depth--;
                    goto after_value;
                }
                continue;
            }
            if (*c->p == '}') {
                c->p++;
                s.depth--;
                goto after_value;
            }
            if (*c->p != '"') {
                pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_NAME, c->p);
                goto done;
            }
            goto member;
        }
        if (!skip_scalar(c)) goto done;
    after_value:
        if (s.depth == 0) {
            ok = true;
            goto done;
        }
        pl__json_ws(c);
        if (top_is_array(&s)) {
            if (*c->p == ',') {
                c->p++;
                pl__json_ws(c);
                continue;
            }
            if (*c->p == ']') {
                c->p++;
                s.depth--;
                goto after_value;
            }
            pl__json_fail(c, PL__JSON_ERR_ARRAY_MISS_COMMA_OR_SQUARE, c->p);
            goto done;
        }
        if (*c->p == '}') {
            c->p++;
            s.depth--;
            goto after_value;
        }
        if (*c->p != ',') {
            pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_COMMA_OR_CURLY, c->p);
            goto done;
        }
        c->p++;
        pl__json_ws(c);
        if (*c->p != '"') {
            pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_NAME, c->p);
            goto done;
        }
    member:
        if (!pl__json_parse_string(c, NULL)) goto done;
        pl__json_ws(c);
        if (*c->p != ':') {
            pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_COLON, c->p);
            goto done;
        }
        c->p++;
        pl__json_ws(c);
    }
done:
    if (s.bits != s.small) free(s.bits);
    return ok;
}
