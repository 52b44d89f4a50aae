/* The element-wise tail of a fused convolution: y = x + bias, then PReLU
 * (y > 0 ? y : alpha * y), in one vectorised pass split across cores.
 *
 * Bias runs along the last dimension and alpha broadcasts onto the output's
 * trailing dimensions, so both repeat with a period: they are laid out once
 * over a whole number of periods (a multiple of the vector width when that
 * stays small) and the pass walks the data in period-sized rows with no index
 * arithmetic. The arithmetic is the graph's own (one add, one compare, one
 * multiply per element), so results are bit-identical to the unfused ops. */
#include <stdlib.h>
#include <string.h>

#include "ops/fused_internal.h"
#include "ops/math_internal.h"

/* Rows shorter than this are repeated to a multiple of 16 floats so the inner
 * loop runs on whole vectors. */
#define PERIOD_ALIGN 16
#define SMALL_PERIOD 4096

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Where alpha, aligned to the right of the output's dims, stops being all 1s:
 * it varies only over dims [*first, rank). Fails when it does not broadcast
 * onto the output without growing it. */
static pl_status alpha_extent(int rank, const int64_t *dims, const pl_tensor *alpha, int *first) {
    if (alpha->rank > rank)
        return pl_error(PL_INVALID_ARGUMENT, "PReLU: alpha of rank %d does not broadcast to an input of rank %d",
                        alpha->rank, rank);
    *first = rank;
    for (int i = 0; i < alpha->rank; i++) {
        int64_t a = alpha->dims[i], d = dims[rank - alpha->rank + i];
        if (a != 1 && a != d)
            return pl_error(PL_INVALID_ARGUMENT, "PReLU: alpha dim %d (%lld) does not broadcast to %lld", i,
                            (long long)a, (long long)d);
        if (a != 1 && *first == rank) *first = rank - alpha->rank + i;
    }
    return NULL;
}

/* alpha broadcast over one block of the trailing dims [first, rank). */
static void expand_alpha(int rank, const int64_t *dims, const pl_tensor *alpha, int first, float *out, int64_t block) {
    int64_t astride[PL_MAX_RANK] = {0};
    int64_t s = 1;
    for (int i = alpha->rank - 1; i >= 0; i--) {
        int d = rank - alpha->rank + i;
        astride[d] = alpha->dims[i] == 1 ? 0 : s;
        s *= alpha->dims[i];
    }
    const float *a = alpha->data;
    for (int64_t e = 0; e < block; e++) {
        int64_t rem = e, idx = 0;
        for (int d = rank - 1; d >= first; d--) {
            idx += (rem % dims[d]) * astride[d];
            rem /= dims[d];
        }
        out[e] = a[idx];
    }
}

pl_status pl__prelu_init(pl__prelu *p, int rank, const int64_t *dims, const pl_tensor *bias, const pl_tensor *alpha) {
    memset(p, 0, sizeof *p);
    int64_t count = 1;
    for (int i = 0; i < rank; i++) count *= dims[i];
    int64_t channels = rank > 0 ? dims[rank - 1] : 1;
    if (bias && (bias->dtype != PL_DT_FLOAT || bias->rank != 1 || bias->dims[0] != channels))
        return pl_error(PL_INVALID_ARGUMENT, "Must provide as many biases as the last dimension of the input tensor");
    if (alpha && alpha->dtype != PL_DT_FLOAT)
        return pl_error(PL_INVALID_ARGUMENT, "PReLU: alpha must be float, not %s", pl_dtype_name(alpha->dtype));
    int first = rank;
    if (alpha) PL_TRY(alpha_extent(rank, dims, alpha, &first));
    int64_t alpha_block = 1;
    for (int i = first; i < rank; i++) alpha_block *= dims[i];
    int64_t period = bias ? channels : 1;
    /* Both blocks span trailing dims, so one divides the other. */
    if (alpha_block > period) period = alpha_block;
    if (period < 1) period = 1;
    int64_t whole = period;
    if (period < SMALL_PERIOD) whole = period / gcd64(period, PERIOD_ALIGN) * PERIOD_ALIGN;
    p->count = count;
    p->period = whole;
    if (count == 0) return NULL;
    p->bias = bias ? malloc((size_t)whole * sizeof(float)) : NULL;
    p->alpha = alpha ? malloc((size_t)whole * sizeof(float)) : NULL;
    if ((bias && !p->bias) || (alpha && !p->alpha)) {
        pl__prelu_free(p);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (bias)
        for (int64_t i = 0; i < whole; i++) p->bias[i] = ((const float *)bias->data)[i % channels];
    if (alpha) {
        expand_alpha(rank, dims, alpha, first, p->alpha, alpha_block);
        for (int64_t i = alpha_block; i < whole; i++) p->alpha[i] = p->alpha[i % alpha_block];
    }
    return NULL;
}

void pl__prelu_free(pl__prelu *p) {
    free(p->bias);
    free(p->alpha);
    p->bias = p->alpha = NULL;
}

/* The rows below run on SSE vectors (every x86-64 has them): the compiler
 * at -O2 keeps the select as a branch, which mispredicts on the random signs
 * of activations. The scalar tails compute the same expressions. */
static inline float prelu1(float v, float a) {
    float m = v * a;
    return v > 0 ? v : m;
}

#ifdef __SSE2__
#include <emmintrin.h>

static inline __m128 prelu4(__m128 v, __m128 a) {
    __m128 pos = _mm_cmpgt_ps(v, _mm_setzero_ps());
    return _mm_or_ps(_mm_and_ps(pos, v), _mm_andnot_ps(pos, _mm_mul_ps(v, a)));
}

static int64_t row_bias_prelu_v(float *y, const float *b, const float *a, int64_t n) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4)
        _mm_storeu_ps(y + j, prelu4(_mm_add_ps(_mm_loadu_ps(y + j), _mm_loadu_ps(b + j)), _mm_loadu_ps(a + j)));
    return j;
}

