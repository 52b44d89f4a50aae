/* Kernels of the math family (see families.h). */
#include "ops/families.h"

const pl_kernel_def pl_kernels_math[] = {
    {0},
};
