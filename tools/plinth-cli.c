/* plinth-cli: a client for plinth and TensorFlow Serving — model status and
 * metadata, predictions from files, and face detection drawn on a picture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: plinth-cli [options] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  status MODEL                      versions of MODEL and their states\n"
    "  metadata MODEL                    signatures: inputs and outputs with dtypes and shapes\n"
    "  predict MODEL --input NAME=VALUE  run a signature; VALUE is a .npy file, a picture, or JSON\n"
    "  detect MODEL IMAGE [-o OUT]       find faces with an MTCNN model and draw them\n"
    "\n"
    "options:\n"
    "  --server HOST:PORT   gRPC endpoint (default localhost:8500)\n"
    "  --version N          ask for version N (default: the latest)\n"
    "  --label L            ask for version label L\n"
    "  --signature S        signature to run (default serving_default)\n"
    "  --timeout SECONDS    per call (default 30)\n"
    "  --json               print JSON instead of tables\n";

static const struct {
    const char *name;
    int (*run)(pl_cli *, int, char **);
} commands[] = {
    {"status", pl_cli_status},
    {"metadata", pl_cli_metadata},
    {"predict", pl_cli_predict},
    {"detect", pl_cli_detect},
};

int main(int argc, char **argv) {
    pl_cli cli = {.server = "localhost:8500", .timeout = 30};
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--server") && next) {
            cli.server = argv[++i];
        } else if (!strncmp(a, "--server=", 9)) {
            cli.server = a + 9;
        } else if (!strcmp(a, "--version") && next) {
            cli.version = strtoll(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--label") && next) {
            cli.label = argv[++i];
        } else if (!strcmp(a, "--signature") && next) {
            cli.signature = argv[++i];
        } else if (!strcmp(a, "--timeout") && next) {
            cli.timeout = atof(argv[++i]);
        } else if (!strcmp(a, "--json")) {
            cli.json = true;
        } else {
            fprintf(stderr, "plinth-cli: unknown option %s\n\n%s", a, usage);
            return 2;
        }
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (!strcmp(argv[i], commands[c].name)) return commands[c].run(&cli, argc - i - 1, argv + i + 1);
    fprintf(stderr, "plinth-cli: unknown command '%s'\n\n%s", argv[i], usage);
    return 2;
}
