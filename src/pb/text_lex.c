/* Text format tokenizer, as protobuf's io::Tokenizer runs for TextFormat:
 * '#' comments, identifiers, integers (decimal, 0x hex, 0 octal), floats
 * (with an optional f suffix), quoted strings with C escapes, one-character
 * symbols. Positions are 0-based; a tab advances the column to the next
 * multiple of 8. */
#include <stdio.h>
#include <string.h>

#include "pb/internal.h"

enum { TAB_WIDTH = 8 };

static int peek(const pl__lexer *lx) { return lx->p < lx->end ? (unsigned char)*lx->p : -1; }

static void advance(pl__lexer *lx) {
    if (lx->p >= lx->end) return;
    char c = *lx->p++;
    if (c == '\n') {
        lx->line++;
        lx->col = 0;
    } else if (c == '\t') {
        lx->col += TAB_WIDTH - lx->col % TAB_WIDTH;
    } else {
        lx->col++;
    }
}

static void fail(pl__lexer *lx, const char *msg) {
    if (lx->failed) return;
    lx->failed = true;
    lx->err_line = lx->line;
    lx->err_col = lx->col;
    snprintf(lx->err, sizeof lx->err, "%s", msg);
}

static bool is_letter(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_octal(int c) { return c >= '0' && c <= '7'; }

static bool try_take(pl__lexer *lx, char c) {
    if (peek(lx) != (unsigned char)c) return false;
    advance(lx);
    return true;
}

static bool take_hex(pl__lexer *lx) {
    if (!is_hex(peek(lx))) return false;
    advance(lx);
    return true;
}

static void skip_digits(pl__lexer *lx) {
    while (is_digit(peek(lx))) advance(lx);
}

/* Returns INT or FLOAT; the first character is already consumed. */
static pl__tok_type lex_number(pl__lexer *lx, bool started_with_zero, bool started_with_dot) {
    bool is_float = false;
    if (started_with_zero && (try_take(lx, 'x') || try_take(lx, 'X'))) {
        if (!take_hex(lx)) fail(lx, "\"0x\" must be followed by hex digits.");
        while (is_hex(peek(lx))) advance(lx);
    } else if (started_with_zero && is_digit(peek(lx))) {
        while (is_octal(peek(lx))) advance(lx);
        if (is_digit(peek(lx))) fail(lx, "Numbers starting with leading zero must be in octal.");
        skip_digits(lx);
    } else {
        if (started_with_dot) {
            is_float = true;
            skip_digits(lx);
        } else {
            skip_digits(lx);
            if (try_take(lx, '.')) {
                is_float = true;
                skip_digits(lx);
            }
        }
        if (try_take(lx, 'e') || try_take(lx, 'E')) {
            is_float = true;
            if (!try_take(lx, '-')) try_take(lx, '+');
            if (!is_digit(peek(lx))) fail(lx, "\"e\" must be followed by exponent.");
            skip_digits(lx);
        }
        if (try_take(lx, 'f') || try_take(lx, 'F')) is_float = true;
    }
    if (is_letter(peek(lx))) fail(lx, "Need space between number and identifier.");
    else if (peek(lx) == '.')
        fail(lx, is_float ? "Already saw decimal point or exponent; can't have another one."
                          : "Hex and octal numbers must be integers.");
    return is_float ? PL__TOK_FLOAT : PL__TOK_INT;
}

/* The opening quote is already consumed. */
static void lex_string(pl__lexer *lx, char quote) {
    for (;;) {
        int c = peek(lx);
        if (c < 0) return fail(lx, "Unexpected end of string.");
        if (c == '\n') return fail(lx, "String literals cannot cross line boundaries.");
        advance(lx);
        if (c == quote) return;
        if (c != '\\') continue;
        c = peek(lx);
        if (c >= 0 && strchr("abfnrtv\\?'\"", c) && c) {
            advance(lx);
        } else if (is_octal(c)) {
            advance(lx); /* further digits are ordinary characters here */
        } else if (try_take(lx, 'x')) {
            if (!take_hex(lx)) return fail(lx, "Expected hex digits for escape sequence.");
        } else if (try_take(lx, 'u')) {
            for (int i = 0; i < 4; i++)
                if (!take_hex(lx)) return fail(lx, "Expected four hex digits for \\u escape sequence.");
        } else if (try_take(lx, 'U')) {
            /* Eight digits, at most 0010ffff. */
            if (!try_take(lx, '0') || !try_take(lx, '0') || !(try_take(lx, '0') || try_take(lx, '1')) ||
                !take_hex(lx) || !take_hex(lx) || !take_hex(lx) || !take_hex(lx) || !take_hex(lx))
                return fail(lx, "Expected eight hex digits up to 10ffff for \\U escape sequence");
        } else {
            return fail(lx, "Invalid escape sequence in string literal.");
        }
    }
}

static void skip_space_and_comments(pl__lexer *lx) {
    for (;;) {
        int c = peek(lx);
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
            advance(lx);
        } else if (c == '#') {
            while (peek(lx) >= 0 && peek(lx) != '\n') advance(lx);
        } else {
            return;
        }
    }
}

