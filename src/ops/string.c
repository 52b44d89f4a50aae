/* Kernels of the string family (see families.h). */
#include "ops/families.h"

const pl_kernel_def pl_kernels_string[] = {
    {0},
};
