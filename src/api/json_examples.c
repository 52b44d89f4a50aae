/* Classify and regress request bodies: {"signature_name"?, "context"?: {...},
 * "examples": [{...}, ...]} turned into serialized tensorflow.Example
 * messages (MakeExampleFromJsonObject in TF Serving's util/json_tensor.cc).
 * A feature's value is one item or a list of items; true/false and integers
 * make an int64_list, other numbers a float_list, strings and {"b64": ...} a
 * bytes_list, and a feature keeps the kind of its first item. A repeated
 * feature name keeps its last value, as assigning into the proto map does.
 * The protobuf wire format is written directly. */
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "api/json_internal.h"
#include "base/base64.h"

enum kind { KIND_NONE = 0, KIND_BYTES = 1, KIND_FLOAT = 2, KIND_INT64 = 3 };

typedef struct feature {
    size_t name_off, name_len;   /* in dec.names */
    size_t vals_off, vals_len;   /* list payload in dec.vals */
    enum kind kind;
    size_t count;
} feature;

typedef struct dec {
    pl__json_cur c;
    const char *doc;
    pl_strbuf scratch, key, names, vals, out;
    feature *feats;
    size_t n_feats, cap_feats;
} dec;

static void put_varint(pl_strbuf *b, uint64_t v) {
    char buf[10];
    size_t n = 0;
    do {
        buf[n++] = (char)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pl_strbuf_append(b, buf, n);
}

static size_t varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static const char *kind_name(enum kind k) {
    switch (k) {
    case KIND_BYTES: return "bytes";
    case KIND_FLOAT: return "float";
    case KIND_INT64: return "int64";
    default: return "UNKNOWN";
    }
}

static const char *json_type(char first) {
    switch (first) {
    case '"': return "String";
    case 't': return "True";
    case 'f': return "False";
    case 'n': return "Null";
    case '{': return "Object";
    case '[': return "Array";
    default: return "Number";
    }
}

/* Sets the feature's kind or reports a clash (IncompatibleFeatureKindError). */
static pl_status want_kind(feature *f, enum kind k, const char *name) {
    if (f->kind == KIND_NONE || f->kind == k) {
        f->kind = k;
        return NULL;
    }
    return pl_error(PL_INVALID_ARGUMENT, "Unexpected element type in feature: %s expecting type: %s", name,
                    kind_name(f->kind));
}

/* One item of a feature (AddValueToFeature). */
static bool feature_item(dec *d, feature *f, const char *name, pl_status *err) {
    pl__json_cur *c = &d->c;
    char first = *c->p;
    if (first == 'n' || first == '[' || (first == '{' && !pl__json_is_b64_object(c))) {
        if (!pl__json_skip_value(c)) return false;
        *err = pl_error(PL_INVALID_ARGUMENT, "Feature: %s has element with unexpected JSON type: %s", name,
                        json_type(first));
        return true;
    }
    if (first == 't' || first == 'f') {
        int v;
        if (!pl__json_parse_literal(c, &v)) return false;
        if (!(*err = want_kind(f, KIND_INT64, name))) {
            put_varint(&d->vals, (uint64_t)v);
            f->count++;
        }
        return true;
    }
    if (first == '"' || first == '{') {
        pl_strbuf_clear(&d->scratch);
        if (first == '"') {
            if (!pl__json_parse_string(c, &d->scratch)) return false;
        } else {
            /* {"b64": "..."}, checked above. */
            c->p++;
            pl__json_ws(c);
            pl__json_parse_string(c, NULL);
            pl__json_ws(c);
            c->p++;
            pl__json_ws(c);
            if (!pl__json_parse_string(c, &d->scratch)) return false;
            pl__json_ws(c);
            c->p++;
        }
        if ((*err = want_kind(f, KIND_BYTES, name))) return true;
        const char *text = d->scratch.data ? d->scratch.data : "";
        size_t n = d->scratch.len;
        if (first == '{') {
            char *tmp = malloc(pl_base64_decoded_max_nbytes(n) + 1);
            size_t m = 0;
            if (!tmp) {
                *err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
                return true;
            }
            if (!pl_base64_decode(text, n, tmp, &m)) {
                free(tmp);
                *err = pl_error(PL_INVALID_ARGUMENT, "Unable to base64 decode");
                return true;
            }
            pl_strbuf_putc(&d->vals, 0x0a);
            put_varint(&d->vals, m);
            pl_strbuf_append(&d->vals, tmp, m);
            free(tmp);
        } else {
            pl_strbuf_putc(&d->vals, 0x0a);
            put_varint(&d->vals, n);
            pl_strbuf_append(&d->vals, text, n);
        }
        f->count++;
        return true;
    }
    pl__json_num num;
    if (!pl__json_parse_number(c, &num)) return false;
    if (!num.is_int) {
        if ((*err = want_kind(f, KIND_FLOAT, name))) return true;
        float v = (float)num.d;
        pl_strbuf_append(&d->vals, &v, 4);
    } else {
        if ((*err = want_kind(f, KIND_INT64, name))) return true;
        if (!pl__json_num_is_int64(&num)) {
            *err = pl_error(PL_INVALID_ARGUMENT, "Feature: %s has uint64_t element. Only int64_t is supported.", name);
            return true;
        }
        put_varint(&d->vals, (uint64_t)pl__json_num_i64(&num));
    }
    f->count++;
    return true;
}

/* Bytes of the BytesList / FloatList / Int64List message: repeated bytes
 * are their own fields; numbers are one packed field. */
static size_t list_nbytes(const feature *f) {
    if (f->kind == KIND_BYTES || f->kind == KIND_NONE) return f->vals_len;
    return 1 + varint_len(f->vals_len) + f->vals_len;
}

/* Writes the collected features as one Example into d->out. */
static void write_example(dec *d) {
    pl_strbuf *o = &d->out;
    if (!d->n_feats) return;
    /* Sizes first: protobuf prefixes every message with its length. */
    size_t features_len = 0;
    for (size_t i = 0; i < d->n_feats; i++) {
        feature *f = &d->feats[i];
        if (f->kind == KIND_NONE && f->count == (size_t)-1) continue;
        size_t list_len = list_nbytes(f);
        size_t feat_len = f->kind == KIND_NONE ? 0 : 1 + varint_len(list_len) + list_len;
        size_t entry_len = 1 + varint_len(f->name_len) + f->name_len + 1 + varint_len(feat_len) + feat_len;
        features_len += 1 + varint_len(entry_len) + entry_len;
    }
    pl_strbuf_putc(o, 0x0a);
    put_varint(o, features_len);
    for (size_t i = 0; i < d->n_feats; i++) {
        feature *f = &d->feats[i];
        if (f->kind == KIND_NONE && f->count == (size_t)-1) continue;
        size_t list_len = list_nbytes(f);
        size_t feat_len = f->kind == KIND_NONE ? 0 : 1 + varint_len(list_len) + list_len;
        size_t entry_len = 1 + varint_len(f->name_len) + f->name_len + 1 + varint_len(feat_len) + feat_len;
        pl_strbuf_putc(o, 0x0a);
        put_varint(o, entry_len);
        pl_strbuf_putc(o, 0x0a);
        put_varint(o, f->name_len);
        pl_strbuf_append(o, d->names.data + f->name_off, f->name_len);
        pl_strbuf_putc(o, 0x12);
        put_varint(o, feat_len);
        if (f->kind == KIND_NONE) continue;
        pl_strbuf_putc(o, (char)(f->kind << 3 | 2));
        put_varint(o, list_len);
        if (f->kind != KIND_BYTES) {
            /* packed repeated float / int64 */
            pl_strbuf_putc(o, 0x0a);
            put_varint(o, f->vals_len);
        }
        pl_strbuf_append(o, d->vals.data + f->vals_off, f->vals_len);
    }
}

/* A feature's value: one item or a list of items (nested lists are errors
 * of the items). */
static bool feature_value(dec *d, feature *f, size_t name_off, pl_status *err) {
    pl__json_cur *c = &d->c;
    if (*c->p != '[') return feature_item(d, f, d->names.data + name_off, err);
    bool started = false;
    int more;
    while ((more = pl__json_next_element(c, &started)) > 0) {
        if (!(*err ? pl__json_skip_value(c) : feature_item(d, f, d->names.data + name_off, err))) return false;
    }
    return more == 0;
}

static feature *add_feature(dec *d, size_t name_off, size_t name_len) {
    if (d->n_feats == d->cap_feats) {
        size_t cap = d->cap_feats ? d->cap_feats * 2 : 16;
        feature *nf = realloc(d->feats, cap * sizeof *nf);
        if (!nf) return NULL;
        d->feats = nf;
        d->cap_feats = cap;
    }
    feature *f = &d->feats[d->n_feats++];
    *f = (feature){name_off, name_len, d->vals.len, 0, KIND_NONE, 0};
    return f;
}

/* The last value of a repeated name wins: earlier ones are retired. */
static void retire_earlier(dec *d, const feature *f) {
    for (feature *g = d->feats; g < f; g++) {
        if (g->name_len == f->name_len && g->count != (size_t)-1 &&
            memcmp(d->names.data + g->name_off, d->names.data + f->name_off, f->name_len) == 0) {
            g->kind = KIND_NONE;
            g->count = (size_t)-1;
        }
    }
}

/* One example object into d->out; *err on a semantic error. */
static bool example(dec *d, pl_status *err) {
    pl__json_cur *c = &d->c;
    char first = *c->p;
    if (first != '{') {
        if (!pl__json_skip_value(c)) return false;
        *err = pl_error(PL_INVALID_ARGUMENT, "Example must be JSON object but got JSON %s", json_type(first));
        return true;
    }
    d->n_feats = 0;
    pl_strbuf_clear(&d->names);
    pl_strbuf_clear(&d->vals);
    bool started = false;
    int more;
    while ((more = pl__json_next_member(c, &started, &d->key)) > 0) {
        if (*err) {
            if (!pl__json_skip_value(c)) return false;
            continue;
        }
        /* Names are kept NUL-terminated for error texts. */
        size_t name_off = d->names.len;
        pl_strbuf_append(&d->names, d->key.data ? d->key.data : "", d->key.len);
        pl_strbuf_putc(&d->names, 0);
        feature *f = add_feature(d, name_off, d->key.len);
        if (!f || d->names.failed) {
            *err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            if (!pl__json_skip_value(c)) return false;
            continue;
        }
        if (!feature_value(d, f, name_off, err)) return false;
        f->vals_len = d->vals.len - f->vals_off;
        retire_earlier(d, f);
    }
    if (more < 0) return false;
    if (!*err) write_example(d);
    return true;
}

static pl_status doc_error(dec *d, const char *text) {
    return pl__json_value_error(PL_INVALID_ARGUMENT, &d->c, d->doc, " %s", text);
}

static bool key_is(const pl_strbuf *key, const char *word) {
    size_t n = strlen(word);
    return key->len == n && memcmp(key->data, word, n) == 0;
}

/* What the root object held. */
typedef struct top {
    pl_strbuf sig, context;   /* context: its serialized Example */
    bool sig_seen, sig_is_string, has_context, has_examples;
    pl_status context_err, examples_err;
    size_t *ends;             /* end offset in d->out of each example */
    size_t n_ends, cap_ends;
} top;

/* "examples": a non-empty list of example objects. */
static bool read_examples(dec *d, top *t) {
    pl__json_cur *c = &d->c;
    if (*c->p != '[') {
        if (!pl__json_skip_value(c)) return false;
        t->examples_err = doc_error(d, "Expecting 'examples' value to be an list/array");
        return true;
    }
    bool started = false;
    int more;
    size_t items = 0;
    while ((more = pl__json_next_element(c, &started)) > 0) {
        items++;
        if (t->examples_err) {
            if (!pl__json_skip_value(c)) return false;
            continue;
        }
        if (!example(d, &t->examples_err)) return false;
        if (t->n_ends == t->cap_ends) {
            size_t cap = t->cap_ends ? t->cap_ends * 2 : 16;
            size_t *ne = realloc(t->ends, cap * sizeof *ne);
            if (!ne) {
                t->examples_err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
                continue;
            }
            t->ends = ne;
            t->cap_ends = cap;
        }
        t->ends[t->n_ends++] = d->out.len;
    }
    if (more < 0) return false;
    if (!items) t->examples_err = doc_error(d, "'examples' value is an empty array");
    return true;
}

/* Reads the root object to its end; false on a syntax error. */
static bool read_top(dec *d, top *t) {
    pl__json_cur *c = &d->c;
    bool started = false;
    int more;
    while ((more = pl__json_next_member(c, &started, &d->key)) > 0) {
        bool ok;
        if (key_is(&d->key, "signature_name") && !t->sig_seen) {
            t->sig_seen = true;
            t->sig_is_string = *c->p == '"';
            ok = t->sig_is_string ? pl__json_parse_string(c, &t->sig) : pl__json_skip_value(c);
        } else if (key_is(&d->key, "context") && !t->has_context) {
            /* Written to d->out, then moved aside, so that the examples
             * follow each other in d->out whatever the key order. */
            t->has_context = true;
            size_t mark = d->out.len;
            ok = example(d, &t->context_err);
            pl_strbuf_append(&t->context, d->out.data ? d->out.data + mark : "", d->out.len - mark);
            d->out.len = mark;
        } else if (key_is(&d->key, "examples") && !t->has_examples) {
            t->has_examples = true;
            ok = read_examples(d, t);
        } else {
            ok = pl__json_skip_value(c);
        }
        if (!ok) return false;
    }
    return more == 0;
}

/* TF Serving's order after parsing: signature, context, then examples. */
static pl_status check_and_finish(dec *d, top *t, pl_json_examples *out) {
    if (t->sig_seen && !t->sig_is_string)
        return doc_error(d, "not formatted correctly. 'signature_name' key must be a string value.");
    if (t->context_err) {
        pl_status st = t->context_err;
        t->context_err = NULL;
        return st;
    }
    if (!t->has_examples) return doc_error(d, "When method is classify, key 'examples' is expected and was not found");
    if (t->examples_err) {
        pl_status st = t->examples_err;
        t->examples_err = NULL;
        return st;
    }
    if (t->context.failed || d->out.failed) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_json_examples r = {0};
    size_t context_len = t->context.len;
    r.storage_ = malloc(context_len + d->out.len + 1);
    r.examples = calloc(t->n_ends ? t->n_ends : 1, sizeof *r.examples);
    r.signature_name = strdup(t->sig.data ? t->sig.data : "");
    if (!r.storage_ || !r.examples || !r.signature_name) {
        pl_json_examples_deinit(&r);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (context_len) memcpy(r.storage_, t->context.data, context_len);
    if (d->out.len) memcpy(r.storage_ + context_len, d->out.data, d->out.len);
    r.has_context = t->has_context;
    r.context = (pl_str){context_len, r.storage_};
    r.num_examples = (int)t->n_ends;
    size_t prev = 0;
    for (size_t i = 0; i < t->n_ends; i++) {
        r.examples[i] = (pl_str){t->ends[i] - prev, r.storage_ + context_len + prev};
        prev = t->ends[i];
    }
    *out = r;
    return NULL;
}

void pl_json_examples_deinit(pl_json_examples *req) {
    free(req->signature_name);
    free(req->examples);
    free(req->storage_);
    memset(req, 0, sizeof *req);
}

pl_status pl_json_decode_examples(const char *body, size_t len, pl_json_examples *out) {
    if (len == 0) return pl_error(PL_INVALID_ARGUMENT, "JSON Parse error: The document is empty");
    dec d = {.c = {.p = body, .base = body, .end = body + len, .err = PL__JSON_ERR_NONE}};
    top t = {0};
    pl_strbuf *bufs[] = {&d.scratch, &d.key, &d.names, &d.vals, &d.out, &t.sig, &t.context};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) pl_strbuf_init(bufs[i], 0);
    pl_status st;
    pl__json_ws(&d.c);
    d.doc = d.c.p;
    char first = *d.c.p;
    if (first == 0 || first == ']' || first == '}' || first == ',' || first == ':') {
        pl__json_fail(&d.c, PL__JSON_ERR_DOCUMENT_EMPTY, d.c.p);
        st = pl__json_syntax_status(&d.c);
    } else if (first != '{') {
        st = pl__json_skip_value(&d.c) ? doc_error(&d, "Is not object") : pl__json_syntax_status(&d.c);
    } else if (!read_top(&d, &t)) {
        st = pl__json_syntax_status(&d.c);
    } else {
        st = check_and_finish(&d, &t, out);
    }
    pl_status_free(t.context_err);
    pl_status_free(t.examples_err);
    free(t.ends);
    free(d.feats);
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) pl_strbuf_deinit(bufs[i]);
    return st;
}
