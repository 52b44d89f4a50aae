/* run_model: loads a model the way the server does and prints its
 * signatures, or runs it on .npy feeds.
 *
 *   run_model PATH                                      signatures as JSON on stdout
 *   run_model PATH [--feed NAME=IN.npy]... [--fetch NAME=OUT.npy]... [--repeat N]
 *
 * Errors are one line on stderr, exit code 1. With --repeat the run is timed
 * and the mean milliseconds per run printed on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/model.h"
#include "tensor/npy.h"

static void print_error(pl_status st) {
    fprintf(stderr, "error: %s: ", pl_code_name(pl_status_code(st)));
    for (const unsigned char *p = (const unsigned char *)pl_status_message(st); *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, stderr);
    fputc('\n', stderr);
}

static void print_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static void print_infos(const pl_tensor_info *t, int n) {
    printf("{");
    for (int i = 0; i < n; i++) {
        printf(i ? ", " : "");
        print_json_string(t[i].alias);
        printf(": {\"name\": ");
        print_json_string(t[i].tensor_name);
        printf(", \"dtype\": \"%s\", \"shape\": ", pl_dtype_name(t[i].dtype));
        if (t[i].rank < 0) {
            printf("null");
        } else {
            printf("[");
            for (int d = 0; d < t[i].rank; d++) printf(d ? ", %lld" : "%lld", (long long)t[i].dims[d]);
            printf("]");
        }
        printf("}");
    }
    printf("}");
}

static void print_signatures(const pl_model *m) {
    printf("{\"format\": \"%s\", \"signatures\": {", pl_model_format(m));
    for (int s = 0; s < pl_model_num_signatures(m); s++) {
        const pl_signature *sig = pl_model_signature(m, s);
        printf(s ? ", " : "");
        print_json_string(sig->key);
        printf(": {\"method_name\": ");
        print_json_string(sig->method_name);
        printf(", \"inputs\": ");
        print_infos(sig->inputs, sig->num_inputs);
        printf(", \"outputs\": ");
        print_infos(sig->outputs, sig->num_outputs);
        printf("}");
    }
    printf("}}\n");
}

static int split(char *arg, char **name, char **file) {
    char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || !eq[1]) return -1;
    *eq = '\0';
    *name = arg;
    *file = eq + 1;
    return 0;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: run_model PATH [--feed NAME=IN.npy]... [--fetch NAME=OUT.npy]... [--repeat N]\n");
        return 1;
    }
    int n = argc, nf = 0, nx = 0, repeat = 1;
    char **feed_names = calloc((size_t)n, sizeof(char *)), **feed_files = calloc((size_t)n, sizeof(char *));
    char **fetch_names = calloc((size_t)n, sizeof(char *)), **fetch_files = calloc((size_t)n, sizeof(char *));
    pl_tensor **feeds = calloc((size_t)n, sizeof(pl_tensor *)), **fetched = calloc((size_t)n, sizeof(pl_tensor *));
    for (int i = 2; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--feed") && !split(argv[i + 1], &feed_names[nf], &feed_files[nf])) {
            nf++, i++;
        } else if (i + 1 < argc && !strcmp(argv[i], "--fetch") && !split(argv[i + 1], &fetch_names[nx], &fetch_files[nx])) {
            nx++, i++;
        } else if (i + 1 < argc && !strcmp(argv[i], "--repeat")) {
            repeat = atoi(argv[++i]);
        } else {
            fprintf(stderr, "run_model: bad argument '%s'\n", argv[i]);
            return 1;
        }
    }
    pl_model *m = NULL;
    pl_status st = pl_model_load(argv[1], NULL, &m);
    for (int i = 0; !st && i < nf; i++) st = pl_npy_read_file(feed_files[i], &feeds[i]);
    if (!st && nf == 0 && nx == 0) print_signatures(m);
    double t0 = now_ms();
    for (int r = 0; !st && nx > 0 && r < repeat; r++) {
        for (int i = 0; i < nx; i++) pl_tensor_unref(fetched[i]), fetched[i] = NULL;
        st = pl_model_run(m, NULL, nf, (const char *const *)feed_names, feeds, nx, (const char *const *)fetch_names,
                          fetched);
    }
    if (!st && nx > 0 && repeat > 1) printf("%.3f ms per run\n", (now_ms() - t0) / repeat);
    for (int i = 0; !st && i < nx; i++) st = pl_npy_write_file(fetch_files[i], fetched[i]);
    int rc = 0;
    if (st) {
        print_error(st);
        pl_status_free(st);
        rc = 1;
    }
    for (int i = 0; i < n; i++) pl_tensor_unref(feeds[i]), pl_tensor_unref(fetched[i]);
    pl_model_free(m);
    free(feed_names), free(feed_files), free(fetch_names), free(fetch_files), free(feeds), free(fetched);
    return rc;
}
