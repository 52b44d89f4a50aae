/* String kernels: joining, regular-expression matching and replacing,
 * formatting numbers as strings, hashing into buckets. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/families.h"
#include "ops/fingerprint.h"

static pl_status expect_strings(const pl_tensor *t, const char *what) {
    if (t->dtype == PL_DT_STRING) return NULL;
    return pl_error(PL_INVALID_ARGUMENT, "%s must be a string tensor, got %s", what, pl_dtype_name(t->dtype));
}

/* ---- StringJoin: element-wise concatenation with scalar broadcasting ---- */

typedef struct join_state {
    char *separator;
    size_t separator_len;
} join_state;

static void join_release(void *p) {
    join_state *s = p;
    if (s) free(s->separator);
    free(s);
}

static pl_status join_prepare(pl_kernel_prep *p) {
    join_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = s;
    const char *sep = "";
    size_t len = 0;
    if (pl_attr_has(p->attrs, "separator")) PL_TRY(pl_attr_string(p->attrs, "separator", &sep, &len));
    s->separator = malloc(len + 1);
    if (!s->separator) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(s->separator, sep, len);
    s->separator_len = len;
    return NULL;
}

static pl_status join_compute(pl_kernel_ctx *c) {
    const join_state *s = c->state;
    const pl_tensor *shaped = NULL;
    for (int i = 0; i < c->num_inputs; i++) {
        PL_TRY(expect_strings(c->inputs[i], "StringJoin input"));
        if (c->inputs[i]->rank == 0) continue;
        if (shaped && !pl_tensor_same_shape(shaped, c->inputs[i]))
            return pl_error(PL_INVALID_ARGUMENT, "Input shapes do not match: inputs %d and another are of different shapes", i);
        shaped = c->inputs[i];
    }
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_STRING, shaped ? shaped->rank : 0, shaped ? shaped->dims : NULL, &out));
    for (int64_t e = 0; e < out->count; e++) {
        size_t len = 0;
        for (int i = 0; i < c->num_inputs; i++)
            len += ((const pl_str *)c->inputs[i]->data)[c->inputs[i]->rank ? e : 0].len + (i ? s->separator_len : 0);
        char *buf = malloc(len + 1), *at = buf;
        if (!buf) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        for (int i = 0; i < c->num_inputs; i++) {
            const pl_str *v = &((const pl_str *)c->inputs[i]->data)[c->inputs[i]->rank ? e : 0];
            if (i && s->separator_len) at = memcpy(at, s->separator, s->separator_len), at += s->separator_len;
            if (v->len) memcpy(at, v->data, v->len), at += v->len;
        }
        pl_status st = pl_tensor_set_string(out, e, buf, len);
        free(buf);
        PL_TRY(st);
    }
    return NULL;
}

/* ---- regular expressions (POSIX extended syntax, which covers the RE2
 * subset these ops see in practice: anchors, classes, alternation) ---- */

typedef struct regex_state {
    regex_t re;
    bool compiled;
    char *rewrite;
    bool replace_global;
} regex_state;

static void regex_release(void *p) {
    regex_state *s = p;
    if (!s) return;
    if (s->compiled) regfree(&s->re);
    free(s->rewrite);
    free(s);
}

static pl_status regex_compile(regex_t *re, const char *pattern, size_t len, bool full) {
    char *src = malloc(len + 8);
    if (!src) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    /* A full match is the pattern anchored at both ends as one group. */
    int n = full ? snprintf(src, len + 8, "^(%.*s)$", (int)len, pattern) : snprintf(src, len + 8, "%.*s", (int)len, pattern);
    (void)n;
    int rc = regcomp(re, src, REG_EXTENDED | (full ? REG_NOSUB : 0));
    pl_status st = NULL;
    if (rc) {
        char msg[256];
        regerror(rc, re, msg, sizeof msg);
        st = pl_error(PL_INVALID_ARGUMENT, "Invalid pattern: %.*s, error: %s", (int)len, pattern, msg);
    }
    free(src);
    return st;
}

static pl_status static_regex_prepare(pl_kernel_prep *p) {
    regex_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = s;
    const char *pattern;
    size_t len;
    PL_TRY(pl_attr_string(p->attrs, "pattern", &pattern, &len));
    bool full = !strcmp(p->op, "StaticRegexFullMatch");
    PL_TRY(regex_compile(&s->re, pattern, len, full));
    s->compiled = true;
    if (!full) {
        const char *rewrite;
        size_t rlen;
        PL_TRY(pl_attr_string(p->attrs, "rewrite", &rewrite, &rlen));
        s->rewrite = strndup(rewrite, rlen);
        if (!s->rewrite) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        s->replace_global = pl_attr_bool_or(p->attrs, "replace_global", true);
    }
    return NULL;
}

/* Matching needs NUL-terminated text: strings from tensors always are. */
static pl_status full_match(const regex_t *re, const pl_tensor *in, pl_kernel_ctx *c) {
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_BOOL, in->rank, in->dims, &out));
    const pl_str *s = in->data;
    for (int64_t i = 0; i < in->count; i++) {
        const char *text = s[i].data ? s[i].data : ""; /* an empty string may have no storage */
        bool embedded_nul = strlen(text) != s[i].len;  /* never matches: regexec would see a prefix */
        ((uint8_t *)out->data)[i] = !embedded_nul && regexec(re, text, 0, NULL, 0) == 0;
    }
    return NULL;
}

