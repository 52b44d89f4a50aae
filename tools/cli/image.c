/* JPEG (libjpeg-turbo) and PNG (libspng) reading and writing, and the few
 * drawing primitives the detect command needs. */
#include "cli/image.h"
#include "cli/image_exif.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>

#define MAX_PIXELS ((int64_t)1 << 28)

/* ---- JPEG ---- */

struct jpeg_error {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void jpeg_error_exit(j_common_ptr cinfo) {
    struct jpeg_error *err = (struct jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

/* libjpeg prints its warnings ("Premature end of JPEG file") to stderr;
 * a picture it can still decode is used as decoded, as cv2.imread does, and
 * one it cannot becomes a single error through jpeg_error_exit. */
static void jpeg_quiet(j_common_ptr cinfo) { (void)cinfo; }

static pl_status read_jpeg(const char *path, FILE *f, pl_image *out) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error err;
    uint8_t *volatile pixels = NULL;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_error_exit;
    err.mgr.output_message = jpeg_quiet;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return pl_error(PL_INVALID_ARGUMENT, "%s: not a readable JPEG (%s)", path, err.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&cinfo, TRUE);
    /* EXIF must be the first APP1 segment; like cv2, a later one (after XMP) is not looked for. */
    int orientation = 1;
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1) continue;
        int o = pl_image_exif_orientation_app1(m->data, m->data_length);
        if (o) orientation = o;
        break;
    }
    cinfo.out_color_space = JCS_EXT_BGR;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    if ((int64_t)w * h > MAX_PIXELS) {
        jpeg_destroy_decompress(&cinfo);
        return pl_error(PL_INVALID_ARGUMENT, "%s: picture of %dx%d is too large", path, w, h);
    }
    pixels = malloc((size_t)w * h * 3);
    if (!pixels) {
        jpeg_destroy_decompress(&cinfo);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * w * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    out->width = w;
    out->height = h;
    out->bgr = pixels;
    pl_status st = pl_image_orient(out, orientation);
    if (st) pl_image_free(out);
    return st;
}

static pl_status write_jpeg(const pl_image *img, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) return pl_error(PL_PERMISSION_DENIED, "cannot write %s: %s", path, strerror(errno));
    struct jpeg_compress_struct cinfo;
    struct jpeg_error err;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_error_exit;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        fclose(f);
        return pl_error(PL_INTERNAL, "writing %s: %s", path, err.message);
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = (JDIMENSION)img->width;
    cinfo.image_height = (JDIMENSION)img->height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_EXT_BGR;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 92, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = img->bgr + (size_t)cinfo.next_scanline * img->width * 3;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return fclose(f) ? pl_error(PL_INTERNAL, "writing %s failed", path) : NULL;
}

/* ---- PNG ---- */

static pl_status read_png(const char *path, FILE *f, pl_image *out) {
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    spng_set_png_file(ctx, f);
    spng_set_image_limits(ctx, 1 << 16, 1 << 16);
    struct spng_ihdr ihdr;
    size_t size;
    int rc = spng_get_ihdr(ctx, &ihdr);
    if (!rc && (int64_t)ihdr.width * ihdr.height > MAX_PIXELS) rc = SPNG_EOVERFLOW;
    if (!rc) rc = spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &size);
    uint8_t *rgb = rc ? NULL : malloc(size);
    if (!rc && !rgb) rc = SPNG_EMEM;
    if (!rc) rc = spng_decode_image(ctx, rgb, size, SPNG_FMT_RGB8, SPNG_DECODE_TRNS);
    struct spng_exif exif;
    int orientation = !rc && !spng_get_exif(ctx, &exif) ? pl_image_exif_orientation((const uint8_t *)exif.data,
                                                                                   exif.length) : 1;
    spng_ctx_free(ctx);
    if (rc) {
        free(rgb);
        return pl_error(PL_INVALID_ARGUMENT, "%s: not a readable PNG (%s)", path, spng_strerror(rc));
    }
    for (size_t i = 0; i + 2 < size; i += 3) {
        uint8_t t = rgb[i];
        rgb[i] = rgb[i + 2];
        rgb[i + 2] = t;
    }
    out->width = (int)ihdr.width;
    out->height = (int)ihdr.height;
    out->bgr = rgb;
    pl_status st = pl_image_orient(out, orientation);
    if (st) pl_image_free(out);
    return st;
}

