/* Bilinear image scaling for the benchmarks' test images. */
#include "common/image_scale.h"

pl_status pl_bench_image_scaled(const pl_tensor *src, int64_t h, int64_t w, pl_tensor **out) {
    int64_t dims[3] = {h, w, 3};
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(PL_DT_FLOAT, 3, dims, &t));
    const float *s = src->data;
    float *d = t->data;
    int64_t sh = src->dims[0], sw = src->dims[1];
    for (int64_t y = 0; y < h; y++) {
        double fy = ((double)y + 0.5) * (double)sh / (double)h - 0.5;
        int64_t y0 = fy < 0 ? 0 : (int64_t)fy, y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
        double wy = fy < 0 ? 0 : fy - (double)y0;
        for (int64_t x = 0; x < w; x++) {
            double fx = ((double)x + 0.5) * (double)sw / (double)w - 0.5;
            int64_t x0 = fx < 0 ? 0 : (int64_t)fx, x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
            double wx = fx < 0 ? 0 : fx - (double)x0;
            for (int c = 0; c < 3; c++) {
                double a = s[(y0 * sw + x0) * 3 + c], b = s[(y0 * sw + x1) * 3 + c];
                double e = s[(y1 * sw + x0) * 3 + c], f = s[(y1 * sw + x1) * 3 + c];
                d[(y * w + x) * 3 + c] = (float)((a * (1 - wx) + b * wx) * (1 - wy) + (e * (1 - wx) + f * wx) * wy);
            }
        }
    }
    *out = t;
    return NULL;
}
