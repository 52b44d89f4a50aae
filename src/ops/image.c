/* Kernels of the image family (see families.h). */
#include "ops/families.h"

const pl_kernel_def pl_kernels_image[] = {
    {0},
};
