/* Pictures for the client: decode JPEG/PNG into 8-bit BGR pixels, draw boxes,
 * dots and short labels on them, and write PNG or JPEG. */
#ifndef PL_CLI_IMAGE_H
#define PL_CLI_IMAGE_H

#include <stdint.h>

#include "base/status.h"
#include "tensor/tensor.h"

typedef struct pl_image {
    int width, height;
    uint8_t *bgr;   /* height * width * 3 bytes, row-major, B,G,R order like cv2.imread */
} pl_image;

/* Reads a JPEG or PNG file (by content, not name). Grey and RGBA inputs become BGR,
 * and a picture with an EXIF orientation is turned upright, as cv2.imread does. */
pl_status pl_image_read(const char *path, pl_image *out);
/* Writes PNG, or JPEG when the name ends in .jpg/.jpeg. */
pl_status pl_image_write(const pl_image *img, const char *path);
void pl_image_free(pl_image *img);
/* The picture as a float32 [height, width, 3] BGR tensor with values 0..255, as
 * cv2.imread(path).astype(np.float32) gives it. */
pl_status pl_image_to_tensor(const pl_image *img, pl_tensor **out);

typedef struct pl_color { uint8_t b, g, r; } pl_color;

/* Coordinates may lie outside the picture; what falls outside is clipped. */
void pl_image_rect(pl_image *img, double x1, double y1, double x2, double y2, int thickness, pl_color c);
void pl_image_dot(pl_image *img, double x, double y, int radius, pl_color c);
/* Draws text (digits, letters, . : - %) with a 5x7 font scaled by `scale`, top-left at (x, y). */
void pl_image_text(pl_image *img, int x, int y, const char *text, int scale, pl_color fg, pl_color bg);

#endif
