/* Kernels of the state family (see families.h). */
#include "ops/families.h"

const pl_kernel_def pl_kernels_state[] = {
    {0},
};
