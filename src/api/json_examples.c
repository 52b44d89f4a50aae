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
    c->p++;
    pl__json_ws(c);
    if (*c->p == '}') {
        c->p++;
        return true;
    }
    for (;;) {
        if (*c->p != '"') return pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_NAME, c->p);
        size_t name_off = d->names.len;
        if (!pl__json_parse_string(c, &d->names)) return false;
        size_t name_len = d->names.len - name_off;
        pl_strbuf_putc(&d->names, 0); /* for error texts */
        pl__json_ws(c);
        if (*c->p != ':') return pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_COLON, c->p);
        c->p++;
        pl__json_ws(c);
        if (*err) {
            if (!pl__json_skip_value(c)) return false;
        } else {
            if (d->n_feats == d->cap_feats) {
                size_t cap = d->cap_feats ? d->cap_feats * 2 : 16;
                feature *nf = realloc(d->feats, cap * sizeof *nf);
                if (!nf) {
                    *err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
                    if (!pl__json_skip_value(c)) return false;
                    goto next;
                }
                d->feats = nf;
                d->cap_feats = cap;
            }
            feature *f = &d->feats[d->n_feats++];
            *f = (feature){name_off, name_len, d->vals.len, 0, KIND_NONE, 0};
            const char *name = d->names.data + name_off;
            if (*c->p == '[') {
                c->p++;
                pl__json_ws(c);
                if (*c->p == ']') {
                    c->p++;
                } else {
                    for (;;) {
                        if (*err) {
                            if (!pl__json_skip_value(c)) return false;
                        } else if (!feature_item(d, f, d->names.data + name_off, err)) {
                            return false;
                        }
                        pl__json_ws(c);
                        if (*c->p == ',') {
                            c->p++;
                            pl__json_ws(c);
                            if (*c->p == ']') return pl__json_fail(c, PL__JSON_ERR_VALUE_INVALID, c->p);
                            continue;
                        }
                        if (*c->p == ']') {
                            c->p++;
                            break;
                        }
                        return pl__json_fail(c, PL__JSON_ERR_ARRAY_MISS_COMMA_OR_SQUARE, c->p);
                    }
                }
            } else if (!feature_item(d, f, name, err)) {
                return false;
            }
            f->vals_len = d->vals.len - f->vals_off;
            /* The last value of a repeated name wins: retire earlier ones. */
            for (size_t i = 0; i + 1 < d->n_feats; i++) {
                feature *g = &d->feats[i];
                if (g->name_len == name_len && g->count != (size_t)-1 &&
                    memcmp(d->names.data + g->name_off, d->names.data + name_off, name_len) == 0) {
                    g->kind = KIND_NONE;
                    g->count = (size_t)-1;
                }
            }
        }
    next:
        pl__json_ws(c);
        if (*c->p == ',') {
            c->p++;
            pl__json_ws(c);
            continue;
        }
        if (*c->p == '}') {
            c->p++;
            break;
        }
        return pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_COMMA_OR_CURLY, c->p);
    }
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

void pl_json_examples_deinit(pl_json_examples *req) {
    free(req->signature_name);
    free(req->examples);
    free(req->storage_);
    memset(req, 0, sizeof *req);
}

