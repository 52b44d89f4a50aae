/* An imported graph: a GraphDef's nodes with their inputs resolved to node
 * indices, their attributes ready for kernels, and the structure checked
 * (no dangling inputs, no cycles outside while loops, consistent loop frames).
 *
 * A graph is immutable after import and may be shared by any number of
 * prepared executions (see executor.h) and threads.
 *
 *     pl_graph *g;
 *     PL_TRY(pl_graph_load_file("model.pb", &g));
 *     int n = pl_graph_find(g, "input");      // -1 when absent
 *     const pl_node *node = pl_graph_node(g, n);
 *     printf("%s is a %s\n", node->name, node->op);
 *     pl_graph_free(g);
 */
#ifndef PL_RUNTIME_GRAPH_H
#define PL_RUNTIME_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"
#include "ops/kernel.h"
#include "tensorflow/core/framework/graph.pb-c.h"

/* One end of a data edge: output `index` of node `node`. */
typedef struct pl_endpoint {
    int node;
    int index;
} pl_endpoint;

typedef struct pl_node {
    const char *name;
    const char *op;
    int num_inputs;            /* data inputs, in NodeDef order */
    const pl_endpoint *inputs;
    int num_controls;          /* "^name" inputs */
    const int *controls;
    int num_outputs;           /* 1 + the highest output index any consumer uses (at least 1) */
    const pl_attrs *attrs;
    const Tensorflow__NodeDef *def;
} pl_node;

typedef struct pl_graph pl_graph;

/* Parses a binary GraphDef. */
pl_status pl_graph_parse(const void *data, size_t len, pl_graph **out);
/* Reads and parses a binary GraphDef file. */
pl_status pl_graph_load_file(const char *path, pl_graph **out);
/* Imports an already parsed GraphDef. With take_ownership the graph frees
 * `def` (protobuf_c_message_free_unpacked); otherwise `def` must outlive it. */
pl_status pl_graph_import(Tensorflow__GraphDef *def, bool take_ownership, pl_graph **out);
void pl_graph_free(pl_graph *g);

int pl_graph_num_nodes(const pl_graph *g);
const pl_node *pl_graph_node(const pl_graph *g, int i);
/* Index of the node called `name` (len bytes), or -1. */
int pl_graph_find_n(const pl_graph *g, const char *name, size_t len);
int pl_graph_find(const pl_graph *g, const char *name);
const Tensorflow__GraphDef *pl_graph_def(const pl_graph *g);
/* The producer version of the GraphDef (versions.producer; 0 when absent). */
int pl_graph_producer(const pl_graph *g);

/* Refuses bytes whose messages nest deeper than PL_PROTO_MAX_NESTING, which
 * protobuf-c's recursive parser could not survive; call it before
 * protobuf_c_message_unpack on anything a file or client supplies. */
#define PL_PROTO_MAX_NESTING 100
pl_status pl_proto_check_nesting(const ProtobufCMessageDescriptor *desc, const void *data, size_t len);

/* Parses a tensor name "node", "node:k" into the node index and output. */
pl_status pl_graph_resolve_tensor(const pl_graph *g, const char *name, pl_endpoint *out);

#endif
