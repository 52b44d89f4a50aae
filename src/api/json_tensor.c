/* One JSON tensor value (a scalar, {"b64": ...} or nested lists) decoded into
 * a typed buffer, with TF Serving's shape rule and checks
 * (GetDenseTensorShape and FillTensorProto in util/json_tensor.cc): the shape
 * comes from the first element at each level; then, depth first, a list must
 * sit above the leaf level and have the size of that first element's level,
 * and a leaf must sit at the leaf level and fit the dtype. Reading streams, so
 * an error found inside a list is held until the list's own size is known,
 * which TF Serving checks first. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "api/json_internal.h"
#include "base/base64.h"

/* Buffers this large grow by mremap, which moves pages instead of bytes. */
#define MAP_THRESHOLD ((size_t)1 << 20)

void pl__json_acc_init(pl__json_acc *a, pl_dtype dtype) {
    memset(a, 0, sizeof *a);
    a->dtype = dtype;
    a->elem_nbytes = dtype == PL_DT_STRING ? 2 * sizeof(size_t) : pl_dtype_size(dtype);
    if (!a->elem_nbytes) a->elem_nbytes = 1;
    pl_strbuf_init(&a->bytes, 0);
}

static void free_data(unsigned char *data, size_t cap, bool mapped) {
    if (!data) return;
    if (mapped) {
        munmap(data, cap);
    } else {
        free(data);
    }
}

void pl__json_acc_deinit(pl__json_acc *a) {
    free_data(a->data, a->cap_nbytes, a->mapped);
    pl_strbuf_deinit(&a->bytes);
    memset(a, 0, sizeof *a);
}

/* Room for one more value; false when memory runs out. */
static bool acc_grow(pl__json_acc *a) {
    size_t cap = a->cap_nbytes ? a->cap_nbytes * 2 : 4096;
    if (cap < a->cap_nbytes) return false;
    unsigned char *data;
    if (a->mapped) {
        data = mremap(a->data, a->cap_nbytes, cap, MREMAP_MAYMOVE);
        if (data == MAP_FAILED) return false;
    } else if (cap >= MAP_THRESHOLD) {
        data = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (data == MAP_FAILED) return false;
        if (a->nbytes) memcpy(data, a->data, a->nbytes);
        free(a->data);
        a->mapped = true;
    } else {
        data = aligned_alloc(PL_TENSOR_ALIGN, cap);
        if (!data) return false;
        if (a->nbytes) memcpy(data, a->data, a->nbytes);
        free(a->data);
    }
    a->data = data;
    a->cap_nbytes = cap;
    return true;
}

static inline void *acc_slot(pl__json_acc *a) {
    if (a->nbytes + a->elem_nbytes > a->cap_nbytes && !acc_grow(a)) return NULL;
    void *p = a->data + a->nbytes;
    a->nbytes += a->elem_nbytes;
    a->count++;
    return p;
}

typedef struct owned_data {
    unsigned char *data;
    size_t cap;
    bool mapped;
} owned_data;

static void release_owned(void *p) {
    owned_data *o = p;
    free_data(o->data, o->cap, o->mapped);
    free(o);
}

