/* Base64 with the standard alphabet (RFC 4648 section 4), as TensorFlow
 * Serving reads and writes `{"b64": ...}` values.
 *
 * Decoding follows absl::Base64Unescape, which TF Serving uses: whitespace
 * anywhere is skipped, padding with '=' (or '.') is optional but when present
 * must be complete, and anything else outside the alphabet fails. The
 * web-safe alphabet ('-', '_') therefore fails, as in TF Serving
 * (tensorflow/serving#1141; spec/tfs-api.md 1c). */
#ifndef PL_BASE_BASE64_H
#define PL_BASE_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* 4 * ceil(n / 3): the exact encoded length, padding included. */
static inline size_t pl_base64_encoded_nbytes(size_t n) { return (n + 2) / 3 * 4; }
/* Writes pl_base64_encoded_nbytes(n) characters to dst (no NUL). */
void pl_base64_encode(const void *src, size_t n, char *dst);

/* An upper bound on the decoded length of n characters. */
static inline size_t pl_base64_decoded_max_nbytes(size_t n) { return n / 4 * 3 + n % 4; }
/* Decodes n characters into dst, which has room for
 * pl_base64_decoded_max_nbytes(n) bytes; false on malformed input. */
bool pl_base64_decode(const char *src, size_t n, void *dst, size_t *out_nbytes);

#endif
