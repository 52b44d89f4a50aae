/* Ops that make tensors from a value rather than from an input's elements:
 * Fill, ZerosLike, OnesLike, Range and OneHot. */
#include <math.h>
#include <string.h>

#include "ops/array_internal.h"

/* A shape from a vector (or legacy scalar) of dims, as TensorShapeUtils::MakeShape. */
static pl_status shape_from(const pl_tensor *t, int *rank, int64_t *dims) {
    if (t->count > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "shape has %lld dimensions, more than %d", (long long)t->count, PL_MAX_RANK);
    for (int64_t i = 0; i < t->count; i++) {
        dims[i] = pl__arr_int(t, i);
        if (dims[i] < 0) return pl_error(PL_INVALID_ARGUMENT, "Dimension %lld must be >= 0", (long long)dims[i]);
    }
    *rank = (int)t->count;
    int64_t n;
    return pl_shape_count(*rank, dims, &n);
}

/* ---- Fill (constant_op.cc) ---- */

pl_status pl__arr_fill(pl_kernel_ctx *c) {
    const pl_tensor *dims_t = c->inputs[0], *value = c->inputs[1];
    char a[64];
    if (dims_t->rank > 1)
        return pl_error(PL_INVALID_ARGUMENT, "dims must represent a vector, got shape %s",
                        pl__arr_shape_str(dims_t, a, sizeof a));
    if (!(value->rank == 0 || (value->rank == 1 && value->dims[0] == 1)))
        return pl_error(PL_INVALID_ARGUMENT, "value must represent a scalar, got shape %s",
                        pl__arr_shape_str(value, a, sizeof a));
    PL_TRY(pl__arr_want_index(dims_t, "dims"));
    int rank = 0;
    int64_t dims[PL_MAX_RANK];
    PL_TRY(shape_from(dims_t, &rank, dims));
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, value->dtype, rank, dims, &out));
    return pl__arr_fill_value(out, 0, out->count, value, 0);
}

/* ---- Empty: a tensor of the given shape; its contents are zeros here ---- */

pl_status pl__arr_prep_empty(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    PL_TRY(pl_attr_type(p->attrs, "dtype", &s->type));
    return NULL;
}

pl_status pl__arr_empty(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *shape_t = c->inputs[0];
    char a[64];
    if (shape_t->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "shape must be a vector of int32, got shape %s",
                        pl__arr_shape_str(shape_t, a, sizeof a));
    PL_TRY(pl__arr_want_index(shape_t, "shape"));
    int rank = 0;
    int64_t dims[PL_MAX_RANK];
    PL_TRY(shape_from(shape_t, &rank, dims));
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, s->type, rank, dims, &out));
    if (s->type != PL_DT_STRING && s->type != PL_DT_RESOURCE && s->type != PL_DT_VARIANT)
        memset(out->data, 0, pl_tensor_nbytes(out));
    return NULL;
}

/* ---- ZerosLike / OnesLike ---- */

pl_status pl__arr_zeros_like(pl_kernel_ctx *c) {
    const pl_tensor *in = c->inputs[0];
    if (in->dtype == PL_DT_VARIANT || in->dtype == PL_DT_RESOURCE)
        return pl_error(PL_UNIMPLEMENTED, "ZerosLike of %s is not supported", pl_dtype_name(in->dtype));
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, in->rank, in->dims, &out));
    if (in->dtype != PL_DT_STRING) memset(out->data, 0, pl_tensor_nbytes(out));
    return NULL;
}

pl_status pl__arr_ones_like(pl_kernel_ctx *c) {
    const pl_tensor *in = c->inputs[0];
    pl_tensor *one;
    if (in->dtype == PL_DT_COMPLEX64 || in->dtype == PL_DT_COMPLEX128) {
        PL_TRY(pl_tensor_zeros(in->dtype, 0, NULL, &one));
        if (in->dtype == PL_DT_COMPLEX64) ((float *)one->data)[0] = 1;
        else ((double *)one->data)[0] = 1;
    } else {
        PL_TRY(pl_tensor_scalar(in->dtype, 1.0, &one));
    }
    pl_tensor *out;
    pl_status st = pl_ctx_alloc_output(c, 0, in->dtype, in->rank, in->dims, &out);
    if (!st) st = pl__arr_fill_value(out, 0, out->count, one, 0);
    pl_tensor_unref(one);
    return st;
}

/* ---- Range (sequence_ops.cc) ---- */

