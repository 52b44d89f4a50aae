/* The machine's single-precision FMA peak, measured: the compute half of the
 * "limit" the benchmarks compare plinth with. */
#ifndef PL_BENCH_FMA_H
#define PL_BENCH_FMA_H

/* FLOP/s of one core running independent FMA chains of the widest vectors the
 * processor has (AVX-512, else AVX2+FMA), over about `seconds`. */
double pl_probe_fma_flops_one_core(double seconds);
/* The same on `threads` cores at once (sum). */
double pl_probe_fma_flops(int threads, double seconds);
/* "avx512" or "avx2". */
const char *pl_probe_isa(void);

#endif
