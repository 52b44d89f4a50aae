/* The model manager against TensorFlow Serving's lifecycle rules (spec 1a,
 * 1d): version directories, version policies, load failures and retries,
 * availability-preserving transitions with requests in flight, config reloads
 * and labels. Models come from a counting loader over temporary directories:
 * a version directory holding a file named FAIL fails to load. */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "serving/internal.h"

/* ---- a counting loader ---- */

typedef struct fake_model {
    char path[512];
} fake_model;

static atomic_int loads, unloads, live_models;

static pl_status fake_load(void *ctx, const char *path, pl_model **out) {
    (void)ctx;
    atomic_fetch_add(&loads, 1);
    char probe[600];
    snprintf(probe, sizeof probe, "%s/FAIL", path);
    if (access(probe, F_OK) == 0) return pl_error(PL_INVALID_ARGUMENT, "cannot load %s", path);
    fake_model *m = calloc(1, sizeof *m);
    snprintf(m->path, sizeof m->path, "%s", path);
    atomic_fetch_add(&live_models, 1);
    *out = (pl_model *)m;
    return NULL;
}

static void fake_unload(void *ctx, pl_model *model) {
    (void)ctx;
    atomic_fetch_add(&unloads, 1);
    atomic_fetch_sub(&live_models, 1);
    free(model);
}

static void options(pl_serving_options *o) {
    pl_serving_options_init(o);
    o->loader = (pl_model_loader){.load = fake_load, .unload = fake_unload};
    o->max_num_load_retries = 0;
    o->load_retry_interval_micros = 0;
}

/* ---- directories ---- */

static char root[256];

static void mkdirs(const char *rel) { check_mkdirs(root, rel); }

static void touch(const char *rel) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    if (f) fclose(f);
}

static char *path_of(const char *rel) {
    static char p[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", root, rel);
    return p[k];
}

static void rmrf(const char *rel) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/%s'", root, rel);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", rel);
}

static pl_server_config one_model(const char *name, const char *rel) {
    pl_server_config c;
    pl_status st = pl_server_config_single(name, path_of(rel), &c);
    if (st) {
        fprintf(stderr, "%s\n", pl_status_message(st));
        exit(1);
    }
    return c;
}

static void add_model(pl_server_config *c, const char *name, const char *rel) {
    c->models = realloc(c->models, sizeof *c->models * (size_t)(c->num_models + 1));
    pl_model_config m = {.name = (char *)name, .base_path = path_of(rel), .platform = "tensorflow",
                         .policy = PL_POLICY_LATEST, .latest_num_versions = 1};
    pl_status st = pl__model_config_copy(&m, &c->models[c->num_models++]);
    if (st) exit(1);
}

static pl_servable_state state_of(pl_serving *s, const char *name, int64_t version) {
    pl_version_status *vs;
    int n;
    pl_status st = pl_serving_model_status(s, name, &version, &vs, &n);
    if (st) {
        pl_status_free(st);
        return PL_STATE_UNKNOWN;
    }
    pl_servable_state r = vs[0].state;
    pl_version_status_free(vs, n);
    return r;
}

static bool wait_state(pl_serving *s, const char *name, int64_t version, pl_servable_state want, int ms) {
    for (int i = 0; i < ms / 10; i++) {
        if (state_of(s, name, version) == want) return true;
        usleep(10000);
    }
    return state_of(s, name, version) == want;
}

static int64_t latest(pl_serving *s, const char *name) {
    pl_model_spec spec = {.name = name};
    pl_servable *sv;
    pl_status st = pl_serving_get_servable(s, &spec, &sv);
    if (st) {
        pl_status_free(st);
        return -1;
    }
    int64_t v = pl_servable_version(sv);
    pl_servable_release(sv);
    return v;
}

static void check_message(pl_status st, pl_code code, const char *msg) {
    CHECK_EQ_INT(pl_status_code(st), code);
    CHECK_STR(pl_status_message(st), msg);
    pl_status_free(st);
}

/* ---- tests ---- */