pl_status pl__json_acc_finish(pl__json_acc *a, int rank, const int64_t *dims, pl_tensor **out) {
    int64_t count;
    PL_TRY(pl_shape_count(rank, dims, &count));
    if (PL_NEVER(count != a->count)) return pl_error(PL_INTERNAL, "decoded %lld values for %lld elements",
                                                     (long long)a->count, (long long)count);
    pl_tensor *t;
    if (a->dtype == PL_DT_STRING) {
        PL_TRY(pl_tensor_alloc(PL_DT_STRING, rank, dims, &t));
        const size_t *spans = (const size_t *)a->data;
        /* Only empty strings leave the byte buffer unallocated, and offsetting
         * a null pointer is undefined even by zero. */
        const char *bytes = a->bytes.data ? a->bytes.data : "";
        for (int64_t i = 0; i < count; i++) {
            pl_status st = pl_tensor_set_string(t, i, bytes + spans[2 * i], spans[2 * i + 1]);
            if (st) {
                pl_tensor_unref(t);
                return st;
            }
        }
    } else if (count == 0 || !a->data) {
        PL_TRY(pl_tensor_zeros(a->dtype, rank, dims, &t));
    } else {
        owned_data *o = malloc(sizeof *o);
        if (!o) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        *o = (owned_data){a->data, a->cap_nbytes, a->mapped};
        pl_status st = pl_tensor_wrap(a->dtype, rank, dims, a->data, release_owned, o, &t);
        if (st) {
            free(o);
            return st;
        }
        a->data = NULL;
        a->cap_nbytes = a->nbytes = 0;
        a->mapped = false;
    }
    a->count = 0;
    a->nbytes = 0;
    *out = t;
    return NULL;
}

void pl__json_shape_string(int rank, const int64_t *dims, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && n < size; i++) n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (n < size) snprintf(buf + n, size - n, "]");
}

pl_status pl__json_value_error(pl_code code, const pl__json_cur *c, const char *value, const char *fmt, ...) {
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    pl_strbuf_puts(&b, "JSON Value: ");
    pl__json_debug_string(value, c->end, &b);
    char rest[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rest, sizeof rest, fmt, ap);
    va_end(ap);
    pl_strbuf_puts(&b, rest);
    pl_status st = b.failed ? pl_error(code, "%s", rest) : pl_error(code, "%s", b.data);
    pl_strbuf_deinit(&b);
    return st;
}

bool pl__json_is_b64_object(const pl__json_cur *c) {
    if (*c->p != '{') return false;
    pl__json_cur t = *c;
    t.err = PL__JSON_ERR_NONE;
    t.p++;
    pl__json_ws(&t);
    if (*t.p != '"') return false;
    const char *key = t.p;
    if (!pl__json_parse_string(&t, NULL)) return false;
    if (memchr(key, '\\', (size_t)(t.p - key))) {
        /* An escaped key ("\u0062\u0036\u0034") is compared decoded, as
         * rapidjson's FindMember does. */
        pl_strbuf k;
        pl_strbuf_init(&k, 64);
        pl__json_cur kc = *c;
        kc.p = key;
        bool is_b64 = pl__json_parse_string(&kc, &k) && k.len == 3 && memcmp(k.data, "b64", 3) == 0;
        pl_strbuf_deinit(&k);
        if (!is_b64) return false;
    } else if (t.p - key != 5 || memcmp(key, "\"b64\"", 5)) {
        return false;
    }
    pl__json_ws(&t);
    if (*t.p != ':') return false;
    t.p++;
    pl__json_ws(&t);
    if (*t.p != '"' || !pl__json_parse_string(&t, NULL)) return false;
    pl__json_ws(&t);
    return *t.p == '}';
}

/* The JSON type names of TF Serving's JsonTypeString. */
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

typedef struct ctx {
    pl__json_cur *c;
    pl__json_acc *acc;
    pl__json_tval *tv;
    pl_strbuf *scratch;
} ctx;

static pl_status type_error(ctx *x, const char *start) {
    return pl__json_value_error(PL_INVALID_ARGUMENT, x->c, start, " Type: %s is not of expected type: %s",
                                json_type(*start), pl_dtype_string(x->acc->dtype));
}

