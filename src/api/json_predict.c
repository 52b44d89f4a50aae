/* Predict request bodies (spec/tfs-api.md 1c, "Predict request JSON"):
 * {"signature_name"?, "instances": [...]} or {"signature_name"?, "inputs": ...}
 * decoded into one tensor per signature input.
 *
 * TF Serving parses the whole document before it looks at it, so a syntax
 * error anywhere wins over every other error, and its checks run in a fixed
 * order: root is an object, signature_name is a string, the signature exists,
 * only one of instances/inputs, then the tensors. The decoder reads in one
 * pass: it decodes instances/inputs when it reaches them, using the default
 * signature when no signature_name came first, keeps the first error of each
 * kind, reads on to the end of the root to find syntax errors, and picks the
 * error to report at the end. When a signature_name after the tensors names
 * other inputs, the tensors are decoded a second time from where they start. */
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "api/json_internal.h"

typedef struct input {
    const pl_tensor_info *info;
    pl__json_acc acc;
    int rank;                      /* columnar: the value's shape; row: one instance's */
    int64_t dims[PL_MAX_RANK];
    int64_t item_count;            /* row: values per instance */
    bool have_item;                /* row: the first instance set rank/dims/item_count */
    bool seen;                     /* columnar: the key was present; row: in this instance */
    pl_status err;                 /* columnar: first error for this input */
} input;

typedef struct dec {
    pl__json_cur c;
    const char *doc;               /* the root value, for "JSON Value: ..." texts */
    pl_strbuf scratch, key;
    const pl_tensor_info *infos;
    int n;
    input *in;
    int64_t n_items;
} dec;

static pl_status doc_error(dec *d, const char *text) {
    return pl__json_value_error(PL_INVALID_ARGUMENT, &d->c, d->doc, " %s", text);
}

static void free_inputs(dec *d) {
    if (!d->in) return;
    for (int i = 0; i < d->n; i++) {
        pl__json_acc_deinit(&d->in[i].acc);
        pl_status_free(d->in[i].err);
    }
    free(d->in);
    d->in = NULL;
}

static pl_status setup_inputs(dec *d, const pl_tensor_info *infos, int n) {
    free_inputs(d);
    d->infos = infos;
    d->n = n;
    d->n_items = 0;
    d->in = calloc((size_t)(n ? n : 1), sizeof *d->in);
    if (!d->in) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < n; i++) {
        d->in[i].info = &infos[i];
        pl__json_acc_init(&d->in[i].acc, infos[i].dtype);
    }
    return NULL;
}

static input *find_input(dec *d, const char *key, size_t len) {
    for (int i = 0; i < d->n; i++) {
        const char *alias = d->infos[i].alias;
        if (strlen(alias) == len && memcmp(alias, key, len) == 0) return &d->in[i];
    }
    return NULL;
}

static bool key_is(const pl_strbuf *key, const char *word) {
    size_t n = strlen(word);
    return key->len == n && memcmp(key->data, word, n) == 0;
}

/* Wraps an instance's error as TF Serving does, with the inner status
 * printed by absl::Status::ToString. */
static pl_status wrap_item(pl_status inner, int64_t item, const char *key) {
    pl_status st;
    if (key) {
        st = pl_error(PL_INVALID_ARGUMENT, "Failed to process element: %lld key: %s of 'instances' list. Error: %s: %s",
                      (long long)item, key, pl_code_name(pl_status_code(inner)), pl_status_message(inner));
    } else {
        st = pl_error(PL_INVALID_ARGUMENT, "Failed to process element: %lld of 'instances' list. Error: %s: %s",
                      (long long)item, pl_code_name(pl_status_code(inner)), pl_status_message(inner));
    }
    pl_status_free(inner);
    return st;
}

