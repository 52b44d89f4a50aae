/* The op registry: one table per kernel family, looked up by op name when a
 * graph is prepared (never while it runs). */
#include <stdlib.h>
#include <string.h>

#include "ops/kernel.h"
#include "ops/families.h"

static const pl_kernel_def *const families[] = {
#define PL__FAMILY_ENTRY(name) pl_kernels_##name,
    PL_KERNEL_FAMILIES(PL__FAMILY_ENTRY)
#undef PL__FAMILY_ENTRY
};

const pl_kernel_def *pl_kernel_find(const char *op) {
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const pl_kernel_def *d = families[f]; d->op; d++)
            if (!strcmp(d->op, op)) return d;
    return NULL;
}

void pl_kernel_foreach(void (*fn)(const pl_kernel_def *def, void *arg), void *arg) {
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const pl_kernel_def *d = families[f]; d->op; d++) fn(d, arg);
}
