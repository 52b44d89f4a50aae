/* Lookup tables: HashTable (filled once by an initializer) and
 * MutableHashTable, with string or integer keys and string, integer, float
 * or bool values; initialised from tensors or from a text file
 * (InitializeTableFromTextFile: a column, the whole line or the line number
 * per key and value). An open-addressing index over an append-only entry
 * array keeps lookups to one probe sequence; a read-write lock lets
 * concurrent requests look up while nothing inserts. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/state_internal.h"
#include "runtime/session.h"

/* One key: string bytes, or an integer (int32 keys are widened). */
typedef struct table_key {
    const char *s;
    size_t len;
    int64_t i;
} table_key;

typedef struct table {
    pl__resource res;
    pthread_rwlock_t mu;
    pl_dtype key_dtype, value_dtype;
    bool is_mutable;
    bool initialized;      /* HashTable: an initializer ran; mutable tables are always ready */
    size_t n, cap;         /* entries */
    pl_str *skeys;         /* string keys (owned) */
    int64_t *ikeys;        /* integer keys */
    void *values;          /* cap values of value_dtype; strings are owned pl_str */
    size_t nslots;         /* power of two, > 2n */
    uint32_t *slots;       /* entry index + 1; 0 is empty */
} table;

static bool key_is_string(pl_dtype d) { return d == PL_DT_STRING; }
static bool key_supported(pl_dtype d) { return d == PL_DT_STRING || d == PL_DT_INT64 || d == PL_DT_INT32; }
static bool value_supported(pl_dtype d) {
    return d == PL_DT_STRING || d == PL_DT_INT64 || d == PL_DT_INT32 || d == PL_DT_FLOAT || d == PL_DT_DOUBLE ||
           d == PL_DT_BOOL;
}

static void clear_entries(table *t) {
    for (size_t i = 0; i < t->n; i++) {
        if (t->skeys) free(t->skeys[i].data);
        if (t->value_dtype == PL_DT_STRING) free(((pl_str *)t->values)[i].data);
    }
    t->n = 0;
    if (t->slots) memset(t->slots, 0, t->nslots * sizeof *t->slots);
}

static void table_destroy(pl_object *obj) {
    table *t = (table *)obj;
    clear_entries(t);
    free(t->skeys);
    free(t->ikeys);
    free(t->values);
    free(t->slots);
    pthread_rwlock_destroy(&t->mu);
    free(t->res.container);
    free(t->res.name);
    free(t);
}

const pl_object_type pl__table_type = {"LookupTable", table_destroy};

static uint64_t hash_key(const table *t, table_key k) {
    if (key_is_string(t->key_dtype)) {
        uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
        for (size_t i = 0; i < k.len; i++) h = (h ^ (unsigned char)k.s[i]) * 0x100000001b3ull;
        return h ^ (h >> 29);
    }
    uint64_t z = (uint64_t)k.i + 0x9e3779b97f4a7c15ull; /* splitmix64 finaliser */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool key_equals(const table *t, size_t e, table_key k) {
    if (key_is_string(t->key_dtype))
        return t->skeys[e].len == k.len && (k.len == 0 || !memcmp(t->skeys[e].data, k.s, k.len));
    return t->ikeys[e] == k.i;
}

/* The entry holding k, or -1. */
static int64_t find_entry(const table *t, table_key k) {
    if (!t->nslots) return -1;
    size_t mask = t->nslots - 1;
    for (size_t s = (size_t)hash_key(t, k) & mask;; s = (s + 1) & mask) {
        uint32_t e = t->slots[s];
        if (!e) return -1;
        if (key_equals(t, e - 1, k)) return (int64_t)e - 1;
    }
}

static void index_entry(table *t, size_t e) {
    table_key k = key_is_string(t->key_dtype) ? (table_key){t->skeys[e].data, t->skeys[e].len, 0}
                                              : (table_key){NULL, 0, t->ikeys[e]};
    size_t mask = t->nslots - 1, s = (size_t)hash_key(t, k) & mask;
    while (t->slots[s]) s = (s + 1) & mask;
    t->slots[s] = (uint32_t)e + 1;
}

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory growing a lookup table"); }

/* Room for one more entry, keeping the index at most half full. */
static pl_status reserve(table *t) {
    if (t->n >= UINT32_MAX - 1) return pl_error(PL_RESOURCE_EXHAUSTED, "lookup table is full");
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        size_t vs = pl_dtype_size(t->value_dtype);
        void *values = realloc(t->values, cap * vs);
        if (!values) return oom();
        t->values = values;
        if (key_is_string(t->key_dtype)) {
            pl_str *k = realloc(t->skeys, cap * sizeof *k);
            if (!k) return oom();
            t->skeys = k;
        } else {
            int64_t *k = realloc(t->ikeys, cap * sizeof *k);
            if (!k) return oom();
            t->ikeys = k;
        }
        t->cap = cap;
    }
    if (2 * (t->n + 1) > t->nslots) {
        size_t nslots = t->nslots ? t->nslots * 2 : 128;
        uint32_t *slots = calloc(nslots, sizeof *slots);
        if (!slots) return oom();
        free(t->slots);
        t->slots = slots;
        t->nslots = nslots;
        for (size_t e = 0; e < t->n; e++) index_entry(t, e);
    }
    return NULL;
}

