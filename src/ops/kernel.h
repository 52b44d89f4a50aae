/* The kernel interface: how an op's implementation meets the runtime.
 *
 * A kernel is found by op name once, when a graph is prepared. prepare() reads
 * the node's attributes and checks what can be checked without data, storing
 * whatever compute() needs in p->state; compute() then runs once per
 * execution with the node's input tensors and fills its outputs. Neither
 * looks anything up by name at run time.
 *
 *     static pl_status relu_compute(pl_kernel_ctx *c) {
 *         const pl_tensor *x = c->inputs[0];
 *         pl_tensor *y;
 *         PL_TRY(pl_ctx_alloc_output(c, 0, x->dtype, x->rank, x->dims, &y));
 *         ...
 *         return NULL;
 *     }
 *     const pl_kernel_def pl_kernels_nn[] = {
 *         {.op = "Relu", .compute = relu_compute},
 *         {0}
 *     };
 *
 * Inputs are borrowed for the duration of compute(). Outputs are owned
 * references the kernel hands over (pl_ctx_set_output takes the caller's
 * reference). Control-flow ops (Switch, Merge, Enter, Exit, NextIteration,
 * LoopCond) are carried by the executor itself; their table entries only
 * mark them. */
#ifndef PL_OPS_KERNEL_H
#define PL_OPS_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "tensor/tensor.h"

/* ---- attributes, readable during prepare() only ---- */

typedef struct pl_attrs pl_attrs; /* a node's attr map; implemented by the runtime */

bool pl_attr_has(const pl_attrs *a, const char *name);
/* Each getter fails with INVALID_ARGUMENT naming the attr when it is missing or
 * of another kind; the _or variants return the default when it is missing. */
pl_status pl_attr_int(const pl_attrs *a, const char *name, int64_t *out);
pl_status pl_attr_float(const pl_attrs *a, const char *name, float *out);
pl_status pl_attr_bool(const pl_attrs *a, const char *name, bool *out);
pl_status pl_attr_type(const pl_attrs *a, const char *name, pl_dtype *out);
/* Bytes of a string attr (not NUL-terminated in general; *len says how many). */
pl_status pl_attr_string(const pl_attrs *a, const char *name, const char **data, size_t *len);
/* A shape attr: *rank is -1 when the rank is unknown; unknown dims are -1. */
pl_status pl_attr_shape(const pl_attrs *a, const char *name, int *rank, int64_t dims[PL_MAX_RANK]);
/* A tensor attr (Const's "value"), converted to a new reference. */
pl_status pl_attr_tensor(const pl_attrs *a, const char *name, pl_tensor **out);
/* Lists: the arrays stay valid during prepare() only. */
pl_status pl_attr_int_list(const pl_attrs *a, const char *name, const int64_t **items, int *n);
pl_status pl_attr_float_list(const pl_attrs *a, const char *name, const float **items, int *n);
pl_status pl_attr_type_list(const pl_attrs *a, const char *name, const pl_dtype **items, int *n);
/* A list(shape) attr: *n items; item i as in pl_attr_shape. */
pl_status pl_attr_shape_list_len(const pl_attrs *a, const char *name, int *n);
pl_status pl_attr_shape_list_at(const pl_attrs *a, const char *name, int i, int *rank, int64_t dims[PL_MAX_RANK]);
/* A function attr ("f", "body", "cond", "then_branch"): its name. */
pl_status pl_attr_func(const pl_attrs *a, const char *name, const char **func_name);

int64_t pl_attr_int_or(const pl_attrs *a, const char *name, int64_t dflt);
float pl_attr_float_or(const pl_attrs *a, const char *name, float dflt);
bool pl_attr_bool_or(const pl_attrs *a, const char *name, bool dflt);
pl_dtype pl_attr_type_or(const pl_attrs *a, const char *name, pl_dtype dflt);
/* NUL-terminated copy is not made: compares a string attr to `value`. */
bool pl_attr_string_equals(const pl_attrs *a, const char *name, const char *value);

/* ---- prepare ---- */

struct pl_function_lib;  /* the graph's function library (runtime) */
struct pl_run;           /* one execution: step resources, deadline, cancellation (runtime) */
struct pl_session;       /* one loaded model: variables, tables, persistent state (runtime) */

typedef struct pl_kernel_prep {
    const char *node_name;
    const char *op;
    const pl_attrs *attrs;
    int num_inputs;                     /* data inputs (control inputs excluded) */
    int num_outputs;                    /* in: outputs consumers use; out: raise it if the op has more */
    struct pl_function_lib *lib;        /* for kernels that call functions */
    struct pl_session *session;         /* for kernels that own model-level state */
    void *state;                        /* out: handed to compute() and release() */
} pl_kernel_prep;

/* ---- compute ---- */

typedef struct pl_kernel_ctx {
    void *state;
    const char *node_name;
    int num_inputs;
    pl_tensor *const *inputs;           /* borrowed */
    int num_outputs;
    pl_tensor **outputs;                /* the kernel fills these with owned references */
    struct pl_run *run;
    struct pl_session *session;
    double flops;                       /* optional out: 2 x multiply-adds done, for profiling */
} pl_kernel_ctx;

/* Allocates output i (uninitialised numeric contents) and stores it; *out is borrowed.
 * An output index the node does not expose is allocated and dropped after compute. */
pl_status pl_ctx_alloc_output(pl_kernel_ctx *c, int i, pl_dtype dtype, int rank, const int64_t *dims,
                              pl_tensor **out);
/* Stores t as output i, taking over the caller's reference. */
void pl_ctx_set_output(pl_kernel_ctx *c, int i, pl_tensor *t);
/* Forwards input `in` as output `out` without copying. */
void pl_ctx_forward(pl_kernel_ctx *c, int in, int out);
/* Output i over input `in`'s buffer when nothing else can see that buffer
 * (the run holds its only reference) and it has this dtype and shape, as
 * TensorFlow's forward_input_or_allocate_output: element-wise kernels then
 * write in place, and a 25 MB image needs no second 25 MB. Else allocates as
 * pl_ctx_alloc_output. The kernel must read each element before writing it. */
pl_status pl_ctx_reuse_or_alloc_output(pl_kernel_ctx *c, int in, int i, pl_dtype dtype, int rank,
                                       const int64_t *dims, pl_tensor **out);

enum {
    PL_KERNEL_STATEFUL = 1 << 0,      /* never constant-folded, never deduplicated */
    PL_KERNEL_CONTROL_FLOW = 1 << 1,  /* carried by the executor (Switch, Merge, Enter, ...) */
    PL_KERNEL_EXPENSIVE = 1 << 2,     /* may use every core (oneDNN, large loops) */
};

typedef struct pl_kernel_def {
    const char *op;
    pl_status (*prepare)(pl_kernel_prep *p);   /* optional */
    pl_status (*compute)(pl_kernel_ctx *c);    /* NULL only for PL_KERNEL_CONTROL_FLOW */
    void (*release)(void *state);              /* optional; frees p->state */
    unsigned flags;
} pl_kernel_def;

/* The registry: every family table, searched once per node at prepare time. */
const pl_kernel_def *pl_kernel_find(const char *op);
/* Calls fn for every registered op, for `plinth-cli inspect` and the docs. */
void pl_kernel_foreach(void (*fn)(const pl_kernel_def *def, void *arg), void *arg);

#endif
