/* Fuzz target: binary GraphDef parse and import (names, inputs, attrs,
 * function library). Import must reject what it cannot hold, never crash. */
#include <stddef.h>
#include <stdint.h>

#include "runtime/graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pl_graph *g = NULL;
    pl_status st = pl_graph_parse(data, size, &g);
    if (st) pl_status_free(st);
    pl_graph_free(g);
    return 0;
}
