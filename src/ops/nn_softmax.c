/* Softmax and LogSoftmax over the last axis, computed as TensorFlow's CPU
 * kernel does: shift by the row maximum, exponentiate, scale by the inverse
 * sum (or subtract the log of the sum). */
#include <math.h>

#include "ops/nn_internal.h"

#define SOFTMAX_ROWS(T, EXP, LOG)                                                  \
    static void softmax_rows_##T(const T *x, T *y, int64_t rows, int64_t n, bool log_) { \
        for (int64_t r = 0; r < rows; r++, x += n, y += n) {                      \
            T m = x[0];                                                            \
            for (int64_t i = 1; i < n; i++)                                        \
                if (x[i] > m) m = x[i];                                            \
            T sum = 0;                                                             \
            if (log_) {                                                            \
                for (int64_t i = 0; i < n; i++) sum += EXP(x[i] - m);              \
                T l = LOG(sum);                                                    \
                for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) - l;             \
            } else {                                                               \
                for (int64_t i = 0; i < n; i++) sum += (y[i] = EXP(x[i] - m));     \
                T inv = (T)1 / sum;                                                \
                for (int64_t i = 0; i < n; i++) y[i] *= inv;                       \
            }                                                                      \
        }                                                                          \
    }

SOFTMAX_ROWS(float, expf, logf)
SOFTMAX_ROWS(double, exp, log)

static pl_status softmax(pl_kernel_ctx *c, bool log_) {
    const pl_tensor *x = c->inputs[0];
    if (x->rank < 1) return pl_error(PL_INVALID_ARGUMENT, "logits must have >= 1 dimension, got %d", x->rank);
    if (x->dtype != PL_DT_FLOAT && x->dtype != PL_DT_DOUBLE)
        return pl_error(PL_UNIMPLEMENTED, "%s supports float32 and float64, not %s", log_ ? "LogSoftmax" : "Softmax",
                        pl_dtype_name(x->dtype));
    pl_tensor *y;
    PL_TRY(pl_ctx_alloc_output(c, 0, x->dtype, x->rank, x->dims, &y));
    int64_t n = x->dims[x->rank - 1];
    if (x->count == 0) return NULL;
    if (x->dtype == PL_DT_FLOAT)
        softmax_rows_float(x->data, y->data, x->count / n, n, log_);
    else
        softmax_rows_double(x->data, y->data, x->count / n, n, log_);
    return NULL;
}

pl_status pl__nn_softmax_compute(pl_kernel_ctx *c) { return softmax(c, false); }
pl_status pl__nn_log_softmax_compute(pl_kernel_ctx *c) { return softmax(c, true); }
