/* exec_plan: prepares a binary GraphDef for the given feeds and fetches and
 * prints the nodes the execution runs, one "name op" line each, so tests can
 * see which nodes preparation fused and pruned.
 *
 *   exec_plan GRAPH.pb [--feed NAME]... [--fetch NAME]... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/session.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: exec_plan GRAPH.pb [--feed NAME]... [--fetch NAME]...\n");
        return 2;
    }
    const char **feeds = calloc((size_t)argc, sizeof *feeds), **fetches = calloc((size_t)argc, sizeof *fetches);
    int nf = 0, nx = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--feed")) feeds[nf++] = argv[i + 1];
        else if (!strcmp(argv[i], "--fetch")) fetches[nx++] = argv[i + 1];
        else return 2;
    }
    pl_graph *g = NULL;
    pl_session *s = NULL;
    pl_exec *e = NULL;
    pl_status st = pl_graph_load_file(argv[1], &g);
    if (!st) st = pl_session_new(&s);
    if (!st) st = pl_exec_prepare(g, s, nf, feeds, nx, fetches, 0, NULL, &e);
    if (!st)
        for (int i = 0; i < pl_exec_num_nodes(e); i++) printf("%s %s\n", pl_exec_node_name(e, i), pl_exec_node_op(e, i));
    int rc = 0;
    if (st) {
        fprintf(stderr, "error: %s\n", pl_status_message(st));
        pl_status_free(st);
        rc = 1;
    }
    pl_exec_free(e);
    pl_session_free(s);
    pl_graph_free(g);
    free(feeds);
    free(fetches);
    return rc;
}