static bool is_float(pl_dtype d) {
    return d == PL_DT_FLOAT || d == PL_DT_DOUBLE || d == PL_DT_HALF || d == PL_DT_BFLOAT16;
}

static void store(pl_tensor *t, int64_t i, double fv, int64_t iv) {
    void *d = t->data;
    switch (t->dtype) {
    case PL_DT_FLOAT: ((float *)d)[i] = (float)fv; break;
    case PL_DT_DOUBLE: ((double *)d)[i] = fv; break;
    case PL_DT_HALF: ((uint16_t *)d)[i] = pl_float_to_half((float)fv); break;
    case PL_DT_BFLOAT16: ((uint16_t *)d)[i] = pl_float_to_bfloat16((float)fv); break;
    case PL_DT_INT8: ((int8_t *)d)[i] = (int8_t)iv; break;
    case PL_DT_UINT8: ((uint8_t *)d)[i] = (uint8_t)iv; break;
    case PL_DT_INT16: ((int16_t *)d)[i] = (int16_t)iv; break;
    case PL_DT_UINT16: ((uint16_t *)d)[i] = (uint16_t)iv; break;
    case PL_DT_INT32: ((int32_t *)d)[i] = (int32_t)iv; break;
    case PL_DT_UINT32: ((uint32_t *)d)[i] = (uint32_t)iv; break;
    case PL_DT_UINT64: ((uint64_t *)d)[i] = (uint64_t)iv; break;
    default: ((int64_t *)d)[i] = iv; break;
    }
}

pl_status pl__arr_range(pl_kernel_ctx *c) {
    static const char *const names[3] = {"start", "limit", "delta"};
    char a[64];
    for (int k = 0; k < 3; k++) {
        const pl_tensor *t = c->inputs[k];
        if (t->count != 1 || t->rank > 1)
            return pl_error(PL_INVALID_ARGUMENT, "%s must be a scalar, not shape %s", names[k],
                            pl__arr_shape_str(t, a, sizeof a));
    }
    pl_dtype type = c->inputs[0]->dtype;
    /* TensorFlow registers Range for these four only. */
    if (type != PL_DT_FLOAT && type != PL_DT_DOUBLE && type != PL_DT_INT32 && type != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "Range of %s is not supported", pl_dtype_name(type));
    for (int k = 1; k < 3; k++)
        if (c->inputs[k]->dtype != type)
            return pl_error(PL_INVALID_ARGUMENT, "Range: %s is %s, start is %s", names[k],
                            pl_dtype_name(c->inputs[k]->dtype), pl_dtype_name(type));
    int64_t size;
    if (is_float(type)) {
        double start = pl_tensor_get_f64(c->inputs[0], 0), limit = pl_tensor_get_f64(c->inputs[1], 0),
               delta = pl_tensor_get_f64(c->inputs[2], 0);
        if (delta == 0) return pl_error(PL_INVALID_ARGUMENT, "Requires delta != 0: %g", delta);
        if (delta > 0 && start > limit)
            return pl_error(PL_INVALID_ARGUMENT, "Requires start <= limit when delta > 0: %g/%g", start, limit);
        if (delta < 0 && start < limit)
            return pl_error(PL_INVALID_ARGUMENT, "Requires start >= limit when delta < 0: %g/%g", start, limit);
        /* The size is computed in the op's own precision, as TensorFlow does. */
        double n = type == PL_DT_DOUBLE ? ceil(fabs((limit - start) / delta))
                                        : (double)ceilf(fabsf(((float)limit - (float)start) / (float)delta));
        if (!(n <= (double)(PL_TENSOR_MAX_BYTES)))
            return pl_error(PL_INVALID_ARGUMENT, "Requires ((limit - start) / delta) <= %lld",
                            (long long)PL_TENSOR_MAX_BYTES);
        size = (int64_t)n;
        pl_tensor *out;
        PL_TRY(pl_ctx_alloc_output(c, 0, type, 1, &size, &out));
        /* Repeated addition in the op's type, as TensorFlow's CPU kernel does. */
        if (type == PL_DT_DOUBLE) {
            double v = start;
            for (int64_t i = 0; i < size; i++, v += delta) ((double *)out->data)[i] = v;
        } else {
            float v = (float)start;
            for (int64_t i = 0; i < size; i++, v += (float)delta) ((float *)out->data)[i] = v;
        }
        return NULL;
    }
    int64_t start = pl__arr_int(c->inputs[0], 0), limit = pl__arr_int(c->inputs[1], 0),
            delta = pl__arr_int(c->inputs[2], 0);
    if (delta == 0) return pl_error(PL_INVALID_ARGUMENT, "Requires delta != 0: %lld", (long long)delta);
    if (delta > 0 && start > limit)
        return pl_error(PL_INVALID_ARGUMENT, "Requires start <= limit when delta > 0: %lld/%lld", (long long)start,
                        (long long)limit);
    if (delta < 0 && start < limit)
        return pl_error(PL_INVALID_ARGUMENT, "Requires start >= limit when delta < 0: %lld/%lld", (long long)start,
                        (long long)limit);
    /* Unsigned arithmetic: |limit - start| fits in uint64 for any int64 pair. */
    uint64_t span = start <= limit ? (uint64_t)limit - (uint64_t)start : (uint64_t)start - (uint64_t)limit;
    uint64_t step = delta > 0 ? (uint64_t)delta : (uint64_t)0 - (uint64_t)delta;
    uint64_t n = span / step + (span % step != 0);
    if (n > (uint64_t)PL_TENSOR_MAX_BYTES)
        return pl_error(PL_INVALID_ARGUMENT, "Requires ((limit - start) / delta) <= %lld", (long long)PL_TENSOR_MAX_BYTES);
    size = (int64_t)n;
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, type, 1, &size, &out));
    for (int64_t i = 0; i < size; i++) store(out, i, 0, (int64_t)((uint64_t)start + (uint64_t)i * (uint64_t)delta));
    return NULL;
}

