/* The element-wise engine of the math family: TensorFlow's broadcasting rules
 * for up to three inputs, the collapsed row loop that every element-wise
 * kernel runs through (split across OpenMP threads for large outputs), and
 * the float widening used for half and bfloat16. */
#include <omp.h>
#include <stdio.h>

#include "ops/math_internal.h"

bool pl__ew_plan_init(pl__ew_plan *p, int n_in, const pl_tensor *const *in) {
    int r = 0;
    for (int i = 0; i < n_in; i++)
        if (in[i]->rank > r) r = in[i]->rank;
    /* shape[i][d]: input i's size along output dim d, padded with leading 1s. */
    int64_t shape[PL__EW_MAX_IN][PL_MAX_RANK];
    p->n_in = n_in;
    p->out_rank = r;
    p->count = 1;
    for (int d = 0; d < r; d++) {
        int64_t o = 1;
        for (int i = 0; i < n_in; i++) {
            int k = d - (r - in[i]->rank);
            int64_t s = k >= 0 ? in[i]->dims[k] : 1;
            shape[i][d] = s;
            if (s == 1 || s == o) continue;
            if (o != 1) return false;
            o = s;
        }
        p->out_dims[d] = o;
        p->count *= o;
    }
    /* Collapse: drop size-1 output dims, merge neighbours broadcast alike. */
    int n = 0;
    bool prev_bc[PL__EW_MAX_IN] = {false};
    for (int d = 0; d < r; d++) {
        if (p->out_dims[d] == 1) continue;
        bool bc[PL__EW_MAX_IN], same = n > 0;
        for (int i = 0; i < n_in; i++) {
            bc[i] = shape[i][d] == 1;
            if (bc[i] != prev_bc[i]) same = false;
        }
        if (same) {
            p->dims[n - 1] *= p->out_dims[d];
        } else {
            p->dims[n++] = p->out_dims[d];
            for (int i = 0; i < n_in; i++) prev_bc[i] = bc[i];
        }
        /* Remember per collapsed dim whether each input is broadcast there. */
        for (int i = 0; i < n_in; i++) p->strides[i][n - 1] = bc[i] ? 0 : 1;
    }
    if (n == 0) { /* every dim is 1: one element */
        p->dims[0] = 1;
        for (int i = 0; i < n_in; i++) p->strides[i][0] = 0;
        n = 1;
    }
    p->rank = n;
    for (int i = 0; i < n_in; i++) {
        int64_t acc = 1;
        for (int k = n - 1; k >= 0; k--) {
            if (p->strides[i][k]) {
                p->strides[i][k] = acc;
                acc *= p->dims[k];
            }
        }
    }
    return true;
}

typedef struct ew_job {
    const pl__ew_plan *p;
    const char *in[PL__EW_MAX_IN];
    size_t in_size[PL__EW_MAX_IN];
    char *out;
    size_t out_size;
    pl__ew_row_fn fn;
    const void *ctx;
} ew_job;

/* Rows [r0, r1) of the collapsed loop, restricted to columns [c0, c1). */
static int ew_rows(const ew_job *j, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    const pl__ew_plan *p = j->p;
    int last = p->rank - 1, unit[PL__EW_MAX_IN];
    int64_t idx[PL_MAX_RANK] = {0}, off[PL__EW_MAX_IN] = {0};
    int64_t rem = r0;
    for (int k = last - 1; k >= 0; k--) {
        idx[k] = rem % p->dims[k];
        rem /= p->dims[k];
    }
    for (int i = 0; i < p->n_in; i++) {
        unit[i] = p->strides[i][last] != 0;
        for (int k = 0; k < last; k++) off[i] += idx[k] * p->strides[i][k];
    }
    int err = 0;
    const char *in[PL__EW_MAX_IN];
    for (int64_t r = r0; r < r1; r++) {
        for (int i = 0; i < p->n_in; i++) in[i] = j->in[i] + (size_t)(off[i] + c0 * unit[i]) * j->in_size[i];
        err |= j->fn(j->ctx, in, unit, j->out + (size_t)(r * p->dims[last] + c0) * j->out_size, c1 - c0);
        /* Advance the odometer over the outer dims. */
        for (int k = last - 1; k >= 0; k--) {
            for (int i = 0; i < p->n_in; i++) off[i] += p->strides[i][k];
            if (++idx[k] < p->dims[k]) break;
            for (int i = 0; i < p->n_in; i++) off[i] -= p->strides[i][k] * p->dims[k];
            idx[k] = 0;
        }
    }
    return err;
}

