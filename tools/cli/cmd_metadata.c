/* plinth-cli metadata MODEL: the model's signatures as a table, in the spirit
 * of `saved_model_cli show`, or as JSON with --json. */
#include <inttypes.h>
#include <stdio.h>

#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/show.h"

const char pl_cli_metadata_usage[] = "usage: plinth-cli [--server HOST:PORT | --rest [HOST:PORT]] metadata MODEL\n"
                                     "  the signatures MODEL serves: inputs and outputs with dtypes and shapes\n";

int pl_cli_metadata(pl_cli *cli, int argc, char **argv) {
    if (argc != 1 || argv[0][0] == '-') return pl_cli_usage(pl_cli_metadata_usage);
    const char *model = argv[0];
    pl_client *c;
    pl_client_signatures sigs = {0};
    pl_status st = pl_client_open(cli, &c);
    if (!st) {
        st = pl_client_metadata(c, model, &sigs);
        pl_client_close(c);
    }
    if (st) return pl_cli_fail_model(cli, model, st);
    if (cli->json) {
        pl_strbuf b;
        pl_strbuf_init(&b, 0);
        pl_strbuf_puts(&b, "{\"model\": ");
        pl_cli_json_string(&b, model);
        pl_strbuf_printf(&b, ", \"version\": %" PRId64 ", \"signatures\": {", sigs.version);
        for (int s = 0; s < sigs.num; s++) {
            if (s) pl_strbuf_puts(&b, ", ");
            pl_cli_json_string(&b, sigs.sigs[s].key);
            pl_strbuf_puts(&b, ": ");
            pl_cli_json_signature(&b, &sigs.sigs[s]);
        }
        pl_strbuf_puts(&b, "}}");
        if (!pl_strbuf_status(&b)) printf("%s\n", b.data);
        pl_strbuf_deinit(&b);
    } else {
        printf("model %s, version %" PRId64 "\n", model, sigs.version);
        for (int s = 0; s < sigs.num; s++) {
            printf("\n");
            pl_cli_print_signature(stdout, &sigs.sigs[s], 0);
        }
    }
    pl_client_signatures_deinit(&sigs);
    return 0;
}
