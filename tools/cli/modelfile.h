/* Model files on disk, read without a server: the numeric version
 * directories of a base path, and the SavedModel or frozen GraphDef protos
 * inside a version directory, as protobuf-c messages. */
#ifndef PL_CLI_MODELFILE_H
#define PL_CLI_MODELFILE_H

#include <stdint.h>

#include "base/status.h"
#include "tensorflow/core/framework/graph.pb-c.h"
#include "tensorflow/core/protobuf/saved_model.pb-c.h"

typedef struct pl_cli_version_dir {
    int64_t version;
    char *dir;               /* base/name, malloc'd ("00000123" stays as written) */
} pl_cli_version_dir;

/* The version directories under `base` (names made only of digits), by
 * ascending version; free with pl_cli_versions_free. *n may be 0. */
pl_status pl_cli_list_versions(const char *base, pl_cli_version_dir **versions, int *n);
void pl_cli_versions_free(pl_cli_version_dir *v, int n);

/* What a version directory (or a lone .pb file) holds. */
typedef struct pl_cli_model_file {
    char *path;                      /* the file that was read (malloc'd) */
    Tensorflow__SavedModel *saved;   /* a SavedModel, or NULL */
    Tensorflow__GraphDef *frozen;    /* a frozen GraphDef, or NULL */
} pl_cli_model_file;

/* Reads saved_model.pb, else saved_model.pbtxt, else the directory's one .pb
 * as a frozen GraphDef, the way plinth's loader chooses; `path` may also
 * name a .pb file. */
pl_status pl_cli_model_file_read(const char *path, pl_cli_model_file *out);
void pl_cli_model_file_deinit(pl_cli_model_file *f);

/* The binary GraphDef in `path`. Free with tensorflow__graph_def__free_unpacked. */
pl_status pl_cli_read_graphdef(const char *path, Tensorflow__GraphDef **out);

#endif
