/* run_graph: runs a binary GraphDef once, feeding and fetching .npy files.
 *
 *   run_graph GRAPH.pb [--feed NAME=IN.npy]... [--fetch NAME=OUT.npy]... [--target NODE]... [--stats]
 *
 * NAME is "node" or "node:k". Any error is printed as one line on stderr and
 * the exit code is 1. --stats prints "nodes N": how many nodes the prepared
 * execution kept after pruning and constant folding.
 *
 *   run_graph --serve
 *
 * reads one run per stdin line, its arguments (GRAPH.pb first) separated by
 * tabs, and answers each with one stdout line: "ok" or the error line. One
 * process then serves a whole test file, so the suite does not pay process
 * start-up (heavy under the sanitizers) once per graph. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/session.h"
#include "tensor/npy.h"

static void print_error(FILE *out, pl_status st) {
    fprintf(out, "error: %s: ", pl_code_name(pl_status_code(st)));
    /* One line whatever the message holds (names in a hostile graph may hold control bytes). */
    for (const unsigned char *p = (const unsigned char *)pl_status_message(st); *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
    fputc('\n', out);
}

static int usage(void) {
    fprintf(stderr, "usage: run_graph GRAPH.pb [--feed NAME=IN.npy]... [--fetch NAME=OUT.npy]... [--target NODE]...\n");
    return 2;
}

/* Splits "NAME=FILE" in place. */
static int split(char *arg, char **name, char **file) {
    char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || !eq[1]) return -1;
    *eq = '\0';
    *name = arg;
    *file = eq + 1;
    return 0;
}

/* One run; argv[1] is the graph, the rest its options. Errors go to `err`. */
static int run_once(int argc, char **argv, FILE *err) {
    if (argc < 2) return usage();
    int n = argc;
    char **feed_names = calloc((size_t)n, sizeof(char *)), **feed_files = calloc((size_t)n, sizeof(char *));
    char **fetch_names = calloc((size_t)n, sizeof(char *)), **fetch_files = calloc((size_t)n, sizeof(char *));
    char **targets = calloc((size_t)n, sizeof(char *));
    pl_tensor **feeds = calloc((size_t)n, sizeof(pl_tensor *)), **fetched = calloc((size_t)n, sizeof(pl_tensor *));
    int nf = 0, nx = 0, nt = 0;
    bool stats = false;
    for (int i = 2; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--feed")) {
            if (split(argv[++i], &feed_names[nf], &feed_files[nf])) return usage();
            nf++;
        } else if (i + 1 < argc && !strcmp(argv[i], "--fetch")) {
            if (split(argv[++i], &fetch_names[nx], &fetch_files[nx])) return usage();
            nx++;
        } else if (i + 1 < argc && !strcmp(argv[i], "--target")) {
            targets[nt++] = argv[++i];
        } else if (!strcmp(argv[i], "--stats")) {
            stats = true;
        } else {
            return usage();
        }
    }
    pl_graph *g = NULL;
    pl_session *s = NULL;
    pl_exec *e = NULL;
    pl_status st = pl_graph_load_file(argv[1], &g);
    for (int i = 0; !st && i < nf; i++) st = pl_npy_read_file(feed_files[i], &feeds[i]);
    if (!st) st = pl_session_new(&s);
    if (!st)
        st = pl_exec_prepare(g, s, nf, (const char *const *)feed_names, nx, (const char *const *)fetch_names, nt,
                             (const char *const *)targets, &e);
    if (!st && stats) printf("nodes %d\n", pl_exec_num_nodes(e));
    if (!st) st = pl_exec_run(e, NULL, feeds, fetched);
    for (int i = 0; !st && i < nx; i++) st = pl_npy_write_file(fetch_files[i], fetched[i]);
    int rc = 0;
    if (st) {
        print_error(err, st);
        pl_status_free(st);
        rc = 1;
    }
    for (int i = 0; i < n; i++) {
        pl_tensor_unref(feeds[i]);
        pl_tensor_unref(fetched[i]);
    }
    pl_exec_free(e);
    pl_session_free(s);
    pl_graph_free(g);
    free(feed_names), free(feed_files), free(fetch_names), free(fetch_files), free(targets), free(feeds), free(fetched);
    return rc;
}

/* Splits a tab-separated line in place into argv[1..]; returns argc. */
static int split_tabs(char *line, char **argv, int max) {
    int argc = 1;
    argv[0] = "run_graph";
    for (char *p = line; argc < max;) {
        argv[argc++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    return argc;
}

static int serve(void) {
    size_t cap = 0;
    char *line = NULL;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        char **args = calloc((size_t)len + 2, sizeof(char *));
        int argc = split_tabs(line, args, (int)len + 2);
        int rc = run_once(argc, args, stdout);
        if (rc == 0) fputs("ok\n", stdout);
        else if (rc == 2) fputs("error: usage\n", stdout);
        fflush(stdout);
        free(args);
    }
    free(line);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--serve")) return serve();
    return run_once(argc, argv, stderr);
}
