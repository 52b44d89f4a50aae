/* Heap hygiene for large requests: trimming, huge pages for own mappings. */
#include "base/heap.h"

#include <stdint.h>
#include <sys/mman.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

void pl_heap_advise_huge(void *block, size_t bytes) {
#ifdef MADV_HUGEPAGE
    if (!block || bytes < PL_HEAP_OWN_MAPPING) return;
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t begin = ((uintptr_t)block + huge - 1) & ~(huge - 1), end = ((uintptr_t)block + bytes) & ~(huge - 1);
    if (end > begin) madvise((void *)begin, end - begin, MADV_HUGEPAGE);
#else
    (void)block, (void)bytes;
#endif
}

void pl_heap_trim(void) {
#ifdef __GLIBC__
    /* 0: keep no free slack at the top; free pages inside the arenas go too. */
    malloc_trim(0);
#endif
}
