/* The SavedModel loader from C: the counter model's variable under
 * concurrent increments (no update may be lost), the reference-variable
 * rewrite on a hand-built GraphDef, and tag parsing edge cases. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "runtime/bundle.h"
#include "runtime/executor.h"
#include "runtime/saved_model_internal.h"

#define THREADS 4
#define INCREMENTS 250

static const char *shared_dir(void) {
    const char *s = getenv("PLINTH_SHARED");
    return s ? s : "../shared";
}

static const pl_signature *find_sig(const pl__saved_model_parts *m, const char *key) {
    for (int i = 0; i < m->num_signatures; i++)
        if (!strcmp(m->signatures[i].key, key)) return &m->signatures[i];
    return NULL;
}

static pl_exec *prepare_output(const pl__saved_model_parts *m, const char *sig_key) {
    const pl_signature *sig = find_sig(m, sig_key);
    CHECK(sig != NULL);
    if (!sig) return NULL;
    const char *fetch = sig->outputs[0].tensor_name;
    pl_exec *e = NULL;
    CHECK_OK(pl_exec_prepare(m->graph, m->session, 0, NULL, 1, &fetch, 0, NULL, &e));
    return e;
}

static void *increment(void *arg) {
    const pl_exec *e = arg;
    for (int i = 0; i < INCREMENTS; i++) {
        pl_tensor *out = NULL;
        pl_status st = pl_exec_run(e, NULL, NULL, &out);
        if (st) {
            fprintf(stderr, "increment failed: %s\n", pl_status_message(st));
            pl_status_free(st);
            return (void *)1;
        }
        pl_tensor_unref(out);
    }
    return NULL;
}

static void test_counter_concurrent_increments(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models/tfs-testdata/saved_model_counter/00000123", shared_dir());
    pl__saved_model_parts m;
    pl_status st = pl__saved_model_read(dir, NULL, &m);
    CHECK_OK(st);
    if (st) return;
    pl_exec *incr = prepare_output(&m, "incr_counter"), *get = prepare_output(&m, "get_counter");
    if (incr && get) {
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, increment, incr);
        for (int i = 0; i < THREADS; i++) {
            void *r;
            pthread_join(t[i], &r);
            CHECK(r == NULL);
        }
        pl_tensor *v = NULL;
        CHECK_OK(pl_exec_run(get, NULL, NULL, &v));
        if (v) {
            CHECK_NEAR(pl_tensor_get_f64(v, 0), THREADS * INCREMENTS, 0);
            pl_tensor_unref(v);
        }
    }
    pl_exec_free(incr);
    pl_exec_free(get);
    pl__saved_model_parts_free(&m);
}

/* ---- the rewrite on a GraphDef built here ---- */

static Tensorflow__NodeDef *new_node(const char *name, const char *op, int n_inputs, const char *const *inputs) {
    Tensorflow__NodeDef *n = malloc(sizeof *n);
    tensorflow__node_def__init(n);
    n->name = strdup(name);
    n->op = strdup(op);
    n->n_input = (size_t)n_inputs;
    n->input = n_inputs ? malloc((size_t)n_inputs * sizeof *n->input) : NULL;
    for (int i = 0; i < n_inputs; i++) n->input[i] = strdup(inputs[i]);
    return n;
}

static const Tensorflow__NodeDef *node_named(const Tensorflow__GraphDef *g, const char *name) {
    for (size_t i = 0; i < g->n_node; i++)
        if (!strcmp(g->node[i]->name, name)) return g->node[i];
    return NULL;
}

