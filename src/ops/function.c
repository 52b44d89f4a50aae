/* Kernels of the function family: calls into the graph's function library
 * (PartitionedCall, StatefulPartitionedCall, a library function used as an
 * op) and functional control flow (While, If and their stateless twins),
 * run through prepared function bodies (runtime/function.h). */
#include <stdlib.h>
#include <string.h>

#include "ops/families.h"
#include "runtime/executor.h"
#include "runtime/function.h"

/* ---- calls ---- */

static pl_status call_prepare_with(pl_kernel_prep *p, pl_function *f) {
    if (pl_function_num_args(f) != p->num_inputs) {
        pl_status st = pl_error(PL_INVALID_ARGUMENT, "function takes %d arguments but the node has %d inputs",
                                pl_function_num_args(f), p->num_inputs);
        pl_function_free(f);
        return st;
    }
    if (p->num_outputs < pl_function_num_rets(f)) p->num_outputs = pl_function_num_rets(f);
    p->state = f;
    return NULL;
}

static pl_status partitioned_call_prepare(pl_kernel_prep *p) {
    pl_function *f;
    PL_TRY(pl_function_instantiate_attr(p->lib, p->session, p->attrs, "f", &f));
    return call_prepare_with(p, f);
}

static pl_status op_call_prepare(pl_kernel_prep *p) {
    pl_function *f;
    PL_TRY(pl_function_instantiate(p->lib, p->session, p->op, p->attrs, &f));
    return call_prepare_with(p, f);
}

/* Calls f on args and hands its results to the node's outputs (or drops
 * them on an error): a plain call and the chosen If or Case branch all end
 * this way. */
static pl_status call_to_outputs(pl_kernel_ctx *c, const pl_function *f, pl_tensor *const *args) {
    int n = pl_function_num_rets(f);
    pl_tensor **rets = calloc((size_t)n + 1, sizeof *rets);
    if (!rets) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_status st = pl_function_call(f, c->run, args, rets);
    for (int i = 0; i < n; i++) {
        if (!st) pl_ctx_set_output(c, i, rets[i]);
        else pl_tensor_unref(rets[i]);
    }
    free(rets);
    return st;
}

static pl_status call_compute(pl_kernel_ctx *c) { return call_to_outputs(c, c->state, c->inputs); }

static void function_release(void *state) { pl_function_free(state); }

const pl_kernel_def pl_function_call_kernel = {
    .op = "", .prepare = op_call_prepare, .compute = call_compute, .release = function_release,
    .flags = PL_KERNEL_STATEFUL | PL_KERNEL_EXPENSIVE,
};

/* ---- TensorFlow's ToBool for If and While predicates ---- */

static pl_status to_bool(const pl_tensor *t, bool *out) {
    if (t->rank != 0) {
        *out = t->count > 0;
        return NULL;
    }
    switch (t->dtype) {
    case PL_DT_BOOL: *out = *(const uint8_t *)t->data != 0; return NULL;
    case PL_DT_STRING: *out = ((const pl_str *)t->data)[0].len > 0; return NULL;
    case PL_DT_FLOAT: case PL_DT_DOUBLE: case PL_DT_HALF: case PL_DT_BFLOAT16:
        *out = pl_tensor_get_f64(t, 0) != 0;
        return NULL;
    case PL_DT_INT8: case PL_DT_UINT8: case PL_DT_INT16: case PL_DT_UINT16: case PL_DT_INT32: case PL_DT_UINT32:
    case PL_DT_INT64: case PL_DT_UINT64:
        *out = pl_tensor_get_i64(t, 0) != 0;
        return NULL;
    default:
        return pl_error(PL_INVALID_ARGUMENT, "Unsupported type to convert to a bool: %s", pl_dtype_name(t->dtype));
    }
}

/* ---- If ---- */

typedef struct if_state {
    pl_function *then_f, *else_f;
} if_state;

static void if_release(void *state) {
    if_state *s = state;
    if (!s) return;
    pl_function_free(s->then_f);
    pl_function_free(s->else_f);
    free(s);
}

static pl_status if_prepare(pl_kernel_prep *p) {
    if (p->num_inputs < 1) return pl_error(PL_INVALID_ARGUMENT, "If needs a condition input");
    if_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = s;
    PL_TRY(pl_function_instantiate_attr(p->lib, p->session, p->attrs, "then_branch", &s->then_f));
    PL_TRY(pl_function_instantiate_attr(p->lib, p->session, p->attrs, "else_branch", &s->else_f));
    for (int b = 0; b < 2; b++) {
        const pl_function *f = b ? s->else_f : s->then_f;
        if (pl_function_num_args(f) != p->num_inputs - 1)
            return pl_error(PL_INVALID_ARGUMENT, "If branch takes %d arguments but the node passes %d",
                            pl_function_num_args(f), p->num_inputs - 1);
        if (p->num_outputs < pl_function_num_rets(f)) p->num_outputs = pl_function_num_rets(f);
    }
    return NULL;
}

static pl_status if_compute(pl_kernel_ctx *c) {
    const if_state *s = c->state;
    bool cond;
    PL_TRY(to_bool(c->inputs[0], &cond));
    return call_to_outputs(c, cond ? s->then_f : s->else_f, c->inputs + 1);
}

/* ---- Case: branches[branch_index], the last branch when out of range ---- */

typedef struct case_state {
    int n;
    pl_function **branches;
} case_state;

static void case_release(void *state) {
    case_state *s = state;
    if (!s) return;
    for (int i = 0; i < s->n; i++) pl_function_free(s->branches[i]);
    free(s->branches);
    free(s);
}

