/* The transports behind pl_client: each fills in the same operations. */
#ifndef PL_CLI_CLIENT_INTERNAL_H
#define PL_CLI_CLIENT_INTERNAL_H

#include "cli/client.h"

typedef struct pl__client_ops {
    pl_status (*open)(pl_client *c);
    void (*close)(pl_client *c);
    pl_status (*status)(pl_client *c, const char *model, pl_client_version **versions, int *n);
    pl_status (*metadata)(pl_client *c, const char *model, pl_client_signatures *out);
    pl_status (*predict)(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                         const char *const *names, pl_tensor *const *inputs, int num_filters,
                         const char *const *filters, pl_client_outputs *out);
    pl_status (*prepare)(pl_client *c, const char *model, const pl_signature *sig, int num_inputs,
                         const char *const *names, pl_tensor *const *inputs, pl_client_prepared *out);
    pl_status (*send)(pl_client *c, const pl_client_prepared *p);
    const char *name;
} pl__client_ops;

struct pl_client {
    const struct pl_cli *cli;
    const pl__client_ops *ops;
    void *transport;         /* the transport's own state */
};

extern const pl__client_ops pl__client_grpc;
extern const pl__client_ops pl__client_rest;

#endif
