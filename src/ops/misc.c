/* Optionals (OptionalFromValue, OptionalNone, OptionalHasValue,
 * OptionalGetValue: a VARIANT scalar holding a tuple of tensors or nothing,
 * as TF2 `cond` keeps branch intermediates), and the cuDNN RNN ops, which
 * TensorFlow defines but runs on GPUs only: a Keras LSTM exported on any
 * machine carries them in an alternative function that CPU serving never
 * calls, so they must be known to load the model and fail only if run. */
#include <stdlib.h>
#include <string.h>

#include "ops/families.h"

/* ---- optionals ---- */

typedef struct optional {
    pl_object base;
    int n;                 /* -1: no value */
    pl_tensor **values;
} optional;

static void optional_destroy(pl_object *obj) {
    optional *o = (optional *)obj;
    for (int i = 0; i < o->n; i++) pl_tensor_unref(o->values[i]);
    free(o->values);
    free(o);
}

static const pl_object_type optional_type = {"tensorflow::data::Optional", optional_destroy};

static pl_status optional_output(pl_kernel_ctx *c, pl_tensor *const *values, int n) {
    optional *o = calloc(1, sizeof *o);
    if (!o) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_object_init(&o->base, &optional_type);
    o->n = n;
    if (n > 0) {
        o->values = calloc((size_t)n, sizeof *o->values);
        if (!o->values) {
            o->n = 0;
            pl_object_unref(&o->base);
            return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        }
        for (int i = 0; i < n; i++) o->values[i] = pl_tensor_ref(values[i]);
    }
    pl_tensor *t;
    pl_status st = pl_tensor_alloc(PL_DT_VARIANT, 0, NULL, &t);
    if (st) {
        pl_object_unref(&o->base);
        return st;
    }
    pl_tensor_set_object(t, 0, &o->base);
    pl_ctx_set_output(c, 0, t);
    return NULL;
}

static pl_status input_optional(const pl_kernel_ctx *c, optional **out) {
    const pl_tensor *t = c->inputs[0];
    pl_object *obj = t->dtype == PL_DT_VARIANT && t->rank == 0 ? pl_tensor_object(t, 0) : NULL;
    if (!obj || obj->type != &optional_type)
        return pl_error(PL_INVALID_ARGUMENT, "Input tensor must be a scalar of dtype DT_VARIANT holding an Optional.");
    *out = (optional *)obj;
    return NULL;
}

static pl_status from_value_compute(pl_kernel_ctx *c) {
    return optional_output(c, c->inputs, c->num_inputs);
}

static pl_status none_compute(pl_kernel_ctx *c) {
    return optional_output(c, NULL, -1);
}

static pl_status has_value_compute(pl_kernel_ctx *c) {
    optional *o = NULL;
    PL_TRY(input_optional(c, &o));
    pl_tensor *t;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_BOOL, 0, NULL, &t));
    *(uint8_t *)t->data = o->n >= 0;
    return NULL;
}

typedef struct get_value_attrs {
    int n;
    pl_dtype *types;
} get_value_attrs;

static void get_value_free(void *state) {
    get_value_attrs *a = state;
    if (a) free(a->types);
    free(a);
}

static pl_status get_value_prepare(pl_kernel_prep *p) {
    get_value_attrs *a = calloc(1, sizeof *a);
    if (!a) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = a;
    const pl_dtype *types;
    PL_TRY(pl_attr_type_list(p->attrs, "output_types", &types, &a->n));
    a->types = malloc(sizeof *a->types * (size_t)(a->n ? a->n : 1));
    if (!a->types) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(a->types, types, sizeof *types * (size_t)a->n);
    if (p->num_outputs < a->n) p->num_outputs = a->n;
    return NULL;
}

static pl_status get_value_compute(pl_kernel_ctx *c) {
    const get_value_attrs *a = c->state;
    optional *o = NULL;
    PL_TRY(input_optional(c, &o));
    if (o->n < 0) return pl_error(PL_INVALID_ARGUMENT, "The given optional does not have a value.");
    if (o->n != a->n)
        return pl_error(PL_INVALID_ARGUMENT, "The given optional has %d components; the op expects %d", o->n, a->n);
    for (int i = 0; i < o->n; i++)
        if (o->values[i]->dtype != a->types[i])
            return pl_error(PL_INVALID_ARGUMENT, "Optional component %d is %s; the op expects %s", i,
                            pl_dtype_name(o->values[i]->dtype), pl_dtype_name(a->types[i]));
    for (int i = 0; i < o->n && i < c->num_outputs; i++) pl_ctx_set_output(c, i, pl_tensor_ref(o->values[i]));
    return NULL;
}

/* ---- ops TensorFlow runs on GPUs only ---- */

static pl_status gpu_only_compute(pl_kernel_ctx *c) {
    return pl_error(PL_INVALID_ARGUMENT,
                    "No OpKernel was registered to support this op on CPU (node %s): cuDNN RNN ops run on GPUs only",
                    c->node_name);
}

#define GPU_ONLY(name) {.op = name, .compute = gpu_only_compute, .flags = PL_KERNEL_STATEFUL}
const pl_kernel_def pl_kernels_misc[] = {
    {.op = "OptionalFromValue", .compute = from_value_compute},
    {.op = "OptionalNone", .compute = none_compute},
    {.op = "OptionalHasValue", .compute = has_value_compute},
    {.op = "OptionalGetValue", .prepare = get_value_prepare, .compute = get_value_compute, .release = get_value_free},
    GPU_ONLY("CudnnRNN"),
    GPU_ONLY("CudnnRNNV2"),
    GPU_ONLY("CudnnRNNV3"),
    GPU_ONLY("CudnnRNNBackprop"),
    GPU_ONLY("CudnnRNNBackpropV2"),
    GPU_ONLY("CudnnRNNBackpropV3"),
    {0},
};
#undef GPU_ONLY
