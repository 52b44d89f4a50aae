/* What the commands ask a model server, independent of the transport: model
 * status, signatures and predictions, over gRPC (TensorFlow Serving's
 * PredictionService and ModelService) or over its REST API. Answers come back
 * as plain structs and plinth tensors. */
#ifndef PL_CLI_CLIENT_H
#define PL_CLI_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "runtime/model.h"
#include "tensor/tensor.h"

struct pl_cli;
typedef struct pl_client pl_client;

/* Connects lazily: the first request reports an unreachable server. `cli`
 * (server, transport, version choice, timeout) is borrowed for the client's life. */
pl_status pl_client_open(const struct pl_cli *cli, pl_client **out);
void pl_client_close(pl_client *c);

typedef struct pl_client_version {
    int64_t version;
    char state[16];          /* "AVAILABLE", "LOADING", ... */
    char *error;             /* malloc'd; "" when the version is fine */
} pl_client_version;

/* GetModelStatus. *versions is malloc'd; free with pl_client_versions_free. */
pl_status pl_client_status(pl_client *c, const char *model, pl_client_version **versions, int *n);
void pl_client_versions_free(pl_client_version *v, int n);

typedef struct pl_client_signatures {
    int64_t version;         /* the version that answered */
    int num;
    pl_signature *sigs;      /* sorted by key; inputs and outputs sorted by alias */
} pl_client_signatures;

/* GetModelMetadata's signature_def. Release with pl_client_signatures_deinit. */
pl_status pl_client_metadata(pl_client *c, const char *model, pl_client_signatures *out);
void pl_client_signatures_deinit(pl_client_signatures *s);
/* The signature called `key` (NULL: serving_default), or NOT_FOUND naming the ones there are. */
pl_status pl_client_find_signature(const pl_client_signatures *s, const char *key, const pl_signature **out);

typedef struct pl_client_outputs {
    int num;
    char **names;            /* malloc'd */
    pl_tensor **tensors;     /* one reference each */
} pl_client_outputs;

/* Predict with the signature `sig` (its key names it; its output dtypes let
 * the REST transport type the JSON it gets back). Inputs are borrowed.
 * `filters` (may be empty) keeps only the named outputs. */
pl_status pl_client_predict(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                            const char *const *names, pl_tensor *const *inputs, int num_filters,
                            const char *const *filters, pl_client_outputs *out);
void pl_client_outputs_deinit(pl_client_outputs *o);

/* A Predict request encoded once and sent many times by the load generator.
 * It is read-only once made, so clients on several threads may send it. */
typedef struct pl_client_prepared {
    char *path;              /* gRPC method or REST path (malloc'd) */
    void *data;              /* packed PredictRequest or JSON body (malloc'd) */
    size_t len;
} pl_client_prepared;

pl_status pl_client_prepare_predict(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                                    const char *const *names, pl_tensor *const *inputs, pl_client_prepared *out);
/* Sends it and checks that the server answered with success; the reply is dropped. */
pl_status pl_client_send_prepared(pl_client *c, const pl_client_prepared *p);
void pl_client_prepared_deinit(pl_client_prepared *p);
/* "gRPC" or "REST". */
const char *pl_client_transport_name(const pl_client *c);

/* Signature helpers shared by the transports. */
void pl_client_signature_clear(pl_signature *sig);
/* Sorts signatures by key and their tensors by alias. */
void pl_client_signatures_sort(pl_client_signatures *s);

#endif
