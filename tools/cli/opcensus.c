/* Op histogram and unsupported-op report over a GraphDef and its function
 * library, judged by the kernel registry the server itself uses. */
#include "cli/opcensus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/kernel.h"
#include "base/sort.h"

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

typedef struct builder {
    pl_map index;               /* op name -> position + 1 in ops */
    pl_map functions;           /* function names of the library */
    pl_cli_op_count *ops;
    int n, cap;
    char **owned_names;         /* "function/node" strings */
    int n_owned, cap_owned;
} builder;

static bool is_supported(const builder *b, const char *op) {
    if (pl_map_find(&b->functions, op)) return true;
    const pl_kernel_def *k = pl_kernel_find(op);
    return k && (k->compute || (k->flags & PL_KERNEL_CONTROL_FLOW));
}

static pl_status add_user(pl_cli_op_count *c, const char *name) {
    const char **grown = realloc(c->users, (size_t)(c->num_users + 1) * sizeof *grown);
    if (!grown) return oom();
    c->users = grown;
    c->users[c->num_users++] = name;
    return NULL;
}

static pl_status count(builder *b, const char *op, const char *node) {
    if (!op) return NULL;
    uintptr_t pos = (uintptr_t)pl_map_find(&b->index, op);
    if (!pos) {
        if (b->n == b->cap) {
            int cap = b->cap ? 2 * b->cap : 32;
            pl_cli_op_count *grown = realloc(b->ops, (size_t)cap * sizeof *grown);
            if (!grown) return oom();
            b->ops = grown;
            b->cap = cap;
        }
        b->ops[b->n] = (pl_cli_op_count){.op = op, .is_function = pl_map_find(&b->functions, op) != NULL};
        b->ops[b->n].supported = is_supported(b, op);
        PL_TRY(pl_map_put(&b->index, op, (void *)(uintptr_t)(b->n + 1)));
        pos = (uintptr_t)++b->n;
    }
    pl_cli_op_count *c = &b->ops[pos - 1];
    c->nodes++;
    return c->supported ? NULL : add_user(c, node ? node : "");
}

static pl_status keep_name(builder *b, const char *fn, const char *node, const char **out) {
    if (b->n_owned == b->cap_owned) {
        int cap = b->cap_owned ? 2 * b->cap_owned : 16;
        char **grown = realloc(b->owned_names, (size_t)cap * sizeof *grown);
        if (!grown) return oom();
        b->owned_names = grown;
        b->cap_owned = cap;
    }
    size_t len = strlen(fn) + strlen(node) + 2;
    char *s = malloc(len);
    if (!s) return oom();
    snprintf(s, len, "%s/%s", fn, node);
    b->owned_names[b->n_owned++] = s;
    *out = s;
    return NULL;
}

static int by_use(const void *a, const void *b) {
    const pl_cli_op_count *x = a, *y = b;
    if (x->nodes != y->nodes) return y->nodes - x->nodes;
    return strcmp(x->op, y->op);
}

static pl_status take(builder *b, const Tensorflow__GraphDef *g, pl_cli_op_census *out) {
    const Tensorflow__FunctionDefLibrary *lib = g->library;
    for (size_t f = 0; lib && f < lib->n_function; f++) {
        const Tensorflow__FunctionDef *fd = lib->function[f];
        if (fd && fd->signature && fd->signature->name) PL_TRY(pl_map_put(&b->functions, fd->signature->name, (void *)1));
    }
    for (size_t i = 0; i < g->n_node; i++)
        if (g->node[i]) PL_TRY(count(b, g->node[i]->op, g->node[i]->name));
    out->num_nodes = (int)g->n_node;
    for (size_t f = 0; lib && f < lib->n_function; f++) {
        const Tensorflow__FunctionDef *fd = lib->function[f];
        const char *fname = fd && fd->signature && fd->signature->name ? fd->signature->name : "";
        for (size_t k = 0; fd && k < fd->n_node_def; k++) {
            const Tensorflow__NodeDef *nd = fd->node_def[k];
            if (!nd) continue;
            const char *name = nd->name ? nd->name : "";
            if (nd->op && !is_supported(b, nd->op)) PL_TRY(keep_name(b, fname, name, &name));
            PL_TRY(count(b, nd->op, name));
            out->num_function_nodes++;
        }
    }
    out->num_nodes += out->num_function_nodes;
    return NULL;
}

pl_status pl_cli_op_census_take(const Tensorflow__GraphDef *g, pl_cli_op_census *out) {
    memset(out, 0, sizeof *out);
    builder b = {0};
    pl_map_init(&b.index, &pl_map_type_str_borrowed);
    pl_map_init(&b.functions, &pl_map_type_str_borrowed);
    pl_status st = take(&b, g, out);
    pl_map_deinit(&b.index);
    pl_map_deinit(&b.functions);
    if (b.n > 1) pl_qsort(b.ops, (size_t)b.n, sizeof *b.ops, by_use);
    out->ops = b.ops;
    out->num_ops = b.n;
    for (int i = 0; i < b.n; i++) out->num_unsupported += !b.ops[i].supported;
    out->owned_names_ = b.owned_names;
    out->num_owned_names_ = b.n_owned;
    if (st) pl_cli_op_census_deinit(out);
    return st;
}

void pl_cli_op_census_deinit(pl_cli_op_census *c) {
    for (int i = 0; i < c->num_ops; i++) free(c->ops[i].users);
    for (int i = 0; i < c->num_owned_names_; i++) free(c->owned_names_[i]);
    free(c->owned_names_);
    free(c->ops);
    memset(c, 0, sizeof *c);
}
