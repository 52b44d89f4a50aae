/* BiasAdd and BiasAddV1: adds a per-channel vector along the channel axis
 * (the last one, or axis 1 for NCHW), for every real numeric dtype. */
#include <stdlib.h>
#include <string.h>

#include "ops/nn_internal.h"

typedef struct bias_state {
    bool nchw;
} bias_state;

pl_status pl__nn_bias_add_prepare(pl_kernel_prep *p) {
    bool nchw = false;
    if (pl_attr_has(p->attrs, "data_format") && !pl_attr_string_equals(p->attrs, "data_format", "NHWC")) {
        if (!pl_attr_string_equals(p->attrs, "data_format", "NCHW"))
            return pl_error(PL_INVALID_ARGUMENT, "Invalid data format");
        nchw = true;
    }
    bias_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->nchw = nchw;
    p->state = s;
    return NULL;
}

void pl__nn_free_state(void *state) { free(state); }

#define BIAS_LOOP(T)                                                         \
    do {                                                                     \
        const T *xv = x->data, *bv = b->data;                                \
        T *yv = y->data;                                                     \
        for (int64_t o = 0; o < outer; o++)                                  \
            for (int64_t ch = 0; ch < channels; ch++) {                      \
                const T bias = bv[ch];                                       \
                int64_t base = (o * channels + ch) * inner;                  \
                for (int64_t i = 0; i < inner; i++) yv[base + i] = (T)(xv[base + i] + bias); \
            }                                                                \
    } while (0)

#define BIAS_LOOP_CONVERT(TO_F, FROM_F)                                      \
    do {                                                                     \
        const uint16_t *xv = x->data, *bv = b->data;                         \
        uint16_t *yv = y->data;                                              \
        for (int64_t o = 0; o < outer; o++)                                  \
            for (int64_t ch = 0; ch < channels; ch++) {                      \
                const float bias = TO_F(bv[ch]);                             \
                int64_t base = (o * channels + ch) * inner;                  \
                for (int64_t i = 0; i < inner; i++) yv[base + i] = FROM_F(TO_F(xv[base + i]) + bias); \
            }                                                                \
    } while (0)

pl_status pl__nn_bias_add_compute(pl_kernel_ctx *c) {
    const bias_state *s = c->state;
    const pl_tensor *x = c->inputs[0], *b = c->inputs[1];
    char b1[64], b2[64];
    if (x->rank < 2)
        return pl_error(PL_INVALID_ARGUMENT, "Input tensor must be at least 2D: %s", pl_shape_str(x->rank, x->dims, b1, sizeof b1));
    if (b->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "Biases must be 1D: %s", pl_shape_str(b->rank, b->dims, b1, sizeof b1));
    if (b->dtype != x->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "bias has type %s, input %s", pl_dtype_name(b->dtype), pl_dtype_name(x->dtype));
    int axis = s && s->nchw ? 1 : x->rank - 1;
    if (b->dims[0] != x->dims[axis])
        return pl_error(PL_INVALID_ARGUMENT,
                        "Must provide as many biases as the last dimension of the input tensor: %s vs. %s",
                        pl_shape_str(b->rank, b->dims, b1, sizeof b1), pl_shape_str(x->rank, x->dims, b2, sizeof b2));
    int64_t outer = 1, inner = 1, channels = x->dims[axis];
    for (int i = 0; i < axis; i++) outer *= x->dims[i];
    for (int i = axis + 1; i < x->rank; i++) inner *= x->dims[i];
    pl_tensor *y;
    PL_TRY(pl_ctx_alloc_output(c, 0, x->dtype, x->rank, x->dims, &y));
    if (x->count == 0) return NULL;
    switch (x->dtype) {
    case PL_DT_FLOAT: BIAS_LOOP(float); break;
    case PL_DT_DOUBLE: BIAS_LOOP(double); break;
    case PL_DT_INT8: BIAS_LOOP(int8_t); break;
    case PL_DT_UINT8: BIAS_LOOP(uint8_t); break;
    case PL_DT_INT16: BIAS_LOOP(int16_t); break;
    case PL_DT_UINT16: BIAS_LOOP(uint16_t); break;
    case PL_DT_INT32: BIAS_LOOP(uint32_t); break; /* wraps like TensorFlow, without signed overflow */
    case PL_DT_UINT32: BIAS_LOOP(uint32_t); break;
    case PL_DT_INT64: BIAS_LOOP(uint64_t); break;
    case PL_DT_UINT64: BIAS_LOOP(uint64_t); break;
    case PL_DT_HALF: BIAS_LOOP_CONVERT(pl_half_to_float, pl_float_to_half); break;
    case PL_DT_BFLOAT16: BIAS_LOOP_CONVERT(pl_bfloat16_to_float, pl_float_to_bfloat16); break;
    default: return pl_error(PL_UNIMPLEMENTED, "BiasAdd does not support %s", pl_dtype_name(x->dtype));
    }
    return NULL;
}
