/* Sorting that accepts empty arrays: qsort's array argument must not be NULL
 * even when there is nothing to sort, and an empty list is often NULL here. */
#ifndef PL_BASE_SORT_H
#define PL_BASE_SORT_H

#include <stdlib.h>

static inline void pl_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
    if (n > 1) qsort(base, n, size, cmp);
}

#endif
