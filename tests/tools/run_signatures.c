/* run_signatures: loads a model as the server does (pl_model_load) and runs
 * its signatures by alias, one call after another in the same loaded model
 * (so variables persist between calls).
 *
 *   run_signatures MODEL_DIR [--tags serve,train] [--list]
 *             [--call SIGNATURE [--input ALIAS=IN.npy]... ]... [--out DIR]
 *
 * --list prints the signatures as one JSON object per line. Each call prints
 * {"call": i, "signature": ..., "outputs": {ALIAS: {"dtype": ..., "shape": [...]}}}
 * and, with --out, writes DIR/<i>_<ALIAS>.npy. An error is one line
 * "error: CODE: message" on stderr and exit code 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/model.h"
#include "tensor/npy.h"

typedef struct call {
    const char *signature;
    int num_inputs;
    char *aliases[64];
    char *files[64];
} call;

static void print_error(pl_status st) {
    fprintf(stderr, "error: %s: ", pl_code_name(pl_status_code(st)));
    for (const unsigned char *p = (const unsigned char *)pl_status_message(st); *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, stderr);
    fputc('\n', stderr);
}

static int usage(void) {
    fprintf(stderr, "usage: run_signatures MODEL_DIR [--tags T] [--list] [--call SIG [--input ALIAS=IN.npy]...]... "
                    "[--out DIR]\n");
    return 2;
}

static void print_shape(int rank, const int64_t *dims) {
    putchar('[');
    for (int i = 0; i < rank; i++) printf(i ? ",%lld" : "%lld", (long long)dims[i]);
    putchar(']');
}

static void print_infos(const char *label, int n, const pl_tensor_info *t) {
    printf("\"%s\": {", label);
    for (int i = 0; i < n; i++) {
        printf("%s\"%s\": {\"name\": \"%s\", \"dtype\": \"%s\", \"shape\": ", i ? ", " : "", t[i].alias,
               t[i].tensor_name, pl_dtype_name(t[i].dtype));
        if (t[i].rank < 0) printf("null");
        else print_shape(t[i].rank, t[i].dims);
        putchar('}');
    }
    putchar('}');
}

static void list(const pl_model *m) {
    for (int s = 0; s < pl_model_num_signatures(m); s++) {
        const pl_signature *sig = pl_model_signature(m, s);
        printf("{\"signature\": \"%s\", \"method\": \"%s\", ", sig->key, sig->method_name);
        print_infos("inputs", sig->num_inputs, sig->inputs);
        printf(", ");
        print_infos("outputs", sig->num_outputs, sig->outputs);
        printf("}\n");
    }
}

static pl_status run_call(pl_model *m, const call *c, int index, const char *out_dir) {
    const pl_signature *sig = pl_model_find_signature(m, c->signature);
    if (!sig) return pl_error(PL_INVALID_ARGUMENT, "Serving signature key \"%s\" not found.", c->signature);
    const char *feeds[64], *fetches[64];
    pl_tensor *in[64] = {0}, *out[64] = {0};
    if (sig->num_outputs > 64) return pl_error(PL_UNIMPLEMENTED, "too many outputs");
    pl_status st = NULL;
    for (int i = 0; i < c->num_inputs && !st; i++) {
        const pl_tensor_info *info = NULL;
        for (int k = 0; k < sig->num_inputs; k++)
            if (!strcmp(sig->inputs[k].alias, c->aliases[i])) info = &sig->inputs[k];
        if (!info) st = pl_error(PL_INVALID_ARGUMENT, "input alias %s is not in signature %s", c->aliases[i], sig->key);
        else {
            feeds[i] = info->tensor_name;
            st = pl_npy_read_file(c->files[i], &in[i]);
        }
    }
    for (int i = 0; i < sig->num_outputs; i++) fetches[i] = sig->outputs[i].tensor_name;
    if (!st) st = pl_model_run(m, NULL, c->num_inputs, feeds, in, sig->num_outputs, fetches, out);
    if (!st) {
        printf("{\"call\": %d, \"signature\": \"%s\", \"outputs\": {", index, sig->key);
        for (int i = 0; i < sig->num_outputs; i++) {
            printf("%s\"%s\": {\"dtype\": \"%s\", \"shape\": ", i ? ", " : "", sig->outputs[i].alias,
                   pl_dtype_name(out[i]->dtype));
            print_shape(out[i]->rank, out[i]->dims);
            putchar('}');
        }
        printf("}}\n");
    }
    for (int i = 0; !st && out_dir && i < sig->num_outputs; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%d_%s.npy", out_dir, index, sig->outputs[i].alias);
        st = pl_npy_write_file(path, out[i]);
    }
    for (int i = 0; i < 64; i++) {
        pl_tensor_unref(in[i]);
        pl_tensor_unref(out[i]);
    }
    return st;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    const char *tags = NULL, *out_dir = NULL;
    int do_list = 0, num_calls = 0;
    call *calls = calloc((size_t)argc, sizeof *calls);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--list")) {
            do_list = 1;
        } else if (i + 1 < argc && !strcmp(argv[i], "--tags")) {
            tags = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--out")) {
            out_dir = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--call")) {
            calls[num_calls++].signature = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--input") && num_calls > 0) {
            call *c = &calls[num_calls - 1];
            char *arg = argv[++i], *eq = strchr(arg, '=');
            if (!eq || c->num_inputs == 64) return usage();
            *eq = 0;
            c->aliases[c->num_inputs] = arg;
            c->files[c->num_inputs++] = eq + 1;
        } else {
            return usage();
        }
    }
    pl_model *m = NULL;
    pl_model_options opt = {.tags = tags};
    pl_status st = pl_model_load(argv[1], &opt, &m);
    if (!st && do_list) list(m);
    for (int i = 0; !st && i < num_calls; i++) st = run_call(m, &calls[i], i, out_dir);
    fflush(stdout);
    int rc = 0;
    if (st) {
        print_error(st);
        pl_status_free(st);
        rc = 1;
    }
    pl_model_free(m);
    free(calls);
    return rc;
}
