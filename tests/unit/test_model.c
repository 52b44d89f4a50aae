/* Models: concurrent runs with different fetch sets on one model (each run
 * with its own state, preparations shared through the cache), deadlines,
 * cancellation and the caller's poll between nodes. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "runtime/model.h"
#include "tensorflow/core/framework/graph.pb-c.h"

static char model_path[256];

static Tensorflow__NodeDef *make_node(const char *name, const char *op, const char *input, Tensorflow__AttrValue *t) {
    Tensorflow__NodeDef *n = calloc(1, sizeof *n);
    tensorflow__node_def__init(n);
    n->name = (char *)name;
    n->op = (char *)op;
    if (input) {
        n->n_input = 1;
        n->input = calloc(1, sizeof(char *));
        n->input[0] = (char *)input;
    }
    n->n_attr = 1;
    n->attr = calloc(1, sizeof *n->attr);
    n->attr[0] = calloc(1, sizeof **n->attr);
    tensorflow__node_def__attr_entry__init(n->attr[0]);
    n->attr[0]->key = (char *)(input ? "T" : "dtype");
    n->attr[0]->value = t;
    return n;
}

/* x (Placeholder) -> y (Identity) -> z (Identity), written to a temporary file. */
static void write_model(void) {
    Tensorflow__AttrValue t = TENSORFLOW__ATTR_VALUE__INIT;
    t.value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
    t.type = TENSORFLOW__DATA_TYPE__DT_FLOAT;
    Tensorflow__NodeDef *nodes[3] = {make_node("x", "Placeholder", NULL, &t), make_node("y", "Identity", "x", &t),
                                     make_node("z", "Identity", "y", &t)};
    Tensorflow__GraphDef g = TENSORFLOW__GRAPH_DEF__INIT;
    g.n_node = 3;
    g.node = nodes;
    size_t len = tensorflow__graph_def__get_packed_size(&g);
    uint8_t *buf = malloc(len);
    tensorflow__graph_def__pack(&g, buf);
    snprintf(model_path, sizeof model_path, "/tmp/plinth_test_model_%d.pb", (int)getpid());
    FILE *f = fopen(model_path, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    free(buf);
    for (int i = 0; i < 3; i++) {
        free(nodes[i]->input);
        free(nodes[i]->attr[0]);
        free(nodes[i]->attr);
        free(nodes[i]);
    }
}

typedef struct worker {
    pl_model *m;
    int id;
    int failures;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 300; i++) {
        pl_tensor *x;
        if (pl_tensor_scalar(PL_DT_FLOAT, w->id * 1000 + i, &x)) {
            w->failures++;
            continue;
        }
        const char *feed = "x:0";
        static const char *const fetch_sets[3][2] = {{"z:0", NULL}, {"y", "z"}, {"z", "x:0"}};
        const char *const *fetches = fetch_sets[i % 3];
        int nf = fetches[1] ? 2 : 1;
        pl_tensor *out[2] = {0};
        pl_status st = pl_model_run(w->m, NULL, 1, &feed, &x, nf, fetches, out);
        if (st) {
            w->failures++;
            pl_status_free(st);
        } else {
            for (int k = 0; k < nf; k++) {
                if (*(float *)out[k]->data != (float)(w->id * 1000 + i)) w->failures++;
                pl_tensor_unref(out[k]);
            }
        }
        pl_tensor_unref(x);
    }
    return NULL;
}

static void test_concurrent_runs(void) {
    pl_model *m = NULL;
    CHECK_OK(pl_model_load(model_path, NULL, &m));
    if (!m) return;
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){m, i, 0};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(w[i].failures, 0);
    }
    pl_model_free(m);
}

