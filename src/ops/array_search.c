/* Ops that order or search values: TopKV2, Unique, UpperBound and
 * LowerBound. Values compare in their own type (integers as int64/uint64,
 * floating point as double), never as raw bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/array_internal.h"

static bool is_float(pl_dtype d) {
    return d == PL_DT_FLOAT || d == PL_DT_DOUBLE || d == PL_DT_HALF || d == PL_DT_BFLOAT16;
}

static bool is_real(pl_dtype d) { return is_float(d) || pl__arr_is_int(d); }

/* -1, 0 or 1 as a[i] is less than, equal to or greater than b[j] (same dtype). */
static int compare(const pl_tensor *a, int64_t i, const pl_tensor *b, int64_t j) {
    if (is_float(a->dtype)) {
        double x = pl_tensor_get_f64(a, i), y = pl_tensor_get_f64(b, j);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a->dtype == PL_DT_UINT64) {
        uint64_t x = ((const uint64_t *)a->data)[i], y = ((const uint64_t *)b->data)[j];
        return x < y ? -1 : x > y ? 1 : 0;
    }
    int64_t x = pl__arr_int(a, i), y = pl__arr_int(b, j);
    return x < y ? -1 : x > y ? 1 : 0;
}

static void store_index(pl_tensor *t, int64_t i, int64_t v) {
    if (t->dtype == PL_DT_INT32) ((int32_t *)t->data)[i] = (int32_t)v;
    else ((int64_t *)t->data)[i] = v;
}

/* ---- TopKV2 (topk_op.cc) ---- */

pl_status pl__arr_prep_top_k_v2(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    s->i[0] = pl_attr_bool_or(p->attrs, "sorted", true);
    s->type = pl_attr_type_or(p->attrs, "index_type", PL_DT_INT32);
    if (s->type != PL_DT_INT32 && s->type != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "TopKV2: index_type must be int32 or int64");
    if (p->num_outputs < 2) p->num_outputs = 2;
    return NULL;
}

typedef struct {
    const pl_tensor *t;
    int64_t base;
} row_ctx;

/* Larger values first; equal values keep the lower index first. */
static int by_value_desc(const void *pa, const void *pb, void *arg) {
    const row_ctx *r = arg;
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    int c = compare(r->t, r->base + b, r->t, r->base + a);
    if (c) return c;
    return a < b ? -1 : a > b;
}

pl_status pl__arr_top_k_v2(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *in = c->inputs[0], *k_t = c->inputs[1];
    char a[64];
    if (k_t->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "k must be scalar, got shape %s", pl__arr_shape_str(k_t, a, sizeof a));
    PL_TRY(pl__arr_want_index(k_t, "k"));
    int64_t k = pl__arr_int(k_t, 0);
    if (k < 0) return pl_error(PL_INVALID_ARGUMENT, "Need k >= 0, got %lld", (long long)k);
    if (in->rank < 1)
        return pl_error(PL_INVALID_ARGUMENT, "input must be >= 1-D, got shape %s", pl__arr_shape_str(in, a, sizeof a));
    if (!is_real(in->dtype)) return pl_error(PL_INVALID_ARGUMENT, "TopKV2 of %s is not supported", pl_dtype_name(in->dtype));
    int64_t cols = in->dims[in->rank - 1];
    if (cols < k)
        return pl_error(PL_INVALID_ARGUMENT, "input must have at least k columns. Had %lld, needed %lld", (long long)cols,
                        (long long)k);
    int64_t dims[PL_MAX_RANK];
    memcpy(dims, in->dims, sizeof dims);
    dims[in->rank - 1] = k;
    pl_tensor *values, *indices;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, in->rank, dims, &values));
    PL_TRY(pl_ctx_alloc_output(c, 1, s->type, in->rank, dims, &indices));
    if (values->count == 0) return NULL;
    int64_t rows = in->count / cols;
    int64_t *order = malloc((size_t)cols * sizeof *order);
    if (!order) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < cols; j++) order[j] = j;
        /* sorted=false with k = cols keeps the input order, as TensorFlow does. */
        if (s->i[0] || k != cols) {
            row_ctx rc = {in, r * cols};
            qsort_r(order, (size_t)cols, sizeof *order, by_value_desc, &rc);
        }
        for (int64_t j = 0; j < k; j++) {
            pl__arr_copy(values, r * k + j, in, r * cols + order[j], 1);
            store_index(indices, r * k + j, order[j]);
        }
    }
    free(order);
    return NULL;
}

/* ---- Unique ---- */

