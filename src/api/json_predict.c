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

static bool decode_instance_object(dec *d, int64_t item, pl_status *err) {
    pl__json_cur *c = &d->c;
    const char *start = c->p;
    if (*c->p != '{' || pl__json_is_b64_object(c)) {
        if (!pl__json_skip_value(c)) return false;
        *err = pl_error(PL_INVALID_ARGUMENT, "Expecting object but got list at item %lld of input list", (long long)item);
        return true;
    }
    for (int i = 0; i < d->n; i++) d->in[i].seen = false;
    c->p++;
    pl__json_ws(c);
    if (*c->p == '}') {
        c->p++;
    } else {
        for (;;) {
            if (*c->p != '"') return pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_NAME, c->p);
            pl_strbuf_clear(&d->key);
            if (!pl__json_parse_string(c, &d->key)) return false;
            pl__json_ws(c);
            if (*c->p != ':') return pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_COLON, c->p);
            c->p++;
            pl__json_ws(c);
            const char *key = d->key.data ? d->key.data : "";
            input *in = *err ? NULL : find_input(d, key, d->key.len);
            if (*err) {
                if (!pl__json_skip_value(c)) return false;
            } else if (!in) {
                if (!pl__json_skip_value(c)) return false;
                *err = pl_error(PL_INVALID_ARGUMENT,
                                "Failed to process element: %lld key: %s of 'instances' list. Error: INVALID_ARGUMENT: "
                                "JSON object: does not have named input: %s",
                                (long long)item, key, key);
            } else {
                pl_status e = NULL;
                bool again = in->seen;
                if (!decode_item_value(d, in, &e)) {
                    pl_status_free(e);
                    return false;
                }
                /* A repeated key would add a second set of values to one
                 * instance (TF Serving fails later, converting the tensor). */
                if (!e && again) e = pl_error(PL_INVALID_ARGUMENT, "JSON object: input %s given twice", key);
                if (e) *err = wrap_item(e, item, key);
                in->seen = true;
            }
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
    }
    if (*err) return true;
    bool all = true;
    for (int i = 0; i < d->n; i++) all = all && d->in[i].seen;
    if (!all) {
        pl_strbuf names;
        pl_strbuf_init(&names, 0);
        for (int i = 0; i < d->n; i++) {
            if (i) pl_strbuf_putc(&names, ',');
            pl_strbuf_puts(&names, d->infos[i].alias);
        }
        pl_strbuf msg;
        pl_strbuf_init(&msg, 0);
        pl_strbuf_printf(&msg, "Failed to process element: %lld of 'instances' list. JSON object: ", (long long)item);
        pl__json_debug_string(start, c->end, &msg);
        pl_strbuf_printf(&msg, " keys must be equal to: %s", names.data ? names.data : "");
        *err = pl_error(PL_INVALID_ARGUMENT, "%s", msg.data ? msg.data : "");
        pl_strbuf_deinit(&msg);
        pl_strbuf_deinit(&names);
    }
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
    c->p++;
    pl__json_ws(c);
    if (*c->p == ']') {
        c->p++;
        *err = doc_error(d, "No values in 'instances' array");
        return true;
    }
    bool objects = *c->p == '{' && !pl__json_is_b64_object(c);
    if (d->n > 1 && !objects)
        *err = pl_error(PL_INVALID_ARGUMENT,
                        "instances is a plain list, but expecting list of objects as multiple input tensors required "
                        "as per tensorinfo_map");
    int64_t item = 0;
    for (;;) {
        if (*err) {
            if (!pl__json_skip_value(c)) return false;
        } else if (objects) {
            if (!decode_instance_object(d, item, err)) return false;
        } else if (*c->p == '{' && !pl__json_is_b64_object(c)) {
            if (!pl__json_skip_value(c)) return false;
            *err = pl_error(PL_INVALID_ARGUMENT, "Expecting value/list but got object at item %lld of input list",
                            (long long)item);
        } else {
            pl_status e = NULL;
            if (!decode_item_value(d, &d->in[0], &e)) {
                pl_status_free(e);
                return false;
            }
            if (e) *err = wrap_item(e, item, NULL);
        }
        item++;
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
    d->n_items = item;
    return true;
}

/* "inputs": one value (one input) or an object of alias -> value. */
static bool decode_inputs(dec *d, pl_status *err) {
    pl__json_cur *c = &d->c;
    if (*c->p != '{' || pl__json_is_b64_object(c)) {
        if (d->n > 1) {
            if (!pl__json_skip_value(c)) return false;
            *err = pl_error(PL_INVALID_ARGUMENT,
                            "inputs is a plain value/list, but expecting an object as multiple input tensors required "
                            "as per tensorinfo_map");
            return true;
        }
        pl__json_tval tv = {.max_rank = PL_MAX_RANK};
        if (!pl__json_decode_tensor(c, &d->in[0].acc, &tv, &d->scratch, err)) return false;
        d->in[0].rank = tv.rank;
        memcpy(d->in[0].dims, tv.dims, sizeof tv.dims);
        d->in[0].seen = true;
        return true;
    }
    c->p++;
    pl__json_ws(c);
    if (*c->p == '}') {
        c->p++;
    } else {
        for (;;) {
            if (*c->p != '"') return pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_NAME, c->p);
            pl_strbuf_clear(&d->key);
            if (!pl__json_parse_string(c, &d->key)) return false;
            pl__json_ws(c);
            if (*c->p != ':') return pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_COLON, c->p);
            c->p++;
            pl__json_ws(c);
            /* FindMember takes the first of repeated keys. */
            input *in = find_input(d, d->key.data ? d->key.data : "", d->key.len);
            if (in && !in->seen) {
                in->seen = true;
                pl__json_tval tv = {.max_rank = PL_MAX_RANK};
                if (!pl__json_decode_tensor(c, &in->acc, &tv, &d->scratch, &in->err)) return false;
                in->rank = tv.rank;
                memcpy(in->dims, tv.dims, sizeof tv.dims);
            } else if (!pl__json_skip_value(c)) {
                return false;
            }
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
    }
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

