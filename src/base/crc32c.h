/* CRC-32C (Castagnoli), the checksum of LevelDB tables and TensorFlow
 * checkpoints, with the "mask" those formats store so that a CRC of data that
 * itself contains CRCs does not degenerate.
 *
 *     uint32_t crc = pl_crc32c_extend(0, header, n1);
 *     crc = pl_crc32c_extend(crc, body, n2);       // same as one call over both
 *     if (pl_crc32c_unmask(stored) != crc) ...     // corrupt
 */
#ifndef PL_BASE_CRC32C_H
#define PL_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of data[0..n) continuing from `crc` (0 to start). Thread-safe. */
uint32_t pl_crc32c_extend(uint32_t crc, const void *data, size_t n);

static inline uint32_t pl_crc32c(const void *data, size_t n) { return pl_crc32c_extend(0, data, n); }

/* The table-driven code alone, whatever the CPU offers (for tests). */
uint32_t pl__crc32c_extend_portable(uint32_t crc, const void *data, size_t n);

/* LevelDB's mask: rotate right by 15 bits and add a constant. */
static inline uint32_t pl_crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
static inline uint32_t pl_crc32c_unmask(uint32_t masked) {
    uint32_t rot = masked - 0xa282ead8u;
    return (rot >> 17) | (rot << 15);
}

#endif
