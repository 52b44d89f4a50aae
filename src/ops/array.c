/* Kernels of the array family (see families.h). */
#include "ops/families.h"

const pl_kernel_def pl_kernels_array[] = {
    {0},
};
