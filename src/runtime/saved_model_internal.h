/* Names shared between the SavedModel loader's files: TF1 reference
 * variables rewritten to handles, and SignatureDefs turned into
 * pl_signature. */
#ifndef PL_RUNTIME_SAVED_MODEL_INTERNAL_H
#define PL_RUNTIME_SAVED_MODEL_INTERNAL_H

#include "base/status.h"
#include "runtime/graph.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "tensorflow/core/framework/graph.pb-c.h"
#include "tensorflow/core/protobuf/meta_graph.pb-c.h"

/* What loading a SavedModel produces before it becomes a pl_model: the
 * chosen MetaGraph's graph, a session whose variables are restored and whose
 * init op has run, and the SignatureDefs sorted by key. */
typedef struct pl__saved_model_parts {
    pl_graph *graph;
    pl_session *session;
    int num_signatures;
    pl_signature *signatures;
} pl__saved_model_parts;

/* Reads the SavedModel in `dir` for the comma-separated `tags` (NULL or ""
 * means "serve"), following TensorFlow's loader: exact tag-set match,
 * restore through the SaverDef when variables/variables.index exists, asset
 * paths fed to the restore and init ops, then the init op
 * (__saved_model_init_op signature, else the saved_model_main_op or
 * legacy_init_op collection). */
pl_status pl__saved_model_read(const char *dir, const char *tags, pl__saved_model_parts *out);
void pl__saved_model_parts_free(pl__saved_model_parts *p);

/* TF1 reference variables (VariableV2, Variable) without reference edges.
 *
 * In TensorFlow a VariableV2 output is a reference: ops declared with a ref
 * input (Assign, AssignAdd, IsVariableInitialized, ...) mutate the variable
 * through it, every other consumer reads the current value. plinth's tensors
 * are immutable values, so the loader rewrites each variable node N into
 *
 *     N/_handle  VariableV2     -> a RESOURCE handle of the session variable
 *     N          ReadVariableOp -> its current value (N keeps its name, so
 *                                  signatures and consumers reading N:0 are unchanged)
 *
 * and points the ref inputs of the ops that take one, and control inputs
 * (`^N`, which must not fail on an uninitialised variable), at N/_handle.
 * The state kernels of those ops accept a handle where TF passes a ref.
 * *num_rewritten receives the number of variables rewritten. */
pl_status pl__saved_model_rewrite_ref_variables(Tensorflow__GraphDef *g, int *num_rewritten);

/* Converts one SignatureDef (release it with pl__signature_clear, internal.h).
 * Reference dtypes (DT_FLOAT_REF) become their value dtypes. On error nothing
 * is allocated. */
pl_status pl__signature_from_proto(const char *key, const Tensorflow__SignatureDef *def, pl_signature *out);

#endif
