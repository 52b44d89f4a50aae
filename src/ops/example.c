/* Kernels of the example family (see families.h). */
#include "ops/families.h"

const pl_kernel_def pl_kernels_example[] = {
    {0},
};
