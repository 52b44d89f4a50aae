/* What the plinth-cli commands share: parsed global options and one-line
 * error reporting. */
#ifndef PL_CLI_CLI_H
#define PL_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"

typedef struct pl_cli {
    const char *server;       /* host:port of the gRPC endpoint */
    const char *rest;         /* host:port of the REST endpoint, or NULL for gRPC */
    double timeout;           /* seconds per call */
    int64_t version;          /* 0: latest */
    const char *label;        /* version label or NULL */
    const char *signature;    /* NULL: serving_default */
    bool json;                /* machine-readable output */
} pl_cli;

/* Each command gets the arguments after its name and returns the exit code;
 * its usage text is printed for "COMMAND --help" and on misuse. */
extern const char pl_cli_status_usage[], pl_cli_metadata_usage[], pl_cli_predict_usage[], pl_cli_detect_usage[],
    pl_cli_bench_usage[], pl_cli_inspect_usage[], pl_cli_convert_usage[];
/* Prints `usage` to stderr and returns exit code 2. */
int pl_cli_usage(const char *usage);
int pl_cli_status(pl_cli *cli, int argc, char **argv);
int pl_cli_metadata(pl_cli *cli, int argc, char **argv);
int pl_cli_predict(pl_cli *cli, int argc, char **argv);
int pl_cli_detect(pl_cli *cli, int argc, char **argv);
int pl_cli_convert(pl_cli *cli, int argc, char **argv);
int pl_cli_inspect(pl_cli *cli, int argc, char **argv);
int pl_cli_bench(pl_cli *cli, int argc, char **argv);

/* The endpoint requests go to (REST or gRPC), for messages. */
const char *pl_cli_endpoint(const pl_cli *cli);
/* Prints "plinth-cli: <message>" on one line, worded for the common cases
 * (no server, unknown model), and returns exit code 1. Frees st. */
int pl_cli_fail(const pl_cli *cli, pl_status st);
/* Like pl_cli_fail for an error the server returned about `model`. */
int pl_cli_fail_model(const pl_cli *cli, const char *model, pl_status st);

#endif
