/* Text for messages: sorted name sets and the debug rendering of signatures
 * and dtypes that TensorFlow Serving's errors quote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/internal.h"
#include "base/sort.h"

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void pl__strbuf_sorted_set(pl_strbuf *b, const char *const *names, int n) {
    if (n <= 0) return;
    const char **sorted = malloc(sizeof *sorted * (size_t)n);
    if (!sorted) {
        /* Unsorted beats nothing in an error message. */
        for (int i = 0; i < n; i++) {
            if (i > 0) pl_strbuf_putc(b, ',');
            pl_strbuf_puts(b, names[i]);
        }
        return;
    }
    memcpy(sorted, names, sizeof *sorted * (size_t)n);
    pl_qsort(sorted, (size_t)n, sizeof *sorted, cmp_cstr);
    for (int i = 0; i < n; i++) {
        if (i > 0 && !strcmp(sorted[i], sorted[i - 1])) continue;
        if (i > 0) pl_strbuf_putc(b, ',');
        pl_strbuf_puts(b, sorted[i]);
    }
    free(sorted);
}

static void add_tensor_info(pl_strbuf *b, const char *field, const pl_tensor_info *t) {
    pl_strbuf_printf(b, "%s {\n  key: \"%s\"\n  value {\n    name: \"%s\"\n    dtype: %s\n    tensor_shape {\n", field,
                t->alias, t->tensor_name, pl_dtype_name(t->dtype));
    if (t->rank < 0) {
        pl_strbuf_puts(b, "      unknown_rank: true\n");
    } else {
        for (int i = 0; i < t->rank; i++) pl_strbuf_printf(b, "      dim {\n        size: %lld\n      }\n", (long long)t->dims[i]);
    }
    pl_strbuf_puts(b, "    }\n  }\n}\n");
}

void pl__strbuf_signature(pl_strbuf *b, const pl_signature *sig) {
    for (int i = 0; i < sig->num_inputs; i++) add_tensor_info(b, "inputs", &sig->inputs[i]);
    for (int i = 0; i < sig->num_outputs; i++) add_tensor_info(b, "outputs", &sig->outputs[i]);
    pl_strbuf_printf(b, "method_name: \"%s\"\n", sig->method_name ? sig->method_name : "");
}
