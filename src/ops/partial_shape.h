/* TensorFlow's PartialTensorShape as the TensorArray and TensorList ops use
 * it (rank -1 is unknown, a dim -1 is unknown): both families check element
 * shapes against it, merge into it and print it in their error messages, and
 * must do so with the same rules and words. */
#ifndef PL_OPS_PARTIAL_SHAPE_H
#define PL_OPS_PARTIAL_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "tensor/tensor.h"

typedef struct pl__pshape {
    int rank;
    int64_t dims[PL_MAX_RANK];
} pl__pshape;

/* Known rank and every dim known. */
bool pl__pshape_fully_defined(const pl__pshape *s);
/* Whether a full shape (rank, dims) fits the partial shape. */
bool pl__pshape_compatible(const pl__pshape *s, int rank, const int64_t *dims);
/* PartialTensorShape::DebugString: "<unknown>", "[?,3]". Returns buf. */
const char *pl__pshape_str(const pl__pshape *s, char *buf, size_t size);
/* PartialTensorShape::MergeWith of (rank, dims) into *into; rank -1 is an
 * unknown shape. *into is unchanged when the shapes conflict. */
pl_status pl__pshape_merge(pl__pshape *into, int rank, const int64_t *dims);

#endif
