/* NumPy .npy files <-> tensors: numeric dtypes and bool, little-endian, C
 * order (format versions 1-3), plus fixed-width byte strings ('S') for
 * string tensors.
 *
 *     pl_tensor *t;
 *     PL_TRY(pl_npy_read_file("x.npy", &t));
 *     PL_TRY(pl_npy_write_file("y.npy", t));
 *     pl_tensor_unref(t);
 */
#ifndef PL_TENSOR_NPY_H
#define PL_TENSOR_NPY_H

#include <stddef.h>

#include "base/status.h"
#include "tensor/tensor.h"

pl_status pl_npy_parse(const void *data, size_t len, pl_tensor **out);
pl_status pl_npy_read_file(const char *path, pl_tensor **out);

/* Encodes t as a version 1.0 .npy into a malloc'd buffer (*data, *len). */
pl_status pl_npy_encode(const pl_tensor *t, char **data, size_t *len);
pl_status pl_npy_write_file(const char *path, const pl_tensor *t);

#endif
