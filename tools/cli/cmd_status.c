/* plinth-cli status MODEL: the versions of a model and their states. */
#include <inttypes.h>
#include <stdio.h>

#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/show.h"

const char pl_cli_status_usage[] = "usage: plinth-cli [--server HOST:PORT | --rest [HOST:PORT]] status MODEL\n"
                                   "  the versions of MODEL the server knows and their states (AVAILABLE, LOADING, ...)\n";

int pl_cli_status(pl_cli *cli, int argc, char **argv) {
    if (argc != 1 || argv[0][0] == '-') return pl_cli_usage(pl_cli_status_usage);
    const char *model = argv[0];
    pl_client *c;
    pl_client_version *v = NULL;
    int n = 0;
    pl_status st = pl_client_open(cli, &c);
    if (!st) {
        st = pl_client_status(c, model, &v, &n);
        pl_client_close(c);
    }
    if (st) return pl_cli_fail_model(cli, model, st);
    if (cli->json) {
        pl_strbuf b;
        pl_strbuf_init(&b, 0);
        pl_strbuf_puts(&b, "{\"model\": ");
        pl_cli_json_string(&b, model);
        pl_strbuf_puts(&b, ", \"versions\": [");
        for (int i = 0; i < n; i++) {
            pl_strbuf_printf(&b, "%s{\"version\": %" PRId64 ", \"state\": \"%s\", \"error\": ", i ? ", " : "",
                             v[i].version, v[i].state);
            pl_cli_json_string(&b, v[i].error);
            pl_strbuf_putc(&b, '}');
        }
        pl_strbuf_puts(&b, "]}");
        if (!pl_strbuf_status(&b)) printf("%s\n", b.data);
        pl_strbuf_deinit(&b);
    } else {
        printf("model %s\n", model);
        for (int i = 0; i < n; i++)
            printf("  version %" PRId64 ": %s%s%s\n", v[i].version, v[i].state, *v[i].error ? " - " : "", v[i].error);
    }
    pl_client_versions_free(v, n);
    return 0;
}