pl_status pl_json_decode_predict(const char *body, size_t len, pl_json_lookup_fn *lookup, void *ctx,
                                 pl_json_predict *out) {
    if (len == 0) return pl_error(PL_INVALID_ARGUMENT, "JSON Parse error: The document is empty");
    dec d = {.c = {.p = body, .base = body, .end = body + len, .err = PL__JSON_ERR_NONE}};
    pl_strbuf_init(&d.scratch, 0);
    pl_strbuf_init(&d.key, 0);
    pl_strbuf sig;
    pl_strbuf_init(&sig, 0);
    pl_status st = NULL, tensor_err = NULL;
    bool sig_seen = false, sig_is_string = false, have_instances = false, have_inputs = false;
    const char *tensors_at = NULL;
    pl_json_format format = PL_JSON_FORMAT_ROW;
    /* The signature the tensors were decoded with, if they were. */
    const pl_tensor_info *decoded_with = NULL;
    bool decoded = false;
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
    c->p++;
    pl__json_ws(c);
    if (*c->p == '}') goto parsed;
    for (;;) {
        if (*c->p != '"') {
            pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_NAME, c->p);
            goto syntax;
        }
        pl_strbuf_clear(&d.key);
        if (!pl__json_parse_string(c, &d.key)) goto syntax;
        pl__json_ws(c);
        if (*c->p != ':') {
            pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_COLON, c->p);
            goto syntax;
        }
        c->p++;
        pl__json_ws(c);
        bool is_instances = key_is(&d.key, "instances"), is_inputs = key_is(&d.key, "inputs");
        if (key_is(&d.key, "signature_name") && !sig_seen) {
            sig_seen = true;
            sig_is_string = *c->p == '"';
            if (!(sig_is_string ? pl__json_parse_string(c, &sig) : pl__json_skip_value(c))) goto syntax;
        } else if ((is_instances && !have_instances) || (is_inputs && !have_inputs)) {
            bool other = have_instances || have_inputs;
            have_instances |= is_instances;
            have_inputs |= is_inputs;
            if (other) {
                /* Both keys: an error whatever they hold. */
                if (!pl__json_skip_value(c)) goto syntax;
            } else {
                tensors_at = c->p;
                format = is_instances ? PL_JSON_FORMAT_ROW : PL_JSON_FORMAT_COLUMNAR;
                const pl_tensor_info *infos = NULL;
                int n = 0;
                pl_status lst = NULL;
                if (sig_seen && !sig_is_string) {
                    lst = pl_error(PL_INVALID_ARGUMENT, "signature_name is not a string");
                } else {
                    lst = lookup(ctx, sig_seen && sig.data ? sig.data : "", &infos, &n);
                }
                if (!lst && n > 0 && !(lst = setup_inputs(&d, infos, n))) {
                    decoded = true;
                    decoded_with = infos;
                    if (!decode_tensors(&d, tensors_at, format, &tensor_err)) goto syntax;
                } else {
                    /* Decide once the whole object is read. */
                    pl_status_free(lst);
                    if (!pl__json_skip_value(c)) goto syntax;
                }
            }
        } else if (!pl__json_skip_value(c)) {
            goto syntax;
        }
        pl__json_ws(c);
        if (*c->p == ',') {
            c->p++;
            pl__json_ws(c);
            continue;
        }
        if (*c->p == '}') break;
        pl__json_fail(c, PL__JSON_ERR_OBJECT_MISS_COMMA_OR_CURLY, c->p);
        goto syntax;
    }
parsed:
    /* The document is well formed; now TF Serving's checks, in its order. */
    if (sig_seen && !sig_is_string) {
        st = doc_error(&d, "not formatted correctly. 'signature_name' key must be a string value.");
        goto done;
    }
    const char *signature_name = sig_seen && sig.data ? sig.data : "";
    const pl_tensor_info *infos = NULL;
    int n = 0;
    if ((st = lookup(ctx, signature_name, &infos, &n))) goto done;
    if (n <= 0) {
        st = pl_error(PL_INVALID_ARGUMENT, "Failed to get input map for signature: %s",
                      *signature_name ? signature_name : "DEFAULT");
        goto done;
    }
    if (have_instances && have_inputs) {
        st = doc_error(&d, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ");
        goto done;
    }
    if (!tensors_at) {
        st = pl_error(PL_INVALID_ARGUMENT, "Missing 'inputs' or 'instances' key");
        goto done;
    }
    if (!decoded || decoded_with != infos) {
        pl_status_free(tensor_err);
        tensor_err = NULL;
        if ((st = setup_inputs(&d, infos, n))) goto done;
        if (!decode_tensors(&d, tensors_at, format, &tensor_err)) goto syntax;
    }
    if (tensor_err) {
        st = tensor_err;
        tensor_err = NULL;
        goto done;
    }
    st = finish(&d, signature_name, format, out);
    goto done;
syntax:
    st = pl__json_syntax_status(c);
done:
    pl_status_free(tensor_err);
    free_inputs(&d);
    pl_strbuf_deinit(&d.scratch);
    pl_strbuf_deinit(&d.key);
    pl_strbuf_deinit(&sig);
    return st;
}