static pl_status case_prepare(pl_kernel_prep *p) {
    if (p->num_inputs < 1) return pl_error(PL_INVALID_ARGUMENT, "Case needs a branch index input");
    int n = pl_function_list_attr_len(p->attrs, "branches");
    if (n < 1) return pl_error(PL_INVALID_ARGUMENT, "Case needs at least one branch");
    case_state *s = calloc(1, sizeof *s);
    if (s) s->branches = calloc((size_t)n, sizeof *s->branches);
    if (!s || !s->branches) {
        free(s);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    p->state = s;
    s->n = n;
    for (int i = 0; i < n; i++) {
        PL_TRY(pl_function_instantiate_list_attr(p->lib, p->session, p->attrs, "branches", i, &s->branches[i]));
        if (pl_function_num_args(s->branches[i]) != p->num_inputs - 1)
            return pl_error(PL_INVALID_ARGUMENT, "Case branch %d takes %d arguments but the node passes %d", i,
                            pl_function_num_args(s->branches[i]), p->num_inputs - 1);
        if (p->num_outputs < pl_function_num_rets(s->branches[i])) p->num_outputs = pl_function_num_rets(s->branches[i]);
    }
    return NULL;
}

static pl_status case_compute(pl_kernel_ctx *c) {
    const case_state *s = c->state;
    const pl_tensor *idx = c->inputs[0];
    if (idx->rank != 0 || idx->dtype != PL_DT_INT32)
        return pl_error(PL_INVALID_ARGUMENT, "branch_index must be an int32 scalar");
    int32_t b = *(const int32_t *)idx->data;
    if (b < 0 || b >= s->n) b = s->n - 1;
    return call_to_outputs(c, s->branches[b], c->inputs + 1);
}

/* ---- While ---- */

typedef struct while_state {
    pl_function *cond, *body;
} while_state;

static void while_release(void *state) {
    while_state *s = state;
    if (!s) return;
    pl_function_free(s->cond);
    pl_function_free(s->body);
    free(s);
}

static pl_status while_prepare(pl_kernel_prep *p) {
    while_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = s;
    PL_TRY(pl_function_instantiate_attr(p->lib, p->session, p->attrs, "cond", &s->cond));
    PL_TRY(pl_function_instantiate_attr(p->lib, p->session, p->attrs, "body", &s->body));
    if (pl_function_num_args(s->cond) != p->num_inputs || pl_function_num_rets(s->cond) != 1)
        return pl_error(PL_INVALID_ARGUMENT, "While cond must take the %d loop variables and return one tensor",
                        p->num_inputs);
    if (pl_function_num_args(s->body) != p->num_inputs || pl_function_num_rets(s->body) != p->num_inputs)
        return pl_error(PL_INVALID_ARGUMENT, "While body must take and return the %d loop variables", p->num_inputs);
    if (p->num_outputs < p->num_inputs) p->num_outputs = p->num_inputs;
    return NULL;
}

static pl_status while_compute(pl_kernel_ctx *c) {
    const while_state *s = c->state;
    int n = c->num_inputs;
    pl_tensor **vars = calloc((size_t)n + 1, sizeof *vars), **next = calloc((size_t)n + 1, sizeof *next);
    pl_status st = vars && next ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; !st && i < n; i++) vars[i] = pl_tensor_ref(c->inputs[i]);
    while (!st) {
        pl_tensor *pred = NULL;
        bool more = false;
        st = pl_function_call(s->cond, c->run, vars, &pred);
        if (!st) st = to_bool(pred, &more);
        pl_tensor_unref(pred);
        if (st || !more) break;
        st = pl_function_call(s->body, c->run, vars, next);
        if (st) break;
        for (int i = 0; i < n; i++) {
            pl_tensor_unref(vars[i]);
            vars[i] = next[i];
            next[i] = NULL;
        }
    }
    for (int i = 0; vars && i < n; i++) {
        if (!st) pl_ctx_set_output(c, i, vars[i]);
        else pl_tensor_unref(vars[i]);
    }
    free(vars);
    free(next);
    return st;
}

const pl_kernel_def pl_kernels_function[] = {
    {.op = "PartitionedCall", .prepare = partitioned_call_prepare, .compute = call_compute, .release = function_release,
     .flags = PL_KERNEL_EXPENSIVE},
    {.op = "StatefulPartitionedCall", .prepare = partitioned_call_prepare, .compute = call_compute,
     .release = function_release, .flags = PL_KERNEL_STATEFUL | PL_KERNEL_EXPENSIVE},
    {.op = "If", .prepare = if_prepare, .compute = if_compute, .release = if_release,
     .flags = PL_KERNEL_STATEFUL | PL_KERNEL_EXPENSIVE},
    {.op = "StatelessIf", .prepare = if_prepare, .compute = if_compute, .release = if_release,
     .flags = PL_KERNEL_EXPENSIVE},
    {.op = "Case", .prepare = case_prepare, .compute = case_compute, .release = case_release,
     .flags = PL_KERNEL_STATEFUL | PL_KERNEL_EXPENSIVE},
    {.op = "StatelessCase", .prepare = case_prepare, .compute = case_compute, .release = case_release,
     .flags = PL_KERNEL_EXPENSIVE},
    {.op = "While", .prepare = while_prepare, .compute = while_compute, .release = while_release,
     .flags = PL_KERNEL_STATEFUL | PL_KERNEL_EXPENSIVE},
    {.op = "StatelessWhile", .prepare = while_prepare, .compute = while_compute, .release = while_release,
     .flags = PL_KERNEL_EXPENSIVE},
    {0},
};