pl_status pl__arr_prep_out_idx(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    s->type = pl_attr_type_or(p->attrs, "out_idx", PL_DT_INT32);
    if (s->type != PL_DT_INT32 && s->type != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "%s: out_idx must be int32 or int64", p->op);
    int outputs = !strcmp(p->op, "UniqueWithCounts") ? 3 : 2;
    if (p->num_outputs < outputs) p->num_outputs = outputs;
    return NULL;
}

static uint64_t hash_bytes(const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* Hash and equality as std::unordered_map<T> sees them: floats by value
 * (0.0 == -0.0, NaN equal to nothing), strings by content. */
static uint64_t elem_hash(const pl_tensor *t, int64_t i) {
    if (t->dtype == PL_DT_STRING) {
        const pl_str *s = &((const pl_str *)t->data)[i];
        return hash_bytes(s->data, s->len);
    }
    if (is_float(t->dtype)) {
        double v = pl_tensor_get_f64(t, i);
        if (v == 0) v = 0;
        return hash_bytes(&v, sizeof v);
    }
    size_t esz = pl_dtype_size(t->dtype);
    return hash_bytes((const char *)t->data + (size_t)i * esz, esz);
}

/* t[i] == u[j] (same dtype). */
static bool elem_equal2(const pl_tensor *t, int64_t i, const pl_tensor *u, int64_t j) {
    if (t->dtype == PL_DT_STRING) {
        const pl_str *a = &((const pl_str *)t->data)[i], *b = &((const pl_str *)u->data)[j];
        return a->len == b->len && (a->len == 0 || !memcmp(a->data, b->data, a->len));
    }
    if (is_float(t->dtype)) return pl_tensor_get_f64(t, i) == pl_tensor_get_f64(u, j);
    if (t->dtype == PL_DT_COMPLEX64 || t->dtype == PL_DT_COMPLEX128) {
        /* by value, like the real types */
        const size_t half = pl_dtype_size(t->dtype) / 2;
        for (int part = 0; part < 2; part++) {
            double x, y;
            if (half == 4) {
                x = ((const float *)t->data)[2 * i + part];
                y = ((const float *)u->data)[2 * j + part];
            } else {
                x = ((const double *)t->data)[2 * i + part];
                y = ((const double *)u->data)[2 * j + part];
            }
            if (x != y) return false;
        }
        return true;
    }
    size_t esz = pl_dtype_size(t->dtype);
    return !memcmp((const char *)t->data + (size_t)i * esz, (const char *)u->data + (size_t)j * esz, esz);
}

static bool elem_equal(const pl_tensor *t, int64_t i, int64_t j) { return elem_equal2(t, i, t, j); }

/* Unique and UniqueWithCounts: values in first-occurrence order, each
 * element's index among them, and (with counts) how often each occurs. */
static pl_status unique(pl_kernel_ctx *c, bool with_counts) {
    const pl__arr_state *s = c->state;
    const pl_tensor *x = c->inputs[0];
    if (x->rank != 1) return pl_error(PL_INVALID_ARGUMENT, "unique expects a 1D vector.");
    if (x->dtype == PL_DT_RESOURCE || x->dtype == PL_DT_VARIANT)
        return pl_error(PL_INVALID_ARGUMENT, "Unique of %s is not supported", pl_dtype_name(x->dtype));
    if (s->type == PL_DT_INT32 && x->count > INT32_MAX)
        return pl_error(PL_INVALID_ARGUMENT, "unique does not support input sizes that large (%lld)", (long long)x->count);
    int64_t n = x->count;
    pl_tensor *idx;
    PL_TRY(pl_ctx_alloc_output(c, 1, s->type, 1, x->dims, &idx));
    /* Open addressing over element positions; slots hold first occurrences. */
    size_t cap = 16;
    while (cap < (size_t)n * 2) cap *= 2;
    int64_t *slots = malloc(cap * sizeof *slots);       /* position of a first occurrence, or -1 */
    int64_t *unique_of = malloc(cap * sizeof *unique_of); /* its index among the unique values */
    int64_t *firsts = malloc((size_t)(n ? n : 1) * sizeof *firsts);
    int64_t *counts = calloc((size_t)(n ? n : 1), sizeof *counts);
    pl_status st = NULL;
    if (!slots || !unique_of || !firsts || !counts) {
        st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    memset(slots, 0xff, cap * sizeof *slots);
    int64_t n_unique = 0;
    for (int64_t i = 0; i < n; i++) {
        size_t h = (size_t)elem_hash(x, i) & (cap - 1);
        while (slots[h] >= 0 && !elem_equal(x, slots[h], i)) h = (h + 1) & (cap - 1);
        if (slots[h] < 0) {
            slots[h] = i;
            unique_of[h] = n_unique;
            firsts[n_unique++] = i;
        }
        counts[unique_of[h]]++;
        store_index(idx, i, unique_of[h]);
    }
    pl_tensor *y, *cnt;
    st = pl_ctx_alloc_output(c, 0, x->dtype, 1, &n_unique, &y);
    for (int64_t u = 0; !st && u < n_unique; u++) st = pl__arr_copy(y, u, x, firsts[u], 1);
    if (!st && with_counts) {
        st = pl_ctx_alloc_output(c, 2, s->type, 1, &n_unique, &cnt);
        for (int64_t u = 0; !st && u < n_unique; u++) store_index(cnt, u, counts[u]);
    }
done:
    free(slots);
    free(unique_of);
    free(firsts);
    free(counts);
    return st;
}

pl_status pl__arr_unique(pl_kernel_ctx *c) { return unique(c, false); }
pl_status pl__arr_unique_with_counts(pl_kernel_ctx *c) { return unique(c, true); }

/* ---- ListDiff: the elements of x not in y, in x's order, and their positions ---- */

pl_status pl__arr_list_diff(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *x = c->inputs[0], *y = c->inputs[1];
    if (x->rank != 1) return pl_error(PL_INVALID_ARGUMENT, "x should be a 1D vector.");
    if (y->rank != 1) return pl_error(PL_INVALID_ARGUMENT, "y should be a 1D vector.");
    if (x->dtype != y->dtype || x->dtype == PL_DT_RESOURCE || x->dtype == PL_DT_VARIANT)
        return pl_error(PL_INVALID_ARGUMENT, "ListDiff of %s and %s is not supported", pl_dtype_name(x->dtype),
                        pl_dtype_name(y->dtype));
    size_t cap = 16;
    while (cap < (size_t)y->count * 2) cap *= 2;
    int64_t *slots = malloc(cap * sizeof *slots);
    bool *keep = malloc((size_t)(x->count ? x->count : 1));
    pl_status st = NULL;
    if (!slots || !keep) {
        st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    memset(slots, 0xff, cap * sizeof *slots);
    for (int64_t j = 0; j < y->count; j++) {
        size_t h = (size_t)elem_hash(y, j) & (cap - 1);
        while (slots[h] >= 0 && !elem_equal(y, slots[h], j)) h = (h + 1) & (cap - 1);
        if (slots[h] < 0) slots[h] = j;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < x->count; i++) {
        size_t h = (size_t)elem_hash(x, i) & (cap - 1);
        while (slots[h] >= 0 && !elem_equal2(y, slots[h], x, i)) h = (h + 1) & (cap - 1);
        keep[i] = slots[h] < 0;
        n += keep[i];
    }
    pl_tensor *out, *idx;
    st = pl_ctx_alloc_output(c, 0, x->dtype, 1, &n, &out);
    if (!st) st = pl_ctx_alloc_output(c, 1, s->type, 1, &n, &idx);
    for (int64_t i = 0, k = 0; !st && i < x->count; i++)
        if (keep[i]) {
            st = pl__arr_copy(out, k, x, i, 1);
            store_index(idx, k++, i);
        }
done:
    free(slots);
    free(keep);
    return st;
}

/* ---- UpperBound / LowerBound (searchsorted_op.cc) ---- */

static pl_status search_sorted(pl_kernel_ctx *c, bool upper) {
    const pl__arr_state *s = c->state;
    const pl_tensor *sorted = c->inputs[0], *values = c->inputs[1];
    if (sorted->rank != 2 || values->rank != 2)
        return pl_error(PL_INVALID_ARGUMENT, "sorted_inputs and values must be 2-D, got ranks %d and %d", sorted->rank,
                        values->rank);
    if (sorted->dims[0] != values->dims[0])
        return pl_error(PL_INVALID_ARGUMENT, "Leading dim_size of both tensors must match.");
    if (values->count >= INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "values tensor size must less than INT_MAX");
    if (!is_real(sorted->dtype) || sorted->dtype != values->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "%s of %s is not supported", upper ? "UpperBound" : "LowerBound",
                        pl_dtype_name(sorted->dtype));
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, s->type, 2, values->dims, &out));
    int64_t n = sorted->dims[1], m = values->dims[1];
    for (int64_t b = 0; b < values->dims[0]; b++)
        for (int64_t j = 0; j < m; j++) {
            int64_t lo = 0, hi = n;
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                int cmp = compare(sorted, b * n + mid, values, b * m + j);
                /* upper: first element > value; lower: first element >= value */
                if (upper ? cmp <= 0 : cmp < 0) lo = mid + 1;
                else hi = mid;
            }
            store_index(out, b * m + j, lo);
        }
    return NULL;
}

pl_status pl__arr_upper_bound(pl_kernel_ctx *c) { return search_sorted(c, true); }
pl_status pl__arr_lower_bound(pl_kernel_ctx *c) { return search_sorted(c, false); }
