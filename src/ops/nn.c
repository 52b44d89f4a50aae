/* Kernels of the nn family (see families.h). */
#include "ops/families.h"

const pl_kernel_def pl_kernels_nn[] = {
    {0},
};
