/* Kernels of the math family (see families.h): the table, and the prepare and
 * compute glue that reads each op's attrs once and hands tensors to the
 * math_*.c implementations. A dtype the op has no kernel for is refused at
 * prepare time, with TensorFlow's "No OpKernel was registered" wording. */
#include <stdlib.h>
#include <string.h>

#include "ops/families.h"
#include "ops/math_internal.h"

typedef struct math_state {
    int op;         /* pl__binop, pl__unop or pl__redop, by kernel */
    bool flag;      /* incompatible_shape_error / keep_dims / Truncate / NCHW / ArgMax / exclusive */
    bool reverse;   /* Cumsum, Cumprod */
    float alpha;    /* LeakyRelu */
    pl_dtype dtype; /* Cast's DstT, ArgMax's output_type */
} math_state;

static pl_status new_state(pl_kernel_prep *p, math_state **out) {
    math_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = s;
    *out = s;
    return NULL;
}

static pl_status no_kernel(const pl_kernel_prep *p, const char *attr, pl_dtype dt) {
    return pl_error(PL_INVALID_ARGUMENT,
                    "No OpKernel was registered to support Op '%s' used by {{node %s}} with these attrs: [%s=%s]",
                    p->op, p->node_name, attr, pl_dtype_name(dt));
}

/* The dtype attr `name`, if the node has it; PL_DT_INVALID otherwise (the
 * kernel then checks the inputs it gets). */
static pl_dtype attr_dtype(const pl_kernel_prep *p, const char *name) {
    return pl_attr_type_or(p->attrs, name, PL_DT_INVALID);
}

/* Stores the result of `st`'s call as output 0 (call first: the tensor is set by it). */
static pl_status set_output(pl_kernel_ctx *c, pl_status st, pl_tensor **t) {
    if (st) return st;
    pl_ctx_set_output(c, 0, *t);
    return NULL;
}

static pl_status need_inputs(pl_kernel_ctx *c, int n) {
    if (PL_NEVER(c->num_inputs < n))
        return pl_error(PL_INVALID_ARGUMENT, "expected %d inputs, got %d", n, c->num_inputs);
    return NULL;
}

/* ---- binary ---- */

static pl_status binary_prepare(pl_kernel_prep *p) {
    math_state *s = NULL;
    PL_TRY(new_state(p, &s));
    pl__binop op;
    if (PL_NEVER(!pl__binop_find(p->op, &op))) return pl_error(PL_INTERNAL, "no binary op %s", p->op);
    s->op = op;
    s->flag = pl_attr_bool_or(p->attrs, "incompatible_shape_error", true);
    pl_dtype t = attr_dtype(p, "T");
    if (t != PL_DT_INVALID && !pl__binop_supports(op, t)) return no_kernel(p, "T", t);
    return NULL;
}

static pl_status binary_compute(pl_kernel_ctx *c) {
    const math_state *s = c->state;
    PL_TRY(need_inputs(c, 2));
    pl_tensor *t = NULL;
    return set_output(c, pl__math_binary((pl__binop)s->op, c->inputs[0], c->inputs[1], s->flag, &t), &t);
}

/* ---- unary ---- */

static pl_status unary_prepare(pl_kernel_prep *p) {
    math_state *s = NULL;
    PL_TRY(new_state(p, &s));
    pl__unop op;
    if (PL_NEVER(!pl__unop_find(p->op, &op))) return pl_error(PL_INTERNAL, "no unary op %s", p->op);
    s->op = op;
    s->alpha = pl_attr_float_or(p->attrs, "alpha", 0.2f);
    pl_dtype t = attr_dtype(p, "T");
    if (t != PL_DT_INVALID && !pl__unop_supports(op, t)) return no_kernel(p, "T", t);
    return NULL;
}

static pl_status unary_compute(pl_kernel_ctx *c) {
    const math_state *s = c->state;
    PL_TRY(need_inputs(c, 1));
    pl_tensor *t = NULL;
    return set_output(c, pl__math_unary((pl__unop)s->op, c->inputs[0], s->alpha, &t), &t);
}

/* ---- Cast ---- */

static pl_status cast_prepare(pl_kernel_prep *p) {
    math_state *s = NULL;
    PL_TRY(new_state(p, &s));
    PL_TRY(pl_attr_type(p->attrs, "DstT", &s->dtype));
    s->flag = pl_attr_bool_or(p->attrs, "Truncate", false);
    pl_dtype src = attr_dtype(p, "SrcT");
    if (src != PL_DT_INVALID && src != s->dtype && !pl__cast_supports(src, s->dtype))
        return pl_error(PL_UNIMPLEMENTED, "Cast %s to %s is not supported", pl__dtype_short_name(src),
                        pl__dtype_short_name(s->dtype));
    return NULL;
}

