/* Building a ModelSpec from the command line's --version / --label / --signature. */
#ifndef PL_CLI_SPEC_H
#define PL_CLI_SPEC_H

#include "cli/cli.h"
#include "tensorflow_serving/apis/get_model_metadata.pb-c.h"
#include "tensorflow_serving/apis/model.pb-c.h"

/* Fills spec (and version, which must outlive it) for MODEL. Strings are borrowed. */
void pl_cli_fill_spec(const pl_cli *cli, const char *model, Tensorflow__Serving__ModelSpec *spec,
                      Google__Protobuf__Int64Value *version);

/* GetModelMetadata's signature_def map for MODEL; free with
 * tensorflow__serving__signature_def_map__free_unpacked. */
pl_status pl_cli_get_signatures(const pl_cli *cli, pl_rpc *rpc, const char *model,
                                Tensorflow__Serving__SignatureDefMap **out, int64_t *version);

#endif
