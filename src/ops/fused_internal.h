/* Declarations shared by the fused kernels (fused.c, nn_prelu.c): nodes the
 * runtime's preparation builds from several graph nodes (see
 * src/runtime/rewrite_fuse.c). */
#ifndef PL_OPS_FUSED_INTERNAL_H
#define PL_OPS_FUSED_INTERNAL_H

#include <stdint.h>

#include "ops/kernel.h"

/* y = x + bias (along the last dim), then PReLU with alpha broadcast onto the
 * trailing dims; either may be absent. */
typedef struct pl__prelu {
    int64_t count;
    int64_t period;      /* elements after which bias and alpha repeat */
    float *bias;         /* `period` entries, or NULL */
    float *alpha;        /* `period` entries, or NULL */
} pl__prelu;

/* Checks bias ([C], C the last dim) and alpha (broadcastable onto dims
 * without growing them) and lays them out. */
pl_status pl__prelu_init(pl__prelu *p, int rank, const int64_t *dims, const pl_tensor *bias, const pl_tensor *alpha);
/* Runs over count elements, across cores when large; x may equal y. */
void pl__prelu_run(const pl__prelu *p, const float *x, float *y);
void pl__prelu_free(pl__prelu *p);

/* _PlScalarChain (fused_scalar.c). */
pl_status pl__scalar_chain_prepare(pl_kernel_prep *p);
pl_status pl__scalar_chain_compute(pl_kernel_ctx *c);

#endif
