/* What the plinth-cli commands share: parsed global options, the connection,
 * and one-line error reporting. */
#ifndef PL_CLI_CLI_H
#define PL_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "cli/rpc.h"

typedef struct pl_cli {
    const char *server;       /* host:port of the gRPC endpoint */
    double timeout;           /* seconds per call */
    int64_t version;          /* 0: latest */
    const char *label;        /* version label or NULL */
    const char *signature;    /* NULL: serving_default */
    bool json;                /* machine-readable output */
} pl_cli;

/* Each command gets the arguments after its name. Returns the exit code. */
int pl_cli_status(pl_cli *cli, int argc, char **argv);
int pl_cli_metadata(pl_cli *cli, int argc, char **argv);
int pl_cli_predict(pl_cli *cli, int argc, char **argv);
int pl_cli_detect(pl_cli *cli, int argc, char **argv);

/* Connects to cli->server. */
pl_status pl_cli_connect(const pl_cli *cli, pl_rpc **out);
/* Prints "plinth-cli: <message>" with a hint for the common cases (no
 * server, unknown model) and returns exit code 1. Frees st. */
int pl_cli_fail(const pl_cli *cli, pl_status st);

#endif