/* An object leaf: {"b64": ...} for strings, a type error otherwise. */
static bool leaf_object(ctx *x, pl_status *err) {
    const char *start = x->c->p;
    bool b64 = pl__json_is_b64_object(x->c);
    if (!b64 || x->acc->dtype != PL_DT_STRING || x->tv->failed) {
        if (!pl__json_skip_value(x->c)) return false;
        if (x->acc->dtype != PL_DT_STRING) {
            *err = type_error(x, start);
        } else if (!b64) {
            *err = pl__json_value_error(PL_INVALID_ARGUMENT, x->c, start, " not formatted correctly for base64 data");
        }
        return true;
    }
    /* {"b64": "<text>"}: decode the text, then the base64. */
    x->c->p++;
    pl__json_ws(x->c);
    pl__json_parse_string(x->c, NULL);
    pl__json_ws(x->c);
    x->c->p++;
    pl__json_ws(x->c);
    pl_strbuf_clear(x->scratch);
    if (!pl__json_parse_string(x->c, x->scratch)) return false;
    pl__json_ws(x->c);
    x->c->p++;
    pl_strbuf *bytes = &x->acc->bytes;
    size_t off = bytes->len, max = pl_base64_decoded_max_nbytes(x->scratch->len), n = 0;
    char *dst = pl_strbuf_reserve(bytes, max);
    if (!dst || x->scratch->failed) {
        *err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory decoding base64");
        return true;
    }
    if (!pl_base64_decode(x->scratch->data ? x->scratch->data : "", x->scratch->len, dst, &n)) {
        *err = pl_error(PL_INVALID_ARGUMENT, "Unable to base64 decode");
        return true;
    }
    pl_strbuf_commit(bytes, n);
    size_t *span = acc_slot(x->acc);
    if (!span) {
        *err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        return true;
    }
    span[0] = off;
    span[1] = n;
    x->tv->count++;
    return true;
}

static bool out_of_memory(pl_status *err) {
    *err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    return true;
}

/* A number leaf for a numeric dtype (AddValueToTensor's checks). */
static bool leaf_number(ctx *x, pl_status *err) {
    pl__json_cur *c = x->c;
    pl__json_acc *a = x->acc;
    const char *start = c->p;
    if (*start == '"' || *start == 't' || *start == 'f' || *start == 'n') {
        if (!pl__json_skip_value(c)) return false;
        *err = type_error(x, start);
        return true;
    }
    pl__json_num n;
    if (!pl__json_parse_number(c, &n)) return false;
    bool fits;
    switch (a->dtype) {
    case PL_DT_FLOAT:
    case PL_DT_DOUBLE: fits = true; break;
    case PL_DT_INT64: fits = pl__json_num_is_int64(&n); break;
    case PL_DT_UINT32: fits = pl__json_num_is_uint32(&n); break;
    case PL_DT_UINT64: fits = pl__json_num_is_uint64(&n); break;
    default: fits = pl__json_num_is_int32(&n); break;
    }
    if (!fits) {
        *err = type_error(x, start);
        return true;
    }
    if (x->tv->failed) return true;
    void *slot = acc_slot(a);
    if (!slot) return out_of_memory(err);
    uint64_t u = n.neg ? 0 - n.mag : n.mag;
    switch (a->dtype) {
    case PL_DT_FLOAT: *(float *)slot = (float)n.d; break;
    case PL_DT_DOUBLE: *(double *)slot = n.d; break;
    /* TF copies int_val into narrower types with a plain cast, which wraps
     * (300 becomes 44 as uint8). */
    case PL_DT_INT32: *(int32_t *)slot = (int32_t)(uint32_t)u; break;
    case PL_DT_INT16: *(int16_t *)slot = (int16_t)(uint16_t)u; break;
    case PL_DT_INT8: *(int8_t *)slot = (int8_t)(uint8_t)u; break;
    case PL_DT_UINT8: *(uint8_t *)slot = (uint8_t)u; break;
    case PL_DT_INT64: *(int64_t *)slot = (int64_t)u; break;
    case PL_DT_UINT32: *(uint32_t *)slot = (uint32_t)u; break;
    default: *(uint64_t *)slot = u; break;
    }
    x->tv->count++;
    return true;
}

