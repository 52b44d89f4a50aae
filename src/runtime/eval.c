/* Running one node's kernel outside any execution, on tensors already known:
 * what constant folding and shape inference's constant evaluation do. */
#include <stdlib.h>

#include "runtime/executor.h"
#include "runtime/internal.h"

pl_status pl__eval_node(const pl_node *n, const pl_kernel_def *k, struct pl_function_lib *lib, pl_session *session,
                        pl_tensor *const *inputs, int num_outputs, pl_tensor **outputs) {
    for (int i = 0; i < num_outputs; i++) outputs[i] = NULL;
    pl_kernel_prep p = {.node_name = n->name, .op = n->op, .attrs = n->attrs, .num_inputs = n->num_inputs,
                        .num_outputs = num_outputs, .lib = lib, .session = session};
    pl_status st = k->prepare ? k->prepare(&p) : NULL;
    int nout = p.num_outputs > num_outputs ? p.num_outputs : num_outputs;
    pl_tensor **out = st ? NULL : calloc((size_t)nout + 1, sizeof *out);
    if (!st && !out) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st) {
        struct pl_run run = {.session = session};
        pl_kernel_ctx c = {.state = p.state, .node_name = n->name, .num_inputs = n->num_inputs, .inputs = inputs,
                           .num_outputs = nout, .outputs = out, .run = &run, .session = session};
        st = k->compute(&c);
        pl__ctx_release_dropped();
    }
    if (k->release && p.state) k->release(p.state);
    for (int i = 0; out && i < nout; i++) {
        if (!st && i < num_outputs) outputs[i] = out[i];
        else pl_tensor_unref(out[i]);
    }
    free(out);
    return st;
}
