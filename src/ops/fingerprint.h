/* TensorFlow's Fingerprint64 (FarmHash's farmhashna::Hash64), the hash behind
 * StringToHashBucketFast. It is part of a model's semantics: feature columns
 * hashed at training time must land in the same buckets when serving. */
#ifndef PL_OPS_FINGERPRINT_H
#define PL_OPS_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

uint64_t pl_fingerprint64(const void *data, size_t len);

#endif
