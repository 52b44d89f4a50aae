/* Kernels of the nn family (see families.h): convolution, pooling, matmul,
 * softmax and normalisation; BiasAdd is with the math family. The kernels
 * live in nn_*.c. */
#include "ops/families.h"
#include "ops/nn_internal.h"

const pl_kernel_def pl_kernels_nn[] = {
    {.op = "Conv2D", .prepare = pl__nn_conv2d_prepare, .compute = pl__nn_conv_compute,
     .release = pl__nn_conv_release, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "DepthwiseConv2dNative", .prepare = pl__nn_depthwise_prepare, .compute = pl__nn_conv_compute,
     .release = pl__nn_conv_release, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "MaxPool", .prepare = pl__nn_maxpool_prepare, .compute = pl__nn_pool_compute,
     .release = pl__nn_pool_release, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "MaxPoolV2", .prepare = pl__nn_maxpool_v2_prepare, .compute = pl__nn_pool_compute,
     .release = pl__nn_pool_release, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "AvgPool", .prepare = pl__nn_avgpool_prepare, .compute = pl__nn_pool_compute,
     .release = pl__nn_pool_release, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "MatMul", .prepare = pl__nn_matmul_prepare, .compute = pl__nn_matmul_compute,
     .release = pl__nn_matmul_release, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "BatchMatMul", .prepare = pl__nn_batch_matmul_prepare, .compute = pl__nn_matmul_compute,
     .release = pl__nn_matmul_release, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "BatchMatMulV2", .prepare = pl__nn_batch_matmul_prepare, .compute = pl__nn_matmul_compute,
     .release = pl__nn_matmul_release, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "BatchMatMulV3", .prepare = pl__nn_batch_matmul_prepare, .compute = pl__nn_matmul_compute,
     .release = pl__nn_matmul_release, .flags = PL_KERNEL_EXPENSIVE},
    {.op = "Softmax", .compute = pl__nn_softmax_compute},
    {.op = "LogSoftmax", .compute = pl__nn_log_softmax_compute},
    {.op = "FusedBatchNorm", .prepare = pl__nn_batch_norm_prepare, .compute = pl__nn_batch_norm_compute,
     .release = pl__nn_free_state},
    {.op = "FusedBatchNormV2", .prepare = pl__nn_batch_norm_prepare, .compute = pl__nn_batch_norm_compute,
     .release = pl__nn_free_state},
    {.op = "FusedBatchNormV3", .prepare = pl__nn_batch_norm_prepare, .compute = pl__nn_batch_norm_compute,
     .release = pl__nn_free_state},
    {.op = "LRN", .prepare = pl__nn_lrn_prepare, .compute = pl__nn_lrn_compute, .release = pl__nn_free_state},
    {0},
};