static void test_version_names(void) {
    int64_t v = 0;
    CHECK(pl__parse_version("00000123", &v) && v == 123);
    CHECK(pl__parse_version(" 7 ", &v) && v == 7);
    CHECK(pl__parse_version("-5", &v) && v == -5);
    CHECK(pl__parse_version("+5", &v) && v == 5);
    CHECK(pl__parse_version("9223372036854775807", &v) && v == INT64_MAX);
    CHECK(pl__parse_version("-9223372036854775808", &v) && v == INT64_MIN);
    CHECK(!pl__parse_version("9223372036854775808", &v));
    CHECK(!pl__parse_version("12a", &v));
    CHECK(!pl__parse_version("", &v));
    CHECK(!pl__parse_version("abc", &v));
    CHECK(!pl__parse_version("1 2", &v));
}

static void poll(pl_model_config *c, int64_t *versions, int *n) {
    pl__aspired *a;
    *n = -1;
    pl_status st = pl__poll_versions(c, &a, n);
    CHECK_OK(st);
    if (*n < 0) return;
    for (int i = 0; i < *n; i++) versions[i] = a[i].version;
    pl__aspired_free(a, *n);
}

static void test_version_policies(void) {
    mkdirs("p/1");
    mkdirs("p/2");
    mkdirs("p/0010");
    mkdirs("p/abc");
    touch("p/7x");
    pl_model_config c = {.name = "p", .base_path = path_of("p"), .platform = "tensorflow",
                         .policy = PL_POLICY_LATEST, .latest_num_versions = 0};
    int64_t v[8];
    int n;
    poll(&c, v, &n);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(v[0], 10);
    c.latest_num_versions = 2;
    poll(&c, v, &n);
    CHECK_EQ_INT(n, 2);
    CHECK(n == 2 && v[0] == 10 && v[1] == 2);
    c.policy = PL_POLICY_ALL;
    poll(&c, v, &n);
    CHECK(n == 3 && v[0] == 10 && v[1] == 2 && v[2] == 1);

    /* "specific": 7 is missing, so the base path is listed and 1 alone found. */
    int64_t spec[2] = {1, 7};
    c.policy = PL_POLICY_SPECIFIC;
    c.specific = spec;
    c.num_specific = 2;
    poll(&c, v, &n);
    CHECK(n == 1 && v[0] == 1);
    /* 10 exists only as "0010": the fast path misses it, the listing finds it. */
    spec[0] = 10;
    c.num_specific = 1;
    pl__aspired *a;
    CHECK_OK(pl__poll_versions(&c, &a, &n));
    CHECK(n == 1 && a[0].version == 10);
    if (n == 1) CHECK_STR(a[0].path, path_of("p/0010"));
    pl__aspired_free(a, n);

    c.base_path = path_of("missing");
    CHECK_ERR(pl__poll_versions(&c, &a, &n), PL_INVALID_ARGUMENT);
}

static void test_startup_and_lookup(void) {
    mkdirs("m/1");
    mkdirs("m/2");
    pl_serving_options o;
    options(&o);
    pl_server_config cfg = one_model("m", "m");
    pl_serving *s;
    CHECK_OK(pl_serving_create(&o, &cfg, &s));
    pl_server_config_clear(&cfg);
    if (!s) return;

    CHECK_EQ_INT(latest(s, "m"), 2);
    pl_servable *sv;
    pl_model_spec spec = {.name = "m", .choice = PL_VERSION_SPECIFIC, .version = 1};
    check_message(pl_serving_get_servable(s, &spec, &sv), PL_NOT_FOUND, "Servable not found for request: Specific(m, 1)");
    spec = (pl_model_spec){.name = "other"};
    check_message(pl_serving_get_servable(s, &spec, &sv), PL_NOT_FOUND, "Servable not found for request: Latest(other)");
    spec = (pl_model_spec){.name = ""};
    check_message(pl_serving_get_servable(s, &spec, &sv), PL_INVALID_ARGUMENT, "ModelSpec has no name specified.");
    spec = (pl_model_spec){.name = "m", .choice = PL_VERSION_LABEL, .version_label = "stable"};
    check_message(pl_serving_get_servable(s, &spec, &sv), PL_INVALID_ARGUMENT,
                  "Unrecognized servable version label: stable");

    pl_version_status *vs;
    int n;
    CHECK_OK(pl_serving_model_status(s, "m", NULL, &vs, &n));
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK_EQ_INT(vs[0].version, 2);
        CHECK_EQ_INT(vs[0].state, PL_STATE_AVAILABLE);
        CHECK_EQ_INT(vs[0].error_code, PL_OK);
        CHECK_STR(vs[0].error_message, "");
    }
    pl_version_status_free(vs, n);
    int64_t one = 1;
    check_message(pl_serving_model_status(s, "m", &one, &vs, &n), PL_NOT_FOUND, "Could not find version 1 of model m");
    check_message(pl_serving_model_status(s, "x", NULL, &vs, &n), PL_NOT_FOUND, "Could not find any versions of model x");
    pl_serving_free(s);
    CHECK_EQ_INT(atomic_load(&live_models), 0);
}

