/* plinth-cli convert FROZEN.pb OUTDIR: wraps a frozen GraphDef in a SavedModel
 * that TensorFlow Serving itself can load — OUTDIR/<version>/saved_model.pb
 * holding one MetaGraphDef tagged "serve", the graph unchanged, and the
 * signatures plinth serves for the frozen graph (the derived serving_default,
 * or those of a signature.pbtxt beside it; taken from plinth's own loader, so
 * both servers expose the same signatures) — next to an empty variables/
 * directory, the layout TensorFlow's SavedModelBuilder writes for a graph
 * without variables. There is no saver_def, so TensorFlow's loader restores
 * nothing (it also skips the restore when variables/variables.index is
 * absent), and no init op or assets. meta_info_def carries the tags only:
 * stripped_op_list and tensorflow_version describe the op registry and build
 * of the TensorFlow that wrote a model, and no loader reads them. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "cli/cli.h"
#include "cli/modelfile.h"
#include "runtime/model.h"

const char pl_cli_convert_usage[] =
    "usage: plinth-cli convert FROZEN.pb OUTDIR [--version N] [--force]\n"
    "  writes OUTDIR/N/saved_model.pb and an empty OUTDIR/N/variables/ (N defaults to 1): a SavedModel\n"
    "  TensorFlow Serving can load, with the frozen graph unchanged and the signatures plinth serves\n"
    "  for it (the derived serving_default, or those of a signature.pbtxt next to the .pb).\n"
    "  FROZEN.pb may also be a directory holding one .pb. --force replaces an existing OUTDIR/N.\n";

/* The TensorInfo and map entry of one signature tensor; the strings are the
 * pl_tensor_info's own. */
typedef struct info_storage {
    Tensorflow__TensorInfo info;
    Tensorflow__TensorShapeProto shape;
    Tensorflow__TensorShapeProto__Dim dims[PL_MAX_RANK];
    Tensorflow__TensorShapeProto__Dim *dim_ptrs[PL_MAX_RANK];
    Tensorflow__SignatureDef__InputsEntry entry;
} info_storage;

static void fill_info(info_storage *s, const pl_tensor_info *t) {
    tensorflow__tensor_info__init(&s->info);
    tensorflow__tensor_shape_proto__init(&s->shape);
    s->info.encoding_case = TENSORFLOW__TENSOR_INFO__ENCODING_NAME;
    s->info.name = t->tensor_name;
    s->info.dtype = (Tensorflow__DataType)t->dtype;
    s->info.tensor_shape = &s->shape;
    if (t->rank < 0) {
        s->shape.unknown_rank = true;
    } else {
        for (int d = 0; d < t->rank; d++) {
            tensorflow__tensor_shape_proto__dim__init(&s->dims[d]);
            s->dims[d].size = t->dims[d];
            s->dim_ptrs[d] = &s->dims[d];
        }
        s->shape.n_dim = (size_t)t->rank;
        s->shape.dim = s->dim_ptrs;
    }
    tensorflow__signature_def__inputs_entry__init(&s->entry);
    s->entry.key = t->alias;
    s->entry.value = &s->info;
}

/* One SignatureDef and the storage behind it. */
typedef struct sig_storage {
    info_storage *infos;
    Tensorflow__SignatureDef__InputsEntry **entries;
    Tensorflow__SignatureDef def;
    Tensorflow__MetaGraphDef__SignatureDefEntry entry;
} sig_storage;

static pl_status fill_signature(sig_storage *s, const pl_signature *sig) {
    int n = sig->num_inputs + sig->num_outputs;
    s->infos = calloc((size_t)n + 1, sizeof *s->infos);
    s->entries = calloc((size_t)n + 1, sizeof *s->entries);
    if (!s->infos || !s->entries) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < n; i++) {
        fill_info(&s->infos[i], i < sig->num_inputs ? &sig->inputs[i] : &sig->outputs[i - sig->num_inputs]);
        s->entries[i] = &s->infos[i].entry;
    }
    tensorflow__signature_def__init(&s->def);
    s->def.n_inputs = (size_t)sig->num_inputs;
    s->def.inputs = s->entries;
    s->def.n_outputs = (size_t)sig->num_outputs;
    s->def.outputs = (Tensorflow__SignatureDef__OutputsEntry **)(s->entries + sig->num_inputs);
    s->def.method_name = sig->method_name;
    tensorflow__meta_graph_def__signature_def_entry__init(&s->entry);
    s->entry.key = sig->key;
    s->entry.value = &s->def;
    return NULL;
}

