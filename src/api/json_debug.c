/* Echoing request JSON in error texts the way TF Serving does
 * (JsonValueToDebugString in util/json_tensor.cc): rapidjson's PrettyWriter
 * with kFormatSingleLineArray over the parsed value, stopping at the first
 * event that starts once 256 bytes are out. Numbers come out as rapidjson
 * holds them ("-0" is the integer 0, 1e2 is 100.0), strings re-escaped, and a
 * NaN or infinity ends the text, because rapidjson's default Writer refuses
 * to write them. */
#include <math.h>
#include <string.h>

#include "api/json_internal.h"

#define LIMIT 256
/* Every level adds at least one byte, so the limit stops the walk long before
 * this depth. */
#define MAX_DEPTH 320

typedef struct level {
    bool in_array;
    unsigned count;
} level;

typedef struct printer {
    pl_strbuf *out;
    size_t start;  /* out->len when printing began */
    level stack[MAX_DEPTH];
    int depth;
} printer;

static bool in_limit(const printer *pr) { return pr->out->len - pr->start < LIMIT && pr->depth < MAX_DEPTH; }

static void indent(printer *pr) {
    for (int i = 0; i < pr->depth * 4; i++) pl_strbuf_putc(pr->out, ' ');
}

static void prefix(printer *pr) {
    if (!pr->depth) return;
    level *l = &pr->stack[pr->depth - 1];
    if (l->in_array) {
        if (l->count > 0) pl_strbuf_puts(pr->out, ", ");
    } else {
        if (l->count > 0) {
            pl_strbuf_puts(pr->out, l->count % 2 == 0 ? ",\n" : ": ");
        } else {
            pl_strbuf_putc(pr->out, '\n');
        }
        if (l->count % 2 == 0) indent(pr);
    }
    l->count++;
}

/* Writes a scalar; false when the walk must stop (a NaN or infinity). */
static bool scalar(printer *pr, pl__json_cur *c, pl_strbuf *scratch) {
    char buf[PL__JSON_NUM_MAX];
    switch (*c->p) {
    case '"':
        pl_strbuf_clear(scratch);
        if (!pl__json_parse_string(c, scratch)) return false;
        prefix(pr);
        pl__json_write_string(pr->out, scratch->data ? scratch->data : "", scratch->len);
        return true;
    case 't':
    case 'f':
    case 'n': {
        int v = -1;
        if (!pl__json_parse_literal(c, &v)) return false;
        prefix(pr);
        pl_strbuf_puts(pr->out, v == 1 ? "true" : v == 0 ? "false" : "null");
        return true;
    }
    default: {
        pl__json_num n;
        if (!pl__json_parse_number(c, &n)) return false;
        prefix(pr);
        if (n.is_int) {
            int len = n.neg && n.mag ? pl__json_format_i64(pl__json_num_i64(&n), buf) : pl__json_format_u64(n.mag, buf);
            pl_strbuf_append(pr->out, buf, (size_t)len);
            return true;
        }
        if (!isfinite(n.d)) return false;
        pl_strbuf_append(pr->out, buf, (size_t)pl__json_format_double_rapidjson(n.d, buf));
        return true;
    }
    }
}

void pl__json_debug_string(const char *value, const char *end, pl_strbuf *out) {
    printer pr = {.out = out, .start = out->len, .depth = 0};
    pl__json_cur c = {.p = value, .base = value, .end = end, .err = PL__JSON_ERR_NONE};
    pl_strbuf scratch;
    pl_strbuf_init(&scratch, 0);
    for (;;) {
        if (!in_limit(&pr)) break;
        char ch = *c.p;
        if (ch == '[' || ch == '{') {
            prefix(&pr);
            pr.stack[pr.depth++] = (level){ch == '[', 0};
            pl_strbuf_putc(out, ch);
            c.p++;
            pl__json_ws(&c);
            if (*c.p != ']' && *c.p != '}') {
                if (ch == '{') goto member;
                continue;
            }
        } else if (!scalar(&pr, &c, &scratch)) {
            break;
        }
        /* After a value: close containers, or move to the next element. */
        for (;;) {
            if (!pr.depth) goto done;
            pl__json_ws(&c);
            if (*c.p == ']' || *c.p == '}') {
                if (!in_limit(&pr)) goto done;
                c.p++;
                level l = pr.stack[--pr.depth];
                if (!l.in_array && l.count) {
                    pl_strbuf_putc(out, '\n');
                    indent(&pr);
                }
                pl_strbuf_putc(out, l.in_array ? ']' : '}');
                continue;
            }
            break;
        }
        /* The decoder can fail on a value before it reaches a syntax error
         * further on: the walk stops where the text stops being JSON. */
        if (*c.p != ',') break;
        c.p++; /* the comma */
        pl__json_ws(&c);
        if (pr.stack[pr.depth - 1].in_array) continue;
    member:
        if (!in_limit(&pr)) break;
        pl_strbuf_clear(&scratch);
        if (*c.p != '"' || !pl__json_parse_string(&c, &scratch)) break;
        prefix(&pr);
        pl__json_write_string(out, scratch.data ? scratch.data : "", scratch.len);
        pl__json_ws(&c);
        if (*c.p != ':') break;
        c.p++; /* the colon */
        pl__json_ws(&c);
    }
done:
    pl_strbuf_deinit(&scratch);
}
