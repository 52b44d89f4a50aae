/* Building a ModelSpec from the command line's --version / --label / --signature. */
#ifndef PL_CLI_SPEC_H
#define PL_CLI_SPEC_H

#include "cli/cli.h"
#include "tensorflow_serving/apis/model.pb-c.h"

/* Fills spec (and version, which must outlive it) for MODEL. Strings are borrowed. */
void pl_cli_fill_spec(const pl_cli *cli, const char *model, Tensorflow__Serving__ModelSpec *spec,
                      Google__Protobuf__Int64Value *version);

#endif
