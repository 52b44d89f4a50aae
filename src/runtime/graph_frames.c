/* Graph structure checks: no cycles except through NextIteration (a while
 * loop's back edge), and every node placed in exactly one loop frame, the way
 * TensorFlow's executor assigns frames (Enter leads into the frame its
 * frame_name names, Exit leads back to the parent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

typedef struct edges {
    int *start;   /* per node, into dst */
    int *dst;     /* consumers of every node, data then control */
} edges;

static pl_status build_out_edges(const pl_graph *g, edges *e) {
    int n = g->num_nodes;
    e->start = calloc((size_t)n + 1, sizeof *e->start);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (size_t)g->nodes[i].num_inputs + (size_t)g->nodes[i].num_controls;
    e->dst = malloc((total ? total : 1) * sizeof *e->dst);
    if (!e->start || !e->dst) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < n; i++) {
        const pl_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->num_inputs; k++) e->start[nd->inputs[k].node + 1]++;
        for (int k = 0; k < nd->num_controls; k++) e->start[nd->controls[k] + 1]++;
    }
    for (int i = 0; i < n; i++) e->start[i + 1] += e->start[i];
    int *fill = calloc((size_t)n + 1, sizeof *fill);
    if (!fill) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < n; i++) {
        const pl_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->num_inputs; k++) {
            int s = nd->inputs[k].node;
            e->dst[e->start[s] + fill[s]++] = i;
        }
        for (int k = 0; k < nd->num_controls; k++) {
            int s = nd->controls[k];
            e->dst[e->start[s] + fill[s]++] = i;
        }
    }
    free(fill);
    return NULL;
}

/* Kahn's algorithm with NextIteration's out edges left out; *order gets a
 * topological order of those edges. */
static pl_status topo_order(const pl_graph *g, const edges *e, int *order) {
    int n = g->num_nodes;
    int *indeg = calloc((size_t)n + 1, sizeof *indeg);
    if (!indeg) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int s = 0; s < n; s++) {
        if (g->kinds[s] == PL__KIND_NEXT_ITERATION) continue;
        for (int k = e->start[s]; k < e->start[s + 1]; k++) indeg[e->dst[k]]++;
    }
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (!indeg[i]) order[tail++] = i;
    while (head < tail) {
        int s = order[head++];
        if (g->kinds[s] == PL__KIND_NEXT_ITERATION) continue;
        for (int k = e->start[s]; k < e->start[s + 1]; k++)
            if (--indeg[e->dst[k]] == 0) order[tail++] = e->dst[k];
    }
    pl_status st = NULL;
    if (tail < n) {
        char names[512] = "";
        size_t used = 0;
        int shown = 0;
        for (int i = 0; i < n && shown < 3; i++) {
            if (!indeg[i]) continue;
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", shown ? ", " : "", g->nodes[i].name);
            if (used >= sizeof names) used = sizeof names - 1;
            shown++;
        }
        st = pl_error(PL_INVALID_ARGUMENT, "Graph is invalid, contains a cycle with %d nodes, including: %s", n - tail,
                      names);
    }
    free(indeg);
    return st;
}

static int find_or_add_frame(pl_graph *g, const char *name, size_t len, int parent, int parallel, pl_status *st) {
    for (int f = 1; f < g->num_frames; f++) {
        if (strlen(g->frames[f].name) != len || memcmp(g->frames[f].name, name, len)) continue;
        if (g->frames[f].parent != parent) {
            *st = pl_error(PL_INVALID_ARGUMENT, "Frame '%s' is entered from two different frames", g->frames[f].name);
            return -1;
        }
        return f;
    }
    pl__frame_info *grown = realloc(g->frames, ((size_t)g->num_frames + 1) * sizeof *grown);
    if (!grown) {
        *st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        return -1;
    }
    g->frames = grown;
    char *copy = strndup(name, len);
    if (!copy) {
        *st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        return -1;
    }
    g->frames[g->num_frames] = (pl__frame_info){copy, parent, parallel > 0 ? parallel : 1};
    return g->num_frames++;
}

