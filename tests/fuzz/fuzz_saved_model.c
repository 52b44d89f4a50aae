/* Fuzz target: a hostile saved_model.pb (MetaGraphDefs, tags, signatures,
 * collections, function library, asset and init-op wiring) loaded from a
 * SavedModel directory that has no variables, then each signature run once
 * with small feeds, as fuzz_model_load does for frozen graphs. Seeds: the
 * saved_model.pb files of ../shared/models and ../shared/zoo. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_model_run.h"

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/plinth-fuzz-XXXXXX");
        if (!mkdtemp(dir)) abort();
    }
    char path[96];
    snprintf(path, sizeof path, "%s/saved_model.pb", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t wrote = size ? fwrite(data, 1, size, f) : 0;
    if (fclose(f) != 0 || wrote != size) return 0;
    fuzz_load_and_run(dir);
    return 0;
}
