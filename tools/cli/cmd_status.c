/* plinth-cli status MODEL: the versions of a model and their states. */
#include <inttypes.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/spec.h"
#include "tensorflow_serving/apis/get_model_status.pb-c.h"

static const char *state_name(int state) {
    switch (state) {
    case 10: return "START";
    case 20: return "LOADING";
    case 30: return "AVAILABLE";
    case 40: return "UNLOADING";
    case 50: return "END";
    default: return "UNKNOWN";
    }
}

int pl_cli_status(pl_cli *cli, int argc, char **argv) {
    if (argc != 1) {
        fprintf(stderr, "usage: plinth-cli status MODEL\n");
        return 2;
    }
    Tensorflow__Serving__GetModelStatusRequest req = TENSORFLOW__SERVING__GET_MODEL_STATUS_REQUEST__INIT;
    Tensorflow__Serving__ModelSpec spec;
    Google__Protobuf__Int64Value version;
    pl_cli_fill_spec(cli, argv[0], &spec, &version);
    req.model_spec = &spec;

    pl_rpc *rpc;
    pl_status st = pl_cli_connect(cli, &rpc);
    ProtobufCMessage *reply = NULL;
    if (!st)
        st = pl_rpc_call(rpc, "/tensorflow.serving.ModelService/GetModelStatus", &req.base,
                         &tensorflow__serving__get_model_status_response__descriptor, cli->timeout, &reply);
    if (st) {
        pl_rpc_close(rpc);
        return pl_cli_fail(cli, st);
    }
    Tensorflow__Serving__GetModelStatusResponse *res = (Tensorflow__Serving__GetModelStatusResponse *)reply;
    if (cli->json) printf("{\"model\": \"%s\", \"versions\": [", argv[0]);
    else printf("model %s\n", argv[0]);
    for (size_t i = 0; i < res->n_model_version_status; i++) {
        Tensorflow__Serving__ModelVersionStatus *v = res->model_version_status[i];
        const char *err = v->status && v->status->error_message ? v->status->error_message : "";
        if (cli->json)
            printf("%s{\"version\": %" PRId64 ", \"state\": \"%s\"}", i ? ", " : "", v->version, state_name(v->state));
        else
            printf("  version %" PRId64 ": %s%s%s\n", v->version, state_name(v->state), *err ? " - " : "", err);
    }
    if (cli->json) printf("]}\n");
    protobuf_c_message_free_unpacked(reply, NULL);
    pl_rpc_close(rpc);
    return 0;
}