/* Stores value bytes `v` (an element of value_dtype) into entry e, replacing any old one. */
static pl_status set_value(table *t, size_t e, const void *v, bool replace) {
    if (t->value_dtype == PL_DT_STRING) {
        const pl_str *src = v;
        char *copy = malloc(src->len ? src->len : 1);
        if (!copy) return oom();
        if (src->len) memcpy(copy, src->data, src->len);
        pl_str *dst = (pl_str *)t->values + e;
        if (replace) free(dst->data);
        *dst = (pl_str){src->len, copy};
    } else {
        size_t vs = pl_dtype_size(t->value_dtype);
        memcpy((char *)t->values + e * vs, v, vs);
    }
    return NULL;
}

static bool value_equals(const table *t, size_t e, const void *v) {
    if (t->value_dtype == PL_DT_STRING) {
        const pl_str *a = (const pl_str *)t->values + e, *b = v;
        return a->len == b->len && (a->len == 0 || !memcmp(a->data, b->data, a->len));
    }
    size_t vs = pl_dtype_size(t->value_dtype);
    return !memcmp((const char *)t->values + e * vs, v, vs);
}

static void format_key(const table *t, table_key k, char *buf, size_t size) {
    if (key_is_string(t->key_dtype)) snprintf(buf, size, "%.*s", (int)(k.len > 64 ? 64 : k.len), k.s);
    else snprintf(buf, size, "%lld", (long long)k.i);
}

/* Inserts or (mutable tables) overwrites; a HashTable refuses a second, different value for a key. */
static pl_status insert(table *t, table_key k, const void *v) {
    int64_t e = find_entry(t, k);
    if (e >= 0) {
        if (t->is_mutable) return set_value(t, (size_t)e, v, true);
        if (value_equals(t, (size_t)e, v)) return NULL;
        char kb[80];
        format_key(t, k, kb, sizeof kb);
        return pl_error(PL_FAILED_PRECONDITION, "HashTable has different value for same key. Key %s has a value "
                                                "already and trying to add a different one", kb);
    }
    PL_TRY(reserve(t));
    size_t n = t->n;
    if (key_is_string(t->key_dtype)) {
        char *copy = malloc(k.len ? k.len : 1);
        if (!copy) return oom();
        if (k.len) memcpy(copy, k.s, k.len);
        t->skeys[n] = (pl_str){k.len, copy};
    } else {
        t->ikeys[n] = k.i;
    }
    pl_status st = set_value(t, n, v, false);
    if (st) {
        if (t->skeys) free(t->skeys[n].data);
        return st;
    }
    t->n++;
    index_entry(t, n);
    return NULL;
}

