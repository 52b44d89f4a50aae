/* Names shared between the files of the math kernel family: the broadcasting
 * element-wise engine (math_ew.c) and the tensor-level entry points of the
 * binary, unary, cast, select and reduction kernels. Every entry point takes
 * borrowed input tensors and, on success only, hands the caller a new output
 * tensor (refs = 1); math.c wraps them as kernels. */
#ifndef PL_OPS_MATH_INTERNAL_H
#define PL_OPS_MATH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "tensor/tensor.h"

/* ---- broadcasting (TensorFlow's BCast rules) ---- */

#define PL__EW_MAX_IN 3

/* How up to three inputs broadcast against each other. Output dims of size 1
 * are dropped and neighbouring dims that every input treats alike (broadcast
 * or not) are merged, so [N,H,W,C] + [C] runs as a [N*H*W, C] loop. */
typedef struct pl__ew_plan {
    int n_in;
    int out_rank;                       /* the output shape callers allocate */
    int64_t out_dims[PL_MAX_RANK];
    int64_t count;                      /* output elements */
    int rank;                           /* collapsed rank, >= 1 */
    int64_t dims[PL_MAX_RANK];          /* collapsed output dims */
    int64_t strides[PL__EW_MAX_IN][PL_MAX_RANK]; /* in elements; 0 along a broadcast dim */
} pl__ew_plan;

/* False when the shapes do not broadcast; callers word the error (it differs
 * per op). */
bool pl__ew_plan_init(pl__ew_plan *p, int n_in, const pl_tensor *const *in);

/* A row of the collapsed loop: `n` output elements at `out`; input i starts at
 * in[i] and advances by unit[i] (0 or 1) elements per output element. Returns
 * non-zero when an element could not be computed (integer division by zero). */
typedef int (*pl__ew_row_fn)(const void *ctx, const char *const *in, const int *unit, char *out, int64_t n);

/* Runs fn over every row of the plan, on several threads for large outputs.
 * Returns the OR of the rows' results. */
int pl__ew_run(const pl__ew_plan *p, const pl_tensor *const *in, pl_tensor *out, pl__ew_row_fn fn,
               const void *ctx);

/* Splits [0, n) across threads when n is large enough to repay it; body(ctx,
 * begin, end) runs once per piece and the results are ORed. */
int pl__parallel_for(int64_t n, int64_t grain, int (*body)(const void *ctx, int64_t begin, int64_t end),
                     const void *ctx);

/* Output elements below which a kernel stays on one thread. */
#define PL__PARALLEL_MIN ((int64_t)1 << 16)

/* half and bfloat16 are computed in float: rows of them are widened into
 * float scratch blocks of this many elements. */
#define PL__WIDEN_BLOCK 256
bool pl__is_narrow_float(pl_dtype dt);       /* HALF or BFLOAT16 */
void pl__widen(pl_dtype dt, const void *src, int unit, float *dst, int64_t n);
void pl__narrow(pl_dtype dt, const float *src, void *dst, int64_t n);

/* TensorFlow's short dtype names ("float", "int32"), as its messages print them. */
const char *pl__dtype_short_name(pl_dtype dt);

/* "[2,3]" for error messages; buf must hold PL__SHAPE_STR bytes. */
#define PL__SHAPE_STR 200
const char *pl__shape_of(const pl_tensor *t, char *buf);

/* ---- binary element-wise ops ---- */

typedef enum pl__binop {
    PL__ADD, PL__SUB, PL__MUL, PL__REAL_DIV, PL__DIV, PL__FLOOR_DIV, PL__FLOOR_MOD, PL__TRUNCATE_DIV,
    PL__TRUNCATE_MOD, PL__MOD, PL__MAXIMUM, PL__MINIMUM, PL__POW, PL__SQUARED_DIFFERENCE, PL__DIV_NO_NAN,
    PL__MUL_NO_NAN, PL__ATAN2, PL__EQUAL, PL__NOT_EQUAL, PL__LESS, PL__LESS_EQUAL, PL__GREATER,
    PL__GREATER_EQUAL, PL__LOGICAL_AND, PL__LOGICAL_OR, PL__BINOP_COUNT
} pl__binop;

/* The op by TensorFlow name ("AddV2", "Mod"); false when unknown. */
bool pl__binop_find(const char *op, pl__binop *out);
bool pl__binop_supports(pl__binop op, pl_dtype dt);
/* op(a, b) with broadcasting. `incompatible_shape_error` is Equal/NotEqual's
 * attr (true for every other op): when false, shapes that do not broadcast
 * give a scalar false (Equal) or true (NotEqual) instead of an error. */