/* Packs the SavedModel for `graph` with every signature of `model` into a
 * malloc'd buffer. */
static pl_status pack_saved_model(Tensorflow__GraphDef *graph, const pl_model *model, uint8_t **data, size_t *len) {
    int nsig = pl_model_num_signatures(model);
    sig_storage *sigs = calloc((size_t)nsig + 1, sizeof *sigs);
    Tensorflow__MetaGraphDef__SignatureDefEntry **sig_entries = calloc((size_t)nsig + 1, sizeof *sig_entries);
    pl_status st = sigs && sig_entries ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; !st && i < nsig; i++) {
        st = fill_signature(&sigs[i], pl_model_signature(model, i));
        sig_entries[i] = &sigs[i].entry;
    }
    if (!st) {
        char *tags[1] = {"serve"};
        Tensorflow__MetaGraphDef__MetaInfoDef info = TENSORFLOW__META_GRAPH_DEF__META_INFO_DEF__INIT;
        info.n_tags = 1;
        info.tags = tags;
        Tensorflow__MetaGraphDef meta = TENSORFLOW__META_GRAPH_DEF__INIT;
        meta.meta_info_def = &info;
        meta.graph_def = graph;
        meta.n_signature_def = (size_t)nsig;
        meta.signature_def = sig_entries;
        Tensorflow__MetaGraphDef *metas[1] = {&meta};
        Tensorflow__SavedModel saved = TENSORFLOW__SAVED_MODEL__INIT;
        saved.saved_model_schema_version = 1;
        saved.n_meta_graphs = 1;
        saved.meta_graphs = metas;
        *len = tensorflow__saved_model__get_packed_size(&saved);
        if (*len > (size_t)INT32_MAX)
            st = pl_error(PL_RESOURCE_EXHAUSTED, "the SavedModel would pass protobuf's 2 GB limit");
        else if (!(*data = malloc(*len + 1))) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        else tensorflow__saved_model__pack(&saved, *data);
    }
    for (int i = 0; sigs && i < nsig; i++) {
        free(sigs[i].infos);
        free(sigs[i].entries);
    }
    free(sigs);
    free(sig_entries);
    return st;
}

static pl_status write_file(const char *path, const uint8_t *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return pl_error(PL_PERMISSION_DENIED, "cannot write %s: %s", path, strerror(errno));
    bool ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    return ok ? NULL : pl_error(PL_DATA_LOSS, "cannot write %s: %s", path, strerror(errno));
}

static bool same_info(const pl_tensor_info *a, const pl_tensor_info *b) {
    bool same = !strcmp(a->alias, b->alias) && !strcmp(a->tensor_name, b->tensor_name) && a->dtype == b->dtype &&
                a->rank == b->rank;
    for (int d = 0; same && d < a->rank; d++) same = a->dims[d] == b->dims[d];
    return same;
}

/* Loads the written SavedModel back and checks plinth sees the same signatures. */
static pl_status check_written(const char *dir, const pl_model *want_model) {
    pl_model *m;
    PL_TRY(pl_model_load(dir, NULL, &m));
    pl_status st = NULL;
    if (pl_model_num_signatures(m) != pl_model_num_signatures(want_model))
        st = pl_error(PL_INTERNAL, "the written SavedModel does not carry the frozen graph's signatures");
    for (int s = 0; !st && s < pl_model_num_signatures(want_model); s++) {
        const pl_signature *want = pl_model_signature(want_model, s);
        const pl_signature *got = pl_model_find_signature(m, want->key);
        if (!got || got->num_inputs != want->num_inputs || got->num_outputs != want->num_outputs ||
            strcmp(got->method_name, want->method_name))
            st = pl_error(PL_INTERNAL, "the written SavedModel's signature '%s' differs", want->key);
        for (int i = 0; !st && i < want->num_inputs + want->num_outputs; i++) {
            bool in = i < want->num_inputs;
            const pl_tensor_info *a = in ? &want->inputs[i] : &want->outputs[i - want->num_inputs];
            const pl_tensor_info *b = in ? &got->inputs[i] : &got->outputs[i - want->num_inputs];
            if (!same_info(a, b))
                st = pl_error(PL_INTERNAL, "the written SavedModel's signature '%s' differs at '%s'", want->key, a->alias);
        }
    }
    pl_model_free(m);
    return st;
}