static bool leaf_bool(ctx *x, pl_status *err) {
    pl__json_cur *c = x->c;
    const char *start = c->p;
    int v = -1;
    if (!(*start == 't' || *start == 'f' ? pl__json_parse_literal(c, &v) : pl__json_skip_value(c))) return false;
    if (v < 0) {
        *err = type_error(x, start);
        return true;
    }
    if (x->tv->failed) return true;
    uint8_t *slot = acc_slot(x->acc);
    if (!slot) return out_of_memory(err);
    *slot = (uint8_t)v;
    x->tv->count++;
    return true;
}

static bool leaf_string(ctx *x, pl_status *err) {
    pl__json_cur *c = x->c;
    pl__json_acc *a = x->acc;
    const char *start = c->p;
    if (*start != '"') {
        if (!pl__json_skip_value(c)) return false;
        *err = type_error(x, start);
        return true;
    }
    if (x->tv->failed) return pl__json_parse_string(c, NULL);
    size_t off = a->bytes.len;
    if (!pl__json_parse_string(c, &a->bytes)) return false;
    size_t *span = acc_slot(a);
    if (!span || a->bytes.failed) return out_of_memory(err);
    span[0] = off;
    span[1] = a->bytes.len - off;
    x->tv->count++;
    return true;
}

/* A scalar or object at the leaf level. */
static bool leaf(ctx *x, int level, bool first_chain, pl_status *err) {
    pl__json_cur *c = x->c;
    pl__json_tval *tv = x->tv;
    const char *start = c->p;
    if (first_chain) {
        tv->rank = level;
    } else if (level != tv->rank) {
        if (!pl__json_skip_value(c)) return false;
        *err = pl__json_value_error(PL_INVALID_ARGUMENT, c, start,
                                    " found at incorrect level: %d in the JSON DOM. Expected at level: %d", level + 1,
                                    tv->rank);
        return true;
    }
    if (*start == '{') return leaf_object(x, err);
    switch (x->acc->dtype) {
    case PL_DT_FLOAT:
    case PL_DT_DOUBLE:
    case PL_DT_INT32:
    case PL_DT_INT16:
    case PL_DT_INT8:
    case PL_DT_UINT8:
    case PL_DT_INT64:
    case PL_DT_UINT32:
    case PL_DT_UINT64: return leaf_number(x, err);
    case PL_DT_BOOL: return leaf_bool(x, err);
    case PL_DT_STRING: return leaf_string(x, err);
    default:
        /* half, bfloat16, uint16, complex, quantized: TF Serving has no JSON
         * conversion for them (spec/tfs-api.md 1c). */
        if (!pl__json_skip_value(c)) return false;
        *err = pl__json_value_error(PL_UNIMPLEMENTED, c, start, " to type: %s", pl_dtype_string(x->acc->dtype));
        *err = pl_status_prefix(*err, "Conversion of ");
        return true;
    }
}

/* Stores a plain number at c->p into a numeric accumulator; false (nothing
 * consumed) when the general path must decide. */
PL__JSON_HOT static inline bool store_number_fast(ctx *x) {
    pl__json_acc *a = x->acc;
    if (x->tv->failed || (a->nbytes + 8 > a->cap_nbytes && !acc_grow(a))) return false;
    unsigned char *slot = a->data + a->nbytes;
    const char *end;
    switch (a->dtype) {
    case PL_DT_FLOAT: {
        double d;
        if (!(end = pl__json_fast_double(x->c->p, x->c->end, &d))) return false;
        float f = (float)d;
        memcpy(slot, &f, 4);
        break;
    }
    case PL_DT_DOUBLE: {
        double d;
        if (!(end = pl__json_fast_double(x->c->p, x->c->end, &d))) return false;
        memcpy(slot, &d, 8);
        break;
    }
    case PL_DT_INT32:
    case PL_DT_INT64:
    case PL_DT_UINT8: {
        int64_t v;
        if (!(end = pl__json_fast_int(x->c->p, &v))) return false;
        if (a->dtype == PL_DT_INT64) {
            memcpy(slot, &v, 8);
        } else if (v < INT32_MIN || v > INT32_MAX) {
            return false; /* not IsInt(): the general path reports it */
        } else if (a->dtype == PL_DT_INT32) {
            int32_t i = (int32_t)v;
            memcpy(slot, &i, 4);
        } else {
            *slot = (uint8_t)v;
        }
        break;
    }
    default: return false;
    }
    a->nbytes += a->elem_nbytes;
    a->count++;
    x->tv->count++;
    x->c->p = end;
    return true;
}

