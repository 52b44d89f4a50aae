/* Reading model directories for the offline commands (inspect, convert):
 * version listing and the protos of one version, chosen like plinth's loader. */
#include "cli/modelfile.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "pb/pb.h"
#include "base/sort.h"

/* The protobuf limit: no larger message can exist. */
#define MAX_PROTO_BYTES ((size_t)2 << 30)

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

static bool all_digits(const char *s) {
    if (!*s || strlen(s) > 18) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

static int by_version(const void *a, const void *b) {
    int64_t x = ((const pl_cli_version_dir *)a)->version, y = ((const pl_cli_version_dir *)b)->version;
    return (x > y) - (x < y);
}

pl_status pl_cli_list_versions(const char *base, pl_cli_version_dir **versions, int *n) {
    char **names;
    size_t count;
    PL_TRY(pl_dir_list(base, &names, &count));
    pl_cli_version_dir *v = calloc(count + 1, sizeof *v);
    int k = 0;
    pl_status st = v ? NULL : oom();
    for (size_t i = 0; !st && i < count; i++) {
        if (!all_digits(names[i])) continue;
        char *sub = pl_path_join(base, names[i]);
        if (!sub) st = oom();
        else if (!pl_path_is_dir(sub)) free(sub);
        else v[k++] = (pl_cli_version_dir){strtoll(names[i], NULL, 10), sub};
    }
    pl_dir_list_free(names, count);
    if (st) {
        pl_cli_versions_free(v, k);
        return st;
    }
    pl_qsort(v, (size_t)k, sizeof *v, by_version);
    *versions = v;
    *n = k;
    return NULL;
}

void pl_cli_versions_free(pl_cli_version_dir *v, int n) {
    for (int i = 0; v && i < n; i++) free(v[i].dir);
    free(v);
}

pl_status pl_cli_read_graphdef(const char *path, Tensorflow__GraphDef **out) {
    char *data;
    size_t n;
    PL_TRY(pl_file_read(path, MAX_PROTO_BYTES, &data, &n));
    *out = tensorflow__graph_def__unpack(NULL, n, (const uint8_t *)data);
    free(data);
    return *out ? NULL : pl_error(PL_DATA_LOSS, "%s is not a binary GraphDef", path);
}

static pl_status read_saved_model(const char *path, bool text, Tensorflow__SavedModel **out) {
    char *data;
    size_t n;
    PL_TRY(pl_file_read(path, MAX_PROTO_BYTES, &data, &n));
    pl_status st = NULL;
    if (text) {
        ProtobufCMessage *m = NULL;
        st = pl_pb_parse_text(&tensorflow__saved_model__descriptor, data, n, &m);
        if (st) st = pl_status_prefix(st, "%s: ", path);
        else *out = (Tensorflow__SavedModel *)m;
    } else if (!(*out = tensorflow__saved_model__unpack(NULL, n, (const uint8_t *)data))) {
        st = pl_error(PL_DATA_LOSS, "%s is not a binary SavedModel", path);
    }
    free(data);
    return st;
}

/* The directory's one .pb file (malloc'd path). */
static pl_status find_frozen(const char *dir, char **out) {
    char **names;
    size_t count;
    PL_TRY(pl_dir_list(dir, &names, &count));
    const char *found = NULL;
    int n = 0;
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(names[i]);
        if (len > 3 && !strcmp(names[i] + len - 3, ".pb") && !n++) found = names[i];
    }
    pl_status st = NULL;
    if (n == 0) st = pl_error(PL_NOT_FOUND, "%s holds no saved_model.pb, saved_model.pbtxt or frozen graph (.pb)", dir);
    else if (n > 1) st = pl_error(PL_INVALID_ARGUMENT, "%s holds %d .pb files; a frozen graph directory holds one", dir, n);
    else if (!(*out = pl_path_join(dir, found))) st = oom();
    pl_dir_list_free(names, count);
    return st;
}

pl_status pl_cli_model_file_read(const char *path, pl_cli_model_file *out) {
    memset(out, 0, sizeof *out);
    if (!pl_path_exists(path)) return pl_error(PL_NOT_FOUND, "%s does not exist", path);
    pl_status st = NULL;
    if (!pl_path_is_dir(path)) {
        if (!(out->path = strdup(path))) return oom();
        st = pl_cli_read_graphdef(path, &out->frozen);
    } else {
        char *pb = pl_path_join(path, "saved_model.pb"), *pbtxt = pl_path_join(path, "saved_model.pbtxt");
        bool text = pbtxt && !pl_path_exists(pb ? pb : "") && pl_path_exists(pbtxt);
        if (!pb || !pbtxt) {
            st = oom();
        } else if (text || pl_path_exists(pb)) {
            out->path = text ? pbtxt : pb;
            if (text) pbtxt = NULL;
            else pb = NULL;
            st = read_saved_model(out->path, text, &out->saved);
        } else if (!(st = find_frozen(path, &out->path))) {
            st = pl_cli_read_graphdef(out->path, &out->frozen);
        }
        free(pb);
        free(pbtxt);
    }
    if (st) pl_cli_model_file_deinit(out);
    return st;
}

void pl_cli_model_file_deinit(pl_cli_model_file *f) {
    if (f->saved) tensorflow__saved_model__free_unpacked(f->saved, NULL);
    if (f->frozen) tensorflow__graph_def__free_unpacked(f->frozen, NULL);
    free(f->path);
    memset(f, 0, sizeof *f);
}
