/* Reductions (Sum, Mean, Prod, Max, Min, All, Any) and ArgMax/ArgMin with
 * TensorFlow's semantics: axes are validated and normalised as
 * ReductionHelper does, reducing over nothing is the identity, reducing over
 * an empty dim gives the reducer's identity (0, 1, -inf/+inf or the type's
 * lowest/highest; NaN for a floating Mean), integer sums wrap, integer Mean
 * sums in 64 bits and divides with truncation, Max/Min propagate NaN. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/math_internal.h"

/* ---- per-(op, dtype) kernels over an accumulator type A ----
 * vec:  *acc = acc combined with x[0..n)           (reduce a contiguous run)
 * cols: acc[i] = acc[i] combined with x[i], i < n   (fold a row into a row of accumulators) */
typedef void (*red_kernel)(const void *x, int64_t n, void *acc);

#define C_SUM(a, b) ((a) + (b))
#define C_PROD(a, b) ((a) * (b))
#define C_MAXF(a, b) (((b) > (a) || (b) != (b)) ? (b) : (a))
#define C_MINF(a, b) (((b) < (a) || (b) != (b)) ? (b) : (a))
#define C_MAXI(a, b) ((b) > (a) ? (b) : (a))
#define C_MINI(a, b) ((b) < (a) ? (b) : (a))
#define C_AND(a, b) ((a) && (b))
#define C_OR(a, b) ((a) || (b))

#define COLS_FN(NAME, T, A, COMB)                                                        \
    static void NAME##_cols(const void *px, int64_t n, void *pacc) {                     \
        const T *x = px;                                                                 \
        A *acc = pacc;                                                                   \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) acc[i] = (A)COMB(acc[i], (A)x[i]); \
    }
/* Associative reductions OpenMP can split into vector lanes. */
#define VEC_OMP_FN(NAME, T, A, COMB, OMPOP)                                              \
    static void NAME##_vec(const void *px, int64_t n, void *pacc) {                      \
        const T *x = px;                                                                 \
        A s = *(A *)pacc;                                                                \
        _Pragma(OMPOP) for (int64_t i = 0; i < n; i++) s = (A)COMB(s, (A)x[i]);          \
        *(A *)pacc = s;                                                                  \
    }
/* NaN-propagating max/min: eight independent lanes, which the compiler can
 * keep in one vector register. */
#define VEC_LANES_FN(NAME, T, A, COMB)                                                   \
    static void NAME##_vec(const void *px, int64_t n, void *pacc) {                      \
        const T *x = px;                                                                 \
        A s = *(A *)pacc;                                                                \
        int64_t i = 0;                                                                   \
        if (n >= 16) {                                                                   \
            A l[8];                                                                      \
            for (int k = 0; k < 8; k++) l[k] = (A)x[k];                                  \
            for (i = 8; i + 8 <= n; i += 8)                                              \
                for (int k = 0; k < 8; k++) l[k] = COMB(l[k], (A)x[i + k]);              \
            for (int k = 0; k < 8; k++) s = COMB(s, l[k]);                               \
        }                                                                                \
        for (; i < n; i++) s = COMB(s, (A)x[i]);                                         \
        *(A *)pacc = s;                                                                  \
    }

