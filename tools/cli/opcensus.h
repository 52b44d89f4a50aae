/* The ops a graph uses: how many nodes run each op type, and which op types
 * plinth has no kernel for, with the nodes that use them. Works on the
 * GraphDef alone, so a model plinth cannot load can still be examined. */
#ifndef PL_CLI_OPCENSUS_H
#define PL_CLI_OPCENSUS_H

#include <stdbool.h>

#include "base/map.h"
#include "base/status.h"
#include "tensorflow/core/framework/graph.pb-c.h"

typedef struct pl_cli_op_count {
    const char *op;        /* borrowed from the GraphDef */
    int nodes;             /* nodes of the graph and its functions running it */
    bool is_function;      /* the op names a function of the graph's library */
    bool supported;        /* a kernel, a control-flow op the executor carries, or a function */
    int num_users;
    const char **users;    /* node names (functions' nodes as "function/node"), malloc'd; unsupported ops only */
} pl_cli_op_count;

typedef struct pl_cli_op_census {
    int num_nodes;         /* graph nodes plus function nodes */
    int num_function_nodes;
    int num_ops;
    pl_cli_op_count *ops;  /* most used first, then by name */
    int num_unsupported;
    char **owned_names_;   /* the "function/node" strings users point at */
    int num_owned_names_;
} pl_cli_op_census;

/* Counts the ops of `g` (borrowed: it must outlive the census). */
pl_status pl_cli_op_census_take(const Tensorflow__GraphDef *g, pl_cli_op_census *out);
void pl_cli_op_census_deinit(pl_cli_op_census *c);

#endif
