/* Prints this machine's FMA peak (GFLOP/s) on one core and on all cores. */
#include <stdio.h>
#include <unistd.h>

#include "probe/fma.h"

int main(void) {
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    double one = pl_probe_fma_flops_one_core(0.5), all = pl_probe_fma_flops(cores, 0.5);
    printf("fma peak (%s): %.1f GFLOP/s on one core, %.1f GFLOP/s on %d cores\n", pl_probe_isa(), one / 1e9, all / 1e9,
           cores);
    return 0;
}
