/* Direct 2-D convolution in plain C (grouped and depthwise included): the
 * fallback where oneDNN offers only its reference kernel, and an independent
 * route for tests to compare against. */
#include "ops/nn_internal.h"

/* Element strides of (n, h, w, c) of the input (xs) and the output (ys) in
 * either layout: both kernels walk the same two activations. */
static void activation_strides(const pl__conv_geom *g, int64_t xs[4], int64_t ys[4]) {
    if (g->nchw) {
        xs[0] = g->c * g->h * g->w, xs[1] = g->w, xs[2] = 1, xs[3] = g->h * g->w;
        ys[0] = g->oc * g->oh * g->ow, ys[1] = g->ow, ys[2] = 1, ys[3] = g->oh * g->ow;
    } else {
        xs[0] = g->h * g->w * g->c, xs[1] = g->w * g->c, xs[2] = g->c, xs[3] = 1;
        ys[0] = g->oh * g->ow * g->oc, ys[1] = g->ow * g->oc, ys[2] = g->oc, ys[3] = 1;
    }
}

void pl__conv2d_direct(const pl__conv_geom *g, const float *x, const float *f, float *y) {
    int64_t xs[4], ys[4];
    activation_strides(g, xs, ys);
    const int64_t cin_g = g->c / g->groups, cout_g = g->oc / g->groups;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++)
                for (int64_t o = 0; o < g->oc; o++) {
                    const int64_t c0 = (o / cout_g) * cin_g;
                    double acc = 0;
                    for (int64_t ky = 0; ky < g->kh; ky++) {
                        const int64_t iy = oy * g->stride[0] + ky * g->dilation[0] - g->pad_top;
                        if (iy < 0 || iy >= g->h) continue;
                        for (int64_t kx = 0; kx < g->kw; kx++) {
                            const int64_t ix = ox * g->stride[1] + kx * g->dilation[1] - g->pad_left;
                            if (ix < 0 || ix >= g->w) continue;
                            const float *xp = x + n * xs[0] + iy * xs[1] + ix * xs[2];
                            const float *fp = f + ((ky * g->kw + kx) * cin_g) * g->oc + o;
                            for (int64_t ci = 0; ci < cin_g; ci++)
                                acc += (double)xp[(c0 + ci) * xs[3]] * fp[ci * g->oc];
                        }
                    }
                    y[n * ys[0] + oy * ys[1] + ox * ys[2] + o * ys[3]] = (float)acc;
                }
}

void pl__conv2d_transpose_direct(const pl__conv_geom *g, const float *dy, const float *f, float *dx) {
    int64_t xs[4], ys[4];
    activation_strides(g, xs, ys);
    const int64_t cin_g = g->c / g->groups, cout_g = g->oc / g->groups;
    /* Gathered per input pixel (rather than scattered) so each output element
     * is one double-precision sum, like the forward kernel. */
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t iy = 0; iy < g->h; iy++)
            for (int64_t ix = 0; ix < g->w; ix++)
                for (int64_t ci = 0; ci < g->c; ci++) {
                    const int64_t grp = ci / cin_g, cig = ci % cin_g;
                    double acc = 0;
                    for (int64_t ky = 0; ky < g->kh; ky++) {
                        const int64_t ty = iy + g->pad_top - ky * g->dilation[0];
                        if (ty < 0 || ty % g->stride[0]) continue;
                        const int64_t oy = ty / g->stride[0];
                        if (oy >= g->oh) continue;
                        for (int64_t kx = 0; kx < g->kw; kx++) {
                            const int64_t tx = ix + g->pad_left - kx * g->dilation[1];
                            if (tx < 0 || tx % g->stride[1]) continue;
                            const int64_t ox = tx / g->stride[1];
                            if (ox >= g->ow) continue;
                            const float *yp = dy + n * ys[0] + oy * ys[1] + ox * ys[2];
                            const float *fp = f + ((ky * g->kw + kx) * cin_g + cig) * g->oc;
                            for (int64_t o = grp * cout_g; o < (grp + 1) * cout_g; o++)
                                acc += (double)yp[o * ys[3]] * fp[o];
                        }
                    }
                    dx[n * xs[0] + iy * xs[1] + ix * xs[2] + ci * xs[3]] = (float)acc;
                }
}