void pl__lex_next(pl__lexer *lx) {
    pl__token *t = &lx->cur;
    if (lx->failed) {
        t->type = PL__TOK_END;
        return;
    }
    skip_space_and_comments(lx);
    t->text = lx->p;
    t->line = lx->line;
    t->col = lx->col;
    int c = peek(lx);
    if (c < 0) {
        t->type = PL__TOK_END;
    } else if (is_letter(c)) {
        while (is_letter(peek(lx)) || is_digit(peek(lx))) advance(lx);
        t->type = PL__TOK_IDENT;
    } else if (is_digit(c)) {
        advance(lx);
        t->type = lex_number(lx, c == '0', false);
    } else if (c == '.') {
        advance(lx);
        if (is_digit(peek(lx))) {
            advance(lx);
            t->type = lex_number(lx, false, true);
        } else {
            t->type = PL__TOK_SYMBOL;
        }
    } else if (c == '"' || c == '\'') {
        advance(lx);
        lex_string(lx, (char)c);
        t->type = PL__TOK_STRING;
    } else if (c < ' ' || c >= 0x7f) {
        char msg[64];
        if (c < ' ') snprintf(msg, sizeof msg, "Invalid control characters encountered in text.");
        else snprintf(msg, sizeof msg, "Interpreting non ascii codepoint %d.", c);
        fail(lx, msg);
        t->type = PL__TOK_END;
    } else {
        advance(lx);
        t->type = PL__TOK_SYMBOL;
    }
    t->len = (size_t)(lx->p - t->text);
    if (lx->failed) t->type = PL__TOK_END;
}

void pl__lex_init(pl__lexer *lx, const char *text, size_t len) {
    memset(lx, 0, sizeof *lx);
    lx->p = text;
    lx->end = text + len;
    pl__lex_next(lx);
}

static int hex_value(int c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

static size_t put_utf8(uint8_t *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* Reads up to `max` hex digits at s[*i]. */
static uint32_t read_hex(const char *s, size_t end, size_t *i, int max) {
    uint32_t v = 0;
    for (int k = 0; k < max && *i < end && is_hex((unsigned char)s[*i]); k++) v = v * 16 + (uint32_t)hex_value(s[(*i)++]);
    return v;
}

/* Decodes like protobuf's Tokenizer::ParseStringAppend; the tokenizer has
 * already checked the escapes. A \u high surrogate followed by a \u low
 * surrogate makes one code point; a lone surrogate is encoded as is (and
 * then fails UTF-8 validation in a string field). */
size_t pl__lex_unescape(const pl__token *t, uint8_t *out) {
    const char *s = t->text;
    size_t end = t->len - 1, n = 0; /* skip the closing quote */
    for (size_t i = 1; i < end;) {
        char c = s[i++];
        if (c != '\\') {
            out[n++] = (uint8_t)c;
            continue;
        }
        c = s[i++];
        switch (c) {
        case 'a': out[n++] = '\a'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'v': out[n++] = '\v'; break;
        case 'x': out[n++] = (uint8_t)read_hex(s, end, &i, 2); break;
        case 'u': case 'U': {
            uint32_t cp = read_hex(s, end, &i, c == 'u' ? 4 : 8);
            if (cp >= 0xd800 && cp <= 0xdbff && i + 5 < end && s[i] == '\\' && s[i + 1] == 'u') {
                size_t j = i + 2;
                uint32_t lo = read_hex(s, end, &j, 4);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i = j;
                }
            }
            n += put_utf8(out + n, cp);
            break;
        }
        default:
            if (is_octal((unsigned char)c)) {
                uint32_t v = (uint32_t)(c - '0');
                for (int k = 0; k < 2 && i < end && is_octal((unsigned char)s[i]); k++) v = v * 8 + (uint32_t)(s[i++] - '0');
                out[n++] = (uint8_t)v;
            } else {
                out[n++] = (uint8_t)c; /* \\ \? \' \" */
            }
        }
    }
    return n;
}