static table_key key_at(const pl_tensor *keys, int64_t i) {
    if (keys->dtype == PL_DT_STRING) {
        const pl_str *s = (const pl_str *)keys->data + i;
        return (table_key){s->data ? s->data : "", s->len, 0};
    }
    return (table_key){NULL, 0, pl_tensor_get_i64(keys, i)};
}

/* ---- creation: HashTableV2, MutableHashTableV2 ---- */

typedef struct table_decl {
    const char *container, *name;
    pl_dtype key_dtype, value_dtype;
    bool is_mutable;
} table_decl;

static pl_status table_create(void *arg, pl_object **out) {
    const table_decl *d = arg;
    table *t = calloc(1, sizeof *t);
    if (t) {
        t->res.container = strdup(d->container);
        t->res.name = strdup(d->name);
    }
    if (!t || !t->res.container || !t->res.name) {
        if (t) {
            free(t->res.container);
            free(t->res.name);
            free(t);
        }
        return oom();
    }
    pl_object_init(&t->res.base, &pl__table_type);
    pthread_rwlock_init(&t->mu, NULL);
    t->key_dtype = d->key_dtype;
    t->value_dtype = d->value_dtype;
    t->is_mutable = d->is_mutable;
    t->initialized = d->is_mutable;
    *out = &t->res.base;
    return NULL;
}

typedef struct table_handle_state {
    table_decl decl;
    char *container, *name;
    pl_tensor *handle;  /* resolved at prepare when the session is known */
} table_handle_state;

static pl_status make_table_handle(const table_handle_state *h, struct pl_session *s, pl_tensor **out) {
    if (!s) return pl_error(PL_FAILED_PRECONDITION, "lookup table '%s' needs a session to live in", h->name);
    pl_object *obj = NULL;
    PL_TRY(pl_session_resource_lookup_or_create(s, h->container, h->name, &pl__table_type, table_create,
                                                (void *)&h->decl, &obj));
    table *t = (table *)obj;
    pl_status st = NULL;
    if (t->key_dtype != h->decl.key_dtype || t->value_dtype != h->decl.value_dtype)
        st = pl_error(PL_INVALID_ARGUMENT, "lookup table %s exists with key/value types %s/%s, not %s/%s", h->name,
                      pl_dtype_name(t->key_dtype), pl_dtype_name(t->value_dtype), pl_dtype_name(h->decl.key_dtype),
                      pl_dtype_name(h->decl.value_dtype));
    if (!st) st = pl__handle_tensor(obj, out);
    pl_object_unref(obj);
    return st;
}

static void table_handle_release(table_handle_state *h) {
    if (!h) return;
    pl_tensor_unref(h->handle);
    free(h->container);
    free(h->name);
    free(h);
}

pl_status pl__state_table_handle_prepare(pl_kernel_prep *p) {
    if (strstr(p->op, "OfTensors") || strstr(p->op, "Dense"))
        return pl_error(PL_UNIMPLEMENTED, "%s: %s is not supported", p->node_name, p->op);
    table_handle_state *h = calloc(1, sizeof *h);
    if (!h) return oom();
    h->decl.is_mutable = strstr(p->op, "Mutable") != NULL;
    pl_status st = pl_attr_type(p->attrs, "key_dtype", &h->decl.key_dtype);
    if (!st) st = pl_attr_type(p->attrs, "value_dtype", &h->decl.value_dtype);
    if (!st && (!key_supported(h->decl.key_dtype) || !value_supported(h->decl.value_dtype)))
        st = pl_error(PL_UNIMPLEMENTED, "%s: lookup tables from %s to %s are not supported", p->node_name,
                      pl_dtype_name(h->decl.key_dtype), pl_dtype_name(h->decl.value_dtype));
    /* Unshared tables are private to their node: keyed by the node name, which is unique in the graph. */
    if (!st) st = pl__resource_key(p, &h->container, &h->name);
    if (!st) {
        h->decl.container = h->container;
        h->decl.name = h->name;
    }
    if (!st && p->session) st = make_table_handle(h, p->session, &h->handle);
    if (st) {
        table_handle_release(h);
        return st;
    }
    p->state = h;
    return NULL;
}

