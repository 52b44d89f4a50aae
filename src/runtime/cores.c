/* How many cores one inference may use.
 *
 * Kernels parallelise inside themselves with OpenMP (oneDNN, large
 * element-wise loops), and two OpenMP teams running at once on the same cores
 * collapse: their threads spin-wait for each other. So an inference takes
 * every core that is free when it starts, and one that starts while all cores
 * are taken runs on a single core (it creates no team, so it disturbs the
 * running team least). Taking and returning cores is one atomic operation: no
 * lock on the request path. */
#include <omp.h>
#include <stdatomic.h>

#include "runtime/internal.h"

static atomic_int free_cores = -1; /* -1 until first use */

static int total_cores(void) {
    static atomic_int total;
    int n = atomic_load_explicit(&total, memory_order_relaxed);
    if (!n) {
        n = omp_get_num_procs();
        if (n < 1) n = 1;
        atomic_store_explicit(&total, n, memory_order_relaxed);
    }
    return n;
}

int pl__cores_acquire(void) {
    int expected = -1;
    atomic_compare_exchange_strong(&free_cores, &expected, total_cores());
    int have = atomic_load(&free_cores);
    while (have > 0 && !atomic_compare_exchange_weak(&free_cores, &have, 0)) {
    }
    int taken = have > 0 ? have : 0;
    omp_set_num_threads(taken > 0 ? taken : 1);
    return taken;
}

void pl__cores_release(int taken) {
    if (taken > 0) atomic_fetch_add(&free_cores, taken);
}
