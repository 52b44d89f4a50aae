/* How many cores one run may use. An inference either owns every core or
 * runs on one (DESIGN.md): oneDNN's parallel loops end in barriers, so a team
 * of threads is only as fast as its slowest member, and when the machine has
 * more runnable threads than cores (another request in flight here, or other
 * processes busy) each barrier waits for a thread the scheduler parked —
 * measured 5-7x slower than one thread on a loaded 2-core machine. */
#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/internal.h"

static atomic_int runs_in_flight;

/* Runnable threads on the machine right now (the 4th field of
 * /proc/loadavg, "running/total"), counting the caller; -1 when unknown. */
static int runnable_now(void) {
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f) return -1;
    double a, b, c;
    int running = -1, total;
    if (fscanf(f, "%lf %lf %lf %d/%d", &a, &b, &c, &running, &total) != 5) running = -1;
    fclose(f);
    return running;
}

/* The online CPUs, read once: glibc's sysconf reads a sysfs file on every
 * call, which costs as much as a small model's whole run. */
static int online_cpus(void) {
    static atomic_int cached;
    int n = atomic_load_explicit(&cached, memory_order_relaxed);
    if (n <= 0) {
        long v = sysconf(_SC_NPROCESSORS_ONLN);
        n = v > 0 ? (int)v : 1;
        atomic_store_explicit(&cached, n, memory_order_relaxed);
    }
    return n;
}

int pl__run_threads_begin(void) {
    int before = omp_get_max_threads();
    int others = atomic_fetch_add(&runs_in_flight, 1);
    if (before <= 1) return before;
    int runnable = others == 0 ? runnable_now() : -1;
    /* Our own team's workers may still be spinning from the last run and
     * count as runnable: only threads beyond them are other load. */
    if (others > 0 || runnable > online_cpus() + before - 1) omp_set_num_threads(1);
    return before;
}

void pl__run_threads_end(int before) {
    omp_set_num_threads(before);
    atomic_fetch_sub(&runs_in_flight, 1);
}