/* ---- OneHot (one_hot_op.cc) ---- */

pl_status pl__arr_prep_one_hot(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    s->i[0] = pl_attr_int_or(p->attrs, "axis", -1);
    return NULL;
}

pl_status pl__arr_one_hot(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *indices = c->inputs[0], *depth_t = c->inputs[1], *on = c->inputs[2], *off = c->inputs[3];
    char a[64];
    int out_rank = indices->rank + 1;
    if (!(s->i[0] == -1 || (s->i[0] >= 0 && s->i[0] < out_rank)))
        return pl_error(PL_INVALID_ARGUMENT, "Expected axis to be -1 or between [0, %d).  But received: %lld", out_rank,
                        (long long)s->i[0]);
    if (depth_t->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "depth must be a scalar, but got: %s", pl__arr_shape_str(depth_t, a, sizeof a));
    if (on->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "on_value must be a scalar, but got: %s", pl__arr_shape_str(on, a, sizeof a));
    if (off->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "off_value must be a scalar, but got: %s", pl__arr_shape_str(off, a, sizeof a));
    if (!pl__arr_is_int(indices->dtype) || !pl__arr_is_int(depth_t->dtype))
        return pl_error(PL_INVALID_ARGUMENT, "OneHot: indices and depth must be integers");
    if (out_rank > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "OneHot: result has more than %d dimensions", PL_MAX_RANK);
    int axis = s->i[0] == -1 ? indices->rank : (int)s->i[0];
    int64_t depth = pl__arr_int(depth_t, 0);
    if (depth < 0) return pl_error(PL_INVALID_ARGUMENT, "depth must be non-negative, got: %lld", (long long)depth);
    int64_t dims[PL_MAX_RANK], prefix = 1, suffix = 1;
    for (int i = 0, r = 0; i < out_rank; i++) {
        if (i == axis) {
            dims[i] = depth;
        } else {
            dims[i] = indices->dims[r++];
            if (i < axis) prefix *= dims[i];
            else suffix *= dims[i];
        }
    }
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, on->dtype, out_rank, dims, &out));
    PL_TRY(pl__arr_fill_value(out, 0, out->count, off, 0));
    /* out[p, d, q] = on where indices[p, q] == d; out-of-range indices stay off. */
    for (int64_t p = 0; p < prefix; p++)
        for (int64_t q = 0; q < suffix; q++) {
            int64_t v = indices->dtype == PL_DT_UINT64 ? (int64_t)(((const uint64_t *)indices->data)[p * suffix + q] &
                                                                   INT64_MAX)
                                                       : pl__arr_int(indices, p * suffix + q);
            if (v >= 0 && v < depth) PL_TRY(pl__arr_copy(out, (p * depth + v) * suffix + q, on, 0, 1));
        }
    return NULL;
}
