/* Binary element-wise ops (arithmetic, comparisons, logical) with
 * TensorFlow's semantics: integer arithmetic wraps, integer division truncates
 * and fails on a zero divisor, FloorDiv/FloorMod round toward -inf, Maximum
 * and Minimum propagate NaN (TensorFlow >= 2.4), half and bfloat16 compute in
 * float. Kernels are stamped per dtype from one expression each. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/math_internal.h"

/* Row loops over one contiguous output row. `mode` says which inputs are a
 * single broadcast value: 0 none, 1 a, 2 b, 3 both. The simd pragma makes the
 * compiler vectorise at -O2; `err` collects per-element failures. */
#define ROW_FN(NAME, T, TO, EXPR)                                                        \
    static int NAME(const void *pa, const void *pb, void *po, int64_t n, int mode) {     \
        const T *a = pa, *b = pb;                                                        \
        TO *o = po;                                                                      \
        int err = 0;                                                                     \
        switch (mode) {                                                                  \
        case 0:                                                                          \
            _Pragma("omp simd reduction(| : err)") for (int64_t i = 0; i < n; i++) {     \
                T x = a[i], y = b[i];                                                    \
                o[i] = (TO)(EXPR);                                                       \
            }                                                                            \
            break;                                                                       \
        case 1: {                                                                        \
            const T x = a[0];                                                            \
            _Pragma("omp simd reduction(| : err)") for (int64_t i = 0; i < n; i++) {     \
                T y = b[i];                                                              \
                o[i] = (TO)(EXPR);                                                       \
            }                                                                            \
        } break;                                                                         \
        case 2: {                                                                        \
            const T y = b[0];                                                            \
            _Pragma("omp simd reduction(| : err)") for (int64_t i = 0; i < n; i++) {     \
                T x = a[i];                                                              \
                o[i] = (TO)(EXPR);                                                       \
            }                                                                            \
        } break;                                                                         \
        default: {                                                                       \
            const T x = a[0], y = b[0];                                                  \
            const TO v = (TO)(EXPR);                                                     \
            for (int64_t i = 0; i < n; i++) o[i] = v;                                    \
        }                                                                                \
        }                                                                                \
        return err;                                                                      \
    }

/* ---- integers: (C type, unsigned type the arithmetic wraps in, suffix, dtype) ---- */

#define SIGNED_INTS(X)                                                                   \
    X(int8_t, uint32_t, i8, INT8) X(int16_t, uint32_t, i16, INT16) X(int32_t, uint32_t, i32, INT32) \
    X(int64_t, uint64_t, i64, INT64)
#define UNSIGNED_INTS(X)                                                                 \
    X(uint8_t, uint32_t, u8, UINT8) X(uint16_t, uint32_t, u16, UINT16)                   \
    X(uint32_t, uint32_t, u32, UINT32) X(uint64_t, uint64_t, u64, UINT64)
#define ALL_INTS(X) SIGNED_INTS(X) UNSIGNED_INTS(X)

/* Division helpers. TensorFlow's safe_div_or_mod_op flags a zero divisor and
 * computes INT_MIN / -1 as (-INT_MIN) / 1, i.e. it wraps to INT_MIN (and the
 * remainders to 0) instead of trapping. */
#define SIGNED_HELPERS(T, U, S, DT)                                                      \
    static inline T e_div_##S(T x, T y, int *err) {                                        \
        if (y == 0) { *err = 1; return 0; }                                              \
        if (y == -1) return (T)(0 - (U)x);                                               \
        return (T)(x / y);                                                               \
    }                                                                                    \
    static inline T e_floordiv_##S(T x, T y, int *err) {                                   \
        if (y == 0) { *err = 1; return 0; }                                              \
        if (y == -1) return (T)(0 - (U)x);                                               \
        T z = (T)(x / y);                                                                \
        return (T)(z * y != x && ((x < 0) != (y < 0)) ? z - 1 : z);                      \
    }                                                                                    \
    static inline T e_floormod_##S(T x, T y, int *err) {                                   \
        if (y == 0) { *err = 1; return 0; }                                              \
        if (y == -1) return 0;                                                           \
        T r = (T)(x % y);                                                                \
        return (T)(r != 0 && ((y < 0) != (r < 0)) ? r + y : r);                          \
    }                                                                                    \
    static inline T e_mod_##S(T x, T y, int *err) {                                        \
        if (y == 0) { *err = 1; return 0; }                                              \
        if (y == -1) return 0;                                                           \
        return (T)(x % y);                                                               \
    }                                                                                    \
    static inline T e_pow_##S(T x, T y, int *err) {                                        \
        if (y < 0) { *err = 1; return 0; }                                               \
        U r = 1, base = (U)x;                                                            \
        for (uint64_t e = (uint64_t)y; e; e >>= 1) {                                     \
            if (e & 1) r *= base;                                                        \
            base *= base;                                                                \
        }                                                                                \
        return (T)r;                                                                     \
    }