static pl_status static_full_match_compute(pl_kernel_ctx *c) {
    PL_TRY(expect_strings(c->inputs[0], "input"));
    return full_match(&((const regex_state *)c->state)->re, c->inputs[0], c);
}

static pl_status full_match_compute(pl_kernel_ctx *c) {
    PL_TRY(expect_strings(c->inputs[0], "input"));
    PL_TRY(expect_strings(c->inputs[1], "pattern"));
    if (c->inputs[1]->count != 1) return pl_error(PL_INVALID_ARGUMENT, "Pattern must be scalar");
    const pl_str *pattern = c->inputs[1]->data;
    regex_t re;
    PL_TRY(regex_compile(&re, pattern->data ? pattern->data : "", pattern->len, true));
    pl_status st = full_match(&re, c->inputs[0], c);
    regfree(&re);
    return st;
}

/* Appends the rewrite with \0..\9 replaced by the groups of a match. */
static size_t rewrite_into(char *out, const char *rewrite, const char *text, const regmatch_t *m) {
    size_t n = 0;
    for (const char *r = rewrite; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '9') {
            const regmatch_t *g = &m[r[1] - '0'];
            if (g->rm_so >= 0) {
                if (out) memcpy(out + n, text + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
                n += (size_t)(g->rm_eo - g->rm_so);
            }
            r++;
        } else if (r[0] == '\\' && r[1] == '\\') {
            if (out) out[n] = '\\';
            n++;
            r++;
        } else {
            if (out) out[n] = *r;
            n++;
        }
    }
    return n;
}

static pl_status replace_one(const regex_state *s, const pl_str *in, pl_tensor *out, int64_t i) {
    const char *text = in->data ? in->data : "";
    size_t cap = in->len + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    size_t at = 0;
    regmatch_t m[10];
    while (at <= in->len && regexec(&s->re, text + at, 10, m, at ? REG_NOTBOL : 0) == 0) {
        size_t need = len + (size_t)m[0].rm_so + rewrite_into(NULL, s->rewrite, text + at, m) + (in->len - at) + 1;
        if (need > cap) {
            char *grown = realloc(buf, cap = need * 2);
            if (!grown) return free(buf), pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            buf = grown;
        }
        memcpy(buf + len, text + at, (size_t)m[0].rm_so);
        len += (size_t)m[0].rm_so;
        len += rewrite_into(buf + len, s->rewrite, text + at, m);
        size_t step = (size_t)m[0].rm_eo;
        if (m[0].rm_eo == m[0].rm_so) { /* an empty match advances by one character */
            if (at + step < in->len) buf[len++] = text[at + step];
            step++;
        }
        at += step;
        if (!s->replace_global) break;
    }
    if (at < in->len) {
        if (len + in->len - at + 1 > cap) {
            char *grown = realloc(buf, cap = len + in->len - at + 1);
            if (!grown) return free(buf), pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            buf = grown;
        }
        memcpy(buf + len, text + at, in->len - at);
        len += in->len - at;
    }
    pl_status st = pl_tensor_set_string(out, i, buf, len);
    free(buf);
    return st;
}

static pl_status static_replace_compute(pl_kernel_ctx *c) {
    const pl_tensor *in = c->inputs[0];
    PL_TRY(expect_strings(in, "input"));
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_STRING, in->rank, in->dims, &out));
    for (int64_t i = 0; i < in->count; i++) PL_TRY(replace_one(c->state, &((const pl_str *)in->data)[i], out, i));
    return NULL;
}

/* ---- AsString ---- */

typedef struct as_string_state {
    char format[32];
} as_string_state;

static pl_status as_string_prepare(pl_kernel_prep *p) {
    as_string_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = s;
    pl_dtype t = pl_attr_type_or(p->attrs, "T", PL_DT_FLOAT);
    int64_t precision = pl_attr_int_or(p->attrs, "precision", -1), width = pl_attr_int_or(p->attrs, "width", -1);
    bool scientific = pl_attr_bool_or(p->attrs, "scientific", false), shortest = pl_attr_bool_or(p->attrs, "shortest", false);
    const char *fill = "";
    size_t fill_len = 0;
    if (pl_attr_has(p->attrs, "fill")) PL_TRY(pl_attr_string(p->attrs, "fill", &fill, &fill_len));
    if (fill_len > 1) return pl_error(PL_INVALID_ARGUMENT, "Fill string must be one or fewer characters");
    if (scientific && shortest) return pl_error(PL_INVALID_ARGUMENT, "Cannot select both scientific and shortest notation");
    bool is_float = t == PL_DT_FLOAT || t == PL_DT_DOUBLE || t == PL_DT_HALF || t == PL_DT_BFLOAT16;
    if (precision >= 0 && !is_float)
        return pl_error(PL_INVALID_ARGUMENT, "precision not supported for datatype %s", pl_dtype_name(t));
    if (fill_len && !strchr(" +-0#", fill[0]))
        return pl_error(PL_INVALID_ARGUMENT, "Fill argument not supported: \"%.*s\"", (int)fill_len, fill);
    char *f = s->format;
    size_t n = (size_t)snprintf(f, sizeof s->format, "%%%.*s", (int)fill_len, fill);
    if (width > -1 && width < 1000) n += (size_t)snprintf(f + n, sizeof s->format - n, "%d", (int)width);
    if (precision > -1 && precision < 1000) n += (size_t)snprintf(f + n, sizeof s->format - n, ".%d", (int)precision);
    if (is_float) snprintf(f + n, sizeof s->format - n, shortest ? "g" : scientific ? "e" : "f");
    else if (t == PL_DT_BOOL || t == PL_DT_STRING) snprintf(f + n, sizeof s->format - n, "s");
    else if (t == PL_DT_UINT64) snprintf(f + n, sizeof s->format - n, "%s", PRIu64);
    else snprintf(f + n, sizeof s->format - n, "%s", PRId64);
    return NULL;
}

