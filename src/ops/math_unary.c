/* Unary element-wise ops, including the activations TensorFlow keeps in its
 * nn ops (Relu, Relu6, Elu, Selu, LeakyRelu, Softplus, Softsign), each with
 * the formula TensorFlow's CPU kernel uses so edge values (NaN, large
 * magnitudes) come out the same. half and bfloat16 compute in float. */
#include <math.h>
#include <string.h>

#include "ops/math_internal.h"

typedef void (*un_row)(const void *x, void *y, int64_t n, float alpha);

#define UN_FN(NAME, T, TO, EXPR)                                                         \
    static void NAME(const void *px, void *py, int64_t n, float alpha) {                 \
        const T *in = px;                                                                \
        TO *o = py;                                                                      \
        (void)alpha;                                                                     \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                            \
            T x = in[i];                                                                 \
            o[i] = (TO)(EXPR);                                                           \
        }                                                                                \
    }

/* SELU's constants, as in TensorFlow's Selu functor. */
#define SELU_SCALE 1.0507009873554804934193349852946
#define SELU_SCALE_ALPHA 1.7580993408473768599402175208123

/* Softplus switches to x or exp(x) where log1p(exp(x)) equals them within
 * machine epsilon: threshold = log(epsilon) + 2, as TensorFlow computes it. */
static inline float e_softplus_f32(float x) {
    const float threshold = -13.942385f; /* logf(FLT_EPSILON) + 2 */
    if (x > -threshold) return x;
    if (x < threshold) return expf(x);
    return log1pf(expf(x));
}
static inline double e_softplus_f64(double x) {
    const double threshold = -34.043653389117154; /* log(DBL_EPSILON) + 2 */
    if (x > -threshold) return x;
    if (x < threshold) return exp(x);
    return log1p(exp(x));
}

/* (C type, suffix, dtype, libm suffix) */
#define FLOATS(X) X(float, f32, FLOAT, f) X(double, f64, DOUBLE, )

