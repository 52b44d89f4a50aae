/* Kernels of the control family: the graph's plumbing (constants,
 * placeholders, identities, no-ops) and the markers for the control-flow
 * ops that the executor carries itself (Switch, Merge, Enter, Exit,
 * NextIteration, LoopCond, ControlTrigger). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/families.h"

/* ---- Const ---- */

static pl_status const_prepare(pl_kernel_prep *p) {
    pl_tensor *t;
    PL_TRY(pl_attr_tensor(p->attrs, "value", &t));
    pl_dtype want = pl_attr_type_or(p->attrs, "dtype", t->dtype);
    if (want != t->dtype) {
        pl_status st = pl_error(PL_INVALID_ARGUMENT, "Type mismatch between value (%s) and dtype (%s)",
                                pl_dtype_name(t->dtype), pl_dtype_name(want));
        pl_tensor_unref(t);
        return st;
    }
    p->state = t;
    return NULL;
}

static pl_status const_compute(pl_kernel_ctx *c) {
    pl_ctx_set_output(c, 0, pl_tensor_ref(c->state));
    return NULL;
}

static void const_release(void *state) { pl_tensor_unref(state); }

/* ---- Placeholder ---- */

typedef struct placeholder {
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
} placeholder;

static pl_status placeholder_prepare(pl_kernel_prep *p) {
    placeholder *ph = calloc(1, sizeof *ph);
    if (!ph) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    ph->dtype = pl_attr_type_or(p->attrs, "dtype", PL_DT_INVALID);
    ph->rank = -1;
    if (pl_attr_has(p->attrs, "shape")) {
        pl_status st = pl_attr_shape(p->attrs, "shape", &ph->rank, ph->dims);
        if (st) {
            free(ph);
            return st;
        }
    }
    p->state = ph;
    return NULL;
}

static pl_status placeholder_compute(pl_kernel_ctx *c) {
    const placeholder *ph = c->state;
    const char *type = pl_dtype_string(ph->dtype);
    if (ph->rank < 0)
        return pl_error(PL_INVALID_ARGUMENT, "You must feed a value for placeholder tensor '%s' with dtype %s",
                        c->node_name, type);
    char shape[256];
    size_t n = (size_t)snprintf(shape, sizeof shape, "[");
    for (int i = 0; i < ph->rank && n < sizeof shape; i++) {
        if (ph->dims[i] < 0)
            n += (size_t)snprintf(shape + n, sizeof shape - n, i ? ",?" : "?");
        else
            n += (size_t)snprintf(shape + n, sizeof shape - n, i ? ",%lld" : "%lld", (long long)ph->dims[i]);
    }
    if (n < sizeof shape) snprintf(shape + n, sizeof shape - n, "]");
    return pl_error(PL_INVALID_ARGUMENT,
                    "You must feed a value for placeholder tensor '%s' with dtype %s and shape %s", c->node_name, type,
                    shape);
}

/* ---- identities ---- */

static pl_status identity_compute(pl_kernel_ctx *c) {
    if (c->num_inputs < 1) return pl_error(PL_INVALID_ARGUMENT, "expected one input");
    pl_ctx_forward(c, 0, 0);
    return NULL;
}

static pl_status identity_n_prepare(pl_kernel_prep *p) {
    if (p->num_outputs < p->num_inputs) p->num_outputs = p->num_inputs;
    return NULL;
}

static pl_status identity_n_compute(pl_kernel_ctx *c) {
    for (int i = 0; i < c->num_inputs; i++) pl_ctx_forward(c, i, i);
    return NULL;
}

static pl_status no_op_compute(pl_kernel_ctx *c) {
    (void)c;
    return NULL;
}

const pl_kernel_def pl_kernels_control[] = {
    {.op = "Const", .prepare = const_prepare, .compute = const_compute, .release = const_release},
    {.op = "HostConst", .prepare = const_prepare, .compute = const_compute, .release = const_release},
    {.op = "Placeholder", .prepare = placeholder_prepare, .compute = placeholder_compute, .release = free},
    {.op = "PlaceholderV2", .prepare = placeholder_prepare, .compute = placeholder_compute, .release = free},
    {.op = "PlaceholderWithDefault", .compute = identity_compute},
    {.op = "Identity", .compute = identity_compute},
    {.op = "RefIdentity", .compute = identity_compute},
    {.op = "Snapshot", .compute = identity_compute},
    {.op = "StopGradient", .compute = identity_compute},
    {.op = "PreventGradient", .compute = identity_compute},
    {.op = "IdentityN", .prepare = identity_n_prepare, .compute = identity_n_compute},
    {.op = "NoOp", .compute = no_op_compute},
    {.op = "Switch", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "RefSwitch", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "Merge", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "RefMerge", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "Enter", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "RefEnter", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "Exit", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "RefExit", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "NextIteration", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "RefNextIteration", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "LoopCond", .flags = PL_KERNEL_CONTROL_FLOW},
    {.op = "ControlTrigger", .flags = PL_KERNEL_CONTROL_FLOW},
    {0},
};