#define UNSIGNED_HELPERS(T, U, S, DT)                                                    \
    static inline T e_div_##S(T x, T y, int *err) {                                        \
        if (y == 0) { *err = 1; return 0; }                                              \
        return (T)(x / y);                                                               \
    }                                                                                    \
    static inline T e_floordiv_##S(T x, T y, int *err) { return e_div_##S(x, y, err); }     \
    static inline T e_mod_##S(T x, T y, int *err) {                                        \
        if (y == 0) { *err = 1; return 0; }                                              \
        return (T)(x % y);                                                               \
    }                                                                                    \
    static inline T e_floormod_##S(T x, T y, int *err) { return e_mod_##S(x, y, err); }     \
    static inline T e_pow_##S(T x, T y, int *err) {                                        \
        (void)err;                                                                       \
        U r = 1, base = (U)x;                                                            \
        for (uint64_t e = (uint64_t)y; e; e >>= 1) {                                     \
            if (e & 1) r *= base;                                                        \
            base *= base;                                                                \
        }                                                                                \
        return (T)r;                                                                     \
    }
SIGNED_INTS(SIGNED_HELPERS)
UNSIGNED_INTS(UNSIGNED_HELPERS)

#define INT_ROWS(T, U, S, DT)                                                            \
    ROW_FN(add_##S, T, T, (U)x + (U)y)                                                   \
    ROW_FN(sub_##S, T, T, (U)x - (U)y)                                                   \
    ROW_FN(mul_##S, T, T, (U)x * (U)y)                                                   \
    ROW_FN(sqdiff_##S, T, T, ((U)x - (U)y) * ((U)x - (U)y))                              \
    ROW_FN(max_##S, T, T, x > y ? x : y)                                                 \
    ROW_FN(min_##S, T, T, x < y ? x : y)                                                 \
    ROW_FN(div_##S, T, T, e_div_##S(x, y, &err))                                           \
    ROW_FN(floordiv_##S, T, T, e_floordiv_##S(x, y, &err))                                 \
    ROW_FN(floormod_##S, T, T, e_floormod_##S(x, y, &err))                                 \
    ROW_FN(mod_##S, T, T, e_mod_##S(x, y, &err))                                           \
    ROW_FN(pow_##S, T, T, e_pow_##S(x, y, &err))                                           \
    ROW_FN(eq_##S, T, uint8_t, x == y)                                                   \
    ROW_FN(ne_##S, T, uint8_t, x != y)                                                   \
    ROW_FN(lt_##S, T, uint8_t, x < y)                                                    \
    ROW_FN(le_##S, T, uint8_t, x <= y)                                                   \
    ROW_FN(gt_##S, T, uint8_t, x > y)                                                    \
    ROW_FN(ge_##S, T, uint8_t, x >= y)
ALL_INTS(INT_ROWS)

/* ---- floating point ---- */

#define FLOATS(X) X(float, f32, FLOAT, f) X(double, f64, DOUBLE, )

/* FloorMod on floats: fmod, then moved into the divisor's sign (google_floor_fmod). */
static inline float e_floormod_f32(float x, float y) {
    float r = fmodf(x, y);
    return r != 0 && ((y < 0) != (r < 0)) ? r + y : r;
}
static inline double e_floormod_f64(double x, double y) {
    double r = fmod(x, y);
    return r != 0 && ((y < 0) != (r < 0)) ? r + y : r;
}

/* Maximum/Minimum: a NaN on either side wins (Eigen::PropagateNaN). */
#define FLOAT_ROWS(T, S, DT, F)                                                          \
    ROW_FN(add_##S, T, T, x + y)                                                         \
    ROW_FN(sub_##S, T, T, x - y)                                                         \
    ROW_FN(mul_##S, T, T, x * y)                                                         \
    ROW_FN(div_##S, T, T, x / y)                                                         \
    ROW_FN(sqdiff_##S, T, T, (x - y) * (x - y))                                          \
    ROW_FN(max_##S, T, T, (x > y || x != x) ? x : y)                                     \
    ROW_FN(min_##S, T, T, (x < y || x != x) ? x : y)                                     \
    ROW_FN(floordiv_##S, T, T, floor##F(x / y))                                          \
    ROW_FN(floormod_##S, T, T, e_floormod_##S(x, y))                                       \
    ROW_FN(truncdiv_##S, T, T, trunc##F(x / y))                                          \
    ROW_FN(mod_##S, T, T, fmod##F(x, y))                                                 \
    ROW_FN(pow_##S, T, T, pow##F(x, y))                                                  \
    ROW_FN(divnonan_##S, T, T, y == 0 ? (T)0 : x / y)                                    \
    ROW_FN(mulnonan_##S, T, T, y == 0 ? (T)0 : x * y)                                    \
    ROW_FN(atan2_##S, T, T, atan2##F(x, y))                                              \
    ROW_FN(eq_##S, T, uint8_t, x == y)                                                   \
    ROW_FN(ne_##S, T, uint8_t, x != y)                                                   \
    ROW_FN(lt_##S, T, uint8_t, x < y)                                                    \
    ROW_FN(le_##S, T, uint8_t, x <= y)                                                   \
    ROW_FN(gt_##S, T, uint8_t, x > y)                                                    \
    ROW_FN(ge_##S, T, uint8_t, x >= y)
FLOATS(FLOAT_ROWS)

/* ---- bool ---- */
ROW_FN(eq_b, uint8_t, uint8_t, x == y)
ROW_FN(ne_b, uint8_t, uint8_t, x != y)
ROW_FN(and_b, uint8_t, uint8_t, x && y)
ROW_FN(or_b, uint8_t, uint8_t, x || y)

/* ---- the table: which (op, dtype) pairs exist, following TensorFlow's CPU registrations ---- */

#define COMMON_ENTRIES(S, DT)                                                            \
    [PL__ADD][PL_DT_##DT] = add_##S, [PL__SUB][PL_DT_##DT] = sub_##S,                    \
    [PL__MUL][PL_DT_##DT] = mul_##S, [PL__DIV][PL_DT_##DT] = div_##S,                    \
    [PL__SQUARED_DIFFERENCE][PL_DT_##DT] = sqdiff_##S, [PL__MAXIMUM][PL_DT_##DT] = max_##S, \
    [PL__MINIMUM][PL_DT_##DT] = min_##S, [PL__FLOOR_DIV][PL_DT_##DT] = floordiv_##S,     \
    [PL__FLOOR_MOD][PL_DT_##DT] = floormod_##S, [PL__TRUNCATE_MOD][PL_DT_##DT] = mod_##S, \
    [PL__MOD][PL_DT_##DT] = mod_##S, [PL__EQUAL][PL_DT_##DT] = eq_##S,                   \
    [PL__NOT_EQUAL][PL_DT_##DT] = ne_##S, [PL__LESS][PL_DT_##DT] = lt_##S,               \
    [PL__LESS_EQUAL][PL_DT_##DT] = le_##S, [PL__GREATER][PL_DT_##DT] = gt_##S,           \
    [PL__GREATER_EQUAL][PL_DT_##DT] = ge_##S,
#define SIGNED_ENTRIES(T, U, S, DT) COMMON_ENTRIES(S, DT)[PL__TRUNCATE_DIV][PL_DT_##DT] = div_##S, \
    [PL__POW][PL_DT_##DT] = pow_##S,
#define UNSIGNED_ENTRIES(T, U, S, DT) COMMON_ENTRIES(S, DT)[PL__TRUNCATE_DIV][PL_DT_##DT] = div_##S, \
    [PL__POW][PL_DT_##DT] = pow_##S,
#define FLOAT_ENTRIES(T, S, DT, F) COMMON_ENTRIES(S, DT)[PL__REAL_DIV][PL_DT_##DT] = div_##S,  \
    [PL__POW][PL_DT_##DT] = pow_##S, [PL__DIV_NO_NAN][PL_DT_##DT] = divnonan_##S,        \
    [PL__MUL_NO_NAN][PL_DT_##DT] = mulnonan_##S, [PL__ATAN2][PL_DT_##DT] = atan2_##S,    \
    [PL__TRUNCATE_DIV][PL_DT_##DT] = truncdiv_##S,

static const pl__bin_row row_table[PL__BINOP_COUNT][PL_DT_COUNT] = {
    SIGNED_INTS(SIGNED_ENTRIES) UNSIGNED_INTS(UNSIGNED_ENTRIES) FLOATS(FLOAT_ENTRIES)
    [PL__EQUAL][PL_DT_BOOL] = eq_b, [PL__NOT_EQUAL][PL_DT_BOOL] = ne_b,
    [PL__LOGICAL_AND][PL_DT_BOOL] = and_b, [PL__LOGICAL_OR][PL_DT_BOOL] = or_b,
};

static const char *const binop_names[PL__BINOP_COUNT] = {
    [PL__ADD] = "Add", [PL__SUB] = "Sub", [PL__MUL] = "Mul", [PL__REAL_DIV] = "RealDiv", [PL__DIV] = "Div",
    [PL__FLOOR_DIV] = "FloorDiv", [PL__FLOOR_MOD] = "FloorMod", [PL__TRUNCATE_DIV] = "TruncateDiv",
    [PL__TRUNCATE_MOD] = "TruncateMod", [PL__MOD] = "Mod", [PL__MAXIMUM] = "Maximum", [PL__MINIMUM] = "Minimum",
    [PL__POW] = "Pow", [PL__SQUARED_DIFFERENCE] = "SquaredDifference", [PL__DIV_NO_NAN] = "DivNoNan",
    [PL__MUL_NO_NAN] = "MulNoNan", [PL__ATAN2] = "Atan2", [PL__EQUAL] = "Equal", [PL__NOT_EQUAL] = "NotEqual",
    [PL__LESS] = "Less", [PL__LESS_EQUAL] = "LessEqual", [PL__GREATER] = "Greater",
    [PL__GREATER_EQUAL] = "GreaterEqual", [PL__LOGICAL_AND] = "LogicalAnd", [PL__LOGICAL_OR] = "LogicalOr",
};

bool pl__binop_find(const char *op, pl__binop *out) {
    if (!strcmp(op, "AddV2")) {
        *out = PL__ADD;
        return true;
    }
    for (int i = 0; i < PL__BINOP_COUNT; i++) {
        if (!strcmp(op, binop_names[i])) {
            *out = (pl__binop)i;
            return true;
        }
    }
    return false;
}

static bool is_compare(pl__binop op) { return op >= PL__EQUAL && op <= PL__GREATER_EQUAL; }

bool pl__binop_supports(pl__binop op, pl_dtype dt) {
    if (op < 0 || op >= PL__BINOP_COUNT || !pl_dtype_valid(dt)) return false;
    if (dt == PL_DT_STRING) return op == PL__EQUAL || op == PL__NOT_EQUAL || op == PL__ADD;
    if (pl__is_narrow_float(dt)) return row_table[op][PL_DT_FLOAT] != NULL;
    return row_table[op][dt] != NULL;
}

pl__bin_row pl__binop_row(pl__binop op, pl_dtype dt) {
    if (op < 0 || op >= PL__BINOP_COUNT || !pl_dtype_valid(dt)) return NULL;
    return row_table[op][dt];
}

typedef struct bin_ctx {
    pl__bin_row fn;
    pl_dtype dtype;     /* of the inputs */
    bool narrow;        /* half/bfloat16: widen to float around fn */
    bool bool_out;
} bin_ctx;

static int bin_row(const void *vctx, const char *const *in, const int *unit, char *out, int64_t n) {
    const bin_ctx *c = vctx;
    if (!c->narrow) {
        int mode = unit[0] ? (unit[1] ? 0 : 2) : (unit[1] ? 1 : 3);
        return c->fn(in[0], in[1], out, n, mode);
    }
    float a[PL__WIDEN_BLOCK], b[PL__WIDEN_BLOCK], o[PL__WIDEN_BLOCK];
    int err = 0;
    for (int64_t s = 0; s < n; s += PL__WIDEN_BLOCK) {
        int64_t m = n - s < PL__WIDEN_BLOCK ? n - s : PL__WIDEN_BLOCK;
        pl__widen(c->dtype, in[0] + 2 * s * unit[0], unit[0], a, m);
        pl__widen(c->dtype, in[1] + 2 * s * unit[1], unit[1], b, m);
        if (c->bool_out) {
            err |= c->fn(a, b, out + s, m, 0);
        } else {
            err |= c->fn(a, b, o, m, 0);
            pl__narrow(c->dtype, o, out + 2 * s, m);
        }
    }
    return err;
}

static int str_eq_row(const void *vctx, const char *const *in, const int *unit, char *out, int64_t n) {
    const bool *want_equal = vctx;
    const pl_str *a = (const pl_str *)in[0], *b = (const pl_str *)in[1];
    for (int64_t i = 0; i < n; i++) {
        const pl_str *x = &a[unit[0] ? i : 0], *y = &b[unit[1] ? i : 0];
        bool eq = x->len == y->len && (x->len == 0 || !memcmp(x->data, y->data, x->len));
        out[i] = eq == *want_equal;
    }
    return 0;
}

/* String Add concatenates; the bytes are stored through the output tensor. */
static int str_add_row(const void *vctx, const char *const *in, const int *unit, char *out, int64_t n) {
    pl_tensor *t = (pl_tensor *)vctx;
    const pl_str *a = (const pl_str *)in[0], *b = (const pl_str *)in[1];
    int64_t base = (pl_str *)out - (pl_str *)t->data;
    for (int64_t i = 0; i < n; i++) {
        const pl_str *x = &a[unit[0] ? i : 0], *y = &b[unit[1] ? i : 0];
        char *buf = malloc(x->len + y->len + 1);
        if (!buf) return 1;
        if (x->len) memcpy(buf, x->data, x->len);
        if (y->len) memcpy(buf + x->len, y->data, y->len);
        pl_status st = pl_tensor_set_string(t, base + i, buf, x->len + y->len);
        free(buf);
        if (st) {
            pl_status_free(st);
            return 1;
        }
    }
    return 0;
}

/* The error an integer kernel's flag stands for, worded as BinaryOpShared::SetComputeError does. */
static pl_status compute_error(pl__binop op) {
    switch (op) {
    case PL__DIV: case PL__MOD: case PL__FLOOR_MOD: case PL__FLOOR_DIV:
        return pl_error(PL_INVALID_ARGUMENT, "Integer division by zero");
    case PL__POW: return pl_error(PL_INVALID_ARGUMENT, "Integers to negative integer powers are not allowed");
    default:
        return pl_error(PL_INTERNAL, "Unexpected error in binary operator (only integer div and mod should have errors)");
    }
}

pl_status pl__math_binary(pl__binop op, const pl_tensor *a, const pl_tensor *b, bool incompatible_shape_error,
                          pl_tensor **out) {
    if (op < 0 || op >= PL__BINOP_COUNT) return pl_error(PL_INTERNAL, "unknown binary op %d", (int)op);
    const char *name = binop_names[op];
    if (a->dtype != b->dtype)
        return pl_error(PL_INVALID_ARGUMENT,
                        "cannot compute %s as input #1(zero-based) was expected to be a %s tensor but is a %s tensor",
                        name, pl__dtype_short_name(a->dtype), pl__dtype_short_name(b->dtype));
    if (!pl__binop_supports(op, a->dtype))
        return pl_error(PL_UNIMPLEMENTED, "%s is not implemented for %s", name, pl_dtype_name(a->dtype));
    const pl_tensor *in[2] = {a, b};
    pl__ew_plan plan;
    pl_tensor *t;
    if (!pl__ew_plan_init(&plan, 2, in)) {
        if (!incompatible_shape_error && (op == PL__EQUAL || op == PL__NOT_EQUAL)) {
            PL_TRY(pl_tensor_alloc(PL_DT_BOOL, 0, NULL, &t));
            *(uint8_t *)t->data = op == PL__NOT_EQUAL;
            *out = t;
            return NULL;
        }
        char sa[PL__SHAPE_STR], sb[PL__SHAPE_STR];
        return pl_error(PL_INVALID_ARGUMENT, "Incompatible shapes: %s vs. %s", pl__shape_of(a, sa),
                        pl__shape_of(b, sb));
    }
    bool bool_out = is_compare(op) || a->dtype == PL_DT_BOOL;
    PL_TRY(pl_tensor_alloc(bool_out ? PL_DT_BOOL : a->dtype, plan.out_rank, plan.out_dims, &t));
    int err;
    if (a->dtype == PL_DT_STRING && op == PL__ADD) {
        if (pl__ew_run(&plan, in, t, str_add_row, t)) {
            pl_tensor_unref(t);
            return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory concatenating strings");
        }
        *out = t;
        return NULL;
    }
    if (a->dtype == PL_DT_STRING) {
        bool want_equal = op == PL__EQUAL;
        err = pl__ew_run(&plan, in, t, str_eq_row, &want_equal);
    } else {
        bin_ctx c = {.dtype = a->dtype, .narrow = pl__is_narrow_float(a->dtype), .bool_out = bool_out};
        c.fn = row_table[op][c.narrow ? PL_DT_FLOAT : a->dtype];
        err = pl__ew_run(&plan, in, t, bin_row, &c);
    }
    if (err) {
        pl_tensor_unref(t);
        return compute_error(op);
    }
    *out = t;
    return NULL;
}
