/* FusedBatchNorm (V1, V2, V3) and LRN, with TensorFlow's CPU formulas:
 * batch norm scales by rsqrt(variance + epsilon) * scale; in training mode it
 * normalises with the biased batch variance and reports the unbiased one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/nn_internal.h"

typedef struct bn_state {
    float epsilon, avg_factor;
    bool nchw, training;
    int outputs;                /* 5, or 6 for V3 */
} bn_state;

pl_status pl__nn_batch_norm_prepare(pl_kernel_prep *p) {
    pl_dtype t = pl_attr_type_or(p->attrs, "T", PL_DT_FLOAT);
    pl_dtype u = pl_attr_type_or(p->attrs, "U", PL_DT_FLOAT);
    if (t != PL_DT_FLOAT || u != PL_DT_FLOAT)
        return pl_error(PL_UNIMPLEMENTED, "%s supports only float32, not %s", p->op, pl_dtype_name(t));
    bool nchw = false;
    if (pl_attr_has(p->attrs, "data_format") && !pl_attr_string_equals(p->attrs, "data_format", "NHWC") &&
        !pl_attr_string_equals(p->attrs, "data_format", "NDHWC")) {
        if (!pl_attr_string_equals(p->attrs, "data_format", "NCHW") &&
            !pl_attr_string_equals(p->attrs, "data_format", "NCDHW"))
            return pl_error(PL_INVALID_ARGUMENT, "Invalid data format");
        nchw = true;
    }
    bn_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->epsilon = pl_attr_float_or(p->attrs, "epsilon", 0.0001f);
    s->avg_factor = pl_attr_float_or(p->attrs, "exponential_avg_factor", 1.0f);
    s->training = pl_attr_bool_or(p->attrs, "is_training", true);
    s->nchw = nchw;
    s->outputs = !strcmp(p->op, "FusedBatchNormV3") ? 6 : 5;
    if (p->num_outputs < s->outputs) p->num_outputs = s->outputs;
    p->state = s;
    return NULL;
}

static pl_status check_vec(const pl_tensor *t, const char *what, int64_t channels, bool need_size) {
    char buf[64];
    if (t->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "%s must be 1-dimensional%s", what, pl_shape_str(t->rank, t->dims, buf, sizeof buf));
    if (t->dtype != PL_DT_FLOAT) return pl_error(PL_INVALID_ARGUMENT, "%s must be float32", what);
    if (need_size && t->count != channels)
        return pl_error(PL_INVALID_ARGUMENT, "%s must have the same number of elements as the channels of x, got %lld and %lld",
                        what, (long long)t->count, (long long)channels);
    return NULL;
}

/* Per-channel batch mean and biased variance, accumulated in double. */
static void batch_moments(const float *x, int64_t outer, int64_t ch, int64_t inner, float *mean, float *var) {
    const double n = (double)(outer * inner);
    for (int64_t c = 0; c < ch; c++) {
        double sum = 0, sq = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) sum += x[(o * ch + c) * inner + i];
        const double m = sum / n;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                double d = x[(o * ch + c) * inner + i] - m;
                sq += d * d;
            }
        mean[c] = (float)m;
        var[c] = (float)(sq / n);
    }
}

static pl_status alloc_vec(pl_kernel_ctx *c, int i, int64_t n, float **out) {
    pl_tensor *t;
    PL_TRY(pl_ctx_alloc_output(c, i, PL_DT_FLOAT, 1, &n, &t));
    *out = t->data;
    return NULL;
}

