/* Loading a SavedModel the way TensorFlow's loader (cc/saved_model/loader.cc)
 * does: pick the MetaGraphDef whose tag set equals the requested one, import
 * its graph, restore the variables by running the SaverDef's restore op with
 * the checkpoint prefix fed, feed asset file paths, run the init op. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/log.h"
#include "pb/pb.h"
#include "runtime/executor.h"
#include "runtime/internal.h"
#include "runtime/saved_model_internal.h"
#include "tensorflow/core/protobuf/saved_model.pb-c.h"
#include "base/sort.h"

/* The protobuf limit: larger SavedModels cannot exist. */
#define MAX_SAVED_MODEL_BYTES ((size_t)2 << 30)

#define INIT_OP_SIGNATURE_KEY "__saved_model_init_op"
#define MAIN_OP_COLLECTION "saved_model_main_op"
#define LEGACY_INIT_OP_COLLECTION "legacy_init_op"
#define ASSETS_COLLECTION "saved_model_assets"
#define ASSET_FILE_DEF_TYPE "tensorflow.AssetFileDef"

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

/* ---- tags ---- */

typedef struct tag_set {
    int n;
    char **tags;   /* sorted, unique */
} tag_set;

static void tags_free(tag_set *t) {
    for (int i = 0; i < t->n; i++) free(t->tags[i]);
    free(t->tags);
    t->tags = NULL;
    t->n = 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static pl_status tags_add(tag_set *t, const char *s, size_t len) {
    char **grown = realloc(t->tags, (size_t)(t->n + 1) * sizeof *grown);
    if (!grown) return oom();
    t->tags = grown;
    if (!(t->tags[t->n] = strndup(s, len))) return oom();
    t->n++;
    return NULL;
}

static void tags_normalize(tag_set *t) {
    pl_qsort(t->tags, (size_t)t->n, sizeof *t->tags, cmp_str);
    int k = 0;
    for (int i = 0; i < t->n; i++) {
        if (k && !strcmp(t->tags[i], t->tags[k - 1])) free(t->tags[i]);
        else t->tags[k++] = t->tags[i];
    }
    t->n = k;
}

/* "serve,gpu" -> {gpu, serve}; empty items are skipped. */
static pl_status tags_parse(const char *spec, tag_set *out) {
    memset(out, 0, sizeof *out);
    if (!spec || !*spec) spec = "serve";
    for (const char *p = spec; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len) {
            pl_status st = tags_add(out, p, len);
            if (st) {
                tags_free(out);
                return st;
            }
        }
        p += len + (comma != NULL);
    }
    tags_normalize(out);
    return NULL;
}

static bool tags_equal(const tag_set *a, const Tensorflow__MetaGraphDef *mg) {
    tag_set b = {0};
    const Tensorflow__MetaGraphDef__MetaInfoDef *info = mg->meta_info_def;
    for (size_t i = 0; info && i < info->n_tags; i++)
        if (tags_add(&b, info->tags[i], strlen(info->tags[i]))) {
            tags_free(&b);
            return false;
        }
    tags_normalize(&b);
    bool eq = a->n == b.n;
    for (int i = 0; eq && i < a->n; i++) eq = !strcmp(a->tags[i], b.tags[i]);
    tags_free(&b);
    return eq;
}

/* TensorFlow's wording (loader_util / reader.cc), tags in sorted order. */
static pl_status no_matching_meta_graph(const tag_set *t) {
    size_t len = 8;
    for (int i = 0; i < t->n; i++) len += strlen(t->tags[i]) + 1;
    char *list = malloc(len);
    if (!list) return oom();
    strcpy(list, "{ ");
    for (int i = 0; i < t->n; i++) {
        strcat(list, t->tags[i]);
        strcat(list, " ");
    }
    strcat(list, "}");
    pl_status st = pl_error(PL_NOT_FOUND,
                            "Could not find meta graph def matching supplied tags: %s. To inspect available tag-sets in "
                            "the SavedModel, please use the SavedModel CLI: `saved_model_cli`",
                            list);
    free(list);
    return st;
}

/* ---- reading saved_model.pb ---- */