/* Compares an instance's values with the first instance's (AddInstanceItem). */
static pl_status check_item(input *in, const pl__json_tval *tv) {
    if (!in->have_item) {
        in->have_item = true;
        in->item_count = tv->count;
        in->rank = tv->rank;
        memcpy(in->dims, tv->dims, sizeof in->dims);
        return NULL;
    }
    if (tv->count != in->item_count)
        return pl_error(PL_INVALID_ARGUMENT, "Expecting tensor size: %lld but got: %lld", (long long)in->item_count,
                        (long long)tv->count);
    bool same = tv->rank == in->rank;
    for (int i = 0; same && i < tv->rank; i++) same = tv->dims[i] == in->dims[i];
    if (!same) {
        char a[160], b[160];
        pl__json_shape_string(in->rank, in->dims, a, sizeof a);
        pl__json_shape_string(tv->rank, tv->dims, b, sizeof b);
        return pl_error(PL_INVALID_ARGUMENT, "Expecting shape %s but got: %s", a, b);
    }
    return NULL;
}

/* One instance's value for input `in`; *err gets the unwrapped error. */
static bool decode_item_value(dec *d, input *in, pl_status *err) {
    pl__json_tval tv = {.max_rank = PL_MAX_RANK - 1};
    if (!pl__json_decode_tensor(&d->c, &in->acc, &tv, &d->scratch, err)) return false;
    if (!*err) *err = check_item(in, &tv);
    return true;
}

/* "... keys must be equal to: a,b" for an instance object missing inputs. */
static pl_status keys_error(dec *d, const char *object, int64_t item) {
    pl_strbuf m;
    pl_strbuf_init(&m, 0);
    pl_strbuf_printf(&m, "Failed to process element: %lld of 'instances' list. JSON object: ", (long long)item);
    pl__json_debug_string(object, d->c.end, &m);
    pl_strbuf_puts(&m, " keys must be equal to: ");
    for (int i = 0; i < d->n; i++) {
        if (i) pl_strbuf_putc(&m, ',');
        pl_strbuf_puts(&m, d->infos[i].alias);
    }
    pl_status st = pl_error(PL_INVALID_ARGUMENT, "%s", m.failed || !m.data ? "keys must be equal" : m.data);
    pl_strbuf_deinit(&m);
    return st;
}

/* One member of an instance object; *err gets the wrapped error. */
static bool decode_instance_member(dec *d, int64_t item, pl_status *err) {
    const char *key = d->key.data ? d->key.data : "";
    input *in = find_input(d, key, d->key.len);
    if (!in) {
        if (!pl__json_skip_value(&d->c)) return false;
        *err = pl_error(PL_INVALID_ARGUMENT,
                        "Failed to process element: %lld key: %s of 'instances' list. Error: INVALID_ARGUMENT: JSON "
                        "object: does not have named input: %s",
                        (long long)item, key, key);
        return true;
    }
    pl_status e = NULL;
    if (!decode_item_value(d, in, &e)) {
        pl_status_free(e);
        return false;
    }
    /* A repeated key would add a second set of values to one instance (TF
     * Serving fails later, converting the tensor). */
    if (!e && in->seen) e = pl_error(PL_INVALID_ARGUMENT, "JSON object: input %s given twice", key);
    if (e) *err = wrap_item(e, item, key);
    in->seen = true;
    return true;
}

/* An element of "instances" when the first element was an object. */
static bool decode_instance_object(dec *d, int64_t item, pl_status *err) {
    pl__json_cur *c = &d->c;
    const char *start = c->p;
    if (*c->p != '{' || pl__json_is_b64_object(c)) {
        if (!pl__json_skip_value(c)) return false;
        *err = pl_error(PL_INVALID_ARGUMENT, "Expecting object but got list at item %lld of input list", (long long)item);
        return true;
    }
    for (int i = 0; i < d->n; i++) d->in[i].seen = false;
    bool started = false;
    int more;
    while ((more = pl__json_next_member(c, &started, &d->key)) > 0) {
        if (!(*err ? pl__json_skip_value(c) : decode_instance_member(d, item, err))) return false;
    }
    if (more < 0) return false;
    for (int i = 0; i < d->n && !*err; i++)
        if (!d->in[i].seen) *err = keys_error(d, start, item);
    return true;
}

