/* Declarations shared by the image family's files (the table is in image.c). */
#ifndef PL_OPS_IMAGE_INTERNAL_H
#define PL_OPS_IMAGE_INTERNAL_H

#include "ops/kernel.h"

/* t itself (a new reference) when it is float32, else a float32 copy made with
 * C's conversion, which is TensorFlow's static_cast<float>. */
pl_status pl__image_as_float(pl_tensor *t, pl_tensor **out);

pl_status pl__image_resize_prepare(pl_kernel_prep *p);
pl_status pl__image_resize_bilinear_compute(pl_kernel_ctx *c);
pl_status pl__image_resize_nearest_compute(pl_kernel_ctx *c);

pl_status pl__image_crop_prepare(pl_kernel_prep *p);
pl_status pl__image_crop_compute(pl_kernel_ctx *c);

pl_status pl__image_nms_prepare(pl_kernel_prep *p);
pl_status pl__image_nms_compute(pl_kernel_ctx *c);

void pl__image_free_state(void *state);

#endif
