/* Declarations shared by the nn family's files: sliding-window geometry
 * (convolution and pooling read the same attrs and size outputs the same way
 * as TensorFlow), and the kernels' plain entry points, which take shapes and
 * buffers so they can be tested without a graph. */
#ifndef PL_OPS_NN_INTERNAL_H
#define PL_OPS_NN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <dnnl.h>

#include "ops/kernel.h"

/* ---- window geometry ---- */

typedef enum { PL__PAD_VALID, PL__PAD_SAME, PL__PAD_EXPLICIT } pl__padding;

typedef struct pl__window_attrs {
    bool nchw;                  /* data_format "NCHW" (else "NHWC") */
    pl__padding padding;
    int64_t ksize[2];           /* pooling window (rows, cols); unused by convolution */
    int64_t stride[2];
    int64_t dilation[2];
    int64_t explicit_pad[4];    /* top, bottom, left, right for EXPLICIT */
} pl__window_attrs;

/* Reads data_format, padding, explicit_paddings, strides, dilations (absent
 * means 1s) and, when with_ksize, ksize. TensorFlow's rule that batch and
 * depth strides must be 1 is checked here. */
pl_status pl__window_parse(const pl_attrs *a, bool with_ksize, pl__window_attrs *w);
/* Same checks for a 4-element ksize / strides list given in data_format order. */
pl_status pl__window_set_lists(pl__window_attrs *w, const int64_t *ksize, int nk, const int64_t *strides, int ns);

/* One spatial dimension's output size and padding, as TensorFlow's
 * GetWindowedOutputSizeVerbose computes them (SAME puts the odd pixel after). */
pl_status pl__window_dim(int64_t in, int64_t k, int64_t dilation, int64_t stride, pl__padding padding,
                         int64_t explicit_lo, int64_t explicit_hi, int64_t *out, int64_t *pad_lo, int64_t *pad_hi);

/* A 4-D activation's batch, rows, cols, channels in either layout. */
typedef struct pl__nhwc {
    int64_t n, h, w, c;
} pl__nhwc;
pl__nhwc pl__nhwc_of(const pl_tensor *t, bool nchw);
void pl__nhwc_dims(pl__nhwc s, bool nchw, int64_t dims[4]);

/* ---- convolution ---- */

typedef struct pl__conv_geom {
    bool nchw;
    int64_t n, h, w, c;         /* input */
    int64_t oh, ow, oc;         /* output */
    int64_t kh, kw;
    int64_t groups;             /* c / filter input depth; c for depthwise */
    int64_t stride[2], dilation[2];
    int64_t pad_top, pad_bottom, pad_left, pad_right;
} pl__conv_geom;

/* Output geometry of a convolution of x by filter f (HWIO; for depthwise
 * [kh, kw, c, multiplier]); errors name the mismatch as TensorFlow does. */
pl_status pl__conv_geometry(const pl__window_attrs *w, bool depthwise, const pl_tensor *x, const pl_tensor *f,
                            pl__conv_geom *g);

/* The filter as oneDNN sees it over TensorFlow's HWIO memory: (O, I, H, W),
 * or (G, O/G, I/G, H, W) when grouped; `any` leaves the layout to oneDNN. */
pl_status pl__conv_filter_md(const pl__conv_geom *g, bool any, dnnl_memory_desc_t *md);

/* Direct convolution in C, double accumulation: the fallback where oneDNN has
 * only a reference kernel, and the cross-check in tests. The filter is HWIO
 * with input depth c / groups (a depthwise filter [kh,kw,c,m] is the same
 * memory as [kh,kw,1,c*m] with groups = c). */
void pl__conv2d_direct(const pl__conv_geom *g, const float *x, const float *f, float *y);
/* The transposed convolution (gradient of the input) with the same geometry:
 * dy has the output's shape, dx the input's. */
void pl__conv2d_transpose_direct(const pl__conv_geom *g, const float *dy, const float *f, float *dx);

