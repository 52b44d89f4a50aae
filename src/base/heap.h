/* Giving free heap memory back to the system after large requests.
 *
 * A request image arrives as hundreds of small receive buffers and is then
 * decoded into one large block. Freed small blocks stay resident in the
 * heap (glibc returns only the top of each arena by itself), so without
 * this the receive buffers of one request and the tensors of the next add
 * up: peak memory then grows request after request. */
#ifndef PL_BASE_HEAP_H
#define PL_BASE_HEAP_H

#include <stddef.h>

/* Blocks of this size and more get mappings of their own (main.c sets
 * glibc's mmap threshold to it) and go back to the system when freed. */
#define PL_HEAP_OWN_MAPPING ((size_t)4 << 20)

/* Requests whose bytes reach this are worth a trim afterwards. Smaller ones
 * (a 498x310 image is 1.9 MB) leave their blocks in the heap for the next
 * request to reuse: trimming after each cost the next one its page faults
 * again, a fifth of its time. */
#define PL_HEAP_TRIM_AFTER ((size_t)8 << 20)

/* Returns the free pages of every heap arena to the system (madvise); costs
 * about a millisecond on a heap of tens of MB, so call it after large
 * requests only. A no-op where the C library cannot do it. */
void pl_heap_trim(void);

/* Asks for transparent huge pages over the whole 2 MB extents of a block of
 * its own mapping (bytes >= PL_HEAP_OWN_MAPPING): first touching a fresh
 * 25 MB activation otherwise costs 6000 page faults. Smaller blocks live in
 * the heap, where huge pages would outlive the block (and a later small
 * allocation would make 2 MB resident), so they are left alone. */
void pl_heap_advise_huge(void *block, size_t bytes);

#endif
