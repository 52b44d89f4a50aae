/* The model manager: applies configs, keeps the aspired versions the source
 * thread finds, and runs loads and unloads on its own thread with TensorFlow
 * Serving's availability-preserving policy (spec 1d).
 *
 * Threads and locks. `mu` guards the model table, the state monitor and the
 * dead list. The source thread polls base paths without holding it and takes
 * it to record what it found. The manager thread takes one action at a time:
 * it marks a version LOADING under `mu`, loads it without `mu`, then marks it
 * AVAILABLE and republishes the snapshot. Requests never take `mu` except to
 * hand back the last reference to an unpublished version. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "serving/internal.h"
#include "base/sort.h"

void pl_serving_options_init(pl_serving_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->max_num_load_retries = 5;
    opt->load_retry_interval_micros = 60LL * 1000 * 1000;
    opt->file_system_poll_wait_seconds = 1;
    opt->saved_model_tags = "serve";
    opt->enable_model_warmup = true;
}

static pl_status default_load(void *ctx, const char *path, pl_model **out) {
    pl_serving *s = ctx;
    pl_model_options mo = {.tags = s->tags};
    return pl_model_load(path, &mo, out);
}

static void default_unload(void *ctx, pl_model *model) {
    (void)ctx;
    pl_model_free(model);
}

/* ---- time ---- */

