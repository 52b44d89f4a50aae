/* Select (v1: condition a scalar, the same shape as the branches, or a vector
 * over their first dim) and SelectV2 (condition and branches broadcast
 * together), for every dtype including strings, with TensorFlow's messages. */
#include <string.h>

#include "ops/math_internal.h"

typedef struct sel_ctx {
    size_t esize;
    pl_tensor *out;     /* for strings: elements are set through the tensor */
} sel_ctx;

#define SEL_LOOP(T)                                                                      \
    do {                                                                                 \
        const T *x = (const T *)in[1], *y = (const T *)in[2];                            \
        T *o = (T *)out;                                                                 \
        if (unit[0] && unit[1] && unit[2]) {                                             \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) o[i] = c[i] ? x[i] : y[i]; \
        } else {                                                                         \
            for (int64_t i = 0; i < n; i++)                                              \
                o[i] = c[i * unit[0]] ? x[i * unit[1]] : y[i * unit[2]];                 \
        }                                                                                \
    } while (0)

static int sel_row(const void *vctx, const char *const *in, const int *unit, char *out, int64_t n) {
    const sel_ctx *s = vctx;
    const uint8_t *c = (const uint8_t *)in[0];
    switch (s->esize) {
    case 1: SEL_LOOP(uint8_t); return 0;
    case 2: SEL_LOOP(uint16_t); return 0;
    case 4: SEL_LOOP(uint32_t); return 0;
    case 8: SEL_LOOP(uint64_t); return 0;
    default: break;
    }
    /* Strings: copied into the output's own storage. */
    const pl_str *x = (const pl_str *)in[1], *y = (const pl_str *)in[2];
    int64_t base = (pl_str *)out - (pl_str *)s->out->data;
    for (int64_t i = 0; i < n; i++) {
        const pl_str *v = c[i * unit[0]] ? &x[i * unit[1]] : &y[i * unit[2]];
        pl_status st = pl_tensor_set_string(s->out, base + i, v->data, v->len);
        if (st) {
            pl_status_free(st);
            return 1;
        }
    }
    return 0;
}

static bool selectable(pl_dtype dt) {
    size_t sz = pl_dtype_size(dt);
    return dt == PL_DT_STRING || ((sz == 1 || sz == 2 || sz == 4 || sz == 8) && dt != PL_DT_RESOURCE &&
                                  dt != PL_DT_VARIANT && dt != PL_DT_COMPLEX64);
}

static pl_status check_types(const pl_tensor *cond, const pl_tensor *then_t, const pl_tensor *else_t) {
    if (cond->dtype != PL_DT_BOOL)
        return pl_error(PL_INVALID_ARGUMENT, "condition must be bool, got %s", pl_dtype_name(cond->dtype));
    if (then_t->dtype != else_t->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "'then' is %s but 'else' is %s", pl_dtype_name(then_t->dtype),
                        pl_dtype_name(else_t->dtype));
    if (!selectable(then_t->dtype))
        return pl_error(PL_UNIMPLEMENTED, "Select is not implemented for %s", pl_dtype_name(then_t->dtype));
    return NULL;
}

/* Runs a select plan into a new tensor of the plan's shape. */
static pl_status run_select(const pl__ew_plan *plan, const pl_tensor *const *in, pl_tensor **out) {
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(in[1]->dtype, plan->out_rank, plan->out_dims, &t));
    sel_ctx s = {.esize = in[1]->dtype == PL_DT_STRING ? 0 : pl_dtype_size(in[1]->dtype), .out = t};
    if (pl__ew_run(plan, in, t, sel_row, &s)) {
        pl_tensor_unref(t);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory copying strings");
    }
    *out = t;
    return NULL;
}

pl_status pl__math_select(const char *node_name, const pl_tensor *cond, const pl_tensor *then_t,
                          const pl_tensor *else_t, pl_tensor **out) {
    PL_TRY(check_types(cond, then_t, else_t));
    char s0[PL__SHAPE_STR], s1[PL__SHAPE_STR];
    if (cond->rank == 0) {
        if (!pl_tensor_same_shape(then_t, else_t))
            return pl_error(PL_INVALID_ARGUMENT, "'then' and 'else' must have the same size.  but received: %s vs. %s",
                            pl__shape_of(then_t, s0), pl__shape_of(else_t, s1));
        /* Tensors are immutable, so the chosen branch is the output. */
        *out = pl_tensor_ref((pl_tensor *)(*(const uint8_t *)cond->data ? then_t : else_t));
        return NULL;
    }
    const pl_tensor *in[3] = {cond, then_t, else_t};
    pl__ew_plan plan;
    if (cond->rank == 1 && then_t->rank != 1) {
        /* cond picks whole slices along the first dim. */
        if (then_t->rank < 1)
            return pl_error(PL_INVALID_ARGUMENT, "'then' must be at least a vector, but saw shape: %s",
                            pl__shape_of(then_t, s0));
        if (then_t->dims[0] != cond->count)
            return pl_error(PL_INVALID_ARGUMENT,
                            "Number of batches of 'then' must match size of 'cond', but saw: %lld vs. %lld",
                            (long long)then_t->dims[0], (long long)cond->count);
        if (!pl_tensor_same_shape(then_t, else_t))
            return pl_error(PL_INVALID_ARGUMENT, "'then' and 'else' must have the same size.  but received: %s vs. %s",
                            pl__shape_of(then_t, s0), pl__shape_of(else_t, s1));
        /* Broadcast cond as [B, 1, ..., 1] against the branches. */
        int64_t cdims[PL_MAX_RANK];
        cdims[0] = cond->count;
        for (int k = 1; k < then_t->rank; k++) cdims[k] = 1;
        pl_tensor view = {.dtype = cond->dtype, .rank = then_t->rank, .count = cond->count};
        memcpy(view.dims, cdims, sizeof cdims);
        const pl_tensor *vin[3] = {&view, then_t, else_t};
        if (!pl__ew_plan_init(&plan, 3, vin)) return pl_error(PL_INTERNAL, "Select plan failed");
        return run_select(&plan, in, out);
    }
    for (int i = 1; i < 3; i++) {
        if (!pl_tensor_same_shape(in[0], in[i]))
            return pl_error(PL_INVALID_ARGUMENT,
                            "Inputs to operation %s of type Select must have the same size and shape.  "
                            "Input 0: %s != input %d: %s",
                            node_name ? node_name : "", pl__shape_of(in[0], s0), i, pl__shape_of(in[i], s1));
    }
    if (!pl__ew_plan_init(&plan, 3, in)) return pl_error(PL_INTERNAL, "Select plan failed");
    return run_select(&plan, in, out);
}

pl_status pl__math_select_v2(const pl_tensor *cond, const pl_tensor *then_t, const pl_tensor *else_t,
                             pl_tensor **out) {
    PL_TRY(check_types(cond, then_t, else_t));
    const pl_tensor *in[3] = {cond, then_t, else_t};
    pl__ew_plan plan;
    if (!pl__ew_plan_init(&plan, 3, in)) {
        char s0[PL__SHAPE_STR], s1[PL__SHAPE_STR], s2[PL__SHAPE_STR];
        return pl_error(PL_INVALID_ARGUMENT, "condition %s, then %s, and else %s must be broadcastable",
                        pl__shape_of(cond, s0), pl__shape_of(then_t, s1), pl__shape_of(else_t, s2));
    }
    return run_select(&plan, in, out);
}
