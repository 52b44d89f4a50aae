/* Files and paths: whole-file reads with a size cap, read-only mappings,
 * directory listings, path joining and existence checks.
 *
 * Errors carry the path and the system's reason, with NOT_FOUND for a missing
 * path, RESOURCE_EXHAUSTED for a file over the cap and FAILED_PRECONDITION
 * for a directory where a file was expected. */
#ifndef PL_BASE_FILE_H
#define PL_BASE_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"

/* Reads the whole file into a malloc'd buffer with a NUL after the last byte
 * (the caller frees *data). Files larger than max_nbytes are refused without
 * being read. */
pl_status pl_file_read(const char *path, size_t max_nbytes, char **data, size_t *nbytes);

/* A read-only view of a file's bytes. */
typedef struct pl_mapped_file {
    const void *data;  /* valid until pl_file_unmap; not NUL-terminated */
    size_t nbytes;
    void *map_;        /* what munmap releases; NULL for an empty file */
    size_t map_nbytes_;
} pl_mapped_file;

/* Maps the file read-only. An empty file gives nbytes 0 and a non-NULL data. */
pl_status pl_file_map(const char *path, pl_mapped_file *out);
/* Releases the mapping; a zeroed or already unmapped struct is fine. */
void pl_file_unmap(pl_mapped_file *f);

/* The names in a directory, without "." and "..", sorted by strcmp. *names is
 * one malloc'd array of malloc'd strings: release it with pl_dir_list_free. */
pl_status pl_dir_list(const char *path, char ***names, size_t *count);
void pl_dir_list_free(char **names, size_t count);

/* a + "/" + b with exactly one slash between them (a empty gives b); malloc'd,
 * NULL when memory runs out. */
char *pl_path_join(const char *a, const char *b);
bool pl_path_exists(const char *path);
bool pl_path_is_dir(const char *path);

#endif
