/* Kernels of the function family (see families.h). */
#include "ops/families.h"

const pl_kernel_def pl_kernels_function[] = {
    {0},
};
