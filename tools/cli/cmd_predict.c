/* plinth-cli predict MODEL --input NAME=VALUE...: runs a signature with inputs
 * from .npy files, pictures or JSON, and prints the outputs as TensorFlow
 * Serving's REST API would (columnar JSON), or saves them as .npy files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "cli/cli.h"
#include "cli/image.h"
#include "cli/spec.h"
#include "tensor/npy.h"
#include "tensor/tensor_proto.h"
#include "tensorflow_serving/apis/predict.pb-c.h"

#define MAX_INPUTS 64

typedef struct named {
    char *name;
    const char *value;
} named;

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcasecmp(s + a - b, suffix);
}

/* The signature's inputs as pl_tensor_info, sorted by alias, for the JSON decoder. */
typedef struct sig_inputs {
    int n;
    pl_tensor_info *infos;
} sig_inputs;

static pl_status lookup_inputs(void *ctx, const char *signature_name, const pl_tensor_info **inputs, int *n) {
    (void)signature_name;
    const sig_inputs *s = ctx;
    *inputs = s->infos;
    *n = s->n;
    return NULL;
}

static pl_status find_signature(const Tensorflow__Serving__SignatureDefMap *map, const char *key,
                                const Tensorflow__SignatureDef **out) {
    for (size_t i = 0; i < map->n_signature_def; i++)
        if (!strcmp(map->signature_def[i]->key, key)) {
            *out = map->signature_def[i]->value;
            return NULL;
        }
    return pl_error(PL_NOT_FOUND, "the model has no signature '%s'", key);
}

/* A JSON value for one input goes through the same decoder the REST API uses,
 * as the columnar body {"inputs": {NAME: VALUE}}, so dtypes come from the signature. */
static pl_status json_input(const Tensorflow__SignatureDef *sig, const char *name, const char *json, pl_tensor **out) {
    const Tensorflow__TensorInfo *info = NULL;
    for (size_t i = 0; i < sig->n_inputs; i++)
        if (!strcmp(sig->inputs[i]->key, name)) info = sig->inputs[i]->value;
    if (!info) return pl_error(PL_INVALID_ARGUMENT, "the signature has no input '%s'", name);
    pl_tensor_info ti = {.alias = (char *)name, .tensor_name = info->name, .dtype = (pl_dtype)info->dtype, .rank = -1};
    sig_inputs ctx = {1, &ti};
    pl_strbuf body;
    pl_strbuf_init(&body, 0);
    pl_strbuf_printf(&body, "{\"inputs\": {\"%s\": %s}}", name, json);
    size_t len;
    char *text = pl_strbuf_detach(&body, &len);
    if (!text) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_json_predict req;
    pl_status st = pl_json_decode_predict(text, len, lookup_inputs, &ctx, &req);
    free(text);
    if (st) return pl_status_prefix(st, "input '%s': ", name);
    *out = pl_tensor_ref(req.tensors[0]);
    pl_json_predict_deinit(&req);
    return NULL;
}

static pl_status read_input(const Tensorflow__SignatureDef *sig, const named *in, pl_tensor **out) {
    if (ends_with(in->value, ".npy")) return pl_npy_read_file(in->value, out);
    if (ends_with(in->value, ".jpg") || ends_with(in->value, ".jpeg") || ends_with(in->value, ".png")) {
        pl_image img;
        PL_TRY(pl_image_read(in->value, &img));
        pl_status st = pl_image_to_tensor(&img, out);
        pl_image_free(&img);
        return st;
    }
    return json_input(sig, in->name, in->value, out);
}

static int usage(void) {
    fprintf(stderr, "usage: plinth-cli predict MODEL --input NAME=VALUE [--input ...] [--output NAME]... [--save DIR]\n"
                    "  VALUE: a .npy file, a .jpg/.png picture (float BGR, like cv2.imread), or JSON (e.g. [[1.0, 2.0]])\n");
    return 2;
}