static int ew_row_range(const void *ctx, int64_t begin, int64_t end) {
    const ew_job *j = ctx;
    return ew_rows(j, begin, end, 0, j->p->dims[j->p->rank - 1]);
}

static int ew_col_range(const void *ctx, int64_t begin, int64_t end) {
    return ew_rows(ctx, 0, 1, begin, end);
}

int pl__ew_run(const pl__ew_plan *p, const pl_tensor *const *in, pl_tensor *out, pl__ew_row_fn fn,
               const void *ctx) {
    if (p->count == 0) return 0;
    ew_job j = {.p = p, .out = out->data, .out_size = pl_dtype_size(out->dtype), .fn = fn, .ctx = ctx};
    for (int i = 0; i < p->n_in; i++) {
        j.in[i] = in[i]->data;
        j.in_size[i] = pl_dtype_size(in[i]->dtype);
    }
    int64_t cols = p->dims[p->rank - 1], rows = p->count / cols;
    if (rows == 1) return pl__parallel_for(cols, PL__PARALLEL_MIN / 4, ew_col_range, &j);
    /* Enough rows per piece that each piece holds about a quarter of the threshold. */
    int64_t grain = (PL__PARALLEL_MIN / 4 + cols - 1) / cols;
    if (rows * cols < PL__PARALLEL_MIN) grain = rows;
    return pl__parallel_for(rows, grain, ew_row_range, &j);
}

int pl__parallel_for(int64_t n, int64_t grain, int (*body)(const void *ctx, int64_t begin, int64_t end),
                     const void *ctx) {
    if (grain < 1) grain = 1;
    int64_t pieces = (n + grain - 1) / grain;
    int threads = omp_get_max_threads();
    /* Never nest OpenMP teams: a kernel called from inside a parallel region
     * (or a small one) stays on the calling thread. */
    if (pieces < 2 || threads < 2 || omp_in_parallel() || n < grain * 2) return body(ctx, 0, n);
    if (pieces > (int64_t)threads * 4) pieces = (int64_t)threads * 4;
    int err = 0;
#pragma omp parallel for schedule(static) reduction(| : err)
    for (int64_t k = 0; k < pieces; k++) {
        int64_t b = n * k / pieces, e = n * (k + 1) / pieces;
        err |= body(ctx, b, e);
    }
    return err;
}

bool pl__is_narrow_float(pl_dtype dt) { return dt == PL_DT_HALF || dt == PL_DT_BFLOAT16; }

void pl__widen(pl_dtype dt, const void *src, int unit, float *dst, int64_t n) {
    const uint16_t *s = src;
    if (dt == PL_DT_HALF) {
        for (int64_t i = 0; i < n; i++) dst[i] = pl_half_to_float(s[unit ? i : 0]);
    } else {
        for (int64_t i = 0; i < n; i++) dst[i] = pl_bfloat16_to_float(s[unit ? i : 0]);
    }
}

void pl__narrow(pl_dtype dt, const float *src, void *dst, int64_t n) {
    uint16_t *d = dst;
    if (dt == PL_DT_HALF) {
        for (int64_t i = 0; i < n; i++) d[i] = pl_float_to_half(src[i]);
    } else {
        for (int64_t i = 0; i < n; i++) d[i] = pl_float_to_bfloat16(src[i]);
    }
}

const char *pl__dtype_short_name(pl_dtype dt) {
    switch (dt) {
    case PL_DT_FLOAT: return "float";
    case PL_DT_DOUBLE: return "double";
    case PL_DT_INT32: return "int32";
    case PL_DT_UINT8: return "uint8";
    case PL_DT_INT16: return "int16";
    case PL_DT_INT8: return "int8";
    case PL_DT_STRING: return "string";
    case PL_DT_COMPLEX64: return "complex64";
    case PL_DT_INT64: return "int64";
    case PL_DT_BOOL: return "bool";
    case PL_DT_QINT8: return "qint8";
    case PL_DT_QUINT8: return "quint8";
    case PL_DT_QINT32: return "qint32";
    case PL_DT_BFLOAT16: return "bfloat16";
    case PL_DT_QINT16: return "qint16";
    case PL_DT_QUINT16: return "quint16";
    case PL_DT_UINT16: return "uint16";
    case PL_DT_COMPLEX128: return "complex128";
    case PL_DT_HALF: return "half";
    case PL_DT_RESOURCE: return "resource";
    case PL_DT_VARIANT: return "variant";
    case PL_DT_UINT32: return "uint32";
    case PL_DT_UINT64: return "uint64";
    default: return "invalid";
    }
}

const char *pl__shape_of(const pl_tensor *t, char *buf) { return pl_shape_str(t->rank, t->dims, buf, PL__SHAPE_STR); }
