/* The kernel families, one source file each (src/ops/<family>.c defines
 * `const pl_kernel_def pl_kernels_<family>[]`, ending with an all-zero entry).
 * Adding a family is one line here and one file. */
#ifndef PL_OPS_FAMILIES_H
#define PL_OPS_FAMILIES_H

#include "ops/kernel.h"

#define PL_KERNEL_FAMILIES(X) \
    X(control)      /* Switch, Merge, Enter, Exit, NextIteration, LoopCond, NoOp, Identity */ \
    X(math)         /* element-wise arithmetic, comparisons, Cast, reductions, Select */      \
    X(array)        /* shapes, slicing, concatenation, gathering, padding */                  \
    X(nn)           /* convolution, pooling, matmul, activations, softmax, batch norm */     \
    X(image)        /* ResizeBilinear, CropAndResize, NonMaxSuppression */                    \
    X(tensor_array) /* TensorArrayV3 and friends */                                           \
    X(state)        /* variables, restore, lookup tables */                                   \
    X(function)     /* PartitionedCall, While, If and their stateful/stateless twins */       \
    X(string)       /* string ops */                                                          \
    X(sparse)       /* SparseReshape, SparseFillEmptyRows, SparseSegmentSum, SparseToDense */ \
    X(example)      /* ParseExample, ParseExampleV2 */                                        \
    X(fused)        /* nodes graph preparation fuses: convolution + bias + PReLU, PReLU */     \
    X(quantize)     /* Dequantize */                                                          \
    X(random)       /* RandomUniform(Int), RandomStandardNormal, Stateless*: Philox streams */ \
    X(tensor_list)  /* TensorList* ops on VARIANT lists */                                    \
    X(summary)      /* ScalarSummary, HistogramSummary */                                     \
    X(misc)         /* Optional*, GPU-only cuDNN RNN ops known but not runnable on CPU */

#define PL__FAMILY_DECL(name) extern const pl_kernel_def pl_kernels_##name[];
PL_KERNEL_FAMILIES(PL__FAMILY_DECL)
#undef PL__FAMILY_DECL

#endif