/* An element of "instances" when the first element was a value or list. */
static bool decode_instance_value(dec *d, int64_t item, pl_status *err) {
    pl__json_cur *c = &d->c;
    if (*c->p == '{' && !pl__json_is_b64_object(c)) {
        if (!pl__json_skip_value(c)) return false;
        *err = pl_error(PL_INVALID_ARGUMENT, "Expecting value/list but got object at item %lld of input list",
                        (long long)item);
        return true;
    }
    pl_status e = NULL;
    if (!decode_item_value(d, &d->in[0], &e)) {
        pl_status_free(e);
        return false;
    }
    if (e) *err = wrap_item(e, item, NULL);
    return true;
}

/* "instances": a non-empty list of values (one input) or of objects. */
static bool decode_instances(dec *d, pl_status *err) {
    pl__json_cur *c = &d->c;
    if (*c->p != '[') {
        if (!pl__json_skip_value(c)) return false;
        *err = doc_error(d, "Expecting 'instances' to be an list/array");
        return true;
    }
    bool started = false, objects = false;
    int64_t item = 0;
    int more;
    while ((more = pl__json_next_element(c, &started)) > 0) {
        if (item == 0) {
            objects = *c->p == '{' && !pl__json_is_b64_object(c);
            if (d->n > 1 && !objects)
                *err = pl_error(PL_INVALID_ARGUMENT,
                                "instances is a plain list, but expecting list of objects as multiple input tensors "
                                "required as per tensorinfo_map");
        }
        bool ok = *err ? pl__json_skip_value(c)
                       : objects ? decode_instance_object(d, item, err) : decode_instance_value(d, item, err);
        if (!ok) return false;
        item++;
    }
    if (more < 0) return false;
    if (item == 0) *err = doc_error(d, "No values in 'instances' array");
    d->n_items = item;
    return true;
}

static bool decode_named_input(dec *d, input *in, pl_status *err) {
    pl__json_tval tv = {.max_rank = PL_MAX_RANK};
    if (!pl__json_decode_tensor(&d->c, &in->acc, &tv, &d->scratch, err)) return false;
    in->rank = tv.rank;
    memcpy(in->dims, tv.dims, sizeof tv.dims);
    in->seen = true;
    return true;
}

/* "inputs": one value (one input) or an object of alias -> value. */
static bool decode_inputs(dec *d, pl_status *err) {
    pl__json_cur *c = &d->c;
    if (*c->p != '{' || pl__json_is_b64_object(c)) {
        if (d->n == 1) return decode_named_input(d, &d->in[0], err);
        if (!pl__json_skip_value(c)) return false;
        *err = pl_error(PL_INVALID_ARGUMENT,
                        "inputs is a plain value/list, but expecting an object as multiple input tensors required as "
                        "per tensorinfo_map");
        return true;
    }
    bool started = false;
    int more;
    while ((more = pl__json_next_member(c, &started, &d->key)) > 0) {
        /* FindMember takes the first of repeated keys; other keys are ignored. */
        input *in = find_input(d, d->key.data ? d->key.data : "", d->key.len);
        if (!(in && !in->seen ? decode_named_input(d, in, &in->err) : pl__json_skip_value(c))) return false;
    }
    if (more < 0) return false;
    /* TF Serving walks the signature's inputs in order and stops at the
     * first that is missing or fails. */
    for (int i = 0; i < d->n; i++) {
        input *in = &d->in[i];
        if (!in->seen) {
            *err = pl_error(PL_INVALID_ARGUMENT, "Missing named input: %s in 'inputs' object.", in->info->alias);
            return true;
        }
        if (in->err) {
            *err = in->err;
            in->err = NULL;
            return true;
        }
    }
    return true;
}

/* Decodes instances or inputs at `start` with the inputs set up. */
static bool decode_tensors(dec *d, const char *start, pl_json_format format, pl_status *err) {
    d->c.p = start;
    return format == PL_JSON_FORMAT_ROW ? decode_instances(d, err) : decode_inputs(d, err);
}

