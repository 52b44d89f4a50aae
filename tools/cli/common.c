/* Connection setup, model specs and error reporting shared by the commands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/spec.h"

pl_status pl_cli_connect(const pl_cli *cli, pl_rpc **out) { return pl_rpc_connect(cli->server, out); }

void pl_cli_fill_spec(const pl_cli *cli, const char *model, Tensorflow__Serving__ModelSpec *spec,
                      Google__Protobuf__Int64Value *version) {
    tensorflow__serving__model_spec__init(spec);
    spec->name = (char *)model;
    if (cli->signature) spec->signature_name = (char *)cli->signature;
    if (cli->label) {
        spec->version_choice_case = TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION_LABEL;
        spec->version_label = (char *)cli->label;
    } else if (cli->version > 0) {
        google__protobuf__int64_value__init(version);
        version->value = cli->version;
        spec->version_choice_case = TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION;
        spec->version = version;
    }
}

int pl_cli_fail(const pl_cli *cli, pl_status st) {
    pl_code code = pl_status_code(st);
    const char *msg = pl_status_message(st);
    if (code == PL_UNAVAILABLE)
        fprintf(stderr, "plinth-cli: cannot reach a server at %s (is plinth running?)\n", cli->server);
    else if (code == PL_DEADLINE_EXCEEDED)
        fprintf(stderr, "plinth-cli: no answer from %s within %g s\n", cli->server, cli->timeout);
    else
        fprintf(stderr, "plinth-cli: %s\n", msg);
    pl_status_free(st);
    return 1;
}