pl_status pl_json_decode_examples(const char *body, size_t len, pl_json_examples *out) {
    if (len == 0) return pl_error(PL_INVALID_ARGUMENT, "JSON Parse error: The document is empty");
    dec d = {.c = {.p = body, .base = body, .end = body + len, .err = PL__JSON_ERR_NONE}};
    pl_strbuf_init(&d.scratch, 0);
    pl_strbuf_init(&d.key, 0);
    pl_strbuf_init(&d.names, 0);
    pl_strbuf_init(&d.vals, 0);
    pl_strbuf_init(&d.out, 0);
    pl_strbuf sig;
    pl_strbuf_init(&sig, 0);
    pl_status st = NULL, context_err = NULL, examples_err = NULL;
    bool sig_seen = false, sig_is_string = false, has_context = false, has_examples = false;
    size_t context_len = 0;
    /* End offsets in d.out of each example (the context, if any, comes first). */
    size_t *ends = NULL, n_ends = 0, cap_ends = 0;
    pl__json_cur *c = &d.c;

    pl__json_ws(c);
    d.doc = c->p;
    char first = *c->p;
    if (first == 0 || first == ']' || first == '}' || first == ',' || first == ':') {
        pl__json_fail(c, PL__JSON_ERR_DOCUMENT_EMPTY, c->p);
        goto syntax;
    }
    if (first != '{') {
        if (!pl__json_skip_value(c)) goto syntax;
        st = doc_error(&d, "Is not object");
        goto done;
    }
    /* The context goes into its own buffer so examples can follow it in d.out
     * whatever the key order. */
    pl_strbuf context;
    pl_strbuf_init(&context, 0);
    c->p++;
    pl__json_ws(c);
    if (*c->p != '}') {
        for (;;) {
            if (*c->p != '"') {
                pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_NAME, c->p);
                goto syntax_ctx;
            }
            pl_strbuf_clear(&d.key);
            if (!pl__json_parse_string(c, &d.key)) goto syntax_ctx;
            pl__json_ws(c);
            if (*c->p != ':') {
                pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_COLON, c->p);
                goto syntax_ctx;
            }
            c->p++;
            pl__json_ws(c);
            if (key_is(&d.key, "signature_name") && !sig_seen) {
                sig_seen = true;
                sig_is_string = *c->p == '"';
                if (!(sig_is_string ? pl__json_parse_string(c, &sig) : pl__json_skip_value(c))) goto syntax_ctx;
            } else if (key_is(&d.key, "context") && !has_context) {
                has_context = true;
                size_t mark = d.out.len;
                if (!example(&d, &context_err)) goto syntax_ctx;
                pl_strbuf_append(&context, d.out.data ? d.out.data + mark : "", d.out.len - mark);
                d.out.len = mark;
            } else if (key_is(&d.key, "examples") && !has_examples) {
                has_examples = true;
                if (*c->p != '[') {
                    if (!pl__json_skip_value(c)) goto syntax_ctx;
                    examples_err = doc_error(&d, "Expecting 'examples' value to be an list/array");
                } else {
                    c->p++;
                    pl__json_ws(c);
                    if (*c->p == ']') {
                        c->p++;
                        examples_err = doc_error(&d, "'examples' value is an empty array");
                    } else {
                        for (;;) {
                            if (examples_err) {
                                if (!pl__json_skip_value(c)) goto syntax_ctx;
                            } else {
                                if (!example(&d, &examples_err)) goto syntax_ctx;
                                if (n_ends == cap_ends) {
                                    cap_ends = cap_ends ? cap_ends * 2 : 16;
                                    size_t *ne = realloc(ends, cap_ends * sizeof *ne);
                                    if (!ne) {
                                        st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
                                        pl_strbuf_deinit(&context);
                                        goto done;
                                    }
                                    ends = ne;
                                }
                                ends[n_ends++] = d.out.len;
                            }
                            pl__json_ws(c);
                            if (*c->p == ',') {
                                c->p++;
                                pl__json_ws(c);
                                if (*c->p == ']') {
                                    pl__json_fail(c, PL__JSON_ERR_VALUE_INVALID, c->p);
                                    goto syntax_ctx;
                                }
                                continue;
                            }
                            if (*c->p == ']') {
                                c->p++;
                                break;
                            }
                            pl__json_fail(c, PL__JSON_ERR_ARRAY_MISS_COMMA_OR_SQUARE, c->p);
                            goto syntax_ctx;
                        }
                    }
                }
            } else if (!pl__json_skip_value(c)) {
                goto syntax_ctx;
            }
            pl__json_ws(c);
            if (*c->p == ',') {
                c->p++;
                pl__json_ws(c);
                continue;
            }
            if (*c->p == '}') break;
            pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_COMMA_OR_CURLY, c->p);
            goto syntax_ctx;
        }
    }
    /* TF Serving's order: signature, context, then examples. */
    if (sig_seen && !sig_is_string) {
        st = doc_error(&d, "not formatted correctly. 'signature_name' key must be a string value.");
    } else if (context_err) {
        st = context_err;
        context_err = NULL;
    } else if (!has_examples) {
        st = doc_error(&d, "When method is classify, key 'examples' is expected and was not found");
    } else if (examples_err) {
        st = examples_err;
        examples_err = NULL;
    } else if (context.failed || d.out.failed) {
        st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (st) {
        pl_strbuf_deinit(&context);
        goto done;
    }
    {
        pl_json_examples r = {0};
        context_len = context.len;
        r.storage_ = malloc(context_len + d.out.len + 1);
        r.examples = calloc(n_ends ? n_ends : 1, sizeof *r.examples);
        r.signature_name = strdup(sig_seen && sig.data ? sig.data : "");
        if (!r.storage_ || !r.examples || !r.signature_name) {
            pl_json_examples_deinit(&r);
            pl_strbuf_deinit(&context);
            st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        if (context_len) memcpy(r.storage_, context.data, context_len);
        if (d.out.len) memcpy(r.storage_ + context_len, d.out.data, d.out.len);
        r.has_context = has_context;
        r.context = (pl_str){context_len, r.storage_};
        r.num_examples = (int)n_ends;
        size_t prev = 0;
        for (size_t i = 0; i < n_ends; i++) {
            r.examples[i] = (pl_str){ends[i] - prev, r.storage_ + context_len + prev};
            prev = ends[i];
        }
        *out = r;
    }
    pl_strbuf_deinit(&context);
    goto done;
syntax_ctx:
    pl_strbuf_deinit(&context);
syntax:
    st = pl__json_syntax_status(c);
done:
    pl_status_free(context_err);
    pl_status_free(examples_err);
    free(ends);
    free(d.feats);
    pl_strbuf_deinit(&d.scratch);
    pl_strbuf_deinit(&d.key);
    pl_strbuf_deinit(&d.names);
    pl_strbuf_deinit(&d.vals);
    pl_strbuf_deinit(&d.out);
    pl_strbuf_deinit(&sig);
    return st;
}