static pl_status write_png(const pl_image *img, const char *path) {
    size_t n = (size_t)img->width * img->height * 3;
    uint8_t *rgb = malloc(n ? n : 1);
    if (!rgb) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i + 2 < n + 2 && i < n; i += 3) {
        rgb[i] = img->bgr[i + 2];
        rgb[i + 1] = img->bgr[i + 1];
        rgb[i + 2] = img->bgr[i];
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        pl_status st = pl_error(PL_PERMISSION_DENIED, "cannot write %s: %s", path, strerror(errno));
        free(rgb);
        return st;
    }
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_png_file(ctx, f);
    struct spng_ihdr ihdr = {.width = (uint32_t)img->width, .height = (uint32_t)img->height,
                             .bit_depth = 8, .color_type = SPNG_COLOR_TYPE_TRUECOLOR};
    spng_set_ihdr(ctx, &ihdr);
    int rc = spng_encode_image(ctx, rgb, n, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    spng_ctx_free(ctx);
    free(rgb);
    if (fclose(f) || rc) return pl_error(PL_INTERNAL, "writing %s failed%s%s", path, rc ? ": " : "", rc ? spng_strerror(rc) : "");
    return NULL;
}

pl_status pl_image_read(const char *path, pl_image *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return pl_error(errno == ENOENT ? PL_NOT_FOUND : PL_PERMISSION_DENIED, "cannot read picture %s: %s", path, strerror(errno));
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    int read_errno = ferror(f) ? errno : 0;
    rewind(f);
    pl_status st;
    if (read_errno)  /* a directory opens but does not read */
        st = pl_error(PL_INVALID_ARGUMENT, "cannot read picture %s: %s", path, strerror(read_errno));
    else if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff)
        st = read_jpeg(path, f, out);
    else if (got == 8 && !memcmp(magic, "\x89PNG\r\n\x1a\n", 8))
        st = read_png(path, f, out);
    else
        st = pl_error(PL_INVALID_ARGUMENT, "%s is not a JPEG or PNG picture", path);
    fclose(f);
    return st;
}

pl_status pl_image_write(const pl_image *img, const char *path) {
    size_t n = strlen(path);
    const char *ext = strrchr(path, '.');
    if (ext && (!strcasecmp(ext, ".jpg") || !strcasecmp(ext, ".jpeg"))) return write_jpeg(img, path);
    (void)n;
    return write_png(img, path);
}

void pl_image_free(pl_image *img) {
    free(img->bgr);
    img->bgr = NULL;
}

pl_status pl_image_to_tensor(const pl_image *img, pl_tensor **out) {
    int64_t dims[3] = {img->height, img->width, 3};
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(PL_DT_FLOAT, 3, dims, &t));
    float *v = t->data;
    for (int64_t i = 0; i < t->count; i++) v[i] = img->bgr[i];
    *out = t;
    return NULL;
}

/* ---- drawing ---- */

static void put(pl_image *img, int x, int y, pl_color c) {
    if (x < 0 || y < 0 || x >= img->width || y >= img->height) return;
    uint8_t *p = img->bgr + ((size_t)y * img->width + x) * 3;
    p[0] = c.b;
    p[1] = c.g;
    p[2] = c.r;
}

static void fill(pl_image *img, int x1, int y1, int x2, int y2, pl_color c) {
    if (x1 < 0) x1 = 0;
    if (y1 < 0) y1 = 0;
    if (x2 > img->width - 1) x2 = img->width - 1;
    if (y2 > img->height - 1) y2 = img->height - 1;
    for (int y = y1; y <= y2; y++)
        for (int x = x1; x <= x2; x++) put(img, x, y, c);
}

static int clamp_coord(double v) {
    if (v < -1e6) return -1000000;
    if (v > 1e6) return 1000000;
    return (int)lround(v);
}

void pl_image_rect(pl_image *img, double fx1, double fy1, double fx2, double fy2, int t, pl_color c) {
    int x1 = clamp_coord(fx1), y1 = clamp_coord(fy1), x2 = clamp_coord(fx2), y2 = clamp_coord(fy2);
    int h = t / 2;
    fill(img, x1 - h, y1 - h, x2 + h, y1 - h + t - 1, c);
    fill(img, x1 - h, y2 - h, x2 + h, y2 - h + t - 1, c);
    fill(img, x1 - h, y1 - h, x1 - h + t - 1, y2 + h, c);
    fill(img, x2 - h, y1 - h, x2 - h + t - 1, y2 + h, c);
}