/* The frame a node's outputs flow into; -1 (with *st set) on malformed loops. */
static int out_frame(pl_graph *g, int i, pl_status *st) {
    int f = g->node_frame[i];
    const pl_node *nd = &g->nodes[i];
    switch (g->kinds[i]) {
    case PL__KIND_ENTER: {
        const Tensorflow__AttrValue *v = pl__attrs_get(nd->attrs, "frame_name");
        if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_S || !v->s.len) {
            *st = pl_error(PL_INVALID_ARGUMENT, "Enter node '%s' has no frame_name", nd->name);
            return -1;
        }
        if (memchr(v->s.data, 0, v->s.len)) {
            *st = pl_error(PL_INVALID_ARGUMENT, "Enter node '%s' has an invalid frame_name", nd->name);
            return -1;
        }
        int64_t par = pl_attr_int_or(nd->attrs, "parallel_iterations", 10);
        if (par > 1 << 20) par = 1 << 20;
        return find_or_add_frame(g, (const char *)v->s.data, v->s.len, f, (int)par, st);
    }
    case PL__KIND_EXIT:
        if (f == PL__FRAME_ROOT) {
            *st = pl_error(PL_INVALID_ARGUMENT, "Exit node '%s' is not inside a while loop", nd->name);
            return -1;
        }
        return g->frames[f].parent;
    default:
        return f;
    }
}

static pl_status frame_conflict(const pl_graph *g, int node, int a, int b) {
    return pl_error(PL_INVALID_ARGUMENT,
                    "The node '%s' has inputs from different frames. The input '%s' is in frame '%s'. The input "
                    "'%s' is in frame '%s'.",
                    g->nodes[node].name, g->nodes[a].name, g->frames[g->node_frame[a]].name, g->nodes[b].name,
                    g->frames[g->node_frame[b]].name);
}

/* Visits nodes in topological order, so every input (except loop back
 * edges) has its out frame known before its consumer is placed. */
static pl_status assign_frames(pl_graph *g, const int *order, int *outf) {
    int n = g->num_nodes;
    g->frames = malloc(sizeof *g->frames);
    if (!g->frames) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    g->frames[0] = (pl__frame_info){strdup(""), -1, 1};
    if (!g->frames[0].name) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    g->num_frames = 1;
    pl_status st = NULL;
    for (int t = 0; t < n; t++) {
        int i = order[t];
        const pl_node *nd = &g->nodes[i];
        int frame = -1, decided_by = -1;
        for (int k = 0; k < nd->num_inputs + nd->num_controls; k++) {
            int s = k < nd->num_inputs ? nd->inputs[k].node : nd->controls[k - nd->num_inputs];
            if (g->kinds[s] == PL__KIND_NEXT_ITERATION) continue;
            if (frame < 0) {
                frame = outf[s];
                decided_by = s;
            } else if (outf[s] != frame) {
                return frame_conflict(g, i, decided_by, s);
            }
        }
        g->node_frame[i] = frame < 0 ? PL__FRAME_ROOT : frame;
        outf[i] = out_frame(g, i, &st);
        if (st) return st;
    }
    /* Back edges: NextIteration must feed nodes of its own frame. */
    for (int i = 0; i < n; i++) {
        const pl_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->num_inputs + nd->num_controls; k++) {
            int s = k < nd->num_inputs ? nd->inputs[k].node : nd->controls[k - nd->num_inputs];
            if (outf[s] != g->node_frame[i])
                return pl_error(PL_INVALID_ARGUMENT, "The node '%s' in frame '%s' feeds '%s' in frame '%s'",
                                g->nodes[s].name, g->frames[g->node_frame[s]].name, nd->name,
                                g->frames[g->node_frame[i]].name);
        }
    }
    return NULL;
}

pl_status pl__graph_analyze(pl_graph *g) {
    edges e = {0};
    int *order = malloc(((size_t)g->num_nodes + 1) * sizeof *order);
    int *outf = malloc(((size_t)g->num_nodes + 1) * sizeof *outf);
    pl_status st = !order || !outf ? pl_error(PL_RESOURCE_EXHAUSTED, "out of memory") : NULL;
    if (!st) st = build_out_edges(g, &e);
    if (!st) st = topo_order(g, &e, order);
    if (!st) st = assign_frames(g, order, outf);
    free(e.start);
    free(e.dst);
    free(order);
    if (!st) g->out_frame = outf;
    else free(outf);
    return st;
}
