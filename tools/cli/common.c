/* One-line error reporting shared by the commands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

const char *pl_cli_endpoint(const pl_cli *cli) { return cli->rest ? cli->rest : cli->server; }

int pl_cli_usage(const char *usage) {
    fputs(usage, stderr);
    return 2;
}

int pl_cli_fail(const pl_cli *cli, pl_status st) { return pl_cli_fail_model(cli, NULL, st); }

/* Messages in TensorFlow's form continue on further lines ("...\n\t [[{{node
 * c}}]]"); on a terminal each error stays one line, the breaks become spaces. */
static void put_one_line(const char *msg) {
    for (const char *p = msg; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            while (p[1] == '\n' || p[1] == '\r' || p[1] == '\t' || p[1] == ' ') p++;
            if (p[1]) fputc(' ', stderr);
        } else {
            fputc(*p, stderr);
        }
    }
    fputc('\n', stderr);
}

int pl_cli_fail_model(const pl_cli *cli, const char *model, pl_status st) {
    pl_code code = pl_status_code(st);
    const char *msg = pl_status_message(st);
    const char *where = pl_cli_endpoint(cli);
    if (code == PL_UNAVAILABLE) {
        fprintf(stderr, "plinth-cli: cannot reach a server at %s (is plinth running?)\n", where);
    } else if (code == PL_DEADLINE_EXCEEDED) {
        fprintf(stderr, "plinth-cli: no answer from %s within %g s\n", where, cli->timeout);
    } else if (code == PL_NOT_FOUND && model) {
        if (cli->label)
            fprintf(stderr, "plinth-cli: model '%s' with label '%s' is not served at %s: ", model, cli->label, where);
        else if (cli->version > 0)
            fprintf(stderr, "plinth-cli: model '%s' version %lld is not served at %s: ", model, (long long)cli->version,
                    where);
        else
            fprintf(stderr, "plinth-cli: model '%s' is not served at %s: ", model, where);
        put_one_line(msg);
    } else {
        fputs("plinth-cli: ", stderr);
        put_one_line(msg);
    }
    pl_status_free(st);
    return 1;
}