pl_status pl__state_table_handle_compute(pl_kernel_ctx *c) {
    const table_handle_state *h = c->state;
    pl_tensor *t = NULL;
    if (h->handle) t = pl_tensor_ref(h->handle);
    else PL_TRY(make_table_handle(h, c->session, &t));
    pl_ctx_set_output(c, 0, t);
    return NULL;
}

void pl__state_table_handle_release(void *state) { table_handle_release(state); }

/* ---- the table behind an input ---- */

static pl_status table_from_input(const pl_kernel_ctx *c, table **out) {
    const pl_tensor *t = c->num_inputs > 0 ? c->inputs[0] : NULL;
    pl_object *obj = t && t->dtype == PL_DT_RESOURCE && t->count == 1 ? pl_tensor_object(t, 0) : NULL;
    if (!obj || obj->type != &pl__table_type)
        return pl_error(PL_INVALID_ARGUMENT, "%s: input 0 must be a lookup table handle", c->node_name);
    *out = (table *)obj;
    return NULL;
}

static pl_status check_types(const table *t, const pl_tensor *keys, const pl_tensor *values) {
    bool key_ok = keys->dtype == t->key_dtype;
    if (!key_ok)
        return pl_error(PL_INVALID_ARGUMENT, "Expected key dtype %s, got %s", pl_dtype_name(t->key_dtype),
                        pl_dtype_name(keys->dtype));
    if (values && values->dtype != t->value_dtype)
        return pl_error(PL_INVALID_ARGUMENT, "Expected value dtype %s, got %s", pl_dtype_name(t->value_dtype),
                        pl_dtype_name(values->dtype));
    return NULL;
}

static const void *value_ptr(const pl_tensor *v, int64_t i) {
    return (const char *)v->data + (size_t)i * pl_dtype_size(v->dtype);
}

/* Writer side of initialisation: a HashTable filled a second time must receive the same contents. */
static pl_status insert_all(table *t, const pl_tensor *keys, const pl_tensor *values) {
    for (int64_t i = 0; i < keys->count; i++) PL_TRY(insert(t, key_at(keys, i), value_ptr(values, i)));
    return NULL;
}

static pl_status same_contents(const table *t, const pl_tensor *keys, const pl_tensor *values) {
    for (int64_t i = 0; i < keys->count; i++) {
        int64_t e = find_entry(t, key_at(keys, i));
        if (e < 0 || !value_equals(t, (size_t)e, value_ptr(values, i)))
            return pl_error(PL_FAILED_PRECONDITION, "Table was already initialized with different data.");
    }
    return NULL;
}

/* ---- InitializeTableV2, LookupTableImportV2, LookupTableInsertV2 ---- */

static pl_status fill(pl_kernel_ctx *c, bool replace_all) {
    table *t = NULL;
    PL_TRY(table_from_input(c, &t));
    if (c->num_inputs < 3) return pl_error(PL_INVALID_ARGUMENT, "%s: expected keys and values", c->node_name);
    const pl_tensor *keys = c->inputs[1], *values = c->inputs[2];
    PL_TRY(check_types(t, keys, values));
    if (keys->count != values->count)
        return pl_error(PL_INVALID_ARGUMENT, "Expected shape of keys and values to match: %lld vs %lld elements",
                        (long long)keys->count, (long long)values->count);
    pthread_rwlock_wrlock(&t->mu);
    pl_status st = NULL;
    if (!t->is_mutable && t->initialized) {
        st = same_contents(t, keys, values);
    } else {
        if (replace_all) clear_entries(t);
        st = insert_all(t, keys, values);
        if (!st) t->initialized = true;
    }
    pthread_rwlock_unlock(&t->mu);
    return st;
}

pl_status pl__state_table_init_compute(pl_kernel_ctx *c) {
    table *t = NULL;
    PL_TRY(table_from_input(c, &t));
    /* Import replaces a mutable table's contents; for a HashTable it is its initialisation. */
    return fill(c, t->is_mutable);
}

