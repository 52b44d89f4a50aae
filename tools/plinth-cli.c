/* plinth-cli: a client for plinth and TensorFlow Serving — model status and
 * metadata, predictions from files, face detection drawn on a picture, a
 * load generator — and offline tools for model directories (inspect, convert). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: plinth-cli [options] COMMAND ...\n"
    "\n"
    "commands that talk to a server (gRPC, or REST with --rest):\n"
    "  status MODEL                      versions of MODEL and their states\n"
    "  metadata MODEL                    signatures: inputs and outputs with dtypes and shapes\n"
    "  predict MODEL --input NAME=VALUE  run a signature; VALUE is a .npy file, a picture, or JSON\n"
    "  detect MODEL IMAGE [-o OUT]       find faces with an MTCNN model and draw them\n"
    "  bench MODEL --input NAME=VALUE    load test: --concurrency N, --requests N or --duration S\n"
    "\n"
    "commands that read model files (no server needed):\n"
    "  inspect DIR                       versions, format, signatures, ops, unsupported ops\n"
    "  convert FROZEN.pb OUTDIR          write a SavedModel TensorFlow Serving can load\n"
    "\n"
    "options (before the command):\n"
    "  --server HOST:PORT   gRPC endpoint (default localhost:8500)\n"
    "  --rest [HOST:PORT]   use the REST API instead of gRPC (default localhost:8501)\n"
    "  --version N          ask for version N (default: the latest)\n"
    "  --label L            ask for version label L\n"
    "  --signature S        signature to run (default serving_default)\n"
    "  --timeout SECONDS    per call (default 30)\n"
    "  --json               print JSON instead of tables\n"
    "\n"
    "Run 'plinth-cli COMMAND --help' for a command's own options.\n";

static const struct {
    const char *name;
    int (*run)(pl_cli *, int, char **);
    const char *usage;
} commands[] = {
    {"status", pl_cli_status, pl_cli_status_usage},    {"metadata", pl_cli_metadata, pl_cli_metadata_usage},
    {"predict", pl_cli_predict, pl_cli_predict_usage}, {"detect", pl_cli_detect, pl_cli_detect_usage},
    {"bench", pl_cli_bench, pl_cli_bench_usage},       {"inspect", pl_cli_inspect, pl_cli_inspect_usage},
    {"convert", pl_cli_convert, pl_cli_convert_usage},
};

/* "COMMAND --help" anywhere after the command prints that command's usage. */
static bool wants_help(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return true;
    return false;
}

static bool is_command(const char *s) {
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (!strcmp(s, commands[c].name)) return true;
    return false;
}

static int bad_value(const char *flag, const char *value) {
    fprintf(stderr, "plinth-cli: %s: '%s' is not a valid value\n", flag, value);
    return 2;
}

int main(int argc, char **argv) {
    pl_cli cli = {.server = "localhost:8500", .timeout = 30};
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (!strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--server") && next) {
            cli.server = argv[++i];
        } else if (!strncmp(a, "--server=", 9)) {
            cli.server = a + 9;
        } else if (!strcmp(a, "--rest")) {
            /* The address is optional: a following word that is not a command is it. */
            cli.rest = next && !is_command(next) && next[0] != '-' ? argv[++i] : "localhost:8501";
        } else if (!strncmp(a, "--rest=", 7)) {
            cli.rest = a + 7;
        } else if (!strcmp(a, "--version") && next) {
            cli.version = strtoll(argv[++i], &end, 10);
            if (*end || cli.version <= 0) return bad_value(a, argv[i]);
        } else if (!strcmp(a, "--label") && next) {
            cli.label = argv[++i];
        } else if (!strcmp(a, "--signature") && next) {
            cli.signature = argv[++i];
        } else if (!strcmp(a, "--timeout") && next) {
            cli.timeout = strtod(argv[++i], &end);
            if (*end || !(cli.timeout > 0)) return bad_value(a, argv[i]);
        } else if (!strcmp(a, "--json")) {
            cli.json = true;
        } else {
            fprintf(stderr, "plinth-cli: unknown option %s (see plinth-cli --help)\n", a);
            return 2;
        }
    }
    if (i < argc && !strcmp(argv[i], "-h")) {
        fputs(usage, stdout);
        return 0;
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (!strcmp(argv[i], commands[c].name)) {
            if (wants_help(argc - i - 1, argv + i + 1)) {
                fputs(commands[c].usage, stdout);
                return 0;
            }
            return commands[c].run(&cli, argc - i - 1, argv + i + 1);
        }
    fprintf(stderr, "plinth-cli: unknown command '%s' (see plinth-cli --help)\n", argv[i]);
    return 2;
}
