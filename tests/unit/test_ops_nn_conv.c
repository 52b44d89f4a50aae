/* Convolution and pooling through oneDNN against the direct C kernels (and the
 * direct transposed convolution against its forward twin), and the
 * per-node caches: a shape seen before reuses its plan, weights are reordered
 * once per layout, a weight tensor that changes is never served stale, and
 * many threads can run one node at once. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "ops/nn_internal.h"

static uint64_t rng_state = 88172645463325252ull;

static float frand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static pl_tensor *random_tensor(int rank, const int64_t *dims) {
    pl_tensor *t = NULL;
    CHECK_OK(pl_tensor_alloc(PL_DT_FLOAT, rank, dims, &t));
    float *v = t->data;
    for (int64_t i = 0; i < t->count; i++) v[i] = frand();
    return t;
}

static double max_diff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}

typedef struct conv_case {
    int64_t x[4], f[4];
    int64_t stride[2], dil[2];
    pl__padding padding;
    bool depthwise, nchw;
} conv_case;

static const conv_case CASES[] = {
    {{1, 12, 16, 3}, {3, 3, 3, 10}, {1, 1}, {1, 1}, PL__PAD_VALID, false, false},
    {{2, 9, 10, 10}, {3, 3, 10, 16}, {2, 2}, {1, 1}, PL__PAD_SAME, false, false},
    {{1, 8, 8, 4}, {2, 2, 4, 6}, {1, 1}, {1, 1}, PL__PAD_SAME, false, false},
    {{1, 10, 9, 3}, {1, 1, 3, 5}, {3, 3}, {1, 1}, PL__PAD_VALID, false, false},
    {{1, 11, 13, 4}, {3, 3, 4, 4}, {1, 1}, {2, 3}, PL__PAD_SAME, false, false},
    {{1, 6, 6, 8}, {3, 3, 2, 8}, {1, 1}, {1, 1}, PL__PAD_SAME, false, false},  /* grouped */
    {{1, 9, 9, 16}, {3, 3, 16, 1}, {1, 1}, {1, 1}, PL__PAD_SAME, true, false},
    {{1, 9, 9, 6}, {3, 3, 6, 2}, {2, 2}, {1, 1}, PL__PAD_SAME, true, false},
    {{1, 3, 12, 10}, {3, 3, 3, 4}, {1, 1}, {1, 1}, PL__PAD_SAME, false, true}, /* NCHW: [n, c, h, w] */
};

static pl_status conv_once(pl__conv *cv, const conv_case *k, pl_tensor *x, pl_tensor *f, pl_tensor **y_out,
                           pl__conv_geom *g) {
    pl__window_attrs w = {.nchw = k->nchw, .padding = k->padding, .stride = {k->stride[0], k->stride[1]},
                          .dilation = {k->dil[0], k->dil[1]}};
    PL_TRY(pl__conv_geometry(&w, k->depthwise, x, f, g));
    int64_t dims[4];
    pl__nhwc_dims((pl__nhwc){g->n, g->oh, g->ow, g->oc}, g->nchw, dims);
    PL_TRY(pl_tensor_alloc(PL_DT_FLOAT, 4, dims, y_out));
    return pl__conv_run(cv, g, x, f, (*y_out)->data);
}

static void test_conv_matches_direct(void) {
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const conv_case *k = &CASES[i];
        pl__window_attrs w = {.nchw = k->nchw, .padding = k->padding};
        pl__conv *cv = NULL;
        CHECK_OK(pl__conv_create(&w, k->depthwise, &cv));
        pl_tensor *x = random_tensor(4, k->x), *f = random_tensor(4, k->f), *y = NULL;
        pl__conv_geom g;
        CHECK_OK(conv_once(cv, k, x, f, &y, &g));
        float *want = malloc(sizeof(float) * (size_t)y->count);
        pl__conv2d_direct(&g, x->data, f->data, want);
        CHECK_NEAR(max_diff(y->data, want, y->count), 0, 2e-5);
        const char *impl = pl__conv_impl(cv);
        CHECK(strncmp(impl, "ref", 3) != 0);
        if (!k->nchw) CHECK(strcmp(impl, "direct") != 0);
        fprintf(stderr, "  case %zu: %s\n", i, impl);
        free(want);
        pl_tensor_unref(x);
        pl_tensor_unref(f);
        pl_tensor_unref(y);
        pl__conv_free(cv);
    }
}

/* The direct transposed kernel is the adjoint of the direct forward one:
 * <conv(x), dy> == <x, conv_transpose(dy)>. */
