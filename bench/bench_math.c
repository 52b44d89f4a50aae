/* Element-wise, cast and reduction kernels of the math family against a
 * memcpy of the same number of input bytes in the same run: the ratio says
 * how close each kernel comes to streaming its inputs once. Thread count
 * follows OMP_NUM_THREADS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/math_internal.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pl_tensor *tensor(pl_dtype dt, int rank, const int64_t *dims) {
    pl_tensor *t;
    pl_status st = pl_tensor_zeros(dt, rank, dims, &t);
    if (st) {
        fprintf(stderr, "%s\n", pl_status_message(st));
        exit(1);
    }
    for (int64_t i = 0; i < t->count; i++) {
        if (dt == PL_DT_FLOAT) ((float *)t->data)[i] = (float)(i % 1000) * 0.01f - 5.0f;
        else if (dt == PL_DT_UINT8 || dt == PL_DT_BOOL) ((uint8_t *)t->data)[i] = (uint8_t)(i % (dt == PL_DT_BOOL ? 2 : 251));
    }
    return t;
}

typedef enum { K_BINARY, K_UNARY, K_CAST, K_REDUCE, K_SELECT } kind;

typedef struct {
    const char *name;
    kind k;
    int op;
    pl_tensor *in[3];
} bench_case;

static pl_status run_case(const bench_case *b, pl_tensor **out) {
    switch (b->k) {
    case K_BINARY: return pl__math_binary((pl__binop)b->op, b->in[0], b->in[1], true, out);
    case K_UNARY: return pl__math_unary((pl__unop)b->op, b->in[0], 0.2f, out);
    case K_CAST: return pl__math_cast(b->in[0], (pl_dtype)b->op, false, out);
    case K_REDUCE: return pl__math_reduce((pl__redop)b->op, b->in[0], b->in[1], false, out);
    default: return pl__math_select_v2(b->in[0], b->in[1], b->in[2], out);
    }
}

/* Seconds per call, over enough calls to take ~0.2 s. */
static double time_case(const bench_case *b) {
    int reps = 0;
    double t0 = now_s(), t;
    do {
        pl_tensor *out;
        pl_status st = run_case(b, &out);
        if (st) {
            fprintf(stderr, "%s: %s\n", b->name, pl_status_message(st));
            exit(1);
        }
        pl_tensor_unref(out);
        reps++;
        t = now_s() - t0;
    } while (t < 0.2);
    return t / reps;
}

static double time_memcpy(size_t bytes) {
    char *a = malloc(bytes), *b = malloc(bytes);
    if (!a || !b) exit(1);
    memset(a, 1, bytes);
    memset(b, 2, bytes);
    int reps = 0;
    double t0 = now_s(), t;
    do {
        memcpy(b, a, bytes);
        a[reps % bytes] = (char)reps;
        reps++;
        t = now_s() - t0;
    } while (t < 0.2);
    free(a);
    free(b);
    return t / reps;
}

int main(void) {
    int64_t n1[1] = {1 << 22}, nhwc[4] = {1, 256, 256, 64}, c64[1] = {64}, mat[2] = {2048, 2048};
    pl_tensor *a = tensor(PL_DT_FLOAT, 1, n1), *b = tensor(PL_DT_FLOAT, 1, n1);
    pl_tensor *img = tensor(PL_DT_FLOAT, 4, nhwc), *bias = tensor(PL_DT_FLOAT, 1, c64);
    pl_tensor *m = tensor(PL_DT_FLOAT, 2, mat), *u8 = tensor(PL_DT_UINT8, 1, n1), *cond = tensor(PL_DT_BOOL, 1, n1);
    pl_tensor *scalar, *ax0, *ax1;
    if (pl_tensor_scalar(PL_DT_FLOAT, 0.5, &scalar) || pl_tensor_scalar(PL_DT_INT32, 0, &ax0) ||
        pl_tensor_scalar(PL_DT_INT32, 1, &ax1))
        return 1;
    bench_case cases[] = {
        {"Add f32 [4M]+[4M]", K_BINARY, PL__ADD, {a, b}},
        {"Mul f32 [4M]*scalar", K_BINARY, PL__MUL, {a, scalar}},
        {"Add f32 [1,256,256,64]+[64]", K_BINARY, PL__ADD, {img, bias}},
        {"Maximum f32 [4M],[4M]", K_BINARY, PL__MAXIMUM, {a, b}},
        {"Greater f32 [4M],[4M]", K_BINARY, PL__GREATER, {a, b}},
        {"Relu f32 [4M]", K_UNARY, PL__RELU, {a}},
        {"Sigmoid f32 [4M]", K_UNARY, PL__SIGMOID, {a}},
        {"Cast u8->f32 [4M]", K_CAST, PL_DT_FLOAT, {u8}},
        {"Cast f32->i32 [4M]", K_CAST, PL_DT_INT32, {a}},
        {"Sum f32 [2048,2048] axis 1", K_REDUCE, PL__SUM, {m, ax1}},
        {"Sum f32 [2048,2048] axis 0", K_REDUCE, PL__SUM, {m, ax0}},
        {"Max f32 [2048,2048] axis 1", K_REDUCE, PL__MAX, {m, ax1}},
        {"SelectV2 f32 [4M]", K_SELECT, 0, {cond, a, b}},
    };
    printf("%-32s %10s %10s %8s\n", "kernel", "ms", "memcpy ms", "ratio");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bench_case *c = &cases[i];
        size_t bytes = 0;
        for (int k = 0; k < 3 && c->in[k]; k++) bytes += pl_tensor_nbytes(c->in[k]);
        double tk = time_case(c), tm = time_memcpy(bytes);
        printf("%-32s %10.3f %10.3f %8.2f\n", c->name, tk * 1e3, tm * 1e3, tk / tm);
    }
    pl_tensor *all[] = {a, b, img, bias, m, u8, cond, scalar, ax0, ax1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) pl_tensor_unref(all[i]);
    return 0;
}
