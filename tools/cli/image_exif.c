/* EXIF orientation: cameras store a photo as the sensor saw it and record in
 * the Orientation tag (0x0112) how to turn it upright. cv2.imread applies the
 * tag, so a picture read here is turned the same way before any model sees it. */
#include "cli/image_exif.h"

#include <stdlib.h>
#include <string.h>

static unsigned get16(const uint8_t *p, bool big) {
    return big ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t get32(const uint8_t *p, bool big) {
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int pl_image_exif_orientation(const uint8_t *tiff, size_t len) {
    if (len < 8) return 1;
    bool big;
    if (tiff[0] == 'M' && tiff[1] == 'M') big = true;
    else if (tiff[0] == 'I' && tiff[1] == 'I') big = false;
    else return 1;
    if (get16(tiff + 2, big) != 42) return 1;
    uint32_t ifd = get32(tiff + 4, big);
    if (ifd > len || len - ifd < 2) return 1;
    unsigned n = get16(tiff + ifd, big);
    for (unsigned i = 0; i < n; i++) {
        size_t at = (size_t)ifd + 2 + (size_t)i * 12;
        if (at > len || len - at < 12) return 1;
        const uint8_t *e = tiff + at;
        if (get16(e, big) != 0x0112) continue;
        /* SHORT, one value, held in the first two bytes of the value field. */
        unsigned v = get16(e + 2, big) == 3 && get32(e + 4, big) >= 1 ? get16(e + 8, big) : 1;
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

int pl_image_exif_orientation_app1(const uint8_t *data, size_t len) {
    static const uint8_t exif[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (len < sizeof exif || memcmp(data, exif, sizeof exif)) return 0;
    return pl_image_exif_orientation(data + sizeof exif, len - sizeof exif);
}

/* Orientations 5-8 transpose the picture; 2, 3, 6, 7 then mirror it left to
 * right and 3, 4, 7, 8 top to bottom (OpenCV's ExifTransform, in that order). */
pl_status pl_image_orient(pl_image *img, int orientation) {
    if (orientation <= 1 || orientation > 8) return NULL;
    bool transpose = orientation >= 5;
    bool flip_x = orientation == 2 || orientation == 3 || orientation == 6 || orientation == 7;
    bool flip_y = orientation == 3 || orientation == 4 || orientation == 7 || orientation == 8;
    int w = img->width, h = img->height;
    int ow = transpose ? h : w, oh = transpose ? w : h;
    uint8_t *out = malloc((size_t)w * h * 3 + 1);
    if (!out) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int y = 0; y < oh; y++) {
        int ty = flip_y ? oh - 1 - y : y;
        for (int x = 0; x < ow; x++) {
            int tx = flip_x ? ow - 1 - x : x;
            int sx = transpose ? ty : tx, sy = transpose ? tx : ty;
            memcpy(out + ((size_t)y * ow + x) * 3, img->bgr + ((size_t)sy * w + sx) * 3, 3);
        }
    }
    free(img->bgr);
    img->bgr = out;
    img->width = ow;
    img->height = oh;
    return NULL;
}