/* "signature 'serving_default' with 4 inputs and 3 outputs", or each of several. */
static void print_signatures(const pl_model *m) {
    int n = pl_model_num_signatures(m);
    printf("signature%s", n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        const pl_signature *sig = pl_model_signature(m, i);
        printf("%s '%s' with %d input%s and %d output%s", i ? "," : "", sig->key, sig->num_inputs,
               sig->num_inputs == 1 ? "" : "s", sig->num_outputs, sig->num_outputs == 1 ? "" : "s");
    }
    printf("\n");
}

/* True when `dir` holds nothing, or only the entries in `allowed`. */
static bool holds_only(const char *dir, const char *const *allowed) {
    char **names;
    size_t n;
    pl_status st = pl_dir_list(dir, &names, &n);
    if (st) {
        pl_status_free(st);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        ok = false;
        for (int k = 0; allowed[k] && !ok; k++) ok = !strcmp(names[i], allowed[k]);
    }
    pl_dir_list_free(names, n);
    return ok;
}

/* Whether `dir` holds only what convert writes (saved_model.pb and an empty
 * variables/), so that --force may replace it; anything else (a checkpoint,
 * assets) is left alone. */
static pl_status check_replaceable(const char *dir) {
    static const char *const version_entries[] = {"saved_model.pb", "variables", NULL};
    static const char *const no_entries[] = {NULL};
    char *vars = pl_path_join(dir, "variables");
    pl_status st = vars ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st && (!holds_only(dir, version_entries) || (pl_path_exists(vars) && !holds_only(vars, no_entries))))
        st = pl_error(PL_FAILED_PRECONDITION, "cannot replace %s: it holds more than a converted frozen graph", dir);
    free(vars);
    return st;
}

/* Removes a version directory check_replaceable accepted. */
static pl_status remove_version(const char *dir) {
    char *pb = pl_path_join(dir, "saved_model.pb"), *vars = pl_path_join(dir, "variables");
    pl_status st = pb && vars ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st && pl_path_exists(pb) && unlink(pb))
        st = pl_error(PL_FAILED_PRECONDITION, "cannot replace %s: %s", dir, strerror(errno));
    if (!st && pl_path_exists(vars) && rmdir(vars))
        st = pl_error(PL_FAILED_PRECONDITION, "cannot replace %s: %s", dir, strerror(errno));
    if (!st && rmdir(dir)) st = pl_error(PL_FAILED_PRECONDITION, "cannot replace %s: %s", dir, strerror(errno));
    free(pb);
    free(vars);
    return st;
}

/* Puts the new version in place of the old one. The two directories are
 * swapped in one step where the file system can (a server polling OUTDIR
 * sees the old version or the new, never neither), then the old one, now
 * under the temporary name, is removed. */
static pl_status replace_version(const char *tmp_dir, const char *final_dir) {
    PL_TRY(check_replaceable(final_dir));
    if (!renameat2(AT_FDCWD, tmp_dir, AT_FDCWD, final_dir, RENAME_EXCHANGE)) {
        /* The new version is in place; an old one that cannot be removed is only litter. */
        pl_status st = remove_version(tmp_dir);
        if (st) fprintf(stderr, "plinth-cli: warning: the replaced version is left at %s\n", tmp_dir);
        pl_status_free(st);
        return NULL;
    }
    PL_TRY(remove_version(final_dir));
    return rename(tmp_dir, final_dir)
               ? pl_error(PL_PERMISSION_DENIED, "cannot create %s: %s", final_dir, strerror(errno))
               : NULL;
}

/* A model base path (what --model_base_path names) holds version
 * directories; convert takes one of them, so the error says which. */
static pl_status hint_base_path(const char *input, pl_status st) {
    pl_cli_version_dir *v;
    int n = 0;
    pl_status lst = pl_cli_list_versions(input, &v, &n);
    if (lst) {
        pl_status_free(lst);
        return st;
    }
    if (n > 0) {
        pl_status hint = pl_error(PL_INVALID_ARGUMENT,
                                  "%s is a model base path; convert one version directory: plinth-cli convert %s OUTDIR",
                                  input, v[n - 1].dir);
        pl_status_free(st);
        st = hint;
    }
    pl_cli_versions_free(v, n);
    return st;
}