static void test_failed_load_fails_startup(void) {
    mkdirs("bad/5");
    touch("bad/5/FAIL");
    pl_serving_options o;
    options(&o);
    o.max_num_load_retries = 2;
    atomic_store(&loads, 0);
    pl_server_config cfg = one_model("bad", "bad");
    pl_serving *s = NULL;
    pl_status st = pl_serving_create(&o, &cfg, &s);
    pl_server_config_clear(&cfg);
    char want[1024];
    snprintf(want, sizeof want,
             "1 model(s) did not become available: {{{name: bad version: 5} due to error: INVALID_ARGUMENT: cannot "
             "load %s}, }",
             path_of("bad/5"));
    CHECK(s == NULL);
    check_message(st, PL_UNKNOWN, want);
    /* The first try and two retries. */
    CHECK_EQ_INT(atomic_load(&loads), 3);
}

/* Keeps asking for the latest version; counts failures. */
typedef struct prober {
    pl_serving *s;
    atomic_bool stop;
    atomic_int failures, calls;
} prober;

static void *probe_main(void *arg) {
    prober *p = arg;
    while (!atomic_load(&p->stop)) {
        if (latest(p->s, "t") < 0) atomic_fetch_add(&p->failures, 1);
        atomic_fetch_add(&p->calls, 1);
        usleep(200);
    }
    return NULL;
}

static void test_transition_with_requests_in_flight(void) {
    mkdirs("t/1");
    pl_serving_options o;
    options(&o);
    pl_server_config cfg = one_model("t", "t");
    pl_serving *s;
    CHECK_OK(pl_serving_create(&o, &cfg, &s));
    pl_server_config_clear(&cfg);
    if (!s) return;
    prober p = {.s = s};
    pthread_t th;
    pthread_create(&th, NULL, probe_main, &p);

    pl_model_spec spec = {.name = "t"};
    pl_servable *held = NULL;
    CHECK_OK(pl_serving_get_servable(s, &spec, &held));
    int unloads_before = atomic_load(&unloads);
    mkdirs("t/2");
    /* Version 2 loads first; version 1 then unloads but waits for `held`. */
    CHECK(wait_state(s, "t", 2, PL_STATE_AVAILABLE, 5000));
    CHECK(wait_state(s, "t", 1, PL_STATE_UNLOADING, 5000));
    usleep(100000);
    CHECK_EQ_INT(state_of(s, "t", 1), PL_STATE_UNLOADING);
    CHECK_EQ_INT(atomic_load(&unloads), unloads_before);
    CHECK_EQ_INT(latest(s, "t"), 2);
    /* The held version still works for its holder. */
    CHECK_EQ_INT(pl_servable_version(held), 1);
    CHECK(strstr(((fake_model *)pl_servable_model(held))->path, "/t/1") != NULL);
    pl_servable_release(held);
    CHECK(wait_state(s, "t", 1, PL_STATE_END, 5000));
    CHECK_EQ_INT(atomic_load(&unloads), unloads_before + 1);

    /* Removing the newest directory brings the older one back. */
    rmrf("t/2");
    CHECK(wait_state(s, "t", 1, PL_STATE_AVAILABLE, 5000));
    CHECK(wait_state(s, "t", 2, PL_STATE_END, 5000));
    atomic_store(&p.stop, true);
    pthread_join(th, NULL);
    CHECK_EQ_INT(atomic_load(&p.failures), 0);
    CHECK(atomic_load(&p.calls) > 100);
    pl_serving_free(s);
    CHECK_EQ_INT(atomic_load(&live_models), 0);
}