int pl_cli_predict(pl_cli *cli, int argc, char **argv) {
    const char *model = NULL, *save_dir = NULL;
    named inputs[MAX_INPUTS];
    char *filters[MAX_INPUTS];
    int n_inputs = 0, n_filters = 0;
    for (int i = 0; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--input") && next && n_inputs < MAX_INPUTS) {
            char *eq = strchr(argv[++i], '=');
            if (!eq) return usage();
            *eq = '\0';
            inputs[n_inputs++] = (named){argv[i], eq + 1};
        } else if (!strcmp(argv[i], "--output") && next && n_filters < MAX_INPUTS) {
            filters[n_filters++] = argv[++i];
        } else if (!strcmp(argv[i], "--save") && next) {
            save_dir = argv[++i];
        } else if (argv[i][0] != '-' && !model) {
            model = argv[i];
        } else {
            return usage();
        }
    }
    if (!model) return usage();

    pl_rpc *rpc;
    Tensorflow__Serving__SignatureDefMap *map = NULL;
    const Tensorflow__SignatureDef *sig = NULL;
    int64_t version;
    pl_tensor *tensors[MAX_INPUTS] = {0};
    Tensorflow__TensorProto *protos[MAX_INPUTS] = {0};
    Tensorflow__Serving__PredictRequest__InputsEntry entries[MAX_INPUTS], *entry_ptrs[MAX_INPUTS];
    ProtobufCMessage *reply = NULL;
    pl_status st = pl_cli_connect(cli, &rpc);
    if (!st) st = pl_cli_get_signatures(cli, rpc, model, &map, &version);
    if (!st) st = find_signature(map, cli->signature ? cli->signature : "serving_default", &sig);
    for (int i = 0; i < n_inputs && !st; i++) {
        st = read_input(sig, &inputs[i], &tensors[i]);
        if (!st) st = pl_tensor_to_proto(tensors[i], true, NULL, &protos[i]);
        tensorflow__serving__predict_request__inputs_entry__init(&entries[i]);
        entries[i].key = inputs[i].name;
        entries[i].value = protos[i];
        entry_ptrs[i] = &entries[i];
    }
    if (!st) {
        Tensorflow__Serving__PredictRequest req = TENSORFLOW__SERVING__PREDICT_REQUEST__INIT;
        Tensorflow__Serving__ModelSpec spec;
        Google__Protobuf__Int64Value version_value;
        pl_cli_fill_spec(cli, model, &spec, &version_value);
        req.model_spec = &spec;
        req.n_inputs = (size_t)n_inputs;
        req.inputs = entry_ptrs;
        req.n_output_filter = (size_t)n_filters;
        req.output_filter = filters;
        st = pl_rpc_call(rpc, "/tensorflow.serving.PredictionService/Predict", &req.base,
                         &tensorflow__serving__predict_response__descriptor, cli->timeout, &reply);
    }
    if (!st) {
        Tensorflow__Serving__PredictResponse *res = (Tensorflow__Serving__PredictResponse *)reply;
        size_t n = res->n_outputs;
        pl_tensor **outs = calloc(n + 1, sizeof *outs);
        const char **names = calloc(n + 1, sizeof *names);
        if (!outs || !names) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        for (size_t i = 0; i < n && !st; i++) {
            names[i] = res->outputs[i]->key;
            st = pl_tensor_from_proto(res->outputs[i]->value, &outs[i]);
        }
        for (size_t i = 0; i < n && !st && save_dir; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.npy", save_dir, names[i]);
            st = pl_npy_write_file(path, outs[i]);
            if (!st) printf("wrote %s\n", path);
        }
        if (!st && !save_dir) {
            pl_strbuf out;
            pl_strbuf_init(&out, 0);
            st = pl_json_encode_predict(PL_JSON_FORMAT_COLUMNAR, (int)n, names, outs, &out);
            if (!st) printf("%s\n", out.data);
            free(pl_strbuf_detach(&out, NULL));
        }
        for (size_t i = 0; i < n; i++) pl_tensor_unref(outs[i]);
        free(outs);
        free(names);
    }
    for (int i = 0; i < n_inputs; i++) {
        pl_tensor_unref(tensors[i]);
        if (protos[i]) protobuf_c_message_free_unpacked(&protos[i]->base, NULL);
    }
    if (reply) protobuf_c_message_free_unpacked(reply, NULL);
    if (map) tensorflow__serving__signature_def_map__free_unpacked(map, NULL);
    pl_rpc_close(rpc);
    return st ? pl_cli_fail(cli, st) : 0;
}