typedef struct convert_args {
    const char *input, *outdir;
    int64_t version;
    bool force;
} convert_args;

static int parse(int argc, char **argv, convert_args *a) {
    *a = (convert_args){.version = 1};
    for (int i = 0; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--version") && next) {
            char *end;
            a->version = strtoll(argv[++i], &end, 10);
            if (*end || a->version < 0) return -1;
        } else if (!strcmp(argv[i], "--force")) {
            a->force = true;
        } else if (argv[i][0] == '-') {
            return -1;
        } else if (!a->input) {
            a->input = argv[i];
        } else if (!a->outdir) {
            a->outdir = argv[i];
        } else {
            return -1;
        }
    }
    return a->input && a->outdir ? 0 : -1;
}

int pl_cli_convert(pl_cli *cli, int argc, char **argv) {
    convert_args a;
    if (parse(argc, argv, &a)) return pl_cli_usage(pl_cli_convert_usage);
    if (!getenv("PLINTH_LOG_LEVEL")) pl_log_set_level(PL_LOG_WARNING);
    char vname[32], tmpname[64];
    snprintf(vname, sizeof vname, "%" PRId64, a.version);
    snprintf(tmpname, sizeof tmpname, ".%s.converting-%ld", vname, (long)getpid());
    char *final_dir = pl_path_join(a.outdir, vname), *tmp_dir = pl_path_join(a.outdir, tmpname);
    char *tmp_file = tmp_dir ? pl_path_join(tmp_dir, "saved_model.pb") : NULL;
    char *tmp_vars = tmp_dir ? pl_path_join(tmp_dir, "variables") : NULL;
    pl_cli_model_file in = {0};
    pl_model *model = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    bool made_tmp = false;
    pl_status st = final_dir && tmp_file && tmp_vars ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");

    if (!st) st = pl_cli_model_file_read(a.input, &in);
    if (st && pl_path_is_dir(a.input)) st = hint_base_path(a.input, st);
    if (!st && in.saved)
        st = pl_error(PL_INVALID_ARGUMENT, "%s is already a SavedModel; convert takes a frozen graph (.pb)", a.input);
    /* plinth's own loader derives the signature: the converted model then
     * shows TensorFlow Serving clients exactly what plinth shows them. */
    if (!st) st = pl_model_load(in.path, NULL, &model);
    if (!st && pl_path_exists(final_dir) && !a.force)
        st = pl_error(PL_ALREADY_EXISTS, "%s already exists (--force replaces it)", final_dir);
    if (!st && mkdir(a.outdir, 0755) && errno != EEXIST)
        st = pl_error(PL_PERMISSION_DENIED, "cannot create %s: %s", a.outdir, strerror(errno));
    if (!st && mkdir(tmp_dir, 0755))
        st = pl_error(PL_PERMISSION_DENIED, "cannot create %s: %s", tmp_dir, strerror(errno));
    made_tmp = !st;
    if (!st && mkdir(tmp_vars, 0755))
        st = pl_error(PL_PERMISSION_DENIED, "cannot create %s: %s", tmp_vars, strerror(errno));
    if (!st) st = pack_saved_model(in.frozen, model, &data, &len);
    if (!st) st = write_file(tmp_file, data, len);
    if (!st) st = check_written(tmp_dir, model);
    /* The version appears whole: a server polling OUTDIR never sees a
     * directory without its saved_model.pb. */
    if (!st && a.force && pl_path_exists(final_dir)) st = replace_version(tmp_dir, final_dir);
    else if (!st && rename(tmp_dir, final_dir))
        st = pl_error(PL_PERMISSION_DENIED, "cannot create %s: %s", final_dir, strerror(errno));
    if (!st) {
        made_tmp = false;
        printf("wrote %s/saved_model.pb (%zu bytes): ", final_dir, len);
        print_signatures(model);
    }
    if (made_tmp) {
        unlink(tmp_file);
        rmdir(tmp_vars);
        rmdir(tmp_dir);
    }
    free(data);
    pl_model_free(model);
    pl_cli_model_file_deinit(&in);
    free(final_dir);
    free(tmp_dir);
    free(tmp_file);
    free(tmp_vars);
    return st ? pl_cli_fail(cli, st) : 0;
}
