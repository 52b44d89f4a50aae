/* Shape inference against what TensorFlow reports for the MTCNN frozen graph
 * (tf.import_graph_def, then tensor.shape): inputs input [-1,-1,3],
 * min_size unknown rank, thresholds [3], factor unknown rank; outputs
 * prob [-1], landmarks [-1,10], box unknown rank. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "runtime/internal.h"

static const pl__tensor_type *type_of(const pl_graph *g, pl__tensor_type **types, const char *name) {
    int i = pl_graph_find(g, name);
    CHECK(i >= 0);
    return i >= 0 ? &types[i][0] : NULL;
}

static void check_shape(const pl__tensor_type *t, pl_dtype dtype, int rank, const int64_t *dims, const char *what) {
    if (!t) return;
    CHECK_EQ_INT(t->dtype, dtype);
    CHECK_EQ_INT(t->rank, rank);
    for (int i = 0; i < rank && t->rank == rank; i++) CHECK_EQ_INT(t->dims[i], dims[i]);
    if (t->rank != rank) fprintf(stderr, "  (%s)\n", what);
}

static void test_mtcnn(void) {
    const char *shared = getenv("PLINTH_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/models/mtcnn/1/mtcnn.pb", shared ? shared : "../shared");
    pl_graph *g = NULL;
    CHECK_OK(pl_graph_load_file(path, &g));
    if (!g) return;
    pl__tensor_type **types = NULL;
    CHECK_OK(pl__infer_types(g, &types));
    if (types) {
        check_shape(type_of(g, types, "input"), PL_DT_FLOAT, 3, (int64_t[]){-1, -1, 3}, "input");
        check_shape(type_of(g, types, "min_size"), PL_DT_FLOAT, -1, NULL, "min_size");
        check_shape(type_of(g, types, "thresholds"), PL_DT_FLOAT, 1, (int64_t[]){3}, "thresholds");
        check_shape(type_of(g, types, "factor"), PL_DT_FLOAT, -1, NULL, "factor");
        check_shape(type_of(g, types, "prob"), PL_DT_FLOAT, 1, (int64_t[]){-1}, "prob");
        check_shape(type_of(g, types, "landmarks"), PL_DT_FLOAT, 2, (int64_t[]){-1, 10}, "landmarks");
        check_shape(type_of(g, types, "box"), PL_DT_FLOAT, -1, NULL, "box");
    }
    pl__types_free(types, g);
    pl_graph_free(g);
}

int main(void) {
    RUN_TEST(test_mtcnn);
    return check_summary();
}
