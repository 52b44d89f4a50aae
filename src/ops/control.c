/* Kernels of the control family (see families.h). */
#include "ops/families.h"

const pl_kernel_def pl_kernels_control[] = {
    {0},
};