/* saved_model.pb, else saved_model.pbtxt (text format), as TensorFlow's reader looks for them. */
static pl_status read_saved_model(const char *dir, Tensorflow__SavedModel **out) {
    char *pb = pl_path_join(dir, "saved_model.pb"), *pbtxt = pl_path_join(dir, "saved_model.pbtxt");
    pl_status st = pb && pbtxt ? NULL : oom();
    bool text = false;
    if (!st && !pl_path_exists(pb)) {
        if (pl_path_exists(pbtxt))
            text = true;
        else
            st = pl_error(PL_NOT_FOUND, "Could not find SavedModel .pb or .pbtxt at supplied export directory path: "
                                        "%s", dir);
    }
    const char *path = text ? pbtxt : pb;
    char *data = NULL;
    size_t n = 0;
    if (!st) st = pl_file_read(path, MAX_SAVED_MODEL_BYTES, &data, &n);
    if (!st && text) {
        ProtobufCMessage *m = NULL;
        st = pl_pb_parse_text(&tensorflow__saved_model__descriptor, data, n, &m);
        if (st) st = pl_status_prefix(st, "%s: ", path);
        else *out = (Tensorflow__SavedModel *)m;
    } else if (!st && !(*out = tensorflow__saved_model__unpack(NULL, n, (const uint8_t *)data))) {
        st = pl_error(PL_DATA_LOSS, "Can't parse %s as binary proto", path);
    }
    free(data);
    free(pb);
    free(pbtxt);
    return st;
}

/* ---- signatures ---- */

static int cmp_sig(const void *a, const void *b) {
    return strcmp(((const pl_signature *)a)->key, ((const pl_signature *)b)->key);
}

static pl_status read_signatures(const Tensorflow__MetaGraphDef *mg, pl__saved_model_parts *out) {
    size_t n = mg->n_signature_def;
    if (!n) return NULL;
    pl_signature *sigs = calloc(n, sizeof *sigs);
    if (!sigs) return oom();
    int count = 0;
    pl_status st = NULL;
    for (size_t i = 0; i < n && !st; i++) {
        const Tensorflow__MetaGraphDef__SignatureDefEntry *e = mg->signature_def[i];
        /* A key repeated on the wire keeps its last value, as protobuf map parsing does. */
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++) later = !strcmp(e->key, mg->signature_def[j]->key);
        if (later) continue;
        const Tensorflow__SignatureDef empty = TENSORFLOW__SIGNATURE_DEF__INIT;
        st = pl__signature_from_proto(e->key, e->value ? e->value : &empty, &sigs[count]);
        if (!st) count++;
    }
    if (st) {
        for (int i = 0; i < count; i++) pl__signature_clear(&sigs[i]);
        free(sigs);
        return st;
    }
    pl_qsort(sigs, (size_t)count, sizeof *sigs, cmp_sig);
    out->signatures = sigs;
    out->num_signatures = count;
    return NULL;
}

/* ---- feeds for the restore and init runs ---- */

typedef struct feeds {
    int n;
    char **names;
    pl_tensor **values;
} feeds;

static void feeds_free(feeds *f) {
    for (int i = 0; i < f->n; i++) {
        free(f->names[i]);
        pl_tensor_unref(f->values[i]);
    }
    free(f->names);
    free(f->values);
    memset(f, 0, sizeof *f);
}

/* Adds a feed, taking a new reference to t; a tensor already fed keeps its first value. */
static pl_status feeds_add(feeds *f, const char *name, pl_tensor *t) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->names[i], name)) return NULL;
    char **names = realloc(f->names, (size_t)(f->n + 1) * sizeof *names);
    if (names) f->names = names;
    pl_tensor **values = names ? realloc(f->values, (size_t)(f->n + 1) * sizeof *values) : NULL;
    if (values) f->values = values;
    char *copy = values ? strdup(name) : NULL;
    if (!copy) return oom();
    f->names[f->n] = copy;
    f->values[f->n] = pl_tensor_ref(t);
    f->n++;
    return NULL;
}

static pl_status feeds_add_string(feeds *f, const char *name, const char *value) {
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(PL_DT_STRING, 0, NULL, &t));
    pl_status st = pl_tensor_set_string(t, 0, value, strlen(value));
    if (!st) st = feeds_add(f, name, t);
    pl_tensor_unref(t);
    return st;
}