pl_status pl__state_table_insert_compute(pl_kernel_ctx *c) {
    table *t = NULL;
    PL_TRY(table_from_input(c, &t));
    if (!t->is_mutable) return pl_error(PL_UNIMPLEMENTED, "%s: a HashTable cannot be inserted into", c->node_name);
    return fill(c, false);
}

/* ---- InitializeTableFromTextFileV2 ---- */

#define LINE_NUMBER (-1) /* TensorFlow's TextFileIndex.LINE_NUMBER */
#define WHOLE_LINE (-2)  /* TextFileIndex.WHOLE_LINE */
/* Lines longer than this are refused rather than read without bound. */
#define MAX_LINE (1 << 24)

typedef struct text_init {
    int64_t key_index, value_index, vocab_size, offset;
    char *delimiter;
} text_init;

static void text_init_release(void *state) {
    text_init *ti = state;
    if (ti) free(ti->delimiter);
    free(ti);
}

pl_status pl__state_table_init_file_prepare(pl_kernel_prep *p) {
    text_init *ti = calloc(1, sizeof *ti);
    if (!ti) return oom();
    pl_status st = pl_attr_int(p->attrs, "key_index", &ti->key_index);
    if (!st) st = pl_attr_int(p->attrs, "value_index", &ti->value_index);
    ti->vocab_size = pl_attr_int_or(p->attrs, "vocab_size", -1);
    ti->offset = pl_attr_int_or(p->attrs, "offset", 0);
    const char *d = "\t";
    size_t dlen = 1;
    if (!st && pl_attr_has(p->attrs, "delimiter")) st = pl_attr_string(p->attrs, "delimiter", &d, &dlen);
    if (!st && !(ti->delimiter = strndup(d, dlen))) st = oom();
    if (!st && (ti->key_index < WHOLE_LINE || ti->value_index < WHOLE_LINE))
        st = pl_error(PL_INVALID_ARGUMENT, "%s: key_index and value_index must be -2, -1 or a column", p->node_name);
    if (st) {
        text_init_release(ti);
        return st;
    }
    p->state = ti;
    return NULL;
}

void pl__state_table_init_file_release(void *state) { text_init_release(state); }

/* Column `index` of the line (split on any delimiter character), or the
 * whole line for WHOLE_LINE; *ok is false when the line has too few columns. */
static void field(const char *line, size_t len, const char *delims, int64_t index, const char **f, size_t *flen,
                  bool *ok) {
    *ok = true;
    if (index == WHOLE_LINE) {
        *f = line;
        *flen = len;
        return;
    }
    size_t start = 0;
    int64_t col = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || (delims[0] && strchr(delims, line[i]) && line[i])) {
            if (col == index) {
                *f = line + start;
                *flen = i - start;
                return;
            }
            col++;
            start = i + 1;
        }
    }
    *ok = false;
}

static pl_status count_columns_error(const char *file, int64_t line_no, int64_t need) {
    return pl_error(PL_INVALID_ARGUMENT, "Invalid line in %s at line %lld: expected at least %lld columns", file,
                    (long long)line_no, (long long)need);
}

