/* Data-movement kernels (Transpose, ConcatV2, StridedSlice, Slice, Gather,
 * Tile, Pad) against memcpy of the same output bytes in the same run: the
 * ratio says how close each comes to pure copying. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/array_internal.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pl_tensor *tensor(pl_dtype dt, int rank, const int64_t *dims) {
    pl_tensor *t;
    pl_status st = pl_tensor_zeros(dt, rank, dims, &t);
    if (st) {
        fprintf(stderr, "%s\n", pl_status_message(st));
        exit(1);
    }
    if (dt == PL_DT_FLOAT)
        for (int64_t i = 0; i < t->count; i++) ((float *)t->data)[i] = (float)i;
    return t;
}

static pl_tensor *ints(int n, const int64_t *v) {
    int64_t d = n;
    pl_tensor *t = tensor(PL_DT_INT32, 1, &d);
    for (int i = 0; i < n; i++) ((int32_t *)t->data)[i] = (int32_t)v[i];
    return t;
}

typedef struct {
    const char *name;
    pl_status (*fn)(pl_kernel_ctx *c);
    void *state;
    int n_in;
    pl_tensor *in[4];
} bench_case;

/* Seconds per call, over enough calls to take ~0.2 s. */
static double time_kernel(bench_case *b, int64_t *out_bytes) {
    pl_tensor *outs[1] = {NULL};
    pl_kernel_ctx c = {.state = b->state, .node_name = b->name, .num_inputs = b->n_in, .inputs = b->in,
                       .num_outputs = 1, .outputs = outs};
    int reps = 0;
    double t0 = now_s(), t;
    do {
        pl_status st = b->fn(&c);
        if (st) {
            fprintf(stderr, "%s: %s\n", b->name, pl_status_message(st));
            exit(1);
        }
        reps++;
        t = now_s() - t0;
    } while (t < 0.2);
    *out_bytes = (int64_t)pl_tensor_nbytes(outs[0]);
    pl_tensor_unref(outs[0]);
    return t / reps;
}

static double time_memcpy(int64_t bytes) {
    char *a = malloc((size_t)bytes), *b = malloc((size_t)bytes);
    memset(a, 1, (size_t)bytes);
    memset(b, 2, (size_t)bytes);
    int reps = 0;
    double t0 = now_s(), t;
    do {
        memcpy(b, a, (size_t)bytes);
        a[reps % bytes] = b[(reps * 7) % bytes];
        reps++;
        t = now_s() - t0;
    } while (t < 0.2);
    free(a);
    free(b);
    return t / reps;
}

int main(void) {
    pl__arr_state *ss = calloc(1, sizeof *ss); /* StridedSlice with every mask 0 */
    bench_case cases[] = {
        {"Transpose [64,128,128]->(0,2,1)", pl__arr_transpose, NULL, 2,
         {tensor(PL_DT_FLOAT, 3, (int64_t[]){64, 128, 128}), ints(3, (int64_t[]){0, 2, 1})}},
        {"Transpose [1,128,128,32]->NCHW", pl__arr_transpose, NULL, 2,
         {tensor(PL_DT_FLOAT, 4, (int64_t[]){1, 128, 128, 32}), ints(4, (int64_t[]){0, 3, 1, 2})}},
        {"Transpose [1,96,96,3]->(0,2,1,3)", pl__arr_transpose, NULL, 2,
         {tensor(PL_DT_FLOAT, 4, (int64_t[]){1, 96, 96, 3}), ints(4, (int64_t[]){0, 2, 1, 3})}},
        {"ConcatV2 2x[1,64,64,16] axis 3", pl__arr_concat_v2, NULL, 3,
         {tensor(PL_DT_FLOAT, 4, (int64_t[]){1, 64, 64, 16}), tensor(PL_DT_FLOAT, 4, (int64_t[]){1, 64, 64, 16}),
          NULL}},
        {"StridedSlice [256,256,3][::2,::2]", pl__arr_strided_slice, ss, 4,
         {tensor(PL_DT_FLOAT, 3, (int64_t[]){256, 256, 3}), ints(2, (int64_t[]){0, 0}), ints(2, (int64_t[]){256, 256}),
          ints(2, (int64_t[]){2, 2})}},
        {"Slice [512,512][100:400,100:400]", pl__arr_slice, NULL, 3,
         {tensor(PL_DT_FLOAT, 2, (int64_t[]){512, 512}), ints(2, (int64_t[]){100, 100}),
          ints(2, (int64_t[]){300, 300})}},
        {"Gather [10000,64] x 2000 rows", pl__arr_gather, NULL, 2,
         {tensor(PL_DT_FLOAT, 2, (int64_t[]){10000, 64}), NULL}},
        {"Tile [1,256] x [1000,1]", pl__arr_tile, NULL, 2,
         {tensor(PL_DT_FLOAT, 2, (int64_t[]){1, 256}), ints(2, (int64_t[]){1000, 1})}},
        {"Pad [1,128,128,16] by 1 (H,W)", pl__arr_pad, NULL, 2,
         {tensor(PL_DT_FLOAT, 4, (int64_t[]){1, 128, 128, 16}), NULL}},
    };
    int64_t idx[2000];
    for (int i = 0; i < 2000; i++) idx[i] = (i * 7919) % 10000;
    cases[6].in[1] = ints(2000, idx);
    {
        pl_tensor *axis = tensor(PL_DT_INT32, 0, NULL);
        *(int32_t *)axis->data = 3;
        cases[3].in[2] = axis;
    }
    {
        int64_t d[2] = {4, 2};
        pl_tensor *p = tensor(PL_DT_INT32, 2, d);
        int32_t v[8] = {0, 0, 1, 1, 1, 1, 0, 0};
        memcpy(p->data, v, sizeof v);
        cases[8].in[1] = p;
    }
    printf("%-36s %10s %10s %8s\n", "kernel", "us/call", "memcpy us", "ratio");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t bytes;
        double tk = time_kernel(&cases[k], &bytes);
        double tm = time_memcpy(bytes);
        printf("%-36s %10.1f %10.1f %8.2f\n", cases[k].name, tk * 1e6, tm * 1e6, tk / tm);
        for (int i = 0; i < cases[k].n_in; i++) pl_tensor_unref(cases[k].in[i]);
    }
    free(ss);
    return 0;
}