static void test_deadline_and_cancel(void) {
    pl_model *m = NULL;
    CHECK_OK(pl_model_load(model_path, NULL, &m));
    if (!m) return;
    pl_tensor *x, *z = NULL;
    CHECK_OK(pl_tensor_scalar(PL_DT_FLOAT, 1, &x));
    const char *feed = "x", *fetch = "z";
    pl_run_options opt = {.deadline_ns = 1};
    CHECK_ERR(pl_model_run(m, &opt, 1, &feed, &x, 1, &fetch, &z), PL_DEADLINE_EXCEEDED);
    atomic_int cancelled = 1;
    opt = (pl_run_options){.cancelled = &cancelled};
    CHECK_ERR(pl_model_run(m, &opt, 1, &feed, &x, 1, &fetch, &z), PL_CANCELLED);
    CHECK(z == NULL);
    cancelled = 0;
    CHECK_OK(pl_model_run(m, &opt, 1, &feed, &x, 1, &fetch, &z));
    pl_tensor_unref(z);
    /* duplicate feeds are an error; duplicate fetches are fine */
    const char *feeds2[2] = {"x", "x"};
    pl_tensor *xs[2] = {x, x};
    CHECK_ERR(pl_model_run(m, NULL, 2, feeds2, xs, 1, &fetch, &z), PL_INVALID_ARGUMENT);
    const char *fetches2[2] = {"z", "z"};
    pl_tensor *zz[2] = {0};
    CHECK_OK(pl_model_run(m, NULL, 1, &feed, &x, 2, fetches2, zz));
    CHECK(zz[0] && zz[0] == zz[1]);
    pl_tensor_unref(zz[0]);
    pl_tensor_unref(zz[1]);
    pl_tensor_unref(x);
    pl_model_free(m);
}

typedef struct poller {
    int calls;
    atomic_int cancelled;
    bool cancel;
} poller;

static void poll_once(void *arg) {
    poller *p = arg;
    p->calls++;
    if (p->cancel) atomic_store(&p->cancelled, 1);
}

/* Makes each kernel last longer than a tick of the coarse clock the poll reads. */
static void slow_node(void *arg, const pl_node_trace *t) {
    (void)arg;
    (void)t;
    usleep(15000);
}

/* The poll runs between kernels once its interval has passed: never in a
 * run shorter than the interval, and a poll that cancels stops the run
 * before the next kernel. */
static void test_poll(void) {
    pl_model *m = NULL;
    CHECK_OK(pl_model_load(model_path, NULL, &m));
    if (!m) return;
    pl_tensor *x, *z = NULL;
    CHECK_OK(pl_tensor_scalar(PL_DT_FLOAT, 2, &x));
    const char *feed = "x", *fetch = "z";
    poller p = {0};
    pl_run_options opt = {.cancelled = &p.cancelled, .poll = poll_once, .poll_arg = &p,
                          .poll_every_ns = 60LL * 1000 * 1000 * 1000};
    CHECK_OK(pl_model_run(m, &opt, 1, &feed, &x, 1, &fetch, &z));
    CHECK_EQ_INT(p.calls, 0);
    pl_tensor_unref(z);
    z = NULL;
    /* Due before every kernel after the first that ran: x, y, z and the
     * run's feed and fetch at most. */
    opt.poll_every_ns = 1000 * 1000;
    opt.on_node = slow_node;
    CHECK_OK(pl_model_run(m, &opt, 1, &feed, &x, 1, &fetch, &z));
    CHECK(p.calls >= 1 && p.calls <= 5);
    CHECK(z && *(const float *)z->data == 2);
    pl_tensor_unref(z);
    z = NULL;
    p = (poller){.cancel = true};
    CHECK_ERR(pl_model_run(m, &opt, 1, &feed, &x, 1, &fetch, &z), PL_CANCELLED);
    CHECK_EQ_INT(p.calls, 1);
    CHECK(z == NULL);
    pl_tensor_unref(x);
    pl_model_free(m);
}

int main(void) {
    write_model();
    RUN_TEST(test_concurrent_runs);
    RUN_TEST(test_deadline_and_cancel);
    RUN_TEST(test_poll);
    unlink(model_path);
    return check_summary();
}