static pl_status add_asset(feeds *f, const char *dir, const Tensorflow__AssetFileDef *a) {
    if (!a->tensor_info || a->tensor_info->encoding_case != TENSORFLOW__TENSOR_INFO__ENCODING_NAME) return NULL;
    char *assets = pl_path_join(dir, "assets");
    char *path = assets ? pl_path_join(assets, a->filename ? a->filename : "") : NULL;
    pl_status st = path ? feeds_add_string(f, a->tensor_info->name, path) : oom();
    free(assets);
    free(path);
    return st;
}

static const Tensorflow__CollectionDef *find_collection(const Tensorflow__MetaGraphDef *mg, const char *key) {
    const Tensorflow__CollectionDef *found = NULL;
    for (size_t i = 0; i < mg->n_collection_def; i++)
        if (!strcmp(mg->collection_def[i]->key, key)) found = mg->collection_def[i]->value;
    return found;
}

static bool type_url_is(const char *url, const char *type) {
    const char *slash = url ? strrchr(url, '/') : NULL;
    return slash && !strcmp(slash + 1, type);
}

/* Asset file defs: the MetaGraphDef's own list (TF2), else the saved_model_assets collection (TF1). */
static pl_status asset_feeds(const Tensorflow__MetaGraphDef *mg, const char *dir, feeds *f) {
    if (mg->n_asset_file_def) {
        for (size_t i = 0; i < mg->n_asset_file_def; i++) PL_TRY(add_asset(f, dir, mg->asset_file_def[i]));
        return NULL;
    }
    const Tensorflow__CollectionDef *c = find_collection(mg, ASSETS_COLLECTION);
    if (!c || c->kind_case != TENSORFLOW__COLLECTION_DEF__KIND_ANY_LIST) return NULL;
    for (size_t i = 0; i < c->any_list->n_value; i++) {
        const Google__Protobuf__Any *any = c->any_list->value[i];
        if (!type_url_is(any->type_url, ASSET_FILE_DEF_TYPE))
            return pl_error(PL_INVALID_ARGUMENT, "The type of the asset (%s) is not %s", any->type_url,
                            ASSET_FILE_DEF_TYPE);
        Tensorflow__AssetFileDef *a = tensorflow__asset_file_def__unpack(NULL, any->value.len, any->value.data);
        if (!a) return pl_error(PL_DATA_LOSS, "Unable to parse an asset file def in the SavedModel");
        pl_status st = add_asset(f, dir, a);
        tensorflow__asset_file_def__free_unpacked(a, NULL);
        if (st) return st;
    }
    return NULL;
}

/* ---- running the restore and init ops ---- */

static pl_status run_target(pl__saved_model_parts *p, const feeds *f, const char *target) {
    pl_exec *e = NULL;
    PL_TRY(pl_exec_prepare(p->graph, p->session, f->n, (const char *const *)f->names, 0, NULL, 1, &target, &e));
    pl_status st = pl_exec_run(e, NULL, f->values, NULL);
    pl_exec_free(e);
    return st;
}

/* Runs the SaverDef's restore op with the checkpoint prefix (and the assets) fed, when there is a checkpoint. */
static pl_status restore(const Tensorflow__MetaGraphDef *mg, const char *dir, pl__saved_model_parts *p,
                         const feeds *assets) {
    char *vars = pl_path_join(dir, "variables");
    char *prefix = vars ? pl_path_join(vars, "variables") : NULL;
    size_t len = prefix ? strlen(prefix) + sizeof ".index" : 0;
    char *index = prefix ? malloc(len) : NULL;
    if (!index) {
        free(vars);
        free(prefix);
        return oom();
    }
    snprintf(index, len, "%s.index", prefix);
    const Tensorflow__SaverDef *saver = mg->saver_def;
    pl_status st = NULL;
    if (!pl_path_exists(index)) {
        pl_log_info("The specified SavedModel has no variables; no checkpoints were restored. File does not exist: %s",
                    index);
    } else if (!saver || !saver->restore_op_name || !saver->restore_op_name[0]) {
        pl_log_warning("The SavedModel at %s has variables but no SaverDef to restore them with", dir);
    } else {
        feeds f = {0};
        st = feeds_add_string(&f, saver->filename_tensor_name, prefix);
        for (int i = 0; !st && i < assets->n; i++) st = feeds_add(&f, assets->names[i], assets->values[i]);
        if (!st) st = run_target(p, &f, saver->restore_op_name);
        if (st) st = pl_status_prefix(st, "restoring variables: ");
        feeds_free(&f);
    }
    free(vars);
    free(prefix);
    free(index);
    return st;
}

