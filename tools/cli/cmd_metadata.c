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

int pl_cli_metadata(pl_cli *cli, int argc, char **argv) {
    if (argc != 1) {
        fprintf(stderr, "usage: plinth-cli metadata MODEL\n");
        return 2;
    }
    Tensorflow__Serving__GetModelMetadataRequest req = TENSORFLOW__SERVING__GET_MODEL_METADATA_REQUEST__INIT;
    Tensorflow__Serving__ModelSpec spec;
    Google__Protobuf__Int64Value version;
    pl_cli_fill_spec(cli, argv[0], &spec, &version);
    spec.signature_name = NULL;
    char *field = "signature_def";
    req.model_spec = &spec;
    req.n_metadata_field = 1;
    req.metadata_field = &field;

    pl_rpc *rpc;
    pl_status st = pl_cli_connect(cli, &rpc);
    ProtobufCMessage *reply = NULL;
    if (!st)
        st = pl_rpc_call(rpc, "/tensorflow.serving.PredictionService/GetModelMetadata", &req.base,
                         &tensorflow__serving__get_model_metadata_response__descriptor, cli->timeout, &reply);
    if (st) {
        pl_rpc_close(rpc);
        return pl_cli_fail(cli, st);
    }
    Tensorflow__Serving__GetModelMetadataResponse *res = (Tensorflow__Serving__GetModelMetadataResponse *)reply;
    int64_t v = res->model_spec && res->model_spec->version ? res->model_spec->version->value : 0;
    printf("model %s, version %" PRId64 "\n", argv[0], v);
    for (size_t m = 0; m < res->n_metadata; m++) {
        Google__Protobuf__Any *any = res->metadata[m]->value;
        if (strcmp(res->metadata[m]->key, "signature_def") || !any) continue;
        Tensorflow__Serving__SignatureDefMap *map = tensorflow__serving__signature_def_map__unpack(
            NULL, any->value.len, any->value.data);
        if (!map) {
            protobuf_c_message_free_unpacked(reply, NULL);
            pl_rpc_close(rpc);
            return pl_cli_fail(cli, pl_error(PL_DATA_LOSS, "the signature_def metadata does not parse"));
        }
        for (size_t s = 0; s < map->n_signature_def; s++) {
            Tensorflow__SignatureDef *sig = map->signature_def[s]->value;
            printf("\nsignature '%s' (%s)\n", map->signature_def[s]->key, sig->method_name ? sig->method_name : "");
            print_infos("inputs", sig->n_inputs, sig->inputs);
            print_infos("outputs", sig->n_outputs, (Tensorflow__SignatureDef__InputsEntry **)sig->outputs);
        }
        tensorflow__serving__signature_def_map__free_unpacked(map, NULL);
    }
    protobuf_c_message_free_unpacked(reply, NULL);
    pl_rpc_close(rpc);
    return 0;
}