static pl_status cast_compute(pl_kernel_ctx *c) {
    const math_state *s = c->state;
    PL_TRY(need_inputs(c, 1));
    pl_tensor *t = NULL;
    return set_output(c, pl__math_cast(c->inputs[0], s->dtype, s->flag, &t), &t);
}

/* ---- reductions ---- */

static pl_status reduce_prepare(pl_kernel_prep *p) {
    math_state *s = NULL;
    PL_TRY(new_state(p, &s));
    pl__redop op;
    if (PL_NEVER(!pl__redop_find(p->op, &op))) return pl_error(PL_INTERNAL, "no reduction %s", p->op);
    s->op = op;
    s->flag = pl_attr_bool_or(p->attrs, "keep_dims", false);
    pl_dtype t = attr_dtype(p, "T");
    if (t != PL_DT_INVALID && !pl__redop_supports(op, t)) return no_kernel(p, "T", t);
    return NULL;
}

static pl_status reduce_compute(pl_kernel_ctx *c) {
    const math_state *s = c->state;
    PL_TRY(need_inputs(c, 2));
    pl_tensor *t = NULL;
    return set_output(c, pl__math_reduce((pl__redop)s->op, c->inputs[0], c->inputs[1], s->flag, &t), &t);
}

static pl_status arg_prepare(pl_kernel_prep *p) {
    math_state *s = NULL;
    PL_TRY(new_state(p, &s));
    s->flag = !strcmp(p->op, "ArgMax");
    s->dtype = pl_attr_type_or(p->attrs, "output_type", PL_DT_INT64);
    if (s->dtype != PL_DT_INT32 && s->dtype != PL_DT_INT64) return no_kernel(p, "output_type", s->dtype);
    pl_dtype t = attr_dtype(p, "T");
    if (t != PL_DT_INVALID && !pl__arg_supports(t)) return no_kernel(p, "T", t);
    return NULL;
}

static pl_status arg_compute(pl_kernel_ctx *c) {
    const math_state *s = c->state;
    PL_TRY(need_inputs(c, 2));
    pl_tensor *t = NULL;
    return set_output(c, pl__math_arg(s->flag, c->inputs[0], c->inputs[1], s->dtype, &t), &t);
}

static pl_status scan_prepare(pl_kernel_prep *p) {
    math_state *s = NULL;
    PL_TRY(new_state(p, &s));
    s->op = !strcmp(p->op, "Cumprod");
    s->flag = pl_attr_bool_or(p->attrs, "exclusive", false);
    s->reverse = pl_attr_bool_or(p->attrs, "reverse", false);
    pl_dtype t = attr_dtype(p, "T");
    if (t != PL_DT_INVALID && !pl__scan_supports(t)) return no_kernel(p, "T", t);
    return NULL;
}

static pl_status scan_compute(pl_kernel_ctx *c) {
    const math_state *s = c->state;
    PL_TRY(need_inputs(c, 2));
    pl_tensor *t = NULL;
    return set_output(c, pl__math_scan(s->op, c->inputs[0], c->inputs[1], s->flag, s->reverse, &t), &t);
}

/* ---- Select, SelectV2, ClipByValue, AddN, BiasAdd ---- */

static pl_status select_compute(pl_kernel_ctx *c) {
    PL_TRY(need_inputs(c, 3));
    pl_tensor *t = NULL;
    return set_output(c, pl__math_select(c->node_name, c->inputs[0], c->inputs[1], c->inputs[2], &t), &t);
}

static pl_status select_v2_compute(pl_kernel_ctx *c) {
    PL_TRY(need_inputs(c, 3));
    pl_tensor *t = NULL;
    return set_output(c, pl__math_select_v2(c->inputs[0], c->inputs[1], c->inputs[2], &t), &t);
}

static pl_status clip_compute(pl_kernel_ctx *c) {
    PL_TRY(need_inputs(c, 3));
    pl_tensor *t = NULL;
    return set_output(c, pl__math_clip(c->inputs[0], c->inputs[1], c->inputs[2], &t), &t);
}

static pl_status add_n_compute(pl_kernel_ctx *c) {
    pl_tensor *t = NULL;
    return set_output(c, pl__math_add_n(c->node_name, c->num_inputs, (const pl_tensor *const *)c->inputs, &t), &t);
}

