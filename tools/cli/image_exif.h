/* EXIF orientation of a picture, and turning its pixels upright the way
 * cv2.imread does. */
#ifndef PL_CLI_IMAGE_EXIF_H
#define PL_CLI_IMAGE_EXIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/image.h"

/* The Orientation tag (1-8) of a TIFF-structured EXIF block (a PNG eXIf
 * chunk); 1 (upright) when the block has none or cannot be read. */
int pl_image_exif_orientation(const uint8_t *tiff, size_t len);
/* The same for a JPEG APP1 segment's data ("Exif\0\0" then the TIFF block);
 * 0 when the segment is not EXIF (XMP also uses APP1). */
int pl_image_exif_orientation_app1(const uint8_t *data, size_t len);
/* Turns the pixels by an orientation 1-8 (anything else leaves them as they are). */
pl_status pl_image_orient(pl_image *img, int orientation);

#endif
