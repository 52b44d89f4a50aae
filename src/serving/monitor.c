/* The servable state monitor: the last state of every version the manager has
 * handled, kept after unloads and failures so that GetModelStatus can report
 * END with the load error (spec 1b GetModelStatus, 1d States). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "serving/internal.h"

const char *pl_servable_state_name(pl_servable_state state) {
    switch (state) {
    case PL_STATE_START: return "START";
    case PL_STATE_LOADING: return "LOADING";
    case PL_STATE_AVAILABLE: return "AVAILABLE";
    case PL_STATE_UNLOADING: return "UNLOADING";
    case PL_STATE_END: return "END";
    default: return "UNKNOWN";
    }
}

pl__stream *pl__monitor_find(pl__monitor *m, const char *name) {
    for (int i = 0; i < m->num; i++)
        if (!strcmp(m->streams[i]->name, name)) return m->streams[i];
    return NULL;
}

static pl__stream *stream_get(pl__monitor *m, const char *name) {
    pl__stream *st = pl__monitor_find(m, name);
    if (st) return st;
    if (m->num == m->cap) {
        int ncap = m->cap ? m->cap * 2 : 8;
        pl__stream **ns = realloc(m->streams, sizeof *ns * (size_t)ncap);
        if (!ns) return NULL;
        m->streams = ns;
        m->cap = ncap;
    }
    st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->name = pl__strdup(name);
    if (!st->name) {
        free(st);
        return NULL;
    }
    m->streams[m->num++] = st;
    return st;
}

static pl__version_state *version_get(pl__stream *st, int64_t version) {
    int i = 0;
    while (i < st->num && st->versions[i].version > version) i++;
    if (i < st->num && st->versions[i].version == version) return &st->versions[i];
    if (st->num == st->cap) {
        int ncap = st->cap ? st->cap * 2 : 4;
        pl__version_state *nv = realloc(st->versions, sizeof *nv * (size_t)ncap);
        if (!nv) return NULL;
        st->versions = nv;
        st->cap = ncap;
    }
    memmove(&st->versions[i + 1], &st->versions[i], sizeof *st->versions * (size_t)(st->num - i));
    st->num++;
    memset(&st->versions[i], 0, sizeof st->versions[i]);
    st->versions[i].version = version;
    return &st->versions[i];
}

void pl__monitor_set(pl__monitor *m, const char *name, int64_t version, pl_servable_state state,
                     pl_status error) {
    pl__stream *st = stream_get(m, name);
    pl__version_state *v = st ? version_get(st, version) : NULL;
    if (!v) {
        /* Losing a state record only degrades GetModelStatus; the manager goes on. */
        pl_log_error("out of memory recording the state of %s version %" PRId64, name, version);
        pl_status_free(error);
        return;
    }
    pl_status_free(v->error);
    v->error = error;
    v->state = state;
    v->seq = ++m->seq;
    if (state == PL_STATE_AVAILABLE) st->available_seq = v->seq;
    if (state == PL_STATE_END) st->end_seq = v->seq;
}

void pl__monitor_clear(pl__monitor *m) {
    for (int i = 0; i < m->num; i++) {
        pl__stream *st = m->streams[i];
        for (int j = 0; j < st->num; j++) pl_status_free(st->versions[j].error);
        free(st->versions);
        free(st->name);
        free(st);
    }
    free(m->streams);
    memset(m, 0, sizeof *m);
}

void pl_version_status_free(pl_version_status *st, int num) {
    if (!st) return;
    for (int i = 0; i < num; i++) free(st[i].error_message);
    free(st);
}

static pl_status fill(pl_version_status *dst, const pl__version_state *src) {
    dst->version = src->version;
    dst->state = src->state;
    dst->error_code = pl_status_code(src->error);
    dst->error_message = pl__strdup(pl_status_message(src->error));
    return dst->error_message ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
}

pl_status pl_serving_model_status(pl_serving *s, const char *name, const int64_t *version,
                                  pl_version_status **out, int *num) {
    *out = NULL;
    *num = 0;
    if (!name) name = "";
    pl_status err = NULL;
    pthread_mutex_lock(&s->mu);
    pl__stream *st = pl__monitor_find(&s->monitor, name);
    if (version) {
        const pl__version_state *found = NULL;
        for (int i = 0; st && i < st->num && !found; i++)
            if (st->versions[i].version == *version) found = &st->versions[i];
        if (!found) {
            err = pl_error(PL_NOT_FOUND, "Could not find version %" PRId64 " of model %s", *version, name);
        } else if (!(*out = calloc(1, sizeof **out))) {
            err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        } else {
            *num = 1;
            err = fill(*out, found);
        }
    } else if (!st || st->num == 0) {
        err = pl_error(PL_NOT_FOUND, "Could not find any versions of model %s", name);
    } else if (!(*out = calloc((size_t)st->num, sizeof **out))) {
        err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        *num = st->num;
        for (int i = 0; i < st->num && !err; i++) err = fill(&(*out)[i], &st->versions[i]);
    }
    pthread_mutex_unlock(&s->mu);
    if (err) {
        pl_version_status_free(*out, *num);
        *out = NULL;
        *num = 0;
    }
    return err;
}
