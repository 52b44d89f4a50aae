/* The request side of the manager: the published snapshot of servable
 * versions and labels, model-spec resolution and servable references. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "serving/internal.h"
#include "base/sort.h"

const char *pl_signature_key(const char *signature_name) {
    return signature_name && *signature_name ? signature_name : PL_DEFAULT_SIGNATURE;
}

void pl__snapshot_free(pl__snapshot *snap) {
    if (!snap) return;
    for (int i = 0; i < snap->num_models; i++) {
        pl__snap_model *m = &snap->models[i];
        free(m->name);
        free(m->servables);
        for (int j = 0; j < m->num_labels; j++) free(m->labels[j].label);
        free(m->labels);
    }
    free(snap->models);
    free(snap);
}

static int model_by_name(const void *a, const void *b) {
    return strcmp(((const pl__snap_model *)a)->name, ((const pl__snap_model *)b)->name);
}

static int label_by_name(const void *a, const void *b) {
    return strcmp(((const pl_version_label *)a)->label, ((const pl_version_label *)b)->label);
}

static pl_status snap_model_fill(pl__snap_model *dst, const pl__model *src) {
    dst->name = pl__strdup(src->config.name);
    if (!dst->name) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    int ready = 0;
    for (int i = 0; i < src->num_versions; i++) ready += src->versions[i].harness == PL__READY;
    if (ready) {
        dst->servables = malloc(sizeof *dst->servables * (size_t)ready);
        if (!dst->servables) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        /* The manager keeps versions in ascending order. */
        for (int i = 0; i < src->num_versions; i++)
            if (src->versions[i].harness == PL__READY) dst->servables[dst->num_servables++] = src->versions[i].servable;
    }
    int nl = src->in_config ? src->config.num_labels : 0;
    if (nl) {
        dst->labels = calloc((size_t)nl, sizeof *dst->labels);
        if (!dst->labels) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        for (int i = 0; i < nl; i++) {
            dst->labels[i].label = pl__strdup(src->config.labels[i].label);
            dst->labels[i].version = src->config.labels[i].version;
            dst->num_labels = i + 1;
            if (!dst->labels[i].label) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        }
        pl_qsort(dst->labels, (size_t)nl, sizeof *dst->labels, label_by_name);
    }
    return NULL;
}

pl_status pl__publish(pl_serving *s) {
    pl__snapshot *snap = calloc(1, sizeof *snap);
    if (!snap) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory publishing servables");
    pl_status st = NULL;
    if (s->num_models) {
        snap->models = calloc((size_t)s->num_models, sizeof *snap->models);
        if (!snap->models) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory publishing servables");
    }
    for (int i = 0; !st && i < s->num_models; i++) {
        snap->num_models = i + 1;
        st = snap_model_fill(&snap->models[i], s->models[i]);
    }
    if (st) {
        pl__snapshot_free(snap);
        return st;
    }
    if (snap->num_models > 1) pl_qsort(snap->models, (size_t)snap->num_models, sizeof *snap->models, model_by_name);
    pthread_rwlock_wrlock(&s->snap_lock);
    pl__snapshot *old = s->snap;
    s->snap = snap;
    pthread_rwlock_unlock(&s->snap_lock);
    /* No reader can still see `old`: readers hold the read lock while they use it. */
    pl__snapshot_free(old);
    return NULL;
}

static const pl__snap_model *find_model(const pl__snapshot *snap, const char *name) {
    if (!snap || snap->num_models == 0) return NULL;
    pl__snap_model key = {.name = (char *)name};
    return bsearch(&key, snap->models, (size_t)snap->num_models, sizeof key, model_by_name);
}

pl_status pl_serving_get_servable(pl_serving *s, const pl_model_spec *spec, pl_servable **out) {
    *out = NULL;
    const char *name = spec->name;
    if (!name || !*name) return pl_error(PL_INVALID_ARGUMENT, "ModelSpec has no name specified.");
    pl_servable *found = NULL;
    bool bad_label = false;
    int64_t version = spec->version;
    pthread_rwlock_rdlock(&s->snap_lock);
    const pl__snap_model *m = find_model(s->snap, name);
    if (spec->choice == PL_VERSION_LABEL) {
        const char *label = spec->version_label ? spec->version_label : "";
        pl_version_label key = {.label = (char *)label}, *l = NULL;
        if (m && m->num_labels) l = bsearch(&key, m->labels, (size_t)m->num_labels, sizeof key, label_by_name);
        if (l)
            version = l->version;
        else
            bad_label = true;
    }
    if (m && !bad_label && m->num_servables) {
        if (spec->choice == PL_VERSION_LATEST) {
            found = m->servables[m->num_servables - 1];
        } else {
            int lo = 0, hi = m->num_servables - 1;
            while (lo <= hi) {
                int mid = lo + (hi - lo) / 2;
                int64_t v = m->servables[mid]->version;
                if (v == version) {
                    found = m->servables[mid];
                    break;
                }
                if (v < version)
                    lo = mid + 1;
                else
                    hi = mid - 1;
            }
        }
        if (found) atomic_fetch_add_explicit(&found->refs, 1, memory_order_relaxed);
    }
    pthread_rwlock_unlock(&s->snap_lock);
    if (bad_label)
        return pl_error(PL_INVALID_ARGUMENT, "Unrecognized servable version label: %s",
                        spec->version_label ? spec->version_label : "");
    if (!found) {
        if (spec->choice == PL_VERSION_LATEST)
            return pl_error(PL_NOT_FOUND, "Servable not found for request: Latest(%s)", name);
        return pl_error(PL_NOT_FOUND, "Servable not found for request: Specific(%s, %" PRId64 ")", name, version);
    }
    *out = found;
    return NULL;
}

void pl_servable_release(pl_servable *sv) {
    if (!sv) return;
    if (atomic_fetch_sub_explicit(&sv->refs, 1, memory_order_acq_rel) != 1) return;
    /* Last reference: the version was already unpublished. Hand it to the
     * manager thread, which frees the model off the request path. */
    pl_serving *s = sv->owner;
    pthread_mutex_lock(&s->mu);
    sv->next_dead = s->dead;
    s->dead = sv;
    pthread_cond_signal(&s->manager_cv);
    pthread_mutex_unlock(&s->mu);
}

const char *pl_servable_name(const pl_servable *sv) { return sv->name; }
int64_t pl_servable_version(const pl_servable *sv) { return sv->version; }
pl_model *pl_servable_model(const pl_servable *sv) { return sv->model; }
