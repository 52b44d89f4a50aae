/* Function libraries: the FunctionDefs a graph carries, instantiated into
 * prepared bodies that kernels call (PartitionedCall, While, If, and library
 * functions used directly as ops).
 *
 * Instantiation follows TensorFlow's: input args become the body's feeds,
 * "node:output_arg:index" references become plain "node:k" edges, attr
 * placeholders take the caller's attr values, rets are fetched and
 * control_rets always run. An instantiated function is immutable and may be
 * called from many runs at once.
 *
 *     pl_function *f;
 *     PL_TRY(pl_function_instantiate_attr(p->lib, p->session, p->attrs, "f", &f));   // in prepare()
 *     ...
 *     PL_TRY(pl_function_call(f, c->run, c->inputs, c->outputs));                    // in compute()
 *     ...
 *     pl_function_free(f);                                                           // in release()
 */
#ifndef PL_RUNTIME_FUNCTION_H
#define PL_RUNTIME_FUNCTION_H

#include <stdbool.h>

#include "base/status.h"
#include "ops/kernel.h"
#include "runtime/session.h"
#include "tensorflow/core/framework/function.pb-c.h"

typedef struct pl_function_lib pl_function_lib;
typedef struct pl_function pl_function;

/* Wraps a FunctionDefLibrary (borrowed: it must outlive the library). */
pl_status pl_function_lib_new(const Tensorflow__FunctionDefLibrary *def, pl_function_lib **out);
void pl_function_lib_free(pl_function_lib *lib);
/* The FunctionDef called `name`, or NULL. lib may be NULL. */
const Tensorflow__FunctionDef *pl_function_lib_find(const pl_function_lib *lib, const char *name);

/* Instantiates `name` with the caller's attr values (`call_attrs`, may be NULL). */
pl_status pl_function_instantiate(pl_function_lib *lib, pl_session *session, const char *name,
                                  const pl_attrs *call_attrs, pl_function **out);
/* Instantiates the function named by func attr `attr` of `attrs`, with the
 * attr values the func attr carries ("f", "body", "cond", "then_branch"). */
pl_status pl_function_instantiate_attr(pl_function_lib *lib, pl_session *session, const pl_attrs *attrs,
                                       const char *attr, pl_function **out);
/* The same for function `index` of a list(func) attr ("branches"); the
 * list's length is pl_function_list_attr_len (-1 when there is no such attr). */
int pl_function_list_attr_len(const pl_attrs *attrs, const char *attr);
pl_status pl_function_instantiate_list_attr(pl_function_lib *lib, pl_session *session, const pl_attrs *attrs,
                                            const char *attr, int index, pl_function **out);
void pl_function_free(pl_function *f);

int pl_function_num_args(const pl_function *f);
int pl_function_num_rets(const pl_function *f);
/* Runs the body inside `run`; rets[i] receive new references. */
pl_status pl_function_call(const pl_function *f, struct pl_run *run, pl_tensor *const *args, pl_tensor **rets);

/* The kernel for a node whose op is a library function (ops/function.c). */
extern const pl_kernel_def pl_function_call_kernel;

#endif