/* Converts one field into a typed scalar for dtype d (string fields are borrowed). */
static pl_status convert(pl_dtype d, const char *f, size_t len, const char *file, int64_t line_no, void *out) {
    if (d == PL_DT_STRING) {
        *(pl_str *)out = (pl_str){len, (char *)f};
        return NULL;
    }
    char buf[128];
    if (len == 0 || len >= sizeof buf) goto bad;
    memcpy(buf, f, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    if (d == PL_DT_INT64 || d == PL_DT_INT32) {
        long long v = strtoll(buf, &end, 10);
        if (*end || errno || (d == PL_DT_INT32 && (v < INT32_MIN || v > INT32_MAX))) goto bad;
        if (d == PL_DT_INT64) *(int64_t *)out = v;
        else *(int32_t *)out = (int32_t)v;
        return NULL;
    }
    if (d == PL_DT_FLOAT || d == PL_DT_DOUBLE) {
        double v = strtod(buf, &end);
        if (*end) goto bad;
        if (d == PL_DT_DOUBLE) *(double *)out = v;
        else *(float *)out = (float)v;
        return NULL;
    }
    if (d == PL_DT_BOOL) {
        if (len == 4 && !memcmp(buf, "true", 4)) *(uint8_t *)out = 1;
        else if (len == 5 && !memcmp(buf, "false", 5)) *(uint8_t *)out = 0;
        else goto bad;
        return NULL;
    }
bad:
    return pl_error(PL_INVALID_ARGUMENT, "Field %.*s in line %lld of %s is not a valid %s.", (int)(len > 64 ? 64 : len),
                    f, (long long)line_no, file, pl_dtype_name(d));
}

static pl_status line_value(pl_dtype d, int64_t index, const char *line, size_t len, const char *delims,
                            int64_t line_no, const char *file, void *out) {
    if (index == LINE_NUMBER) {
        if (d == PL_DT_INT64) *(int64_t *)out = line_no;
        else if (d == PL_DT_INT32) *(int32_t *)out = (int32_t)line_no;
        else return pl_error(PL_INVALID_ARGUMENT, "line numbers can only fill int32 or int64 fields, not %s",
                             pl_dtype_name(d));
        return NULL;
    }
    const char *f;
    size_t flen;
    bool ok;
    field(line, len, delims, index, &f, &flen, &ok);
    if (!ok) return count_columns_error(file, line_no, index + 1);
    return convert(d, f, flen, file, line_no, out);
}

static pl_status init_from_file(table *t, const text_init *ti, const char *file) {
    FILE *fp = fopen(file, "rb");
    if (!fp) return pl_error(errno == ENOENT ? PL_NOT_FOUND : PL_FAILED_PRECONDITION, "%s; %s", file, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int64_t n = 0;
    pl_status st = NULL;
    while (!st && (ti->vocab_size < 0 || n < ti->vocab_size) && (got = getline(&line, &cap, fp)) >= 0) {
        size_t len = (size_t)got;
        if (len > MAX_LINE) {
            st = pl_error(PL_INVALID_ARGUMENT, "line %lld of %s is longer than %d bytes", (long long)n, file, MAX_LINE);
            break;
        }
        /* As TensorFlow's line reader: strip "\n" and a "\r" before it. */
        if (len && line[len - 1] == '\n') len--;
        if (len && line[len - 1] == '\r') len--;
        int64_t line_no = n + ti->offset;
        union {
            pl_str s;
            int64_t i;
            double d;
        } k, v;
        st = line_value(t->key_dtype == PL_DT_INT32 ? PL_DT_INT64 : t->key_dtype, ti->key_index, line, len,
                        ti->delimiter, line_no, file, &k);
        if (!st) st = line_value(t->value_dtype, ti->value_index, line, len, ti->delimiter, line_no, file, &v);
        if (!st) {
            table_key key = key_is_string(t->key_dtype) ? (table_key){k.s.data, k.s.len, 0} : (table_key){NULL, 0, k.i};
            st = insert(t, key, &v);
        }
        n++;
    }
    free(line);
    fclose(fp);
    if (!st && ti->vocab_size >= 0 && n < ti->vocab_size)
        st = pl_error(PL_INVALID_ARGUMENT, "Invalid vocab_size in %s: expected %lld but got %lld", file,
                      (long long)ti->vocab_size, (long long)n);
    return st;
}

pl_status pl__state_table_init_file_compute(pl_kernel_ctx *c) {
    const text_init *ti = c->state;
    table *t = NULL;
    PL_TRY(table_from_input(c, &t));
    if (c->num_inputs < 2 || c->inputs[1]->dtype != PL_DT_STRING || c->inputs[1]->count != 1)
        return pl_error(PL_INVALID_ARGUMENT, "%s: filename must be a string scalar", c->node_name);
    const pl_str *fs = c->inputs[1]->data;
    char *file = strndup(fs->data ? fs->data : "", fs->len);
    if (!file) return oom();
    pthread_rwlock_wrlock(&t->mu);
    pl_status st = NULL;
    /* A HashTable is initialised once; running its initializer again (a second init op) is harmless. */
    if (t->is_mutable || !t->initialized) {
        st = init_from_file(t, ti, file);
        if (!st) t->initialized = true;
    }
    pthread_rwlock_unlock(&t->mu);
    free(file);
    return st;
}

/* ---- LookupTableFindV2 ---- */

pl_status pl__state_table_find_compute(pl_kernel_ctx *c) {
    table *t = NULL;
    PL_TRY(table_from_input(c, &t));
    if (c->num_inputs < 3) return pl_error(PL_INVALID_ARGUMENT, "%s: expected keys and default_value", c->node_name);
    const pl_tensor *keys = c->inputs[1], *dflt = c->inputs[2];
    PL_TRY(check_types(t, keys, dflt));
    if (dflt->count != 1 && !pl_tensor_same_shape(dflt, keys))
        return pl_error(PL_INVALID_ARGUMENT, "default_value must be a scalar or have the shape of keys");
    pl_tensor *out = NULL;
    PL_TRY(pl_ctx_alloc_output(c, 0, t->value_dtype, keys->rank, keys->dims, &out));
    size_t vs = pl_dtype_size(t->value_dtype);
    pthread_rwlock_rdlock(&t->mu);
    pl_status st = t->initialized ? NULL : pl_error(PL_FAILED_PRECONDITION, "Table not initialized.");
    for (int64_t i = 0; !st && i < keys->count; i++) {
        int64_t e = find_entry(t, key_at(keys, i));
        const void *src = e >= 0 ? (const char *)t->values + (size_t)e * vs : value_ptr(dflt, dflt->count == 1 ? 0 : i);
        if (t->value_dtype == PL_DT_STRING) {
            const pl_str *s = src;
            st = pl_tensor_set_string(out, i, s->data, s->len);
        } else {
            memcpy((char *)out->data + (size_t)i * vs, src, vs);
        }
    }
    pthread_rwlock_unlock(&t->mu);
    return st;
}

/* ---- LookupTableSizeV2, LookupTableExportV2 ---- */

pl_status pl__state_table_size_compute(pl_kernel_ctx *c) {
    table *t = NULL;
    PL_TRY(table_from_input(c, &t));
    pl_tensor *out = NULL;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_INT64, 0, NULL, &out));
    pthread_rwlock_rdlock(&t->mu);
    *(int64_t *)out->data = (int64_t)t->n;
    pthread_rwlock_unlock(&t->mu);
    return NULL;
}