pl_status pl__nn_batch_norm_compute(pl_kernel_ctx *c) {
    const bn_state *s = c->state;
    const pl_tensor *x = c->inputs[0], *scale = c->inputs[1], *offset = c->inputs[2];
    const pl_tensor *mean_in = c->inputs[3], *var_in = c->inputs[4];
    char buf[64];
    if (x->rank != 4 && x->rank != 5)
        return pl_error(PL_INVALID_ARGUMENT, "input must be 4 or 5-dimensional%s", pl_shape_str(x->rank, x->dims, buf, sizeof buf));
    if (x->dtype != PL_DT_FLOAT) return pl_error(PL_INVALID_ARGUMENT, "x must be float32");
    const int axis = s->nchw ? 1 : x->rank - 1;
    const int64_t ch = x->dims[axis];
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= x->dims[i];
    for (int i = axis + 1; i < x->rank; i++) inner *= x->dims[i];
    const bool need_stats = !s->training || s->avg_factor != 1.0f;
    PL_TRY(check_vec(scale, "scale", ch, true));
    PL_TRY(check_vec(offset, "offset", ch, true));
    PL_TRY(check_vec(mean_in, "mean", ch, need_stats));
    PL_TRY(check_vec(var_in, "variance", ch, need_stats));

    pl_tensor *y;
    float *o_mean, *o_var, *o_saved_mean, *o_saved_var;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, x->rank, x->dims, &y));
    PL_TRY(alloc_vec(c, 1, ch, &o_mean));
    PL_TRY(alloc_vec(c, 2, ch, &o_var));
    PL_TRY(alloc_vec(c, 3, ch, &o_saved_mean));
    PL_TRY(alloc_vec(c, 4, ch, &o_saved_var));
    if (s->outputs == 6) {
        pl_tensor *r;
        PL_TRY(pl_ctx_alloc_output(c, 5, PL_DT_FLOAT, 0, NULL, &r));
        *(float *)r->data = 0;
    }
    if (x->count == 0) {
        for (int64_t i = 0; i < ch; i++) o_mean[i] = o_var[i] = o_saved_mean[i] = o_saved_var[i] = NAN;
        return NULL;
    }

    const float *xs = x->data, *sc = scale->data, *of = offset->data;
    const float *mean = mean_in->data, *var = var_in->data;
    if (s->training) {
        batch_moments(xs, outer, ch, inner, o_saved_mean, o_saved_var);
        const int64_t rest = outer * inner;
        const float adjust = (float)rest / (float)(rest > 1 ? rest - 1 : 1); /* Bessel's correction */
        const float f = s->avg_factor;
        for (int64_t i = 0; i < ch; i++) {
            if (f == 1.0f) {
                o_mean[i] = o_saved_mean[i];
                o_var[i] = o_saved_var[i] * adjust;
            } else {
                o_mean[i] = (1 - f) * mean[i] + f * o_saved_mean[i];
                o_var[i] = (1 - f) * var[i] + (f * adjust) * o_saved_var[i];
            }
        }
        mean = o_saved_mean;
        var = o_saved_var;
    } else {
        for (int64_t i = 0; i < ch; i++) {
            o_mean[i] = o_saved_mean[i] = mean[i];
            o_var[i] = o_saved_var[i] = var[i];
        }
    }
    float *ys = y->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < ch; k++) {
            const float factor = (1.0f / sqrtf(var[k] + s->epsilon)) * sc[k];
            const float m = mean[k], off = of[k];
            const int64_t base = (o * ch + k) * inner;
            for (int64_t i = 0; i < inner; i++) ys[base + i] = (xs[base + i] - m) * factor + off;
        }
    return NULL;
}

void pl__nn_free_state(void *state) { free(state); }

/* ---- LRN ---- */

typedef struct lrn_state {
    int64_t radius;
    float bias, alpha, beta;
} lrn_state;

pl_status pl__nn_lrn_prepare(pl_kernel_prep *p) {
    pl_dtype t = pl_attr_type_or(p->attrs, "T", PL_DT_FLOAT);
    if (t != PL_DT_FLOAT) return pl_error(PL_UNIMPLEMENTED, "LRN supports only float32, not %s", pl_dtype_name(t));
    const int64_t radius = pl_attr_int_or(p->attrs, "depth_radius", 5);
    if (radius < 0) return pl_error(PL_INVALID_ARGUMENT, "depth_radius must be non-negative");
    lrn_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->radius = radius;
    s->bias = pl_attr_float_or(p->attrs, "bias", 1.0f);
    s->alpha = pl_attr_float_or(p->attrs, "alpha", 1.0f);
    s->beta = pl_attr_float_or(p->attrs, "beta", 0.5f);
    p->state = s;
    return NULL;
}

pl_status pl__nn_lrn_compute(pl_kernel_ctx *c) {
    const lrn_state *s = c->state;
    const pl_tensor *x = c->inputs[0];
    if (x->rank != 4) return pl_error(PL_INVALID_ARGUMENT, "in must be 4-dimensional");
    if (x->dtype != PL_DT_FLOAT) return pl_error(PL_INVALID_ARGUMENT, "LRN expects float32 input");
    pl_tensor *y;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, 4, x->dims, &y));
    const int64_t depth = x->dims[3], rows = depth ? x->count / depth : 0;
    const float *xs = x->data;
    float *ys = y->data;
    for (int64_t r = 0; r < rows; r++) {
        const float *in = xs + r * depth;
        for (int64_t d = 0; d < depth; d++) {
            int64_t lo = d > s->radius ? d - s->radius : 0;
            int64_t hi = s->radius >= depth - d ? depth : d + s->radius + 1;
            float sq = 0;
            for (int64_t k = lo; k < hi; k++) sq += in[k] * in[k];
            ys[r * depth + d] = in[d] / powf(s->bias + s->alpha * sq, s->beta);
        }
    }
    return NULL;
}
