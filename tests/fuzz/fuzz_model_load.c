/* Fuzz target: a hostile frozen GraphDef served as a model. The bytes are
 * loaded as a .pb file would be (parse, import, shape inference, constant
 * folding, rewrites, kernel preparation), then every signature is run once
 * (fuzz_model_run.h).
 *
 * Seeds: the GraphDefs the op tests run, written out by
 * PLINTH_GRAPH_CORPUS=DIR when those tests run (tests/integration/graphlib.py). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_model_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The loader takes a path; a memfd is a regular file with no disk behind it. */
    int fd = memfd_create("graph.pb", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    fuzz_load_and_run(path);
    close(fd);
    return 0;
}
