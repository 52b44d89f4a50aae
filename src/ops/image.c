/* Kernels of the image family (see families.h): resizing, crop-and-resize and
 * non-max suppression. The kernels live in image_*.c. */
#include "ops/families.h"
#include "ops/image_internal.h"

const pl_kernel_def pl_kernels_image[] = {
    {.op = "ResizeBilinear", .prepare = pl__image_resize_prepare, .compute = pl__image_resize_bilinear_compute,
     .release = pl__image_free_state},
    {.op = "ResizeNearestNeighbor", .prepare = pl__image_resize_prepare, .compute = pl__image_resize_nearest_compute,
     .release = pl__image_free_state},
    {.op = "CropAndResize", .prepare = pl__image_crop_prepare, .compute = pl__image_crop_compute,
     .release = pl__image_free_state},
    {.op = "NonMaxSuppression", .prepare = pl__image_nms_prepare, .compute = pl__image_nms_compute,
     .release = pl__image_free_state},
    {.op = "NonMaxSuppressionV2", .prepare = pl__image_nms_prepare, .compute = pl__image_nms_compute,
     .release = pl__image_free_state},
    {.op = "NonMaxSuppressionV3", .prepare = pl__image_nms_prepare, .compute = pl__image_nms_compute,
     .release = pl__image_free_state},
    {.op = "NonMaxSuppressionV4", .prepare = pl__image_nms_prepare, .compute = pl__image_nms_compute,
     .release = pl__image_free_state},
    {.op = "NonMaxSuppressionV5", .prepare = pl__image_nms_prepare, .compute = pl__image_nms_compute,
     .release = pl__image_free_state},
    {0},
};
