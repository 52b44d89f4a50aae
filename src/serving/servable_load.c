/* Loading one version into a servable, in the order of TensorFlow Serving's
 * SavedModelBundleFactory and SavedModelBundleSourceAdapter: load the model,
 * wrap it for batching (with the version's own batching_params.pbtxt under
 * --enable_per_model_batching_parameters), then replay its warmup requests
 * through that wrapping. A failure anywhere fails the load, so the manager
 * retries it like any other load error. */
#include <stdlib.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/log.h"
#include "serving/internal.h"
#include "serving/metrics.h"

/* GetPerModelBatchingParams: the version's own file, or no batching at all. */
static pl_status version_batching_params(pl_serving *s, const char *path, pl_batching_params *p, bool *batched) {
    *batched = false;
    if (!s->opt.per_model_batching) {
        PL_TRY(pl_batching_params_copy(&s->batch_params, p));
        *batched = true;
        return NULL;
    }
    char *file = pl_path_join(path, "batching_params.pbtxt");
    if (!file) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    struct stat sb;
    pl_status st = NULL;
    if (stat(file, &sb) == 0) {
        st = pl_batching_params_init(p, s->batch_params.thread_pool_name);
        if (!st) st = pl_batching_params_read_file(file, p);
        if (st)
            pl_batching_params_clear(p);
        else
            *batched = true;
    }
    free(file);
    return st;
}

static pl_status attach_batching(pl_serving *s, pl_servable *sv, const char *path) {
    if (!s->batcher) return NULL;
    pl_batching_params p;
    bool batched;
    PL_TRY(version_batching_params(s, path, &p, &batched));
    if (!batched) return NULL;
    pl_status st = pl__servable_batching_create(s->batcher, &p, sv->model, &sv->batching);
    pl_batching_params_clear(&p);
    return st;
}

/* TensorFlow's MaybeSavedModelDirectory: what its SavedModel loader, and so
 * its load metrics, would handle. */
static bool is_saved_model(const char *path) {
    bool found = false;
    for (int i = 0; i < 2 && !found; i++) {
        char *file = pl_path_join(path, i ? "saved_model.pbtxt" : "saved_model.pb");
        struct stat sb;
        found = file && stat(file, &sb) == 0;
        free(file);
    }
    return found;
}

void pl__servable_unload(pl_serving *s, pl_servable *sv) {
    pl__servable_batching_free(sv->batching);
    sv->batching = NULL;
    if (sv->model) s->opt.loader.unload(s->opt.loader.ctx, sv->model);
    sv->model = NULL;
}

pl_status pl__servable_load(pl_serving *s, const char *name, int64_t version, const char *path,
                            pl_servable **out) {
    *out = NULL;
    pl_servable *sv = calloc(1, sizeof *sv);
    if (!sv) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    atomic_init(&sv->refs, 1);
    sv->owner = s;
    sv->version = version;
    sv->name = pl__strdup(name);
    pl_status st = sv->name ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st) {
        bool saved_model = is_saved_model(path);
        int64_t start = pl_clock_now_ns();
        st = s->opt.loader.load(s->opt.loader.ctx, path, &sv->model);
        if (saved_model) pl_metrics_record_saved_model_load(path, !st, (pl_clock_now_ns() - start) / 1000);
    }
    if (!st) st = attach_batching(s, sv, path);
    if (!st && s->opt.enable_model_warmup) st = pl__warmup_run(sv, path, s->opt.warmup_iterations);
    if (st) {
        pl__servable_unload(s, sv);
        free(sv->name);
        free(sv);
        return st;
    }
    *out = sv;
    return NULL;
}