#define FLOAT_UN(T, S, DT, F)                                                            \
    UN_FN(neg_##S, T, T, -x)                                                             \
    UN_FN(abs_##S, T, T, fabs##F(x))                                                     \
    UN_FN(exp_##S, T, T, exp##F(x))                                                      \
    UN_FN(expm1_##S, T, T, expm1##F(x))                                                  \
    UN_FN(log_##S, T, T, log##F(x))                                                      \
    UN_FN(log1p_##S, T, T, log1p##F(x))                                                  \
    UN_FN(sqrt_##S, T, T, sqrt##F(x))                                                    \
    UN_FN(rsqrt_##S, T, T, 1 / sqrt##F(x))                                               \
    UN_FN(square_##S, T, T, x * x)                                                       \
    UN_FN(recip_##S, T, T, 1 / x)                                                        \
    UN_FN(sign_##S, T, T, x != x ? x : (T)((x > 0) - (x < 0)))                           \
    UN_FN(floor_##S, T, T, floor##F(x))                                                  \
    UN_FN(ceil_##S, T, T, ceil##F(x))                                                    \
    UN_FN(rint_##S, T, T, rint##F(x))                                                    \
    UN_FN(tanh_##S, T, T, tanh##F(x))                                                    \
    UN_FN(sigmoid_##S, T, T, 1 / (1 + exp##F(-x)))                                       \
    UN_FN(sin_##S, T, T, sin##F(x))                                                      \
    UN_FN(cos_##S, T, T, cos##F(x))                                                      \
    UN_FN(tan_##S, T, T, tan##F(x))                                                      \
    UN_FN(asin_##S, T, T, asin##F(x))                                                    \
    UN_FN(acos_##S, T, T, acos##F(x))                                                    \
    UN_FN(atan_##S, T, T, atan##F(x))                                                    \
    UN_FN(sinh_##S, T, T, sinh##F(x))                                                    \
    UN_FN(cosh_##S, T, T, cosh##F(x))                                                    \
    UN_FN(erf_##S, T, T, erf##F(x))                                                      \
    UN_FN(erfc_##S, T, T, erfc##F(x))                                                    \
    UN_FN(isnan_##S, T, uint8_t, x != x)                                                 \
    UN_FN(isinf_##S, T, uint8_t, isinf(x))                                               \
    UN_FN(isfinite_##S, T, uint8_t, isfinite(x))                                         \
    UN_FN(relu_##S, T, T, x < 0 ? 0 : x)                                                 \
    UN_FN(relu6_##S, T, T, x < 0 ? 0 : (6 < x ? 6 : x))                                  \
    UN_FN(elu_##S, T, T, x < 0 ? exp##F(x) - 1 : x)                                      \
    UN_FN(selu_##S, T, T, x < 0 ? (T)SELU_SCALE_ALPHA * (exp##F(x) - 1) : (T)SELU_SCALE * x) \
    UN_FN(leaky_##S, T, T, x > 0 ? x : x * (T)alpha)                                     \
    UN_FN(softplus_##S, T, T, e_softplus_##S(x))                                           \
    UN_FN(softsign_##S, T, T, x / (1 + fabs##F(x)))
FLOATS(FLOAT_UN)

/* (C type, unsigned arithmetic type, suffix, dtype) */
#define SIGNED_INTS(X)                                                                   \
    X(int8_t, uint32_t, i8, INT8) X(int16_t, uint32_t, i16, INT16) X(int32_t, uint32_t, i32, INT32) \
    X(int64_t, uint64_t, i64, INT64)
#define UNSIGNED_INTS(X)                                                                 \
    X(uint8_t, uint32_t, u8, UINT8) X(uint16_t, uint32_t, u16, UINT16)                   \
    X(uint32_t, uint32_t, u32, UINT32) X(uint64_t, uint64_t, u64, UINT64)

/* Integer negation and abs wrap (INT_MIN stays INT_MIN) as TensorFlow's do. */
#define SIGNED_UN(T, U, S, DT)                                                           \
    UN_FN(neg_##S, T, T, 0 - (U)x)                                                       \
    UN_FN(abs_##S, T, T, x < 0 ? 0 - (U)x : (U)x)                                        \
    UN_FN(sign_##S, T, T, (x > 0) - (x < 0))
#define INT_UN(T, U, S, DT)                                                              \
    UN_FN(square_##S, T, T, (U)x * (U)x)                                                 \
    UN_FN(copy_##S, T, T, x)                                                             \
    UN_FN(relu_##S, T, T, x > 0 ? x : 0)                                                 \
    UN_FN(relu6_##S, T, T, x > 6 ? 6 : (x > 0 ? x : 0))
#define UNSIGNED_UN(T, U, S, DT) UN_FN(sign_##S, T, T, x > 0)
SIGNED_INTS(SIGNED_UN)
SIGNED_INTS(INT_UN)
UNSIGNED_INTS(INT_UN)
UNSIGNED_INTS(UNSIGNED_UN)

UN_FN(not_b, uint8_t, uint8_t, !x)

#define FLOAT_UN_ENTRIES(T, S, DT, F)                                                    \
    [PL__NEG][PL_DT_##DT] = neg_##S, [PL__ABS][PL_DT_##DT] = abs_##S,                    \
    [PL__EXP][PL_DT_##DT] = exp_##S, [PL__EXPM1][PL_DT_##DT] = expm1_##S,                \
    [PL__LOG][PL_DT_##DT] = log_##S, [PL__LOG1P][PL_DT_##DT] = log1p_##S,                \
    [PL__SQRT][PL_DT_##DT] = sqrt_##S, [PL__RSQRT][PL_DT_##DT] = rsqrt_##S,              \
    [PL__SQUARE][PL_DT_##DT] = square_##S, [PL__RECIPROCAL][PL_DT_##DT] = recip_##S,     \
    [PL__SIGN][PL_DT_##DT] = sign_##S, [PL__FLOOR][PL_DT_##DT] = floor_##S,              \
    [PL__CEIL][PL_DT_##DT] = ceil_##S, [PL__ROUND][PL_DT_##DT] = rint_##S,               \
    [PL__RINT][PL_DT_##DT] = rint_##S, [PL__TANH][PL_DT_##DT] = tanh_##S,                \
    [PL__SIGMOID][PL_DT_##DT] = sigmoid_##S, [PL__SIN][PL_DT_##DT] = sin_##S,            \
    [PL__COS][PL_DT_##DT] = cos_##S, [PL__TAN][PL_DT_##DT] = tan_##S,                    \
    [PL__ASIN][PL_DT_##DT] = asin_##S, [PL__ACOS][PL_DT_##DT] = acos_##S,                \
    [PL__ATAN][PL_DT_##DT] = atan_##S, [PL__SINH][PL_DT_##DT] = sinh_##S,                \
    [PL__COSH][PL_DT_##DT] = cosh_##S, [PL__ERF][PL_DT_##DT] = erf_##S,                  \
    [PL__ERFC][PL_DT_##DT] = erfc_##S, [PL__IS_NAN][PL_DT_##DT] = isnan_##S,             \
    [PL__IS_INF][PL_DT_##DT] = isinf_##S, [PL__IS_FINITE][PL_DT_##DT] = isfinite_##S,    \
    [PL__RELU][PL_DT_##DT] = relu_##S, [PL__RELU6][PL_DT_##DT] = relu6_##S,              \
    [PL__ELU][PL_DT_##DT] = elu_##S, [PL__SELU][PL_DT_##DT] = selu_##S,                  \
    [PL__LEAKY_RELU][PL_DT_##DT] = leaky_##S, [PL__SOFTPLUS][PL_DT_##DT] = softplus_##S, \
    [PL__SOFTSIGN][PL_DT_##DT] = softsign_##S,
#define INT_UN_ENTRIES(T, U, S, DT)                                                      \
    [PL__SQUARE][PL_DT_##DT] = square_##S, [PL__SIGN][PL_DT_##DT] = sign_##S,            \
    [PL__ROUND][PL_DT_##DT] = copy_##S, [PL__RELU][PL_DT_##DT] = relu_##S,               \
    [PL__RELU6][PL_DT_##DT] = relu6_##S,
#define SIGNED_UN_ENTRIES(T, U, S, DT) INT_UN_ENTRIES(T, U, S, DT)                       \
    [PL__NEG][PL_DT_##DT] = neg_##S, [PL__ABS][PL_DT_##DT] = abs_##S,

static const un_row un_table[PL__UNOP_COUNT][PL_DT_COUNT] = {
    FLOATS(FLOAT_UN_ENTRIES) SIGNED_INTS(SIGNED_UN_ENTRIES) UNSIGNED_INTS(INT_UN_ENTRIES)
    [PL__LOGICAL_NOT][PL_DT_BOOL] = not_b,
};

static const char *const unop_names[PL__UNOP_COUNT] = {
    [PL__NEG] = "Neg", [PL__ABS] = "Abs", [PL__EXP] = "Exp", [PL__EXPM1] = "Expm1", [PL__LOG] = "Log",
    [PL__LOG1P] = "Log1p", [PL__SQRT] = "Sqrt", [PL__RSQRT] = "Rsqrt", [PL__SQUARE] = "Square",
    [PL__RECIPROCAL] = "Reciprocal", [PL__SIGN] = "Sign", [PL__FLOOR] = "Floor", [PL__CEIL] = "Ceil",
    [PL__ROUND] = "Round", [PL__RINT] = "Rint", [PL__TANH] = "Tanh", [PL__SIGMOID] = "Sigmoid",
    [PL__SIN] = "Sin", [PL__COS] = "Cos", [PL__TAN] = "Tan", [PL__ASIN] = "Asin", [PL__ACOS] = "Acos",
    [PL__ATAN] = "Atan", [PL__SINH] = "Sinh", [PL__COSH] = "Cosh", [PL__ERF] = "Erf", [PL__ERFC] = "Erfc",
    [PL__IS_NAN] = "IsNan", [PL__IS_INF] = "IsInf", [PL__IS_FINITE] = "IsFinite", [PL__RELU] = "Relu",
    [PL__RELU6] = "Relu6", [PL__ELU] = "Elu", [PL__SELU] = "Selu", [PL__LEAKY_RELU] = "LeakyRelu",
    [PL__SOFTPLUS] = "Softplus", [PL__SOFTSIGN] = "Softsign", [PL__LOGICAL_NOT] = "LogicalNot",
};

bool pl__unop_find(const char *op, pl__unop *out) {
    if (!strcmp(op, "Inv")) { /* the older name of Reciprocal */
        *out = PL__RECIPROCAL;
        return true;
    }
    for (int i = 0; i < PL__UNOP_COUNT; i++) {
        if (!strcmp(op, unop_names[i])) {
            *out = (pl__unop)i;
            return true;
        }
    }
    return false;
}

bool pl__unop_supports(pl__unop op, pl_dtype dt) {
    if (op < 0 || op >= PL__UNOP_COUNT || !pl_dtype_valid(dt)) return false;
    if (pl__is_narrow_float(dt)) return un_table[op][PL_DT_FLOAT] != NULL;
    return un_table[op][dt] != NULL;
}

static bool bool_result(pl__unop op) { return op == PL__IS_NAN || op == PL__IS_INF || op == PL__IS_FINITE; }

typedef struct un_job {
    un_row fn;
    const char *x;
    char *y;
    size_t x_size, y_size;
    pl_dtype dtype;
    bool narrow, bool_out;
    float alpha;
} un_job;

static int un_range(const void *ctx, int64_t begin, int64_t end) {
    const un_job *j = ctx;
    if (!j->narrow) {
        j->fn(j->x + (size_t)begin * j->x_size, j->y + (size_t)begin * j->y_size, end - begin, j->alpha);
        return 0;
    }
    float a[PL__WIDEN_BLOCK], o[PL__WIDEN_BLOCK];
    for (int64_t s = begin; s < end; s += PL__WIDEN_BLOCK) {
        int64_t m = end - s < PL__WIDEN_BLOCK ? end - s : PL__WIDEN_BLOCK;
        pl__widen(j->dtype, j->x + 2 * s, 1, a, m);
        if (j->bool_out) {
            j->fn(a, j->y + s, m, j->alpha);
        } else {
            j->fn(a, o, m, j->alpha);
            pl__narrow(j->dtype, o, j->y + 2 * s, m);
        }
    }
    return 0;
}

pl_status pl__math_unary(pl__unop op, const pl_tensor *x, float alpha, pl_tensor **out) {
    if (!pl__unop_supports(op, x->dtype))
        return pl_error(PL_UNIMPLEMENTED, "%s is not implemented for %s",
                        op >= 0 && op < PL__UNOP_COUNT ? unop_names[op] : "?", pl_dtype_name(x->dtype));
    bool bool_out = bool_result(op);
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(bool_out ? PL_DT_BOOL : x->dtype, x->rank, x->dims, &t));
    un_job j = {.x = x->data, .y = t->data, .x_size = pl_dtype_size(x->dtype), .y_size = pl_dtype_size(t->dtype),
                .dtype = x->dtype, .narrow = pl__is_narrow_float(x->dtype), .bool_out = bool_out, .alpha = alpha};
    j.fn = un_table[op][j.narrow ? PL_DT_FLOAT : x->dtype];
    pl__parallel_for(x->count, PL__PARALLEL_MIN / 4, un_range, &j);
    *out = t;
    return NULL;
}