static void test_transpose_direct_is_adjoint(void) {
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const conv_case *k = &CASES[i];
        pl__window_attrs w = {.nchw = k->nchw, .padding = k->padding, .stride = {k->stride[0], k->stride[1]},
                              .dilation = {k->dil[0], k->dil[1]}};
        pl_tensor *x = random_tensor(4, k->x), *f = random_tensor(4, k->f);
        pl__conv_geom g;
        CHECK_OK(pl__conv_geometry(&w, k->depthwise, x, f, &g));
        const int64_t ny = g.n * g.oh * g.ow * g.oc;
        float *y = malloc(sizeof(float) * (size_t)ny), *dy = malloc(sizeof(float) * (size_t)ny);
        float *dx = malloc(sizeof(float) * (size_t)x->count);
        for (int64_t j = 0; j < ny; j++) dy[j] = frand();
        pl__conv2d_direct(&g, x->data, f->data, y);
        pl__conv2d_transpose_direct(&g, dy, f->data, dx);
        double lhs = 0, rhs = 0;
        for (int64_t j = 0; j < ny; j++) lhs += (double)y[j] * dy[j];
        for (int64_t j = 0; j < x->count; j++) rhs += (double)((float *)x->data)[j] * dx[j];
        CHECK_NEAR(lhs, rhs, 1e-4 * (1 + fabs(lhs)));
        free(y);
        free(dy);
        free(dx);
        pl_tensor_unref(x);
        pl_tensor_unref(f);
    }
}

/* One node sees a pyramid of sizes, then the same sizes again. */
static void test_plan_and_weight_caches(void) {
    const conv_case k = {{1, 0, 0, 3}, {3, 3, 3, 10}, {1, 1}, {1, 1}, PL__PAD_VALID, false, false};
    pl__window_attrs w = {.padding = PL__PAD_VALID};
    pl__conv *cv = NULL;
    CHECK_OK(pl__conv_create(&w, false, &cv));
    pl_tensor *f = random_tensor(4, k.f);
    const int64_t sizes[][2] = {{40, 50}, {28, 35}, {20, 25}, {40, 50}, {28, 35}, {12, 18}, {20, 25}};
    for (int r = 0; r < 7; r++) {
        conv_case kk = k;
        kk.x[1] = sizes[r][0], kk.x[2] = sizes[r][1];
        pl_tensor *x = random_tensor(4, kk.x), *y = NULL;
        pl__conv_geom g;
        CHECK_OK(conv_once(cv, &kk, x, f, &y, &g));
        float *want = malloc(sizeof(float) * (size_t)y->count);
        pl__conv2d_direct(&g, x->data, f->data, want);
        CHECK_NEAR(max_diff(y->data, want, y->count), 0, 2e-5);
        free(want);
        pl_tensor_unref(x);
        pl_tensor_unref(y);
    }
    int plans, weights;
    pl__conv_cache_counts(cv, &plans, &weights);
    CHECK_EQ_INT(plans, 4);       /* four distinct sizes */
    CHECK(weights >= 1 && weights <= 2);  /* one layout, or two if oneDNN blocks some sizes differently */
    pl_tensor_unref(f);
    pl__conv_free(cv);
}

/* A filter fed at run time: new contents must be used even at an old address. */
static void test_changing_weights(void) {
    const conv_case k = {{1, 7, 7, 4}, {3, 3, 4, 8}, {1, 1}, {1, 1}, PL__PAD_SAME, false, false};
    pl__window_attrs w = {.padding = PL__PAD_SAME};
    pl__conv *cv = NULL;
    CHECK_OK(pl__conv_create(&w, false, &cv));
    pl_tensor *x = random_tensor(4, k.x);
    for (int r = 0; r < 10; r++) {
        pl_tensor *f = random_tensor(4, k.f), *y = NULL;
        pl__conv_geom g;
        CHECK_OK(conv_once(cv, &k, x, f, &y, &g));
        float *want = malloc(sizeof(float) * (size_t)y->count);
        pl__conv2d_direct(&g, x->data, f->data, want);
        CHECK_NEAR(max_diff(y->data, want, y->count), 0, 2e-5);
        free(want);
        pl_tensor_unref(y);
        pl_tensor_unref(f); /* the cache may still hold it; the next filter is a new tensor */
    }
    int plans, weights;
    pl__conv_cache_counts(cv, &plans, &weights);
    CHECK_EQ_INT(plans, 1);
    CHECK_EQ_INT(weights, 1); /* reorders of filters nobody holds any more are dropped */
    pl_tensor_unref(x);
    pl__conv_free(cv);
}

/* ---- many threads, one node ---- */

#define THREADS 4
#define ROUNDS 12

typedef struct shared_conv {
    pl__conv *cv;
    pl_tensor *f;
    pl_tensor *x[3];
    float *want[3];
    int64_t count[3];
    conv_case k[3];
    int failures;
    pthread_mutex_t mu;
} shared_conv;