static void test_failed_new_version_keeps_old(void) {
    mkdirs("f/1");
    pl_serving_options o;
    options(&o);
    pl_server_config cfg = one_model("f", "f");
    pl_serving *s;
    CHECK_OK(pl_serving_create(&o, &cfg, &s));
    pl_server_config_clear(&cfg);
    if (!s) return;
    mkdirs("f/2");
    touch("f/2/FAIL");
    CHECK(wait_state(s, "f", 2, PL_STATE_END, 5000));
    usleep(50000);
    CHECK_EQ_INT(state_of(s, "f", 1), PL_STATE_AVAILABLE);
    CHECK_EQ_INT(latest(s, "f"), 1);
    int64_t two = 2;
    pl_version_status *vs;
    int n;
    CHECK_OK(pl_serving_model_status(s, "f", &two, &vs, &n));
    if (n == 1) {
        CHECK_EQ_INT(vs[0].error_code, PL_INVALID_ARGUMENT);
        CHECK(strstr(vs[0].error_message, "cannot load") != NULL);
    }
    pl_version_status_free(vs, n);
    pl_serving_free(s);
}

static void test_reload_and_labels(void) {
    mkdirs("a/1");
    mkdirs("b/3");
    mkdirs("b/4");
    mkdirs("c/1");
    touch("c/1/FAIL");
    pl_serving_options o;
    options(&o);
    pl_server_config cfg = one_model("a", "a");
    pl_serving *s;
    CHECK_OK(pl_serving_create(&o, &cfg, &s));
    if (!s) return;

    /* Adding b (with both versions) and a model that fails: the reload reports
     * c, and a and b serve. */
    add_model(&cfg, "b", "b");
    cfg.models[1].policy = PL_POLICY_ALL;
    add_model(&cfg, "c", "c");
    pl_status st = pl_serving_reload_config(s, &cfg);
    CHECK_EQ_INT(pl_status_code(st), PL_UNKNOWN);
    CHECK(strstr(pl_status_message(st), "1 model(s) did not become available: {{{name: c version: 1} due to error") != NULL);
    pl_status_free(st);
    CHECK_EQ_INT(latest(s, "a"), 1);
    CHECK_EQ_INT(latest(s, "b"), 4);
    CHECK_EQ_INT(state_of(s, "b", 3), PL_STATE_AVAILABLE);

    /* Labels may only point at available versions. */
    cfg.num_models = 2;
    pl__model_config_clear(&cfg.models[2]);
    pl_model_config *b = &cfg.models[1];
    b->labels = calloc(1, sizeof *b->labels);
    b->labels[0] = (pl_version_label){.label = strdup("stable"), .version = 99};
    b->num_labels = 1;
    check_message(pl_serving_reload_config(s, &cfg), PL_FAILED_PRECONDITION,
                  "Request to assign label to version 99 of model b, which is not currently available for inference");
    b->labels[0].version = 3;
    CHECK_OK(pl_serving_reload_config(s, &cfg));
    pl_model_spec spec = {.name = "b", .choice = PL_VERSION_LABEL, .version_label = "stable"};
    pl_servable *sv;
    CHECK_OK(pl_serving_get_servable(s, &spec, &sv));
    if (sv) {
        CHECK_EQ_INT(pl_servable_version(sv), 3);
        pl_servable_release(sv);
    }
    /* The same config again is a no-op. */
    CHECK_OK(pl_serving_reload_config(s, &cfg));

    /* Invalid configs are refused and change nothing. */
    pl_server_config dup;
    CHECK_OK(pl_server_config_copy(&cfg, &dup));
    free(dup.models[1].name);
    dup.models[1].name = strdup("a");
    check_message(pl_serving_reload_config(s, &dup), PL_INVALID_ARGUMENT,
                  "Illegal to list model a multiple times in config list");
    free(dup.models[1].name);
    dup.models[1].name = strdup("b");
    free(dup.models[1].base_path);
    dup.models[1].base_path = strdup("relative/b");
    check_message(pl_serving_reload_config(s, &dup), PL_INVALID_ARGUMENT,
                  "Expected model b to have an absolute path or URI; got base_path()=relative/b");
    pl_server_config_clear(&dup);
    pl_server_config custom = {.kind = PL_CONFIG_CUSTOM};
    check_message(pl_serving_reload_config(s, &custom), PL_FAILED_PRECONDITION,
                  "Cannot transition to requested config. It is only legal to transition from one ModelConfigList "
                  "to another.");
    /* server_core.cc checks the transition first, so even an empty config is
     * refused once a model list is in place. */
    pl_server_config empty = {.kind = PL_CONFIG_NOT_SET};
    CHECK_ERR(pl_serving_reload_config(s, &empty), PL_FAILED_PRECONDITION);
    CHECK_EQ_INT(latest(s, "a"), 1);

    /* Dropping a unloads it. */
    pl_server_config only_b = {.kind = PL_CONFIG_MODEL_LIST, .num_models = 1, .models = &cfg.models[1]};
    CHECK_OK(pl_serving_reload_config(s, &only_b));
    CHECK(wait_state(s, "a", 1, PL_STATE_END, 5000));
    CHECK_EQ_INT(latest(s, "a"), -1);
    CHECK_EQ_INT(latest(s, "b"), 4);
    /* Its states stay visible, like TensorFlow Serving's state monitor. */
    CHECK_EQ_INT(state_of(s, "a", 1), PL_STATE_END);
    pl_server_config_clear(&cfg);
    pl_serving_free(s);
    CHECK_EQ_INT(atomic_load(&live_models), 0);
}

