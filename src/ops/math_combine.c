/* Ops that combine a tensor with others of a fixed shape relationship:
 * ClipByValue (bounds scalar or same shape), AddN (all the same shape) and
 * BiasAdd/BiasAddV1 (a vector along the channel dim, NHWC or NCHW). Checks
 * and messages follow TensorFlow's kernels; the arithmetic reuses the
 * broadcasting binary ops. */
#include <string.h>

#include "ops/math_internal.h"

/* ---- ClipByValue ---- */

/* std::max(std::min(x, hi), lo), as TensorFlow's clip functors compute it:
 * a NaN x stays NaN, a NaN bound is ignored. */
#define CLIP_ROW(NAME, T)                                                                \
    static void NAME(const char *const *in, const int *unit, char *out, int64_t n) {     \
        const T *x = (const T *)in[0], *lo = (const T *)in[1], *hi = (const T *)in[2];   \
        T *o = (T *)out;                                                                 \
        for (int64_t i = 0; i < n; i++) {                                                \
            T v = x[i * unit[0]], l = lo[i * unit[1]], h = hi[i * unit[2]];              \
            T m = h < v ? h : v;                                                         \
            o[i] = m < l ? l : m;                                                        \
        }                                                                                \
    }
CLIP_ROW(clip_f32, float)
CLIP_ROW(clip_f64, double)
CLIP_ROW(clip_i8, int8_t)
CLIP_ROW(clip_i16, int16_t)
CLIP_ROW(clip_i32, int32_t)
CLIP_ROW(clip_i64, int64_t)
CLIP_ROW(clip_u8, uint8_t)
CLIP_ROW(clip_u16, uint16_t)
CLIP_ROW(clip_u32, uint32_t)
CLIP_ROW(clip_u64, uint64_t)

typedef void (*clip_fn)(const char *const *in, const int *unit, char *out, int64_t n);
static const clip_fn clip_table[PL_DT_COUNT] = {
    [PL_DT_FLOAT] = clip_f32, [PL_DT_DOUBLE] = clip_f64, [PL_DT_INT8] = clip_i8, [PL_DT_INT16] = clip_i16,
    [PL_DT_INT32] = clip_i32, [PL_DT_INT64] = clip_i64, [PL_DT_UINT8] = clip_u8, [PL_DT_UINT16] = clip_u16,
    [PL_DT_UINT32] = clip_u32, [PL_DT_UINT64] = clip_u64,
};

static int clip_row(const void *ctx, const char *const *in, const int *unit, char *out, int64_t n) {
    pl_dtype dt = *(const pl_dtype *)ctx;
    if (!pl__is_narrow_float(dt)) {
        clip_table[dt](in, unit, out, n);
        return 0;
    }
    float w[3][PL__WIDEN_BLOCK], o[PL__WIDEN_BLOCK];
    static const int ones[3] = {1, 1, 1};
    for (int64_t s = 0; s < n; s += PL__WIDEN_BLOCK) {
        int64_t m = n - s < PL__WIDEN_BLOCK ? n - s : PL__WIDEN_BLOCK;
        const char *wp[3];
        for (int i = 0; i < 3; i++) {
            pl__widen(dt, in[i] + 2 * s * unit[i], unit[i], w[i], m);
            wp[i] = (const char *)w[i];
        }
        clip_f32(wp, ones, (char *)o, m);
        pl__narrow(dt, o, out + 2 * s, m);
    }
    return 0;
}

pl_status pl__math_clip(const pl_tensor *t, const pl_tensor *lo, const pl_tensor *hi, pl_tensor **out) {
    if (lo->dtype != t->dtype || hi->dtype != t->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "clip_value_min and clip_value_max must be %s like the input",
                        pl_dtype_name(t->dtype));
    if (!pl__is_narrow_float(t->dtype) && (!pl_dtype_valid(t->dtype) || !clip_table[t->dtype]))
        return pl_error(PL_UNIMPLEMENTED, "ClipByValue is not implemented for %s", pl_dtype_name(t->dtype));
    if (!((pl_tensor_same_shape(t, lo) || lo->rank == 0) && (pl_tensor_same_shape(t, hi) || hi->rank == 0))) {
        char s0[PL__SHAPE_STR], s1[PL__SHAPE_STR], s2[PL__SHAPE_STR];
        return pl_error(PL_INVALID_ARGUMENT,
                        "clip_value_min and clip_value_max must be either of the same shape as input, or a "
                        "scalar. input shape: %sclip_value_min shape: %sclip_value_max shape: %s",
                        pl__shape_of(t, s0), pl__shape_of(lo, s1), pl__shape_of(hi, s2));
    }
    const pl_tensor *in[3] = {t, lo, hi};
    pl__ew_plan plan;
    if (!pl__ew_plan_init(&plan, 3, in)) return pl_error(PL_INTERNAL, "ClipByValue plan failed");
    pl_tensor *o;
    PL_TRY(pl_tensor_alloc(t->dtype, t->rank, t->dims, &o));
    pl__ew_run(&plan, in, o, clip_row, &t->dtype);
    *out = o;
    return NULL;
}