static struct timespec deadline_after_us(int64_t us) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (us < 0) us = 0;
    ts.tv_sec += us / 1000000;
    ts.tv_nsec += (long)(us % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static bool before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void cond_init_monotonic(pthread_cond_t *cv) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

/* ---- the model table (all under mu) ---- */

static pl__model *model_find(pl_serving *s, const char *name) {
    for (int i = 0; i < s->num_models; i++)
        if (!strcmp(s->models[i]->config.name, name)) return s->models[i];
    return NULL;
}

static void model_free(pl__model *m) {
    for (int i = 0; i < m->num_versions; i++) free(m->versions[i].path);
    free(m->versions);
    pl__model_config_clear(&m->config);
    free(m);
}

static pl_status model_add(pl_serving *s, const pl_model_config *cfg, pl__model **out) {
    if (s->num_models == s->cap_models) {
        int ncap = s->cap_models ? s->cap_models * 2 : 8;
        pl__model **nm = realloc(s->models, sizeof *nm * (size_t)ncap);
        if (!nm) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory adding model %s", cfg->name);
        s->models = nm;
        s->cap_models = ncap;
    }
    pl__model *m = calloc(1, sizeof *m);
    if (!m) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory adding model %s", cfg->name);
    pl_status st = pl__model_config_copy(cfg, &m->config);
    if (st) {
        free(m);
        return st;
    }
    s->models[s->num_models++] = m;
    *out = m;
    return NULL;
}

static pl__version *version_find(pl__model *m, int64_t version) {
    for (int i = 0; i < m->num_versions; i++)
        if (m->versions[i].version == version) return &m->versions[i];
    return NULL;
}

/* Inserts a NEW version keeping ascending order. */
static pl_status version_add(pl__model *m, int64_t version, const char *path) {
    if (m->num_versions == m->cap_versions) {
        int ncap = m->cap_versions ? m->cap_versions * 2 : 4;
        pl__version *nv = realloc(m->versions, sizeof *nv * (size_t)ncap);
        if (!nv) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        m->versions = nv;
        m->cap_versions = ncap;
    }
    char *p = pl__strdup(path);
    if (!p) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    int i = 0;
    while (i < m->num_versions && m->versions[i].version < version) i++;
    memmove(&m->versions[i + 1], &m->versions[i], sizeof *m->versions * (size_t)(m->num_versions - i));
    m->num_versions++;
    m->versions[i] = (pl__version){.version = version, .path = p, .aspired = true, .harness = PL__NEW};
    return NULL;
}

static void state_event(pl_serving *s, const char *name, int64_t version, pl_servable_state state,
                        pl_status error) {
    pl__monitor_set(&s->monitor, name, version, state, error);
    pthread_cond_broadcast(&s->state_cv);
}

/* Records a poll result: what is listed is aspired, everything else is not. */
static void apply_aspired(pl_serving *s, pl__model *m, const pl__aspired *a, int n) {
    for (int i = 0; i < m->num_versions; i++) {
        pl__version *v = &m->versions[i];
        v->aspired = false;
        for (int j = 0; j < n && !v->aspired; j++) v->aspired = a[j].version == v->version;
    }
    for (int j = 0; j < n; j++) {
        if (version_find(m, a[j].version)) continue;
        pl_status st = version_add(m, a[j].version, a[j].path);
        if (st) {
            pl_log_error("cannot track version %" PRId64 " of %s: %s", a[j].version, m->config.name,
                         pl_status_message(st));
            pl_status_free(st);
            continue;
        }
        state_event(s, m->config.name, a[j].version, PL_STATE_START, NULL);
    }
    pthread_cond_signal(&s->manager_cv);
}

/* ---- the source thread ---- */

static void source_poll_pending(pl_serving *s) {
    for (;;) {
        pl__model *m = NULL;
        for (int i = 0; i < s->num_models && !m; i++)
            if (s->models[i]->in_config && s->models[i]->poll_pending) m = s->models[i];
        if (!m) return;
        m->poll_pending = false;
        pl_model_config cfg;
        pl_status st = pl__model_config_copy(&m->config, &cfg);
        if (st) {
            pl_log_error("polling %s: %s", m->config.name, pl_status_message(st));
            pl_status_free(st);
            continue;
        }
        uint64_t gen = m->config_gen;
        pthread_mutex_unlock(&s->mu);
        pl__aspired *a = NULL;
        int n = 0;
        st = pl__poll_versions(&cfg, &a, &n);
        pthread_mutex_lock(&s->mu);
        /* Models leave the table only on the manager thread and only once
         * drained, so a changed generation or a missing entry means a newer
         * config owns this model now; its own poll is already pending. */
        pl__model *now = model_find(s, cfg.name);
        if (st) {
            pl_log_error("FileSystemStoragePathSource encountered a filesystem access error: %s",
                         pl_status_message(st));
            pl_status_free(st);
        } else if (now == m && m->in_config && m->config_gen == gen) {
            apply_aspired(s, m, a, n);
        }
        pl__aspired_free(a, n);
        pl__model_config_clear(&cfg);
    }
}

static void *source_main(void *arg) {
    pl_serving *s = arg;
    int wait_s = s->opt.file_system_poll_wait_seconds;
    pthread_mutex_lock(&s->mu);
    struct timespec next = deadline_after_us((int64_t)(wait_s > 0 ? wait_s : 0) * 1000000);
    while (!s->stopping) {
        if (wait_s >= 0) source_poll_pending(s);
        if (s->stopping) break;
        if (wait_s > 0) {
            int rc = pthread_cond_timedwait(&s->source_cv, &s->mu, &next);
            if (rc == ETIMEDOUT) {
                for (int i = 0; i < s->num_models; i++) s->models[i]->poll_pending = true;
                next = deadline_after_us((int64_t)wait_s * 1000000);
            }
        } else {
            pthread_cond_wait(&s->source_cv, &s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the manager thread ---- */

/* Frees released servables; called with mu held, drops it around unloads. */
static bool reap_dead(pl_serving *s) {
    bool any = false;
    while (s->dead) {
        pl_servable *sv = s->dead;
        s->dead = sv->next_dead;
        pthread_mutex_unlock(&s->mu);
        pl__servable_unload(s, sv);
        pthread_mutex_lock(&s->mu);
        pl__model *m = model_find(s, sv->name);
        pl__version *v = m ? version_find(m, sv->version) : NULL;
        if (v && v->servable == sv) {
            v->servable = NULL;
            v->harness = PL__DISABLED;
        }
        pl_log_info("Done unloading servable version {name: %s version: %" PRId64 "}", sv->name, sv->version);
        state_event(s, sv->name, sv->version, PL_STATE_END, NULL);
        free(sv->name);
        free(sv);
        s->live_servables--;
        any = true;
    }
    return any;
}

/* Forgets versions that are neither aspired nor holding a model, and models
 * that have left the config and have no versions left (FlushServables). */
static bool flush(pl_serving *s) {
    bool removed_model = false;
    for (int i = 0; i < s->num_models; i++) {
        pl__model *m = s->models[i];
        int w = 0;
        for (int j = 0; j < m->num_versions; j++) {
            pl__version *v = &m->versions[j];
            bool idle = v->harness == PL__NEW || v->harness == PL__DISABLED || v->harness == PL__ERROR;
            if (idle && !v->aspired) {
                free(v->path);
                continue;
            }
            m->versions[w++] = *v;
        }
        m->num_versions = w;
        if (!m->in_config && m->num_versions == 0) {
            model_free(m);
            memmove(&s->models[i], &s->models[i + 1], sizeof *s->models * (size_t)(s->num_models - i - 1));
            s->num_models--;
            i--;
            removed_model = true;
        }
    }
    return removed_model;
}

/* AvailabilityPreservingPolicy::GetNextAction: unload the lowest un-aspired
 * serving version unless it is all that serves while an aspired version is
 * still on its way; otherwise load the highest new aspired version. */
static pl__version *next_action(pl__model *m, bool *unload) {
    bool has_aspired = false, has_aspired_serving = false;
    int unaspired_serving = 0;
    pl__version *lowest = NULL, *highest_new = NULL;
    for (int i = 0; i < m->num_versions; i++) {
        pl__version *v = &m->versions[i];
        if (v->aspired) {
            has_aspired = true;
            if (v->harness == PL__READY) has_aspired_serving = true;
            if (v->harness == PL__NEW) highest_new = v;
        } else if (v->harness == PL__READY) {
            if (!lowest) lowest = v;
            unaspired_serving++;
        }
    }
    if (lowest && (!has_aspired || has_aspired_serving || unaspired_serving > 1)) {
        *unload = true;
        return lowest;
    }
    *unload = false;
    return highest_new;
}

static bool still_aspired(pl_serving *s, const char *name, int64_t version) {
    pl__model *m = model_find(s, name);
    pl__version *v = m ? version_find(m, version) : NULL;
    return v && v->aspired;
}

/* Loads with retries (LoaderHarness::Load + Retry). Called without mu. */
static pl_status load_with_retries(pl_serving *s, const char *name, int64_t version, const char *path,
                                   pl_servable **out) {
    pl_status st = NULL;
    int max = s->opt.max_num_load_retries < 0 ? 0 : s->opt.max_num_load_retries;
    for (int attempt = 0; attempt <= max; attempt++) {
        if (attempt > 0) {
            pthread_mutex_lock(&s->mu);
            struct timespec until = deadline_after_us(s->opt.load_retry_interval_micros);
            while (!s->stopping && still_aspired(s, name, version)) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (!before(&now, &until)) break;
                pthread_cond_timedwait(&s->manager_cv, &s->mu, &until);
            }
            bool cancelled = s->stopping || !still_aspired(s, name, version);
            pthread_mutex_unlock(&s->mu);
            if (cancelled) {
                pl_log_info("Retrying of Loading servable: {name: %s version: %" PRId64 "} was cancelled.", name,
                            version);
                return st;
            }
            pl_log_info("Retrying of Loading servable: {name: %s version: %" PRId64 "} retry: %d", name, version,
                        attempt);
            pl_status_free(st);
        }
        st = pl__servable_load(s, name, version, path, out);
        if (!st) return NULL;
        pl_log_error("Loading servable: {name: %s version: %" PRId64 "} failed: %s: %s", name, version,
                     pl_code_name(pl_status_code(st)), pl_status_message(st));
    }
    if (max > 0)
        pl_log_info("Retrying of Loading servable: {name: %s version: %" PRId64 "} exhausted max_num_retries: %d",
                    name, version, max);
    return st;
}

static void do_unload(pl_serving *s, pl__model *m, pl__version *v) {
    pl_log_info("Unloading servable version {name: %s version: %" PRId64 "}", m->config.name, v->version);
    v->harness = PL__UNLOADING;
    /* UNLOADING is reported before the version stops serving. */
    state_event(s, m->config.name, v->version, PL_STATE_UNLOADING, NULL);
    pl_servable *sv = v->servable;
    pl_status st = pl__publish(s);
    if (st) {
        /* Still published: keep it serving and try again on the next round. */
        pl_log_error("cannot unpublish %s version %" PRId64 ": %s", m->config.name, v->version,
                     pl_status_message(st));
        pl_status_free(st);
        v->harness = PL__READY;
        state_event(s, m->config.name, v->version, PL_STATE_AVAILABLE, NULL);
        return;
    }
    pthread_mutex_unlock(&s->mu);
    pl_servable_release(sv);  /* the manager's reference; in-flight requests hold theirs */
    pthread_mutex_lock(&s->mu);
}

/* Loads a version marked LOADING: called without mu, returns with it held;
 * takes `name` and `path`, and clears the model's `loading`. */
static void load_marked(pl_serving *s, char *name, char *path, int64_t version) {
    pl_servable *sv = NULL;
    pl_status st = load_with_retries(s, name, version, path, &sv);

    pthread_mutex_lock(&s->mu);
    /* The version array may have moved while we were loading; the entry cannot
     * have been dropped because flush() keeps LOADING versions. */
    pl__model *mm = model_find(s, name);
    pl__version *vv = mm ? version_find(mm, version) : NULL;
    if (mm) mm->loading = false;
    if (PL_NEVER(!vv)) {
        if (sv) {
            pl__servable_unload(s, sv);
            free(sv->name);
            free(sv);
        }
        pl_status_free(st);
        free(name);
        free(path);
        return;
    }
    if (st) {
        vv->harness = PL__ERROR;
        state_event(s, mm->config.name, version, PL_STATE_END, st);
    } else {
        vv->servable = sv;
        vv->harness = PL__READY;
        s->live_servables++;
        pl_status pst = pl__publish(s);
        if (pst) {
            pl_log_error("cannot publish %s version %" PRId64 ": %s", sv->name, version, pl_status_message(pst));
            pl_status_free(pst);
        }
        pl_log_info("Successfully loaded servable version {name: %s version: %" PRId64 "}", sv->name, version);
        /* AVAILABLE is reported only once requests can reach the version. */
        state_event(s, sv->name, version, PL_STATE_AVAILABLE, NULL);
    }
    free(name);
    free(path);
}

/* Marks the version LOADING (with mu held); false when out of memory, and
 * the version has failed. */
static bool load_mark(pl_serving *s, pl__model *m, pl__version *v, char **name, char **path) {
    *name = pl__strdup(m->config.name);
    *path = pl__strdup(v->path);
    if (!*name || !*path) {
        free(*name);
        free(*path);
        v->harness = PL__ERROR;
        state_event(s, m->config.name, v->version, PL_STATE_END, pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"));
        return false;
    }
    pl_log_info("Loading servable version {name: %s version: %" PRId64 "}", *name, v->version);
    v->harness = PL__LOADING;
    state_event(s, *name, v->version, PL_STATE_LOADING, NULL);
    return true;
}

static void do_load(pl_serving *s, pl__model *m, pl__version *v) {
    char *name, *path;
    int64_t version = v->version;
    if (!load_mark(s, m, v, &name, &path)) return;
    pthread_mutex_unlock(&s->mu);
    load_marked(s, name, path, version);
}

/* ---- loads on threads of their own (--num_load_threads) ----
 *
 * With load_threads > 0 the manager starts up to that many loads at once, at
 * most one per model, each on a thread that records its outcome under mu and
 * counts itself out of loads_in_flight. pl_serving_free waits for them. */

typedef struct load_job {
    pl_serving *s;
    char *name, *path;
    int64_t version;
} load_job;

static void *load_main(void *arg) {
    load_job job = *(load_job *)arg;
    free(arg);
    pl_serving *s = job.s;
    load_marked(s, job.name, job.path, job.version);  /* clears the model's `loading` */
    s->loads_in_flight--;
    pthread_cond_signal(&s->manager_cv);
    pthread_cond_broadcast(&s->state_cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Starts a load on its own thread; false when a thread cannot be had. With mu. */
static bool load_async(pl_serving *s, pl__model *m, pl__version *v) {
    load_job *job = calloc(1, sizeof *job);
    pthread_attr_t attr;
    pthread_t t;
    if (!job) return false;
    if (!load_mark(s, m, v, &job->name, &job->path)) {
        free(job);
        return true;
    }
    job->s = s;
    job->version = v->version;
    m->loading = true;
    s->loads_in_flight++;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    bool started = pthread_create(&t, &attr, load_main, job) == 0;
    pthread_attr_destroy(&attr);
    if (!started) {
        /* Load on this thread instead. */
        m->loading = false;
        s->loads_in_flight--;
        pthread_mutex_unlock(&s->mu);
        load_marked(s, job->name, job->path, job->version);
        free(job);
    }
    return true;
}

/* One action for the first model that needs one; true if something happened. */
static bool act(pl_serving *s) {
    for (int i = 0; i < s->num_models; i++) {
        pl__model *m = s->models[i];
        if (m->loading) continue;
        bool unload;
        pl__version *v = next_action(m, &unload);
        if (!v) continue;
        if (unload) {
            do_unload(s, m, v);
        } else if (s->load_threads > 0) {
            if (s->loads_in_flight >= s->load_threads) continue;
            if (!load_async(s, m, v)) do_load(s, m, v);
        } else {
            do_load(s, m, v);
        }
        return true;
    }
    return false;
}

static void *manager_main(void *arg) {
    pl_serving *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        bool progress = reap_dead(s);
        if (flush(s)) {
            pl_status st = pl__publish(s);
            if (st) pl_status_free(st);
            progress = true;
        }
        if (!s->stopping && act(s)) progress = true;
        if (!progress && !s->stopping) pthread_cond_wait(&s->manager_cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- configs ---- */

static bool label_version(const pl__model *m, const char *label, int64_t *version) {
    if (!m || !m->in_config) return false;
    for (int i = 0; i < m->config.num_labels; i++)
        if (!strcmp(m->config.labels[i].label, label)) {
            *version = m->config.labels[i].version;
            return true;
        }
    return false;
}

/* UpdateModelVersionLabelMap: a label may only point at an AVAILABLE version,
 * unless --allow_version_labels_for_unavailable_models lets a new label point
 * anywhere. Called with mu held. */
static pl_status check_labels(pl_serving *s, const pl_server_config *c) {
    for (int i = 0; i < c->num_models; i++) {
        const pl_model_config *mc = &c->models[i];
        pl__stream *stream = pl__monitor_find(&s->monitor, mc->name);
        for (int j = 0; j < mc->num_labels; j++) {
            const pl_version_label *l = &mc->labels[j];
            bool allow_any = false;
            if (s->opt.allow_version_labels_for_unavailable_models) {
                int64_t existing;
                bool moved = label_version(model_find(s, mc->name), l->label, &existing) && existing != l->version;
                allow_any = !moved;
            }
            bool available = false;
            for (int k = 0; stream && k < stream->num && !available; k++)
                available = stream->versions[k].version == l->version &&
                            stream->versions[k].state == PL_STATE_AVAILABLE;
            if (!allow_any && !available)
                return pl_error(PL_FAILED_PRECONDITION,
                                "Request to assign label to version %" PRId64 " of model %s, which is not "
                                "currently available for inference",
                                l->version, mc->name);
        }
    }
    return NULL;
}

/* Makes the model table follow `c`. Called with mu held. */
static pl_status apply_config(pl_serving *s, const pl_server_config *c) {
    for (int i = 0; i < s->num_models; i++) {
        pl__model *m = s->models[i];
        if (pl__config_find(c, m->config.name)) continue;
        pl_log_info("Removing model %s", m->config.name);
        m->in_config = false;
        m->poll_pending = false;
        for (int j = 0; j < m->num_versions; j++) m->versions[j].aspired = false;
    }
    for (int i = 0; i < c->num_models; i++) {
        const pl_model_config *mc = &c->models[i];
        pl_log_info(" (Re-)adding model: %s", mc->name);
        pl__model *m = model_find(s, mc->name);
        if (!m) {
            PL_TRY(model_add(s, mc, &m));
        } else {
            pl_model_config copy;
            PL_TRY(pl__model_config_copy(mc, &copy));
            pl__model_config_clear(&m->config);
            m->config = copy;
        }
        m->in_config = true;
        m->config_gen++;
        m->poll_pending = true;
    }
    pthread_cond_broadcast(&s->source_cv);
    pthread_cond_signal(&s->manager_cv);
    return pl__publish(s);
}

static bool model_settled(pl__stream *st, uint64_t since) {
    return st && (st->available_seq > since || st->end_seq > since);
}

/* WaitUntilModelsAvailable: waits until some version of each named model is
 * AVAILABLE or has ended, then reports the ones that ended. With mu held. */
static pl_status wait_models(pl_serving *s, char **names, int n, uint64_t since) {
    for (int i = 0; i < n; i++)
        while (!s->stopping && !model_settled(pl__monitor_find(&s->monitor, names[i]), since))
            pthread_cond_wait(&s->state_cv, &s->mu);
    if (s->stopping) return pl_error(PL_CANCELLED, "the server is shutting down");
    int failed = 0;
    pl_strbuf details;
    pl_strbuf_init(&details, 0);
    for (int i = 0; i < n; i++) {
        pl__stream *st = pl__monitor_find(&s->monitor, names[i]);
        if (st->available_seq > since) continue;
        failed++;
        const pl__version_state *v = NULL;
        for (int k = 0; k < st->num; k++)
            if (st->versions[k].state == PL_STATE_END && st->versions[k].seq > since) {
                v = &st->versions[k];
                if (v->error) break;
            }
        if (!v) continue;
        pl_strbuf_printf(&details, "{{name: %s version: %" PRId64 "}", names[i], v->version);
        if (v->error)
            pl_strbuf_printf(&details, " due to error: %s: %s", pl_code_name(pl_status_code(v->error)),
                        pl_status_message(v->error));
        pl_strbuf_puts(&details, "}, ");
    }
    pl_status err = NULL;
    if (failed)
        err = pl_error(PL_UNKNOWN, "%d model(s) did not become available: {%s}", failed, pl__strbuf_str(&details));
    pl_strbuf_deinit(&details);
    return err;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

pl_status pl_serving_reload_config(pl_serving *s, const pl_server_config *c) {
    pthread_mutex_lock(&s->reload_mu);
    pl_status st = NULL;
    bool first = !s->have_config;
    bool same = !first && pl_server_config_equal(&s->config, c);
    char **names = NULL;
    int num_names = 0;
    if (!first && !same && !(s->config.kind == PL_CONFIG_MODEL_LIST && c->kind == PL_CONFIG_MODEL_LIST)) {
        pl_log_error("Cannot transition to requested config. It is only legal to transition from one "
                     "ModelConfigList to another.");
        st = pl_error(PL_FAILED_PRECONDITION, "Cannot transition to requested config. It is only legal to "
                                              "transition from one ModelConfigList to another.");
        goto out;
    }
    if (c->kind == PL_CONFIG_NOT_SET) {
        pl_log_info("Taking no action for empty config.");
        goto out;
    }
    if (c->kind == PL_CONFIG_CUSTOM) {
        st = pl_error(PL_UNIMPLEMENTED, "ModelServer does not yet support custom model config.");
        goto out;
    }
    st = pl_server_config_validate(c);
    if (st) goto out;

    names = calloc((size_t)c->num_models + 1, sizeof *names);
    if (!names) {
        st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (int i = 0; i < c->num_models; i++)
        if (first || !pl__config_find(&s->config, c->models[i].name)) names[num_names++] = c->models[i].name;
    pl_qsort(names, (size_t)num_names, sizeof *names, cmp_str);

    pthread_mutex_lock(&s->mu);
    st = check_labels(s, c);
    uint64_t since = s->monitor.seq;
    if (!st) st = apply_config(s, c);
    if (!st) {
        pl_server_config copy;
        st = pl_server_config_copy(c, &copy);
        if (!st) {
            pl_server_config_clear(&s->config);
            s->config = copy;
            s->have_config = true;
        }
    }
    pl_log_info("Adding/updating models.");
    if (!st) st = wait_models(s, names, num_names, since);
    pthread_mutex_unlock(&s->mu);
    if (!st) pl_log_info("Finished adding/updating models");
out:
    free(names);
    pthread_mutex_unlock(&s->reload_mu);
    return st;
}

/* ---- config file watching ---- */

static void *watch_main(void *arg) {
    pl_serving *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec until = deadline_after_us((int64_t)s->watch_seconds * 1000000);
        while (!s->stopping && pthread_cond_timedwait(&s->watch_cv, &s->mu, &until) != ETIMEDOUT) {
        }
        if (s->stopping) break;
        pthread_mutex_unlock(&s->mu);
        pl_server_config c;
        pl_status st = pl_server_config_read_file(s->watch_path, &c);
        if (st) {
            pl_log_error("Failed to read ModelServerConfig file: %s", pl_status_message(st));
        } else {
            st = pl_serving_reload_config(s, &c);
            if (st)
                pl_log_error("PollFilesystemAndReloadConfig failed to ReloadConfig: %s", pl_status_message(st));
            pl_server_config_clear(&c);
        }
        pl_status_free(st);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

pl_status pl_serving_watch_config_file(pl_serving *s, const char *path, int seconds) {
    if (seconds <= 0 || !path || !*path) return NULL;
    if (s->watching) return pl_error(PL_FAILED_PRECONDITION, "already watching %s", s->watch_path);
    s->watch_path = pl__strdup(path);
    if (!s->watch_path) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->watch_seconds = seconds;
    if (pthread_create(&s->watch_thread, NULL, watch_main, s)) {
        free(s->watch_path);
        s->watch_path = NULL;
        return pl_error(PL_INTERNAL, "cannot start the config file watcher");
    }
    s->watching = true;
    return NULL;
}

/* ---- lifetime ---- */

pl_status pl_serving_create(const pl_serving_options *opt, const pl_server_config *config, pl_serving **out) {
    *out = NULL;
    pl_serving *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->opt = *opt;
    s->tags = pl__strdup(opt->saved_model_tags && *opt->saved_model_tags ? opt->saved_model_tags : "serve");
    if (!s->opt.loader.load) {
        s->opt.loader = (pl_model_loader){.load = default_load, .unload = default_unload, .ctx = s};
    }
    s->opt.saved_model_tags = s->tags;
    s->opt.batching = NULL;  /* the copy below is what the loads read */
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->reload_mu, NULL);
    cond_init_monotonic(&s->manager_cv);
    cond_init_monotonic(&s->source_cv);
    cond_init_monotonic(&s->state_cv);
    cond_init_monotonic(&s->watch_cv);
    pthread_rwlock_init(&s->snap_lock, NULL);
    if (!s->tags) {
        pl_serving_free(s);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    pthread_mutex_lock(&s->mu);
    pl_status st = pl__publish(s);
    pthread_mutex_unlock(&s->mu);
    if (!st && opt->batching) {
        st = pl_batching_params_copy(opt->batching, &s->batch_params);
        if (!st) st = pl__batcher_create(&s->batch_params, &s->batcher);
    }
    if (!st) {
        if (pthread_create(&s->manager_thread, NULL, manager_main, s)) {
            st = pl_error(PL_INTERNAL, "cannot start the manager thread");
        } else if (pthread_create(&s->source_thread, NULL, source_main, s)) {
            pthread_mutex_lock(&s->mu);
            s->stopping = true;
            pthread_cond_broadcast(&s->manager_cv);
            pthread_mutex_unlock(&s->mu);
            pthread_join(s->manager_thread, NULL);
            st = pl_error(PL_INTERNAL, "cannot start the source thread");
        } else {
            s->threads_started = true;
        }
    }
    /* ServerCore: the first config loads on num_initial_load_threads, later
     * ones on num_load_threads. */
    s->load_threads = opt->num_initial_load_threads;
    if (!st) st = pl_serving_reload_config(s, config);
    if (st) {
        pl_serving_free(s);
        return st;
    }
    pthread_mutex_lock(&s->mu);
    s->load_threads = opt->num_load_threads;
    pthread_mutex_unlock(&s->mu);
    *out = s;
    return NULL;
}

void pl_serving_free(pl_serving *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->manager_cv);
    pthread_cond_broadcast(&s->source_cv);
    pthread_cond_broadcast(&s->state_cv);
    pthread_cond_broadcast(&s->watch_cv);
    pthread_mutex_unlock(&s->mu);
    if (s->watching) pthread_join(s->watch_thread, NULL);
    if (s->threads_started) {
        pthread_join(s->source_thread, NULL);
        pthread_join(s->manager_thread, NULL);
    }
    pthread_mutex_lock(&s->mu);
    while (s->loads_in_flight > 0) pthread_cond_wait(&s->state_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);

    /* Only this thread is left. Unpublish everything, drop the manager's
     * references and unload what they release. */
    pthread_rwlock_wrlock(&s->snap_lock);
    pl__snapshot *snap = s->snap;
    s->snap = NULL;
    pthread_rwlock_unlock(&s->snap_lock);
    pl__snapshot_free(snap);
    for (int i = 0; i < s->num_models; i++) {
        pl__model *m = s->models[i];
        for (int j = 0; j < m->num_versions; j++) {
            pl__version *v = &m->versions[j];
            if (v->harness == PL__READY && v->servable) {
                v->harness = PL__UNLOADING;
                pl_servable_release(v->servable);
            }
        }
    }
    pthread_mutex_lock(&s->mu);
    reap_dead(s);
    if (s->live_servables)
        pl_log_error("%d servable version(s) still referenced at shutdown; their models are not freed",
                     s->live_servables);
    for (int i = 0; i < s->num_models; i++) model_free(s->models[i]);
    free(s->models);
    pl__monitor_clear(&s->monitor);
    pthread_mutex_unlock(&s->mu);
    pl_server_config_clear(&s->config);
    /* Every version is unloaded, so no queue is left on the scheduler. */
    if (!s->live_servables) pl__batcher_free(s->batcher);
    pl_batching_params_clear(&s->batch_params);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->reload_mu);
    pthread_cond_destroy(&s->manager_cv);
    pthread_cond_destroy(&s->source_cv);
    pthread_cond_destroy(&s->state_cv);
    pthread_cond_destroy(&s->watch_cv);
    pthread_rwlock_destroy(&s->snap_lock);
    free(s->watch_path);
    free(s->tags);
    free(s);
}