static void test_labels_for_unavailable_models(void) {
    mkdirs("u/1");
    pl_serving_options o;
    options(&o);
    o.allow_version_labels_for_unavailable_models = true;
    pl_server_config cfg = one_model("u", "u");
    cfg.models[0].labels = calloc(1, sizeof *cfg.models[0].labels);
    cfg.models[0].labels[0] = (pl_version_label){.label = strdup("canary"), .version = 2};
    cfg.models[0].num_labels = 1;
    pl_serving *s;
    /* A new label may point at a version that is not loaded yet... */
    CHECK_OK(pl_serving_create(&o, &cfg, &s));
    if (!s) return;
    pl_model_spec spec = {.name = "u", .choice = PL_VERSION_LABEL, .version_label = "canary"};
    pl_servable *sv;
    check_message(pl_serving_get_servable(s, &spec, &sv), PL_NOT_FOUND, "Servable not found for request: Specific(u, 2)");
    /* ...but moving an existing label still needs an available target. */
    cfg.models[0].labels[0].version = 3;
    check_message(pl_serving_reload_config(s, &cfg), PL_FAILED_PRECONDITION,
                  "Request to assign label to version 3 of model u, which is not currently available for inference");
    pl_server_config_clear(&cfg);
    pl_serving_free(s);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/plinth-serving-XXXXXX");
    if (!mkdtemp(root)) return 1;
    RUN_TEST(test_version_names);
    RUN_TEST(test_version_policies);
    RUN_TEST(test_startup_and_lookup);
    RUN_TEST(test_failed_load_fails_startup);
    RUN_TEST(test_transition_with_requests_in_flight);
    RUN_TEST(test_failed_new_version_keeps_old);
    RUN_TEST(test_reload_and_labels);
    RUN_TEST(test_labels_for_unavailable_models);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) return 1;
    return check_summary();
}