/* A convolution node's state: attrs and caches. The transposed convolution
 * (backward data) keeps the same state, since it describes its primitive by
 * the forward geometry and caches plans and weights the same way. */
typedef struct pl__conv pl__conv;
pl_status pl__conv_create(const pl__window_attrs *w, bool depthwise, pl__conv **out);
pl_status pl__conv_transpose_create(const pl__window_attrs *w, pl__conv **out);
void pl__conv_free(pl__conv *c);
/* Computes y (allocated by the caller with the geometry's shape). */
pl_status pl__conv_run(pl__conv *c, const pl__conv_geom *g, pl_tensor *x, pl_tensor *f, float *y);
/* For a transposed node: computes dx (the geometry's input shape, allocated
 * by the caller) from dy (its output shape); neither may be empty. */
pl_status pl__conv_transpose_run(pl__conv *c, const pl__conv_geom *g, pl_tensor *dy, pl_tensor *f, float *dx);
/* The implementation last chosen for this node ("jit:avx2", "direct"), and
 * how many plans and reordered weights it holds: for tests and logs. */
const char *pl__conv_impl(pl__conv *c);
void pl__conv_cache_counts(pl__conv *c, int *plans, int *weights);

/* ---- pooling ---- */

typedef enum { PL__POOL_MAX, PL__POOL_AVG } pl__pool_kind;

typedef struct pl__pool_geom {
    bool nchw;
    int64_t n, h, w, c, oh, ow;
    int64_t kh, kw, stride[2];
    int64_t pad_top, pad_bottom, pad_left, pad_right;
} pl__pool_geom;

pl_status pl__pool_geometry(const pl__window_attrs *w, const pl_tensor *x, pl__pool_geom *g);
/* Direct pooling in C: max ignores padding, average divides by the number of
 * real pixels under the window (TensorFlow's SAME behaviour). */
void pl__pool_direct(pl__pool_kind kind, const pl__pool_geom *g, const float *x, float *y);

typedef struct pl__pool pl__pool;
pl_status pl__pool_create(pl__pool_kind kind, pl__pool **out);
void pl__pool_free(pl__pool *p);
pl_status pl__pool_run(pl__pool *p, const pl__pool_geom *g, const float *x, float *y);
const char *pl__pool_impl(pl__pool *p);

/* ---- kernels by file, gathered into pl_kernels_nn by nn.c ---- */

pl_status pl__nn_conv2d_prepare(pl_kernel_prep *p);
pl_status pl__nn_depthwise_prepare(pl_kernel_prep *p);
pl_status pl__nn_conv_compute(pl_kernel_ctx *c);
void pl__nn_conv_release(void *state);

pl_status pl__nn_conv_transpose_prepare(pl_kernel_prep *p);
pl_status pl__nn_conv_transpose_compute(pl_kernel_ctx *c);
void pl__nn_conv_transpose_release(void *state);

pl_status pl__nn_maxpool_prepare(pl_kernel_prep *p);
pl_status pl__nn_maxpool_v2_prepare(pl_kernel_prep *p);
pl_status pl__nn_avgpool_prepare(pl_kernel_prep *p);
pl_status pl__nn_pool_compute(pl_kernel_ctx *c);
void pl__nn_pool_release(void *state);

pl_status pl__nn_matmul_prepare(pl_kernel_prep *p);
pl_status pl__nn_batch_matmul_prepare(pl_kernel_prep *p);
pl_status pl__nn_matmul_compute(pl_kernel_ctx *c);
void pl__nn_matmul_release(void *state);

pl_status pl__nn_softmax_compute(pl_kernel_ctx *c);
pl_status pl__nn_log_softmax_compute(pl_kernel_ctx *c);

pl_status pl__nn_batch_norm_prepare(pl_kernel_prep *p);
pl_status pl__nn_batch_norm_compute(pl_kernel_ctx *c);
pl_status pl__nn_lrn_prepare(pl_kernel_prep *p);
pl_status pl__nn_lrn_compute(pl_kernel_ctx *c);
void pl__nn_free_state(void *state);

#endif
