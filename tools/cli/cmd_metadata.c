/* plinth-cli metadata MODEL: the model's signatures as a table, in the spirit
 * of `saved_model_cli show`. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/spec.h"
#include "tensor/tensor.h"
#include "tensorflow_serving/apis/get_model_metadata.pb-c.h"

static int by_key(const void *a, const void *b) {
    const Tensorflow__SignatureDef__InputsEntry *const *x = a, *const *y = b;
    return strcmp((*x)->key, (*y)->key);
}

static void shape_text(const Tensorflow__TensorShapeProto *shape, char *buf, size_t size) {
    if (!shape || shape->unknown_rank) {
        snprintf(buf, size, "unknown rank");
        return;
    }
    size_t n = (size_t)snprintf(buf, size, "(");
    for (size_t i = 0; i < shape->n_dim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%" PRId64, i ? ", " : "", shape->dim[i]->size);
    if (n < size) snprintf(buf + n, size - n, shape->n_dim == 1 ? ",)" : ")");
}

/* Inputs and outputs entries share one layout (key, TensorInfo value). */
static void print_infos(const char *title, size_t n, Tensorflow__SignatureDef__InputsEntry **entries) {
    printf("  %s:\n", title);
    Tensorflow__SignatureDef__InputsEntry **sorted = malloc(n * sizeof *sorted + 1);
    if (!sorted) return;
    memcpy(sorted, entries, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_key);
    for (size_t i = 0; i < n; i++) {
        Tensorflow__TensorInfo *info = sorted[i]->value;
        char shape[160];
        shape_text(info ? info->tensor_shape : NULL, shape, sizeof shape);
        printf("    %-14s %-10s %-18s %s\n", sorted[i]->key, pl_dtype_name((pl_dtype)(info ? info->dtype : 0)),
               shape, info && info->name ? info->name : "");
    }
    if (!n) printf("    (none)\n");
    free(sorted);
}

pl_status pl_cli_get_signatures(const pl_cli *cli, pl_rpc *rpc, const char *model,
                                Tensorflow__Serving__SignatureDefMap **out, int64_t *version) {
    Tensorflow__Serving__GetModelMetadataRequest req = TENSORFLOW__SERVING__GET_MODEL_METADATA_REQUEST__INIT;
    Tensorflow__Serving__ModelSpec spec;
    Google__Protobuf__Int64Value version_value;
    pl_cli_fill_spec(cli, model, &spec, &version_value);
    spec.signature_name = NULL;
    char *field = "signature_def";
    req.model_spec = &spec;
    req.n_metadata_field = 1;
    req.metadata_field = &field;
    ProtobufCMessage *reply = NULL;
    PL_TRY(pl_rpc_call(rpc, "/tensorflow.serving.PredictionService/GetModelMetadata", &req.base,
                       &tensorflow__serving__get_model_metadata_response__descriptor, cli->timeout, &reply));
    Tensorflow__Serving__GetModelMetadataResponse *res = (Tensorflow__Serving__GetModelMetadataResponse *)reply;
    *version = res->model_spec && res->model_spec->version ? res->model_spec->version->value : 0;
    *out = NULL;
    for (size_t m = 0; m < res->n_metadata && !*out; m++) {
        Google__Protobuf__Any *any = res->metadata[m]->value;
        if (!strcmp(res->metadata[m]->key, "signature_def") && any)
            *out = tensorflow__serving__signature_def_map__unpack(NULL, any->value.len, any->value.data);
    }
    protobuf_c_message_free_unpacked(reply, NULL);
    return *out ? NULL : pl_error(PL_DATA_LOSS, "the server's signature_def metadata is missing or does not parse");
}

int pl_cli_metadata(pl_cli *cli, int argc, char **argv) {
    if (argc != 1) {
        fprintf(stderr, "usage: plinth-cli metadata MODEL\n");
        return 2;
    }
    pl_rpc *rpc;
    Tensorflow__Serving__SignatureDefMap *map = NULL;
    int64_t version = 0;
    pl_status st = pl_cli_connect(cli, &rpc);
    if (!st) st = pl_cli_get_signatures(cli, rpc, argv[0], &map, &version);
    pl_rpc_close(rpc);
    if (st) return pl_cli_fail(cli, st);
    printf("model %s, version %" PRId64 "\n", argv[0], version);
    for (size_t s = 0; s < map->n_signature_def; s++) {
        Tensorflow__SignatureDef *sig = map->signature_def[s]->value;
        printf("\nsignature '%s' (%s)\n", map->signature_def[s]->key, sig->method_name ? sig->method_name : "");
        print_infos("inputs", sig->n_inputs, sig->inputs);
        print_infos("outputs", sig->n_outputs, (Tensorflow__SignatureDef__InputsEntry **)sig->outputs);
    }
    tensorflow__serving__signature_def_map__free_unpacked(map, NULL);
    return 0;
}
