/* Dequantize: quantized integers back to float (or bfloat16) with
 * TensorFlow's arithmetic for each mode, operation for operation in float,
 * so a weight-quantized graph (graph_transforms quantize_weights) computes
 * with exactly the weights TensorFlow would. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/families.h"

enum { MODE_MIN_COMBINED, MODE_MIN_FIRST, MODE_SCALED };

typedef struct dq_attrs {
    int mode;
    bool narrow_range;
    int64_t axis;
    pl_dtype out;   /* FLOAT or BFLOAT16 */
} dq_attrs;

/* The integer range of each quantized dtype, as std::numeric_limits gives it. */
typedef struct qrange {
    int64_t lo, hi;
    int bits;
} qrange;

static bool quantized_range(pl_dtype t, qrange *r) {
    switch (t) {
    case PL_DT_QUINT8: *r = (qrange){0, 255, 8}; return true;
    case PL_DT_QINT8: *r = (qrange){-128, 127, 8}; return true;
    case PL_DT_QUINT16: *r = (qrange){0, 65535, 16}; return true;
    case PL_DT_QINT16: *r = (qrange){-32768, 32767, 16}; return true;
    case PL_DT_QINT32: *r = (qrange){INT32_MIN, INT32_MAX, 32}; return true;
    default: return false;
    }
}

/* Element i as the float TensorFlow's cast<float>() makes of it (an int32
 * beyond 2^24 rounds to nearest, as the conversion does in C++). */
static inline float qvalue(const void *data, pl_dtype t, int64_t i) {
    switch (t) {
    case PL_DT_QUINT8: return (float)((const uint8_t *)data)[i];
    case PL_DT_QINT8: return (float)((const int8_t *)data)[i];
    case PL_DT_QUINT16: return (float)((const uint16_t *)data)[i];
    case PL_DT_QINT16: return (float)((const int16_t *)data)[i];
    default: return (float)((const int32_t *)data)[i];
    }
}

static pl_status dq_prepare(pl_kernel_prep *p) {
    dq_attrs *a = calloc(1, sizeof *a);
    if (!a) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = a;
    a->out = pl_attr_type_or(p->attrs, "dtype", PL_DT_FLOAT);
    a->narrow_range = pl_attr_bool_or(p->attrs, "narrow_range", false);
    a->axis = pl_attr_int_or(p->attrs, "axis", -1);
    const char *mode = "MIN_COMBINED";
    size_t len = strlen(mode);
    if (pl_attr_has(p->attrs, "mode")) PL_TRY(pl_attr_string(p->attrs, "mode", &mode, &len));
    if (a->out != PL_DT_FLOAT && a->out != PL_DT_BFLOAT16) {
        return pl_error(PL_INVALID_ARGUMENT, "Output type must be bfloat16 or float, is '%s'", pl_dtype_string(a->out));
    }
#define IS_MODE(s) (len == strlen(s) && !memcmp(mode, s, len))
    if (IS_MODE("MIN_COMBINED")) a->mode = MODE_MIN_COMBINED;
    else if (IS_MODE("MIN_FIRST")) a->mode = MODE_MIN_FIRST;
    else if (IS_MODE("SCALED")) a->mode = MODE_SCALED;
    else a->mode = -1;
#undef IS_MODE
    if (a->out == PL_DT_FLOAT && a->mode < 0)
        return pl_error(PL_INVALID_ARGUMENT, "Mode string must be 'MIN_COMBINED', 'MIN_FIRST', or 'SCALED', is '%.*s'",
                        (int)len, mode);
    if (a->out == PL_DT_BFLOAT16 && a->mode != MODE_MIN_COMBINED)
        return pl_error(PL_INVALID_ARGUMENT,
                        "When output type is bfloat16, Mode string must be 'MIN_COMBINED', is '%.*s'", (int)len, mode);
    return NULL;
}

/* One slice: `n` runs of `post` elements spaced `stride` apart, starting at
 * `start`, all under one (min, max). The float expressions follow
 * dequantize_op.cc and quantization_utils.h term by term; C evaluates float
 * operands in float (FLT_EVAL_METHOD 0) and, in ISO mode, never fuses a
 * multiply and an add, so each rounding happens where TensorFlow's does. */