static pl_status bias_prepare(pl_kernel_prep *p) {
    math_state *s = NULL;
    PL_TRY(new_state(p, &s));
    if (pl_attr_has(p->attrs, "data_format") && !pl_attr_string_equals(p->attrs, "data_format", "NHWC")) {
        if (!pl_attr_string_equals(p->attrs, "data_format", "NCHW"))
            return pl_error(PL_INVALID_ARGUMENT, "Invalid data format");
        s->flag = true;
    }
    pl_dtype t = attr_dtype(p, "T");
    if (t != PL_DT_INVALID && !pl__binop_supports(PL__ADD, t)) return no_kernel(p, "T", t);
    return NULL;
}

static pl_status bias_compute(pl_kernel_ctx *c) {
    const math_state *s = c->state;
    PL_TRY(need_inputs(c, 2));
    pl_tensor *t = NULL;
    return set_output(c, pl__math_bias_add(c->inputs[0], c->inputs[1], s->flag, &t), &t);
}

#define K PL_KERNEL_EXPENSIVE
#define BINARY(name) {.op = name, .prepare = binary_prepare, .compute = binary_compute, .release = free, .flags = K}
#define UNARY(name) {.op = name, .prepare = unary_prepare, .compute = unary_compute, .release = free, .flags = K}
#define REDUCE(name) {.op = name, .prepare = reduce_prepare, .compute = reduce_compute, .release = free, .flags = K}

const pl_kernel_def pl_kernels_math[] = {
    BINARY("Add"), BINARY("AddV2"), BINARY("Sub"), BINARY("Mul"), BINARY("RealDiv"), BINARY("Div"),
    BINARY("FloorDiv"), BINARY("FloorMod"), BINARY("TruncateDiv"), BINARY("TruncateMod"), BINARY("Mod"),
    BINARY("Maximum"), BINARY("Minimum"), BINARY("Pow"), BINARY("SquaredDifference"), BINARY("DivNoNan"),
    BINARY("MulNoNan"), BINARY("Atan2"), BINARY("Equal"), BINARY("NotEqual"), BINARY("Less"),
    BINARY("LessEqual"), BINARY("Greater"), BINARY("GreaterEqual"), BINARY("LogicalAnd"), BINARY("LogicalOr"),

    UNARY("Neg"), UNARY("Abs"), UNARY("Exp"), UNARY("Expm1"), UNARY("Log"), UNARY("Log1p"), UNARY("Sqrt"),
    UNARY("Rsqrt"), UNARY("Square"), UNARY("Reciprocal"), UNARY("Inv"), UNARY("Sign"), UNARY("Floor"),
    UNARY("Ceil"), UNARY("Round"), UNARY("Rint"), UNARY("Tanh"), UNARY("Sigmoid"), UNARY("Sin"), UNARY("Cos"),
    UNARY("Tan"), UNARY("Asin"), UNARY("Acos"), UNARY("Atan"), UNARY("Sinh"), UNARY("Cosh"), UNARY("Erf"),
    UNARY("Erfc"), UNARY("IsNan"), UNARY("IsInf"), UNARY("IsFinite"), UNARY("Relu"), UNARY("Relu6"),
    UNARY("Elu"), UNARY("Selu"), UNARY("LeakyRelu"), UNARY("Softplus"), UNARY("Softsign"), UNARY("LogicalNot"),

    {.op = "Cast", .prepare = cast_prepare, .compute = cast_compute, .release = free, .flags = K},

    REDUCE("Sum"), REDUCE("Mean"), REDUCE("Prod"), REDUCE("Max"), REDUCE("Min"), REDUCE("All"), REDUCE("Any"),
    {.op = "ArgMax", .prepare = arg_prepare, .compute = arg_compute, .release = free},
    {.op = "ArgMin", .prepare = arg_prepare, .compute = arg_compute, .release = free},

    {.op = "Cumsum", .prepare = scan_prepare, .compute = scan_compute, .release = free},
    {.op = "Cumprod", .prepare = scan_prepare, .compute = scan_compute, .release = free},

    {.op = "Select", .compute = select_compute, .flags = K},
    {.op = "SelectV2", .compute = select_v2_compute, .flags = K},
    {.op = "ClipByValue", .compute = clip_compute, .flags = K},
    {.op = "AddN", .compute = add_n_compute, .flags = K},
    {.op = "BiasAdd", .prepare = bias_prepare, .compute = bias_compute, .release = free, .flags = K},
    {.op = "BiasAddV1", .prepare = bias_prepare, .compute = bias_compute, .release = free, .flags = K},
    {0},
};
