/* Model server configs as plain C values: the single-model config, copies,
 * comparison and the validation TensorFlow Serving applies before a reload. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "serving/internal.h"

char *pl__strdup(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

void pl__model_config_clear(pl_model_config *c) {
    if (!c) return;
    free(c->name);
    free(c->base_path);
    free(c->platform);
    free(c->specific);
    for (int i = 0; i < c->num_labels; i++) free(c->labels[i].label);
    free(c->labels);
    memset(c, 0, sizeof *c);
}

pl_status pl__model_config_copy(const pl_model_config *src, pl_model_config *dst) {
    memset(dst, 0, sizeof *dst);
    dst->name = pl__strdup(src->name);
    dst->base_path = pl__strdup(src->base_path);
    dst->platform = pl__strdup(src->platform);
    dst->policy = src->policy;
    dst->latest_num_versions = src->latest_num_versions;
    bool ok = dst->name && dst->base_path && dst->platform;
    if (ok && src->num_specific > 0) {
        dst->specific = malloc(sizeof *dst->specific * (size_t)src->num_specific);
        if (dst->specific) {
            memcpy(dst->specific, src->specific, sizeof *dst->specific * (size_t)src->num_specific);
            dst->num_specific = src->num_specific;
        } else {
            ok = false;
        }
    }
    if (ok && src->num_labels > 0) {
        dst->labels = calloc((size_t)src->num_labels, sizeof *dst->labels);
        if (dst->labels) {
            dst->num_labels = src->num_labels;
            for (int i = 0; i < src->num_labels; i++) {
                dst->labels[i].label = pl__strdup(src->labels[i].label);
                dst->labels[i].version = src->labels[i].version;
                if (!dst->labels[i].label) ok = false;
            }
        } else {
            ok = false;
        }
    }
    if (!ok) {
        pl__model_config_clear(dst);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory copying the model config");
    }
    return NULL;
}

void pl_server_config_clear(pl_server_config *c) {
    if (!c) return;
    for (int i = 0; i < c->num_models; i++) pl__model_config_clear(&c->models[i]);
    free(c->models);
    memset(c, 0, sizeof *c);
}

pl_status pl_server_config_copy(const pl_server_config *src, pl_server_config *dst) {
    memset(dst, 0, sizeof *dst);
    dst->kind = src->kind;
    if (src->num_models == 0) return NULL;
    dst->models = calloc((size_t)src->num_models, sizeof *dst->models);
    if (!dst->models) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory copying the config");
    for (int i = 0; i < src->num_models; i++) {
        pl_status st = pl__model_config_copy(&src->models[i], &dst->models[i]);
        if (st) {
            pl_server_config_clear(dst);
            return st;
        }
        dst->num_models = i + 1;
    }
    return NULL;
}

pl_status pl_server_config_single(const char *name, const char *base_path, pl_server_config *out) {
    memset(out, 0, sizeof *out);
    pl_log_info("Building single TensorFlow model file config:  model_name: %s model_base_path: %s", name,
                base_path);
    pl_model_config m = {
        .name = (char *)name,
        .base_path = (char *)base_path,
        .platform = "tensorflow",
        .policy = PL_POLICY_LATEST,
        .latest_num_versions = 1,
    };
    pl_server_config one = {.kind = PL_CONFIG_MODEL_LIST, .num_models = 1, .models = &m};
    return pl_server_config_copy(&one, out);
}

static bool str_eq(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

static bool model_config_equal(const pl_model_config *a, const pl_model_config *b) {
    if (!str_eq(a->name, b->name) || !str_eq(a->base_path, b->base_path) || !str_eq(a->platform, b->platform))
        return false;
    if (a->policy != b->policy || a->latest_num_versions != b->latest_num_versions) return false;
    if (a->num_specific != b->num_specific || a->num_labels != b->num_labels) return false;
    for (int i = 0; i < a->num_specific; i++)
        if (a->specific[i] != b->specific[i]) return false;
    for (int i = 0; i < a->num_labels; i++)
        if (!str_eq(a->labels[i].label, b->labels[i].label) || a->labels[i].version != b->labels[i].version)
            return false;
    return true;
}

bool pl_server_config_equal(const pl_server_config *a, const pl_server_config *b) {
    if (a->kind != b->kind || a->num_models != b->num_models) return false;
    for (int i = 0; i < a->num_models; i++)
        if (!model_config_equal(&a->models[i], &b->models[i])) return false;
    return true;
}

/* A base path is a URI ("gs://...", "scheme://host/...") or an absolute path. */
static bool is_relative_path(const char *p) {
    if (!p || !*p) return true;
    if (strstr(p, "://")) return false;
    return p[0] != '/';
}

pl_status pl_server_config_validate(const pl_server_config *c) {
    for (int i = 0; i < c->num_models; i++)
        for (int j = 0; j < i; j++)
            if (str_eq(c->models[i].name, c->models[j].name))
                return pl_error(PL_INVALID_ARGUMENT, "Illegal to list model %s multiple times in config list",
                                c->models[i].name);
    for (int i = 0; i < c->num_models; i++) {
        const pl_model_config *m = &c->models[i];
        if (is_relative_path(m->base_path))
            return pl_error(PL_INVALID_ARGUMENT,
                            "Expected model %s to have an absolute path or URI; got base_path()=%s", m->name,
                            m->base_path ? m->base_path : "");
        if (!m->platform || !*m->platform)
            return pl_error(PL_INVALID_ARGUMENT,
                            "Illegal setting neither ModelServerConfig::model_type (deprecated) nor "
                            "ModelServerConfig::model_platform, model name is %s",
                            m->name);
        /* "tensorflow" is the only platform in the platform config map. */
        if (strcmp(m->platform, "tensorflow"))
            return pl_error(PL_INVALID_ARGUMENT, "Model %s requests unsupported platform %s", m->name,
                            m->platform);
    }
    return NULL;
}

const pl_model_config *pl__config_find(const pl_server_config *c, const char *name) {
    for (int i = 0; i < c->num_models; i++)
        if (str_eq(c->models[i].name, name)) return &c->models[i];
    return NULL;
}
