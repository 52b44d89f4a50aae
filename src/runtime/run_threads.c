/* How many cores one run may use. An inference either owns every core or
 * runs on one (DESIGN.md): oneDNN's parallel loops end in barriers, so a team
 * of threads is only as fast as its slowest member, and when the machine has
 * more runnable threads than cores (another request in flight here, or other
 * processes busy) each barrier waits for a thread the scheduler parked —
 * measured 5-7x slower than one thread on a loaded 2-core machine. */
#include <fcntl.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/internal.h"

static atomic_int runs_in_flight;

/* /proc/loadavg, opened once: a pread at offset 0 gives a fresh reading
 * (1 us here) where opening the file each time cost 6 us per run. */
static int loadavg_fd = -1;
static pthread_once_t loadavg_once = PTHREAD_ONCE_INIT;

static void open_loadavg(void) { loadavg_fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC); }

/* Runnable threads on the machine right now (the 4th field of
 * /proc/loadavg, "running/total"), counting the caller; -1 when unknown. */
static int read_runnable(void) {
    pthread_once(&loadavg_once, open_loadavg);
    if (loadavg_fd < 0) return -1;
    char buf[128];
    ssize_t n = pread(loadavg_fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return -1;
    buf[n] = 0;
    const char *p = buf;
    for (int field = 0; field < 3; field++) {
        p = strchr(p, ' ');
        if (!p) return -1;
        p++;
    }
    char *end;
    long running = strtol(p, &end, 10);
    return end != p && *end == '/' && running >= 0 && running < INT32_MAX ? (int)running : -1;
}

/* The same, read at most once per tick of the coarse clock (4 ms): the
 * kernel formats the whole file for every read, which was 4% of the server's
 * CPU at 70k small requests a second, and the load does not change faster
 * than a tick's worth in any way that matters here. */
static int runnable_now(void) {
    static _Atomic int64_t read_at = -1;
    static atomic_int last = -1;
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0) return read_runnable();
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (atomic_load_explicit(&read_at, memory_order_acquire) == now) return atomic_load_explicit(&last, memory_order_relaxed);
    int n = read_runnable();
    atomic_store_explicit(&last, n, memory_order_relaxed);
    atomic_store_explicit(&read_at, now, memory_order_release);
    return n;
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

/* The contention watch. A team thread that the scheduler parks holds up
 * every barrier, so a team run on cores other processes want is several
 * times slower than one thread (measured: a 2-thread MTCNN run took 1.2-1.5 s
 * against 20 ms alone, while another process's burst held the cores). The
 * sign is the run's own thread waiting for a core: the kernel counts that
 * time (run_delay, /proc/thread-self/schedstat), and it is zero on a quiet
 * machine whatever the run does (sleeping in a page fault or at a barrier is
 * not waiting for a core). Looked at every CHECK_EVERY_NS of a run, from the
 * first such mark on: shorter runs pay a clock read per kernel and nothing else. */
enum { CHECK_EVERY_NS = 4 * 1000 * 1000 };
#define STARVED_FROM 0.33          /* share of wall time spent waiting for a core */
#define SINGLE_FOR_NS ((int64_t)250 * 1000 * 1000)

/* Until when runs use one thread (CLOCK_MONOTONIC ns): then a team run tries again. */
static _Atomic int64_t single_until_ns;

static int64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Nanoseconds the calling thread has waited on a run queue; -1 when unknown
 * (a kernel without scheduler statistics: the watch is then off). */
static int64_t waited_ns(void) {
    int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[96];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p, *end;
    strtoll(buf, &p, 10);              /* time on a core */
    long long waited = strtoll(p, &end, 10);
    return end != p && waited >= 0 ? (int64_t)waited : -1;
}

void pl__run_threads_begin(pl__run_threads *t) {
    int before = omp_get_max_threads();
    int others = atomic_fetch_add(&runs_in_flight, 1);
    *t = (pl__run_threads){.before = before, .team = before, .waited_since_ns = -1};
    if (before <= 1) return;
    int64_t now = monotonic_ns();
    bool single = others > 0 || now < atomic_load_explicit(&single_until_ns, memory_order_relaxed);
    if (!single) {
        int runnable = runnable_now();
        /* Our own team's workers may still be spinning from the last run and
         * count as runnable: only threads beyond them are other load. */
        single = runnable > online_cpus() + before - 1;
    }
    if (single) {
        omp_set_num_threads(1);
        t->team = 1;
        return;
    }
    t->next_check_ns = now + CHECK_EVERY_NS;
}

void pl__run_threads_check(pl__run_threads *t) {
    if (t->team <= 1) return;
    int64_t now = monotonic_ns();
    if (now < t->next_check_ns) return;
    int64_t waited = waited_ns();
    if (waited < 0) {
        t->next_check_ns = INT64_MAX;
        return;
    }
    t->next_check_ns = now + CHECK_EVERY_NS;
    bool starved = t->waited_since_ns >= 0 &&
                   (double)(waited - t->waited_since_ns) >= STARVED_FROM * (double)(now - t->since_ns);
    t->since_ns = now;
    t->waited_since_ns = waited;
    if (starved) {
        omp_set_num_threads(1);
        t->team = 1;
        atomic_store_explicit(&single_until_ns, now + SINGLE_FOR_NS, memory_order_relaxed);
    }
}

void pl__run_threads_end(const pl__run_threads *t) {
    omp_set_num_threads(t->before);
    atomic_fetch_sub(&runs_in_flight, 1);
}
