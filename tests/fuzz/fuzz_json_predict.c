/* Fuzz target: the REST predict and classify/regress JSON decoders, with the
 * decoded tensors encoded back as a response in both formats. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"

static const pl_tensor_info inputs[] = {
    {.alias = "a", .tensor_name = "a:0", .dtype = PL_DT_FLOAT, .rank = -1},
    {.alias = "b", .tensor_name = "b:0", .dtype = PL_DT_STRING, .rank = -1},
    {.alias = "c", .tensor_name = "c:0", .dtype = PL_DT_INT64, .rank = -1},
    {.alias = "d", .tensor_name = "d:0", .dtype = PL_DT_BOOL, .rank = -1},
};

static pl_status lookup(void *ctx, const char *name, const pl_tensor_info **in, int *n) {
    (void)ctx;
    if (*name && strcmp(name, "serving_default")) return pl_error(PL_INVALID_ARGUMENT, "no signature %s", name);
    *in = inputs;
    *n = (int)(sizeof inputs / sizeof *inputs);
    return NULL;
}

/* The decoders' contract: the body is followed by a NUL byte, as the REST layer stores it. */
int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size) {
    char *data = malloc(size + 1);
    if (!data) return 0;
    memcpy(data, bytes, size);
    data[size] = 0;
    pl_json_predict req;
    pl_status st = pl_json_decode_predict(data, size, lookup, NULL, &req);
    if (st) {
        pl_status_free(st);
    } else {
        for (int f = PL_JSON_FORMAT_ROW; f <= PL_JSON_FORMAT_COLUMNAR; f++) {
            pl_strbuf out;
            pl_strbuf_init(&out, 0);
            st = pl_json_encode_predict((pl_json_format)f, req.num_inputs, (const char *const *)req.aliases,
                                        req.tensors, &out);
            if (st) pl_status_free(st);
            pl_strbuf_deinit(&out);
        }
        pl_json_predict_deinit(&req);
    }
    pl_json_examples ex;
    st = pl_json_decode_examples(data, size, &ex);
    if (st) pl_status_free(st);
    else pl_json_examples_deinit(&ex);
    free(data);
    return 0;
}
