/* A model's signatures as the SignatureDefMap that GetModelMetadata reports:
 * gRPC packs it into an Any, REST prints it as JSON. */
#ifndef PL_API_SIGNATURE_PROTO_H
#define PL_API_SIGNATURE_PROTO_H

#include "base/arena.h"
#include "base/status.h"
#include "runtime/model.h"
#include "tensorflow_serving/apis/get_model_metadata.pb-c.h"

/* Fills *map with every signature of m (sorted by key), allocated from a. */
pl_status pl__signature_def_map(pl_arena *a, const pl_model *m, Tensorflow__Serving__SignatureDefMap *map);

#endif