/* ---- AddN ---- */

typedef struct addn_job {
    pl__bin_row add;
    int n;
    const pl_tensor *const *in;
    pl_tensor *out;
    size_t esize;
} addn_job;

/* out = ((in0 + in1) + in2) + ..., the order TensorFlow's functor adds in. */
static int addn_range(const void *ctx, int64_t b, int64_t e) {
    const addn_job *j = ctx;
    char *o = (char *)j->out->data + (size_t)b * j->esize;
    j->add((const char *)j->in[0]->data + (size_t)b * j->esize, (const char *)j->in[1]->data + (size_t)b * j->esize,
           o, e - b, 0);
    for (int i = 2; i < j->n; i++) j->add(o, (const char *)j->in[i]->data + (size_t)b * j->esize, o, e - b, 0);
    return 0;
}

pl_status pl__math_add_n(const char *node_name, int n, const pl_tensor *const *in, pl_tensor **out) {
    if (n < 1) return pl_error(PL_INVALID_ARGUMENT, "AddN needs at least one input");
    char s0[PL__SHAPE_STR], s1[PL__SHAPE_STR];
    for (int i = 1; i < n; i++) {
        if (in[i]->dtype != in[0]->dtype)
            return pl_error(PL_INVALID_ARGUMENT, "AddN input %d is %s, input 0 is %s", i,
                            pl_dtype_name(in[i]->dtype), pl_dtype_name(in[0]->dtype));
        if (!pl_tensor_same_shape(in[0], in[i]))
            return pl_error(PL_INVALID_ARGUMENT,
                            "Inputs to operation %s of type AddN must have the same size and shape.  "
                            "Input 0: %s != input %d: %s",
                            node_name ? node_name : "", pl__shape_of(in[0], s0), i, pl__shape_of(in[i], s1));
    }
    if (!pl__binop_supports(PL__ADD, in[0]->dtype))
        return pl_error(PL_UNIMPLEMENTED, "AddN is not implemented for %s", pl_dtype_name(in[0]->dtype));
    if (n == 1) {
        *out = pl_tensor_ref((pl_tensor *)in[0]);
        return NULL;
    }
    if (pl__is_narrow_float(in[0]->dtype)) {
        /* Rounded to half/bfloat16 after every addition, as element-wise Add does. */
        pl_tensor *acc;
        PL_TRY(pl__math_binary(PL__ADD, in[0], in[1], true, &acc));
        for (int i = 2; i < n; i++) {
            pl_tensor *next;
            pl_status st = pl__math_binary(PL__ADD, acc, in[i], true, &next);
            pl_tensor_unref(acc);
            if (st) return st;
            acc = next;
        }
        *out = acc;
        return NULL;
    }
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(in[0]->dtype, in[0]->rank, in[0]->dims, &t));
    addn_job j = {.add = pl__binop_row(PL__ADD, in[0]->dtype), .n = n, .in = in, .out = t,
                  .esize = pl_dtype_size(in[0]->dtype)};
    pl__parallel_for(t->count, PL__PARALLEL_MIN / 4, addn_range, &j);
    *out = t;
    return NULL;
}

/* ---- BiasAdd ---- */

pl_status pl__math_bias_add(const pl_tensor *value, const pl_tensor *bias, bool nchw, pl_tensor **out) {
    char s0[PL__SHAPE_STR], s1[PL__SHAPE_STR];
    if (value->rank < 2)
        return pl_error(PL_INVALID_ARGUMENT, "Input tensor must be at least 2D: %s", pl__shape_of(value, s0));
    if (bias->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "Biases must be 1D: %s", pl__shape_of(bias, s0));
    int channel_dim = nchw ? 1 : value->rank - 1;
    if (bias->dims[0] != value->dims[channel_dim])
        return pl_error(PL_INVALID_ARGUMENT,
                        "Must provide as many biases as the last dimension of the input tensor: %s vs. %s",
                        pl__shape_of(bias, s0), pl__shape_of(value, s1));
    if (!nchw || value->rank == 2) return pl__math_binary(PL__ADD, value, bias, true, out);
    /* NCHW: the bias broadcasts as [C, 1, ..., 1] over the dims after the channel. */
    pl_tensor view = {.dtype = bias->dtype, .rank = value->rank - 1, .count = bias->count, .data = bias->data};
    view.dims[0] = bias->dims[0];
    for (int k = 1; k < view.rank; k++) view.dims[k] = 1;
    return pl__math_binary(PL__ADD, value, &view, true, out);
}