static void test_rewrite(void) {
    Tensorflow__GraphDef *g = malloc(sizeof *g);
    tensorflow__graph_def__init(g);
    const char *assign_in[] = {"v:0", "x"}, *read_in[] = {"v"}, *apply_in[] = {"v", "v", "v"},
               *ctrl_in[] = {"x", "^v"}, *other_in[] = {"v/_handle"};
    Tensorflow__NodeDef *nodes[] = {
        new_node("v", "VariableV2", 0, NULL),
        new_node("v/_handle", "Const", 0, NULL), /* a name the rewrite must not take */
        new_node("x", "Const", 0, NULL),
        new_node("assign", "Assign", 2, assign_in),
        new_node("read", "Identity", 1, read_in),
        new_node("momentum", "ApplyMomentum", 3, apply_in), /* ref inputs 0 and 1, value input 2 */
        new_node("after", "Identity", 2, ctrl_in),
        new_node("uses_const", "Identity", 1, other_in),
    };
    size_t n = sizeof nodes / sizeof nodes[0];
    g->n_node = n;
    g->node = malloc(n * sizeof *g->node);
    memcpy(g->node, nodes, sizeof nodes);
    int count = -1;
    CHECK_OK(pl__saved_model_rewrite_ref_variables(g, &count));
    CHECK_EQ_INT(count, 1);
    CHECK_EQ_INT(g->n_node, n + 1);
    const Tensorflow__NodeDef *h = node_named(g, "v/_handle_1"), *v = node_named(g, "v");
    CHECK(h && !strcmp(h->op, "VariableV2"));
    CHECK(v && !strcmp(v->op, "ReadVariableOp") && v->n_input == 1 && !strcmp(v->input[0], "v/_handle_1"));
    /* The handle keeps the session key: shared_name set to the variable's name. */
    bool shared = false;
    for (size_t i = 0; h && i < h->n_attr; i++)
        if (!strcmp(h->attr[i]->key, "shared_name"))
            shared = h->attr[i]->value->s.len == 1 && h->attr[i]->value->s.data[0] == 'v';
    CHECK(shared);
    CHECK_STR(node_named(g, "assign")->input[0], "v/_handle_1");
    CHECK_STR(node_named(g, "assign")->input[1], "x");
    CHECK_STR(node_named(g, "read")->input[0], "v");
    CHECK_STR(node_named(g, "momentum")->input[0], "v/_handle_1");
    CHECK_STR(node_named(g, "momentum")->input[1], "v/_handle_1");
    CHECK_STR(node_named(g, "momentum")->input[2], "v");
    CHECK_STR(node_named(g, "after")->input[1], "^v/_handle_1");
    CHECK_STR(node_named(g, "uses_const")->input[0], "v/_handle");
    tensorflow__graph_def__free_unpacked(g, NULL);
}

/* tfrust_regression_tf1: y_hat = w*x + b with w and b restored from its checkpoint. */
static void test_rust_regression(void) {
    char dir[1024], prefix[1100];
    snprintf(dir, sizeof dir, "%s/zoo/tfrust_regression_tf1/1", shared_dir());
    snprintf(prefix, sizeof prefix, "%s/variables/variables", dir);
    pl__saved_model_parts m;
    pl_status st = pl__saved_model_read(dir, "serve,train", &m);
    CHECK_OK(st);
    if (st) return;
    pl_bundle *b = NULL;
    pl_tensor *w = NULL, *bias = NULL, *x = NULL, *y = NULL;
    CHECK_OK(pl_bundle_open(prefix, &b));
    if (b) {
        CHECK_OK(pl_bundle_read(b, "w", &w));
        CHECK_OK(pl_bundle_read(b, "b", &bias));
    }
    const pl_signature *sig = find_sig(&m, "tensorflow/serving/regress");
    int64_t n = 4;
    CHECK_OK(pl_tensor_alloc(PL_DT_FLOAT, 1, &n, &x));
    pl_exec *e = NULL;
    if (sig && w && bias && x) {
        float *xv = x->data;
        xv[0] = 0, xv[1] = 1, xv[2] = 2.5f, xv[3] = -4;
        const char *feed = NULL, *fetch = sig->outputs[0].tensor_name;
        for (int i = 0; i < sig->num_inputs; i++)
            if (!strcmp(sig->inputs[i].alias, "x")) feed = sig->inputs[i].tensor_name;
        CHECK(feed != NULL);
        CHECK_OK(pl_exec_prepare(m.graph, m.session, 1, &feed, 1, &fetch, 0, NULL, &e));
        if (e) CHECK_OK(pl_exec_run(e, NULL, &x, &y));
    }
    if (y) {
        float wv = ((float *)w->data)[0], bv = ((float *)bias->data)[0];
        CHECK(wv != 0);
        for (int i = 0; i < 4; i++) CHECK_NEAR(((float *)y->data)[i], wv * ((float *)x->data)[i] + bv, 1e-6);
    }
    pl_exec_free(e);
    pl_tensor_unref(w);
    pl_tensor_unref(bias);
    pl_tensor_unref(x);
    pl_tensor_unref(y);
    pl_bundle_free(b);
    pl__saved_model_parts_free(&m);
}

static void test_tags(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/zoo/tfrust_regression_tf1/1", shared_dir());
    pl__saved_model_parts m;
    /* Empty items and repeats do not change the set. */
    CHECK_OK(pl__saved_model_read(dir, ",train,,serve,train,", &m));
    pl__saved_model_parts_free(&m);
    CHECK_ERR(pl__saved_model_read(dir, "serve, train", &m), PL_NOT_FOUND); /* " train" is another tag */
    CHECK_ERR(pl__saved_model_read(dir, "", &m), PL_NOT_FOUND);             /* empty means serve */
}

int main(void) {
    RUN_TEST(test_counter_concurrent_increments);
    RUN_TEST(test_rewrite);
    RUN_TEST(test_rust_regression);
    RUN_TEST(test_tags);
    return check_summary();
}