static void *conv_thread(void *arg) {
    shared_conv *s = arg;
    for (int r = 0; r < ROUNDS; r++) {
        int i = r % 3;
        pl_tensor *y = NULL;
        pl__conv_geom g;
        pl_status st = conv_once(s->cv, &s->k[i], s->x[i], s->f, &y, &g);
        bool bad = st || max_diff(y->data, s->want[i], s->count[i]) > 2e-5;
        pl_status_free(st);
        pl_tensor_unref(y);
        if (bad) {
            pthread_mutex_lock(&s->mu);
            s->failures++;
            pthread_mutex_unlock(&s->mu);
        }
    }
    return NULL;
}

static void test_concurrent_runs(void) {
    shared_conv s = {.failures = 0};
    pthread_mutex_init(&s.mu, NULL);
    pl__window_attrs w = {.padding = PL__PAD_SAME};
    CHECK_OK(pl__conv_create(&w, false, &s.cv));
    const int64_t fd[4] = {3, 3, 8, 16};
    s.f = random_tensor(4, fd);
    for (int i = 0; i < 3; i++) {
        s.k[i] = (conv_case){{1, 10 + 7 * i, 12 + 5 * i, 8}, {3, 3, 8, 16}, {1, 1}, {1, 1}, PL__PAD_SAME, false, false};
        s.x[i] = random_tensor(4, s.k[i].x);
        pl__conv_geom g;
        pl__window_attrs ww = {.padding = PL__PAD_SAME, .stride = {1, 1}, .dilation = {1, 1}};
        CHECK_OK(pl__conv_geometry(&ww, false, s.x[i], s.f, &g));
        s.count[i] = g.n * g.oh * g.ow * g.oc;
        s.want[i] = malloc(sizeof(float) * (size_t)s.count[i]);
        pl__conv2d_direct(&g, s.x[i]->data, s.f->data, s.want[i]);
    }
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, conv_thread, &s);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    CHECK_EQ_INT(s.failures, 0);
    int plans, weights;
    pl__conv_cache_counts(s.cv, &plans, &weights);
    CHECK_EQ_INT(plans, 3);
    for (int i = 0; i < 3; i++) {
        pl_tensor_unref(s.x[i]);
        free(s.want[i]);
    }
    pl_tensor_unref(s.f);
    pl__conv_free(s.cv);
    pthread_mutex_destroy(&s.mu);
}

/* ---- pooling ---- */

static void test_pool_matches_direct(void) {
    const struct {
        int64_t x[4], k[2], s[2];
        pl__padding pad;
        bool nchw;
    } cases[] = {
        {{1, 11, 13, 10}, {2, 2}, {2, 2}, PL__PAD_SAME, false},
        {{2, 9, 9, 16}, {3, 3}, {2, 2}, PL__PAD_SAME, false},
        {{1, 10, 10, 3}, {2, 2}, {3, 3}, PL__PAD_VALID, false},
        {{1, 1, 1, 4}, {3, 3}, {2, 2}, PL__PAD_SAME, false},
        {{1, 4, 9, 7}, {3, 2}, {1, 2}, PL__PAD_SAME, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int kind = 0; kind < 2; kind++) {
            pl__window_attrs w = {.nchw = cases[i].nchw, .padding = cases[i].pad,
                                  .ksize = {cases[i].k[0], cases[i].k[1]}, .stride = {cases[i].s[0], cases[i].s[1]},
                                  .dilation = {1, 1}};
            pl_tensor *x = random_tensor(4, cases[i].x);
            pl__pool_geom g;
            CHECK_OK(pl__pool_geometry(&w, x, &g));
            int64_t n = g.n * g.oh * g.ow * g.c;
            float *got = malloc(sizeof(float) * (size_t)n), *want = malloc(sizeof(float) * (size_t)n);
            pl__pool *p = NULL;
            CHECK_OK(pl__pool_create(kind ? PL__POOL_AVG : PL__POOL_MAX, &p));
            CHECK_OK(pl__pool_run(p, &g, x->data, got));
            CHECK_OK(pl__pool_run(p, &g, x->data, got)); /* the cached plan */
            pl__pool_direct(kind ? PL__POOL_AVG : PL__POOL_MAX, &g, x->data, want);
            CHECK_NEAR(max_diff(got, want, n), 0, 1e-6);
            CHECK(strncmp(pl__pool_impl(p), "ref", 3) != 0);
            fprintf(stderr, "  pool %zu %s: %s\n", i, kind ? "avg" : "max", pl__pool_impl(p));
            pl__pool_free(p);
            free(got);
            free(want);
            pl_tensor_unref(x);
        }
}

int main(void) {
    RUN_TEST(test_conv_matches_direct);
    RUN_TEST(test_transpose_direct_is_adjoint);
    RUN_TEST(test_plan_and_weight_caches);
    RUN_TEST(test_changing_weights);
    RUN_TEST(test_concurrent_runs);
    RUN_TEST(test_pool_matches_direct);
    return check_summary();
}