static int64_t row_bias_v(float *y, const float *b, int64_t n) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) _mm_storeu_ps(y + j, _mm_add_ps(_mm_loadu_ps(y + j), _mm_loadu_ps(b + j)));
    return j;
}

static int64_t row_prelu_v(const float *x, float *y, const float *a, int64_t n) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) _mm_storeu_ps(y + j, prelu4(_mm_loadu_ps(x + j), _mm_loadu_ps(a + j)));
    return j;
}
#else
static int64_t row_bias_prelu_v(float *y, const float *b, const float *a, int64_t n) { return (void)y, (void)b, (void)a, (void)n, 0; }
static int64_t row_bias_v(float *y, const float *b, int64_t n) { return (void)y, (void)b, (void)n, 0; }
static int64_t row_prelu_v(const float *x, float *y, const float *a, int64_t n) { return (void)x, (void)y, (void)a, (void)n, 0; }
#endif

static void row_bias_prelu(float *y, const float *b, const float *a, int64_t n) {
    for (int64_t j = row_bias_prelu_v(y, b, a, n); j < n; j++) y[j] = prelu1(y[j] + b[j], a[j]);
}

static void row_bias(float *y, const float *b, int64_t n) {
    for (int64_t j = row_bias_v(y, b, n); j < n; j++) y[j] = y[j] + b[j];
}

/* x may equal y: each element is read before it is written. */
static void row_prelu(const float *x, float *y, const float *a, int64_t n) {
    for (int64_t j = row_prelu_v(x, y, a, n); j < n; j++) y[j] = prelu1(x[j], a[j]);
}

typedef struct job {
    const pl__prelu *p;
    const float *x;
    float *y;
} job;

static int run_rows(const void *ctx, int64_t begin, int64_t end) {
    const job *j = ctx;
    const pl__prelu *p = j->p;
    for (int64_t r = begin; r < end; r++) {
        int64_t off = r * p->period, n = p->count - off < p->period ? p->count - off : p->period;
        float *y = j->y + off;
        if (j->x != j->y && (p->bias || !p->alpha)) memcpy(y, j->x + off, (size_t)n * sizeof *y);
        if (p->bias && p->alpha) row_bias_prelu(y, p->bias, p->alpha, n);
        else if (p->bias) row_bias(y, p->bias, n);
        else if (p->alpha) row_prelu(j->x + off, y, p->alpha, n);
    }
    return 0;
}

void pl__prelu_run(const pl__prelu *p, const float *x, float *y) {
    if (p->count == 0) return;
    int64_t rows = (p->count + p->period - 1) / p->period;
    int64_t grain = PL__PARALLEL_MIN / p->period + 1;
    job j = {p, x, y};
    pl__parallel_for(rows, grain, run_rows, &j);
}
