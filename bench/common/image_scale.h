/* Larger test images for the benchmarks: the reference picture scaled, so an
 * image size the model has not seen costs what a real one would. */
#ifndef PL_BENCH_IMAGE_SCALE_H
#define PL_BENCH_IMAGE_SCALE_H

#include <stdint.h>

#include "tensor/tensor.h"

/* src (float [H, W, 3]) scaled to h x w with bilinear sampling at half-pixel
 * centres, as a new float [h, w, 3] tensor the caller owns. */
pl_status pl_bench_image_scaled(const pl_tensor *src, int64_t h, int64_t w, pl_tensor **out);

#endif