static pl_status finish(dec *d, const char *signature_name, pl_json_format format, pl_json_predict *out) {
    pl_json_predict r = {0};
    pl_status st = NULL;
    r.format = format;
    r.num_inputs = d->n;
    r.signature_name = strdup(signature_name);
    r.aliases = calloc((size_t)d->n, sizeof *r.aliases);
    r.tensors = calloc((size_t)d->n, sizeof *r.tensors);
    if (!r.signature_name || !r.aliases || !r.tensors) {
        st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (int i = 0; i < d->n; i++) {
        input *in = &d->in[i];
        if (!(r.aliases[i] = strdup(in->info->alias))) {
            st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        int rank = in->rank;
        int64_t dims[PL_MAX_RANK];
        if (format == PL_JSON_FORMAT_ROW) {
            if (!in->have_item) {
                /* Several inputs but the instances were {"b64": ...} values:
                 * only the first input got any. */
                st = pl_error(PL_INVALID_ARGUMENT,
                              "instances is a plain list, but expecting list of objects as multiple input tensors "
                              "required as per tensorinfo_map");
                goto done;
            }
            dims[0] = d->n_items;
            memcpy(dims + 1, in->dims, (size_t)in->rank * sizeof *dims);
            rank++;
        } else {
            memcpy(dims, in->dims, sizeof dims);
        }
        if ((st = pl__json_acc_finish(&in->acc, rank, dims, &r.tensors[i]))) goto done;
    }
    *out = r;
    return NULL;
done:
    pl_json_predict_deinit(&r);
    return st;
}

void pl_json_predict_deinit(pl_json_predict *req) {
    for (int i = 0; i < req->num_inputs; i++) {
        if (req->aliases) free(req->aliases[i]);
        if (req->tensors) pl_tensor_unref(req->tensors[i]);
    }
    free(req->aliases);
    free(req->tensors);
    free(req->signature_name);
    memset(req, 0, sizeof *req);
}

/* What the root object held, as far as the checks after reading need. */
typedef struct top {
    pl_strbuf sig;                    /* signature_name, when a string */
    bool sig_seen, sig_is_string, have_instances, have_inputs;
    const char *tensors_at;           /* the first of instances/inputs */
    pl_json_format format;
    bool decoded;                     /* the tensors were decoded on the way... */
    const pl_tensor_info *decoded_with; /* ...with these inputs */
    pl_status tensor_err;
} top;

/* The value of "instances" or "inputs" (the first of either). Decodes it now
 * with the signature known so far, the default one if none came yet, when
 * that signature can be looked up; otherwise skips it for later. */
static bool read_tensors(dec *d, top *t, bool instances, pl_json_lookup_fn *lookup, void *ctx) {
    bool other = t->have_instances || t->have_inputs;
    t->have_instances |= instances;
    t->have_inputs |= !instances;
    if (other) return pl__json_skip_value(&d->c); /* both keys: an error whatever they hold */
    t->tensors_at = d->c.p;
    t->format = instances ? PL_JSON_FORMAT_ROW : PL_JSON_FORMAT_COLUMNAR;
    const pl_tensor_info *infos = NULL;
    int n = 0;
    pl_status st = t->sig_seen && !t->sig_is_string ? pl_error(PL_INVALID_ARGUMENT, "signature_name is not a string")
                                                    : lookup(ctx, t->sig.data ? t->sig.data : "", &infos, &n);
    if (!st && n > 0 && !(st = setup_inputs(d, infos, n))) {
        t->decoded = true;
        t->decoded_with = infos;
        return decode_tensors(d, t->tensors_at, t->format, &t->tensor_err);
    }
    pl_status_free(st);
    return pl__json_skip_value(&d->c);
}

/* Reads the root object to its end; false on a syntax error. */
static bool read_top(dec *d, top *t, pl_json_lookup_fn *lookup, void *ctx) {
    pl__json_cur *c = &d->c;
    bool started = false;
    int more;
    while ((more = pl__json_next_member(c, &started, &d->key)) > 0) {
        bool ok;
        if (key_is(&d->key, "signature_name") && !t->sig_seen) {
            t->sig_seen = true;
            t->sig_is_string = *c->p == '"';
            ok = t->sig_is_string ? pl__json_parse_string(c, &t->sig) : pl__json_skip_value(c);
        } else if (key_is(&d->key, "instances") && !t->have_instances) {
            ok = read_tensors(d, t, true, lookup, ctx);
        } else if (key_is(&d->key, "inputs") && !t->have_inputs) {
            ok = read_tensors(d, t, false, lookup, ctx);
        } else {
            ok = pl__json_skip_value(c);
        }
        if (!ok) return false;
    }
    return more == 0;
}

/* TF Serving's checks on a well-formed document, in its order. */
static pl_status check_and_finish(dec *d, top *t, pl_json_lookup_fn *lookup, void *ctx, pl_json_predict *out) {
    if (t->sig_seen && !t->sig_is_string)
        return doc_error(d, "not formatted correctly. 'signature_name' key must be a string value.");
    const char *signature_name = t->sig.data ? t->sig.data : "";
    const pl_tensor_info *infos = NULL;
    int n = 0;
    PL_TRY(lookup(ctx, signature_name, &infos, &n));
    if (n <= 0)
        return pl_error(PL_INVALID_ARGUMENT, "Failed to get input map for signature: %s",
                        *signature_name ? signature_name : "DEFAULT");
    if (t->have_instances && t->have_inputs)
        return doc_error(d, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ");
    if (!t->tensors_at) return pl_error(PL_INVALID_ARGUMENT, "Missing 'inputs' or 'instances' key");
    if (!t->decoded || t->decoded_with != infos) {
        /* The signature named after the tensors differs from the one they
         * were read with: read them again. */
        pl_status_free(t->tensor_err);
        t->tensor_err = NULL;
        PL_TRY(setup_inputs(d, infos, n));
        if (!decode_tensors(d, t->tensors_at, t->format, &t->tensor_err)) return pl__json_syntax_status(&d->c);
    }
    if (t->tensor_err) {
        pl_status st = t->tensor_err;
        t->tensor_err = NULL;
        return st;
    }
    return finish(d, signature_name, t->format, out);
}

pl_status pl_json_decode_predict(const char *body, size_t len, pl_json_lookup_fn *lookup, void *ctx,
                                 pl_json_predict *out) {
    if (len == 0) return pl_error(PL_INVALID_ARGUMENT, "JSON Parse error: The document is empty");
    dec d = {.c = {.p = body, .base = body, .end = body + len, .err = PL__JSON_ERR_NONE}};
    top t = {.format = PL_JSON_FORMAT_ROW};
    pl_strbuf_init(&d.scratch, 0);
    pl_strbuf_init(&d.key, 0);
    pl_strbuf_init(&t.sig, 0);
    pl_status st;
    pl__json_ws(&d.c);
    d.doc = d.c.p;
    char first = *d.c.p;
    if (first == 0 || first == ']' || first == '}' || first == ',' || first == ':') {
        pl__json_fail(&d.c, PL__JSON_ERR_DOCUMENT_EMPTY, d.c.p);
        st = pl__json_syntax_status(&d.c);
    } else if (first != '{') {
        st = pl__json_skip_value(&d.c) ? doc_error(&d, "Is not object") : pl__json_syntax_status(&d.c);
    } else if (!read_top(&d, &t, lookup, ctx)) {
        st = pl__json_syntax_status(&d.c);
    } else {
        st = check_and_finish(&d, &t, lookup, ctx, out);
    }
    pl_status_free(t.tensor_err);
    free_inputs(&d);
    pl_strbuf_deinit(&d.scratch);
    pl_strbuf_deinit(&d.key);
    pl_strbuf_deinit(&t.sig);
    return st;
}
