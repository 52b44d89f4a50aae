/* plinth-cli predict MODEL --input NAME=VALUE...: runs a signature with inputs
 * from .npy files, pictures or JSON, and prints the outputs as TensorFlow
 * Serving's REST API would (columnar JSON), or saves them as .npy files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "base/file.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/inputs.h"
#include "tensor/npy.h"

const char pl_cli_predict_usage[] =
    "usage: plinth-cli [options] predict MODEL --input NAME=VALUE [--input ...] [--output NAME]... [--save DIR]\n"
    "  VALUE: a .npy file, a .jpg/.png picture (float32 BGR, like cv2.imread), or JSON typed by the\n"
    "         signature (e.g. [[1.0, 2.0]], as in a REST request)\n"
    "  --output NAME  keep only this output (repeatable)\n"
    "  --save DIR     write each output to DIR/NAME.npy instead of printing JSON\n";

static pl_status print_or_save(const pl_client_outputs *o, const char *save_dir) {
    for (int i = 0; save_dir && i < o->num; i++) {
        char *file = malloc(strlen(o->names[i]) + 5);
        if (!file) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        strcpy(file, o->names[i]);
        /* An output alias may contain '/' or ':'; keep the file inside DIR. */
        for (char *p = file; *p; p++)
            if (*p == '/' || *p == ':') *p = '_';
        strcat(file, ".npy");
        char *path = pl_path_join(save_dir, file);
        free(file);
        if (!path) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        pl_status st = pl_npy_write_file(path, o->tensors[i]);
        if (!st) printf("wrote %s\n", path);
        free(path);
        PL_TRY(st);
    }
    if (save_dir) return NULL;
    pl_strbuf out;
    pl_strbuf_init(&out, 0);
    pl_status st = pl_json_encode_predict(PL_JSON_FORMAT_COLUMNAR, o->num, (const char *const *)o->names, o->tensors, &out);
    if (!st) st = pl_strbuf_status(&out);
    if (!st) printf("%s\n", out.data);
    pl_strbuf_deinit(&out);
    return st;
}

int pl_cli_predict(pl_cli *cli, int argc, char **argv) {
    const char *model = NULL, *save_dir = NULL;
    pl_cli_inputs in = {0};
    const char *filters[PL_CLI_MAX_INPUTS];
    int n_filters = 0;
    for (int i = 0; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--input") && next) {
            if (pl_cli_inputs_add(&in, argv[++i])) return pl_cli_usage(pl_cli_predict_usage);
        } else if (!strcmp(argv[i], "--output") && next && n_filters < PL_CLI_MAX_INPUTS) {
            filters[n_filters++] = argv[++i];
        } else if (!strcmp(argv[i], "--save") && next) {
            save_dir = argv[++i];
        } else if (argv[i][0] != '-' && !model) {
            model = argv[i];
        } else {
            return pl_cli_usage(pl_cli_predict_usage);
        }
    }
    if (!model) return pl_cli_usage(pl_cli_predict_usage);
    if (save_dir && !pl_path_is_dir(save_dir))
        return pl_cli_fail(cli, pl_error(PL_NOT_FOUND, "--save: %s is not a directory", save_dir));

    pl_client *c = NULL;
    pl_client_signatures sigs = {0};
    pl_client_outputs outs = {0};
    const pl_signature *sig = NULL;
    bool from_server = true;
    pl_status st = pl_client_open(cli, &c);
    if (!st) st = pl_client_metadata(c, model, &sigs);
    if (!st) {
        from_server = false;
        st = pl_client_find_signature(&sigs, cli->signature, &sig);
    }
    if (!st) st = pl_cli_inputs_read(&in, sig);
    if (!st) {
        from_server = true;
        st = pl_client_predict(c, model, sig, in.num, (const char *const *)in.names, in.tensors, n_filters, filters,
                               &outs);
    }
    if (!st) {
        from_server = false;
        st = print_or_save(&outs, save_dir);
    }
    pl_client_outputs_deinit(&outs);
    pl_cli_inputs_deinit(&in);
    pl_client_signatures_deinit(&sigs);
    pl_client_close(c);
    return st ? pl_cli_fail_model(cli, from_server ? model : NULL, st) : 0;
}
