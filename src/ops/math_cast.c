/* Cast between every pair of numeric and bool dtypes, as TensorFlow's CPU
 * kernel converts on x86: integer narrowing wraps, float to integer truncates
 * toward zero, and a NaN or out-of-range float gives what the x86 truncating
 * conversions give (the "integer indefinite" INT_MIN, then narrowed), which is
 * what static_cast compiles to there. half and bfloat16 go through float,
 * rounding to nearest even; Truncate drops the extra mantissa bits first. */
#include <math.h>
#include <string.h>

#include "ops/math_internal.h"

/* x86 cvttsd2si: truncation when the result fits, INT_MIN otherwise (NaN included). */
static inline int32_t cvt_i32(double x) {
    return x > -2147483649.0 && x < 2147483648.0 ? (int32_t)x : INT32_MIN;
}
static inline int64_t cvt_i64(double x) {
    return x >= -9223372036854775808.0 && x < 9223372036854775808.0 ? (int64_t)x : INT64_MIN;
}
/* The compiler's float -> uint64 sequence: values from 2^63 up are shifted
 * down, converted and have the top bit put back. */
static inline uint64_t cvt_u64(double x) {
    if (x >= 9223372036854775808.0) return (uint64_t)cvt_i64(x - 9223372036854775808.0) ^ ((uint64_t)1 << 63);
    return (uint64_t)cvt_i64(x);
}

/* Types narrower than int convert through int32 on x86; uint32 through int64. */
static inline int8_t f2i_i8(double x) { return (int8_t)cvt_i32(x); }
static inline int16_t f2i_i16(double x) { return (int16_t)cvt_i32(x); }
static inline int32_t f2i_i32(double x) { return cvt_i32(x); }
static inline int64_t f2i_i64(double x) { return cvt_i64(x); }
static inline uint8_t f2i_u8(double x) { return (uint8_t)cvt_i32(x); }
static inline uint16_t f2i_u16(double x) { return (uint16_t)cvt_i32(x); }
static inline uint32_t f2i_u32(double x) { return (uint32_t)cvt_i64(x); }
static inline uint64_t f2i_u64(double x) { return cvt_u64(x); }

/* Conversions by (source kind, destination kind): I integer, F float/double, B bool. */
#define CONV_I_I(D, DS, x) (D)(x)
#define CONV_I_F(D, DS, x) (D)(x)
#define CONV_I_B(D, DS, x) (D)((x) != 0)
#define CONV_F_I(D, DS, x) f2i_##DS(x)
#define CONV_F_F(D, DS, x) (D)(x)
#define CONV_F_B(D, DS, x) (D)((x) != 0)
#define CONV_B_I(D, DS, x) (D)(x)
#define CONV_B_F(D, DS, x) (D)(x)
#define CONV_B_B(D, DS, x) (D)((x) != 0)

/* Two copies of the type list, so one can be expanded inside the other.
 * (C type, suffix, dtype, kind) */
#define TYPES_A(X, ...)                                                                  \
    X(float, f32, FLOAT, F, __VA_ARGS__) X(double, f64, DOUBLE, F, __VA_ARGS__)          \
    X(int8_t, i8, INT8, I, __VA_ARGS__) X(int16_t, i16, INT16, I, __VA_ARGS__)           \
    X(int32_t, i32, INT32, I, __VA_ARGS__) X(int64_t, i64, INT64, I, __VA_ARGS__)        \
    X(uint8_t, u8, UINT8, I, __VA_ARGS__) X(uint16_t, u16, UINT16, I, __VA_ARGS__)       \
    X(uint32_t, u32, UINT32, I, __VA_ARGS__) X(uint64_t, u64, UINT64, I, __VA_ARGS__)    \
    X(uint8_t, b, BOOL, B, __VA_ARGS__)
#define TYPES_B(X, ...)                                                                  \
    X(float, f32, FLOAT, F, __VA_ARGS__) X(double, f64, DOUBLE, F, __VA_ARGS__)          \
    X(int8_t, i8, INT8, I, __VA_ARGS__) X(int16_t, i16, INT16, I, __VA_ARGS__)           \
    X(int32_t, i32, INT32, I, __VA_ARGS__) X(int64_t, i64, INT64, I, __VA_ARGS__)        \
    X(uint8_t, u8, UINT8, I, __VA_ARGS__) X(uint16_t, u16, UINT16, I, __VA_ARGS__)       \
    X(uint32_t, u32, UINT32, I, __VA_ARGS__) X(uint64_t, u64, UINT64, I, __VA_ARGS__)    \
    X(uint8_t, b, BOOL, B, __VA_ARGS__)

typedef void (*cast_fn)(const void *in, void *out, int64_t n);

#define CAST_PAIR(D, DS, DDT, DK, S, SS, SDT, SK)                                        \
    static void cast_##SS##_##DS(const void *pin, void *pout, int64_t n) {               \
        const S *in = pin;                                                               \
        D *o = pout;                                                                     \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) o[i] = CONV_##SK##_##DK(D, DS, in[i]); \
    }