/* The init op's node name: the __saved_model_init_op signature's output, else
 * the main-op or legacy-init-op collection (exactly one node). "" when none. */
static pl_status init_op_name(const Tensorflow__MetaGraphDef *mg, const char *dir, const char **out) {
    *out = "";
    for (size_t i = 0; i < mg->n_signature_def; i++) {
        const Tensorflow__MetaGraphDef__SignatureDefEntry *e = mg->signature_def[i];
        if (strcmp(e->key, INIT_OP_SIGNATURE_KEY) || !e->value) continue;
        for (size_t k = 0; k < e->value->n_outputs; k++) {
            const Tensorflow__TensorInfo *t = e->value->outputs[k]->value;
            if (!strcmp(e->value->outputs[k]->key, INIT_OP_SIGNATURE_KEY) && t &&
                t->encoding_case == TENSORFLOW__TENSOR_INFO__ENCODING_NAME)
                *out = t->name;
        }
        return NULL;
    }
    const Tensorflow__CollectionDef *c = find_collection(mg, MAIN_OP_COLLECTION);
    if (!c) c = find_collection(mg, LEGACY_INIT_OP_COLLECTION);
    if (!c) return NULL;
    if (c->kind_case != TENSORFLOW__COLLECTION_DEF__KIND_NODE_LIST || c->node_list->n_value != 1)
        return pl_error(PL_FAILED_PRECONDITION, "Expected exactly one main op in : %s", dir);
    *out = c->node_list->value[0];
    return NULL;
}

/* ---- the whole load ---- */

void pl__saved_model_parts_free(pl__saved_model_parts *p) {
    for (int i = 0; i < p->num_signatures; i++) pl__signature_clear(&p->signatures[i]);
    free(p->signatures);
    pl_session_free(p->session);
    pl_graph_free(p->graph);
    memset(p, 0, sizeof *p);
}

static pl_status build(Tensorflow__MetaGraphDef *mg, const char *dir, pl__saved_model_parts *p) {
    PL_TRY(read_signatures(mg, p));
    Tensorflow__GraphDef *def = mg->graph_def;
    mg->graph_def = NULL; /* the graph takes it over */
    if (!def) {
        if (!(def = malloc(sizeof *def))) return oom();
        tensorflow__graph_def__init(def);
    }
    int num_vars = 0;
    pl_status st = pl__saved_model_rewrite_ref_variables(def, &num_vars);
    if (st) {
        tensorflow__graph_def__free_unpacked(def, NULL);
        return st;
    }
    PL_TRY(pl_graph_import(def, true, &p->graph));
    PL_TRY(pl_session_new(&p->session));
    feeds assets = {0};
    const char *init_op = "";
    st = asset_feeds(mg, dir, &assets);
    if (!st) st = restore(mg, dir, p, &assets);
    if (!st) st = init_op_name(mg, dir, &init_op);
    if (!st && init_op[0]) {
        pl_log_info("Running initialization op on SavedModel bundle at path: %s", dir);
        st = run_target(p, &assets, init_op);
        if (st) st = pl_status_prefix(st, "running the init op %s: ", init_op);
    }
    feeds_free(&assets);
    return st;
}

pl_status pl__saved_model_read(const char *dir, const char *tags, pl__saved_model_parts *out) {
    memset(out, 0, sizeof *out);
    tag_set want;
    PL_TRY(tags_parse(tags, &want));
    Tensorflow__SavedModel *sm = NULL;
    pl_status st = read_saved_model(dir, &sm);
    Tensorflow__MetaGraphDef *mg = NULL;
    for (size_t i = 0; !st && i < sm->n_meta_graphs && !mg; i++)
        if (tags_equal(&want, sm->meta_graphs[i])) mg = sm->meta_graphs[i];
    if (!st && !mg) st = no_matching_meta_graph(&want);
    if (!st) st = build(mg, dir, out);
    if (sm) tensorflow__saved_model__free_unpacked(sm, NULL);
    tags_free(&want);
    if (st) pl__saved_model_parts_free(out);
    return st;
}
