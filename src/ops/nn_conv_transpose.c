/* Conv2DBackpropInput and Conv2DBackpropInputV2 (Keras' Conv2DTranspose):
 * reading the input size and checking out_backprop against the forward
 * geometry; the transposed convolution itself (oneDNN's backward-data
 * primitive or the direct kernel, plans and weights cached) is nn_conv.c's. */
#include <stdlib.h>
#include <string.h>

#include "ops/nn_internal.h"

typedef struct tconv {
    pl__window_attrs win;
    bool v2;                      /* the input size is the shape of a tensor */
    pl__conv *conv;
} tconv;

pl_status pl__nn_conv_transpose_prepare(pl_kernel_prep *p) {
    pl_dtype t = pl_attr_type_or(p->attrs, "T", PL_DT_FLOAT);
    if (t != PL_DT_FLOAT)
        return pl_error(PL_UNIMPLEMENTED, "%s supports only float32, not %s", p->op, pl_dtype_name(t));
    pl__window_attrs w;
    PL_TRY(pl__window_parse(p->attrs, false, &w));
    tconv *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->win = w;
    s->v2 = !strcmp(p->op, "Conv2DBackpropInputV2");
    pl_status st = pl__conv_transpose_create(&w, &s->conv);
    if (st) {
        free(s);
        return st;
    }
    p->state = s;
    return NULL;
}

void pl__nn_conv_transpose_release(void *state) {
    tconv *s = state;
    if (!s) return;
    pl__conv_free(s->conv);
    free(s);
}

/* The input shape: a 4-vector (V1) or the shape of a tensor (V2). */
static pl_status input_shape(const tconv *s, const pl_tensor *t, int64_t dims[4]) {
    if (s->v2) {
        if (t->rank != 4) return pl_error(PL_INVALID_ARGUMENT, "input must be 4-dimensional");
        memcpy(dims, t->dims, sizeof(int64_t) * 4);
        return NULL;
    }
    if (t->rank != 1 || t->count != 4 || (t->dtype != PL_DT_INT32 && t->dtype != PL_DT_INT64))
        return pl_error(PL_INVALID_ARGUMENT, "Conv2DBackpropInput: input_sizes input must be 1-dim, not %d", t->rank);
    for (int i = 0; i < 4; i++) {
        dims[i] = pl_tensor_get_i64(t, i);
        if (dims[i] < 0) return pl_error(PL_INVALID_ARGUMENT, "Dimension %d of input_sizes is negative", i);
    }
    return NULL;
}

pl_status pl__nn_conv_transpose_compute(pl_kernel_ctx *c) {
    tconv *s = c->state;
    pl_tensor *f = c->inputs[1], *dy = c->inputs[2];
    if (f->dtype != PL_DT_FLOAT || dy->dtype != PL_DT_FLOAT)
        return pl_error(PL_INVALID_ARGUMENT, "Conv2DBackpropInput expects float filter and out_backprop");
    pl_tensor shape;
    memset(&shape, 0, sizeof shape);
    shape.rank = 4;
    PL_TRY(input_shape(s, c->inputs[0], shape.dims));
    pl__conv_geom g;
    PL_TRY(pl__conv_geometry(&s->win, false, &shape, f, &g));
    int64_t want[4];
    pl__nhwc_dims((pl__nhwc){g.n, g.oh, g.ow, g.oc}, g.nchw, want);
    if (dy->rank != 4) return pl_error(PL_INVALID_ARGUMENT, "out_backprop must be 4-dimensional");
    for (int i = 0; i < 4; i++)
        if (dy->dims[i] != want[i])
            return pl_error(PL_INVALID_ARGUMENT,
                            "Conv2DCustomBackpropInput: Size of out_backprop doesn't match computed: actual = %lld, "
                            "computed = %lld",
                            (long long)dy->dims[i], (long long)want[i]);
    pl_tensor *dx;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_FLOAT, 4, shape.dims, &dx));
    if (dx->count == 0) return NULL;
    if (dy->count == 0) {
        memset(dx->data, 0, pl_tensor_nbytes(dx));
        return NULL;
    }
    return pl__conv_transpose_run(s->conv, &g, dy, f, dx->data);
}