pl_status pl__math_binary(pl__binop op, const pl_tensor *a, const pl_tensor *b, bool incompatible_shape_error,
                          pl_tensor **out);

/* One contiguous row of a binary op for non-narrow dtypes (used by BiasAdd and
 * AddN): mode 0 both inputs run, 1 `a` is one value, 2 `b` is one value. */
typedef int (*pl__bin_row)(const void *a, const void *b, void *o, int64_t n, int mode);
pl__bin_row pl__binop_row(pl__binop op, pl_dtype dt);

/* ---- unary element-wise ops ---- */

typedef enum pl__unop {
    PL__NEG, PL__ABS, PL__EXP, PL__EXPM1, PL__LOG, PL__LOG1P, PL__SQRT, PL__RSQRT, PL__SQUARE,
    PL__RECIPROCAL, PL__SIGN, PL__FLOOR, PL__CEIL, PL__ROUND, PL__RINT, PL__TANH, PL__SIGMOID, PL__SIN,
    PL__COS, PL__TAN, PL__ASIN, PL__ACOS, PL__ATAN, PL__SINH, PL__COSH, PL__ERF, PL__ERFC, PL__IS_NAN,
    PL__IS_INF, PL__IS_FINITE, PL__RELU, PL__RELU6, PL__ELU, PL__SELU, PL__LEAKY_RELU, PL__SOFTPLUS,
    PL__SOFTSIGN, PL__LOGICAL_NOT, PL__UNOP_COUNT
} pl__unop;

bool pl__unop_find(const char *op, pl__unop *out);
bool pl__unop_supports(pl__unop op, pl_dtype dt);
/* `alpha` is LeakyRelu's attr; other ops ignore it. */
pl_status pl__math_unary(pl__unop op, const pl_tensor *x, float alpha, pl_tensor **out);

/* ---- Cast ---- */

bool pl__cast_supports(pl_dtype src, pl_dtype dst);
/* `truncate`: Cast's Truncate attr (drop mantissa bits instead of rounding
 * when narrowing a floating type). */
pl_status pl__math_cast(const pl_tensor *x, pl_dtype dst, bool truncate, pl_tensor **out);

/* ---- Select, SelectV2, ClipByValue, AddN, BiasAdd ---- */

/* node_name appears in Select's "same shape" error, as in TensorFlow's. */
pl_status pl__math_select(const char *node_name, const pl_tensor *cond, const pl_tensor *then_t,
                          const pl_tensor *else_t, pl_tensor **out);
pl_status pl__math_select_v2(const pl_tensor *cond, const pl_tensor *then_t, const pl_tensor *else_t,
                             pl_tensor **out);
pl_status pl__math_clip(const pl_tensor *t, const pl_tensor *lo, const pl_tensor *hi, pl_tensor **out);
pl_status pl__math_add_n(const char *node_name, int n, const pl_tensor *const *in, pl_tensor **out);
pl_status pl__math_bias_add(const pl_tensor *value, const pl_tensor *bias, bool nchw, pl_tensor **out);

/* ---- reductions ---- */

typedef enum pl__redop { PL__SUM, PL__MEAN, PL__PROD, PL__MAX, PL__MIN, PL__ALL, PL__ANY, PL__REDOP_COUNT } pl__redop;

bool pl__redop_find(const char *op, pl__redop *out);
bool pl__redop_supports(pl__redop op, pl_dtype dt);
/* Reduces x over the dims listed in `axes` (an int32 or int64 scalar or
 * vector; negative counts from the end). */
pl_status pl__math_reduce(pl__redop op, const pl_tensor *x, const pl_tensor *axes, bool keep_dims,
                          pl_tensor **out);
/* ArgMax (is_max) / ArgMin over the dim in the scalar `dim`; out_type is
 * INT32 or INT64. */
bool pl__arg_supports(pl_dtype dt);
pl_status pl__math_arg(bool is_max, const pl_tensor *x, const pl_tensor *dim, pl_dtype out_type,
                       pl_tensor **out);

/* ---- Cumsum / Cumprod ---- */

bool pl__scan_supports(pl_dtype dt);
/* Running sum (or product) of x along the dim in the scalar `axis`. */
pl_status pl__math_scan(bool prod, const pl_tensor *x, const pl_tensor *axis, bool exclusive, bool reverse,
                        pl_tensor **out);

#endif