static pl_status as_string_compute(pl_kernel_ctx *c) {
    const as_string_state *s = c->state;
    const pl_tensor *in = c->inputs[0];
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_STRING, in->rank, in->dims, &out));
    char buf[512];
    for (int64_t i = 0; i < in->count; i++) {
        int n;
        switch (in->dtype) {
        case PL_DT_FLOAT: case PL_DT_DOUBLE: case PL_DT_HALF: case PL_DT_BFLOAT16:
            n = snprintf(buf, sizeof buf, s->format, pl_tensor_get_f64(in, i));
            break;
        case PL_DT_BOOL:
            n = snprintf(buf, sizeof buf, s->format, ((const uint8_t *)in->data)[i] ? "true" : "false");
            break;
        case PL_DT_STRING: {
            const pl_str *v = &((const pl_str *)in->data)[i];
            PL_TRY(pl_tensor_set_string(out, i, v->data, v->len));
            continue;
        }
        case PL_DT_UINT64:
            n = snprintf(buf, sizeof buf, s->format, ((const uint64_t *)in->data)[i]);
            break;
        case PL_DT_COMPLEX64: case PL_DT_COMPLEX128: case PL_DT_RESOURCE: case PL_DT_VARIANT:
            return pl_error(PL_INVALID_ARGUMENT, "Type not supported: %s", pl_dtype_name(in->dtype));
        default:
            n = snprintf(buf, sizeof buf, s->format, pl_tensor_get_i64(in, i));
            break;
        }
        PL_TRY(pl_tensor_set_string(out, i, buf, n < 0 ? 0 : (size_t)n >= sizeof buf ? sizeof buf - 1 : (size_t)n));
    }
    return NULL;
}

/* ---- hashing into buckets and lengths ---- */

static pl_status hash_prepare(pl_kernel_prep *p) {
    int64_t buckets;
    PL_TRY(pl_attr_int(p->attrs, "num_buckets", &buckets));
    if (buckets < 1) return pl_error(PL_INVALID_ARGUMENT, "Value for attr 'num_buckets' of %lld must be at least minimum 1", (long long)buckets);
    int64_t *s = malloc(sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    *s = buckets;
    p->state = s;
    return NULL;
}

static pl_status hash_fast_compute(pl_kernel_ctx *c) {
    const pl_tensor *in = c->inputs[0];
    PL_TRY(expect_strings(in, "input"));
    uint64_t buckets = (uint64_t)*(const int64_t *)c->state;
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_INT64, in->rank, in->dims, &out));
    const pl_str *s = in->data;
    for (int64_t i = 0; i < in->count; i++)
        ((int64_t *)out->data)[i] = (int64_t)(pl_fingerprint64(s[i].data ? s[i].data : "", s[i].len) % buckets);
    return NULL;
}

static pl_status length_compute(pl_kernel_ctx *c) {
    const pl_tensor *in = c->inputs[0];
    PL_TRY(expect_strings(in, "input"));
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_INT32, in->rank, in->dims, &out));
    const pl_str *s = in->data;
    for (int64_t i = 0; i < in->count; i++) ((int32_t *)out->data)[i] = (int32_t)s[i].len;
    return NULL;
}

const pl_kernel_def pl_kernels_string[] = {
    {.op = "StringJoin", .prepare = join_prepare, .compute = join_compute, .release = join_release},
    {.op = "StaticRegexFullMatch", .prepare = static_regex_prepare, .compute = static_full_match_compute, .release = regex_release},
    {.op = "RegexFullMatch", .compute = full_match_compute},
    {.op = "StaticRegexReplace", .prepare = static_regex_prepare, .compute = static_replace_compute, .release = regex_release},
    {.op = "AsString", .prepare = as_string_prepare, .compute = as_string_compute, .release = free},
    {.op = "StringToHashBucketFast", .prepare = hash_prepare, .compute = hash_fast_compute, .release = free},
    {.op = "StringLength", .compute = length_compute},
    {0},
};
