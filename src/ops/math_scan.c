/* Cumsum and Cumprod along one axis, inclusive or exclusive, forward or
 * reversed, as TensorFlow's ScanOp: a sequential running total in the
 * element type (integers wrap; half and bfloat16 are rounded after every
 * step, as Eigen's half arithmetic does). */
#include <stdlib.h>

#include "ops/math_internal.h"

/* Scans `len` rows of `inner` columns starting at x: running totals live in
 * acc[inner]; `step` is +1 or -1 rows. */
#define SCAN_FN(S, T, U)                                                                 \
    static void scan_##S(bool prod, bool exclusive, bool reverse, const void *px, void *py, int64_t outer, \
                         int64_t len, int64_t inner, void *pacc) {                       \
        const T *x = px;                                                                 \
        T *y = py, *acc = pacc;                                                          \
        for (int64_t o = 0; o < outer; o++) {                                            \
            for (int64_t c = 0; c < inner; c++) acc[c] = prod ? (T)1 : (T)0;             \
            for (int64_t k = 0; k < len; k++) {                                          \
                int64_t i = reverse ? len - 1 - k : k;                                   \
                const T *xr = x + (o * len + i) * inner;                                 \
                T *yr = y + (o * len + i) * inner;                                       \
                for (int64_t c = 0; c < inner; c++) {                                    \
                    T next = prod ? (T)((U)acc[c] * (U)xr[c]) : (T)((U)acc[c] + (U)xr[c]); \
                    yr[c] = exclusive ? acc[c] : next;                                   \
                    acc[c] = next;                                                       \
                }                                                                        \
            }                                                                            \
        }                                                                                \
    }
SCAN_FN(f32, float, float)
SCAN_FN(f64, double, double)
SCAN_FN(i8, int8_t, uint32_t)
SCAN_FN(i16, int16_t, uint32_t)
SCAN_FN(i32, int32_t, uint32_t)
SCAN_FN(i64, int64_t, uint64_t)
SCAN_FN(u8, uint8_t, uint32_t)
SCAN_FN(u16, uint16_t, uint32_t)
SCAN_FN(u32, uint32_t, uint32_t)
SCAN_FN(u64, uint64_t, uint64_t)

typedef void (*scan_fn)(bool prod, bool exclusive, bool reverse, const void *x, void *y, int64_t outer,
                        int64_t len, int64_t inner, void *acc);
static const scan_fn scan_table[PL_DT_COUNT] = {
    [PL_DT_FLOAT] = scan_f32, [PL_DT_DOUBLE] = scan_f64, [PL_DT_INT8] = scan_i8, [PL_DT_INT16] = scan_i16,
    [PL_DT_INT32] = scan_i32, [PL_DT_INT64] = scan_i64, [PL_DT_UINT8] = scan_u8, [PL_DT_UINT16] = scan_u16,
    [PL_DT_UINT32] = scan_u32, [PL_DT_UINT64] = scan_u64,
};

bool pl__scan_supports(pl_dtype dt) {
    return pl__is_narrow_float(dt) || (pl_dtype_valid(dt) && scan_table[dt] != NULL);
}

/* half/bfloat16: the running total is rounded to the narrow type after each step. */
static void scan_narrow(pl_dtype dt, bool prod, bool exclusive, bool reverse, const uint16_t *x, uint16_t *y,
                        int64_t outer, int64_t len, int64_t inner, uint16_t *acc) {
    uint16_t one, zero;
    float f1 = 1, f0 = 0;
    pl__narrow(dt, &f1, &one, 1);
    pl__narrow(dt, &f0, &zero, 1);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t c = 0; c < inner; c++) acc[c] = prod ? one : zero;
        for (int64_t k = 0; k < len; k++) {
            int64_t i = reverse ? len - 1 - k : k;
            for (int64_t c = 0; c < inner; c++) {
                int64_t at = (o * len + i) * inner + c;
                float a, v;
                pl__widen(dt, &acc[c], 1, &a, 1);
                pl__widen(dt, &x[at], 1, &v, 1);
                float r = prod ? a * v : a + v;
                uint16_t next;
                pl__narrow(dt, &r, &next, 1);
                y[at] = exclusive ? acc[c] : next;
                acc[c] = next;
            }
        }
    }
}

pl_status pl__math_scan(bool prod, const pl_tensor *x, const pl_tensor *axis, bool exclusive, bool reverse,
                        pl_tensor **out) {
    const char *name = prod ? "Cumprod" : "Cumsum";
    if (!pl__scan_supports(x->dtype))
        return pl_error(PL_UNIMPLEMENTED, "%s is not implemented for %s", name, pl_dtype_name(x->dtype));
    char buf[PL__SHAPE_STR];
    if (axis->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "ScanOp: axis must be a scalar, not %s", pl__shape_of(axis, buf));
    if (axis->dtype != PL_DT_INT32 && axis->dtype != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "ScanOp: axis must be int32 or int64, got %s",
                        pl_dtype_name(axis->dtype));
    int64_t a = pl_tensor_get_i64(axis, 0);
    if (a < 0) a += x->rank;
    if (a < 0 || a >= x->rank)
        return pl_error(PL_INVALID_ARGUMENT, "ScanOp: Expected scan axis in the range [%d, %d), but got %lld",
                        -x->rank, x->rank, (long long)a);
    int64_t outer = 1, inner = 1, len = x->dims[a];
    for (int k = 0; k < a; k++) outer *= x->dims[k];
    for (int k = (int)a + 1; k < x->rank; k++) inner *= x->dims[k];
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(x->dtype, x->rank, x->dims, &t));
    if (t->count == 0) {
        *out = t;
        return NULL;
    }
    void *acc = malloc((size_t)inner * pl_dtype_size(x->dtype));
    if (!acc) {
        pl_tensor_unref(t);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory computing %s", name);
    }
    if (pl__is_narrow_float(x->dtype))
        scan_narrow(x->dtype, prod, exclusive, reverse, x->data, t->data, outer, len, inner, acc);
    else
        scan_table[x->dtype](prod, exclusive, reverse, x->data, t->data, outer, len, inner, acc);
    free(acc);
    *out = t;
    return NULL;
}
