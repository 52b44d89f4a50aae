/* TensorProto <-> pl_tensor, with TensorFlow's Tensor::FromProto / AsProtoField /
 * AsProtoTensorContent semantics.
 *
 * Decoding follows TensorFlow exactly where a client can tell the difference:
 *   - a non-empty tensor_content wins over the typed fields;
 *   - otherwise the typed field of the dtype is read (float_val for DT_FLOAT,
 *     int_val for the small integer and quantized types, half_val holding the
 *     16 bits of DT_HALF and DT_BFLOAT16, scomplex_val / dcomplex_val as
 *     real, imaginary pairs, ...). Fewer values than elements repeat the last
 *     value (so one value fills the whole shape), more values are ignored, and
 *     no value at all gives zeros / empty strings. Values of other typed fields
 *     are ignored, as in TensorFlow;
 *   - int_val is narrowed to 8 and 16-bit types by keeping the low bits.
 * It is stricter than TensorFlow only where TensorFlow's result is undefined or
 * unusable: unknown_rank is an error, ranks above PL_MAX_RANK are errors, bool
 * bytes in tensor_content are normalised to 0 / 1, and DT_RESOURCE / DT_VARIANT
 * tensors with elements are UNIMPLEMENTED.
 *
 * Encoding allocates everything (the message, its shape, arrays and strings)
 * from one ProtobufCAllocator, so the result is released in one call:
 *
 *     Tensorflow__TensorProto *p;
 *     PL_TRY(pl_tensor_to_proto(t, false, NULL, &p));
 *     ... pack p or attach it to a response ...
 *     protobuf_c_message_free_unpacked(&p->base, NULL);
 *
 * With an arena-backed allocator whose free is a no-op, dropping the arena is
 * enough. The functions never keep pointers into their inputs. */
#ifndef PL_TENSOR_TENSOR_PROTO_H
#define PL_TENSOR_TENSOR_PROTO_H

#include <stdbool.h>

#include "tensor/tensor.h"
#include "tensorflow/core/framework/tensor.pb-c.h"

/* A new tensor holding the value of `proto`. Errors are INVALID_ARGUMENT for a
 * malformed proto, UNIMPLEMENTED for unsupported dtypes with elements and
 * RESOURCE_EXHAUSTED for tensors above PL_TENSOR_MAX_BYTES. */
pl_status pl_tensor_from_proto(const Tensorflow__TensorProto *proto, pl_tensor **out);

/* Encodes `t` into a new TensorProto. With `as_tensor_content` the elements go
 * into tensor_content (strings as varint lengths followed by the bytes, like
 * TensorFlow's AsProtoTensorContent); otherwise into the dtype's typed field
 * (AsProtoField). `alloc` NULL means the system allocator. */
pl_status pl_tensor_to_proto(const pl_tensor *t, bool as_tensor_content, ProtobufCAllocator *alloc,
                             Tensorflow__TensorProto **out);

/* A fully defined shape: no unknown rank, no negative dimension, at most
 * PL_MAX_RANK dimensions, element count within int64. NULL means a scalar. */
pl_status pl_shape_from_proto(const Tensorflow__TensorShapeProto *proto, int *rank, int64_t *dims);

/* A possibly partial shape (signatures): *rank is -1 for unknown rank, and
 * dims of -1 are unknown. Other negative sizes and ranks above PL_MAX_RANK
 * are errors. NULL means a scalar. */
pl_status pl_partial_shape_from_proto(const Tensorflow__TensorShapeProto *proto, int *rank, int64_t *dims);

#endif