#define CAST_FROM(S, SS, SDT, SK, unused) TYPES_B(CAST_PAIR, S, SS, SDT, SK)
TYPES_A(CAST_FROM, 0)

#define CAST_ENTRY(D, DS, DDT, DK, S, SS, SDT, SK) [PL_DT_##SDT][PL_DT_##DDT] = cast_##SS##_##DS,
#define CAST_ENTRIES_FROM(S, SS, SDT, SK, unused) TYPES_B(CAST_ENTRY, S, SS, SDT, SK)
static const cast_fn cast_table[PL_DT_COUNT][PL_DT_COUNT] = {TYPES_A(CAST_ENTRIES_FROM, 0)};

static bool castable(pl_dtype dt) { return pl__is_narrow_float(dt) || (pl_dtype_valid(dt) && cast_table[dt][PL_DT_FLOAT]); }

bool pl__cast_supports(pl_dtype src, pl_dtype dst) { return castable(src) && castable(dst); }

/* Mantissa bits of the floating dtypes, for Truncate. */
static int mantissa_bits(pl_dtype dt) {
    switch (dt) {
    case PL_DT_DOUBLE: return 52;
    case PL_DT_FLOAT: return 23;
    case PL_DT_HALF: return 10;
    case PL_DT_BFLOAT16: return 7;
    default: return -1;
    }
}

typedef struct cast_job {
    const char *in;
    char *out;
    pl_dtype src, dst;
    size_t in_size, out_size;
    int drop_bits; /* Truncate: low mantissa bits of the source to clear; 0 for none */
} cast_job;

/* Clears the low `bits` mantissa bits of float/double elements in place. */
static void drop_mantissa(pl_dtype dt, void *data, int64_t n, int bits) {
    if (dt == PL_DT_FLOAT) {
        uint32_t *v = data, mask = ~((UINT32_C(1) << bits) - 1);
        for (int64_t i = 0; i < n; i++) v[i] &= mask;
    } else if (dt == PL_DT_DOUBLE) {
        uint64_t *v = data, mask = ~((UINT64_C(1) << bits) - 1);
        for (int64_t i = 0; i < n; i++) v[i] &= mask;
    } else {
        uint16_t *v = data, mask = (uint16_t)~((1u << bits) - 1);
        for (int64_t i = 0; i < n; i++) v[i] &= mask;
    }
}

static int cast_range(const void *ctx, int64_t begin, int64_t end) {
    const cast_job *j = ctx;
    const char *in = j->in + (size_t)begin * j->in_size;
    char *out = j->out + (size_t)begin * j->out_size;
    int64_t n = end - begin;
    bool narrow_in = pl__is_narrow_float(j->src), narrow_out = pl__is_narrow_float(j->dst);
    if (!narrow_in && !narrow_out && !j->drop_bits) {
        cast_table[j->src][j->dst](in, out, n);
        return 0;
    }
    /* Through float (or double, so Truncate can work on a double source) in blocks. */
    double src_copy[PL__WIDEN_BLOCK];
    float f[PL__WIDEN_BLOCK];
    for (int64_t s = 0; s < n; s += PL__WIDEN_BLOCK) {
        int64_t m = n - s < PL__WIDEN_BLOCK ? n - s : PL__WIDEN_BLOCK;
        const void *block = in + (size_t)s * j->in_size;
        if (j->drop_bits) {
            memcpy(src_copy, block, (size_t)m * j->in_size);
            drop_mantissa(j->src, src_copy, m, j->drop_bits);
            block = src_copy;
        }
        char *dst = out + (size_t)s * j->out_size;
        if (narrow_in) {
            pl__widen(j->src, block, 1, f, m);
            if (narrow_out) pl__narrow(j->dst, f, dst, m);
            else cast_table[PL_DT_FLOAT][j->dst](f, dst, m);
        } else if (narrow_out) {
            cast_table[j->src][PL_DT_FLOAT](block, f, m);
            pl__narrow(j->dst, f, dst, m);
        } else {
            cast_table[j->src][j->dst](block, dst, m);
        }
    }
    return 0;
}

pl_status pl__math_cast(const pl_tensor *x, pl_dtype dst, bool truncate, pl_tensor **out) {
    if (!pl__cast_supports(x->dtype, dst))
        return pl_error(PL_UNIMPLEMENTED, "Cast %s to %s is not supported", pl__dtype_short_name(x->dtype),
                        pl__dtype_short_name(dst));
    if (x->dtype == dst) {
        *out = pl_tensor_ref((pl_tensor *)x);
        return NULL;
    }
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(dst, x->rank, x->dims, &t));
    cast_job j = {.in = x->data, .out = t->data, .src = x->dtype, .dst = dst,
                  .in_size = pl_dtype_size(x->dtype), .out_size = pl_dtype_size(dst)};
    int mb_in = mantissa_bits(x->dtype), mb_out = mantissa_bits(dst);
    if (truncate && mb_in > 0 && mb_out > 0 && mb_out < mb_in) j.drop_bits = mb_in - mb_out;
    pl__parallel_for(x->count, PL__PARALLEL_MIN / 4, cast_range, &j);
    *out = t;
    return NULL;
}
