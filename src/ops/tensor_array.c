/* Kernels of the tensor_array family (see families.h). */
#include "ops/families.h"

const pl_kernel_def pl_kernels_tensor_array[] = {
    {0},
};
