/* ModelServerConfig protobuf messages to pl_server_config values, with the
 * platform rules of TensorFlow Serving's server_core.cc GetPlatform. */
#include <stdlib.h>
#include <string.h>

#include "serving/internal.h"
#include "tensorflow_serving/config/model_server_config.pb-c.h"

typedef Tensorflow__Serving__FileSystemStoragePathSourceConfig__ServableVersionPolicy policy_proto;

/* model_type is deprecated in the proto but old configs still set it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static pl_status platform_of(const Tensorflow__Serving__ModelConfig *m, const char **out) {
    const char *platform = m->model_platform ? m->model_platform : "";
    if (m->model_type != TENSORFLOW__SERVING__MODEL_TYPE__MODEL_TYPE_UNSPECIFIED) {
        if (*platform)
            return pl_error(PL_INVALID_ARGUMENT,
                            "Illegal setting both ModelServerConfig::model_type (deprecated) and "
                            "ModelServerConfig::model_platform, model name is %s",
                            m->name);
        if (m->model_type != TENSORFLOW__SERVING__MODEL_TYPE__TENSORFLOW)
            return pl_error(PL_INVALID_ARGUMENT, "ModelServerConfig::model_type choice %d not supported.",
                            (int)m->model_type);
        platform = "tensorflow";
    }
    *out = platform;
    return NULL;
}
#pragma GCC diagnostic pop

static pl_status policy_of(const policy_proto *p, pl_model_config *c) {
    c->policy = PL_POLICY_LATEST;
    c->latest_num_versions = 1;
    if (!p) return NULL;
    switch (p->policy_choice_case) {
    case TENSORFLOW__SERVING__FILE_SYSTEM_STORAGE_PATH_SOURCE_CONFIG__SERVABLE_VERSION_POLICY__POLICY_CHOICE_LATEST:
        c->latest_num_versions = p->latest && p->latest->num_versions ? p->latest->num_versions : 1;
        break;
    case TENSORFLOW__SERVING__FILE_SYSTEM_STORAGE_PATH_SOURCE_CONFIG__SERVABLE_VERSION_POLICY__POLICY_CHOICE_ALL:
        c->policy = PL_POLICY_ALL;
        break;
    case TENSORFLOW__SERVING__FILE_SYSTEM_STORAGE_PATH_SOURCE_CONFIG__SERVABLE_VERSION_POLICY__POLICY_CHOICE_SPECIFIC: {
        c->policy = PL_POLICY_SPECIFIC;
        size_t n = p->specific ? p->specific->n_versions : 0;
        if (n > (size_t)INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "too many specific versions");
        if (n) {
            c->specific = malloc(sizeof *c->specific * n);
            if (!c->specific) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            memcpy(c->specific, p->specific->versions, sizeof *c->specific * n);
            c->num_specific = (int)n;
        }
        break;
    }
    default: break;
    }
    return NULL;
}

/* Map entries repeat on the wire; the last value of a key wins. */
static pl_status labels_of(const Tensorflow__Serving__ModelConfig *m, pl_model_config *c) {
    if (!m->n_version_labels) return NULL;
    if (m->n_version_labels > (size_t)INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "too many version labels");
    c->labels = calloc(m->n_version_labels, sizeof *c->labels);
    if (!c->labels) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < m->n_version_labels; i++) {
        const char *key = m->version_labels[i]->key ? m->version_labels[i]->key : "";
        int64_t v = m->version_labels[i]->value;
        int j = 0;
        while (j < c->num_labels && strcmp(c->labels[j].label, key)) j++;
        if (j == c->num_labels) {
            c->labels[j].label = pl__strdup(key);
            if (!c->labels[j].label) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            c->num_labels++;
        }
        c->labels[j].version = v;
    }
    return NULL;
}

pl_status pl_server_config_from_proto(const struct Tensorflow__Serving__ModelServerConfig *p, pl_server_config *out) {
    memset(out, 0, sizeof *out);
    if (!p || p->config_case == TENSORFLOW__SERVING__MODEL_SERVER_CONFIG__CONFIG__NOT_SET) return NULL;
    if (p->config_case == TENSORFLOW__SERVING__MODEL_SERVER_CONFIG__CONFIG_CUSTOM_MODEL_CONFIG) {
        out->kind = PL_CONFIG_CUSTOM;
        return NULL;
    }
    out->kind = PL_CONFIG_MODEL_LIST;
    const Tensorflow__Serving__ModelConfigList *list = p->model_config_list;
    size_t n = list ? list->n_config : 0;
    if (n > (size_t)INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "too many models");
    if (!n) return NULL;
    out->models = calloc(n, sizeof *out->models);
    if (!out->models) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const Tensorflow__Serving__ModelConfig *m = list->config[i];
        pl_model_config *c = &out->models[i];
        out->num_models = (int)i + 1;
        const char *platform = "";
        pl_status st = platform_of(m, &platform);
        if (!st) {
            c->name = pl__strdup(m->name);
            c->base_path = pl__strdup(m->base_path);
            c->platform = pl__strdup(platform);
            if (!c->name || !c->base_path || !c->platform) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        }
        if (!st) st = policy_of(m->model_version_policy, c);
        if (!st) st = labels_of(m, c);
        if (st) {
            pl_server_config_clear(out);
            return st;
        }
    }
    return NULL;
}
