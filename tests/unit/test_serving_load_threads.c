/* Parallel loads (--num_load_threads, and the initial load's
 * num_initial_load_threads): with N load threads, N slow models load at the
 * same time, each model still loads one version at a time, failures and
 * unloads keep their states, and freeing the manager waits for loads in
 * flight. Models come from a loader that sleeps and counts how many loads
 * overlap. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "check.h"
#include "serving/internal.h"

static atomic_int running, max_running, loads;

static pl_status slow_load(void *ctx, const char *path, pl_model **out) {
    (void)ctx;
    int now = atomic_fetch_add(&running, 1) + 1;
    int seen = atomic_load(&max_running);
    while (now > seen && !atomic_compare_exchange_weak(&max_running, &seen, now)) {
    }
    usleep(200 * 1000);
    atomic_fetch_sub(&running, 1);
    atomic_fetch_add(&loads, 1);
    char probe[600];
    snprintf(probe, sizeof probe, "%s/FAIL", path);
    if (access(probe, F_OK) == 0) return pl_error(PL_INVALID_ARGUMENT, "cannot load %s", path);
    *out = (pl_model *)strdup(path);
    return NULL;
}

static void slow_unload(void *ctx, pl_model *model) {
    (void)ctx;
    free(model);
}

static char root[256];

static void mkdir_p(const char *rel) { check_mkdirs(root, rel); }

static void options(pl_serving_options *o, int initial, int later) {
    pl_serving_options_init(o);
    o->loader = (pl_model_loader){.load = slow_load, .unload = slow_unload};
    o->max_num_load_retries = 0;
    o->file_system_poll_wait_seconds = 1;
    o->num_initial_load_threads = initial;
    o->num_load_threads = later;
}

static pl_server_config config_of(int n, const char *prefix) {
    pl_server_config c = {.kind = PL_CONFIG_MODEL_LIST, .num_models = n};
    c.models = calloc((size_t)n, sizeof *c.models);
    for (int i = 0; i < n; i++) {
        char name[64], path[600];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        snprintf(path, sizeof path, "%s/%s", root, name);
        c.models[i].name = strdup(name);
        c.models[i].base_path = strdup(path);
        c.models[i].platform = strdup("tensorflow");
        c.models[i].policy = PL_POLICY_LATEST;
        c.models[i].latest_num_versions = 1;
    }
    return c;
}

static int64_t elapsed_ms(int64_t start) { return (pl_clock_now_ns() - start) / 1000000; }

static pl_servable_state state_of(pl_serving *s, const char *name, int64_t version) {
    pl_version_status *vs;
    int n;
    pl_status st = pl_serving_model_status(s, name, &version, &vs, &n);
    if (st) {
        pl_status_free(st);
        return PL_STATE_UNKNOWN;
    }
    pl_servable_state state = vs[0].state;
    pl_version_status_free(vs, n);
    return state;
}

static void test_initial_load_runs_in_parallel(void) {
    for (int i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "a%d/1", i);
        mkdir_p(rel);
    }
    atomic_store(&max_running, 0);
    pl_serving_options o;
    options(&o, 4, 0);
    pl_server_config c = config_of(4, "a");
    pl_serving *s;
    int64_t start = pl_clock_now_ns();
    CHECK_OK(pl_serving_create(&o, &c, &s));
    /* Four 200 ms loads side by side, not 800 ms one after another. */
    CHECK(elapsed_ms(start) < 700);
    CHECK(atomic_load(&max_running) == 4);
    for (int i = 0; i < 4; i++) {
        pl_model_spec spec = {.name = c.models[i].name};
        pl_servable *sv;
        CHECK_OK(pl_serving_get_servable(s, &spec, &sv));
        pl_servable_release(sv);
    }
    /* After the first config, num_load_threads = 0: one load at a time again. */
    mkdir_p("a0/2");
    mkdir_p("a1/2");
    atomic_store(&max_running, 0);
    for (int i = 0; i < 300 && (state_of(s, "a0", 2) != PL_STATE_AVAILABLE ||
                                state_of(s, "a1", 2) != PL_STATE_AVAILABLE); i++)
        usleep(20 * 1000);
    CHECK(state_of(s, "a0", 2) == PL_STATE_AVAILABLE);
    CHECK(state_of(s, "a1", 2) == PL_STATE_AVAILABLE);
    CHECK(atomic_load(&max_running) == 1);
    pl_serving_free(s);
    pl_server_config_clear(&c);
}

static void test_limit_and_failures(void) {
    /* Five models, two load threads: never more than two loads at once; a
     * failing model ends with its error and the rest serve. */
    for (int i = 0; i < 5; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "b%d/7", i);
        mkdir_p(rel);
    }
    char fail[600];
    snprintf(fail, sizeof fail, "%s/b3/7/FAIL", root);
    FILE *f = fopen(fail, "w");
    if (f) fclose(f);
    atomic_store(&max_running, 0);
    pl_serving_options o;
    options(&o, 2, 2);
    pl_server_config c = config_of(5, "b");
    pl_serving *s;
    int64_t start = pl_clock_now_ns();
    pl_status st = pl_serving_create(&o, &c, &s);
    CHECK(pl_status_code(st) == PL_UNKNOWN);
    CHECK(strstr(pl_status_message(st), "1 model(s) did not become available") != NULL);
    CHECK(strstr(pl_status_message(st), "cannot load") != NULL);
    pl_status_free(st);
    CHECK(atomic_load(&max_running) == 2);
    CHECK(elapsed_ms(start) >= 550);  /* 3 rounds of 200 ms */
    pl_server_config_clear(&c);
}

static void test_free_waits_for_loads(void) {
    /* A version that appears later loads on a load thread; the manager is
     * freed while that load runs, and must wait for it. */
    mkdir_p("c0/1");
    pl_serving_options o;
    options(&o, 0, 2);
    pl_server_config c = config_of(1, "c");
    pl_serving *s;
    CHECK_OK(pl_serving_create(&o, &c, &s));
    int before = atomic_load(&loads);
    mkdir_p("c0/2");
    for (int i = 0; i < 300 && atomic_load(&running) == 0; i++) usleep(10 * 1000);
    CHECK(atomic_load(&running) == 1);
    CHECK(state_of(s, "c0", 2) == PL_STATE_LOADING);
    pl_serving_free(s);
    CHECK(atomic_load(&running) == 0);
    CHECK(atomic_load(&loads) == before + 1);
    pl_server_config_clear(&c);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/plinth-load-threads-XXXXXX");
    if (!mkdtemp(root)) return 1;
    RUN_TEST(test_initial_load_runs_in_parallel);
    RUN_TEST(test_limit_and_failures);
    RUN_TEST(test_free_waits_for_loads);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) return 1;
    return check_summary();
}