/* After a fast number: numbers come in runs, so this stays in a tight loop
 * over ", <number>" while the fast parser takes them. It stops before a comma
 * it cannot follow up, leaving that comma to the general path. Returns how
 * many numbers it stored. */
static int64_t number_run(ctx *x) {
    int64_t k = 0;
    for (;;) {
        const char *before = x->c->p, *p = before;
        while (pl__json_is_ws(*p)) p++;
        if (*p != ',') return k;
        for (p++; pl__json_is_ws(*p); p++) {
        }
        x->c->p = p;
        if (!store_number_fast(x)) {
            x->c->p = before;
            return k;
        }
        k++;
    }
}

/* A list at `level` (0 for the outermost). */
static bool list(ctx *x, int level, bool first_chain, pl_status *err) {
    pl__json_cur *c = x->c;
    pl__json_tval *tv = x->tv;
    if (!first_chain && level >= tv->rank) {
        if (!pl__json_skip_value(c)) return false;
        *err = pl_error(PL_INVALID_ARGUMENT, "Encountered list at unexpected level: %d expected < %d", level, tv->rank);
        return true;
    }
    if (first_chain && level >= tv->max_rank) {
        /* The rest of this value is skipped iteratively: nesting depth never
         * becomes recursion depth. */
        if (!pl__json_skip_value(c)) return false;
        *err = pl__json_value_error(PL_INVALID_ARGUMENT, c, tv->start, " has more than %d dimensions", tv->max_rank);
        return true;
    }
    int64_t n = 0;
    pl_status first = NULL;
    bool started = false;
    int more;
    while ((more = pl__json_next_element(c, &started)) > 0) {
        n++;
        /* The hot path: a number where numbers belong. Anything else, or a
         * number the fast parser leaves alone, takes the general path. */
        if (tv->rank == level + 1 && !first && store_number_fast(x)) {
            n += number_run(x);
            continue;
        }
        if (first) {
            if (!pl__json_skip_value(c)) break;
            continue;
        }
        bool child_first = first_chain && n == 1;
        bool ok = *c->p == '[' ? list(x, level + 1, child_first, &first) : leaf(x, level + 1, child_first, &first);
        if (!ok) break;
        if (first) tv->failed = true;
    }
    if (more != 0) {
        pl_status_free(first);
        return false;
    }
    if (first_chain) {
        tv->dims[level] = n;
        if (n == 0) tv->rank = level + 1;
    } else if (n != tv->dims[level]) {
        pl_status_free(first);
        first = pl_error(PL_INVALID_ARGUMENT, "Encountered list at unexpected size: %lld at level: %d expected size: %lld",
                         (long long)n, level, (long long)tv->dims[level]);
    }
    *err = first;
    return true;
}

bool pl__json_decode_tensor(pl__json_cur *c, pl__json_acc *acc, pl__json_tval *tv, pl_strbuf *scratch,
                            pl_status *err) {
    ctx x = {c, acc, tv, scratch};
    tv->rank = -1;
    tv->count = 0;
    tv->start = c->p;
    *err = NULL;
    bool ok = *c->p == '[' ? list(&x, 0, true, err) : leaf(&x, 0, true, err);
    if (*err) tv->failed = true;
    return ok;
}
