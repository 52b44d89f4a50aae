/* Chooses the FMA loop at run time from what the processor supports, times it,
 * and runs it on several threads at once for the all-core figure. */
#include "probe/fma.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

double pl__fma_avx512(int64_t iters);
double pl__fma_avx2(int64_t iters);

static volatile double sink;

static int has_avx512(void) { return __builtin_cpu_supports("avx512f"); }

const char *pl_probe_isa(void) { return has_avx512() ? "avx512" : "avx2"; }

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double run(int64_t iters) {
    double t0 = now();
    sink = has_avx512() ? pl__fma_avx512(iters) : pl__fma_avx2(iters);
    double flops_per_iter = 12.0 * (has_avx512() ? 16 : 8) * 2;
    return (double)iters * flops_per_iter / (now() - t0);
}

double pl_probe_fma_flops_one_core(double seconds) {
    int64_t iters = 1 << 16;
    double t0 = now();
    run(iters); /* warm up the clock */
    while (now() - t0 < seconds / 4) iters *= 2, run(iters);
    double best = 0;
    for (int i = 0; i < 3; i++) {
        double f = run(iters);
        if (f > best) best = f;
    }
    return best;
}

struct job {
    double seconds, flops;
};

static void *worker(void *arg) {
    struct job *j = arg;
    j->flops = pl_probe_fma_flops_one_core(j->seconds);
    return NULL;
}

double pl_probe_fma_flops(int threads, double seconds) {
    pthread_t t[64];
    struct job jobs[64];
    if (threads > 64) threads = 64;
    for (int i = 0; i < threads; i++) {
        jobs[i].seconds = seconds;
        pthread_create(&t[i], NULL, worker, &jobs[i]);
    }
    double sum = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        sum += jobs[i].flops;
    }
    return sum;
}