#define SUMPROD_FNS(T, A, S)                                                             \
    VEC_OMP_FN(sum_##S, T, A, C_SUM, "omp simd reduction(+ : s)") COLS_FN(sum_##S, T, A, C_SUM) \
    VEC_OMP_FN(prod_##S, T, A, C_PROD, "omp simd reduction(* : s)") COLS_FN(prod_##S, T, A, C_PROD)
#define MINMAX_INT_FNS(T, A, S)                                                          \
    VEC_OMP_FN(max_##S, T, A, C_MAXI, "omp simd reduction(max : s)") COLS_FN(max_##S, T, A, C_MAXI) \
    VEC_OMP_FN(min_##S, T, A, C_MINI, "omp simd reduction(min : s)") COLS_FN(min_##S, T, A, C_MINI)
#define MINMAX_FLOAT_FNS(T, S)                                                           \
    VEC_LANES_FN(max_##S, T, T, C_MAXF) COLS_FN(max_##S, T, T, C_MAXF)                   \
    VEC_LANES_FN(min_##S, T, T, C_MINF) COLS_FN(min_##S, T, T, C_MINF)

SUMPROD_FNS(float, float, f32)
SUMPROD_FNS(double, double, f64)
MINMAX_FLOAT_FNS(float, f32)
MINMAX_FLOAT_FNS(double, f64)

/* Integers: sums and products wrap in uint64 (exact modulo 2^width once
 * narrowed back); max/min compare in int64 or uint64.
 * (C type, suffix, dtype, max/min accumulator) */
#define INTS(X)                                                                          \
    X(int8_t, i8, INT8, int64_t) X(int16_t, i16, INT16, int64_t) X(int32_t, i32, INT32, int64_t) \
    X(int64_t, i64, INT64, int64_t) X(uint8_t, u8, UINT8, uint64_t) X(uint16_t, u16, UINT16, uint64_t) \
    X(uint32_t, u32, UINT32, uint64_t) X(uint64_t, u64, UINT64, uint64_t)
#define INT_FNS(T, S, DT, M) SUMPROD_FNS(T, uint64_t, S) MINMAX_INT_FNS(T, M, S)
INTS(INT_FNS)

VEC_OMP_FN(all_b, uint8_t, uint8_t, C_AND, "omp simd reduction(&& : s)") COLS_FN(all_b, uint8_t, uint8_t, C_AND)
VEC_OMP_FN(any_b, uint8_t, uint8_t, C_OR, "omp simd reduction(|| : s)") COLS_FN(any_b, uint8_t, uint8_t, C_OR)

typedef struct red_fns {
    red_kernel vec, cols;
} red_fns;

#define ENTRY(OP, DT, NAME) [OP][PL_DT_##DT] = {NAME##_vec, NAME##_cols}
#define NUM_ENTRIES(S, DT)                                                               \
    ENTRY(PL__SUM, DT, sum_##S), ENTRY(PL__MEAN, DT, sum_##S), ENTRY(PL__PROD, DT, prod_##S), \
    ENTRY(PL__MAX, DT, max_##S), ENTRY(PL__MIN, DT, min_##S),
#define INT_ENTRIES(T, S, DT, M) NUM_ENTRIES(S, DT)
static const red_fns red_table[PL__REDOP_COUNT][PL_DT_COUNT] = {
    NUM_ENTRIES(f32, FLOAT) NUM_ENTRIES(f64, DOUBLE) INTS(INT_ENTRIES)
    ENTRY(PL__ALL, BOOL, all_b), ENTRY(PL__ANY, BOOL, any_b),
};

static const char *const redop_names[PL__REDOP_COUNT] = {
    [PL__SUM] = "Sum", [PL__MEAN] = "Mean", [PL__PROD] = "Prod", [PL__MAX] = "Max",
    [PL__MIN] = "Min", [PL__ALL] = "All", [PL__ANY] = "Any",
};

bool pl__redop_find(const char *op, pl__redop *out) {
    for (int i = 0; i < PL__REDOP_COUNT; i++) {
        if (!strcmp(op, redop_names[i])) {
            *out = (pl__redop)i;
            return true;
        }
    }
    return false;
}

bool pl__redop_supports(pl__redop op, pl_dtype dt) {
    if (op < 0 || op >= PL__REDOP_COUNT || !pl_dtype_valid(dt)) return false;
    if (pl__is_narrow_float(dt)) dt = PL_DT_FLOAT;
    return red_table[op][dt].vec != NULL;
}

/* ---- accumulators ---- */

typedef enum acc_kind { ACC_F32, ACC_F64, ACC_U64, ACC_I64, ACC_BOOL } acc_kind;

static acc_kind acc_of(pl__redop op, pl_dtype dt) {
    switch (dt) {
    case PL_DT_FLOAT: case PL_DT_HALF: case PL_DT_BFLOAT16: return ACC_F32;
    case PL_DT_DOUBLE: return ACC_F64;
    case PL_DT_BOOL: return ACC_BOOL;
    case PL_DT_INT8: case PL_DT_INT16: case PL_DT_INT32: case PL_DT_INT64:
        return op == PL__MAX || op == PL__MIN ? ACC_I64 : ACC_U64;
    default: return ACC_U64;
    }
}

/* The dtype whose own kernels combine two accumulators of a kind. */
static pl_dtype acc_dtype(acc_kind k) {
    static const pl_dtype d[] = {[ACC_F32] = PL_DT_FLOAT, [ACC_F64] = PL_DT_DOUBLE, [ACC_U64] = PL_DT_UINT64,
                                 [ACC_I64] = PL_DT_INT64, [ACC_BOOL] = PL_DT_BOOL};
    return d[k];
}

static int64_t int_lowest(pl_dtype dt) {
    switch (dt) {
    case PL_DT_INT8: return INT8_MIN;
    case PL_DT_INT16: return INT16_MIN;
    case PL_DT_INT32: return INT32_MIN;
    case PL_DT_INT64: return INT64_MIN;
    default: return 0;
    }
}
static uint64_t int_highest(pl_dtype dt) {
    switch (dt) {
    case PL_DT_INT8: return INT8_MAX;
    case PL_DT_INT16: return INT16_MAX;
    case PL_DT_INT32: return INT32_MAX;
    case PL_DT_INT64: return INT64_MAX;
    case PL_DT_UINT8: return UINT8_MAX;
    case PL_DT_UINT16: return UINT16_MAX;
    case PL_DT_UINT32: return UINT32_MAX;
    default: return UINT64_MAX;
    }
}

/* Fills n accumulators with the reducer's identity for dtype dt. */
static void acc_fill(pl__redop op, pl_dtype dt, acc_kind k, void *acc, int64_t n) {
    double f = 0;
    int64_t i = 0;
    uint64_t u = 0;
    switch (op) {
    case PL__PROD: f = 1, i = 1, u = 1; break;
    case PL__MAX: f = -INFINITY, i = int_lowest(dt), u = 0; break;
    case PL__MIN: f = INFINITY, i = (int64_t)int_highest(dt), u = int_highest(dt); break;
    case PL__ALL: u = 1; break;
    default: break;
    }
    for (int64_t j = 0; j < n; j++) {
        switch (k) {
        case ACC_F32: ((float *)acc)[j] = (float)f; break;
        case ACC_F64: ((double *)acc)[j] = f; break;
        case ACC_I64: ((int64_t *)acc)[j] = i; break;
        case ACC_U64: ((uint64_t *)acc)[j] = u; break;
        case ACC_BOOL: ((uint8_t *)acc)[j] = (uint8_t)u; break;
        }
    }
}

/* ---- the reduction loop ---- */

typedef struct red_job {
    const char *x;
    size_t x_size;
    pl_dtype dtype;
    bool narrow;
    red_fns fns, comb;      /* comb: the accumulator dtype's own kernels */
    size_t acc_size;
    int m;                  /* collapsed dims */
    int64_t dims[PL_MAX_RANK];
    bool reduced[PL_MAX_RANK];
    int64_t out_stride[PL_MAX_RANK]; /* accumulator stride of each kept dim; 0 for reduced */
    char *acc;
} red_job;

/* Runs a kernel over elements x[0..n), widening half/bfloat16 to float first. */
static void run_kernel(const red_job *j, red_kernel k, bool cols, const char *x, int64_t n, char *acc) {
    if (!j->narrow) {
        k(x, n, acc);
        return;
    }
    float f[PL__WIDEN_BLOCK];
    for (int64_t s = 0; s < n; s += PL__WIDEN_BLOCK) {
        int64_t m = n - s < PL__WIDEN_BLOCK ? n - s : PL__WIDEN_BLOCK;
        pl__widen(j->dtype, x + 2 * s, 1, f, m);
        k(f, m, cols ? acc + (size_t)s * j->acc_size : acc);
    }
}

/* Tuples [t0, t1) of the dims before the innermost, limited to innermost
 * columns [c0, c1) when the innermost dim is kept. */
static void red_tuples(const red_job *j, int64_t t0, int64_t t1, int64_t c0, int64_t c1) {
    int last = j->m - 1;
    int64_t inner = j->dims[last];
    int64_t idx[PL_MAX_RANK] = {0}, o = 0, rem = t0;
    for (int k = last - 1; k >= 0; k--) {
        idx[k] = rem % j->dims[k];
        rem /= j->dims[k];
        o += idx[k] * j->out_stride[k];
    }
    for (int64_t t = t0; t < t1; t++) {
        const char *x = j->x + (size_t)(t * inner) * j->x_size;
        if (j->reduced[last]) {
            run_kernel(j, j->fns.vec, false, x, inner, j->acc + (size_t)o * j->acc_size);
        } else {
            run_kernel(j, j->fns.cols, true, x + (size_t)c0 * j->x_size, c1 - c0,
                       j->acc + (size_t)(o + c0) * j->acc_size);
        }
        for (int k = last - 1; k >= 0; k--) {
            o += j->out_stride[k];
            if (++idx[k] < j->dims[k]) break;
            o -= j->out_stride[k] * j->dims[k];
            idx[k] = 0;
        }
    }
}

typedef struct red_split {
    const red_job *j;
    int64_t per_lead;   /* tuples per index of the leading dim */
    char *partials;     /* one accumulator per piece, for a full reduction */
    int64_t pieces;
} red_split;

static int split_lead(const void *ctx, int64_t b, int64_t e) {
    const red_split *s = ctx;
    red_tuples(s->j, b * s->per_lead, e * s->per_lead, 0, s->j->dims[s->j->m - 1]);
    return 0;
}

static int split_cols(const void *ctx, int64_t b, int64_t e) {
    const red_split *s = ctx;
    red_tuples(s->j, 0, s->j->dims[0], b, e);
    return 0;
}

static void run_reduction(red_job *j, pl__redop op, acc_kind kind, int64_t count) {
    int64_t inner = j->dims[j->m - 1], tuples = count / inner;
    red_split s = {.j = j, .per_lead = j->m > 1 ? tuples / j->dims[0] : 1};
    if (j->m == 1 && j->reduced[0] && count >= PL__PARALLEL_MIN) {
        /* Everything to one value: per-piece partial accumulators, combined in order. */
        int64_t pieces = 8;
        uint64_t part[8]; /* room for 8 accumulators of any kind */
        acc_fill(op, j->dtype, kind, part, pieces);
        red_job sub = *j;
        sub.m = 2;
        sub.dims[0] = pieces;
        sub.dims[1] = count / pieces;
        sub.reduced[0] = false;
        sub.reduced[1] = true;
        sub.out_stride[0] = 1;
        sub.acc = (char *)part;
        red_split ps = {.j = &sub, .per_lead = 1};
        pl__parallel_for(pieces, 1, split_lead, &ps);
        int64_t done = pieces * (count / pieces);
        if (done < count) run_kernel(j, j->fns.vec, false, j->x + (size_t)done * j->x_size, count - done, (char *)part);
        j->comb.vec(part, pieces, j->acc);
        return;
    }
    if (!j->reduced[0] && j->m > 1) {
        pl__parallel_for(j->dims[0], (PL__PARALLEL_MIN + s.per_lead * inner - 1) / (s.per_lead * inner),
                         split_lead, &s);
    } else if (j->m == 2 && count >= PL__PARALLEL_MIN) {
        pl__parallel_for(inner, 256, split_cols, &s);
    } else {
        red_tuples(j, 0, tuples, 0, inner);
    }
}

/* Writes accumulators to the output dtype; `n_reduced` elements went into each. */
static void acc_finish(pl__redop op, pl_dtype dt, acc_kind k, const void *acc, pl_tensor *out, int64_t n_reduced) {
    int64_t n = out->count;
    void *o = out->data;
    bool mean = op == PL__MEAN;
    switch (k) {
    case ACC_F32: {
        const float *a = acc;
        /* TensorFlow's Mean identity is NaN for half, float and double but 0 for bfloat16. */
        float div = (float)n_reduced;
        bool bf16_empty_mean = mean && n_reduced == 0 && dt == PL_DT_BFLOAT16;
        for (int64_t i = 0; i < n; i++) {
            float v = bf16_empty_mean ? 0.0f : mean ? a[i] / div : a[i];
            if (dt == PL_DT_FLOAT) ((float *)o)[i] = v;
            else pl__narrow(dt, &v, (uint16_t *)o + i, 1);
        }
        break;
    }
    case ACC_F64: {
        const double *a = acc;
        for (int64_t i = 0; i < n; i++) ((double *)o)[i] = mean ? a[i] / (double)n_reduced : a[i];
        break;
    }
    case ACC_BOOL: memcpy(o, acc, (size_t)n); break;
    case ACC_I64: case ACC_U64: {
        const uint64_t *a = acc;
        bool is_signed = int_lowest(dt) != 0;
        for (int64_t i = 0; i < n; i++) {
            uint64_t v = a[i];
            if (mean) {
                /* An empty integer Mean is 0 (MeanReducer's identity), never a division by zero. */
                if (n_reduced == 0) v = 0;
                else if (is_signed) v = (uint64_t)((int64_t)v / n_reduced);
                else v /= (uint64_t)n_reduced;
            }
            switch (dt) {
            case PL_DT_INT8: case PL_DT_UINT8: ((uint8_t *)o)[i] = (uint8_t)v; break;
            case PL_DT_INT16: case PL_DT_UINT16: ((uint16_t *)o)[i] = (uint16_t)v; break;
            case PL_DT_INT32: case PL_DT_UINT32: ((uint32_t *)o)[i] = (uint32_t)v; break;
            default: ((uint64_t *)o)[i] = v; break;
            }
        }
        break;
    }
    }
}

/* Reads and checks the axes: TensorFlow's ReductionHelper::Simplify messages. */
static pl_status read_axes(const pl_tensor *x, const pl_tensor *axes, bool reduce[PL_MAX_RANK]) {
    if (axes->dtype != PL_DT_INT32 && axes->dtype != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "reduction axes must be int32 or int64, got %s",
                        pl_dtype_name(axes->dtype));
    for (int d = 0; d < PL_MAX_RANK; d++) reduce[d] = false;
    for (int64_t i = 0; i < axes->count; i++) {
        int64_t a = pl_tensor_get_i64(axes, i);
        if (a < -x->rank || a >= x->rank)
            return pl_error(PL_INVALID_ARGUMENT, "Invalid reduction dimension (%lld for input with %d dimension(s)",
                            (long long)a, x->rank);
        int d = (int)(a < 0 ? a + x->rank : a);
        if (reduce[d])
            return pl_error(PL_INVALID_ARGUMENT,
                            "Invalid reduction arguments: Axes contains duplicate dimension: %d", d);
        reduce[d] = true;
    }
    return NULL;
}

pl_status pl__math_reduce(pl__redop op, const pl_tensor *x, const pl_tensor *axes, bool keep_dims,
                          pl_tensor **out) {
    if (!pl__redop_supports(op, x->dtype))
        return pl_error(PL_UNIMPLEMENTED, "%s is not implemented for %s",
                        op >= 0 && op < PL__REDOP_COUNT ? redop_names[op] : "?", pl_dtype_name(x->dtype));
    bool reduce[PL_MAX_RANK];
    PL_TRY(read_axes(x, axes, reduce));
    int out_rank = 0;
    int64_t out_dims[PL_MAX_RANK], n_reduced = 1;
    for (int d = 0; d < x->rank; d++) {
        if (!reduce[d]) out_dims[out_rank++] = x->dims[d];
        else if (keep_dims) out_dims[out_rank++] = 1;
        if (reduce[d]) n_reduced *= x->dims[d];
    }
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(x->dtype, out_rank, out_dims, &t));
    if (t->count == 0) {
        *out = t;
        return NULL;
    }
    if (n_reduced == 1) { /* only size-1 dims (or none) reduced: the values pass through unchanged */
        memcpy(t->data, x->data, pl_tensor_nbytes(x));
        *out = t;
        return NULL;
    }
    acc_kind kind = acc_of(op, x->dtype);
    red_job j = {.x = x->data, .x_size = pl_dtype_size(x->dtype), .dtype = x->dtype,
                 .narrow = pl__is_narrow_float(x->dtype), .acc_size = kind == ACC_F32 ? 4 : kind == ACC_BOOL ? 1 : 8};
    pl_dtype kdt = j.narrow ? PL_DT_FLOAT : x->dtype;
    j.fns = red_table[op][kdt];
    j.comb = red_table[op == PL__MEAN ? PL__SUM : op][acc_dtype(kind)];
    j.acc = malloc((size_t)t->count * j.acc_size);
    if (!j.acc) {
        pl_tensor_unref(t);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory for %lld accumulators", (long long)t->count);
    }
    acc_fill(op, x->dtype, kind, j.acc, t->count);
    if (x->count > 0) {
        /* Collapse: size-1 dims go, neighbours with the same role merge. */
        int m = 0;
        for (int d = 0; d < x->rank; d++) {
            if (x->dims[d] == 1) continue;
            if (m > 0 && j.reduced[m - 1] == reduce[d]) {
                j.dims[m - 1] *= x->dims[d];
            } else {
                j.dims[m] = x->dims[d];
                j.reduced[m++] = reduce[d];
            }
        }
        if (m == 0) { /* a single element */
            j.dims[0] = 1;
            j.reduced[0] = true;
            m = 1;
        }
        j.m = m;
        int64_t stride = 1;
        for (int k = m - 1; k >= 0; k--) {
            j.out_stride[k] = j.reduced[k] ? 0 : stride;
            if (!j.reduced[k]) stride *= j.dims[k];
        }
        run_reduction(&j, op, kind, x->count);
    }
    acc_finish(op, x->dtype, kind, j.acc, t, n_reduced);
    free(j.acc);
    *out = t;
    return NULL;
}

/* ---- ArgMax / ArgMin ---- */

/* Eigen's ArgMax/ArgMin reducers: start from (index 0, lowest/highest value)
 * and take an element only when strictly better, so ties keep the lowest
 * index and NaN is never chosen over a number. */
#define ARG_FN(T, S, LOWEST, HIGHEST)                                                    \
    static void arg_##S(bool is_max, const void *px, int64_t outer, int64_t len, int64_t inner, \
                        int64_t *res, T *best) {                                         \
        const T *x = px;                                                                 \
        for (int64_t o = 0; o < outer; o++) {                                            \
            const T *base = x + o * len * inner;                                         \
            int64_t *r = res + o * inner;                                                \
            for (int64_t c = 0; c < inner; c++) {                                        \
                best[c] = is_max ? (LOWEST) : (HIGHEST);                                 \
                r[c] = 0;                                                                \
            }                                                                            \
            for (int64_t i = 0; i < len; i++) {                                          \
                const T *row = base + i * inner;                                         \
                if (is_max) {                                                            \
                    for (int64_t c = 0; c < inner; c++)                                  \
                        if (row[c] > best[c]) best[c] = row[c], r[c] = i;                \
                } else {                                                                 \
                    for (int64_t c = 0; c < inner; c++)                                  \
                        if (row[c] < best[c]) best[c] = row[c], r[c] = i;                \
                }                                                                        \
            }                                                                            \
        }                                                                                \
    }
ARG_FN(float, f32, -3.40282346638528859812e+38F, 3.40282346638528859812e+38F)
ARG_FN(double, f64, -1.7976931348623157e308, 1.7976931348623157e308)
ARG_FN(int8_t, i8, INT8_MIN, INT8_MAX)
ARG_FN(int16_t, i16, INT16_MIN, INT16_MAX)
ARG_FN(int32_t, i32, INT32_MIN, INT32_MAX)
ARG_FN(int64_t, i64, INT64_MIN, INT64_MAX)
ARG_FN(uint8_t, u8, 0, UINT8_MAX)
ARG_FN(uint16_t, u16, 0, UINT16_MAX)
ARG_FN(uint32_t, u32, 0, UINT32_MAX)
ARG_FN(uint64_t, u64, 0, UINT64_MAX)

bool pl__arg_supports(pl_dtype dt) {
    switch (dt) {
    case PL_DT_FLOAT: case PL_DT_DOUBLE: case PL_DT_HALF: case PL_DT_BFLOAT16: case PL_DT_INT8:
    case PL_DT_INT16: case PL_DT_INT32: case PL_DT_INT64: case PL_DT_UINT8: case PL_DT_UINT16:
    case PL_DT_UINT32: case PL_DT_UINT64: case PL_DT_BOOL:
        return true;
    default:
        return false;
    }
}

pl_status pl__math_arg(bool is_max, const pl_tensor *x, const pl_tensor *dim, pl_dtype out_type,
                       pl_tensor **out) {
    if (!pl__arg_supports(x->dtype))
        return pl_error(PL_UNIMPLEMENTED, "%s is not implemented for %s", is_max ? "ArgMax" : "ArgMin",
                        pl_dtype_name(x->dtype));
    if (out_type != PL_DT_INT32 && out_type != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "output_type must be int32 or int64, got %s", pl_dtype_name(out_type));
    char buf[PL__SHAPE_STR];
    if (dim->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "dim must be a scalar, but received tensor of shape: %s",
                        pl__shape_of(dim, buf));
    if (dim->dtype != PL_DT_INT32 && dim->dtype != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "dimension must be int32 or int64, got %s", pl_dtype_name(dim->dtype));
    int64_t d = pl_tensor_get_i64(dim, 0), axis = d < 0 ? d + x->rank : d;
    if (axis < 0 || axis >= x->rank)
        return pl_error(PL_INVALID_ARGUMENT, "Expected dimension in the range [%d, %d), but got %lld", -x->rank,
                        x->rank, (long long)d);
    if (x->dims[axis] == 0)
        return pl_error(PL_INVALID_ARGUMENT, "Reduction axis %lld is empty in shape %s", (long long)d,
                        pl__shape_of(x, buf));
    int64_t odims[PL_MAX_RANK], outer = 1, inner = 1, len = x->dims[axis];
    int orank = 0;
    for (int k = 0; k < x->rank; k++) {
        if (k == axis) continue;
        odims[orank++] = x->dims[k];
        if (k < axis) outer *= x->dims[k];
        else inner *= x->dims[k];
    }
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(out_type, orank, odims, &t));
    if (t->count == 0) {
        *out = t;
        return NULL;
    }
    /* half and bfloat16 compare as float; bool as 0/1 bytes. */
    const void *src = x->data;
    float *wide = NULL;
    int64_t *res = malloc((size_t)t->count * sizeof *res);
    void *best = malloc((size_t)inner * 8);
    if (pl__is_narrow_float(x->dtype)) {
        wide = malloc((size_t)x->count * sizeof *wide);
        if (wide) pl__widen(x->dtype, x->data, 1, wide, x->count);
        src = wide;
    }
    if (!res || !best || (pl__is_narrow_float(x->dtype) && !wide)) {
        free(res);
        free(best);
        free(wide);
        pl_tensor_unref(t);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory computing %s", is_max ? "ArgMax" : "ArgMin");
    }
    switch (x->dtype) {
    case PL_DT_FLOAT: case PL_DT_HALF: case PL_DT_BFLOAT16: arg_f32(is_max, src, outer, len, inner, res, best); break;
    case PL_DT_DOUBLE: arg_f64(is_max, src, outer, len, inner, res, best); break;
    case PL_DT_INT8: arg_i8(is_max, src, outer, len, inner, res, best); break;
    case PL_DT_INT16: arg_i16(is_max, src, outer, len, inner, res, best); break;
    case PL_DT_INT32: arg_i32(is_max, src, outer, len, inner, res, best); break;
    case PL_DT_INT64: arg_i64(is_max, src, outer, len, inner, res, best); break;
    case PL_DT_UINT16: arg_u16(is_max, src, outer, len, inner, res, best); break;
    case PL_DT_UINT32: arg_u32(is_max, src, outer, len, inner, res, best); break;
    case PL_DT_UINT64: arg_u64(is_max, src, outer, len, inner, res, best); break;
    default: arg_u8(is_max, src, outer, len, inner, res, best); break; /* UINT8, BOOL */
    }
    for (int64_t i = 0; i < t->count; i++) {
        if (out_type == PL_DT_INT32) ((int32_t *)t->data)[i] = (int32_t)res[i];
        else ((int64_t *)t->data)[i] = res[i];
    }
    free(res);
    free(best);
    free(wide);
    *out = t;
    return NULL;
}
