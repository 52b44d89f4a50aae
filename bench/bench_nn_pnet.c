/* MTCNN P-Net's convolution and pooling layers over an image pyramid: the
 * first run of each image size (plan creation, weight reorder) against a run
 * of a size seen before (cached plans), and against the direct C kernels as
 * the baseline measured in the same run.
 *
 *     bench_nn_pnet [height width]      (default 432 768, MTCNN's test image) */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ops/nn_internal.h"

typedef struct layer {
    int64_t kh, kw, cin, cout;
    pl__conv *conv;
    pl_tensor *filter;
} layer;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static pl_tensor *tensor(int64_t n, int64_t h, int64_t w, int64_t c, float fill_scale) {
    int64_t dims[4] = {n, h, w, c};
    pl_tensor *t;
    if (pl_tensor_alloc(PL_DT_FLOAT, 4, dims, &t)) exit(1);
    float *v = t->data;
    for (int64_t i = 0; i < t->count; i++) v[i] = fill_scale * (float)((i * 7919) % 1000) / 1000.0f - 0.5f * fill_scale;
    return t;
}

static pl_tensor *conv(layer *l, pl_tensor *x, bool direct) {
    pl__window_attrs w = {.padding = PL__PAD_VALID, .stride = {1, 1}, .dilation = {1, 1}};
    pl__conv_geom g;
    if (pl__conv_geometry(&w, false, x, l->filter, &g)) exit(1);
    pl_tensor *y = tensor(g.n, g.oh, g.ow, g.oc, 0);
    if (direct)
        pl__conv2d_direct(&g, x->data, l->filter->data, y->data);
    else if (pl__conv_run(l->conv, &g, x, l->filter, y->data))
        exit(1);
    return y;
}

static pl_tensor *maxpool(pl__pool *p, pl_tensor *x, bool direct) {
    pl__window_attrs w = {.padding = PL__PAD_SAME, .ksize = {2, 2}, .stride = {2, 2}, .dilation = {1, 1}};
    pl__pool_geom g;
    if (pl__pool_geometry(&w, x, &g)) exit(1);
    pl_tensor *y = tensor(g.n, g.oh, g.ow, g.c, 0);
    if (direct)
        pl__pool_direct(PL__POOL_MAX, &g, x->data, y->data);
    else if (pl__pool_run(p, &g, x->data, y->data))
        exit(1);
    return y;
}

/* conv1 3->10, pool, conv2 10->16, conv3 16->32, heads 32->2 and 32->4. */
static void pnet(layer *L, pl__pool *pool, pl_tensor *img, bool direct) {
    pl_tensor *a = conv(&L[0], img, direct);
    pl_tensor *b = maxpool(pool, a, direct);
    pl_tensor *c = conv(&L[1], b, direct);
    pl_tensor *d = conv(&L[2], c, direct);
    pl_tensor *e = conv(&L[3], d, direct), *f = conv(&L[4], d, direct);
    pl_tensor *all[] = {a, b, c, d, e, f};
    for (int i = 0; i < 6; i++) pl_tensor_unref(all[i]);
}

int main(int argc, char **argv) {
    int64_t H = argc > 2 ? atoll(argv[1]) : 432, W = argc > 2 ? atoll(argv[2]) : 768;
    layer L[5] = {{3, 3, 3, 10, NULL, NULL}, {3, 3, 10, 16, NULL, NULL}, {3, 3, 16, 32, NULL, NULL},
                  {1, 1, 32, 2, NULL, NULL}, {1, 1, 32, 4, NULL, NULL}};
    pl__window_attrs w = {.padding = PL__PAD_VALID};
    for (int i = 0; i < 5; i++) {
        if (pl__conv_create(&w, false, &L[i].conv)) return 1;
        int64_t dims[4] = {L[i].kh, L[i].kw, L[i].cin, L[i].cout};
        L[i].filter = tensor(dims[0], dims[1], dims[2], dims[3], 0.2f);
    }
    pl__pool *pool;
    if (pl__pool_create(PL__POOL_MAX, &pool)) return 1;

    /* MTCNN's pyramid: min face 40 px, factor 0.709, down to 12 px. */
    double scale = 12.0 / 40.0;
    int64_t sizes[32][2];
    int n = 0;
    while (n < 32 && H * scale >= 12 && W * scale >= 12) {
        sizes[n][0] = (int64_t)(H * scale + 0.999), sizes[n][1] = (int64_t)(W * scale + 0.999);
        n++;
        scale *= 0.709;
    }
    printf("P-Net layers over a %d-scale pyramid of %lldx%lld, %d OpenMP threads\n", n, (long long)H, (long long)W,
           omp_get_max_threads());
    printf("%10s %12s %12s %12s\n", "size", "first ms", "cached ms", "direct ms");
    double tf = 0, tc = 0, td = 0;
    for (int i = 0; i < n; i++) {
        pl_tensor *img = tensor(1, sizes[i][0], sizes[i][1], 3, 255.0f);
        double t0 = now_ms();
        pnet(L, pool, img, false);
        double t1 = now_ms();
        double best = 1e9;
        for (int r = 0; r < 3; r++) {
            double a = now_ms();
            pnet(L, pool, img, false);
            double b = now_ms();
            if (b - a < best) best = b - a;
        }
        double d0 = now_ms();
        pnet(L, pool, img, true);
        double d1 = now_ms();
        printf("%5lldx%-5lld %12.2f %12.2f %12.2f\n", (long long)sizes[i][0], (long long)sizes[i][1], t1 - t0, best,
               d1 - d0);
        tf += t1 - t0, tc += best, td += d1 - d0;
        pl_tensor_unref(img);
    }
    printf("%11s %12.2f %12.2f %12.2f\n", "pyramid", tf, tc, td);
    printf("setup per pyramid %.2f ms; cached is %.1fx faster than direct C\n", tf - tc, td / tc);
    for (int i = 0; i < 5; i++) {
        pl__conv_free(L[i].conv);
        pl_tensor_unref(L[i].filter);
    }
    pl__pool_free(pool);
    return 0;
}