static void dequantize_slice(const dq_attrs *a, const void *in, pl_dtype t, const qrange *r, float min_range,
                             float max_range, float *out, int64_t start, int64_t n, int64_t post, int64_t stride) {
    float scale, offset = 0;
    if (a->mode == MODE_MIN_COMBINED) {
        /* x -> ((x + half_range) * scale) + min */
        const float half_range = r->lo == 0 ? 0.0f : ((float)r->hi - (float)r->lo + 1.0f) / 2.0f;
        scale = (max_range - min_range) / ((float)r->hi - (float)r->lo);
        for (int64_t k = 0; k < n; k++)
            for (int64_t j = 0; j < post; j++) {
                int64_t i = start + k * stride + j;
                out[i] = ((qvalue(in, t, i) + half_range) * scale) + min_range;
            }
        return;
    }
    if (a->mode == MODE_MIN_FIRST) {
        /* QuantizedToFloatStruct + DEQUANTIZE_WITH_EIGEN:
         * (range_min_rounded - lowest * range_scale) + x * range_scale */
        const double steps_minus_one = (double)((int64_t)1 << r->bits) - 1.0;
        const float range_scale = (float)((double)(max_range - min_range) / steps_minus_one);
        const float range_min_rounded =
            max_range == min_range ? min_range : (float)((double)roundf(min_range / range_scale) * range_scale);
        offset = range_min_rounded - (float)r->lo * range_scale;
        scale = range_scale;
    } else {
        /* SCALED: x * scale with the scale that maps the wider side exactly. */
        const float min_output_value = (float)(r->lo + (a->narrow_range ? 1 : 0));
        if (r->lo == 0) {
            scale = max_range / (float)r->hi;
        } else {
            float s0 = min_range / min_output_value, s1 = max_range / (float)r->hi;
            scale = s0 < s1 ? s1 : s0; /* std::max(s0, s1) */
        }
        /* No offset term here: adding 0 would turn a -0.0 product into +0.0. */
        for (int64_t k = 0; k < n; k++)
            for (int64_t j = 0; j < post; j++) {
                int64_t i = start + k * stride + j;
                out[i] = qvalue(in, t, i) * scale;
            }
        return;
    }
    for (int64_t k = 0; k < n; k++)
        for (int64_t j = 0; j < post; j++) {
            int64_t i = start + k * stride + j;
            out[i] = offset + qvalue(in, t, i) * scale;
        }
}

static pl_status dq_compute(pl_kernel_ctx *c) {
    const dq_attrs *a = c->state;
    const pl_tensor *x = c->inputs[0], *mn = c->inputs[1], *mx = c->inputs[2];
    qrange r;
    if (!quantized_range(x->dtype, &r))
        return pl_error(PL_INVALID_ARGUMENT, "Dequantize: input must be quint8, qint8, quint16, qint16 or qint32, got %s",
                        pl_dtype_name(x->dtype));
    if (mn->dtype != PL_DT_FLOAT || mx->dtype != PL_DT_FLOAT)
        return pl_error(PL_INVALID_ARGUMENT, "Dequantize: min_range and max_range must be float");
    if (a->axis >= x->rank)
        return pl_error(PL_INVALID_ARGUMENT, "Axis must be less than input dimension(%d), got %lld", x->rank,
                        (long long)a->axis);
    int64_t slices = a->axis > -1 ? x->dims[a->axis] : 1;
    if (mn->count != slices)
        return pl_error(PL_INVALID_ARGUMENT,
                        "input_min_tensor must have as many elements as input on the dequantization axis (%lld), got "
                        "%lld, expected %lld",
                        (long long)a->axis, (long long)mn->count, (long long)slices);
    if (mx->count != slices)
        return pl_error(PL_INVALID_ARGUMENT,
                        "input_max_tensor must have as many elements as input on the dequantization axis (%lld), got "
                        "%lld, expected %lld",
                        (long long)a->axis, (long long)mx->count, (long long)slices);
    if (slices != 1 && a->mode == MODE_MIN_FIRST)
        return pl_error(PL_UNIMPLEMENTED, "MIN_FIRST mode is not implemented for Dequantize with axis != -1.");
    pl_tensor *f;
    PL_TRY(pl_tensor_alloc(PL_DT_FLOAT, x->rank, x->dims, &f));
    const float *lo = mn->data, *hi = mx->data;
    float *out = f->data;
    if (slices == 1) {
        dequantize_slice(a, x->data, x->dtype, &r, lo[0], hi[0], out, 0, 1, x->count, 0);
    } else {
        int64_t pre = 1, post = 1;
        for (int d = 0; d < a->axis; d++) pre *= x->dims[d];
        for (int d = (int)a->axis + 1; d < x->rank; d++) post *= x->dims[d];
        for (int64_t s = 0; s < slices; s++)
            dequantize_slice(a, x->data, x->dtype, &r, lo[s], hi[s], out, s * post, pre, post, slices * post);
    }
    if (a->out == PL_DT_FLOAT) {
        pl_ctx_set_output(c, 0, f);
        return NULL;
    }
    pl_tensor *b;
    pl_status st = pl_ctx_alloc_output(c, 0, PL_DT_BFLOAT16, x->rank, x->dims, &b);
    if (!st) {
        uint16_t *o = b->data;
        for (int64_t i = 0; i < x->count; i++) o[i] = pl_float_to_bfloat16(out[i]);
    }
    pl_tensor_unref(f);
    return st;
}

const pl_kernel_def pl_kernels_quantize[] = {
    {.op = "Dequantize", .prepare = dq_prepare, .compute = dq_compute, .release = free},
    {0},
};