pl_status pl__state_table_export_prepare(pl_kernel_prep *p) {
    if (p->num_outputs < 2) p->num_outputs = 2;
    return NULL;
}

pl_status pl__state_table_export_compute(pl_kernel_ctx *c) {
    table *t = NULL;
    PL_TRY(table_from_input(c, &t));
    pthread_rwlock_rdlock(&t->mu);
    int64_t n = (int64_t)t->n;
    pl_tensor *keys = NULL, *values = NULL;
    pl_status st = pl_ctx_alloc_output(c, 0, t->key_dtype, 1, &n, &keys);
    if (!st) st = pl_ctx_alloc_output(c, 1, t->value_dtype, 1, &n, &values);
    size_t vs = pl_dtype_size(t->value_dtype);
    for (int64_t i = 0; !st && i < n; i++) {
        if (t->key_dtype == PL_DT_STRING) st = pl_tensor_set_string(keys, i, t->skeys[i].data, t->skeys[i].len);
        else if (t->key_dtype == PL_DT_INT32) ((int32_t *)keys->data)[i] = (int32_t)t->ikeys[i];
        else ((int64_t *)keys->data)[i] = t->ikeys[i];
        if (st) break;
        if (t->value_dtype == PL_DT_STRING) {
            const pl_str *s = (const pl_str *)t->values + i;
            st = pl_tensor_set_string(values, i, s->data, s->len);
        } else {
            memcpy((char *)values->data + (size_t)i * vs, (const char *)t->values + (size_t)i * vs, vs);
        }
    }
    pthread_rwlock_unlock(&t->mu);
    return st;
}