void pl_image_dot(pl_image *img, double fx, double fy, int r, pl_color c) {
    int cx = clamp_coord(fx), cy = clamp_coord(fy);
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++)
            if (dx * dx + dy * dy <= r * r) put(img, cx + dx, cy + dy, c);
}

/* 5x7 glyphs, one byte per row, bit 4 = leftmost column. */
static const struct { char ch; uint8_t rows[7]; } font[] = {
    {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},   {'2', {14, 17, 1, 2, 4, 8, 31}},
    {'3', {31, 2, 4, 2, 1, 17, 14}},     {'4', {2, 6, 10, 18, 31, 2, 2}},  {'5', {31, 16, 30, 1, 1, 17, 14}},
    {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},    {'8', {14, 17, 17, 14, 17, 17, 14}},
    {'9', {14, 17, 17, 15, 1, 2, 12}},   {'.', {0, 0, 0, 0, 0, 12, 12}},   {':', {0, 12, 12, 0, 12, 12, 0}},
    {'-', {0, 0, 0, 31, 0, 0, 0}},       {'%', {24, 25, 2, 4, 8, 19, 3}},  {' ', {0, 0, 0, 0, 0, 0, 0}},
    {'A', {14, 17, 17, 31, 17, 17, 17}}, {'B', {30, 17, 17, 30, 17, 17, 30}}, {'C', {14, 17, 16, 16, 16, 17, 14}},
    {'D', {28, 18, 17, 17, 17, 18, 28}}, {'E', {31, 16, 16, 30, 16, 16, 31}}, {'F', {31, 16, 16, 30, 16, 16, 16}},
    {'G', {14, 17, 16, 23, 17, 17, 15}}, {'H', {17, 17, 17, 31, 17, 17, 17}}, {'I', {14, 4, 4, 4, 4, 4, 14}},
    {'J', {7, 2, 2, 2, 2, 18, 12}},      {'K', {17, 18, 20, 24, 20, 18, 17}}, {'L', {16, 16, 16, 16, 16, 16, 31}},
    {'M', {17, 27, 21, 21, 17, 17, 17}}, {'N', {17, 17, 25, 21, 19, 17, 17}}, {'O', {14, 17, 17, 17, 17, 17, 14}},
    {'P', {30, 17, 17, 30, 16, 16, 16}}, {'Q', {14, 17, 17, 17, 21, 18, 13}}, {'R', {30, 17, 17, 30, 20, 18, 17}},
    {'S', {15, 16, 16, 14, 1, 1, 30}},   {'T', {31, 4, 4, 4, 4, 4, 4}},    {'U', {17, 17, 17, 17, 17, 17, 14}},
    {'V', {17, 17, 17, 17, 17, 10, 4}},  {'W', {17, 17, 17, 21, 21, 21, 10}}, {'X', {17, 17, 10, 4, 10, 17, 17}},
    {'Y', {17, 17, 10, 4, 4, 4, 4}},     {'Z', {31, 1, 2, 4, 8, 16, 31}},
};

static const uint8_t *glyph(char ch) {
    ch = (char)toupper((unsigned char)ch);
    for (size_t i = 0; i < sizeof font / sizeof font[0]; i++)
        if (font[i].ch == ch) return font[i].rows;
    return font[14].rows; /* unknown characters draw as a space */
}

void pl_image_text(pl_image *img, int x, int y, const char *text, int scale, pl_color fg, pl_color bg) {
    int n = (int)strlen(text);
    fill(img, x, y, x + n * 6 * scale + scale, y + 9 * scale - 1, bg);
    for (int i = 0; i < n; i++) {
        const uint8_t *rows = glyph(text[i]);
        for (int r = 0; r < 7; r++)
            for (int col = 0; col < 5; col++)
                if (rows[r] & (16 >> col)) {
                    int px = x + scale + (i * 6 + col) * scale, py = y + scale + r * scale;
                    fill(img, px, py, px + scale - 1, py + scale - 1, fg);
                }
    }
}
