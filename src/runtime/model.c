/* Models: the loaded graph, its session and signatures, and a cache of
 * executions prepared per set of feeds and fetches so that Session::Run-style
 * calls prepare once and then only run. */
#include "runtime/model.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/executor.h"
#include "runtime/function.h"
#include "base/log.h"
#include "runtime/internal.h"
#include "runtime/saved_model_internal.h"
#include "base/sort.h"

/* Prepared executions kept per model; each costs its kernels' state, so a
 * client cycling through many fetch sets cannot grow memory without bound. */
#define MAX_CACHED_EXECS 32

typedef struct cached_exec {
    int num_feeds, num_fetches;
    char **names;              /* sorted feeds, then sorted unique fetches */
    pl_exec *exec;
    int refs;                  /* the cache's own reference plus runs in flight */
    uint64_t last_used;
    struct cached_exec *next;
} cached_exec;

struct pl_model {
    const char *format;
    pl_graph *graph;
    pl_session *session;
    int num_signatures;
    pl_signature *signatures;
    pthread_mutex_t mu;        /* guards the cache */
    cached_exec *cache;
    int num_cached;
    uint64_t clock;
};

void pl__signature_clear(pl_signature *sig) {
    for (int i = 0; i < sig->num_inputs; i++) {
        free(sig->inputs[i].alias);
        free(sig->inputs[i].tensor_name);
    }
    for (int i = 0; i < sig->num_outputs; i++) {
        free(sig->outputs[i].alias);
        free(sig->outputs[i].tensor_name);
    }
    free(sig->inputs);
    free(sig->outputs);
    free(sig->key);
    free(sig->method_name);
    memset(sig, 0, sizeof *sig);
}

static void cached_free(cached_exec *c) {
    for (int i = 0; i < c->num_feeds + c->num_fetches; i++) free(c->names[i]);
    free(c->names);
    pl_exec_free(c->exec);
    free(c);
}

static void cached_release(pl_model *m, cached_exec *c) {
    pthread_mutex_lock(&m->mu);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&m->mu);
    if (last) cached_free(c);
}

void pl_model_free(pl_model *m) {
    if (!m) return;
    for (cached_exec *c = m->cache, *next; c; c = next) {
        next = c->next;
        cached_free(c);
    }
    for (int i = 0; i < m->num_signatures; i++) pl__signature_clear(&m->signatures[i]);
    free(m->signatures);
    pl_session_free(m->session);
    pl_graph_free(m->graph);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

const char *pl_model_format(const pl_model *m) { return m->format; }
int pl_model_num_signatures(const pl_model *m) { return m->num_signatures; }
const pl_signature *pl_model_signature(const pl_model *m, int i) {
    return i >= 0 && i < m->num_signatures ? &m->signatures[i] : NULL;
}

const pl_signature *pl_model_find_signature(const pl_model *m, const char *key) {
    for (int i = 0; i < m->num_signatures; i++)
        if (!strcmp(m->signatures[i].key, key)) return &m->signatures[i];
    return NULL;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }
static int cmp_sig(const void *a, const void *b) { return strcmp(((const pl_signature *)a)->key, ((const pl_signature *)b)->key); }
static int cmp_info(const void *a, const void *b) {
    return strcmp(((const pl_tensor_info *)a)->alias, ((const pl_tensor_info *)b)->alias);
}

/* The canonical (sorted, fetches deduplicated) name lists of a call. */
typedef struct call_key {
    int num_feeds, num_fetches;
    const char **names;
} call_key;

static pl_status make_key(int num_feeds, const char *const *feeds, int num_fetches, const char *const *fetches,
                          call_key *k) {
    k->names = malloc(((size_t)num_feeds + (size_t)num_fetches + 1) * sizeof *k->names);
    if (!k->names) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < num_feeds; i++) k->names[i] = feeds[i];
    pl_qsort(k->names, (size_t)num_feeds, sizeof *k->names, cmp_str);
    for (int i = 1; i < num_feeds; i++)
        if (!strcmp(k->names[i], k->names[i - 1])) {
            pl_status st = pl_error(PL_INVALID_ARGUMENT, "Tensor %s is fed more than once", k->names[i]);
            free(k->names);
            return st;
        }
    const char **f = k->names + num_feeds;
    for (int i = 0; i < num_fetches; i++) f[i] = fetches[i];
    pl_qsort(f, (size_t)num_fetches, sizeof *f, cmp_str);
    int n = 0;
    for (int i = 0; i < num_fetches; i++)
        if (n == 0 || strcmp(f[i], f[n - 1])) f[n++] = f[i];
    k->num_feeds = num_feeds;
    k->num_fetches = n;
    return NULL;
}

static bool key_matches(const cached_exec *c, const call_key *k) {
    if (c->num_feeds != k->num_feeds || c->num_fetches != k->num_fetches) return false;
    for (int i = 0; i < k->num_feeds + k->num_fetches; i++)
        if (strcmp(c->names[i], k->names[i])) return false;
    return true;
}

static void evict_locked(pl_model *m) {
    while (m->num_cached > MAX_CACHED_EXECS) {
        cached_exec **oldest = NULL;
        for (cached_exec **l = &m->cache; *l; l = &(*l)->next)
            if (!oldest || (*l)->last_used < (*oldest)->last_used) oldest = l;
        cached_exec *c = *oldest;
        *oldest = c->next;
        m->num_cached--;
        if (--c->refs == 0) cached_free(c);
    }
}

/* Finds or prepares the execution for k; the result holds a reference. */
static pl_status get_exec(pl_model *m, const call_key *k, cached_exec **out) {
    pthread_mutex_lock(&m->mu);
    for (cached_exec *c = m->cache; c; c = c->next)
        if (key_matches(c, k)) {
            c->refs++;
            c->last_used = ++m->clock;
            pthread_mutex_unlock(&m->mu);
            *out = c;
            return NULL;
        }
    pthread_mutex_unlock(&m->mu);
    /* Prepared outside the lock: other calls keep running meanwhile. */
    cached_exec *c = calloc(1, sizeof *c);
    int n = k->num_feeds + k->num_fetches;
    if (c) c->names = calloc((size_t)n + 1, sizeof *c->names);
    if (!c || !c->names) {
        free(c);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    c->num_feeds = k->num_feeds;
    c->num_fetches = k->num_fetches;
    pl_status st = NULL;
    for (int i = 0; i < n && !st; i++)
        if (!(c->names[i] = strdup(k->names[i]))) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st)
        st = pl_exec_prepare(m->graph, m->session, k->num_feeds, k->names, k->num_fetches, k->names + k->num_feeds, 0,
                             NULL, &c->exec);
    if (st) {
        cached_free(c);
        return st;
    }
    pthread_mutex_lock(&m->mu);
    for (cached_exec *other = m->cache; other; other = other->next)
        if (key_matches(other, k)) { /* another call prepared it first */
            other->refs++;
            other->last_used = ++m->clock;
            pthread_mutex_unlock(&m->mu);
            cached_free(c);
            *out = other;
            return NULL;
        }
    c->refs = 2;
    c->last_used = ++m->clock;
    c->next = m->cache;
    m->cache = c;
    m->num_cached++;
    evict_locked(m);
    pthread_mutex_unlock(&m->mu);
    *out = c;
    return NULL;
}

static int index_of(const char *const *names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return i;
    return -1;
}

/* Drops the caller's feed references when the run was to take them but never started. */
static pl_status not_run(const pl_run_options *opt, int num_feeds, pl_tensor *const *feeds, pl_status st) {
    for (int i = 0; opt && opt->take_feeds && i < num_feeds; i++) pl_tensor_unref(feeds[i]);
    return st;
}

pl_status pl_model_run(pl_model *m, const pl_run_options *opt, int num_feeds, const char *const *feed_names,
                       pl_tensor *const *feeds, int num_fetches, const char *const *fetch_names, pl_tensor **fetched) {
    if (num_feeds < 0 || num_fetches < 0)
        return not_run(opt, 0, feeds, pl_error(PL_INVALID_ARGUMENT, "negative number of feeds or fetches"));
    call_key k;
    pl_status st = make_key(num_feeds, feed_names, num_fetches, fetch_names, &k);
    if (st) return not_run(opt, num_feeds, feeds, st);
    cached_exec *c;
    st = get_exec(m, &k, &c);
    if (st) {
        free(k.names);
        return not_run(opt, num_feeds, feeds, st);
    }
    pl_tensor **in = calloc((size_t)k.num_feeds + 1, sizeof *in);
    pl_tensor **out = calloc((size_t)k.num_fetches + 1, sizeof *out);
    if (!in || !out) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; !st && i < num_feeds; i++) {
        int at = index_of(k.names, k.num_feeds, feed_names[i]);
        in[at] = feeds[i];
        st = pl_exec_check_feed(c->exec, at, feeds[i], i); /* reported in the caller's order */
    }
    if (!st) st = pl_exec_run(c->exec, opt, in, out);
    else not_run(opt, num_feeds, feeds, NULL);
    if (!st)
        for (int i = 0; i < num_fetches; i++)
            fetched[i] = pl_tensor_ref(out[index_of(k.names + k.num_feeds, k.num_fetches, fetch_names[i])]);
    for (int i = 0; out && i < k.num_fetches; i++) pl_tensor_unref(out[i]);
    free(in);
    free(out);
    free(k.names);
    cached_release(m, c);
    return st;
}

typedef struct missing_op {
    const char *op, *node;
    int others;
} missing_op;

typedef struct missing_ops {
    missing_op *items;
    int n, cap;
    bool oom;
} missing_ops;

static void note_op(missing_ops *m, const pl_function_lib *lib, const char *op, const char *node) {
    if (!op || pl__op_kind(op) != PL__KIND_OP || pl_function_lib_find(lib, op)) return;
    const pl_kernel_def *k = pl_kernel_find(op);
    if (k && k->compute) return;
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->items[i].op, op)) {
            m->items[i].others++;
            return;
        }
    if (m->n == m->cap) {
        int cap = m->cap ? m->cap * 2 : 8;
        missing_op *grown = realloc(m->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            m->oom = true;
            return;
        }
        m->items = grown;
        m->cap = cap;
    }
    m->items[m->n++] = (missing_op){op, node ? node : "", 0};
}

/* One error naming every op without a kernel (each op once, with the first
 * node using it) in the graph and its function library, so a model that
 * cannot load says everything that is missing at once. */
pl_status pl__graph_check_ops(const pl_graph *g) {
    missing_ops m = {0};
    for (int i = 0; i < g->num_nodes; i++) note_op(&m, g->lib, g->nodes[i].op, g->nodes[i].name);
    const Tensorflow__GraphDef *def = g->def;
    if (def && def->library)
        for (size_t f = 0; f < def->library->n_function; f++) {
            const Tensorflow__FunctionDef *fd = def->library->function[f];
            for (size_t k = 0; fd && k < fd->n_node_def; k++)
                if (fd->node_def[k]) note_op(&m, g->lib, fd->node_def[k]->op, fd->node_def[k]->name);
        }
    pl_status st = m.oom ? pl_error(PL_RESOURCE_EXHAUSTED, "out of memory") : NULL;
    size_t len = 0;
    char *msg = NULL;
    for (int i = 0; !st && i < m.n; i++) {
        char more[64] = "";
        if (m.items[i].others)
            snprintf(more, sizeof more, " (and %d other node%s)", m.items[i].others, m.items[i].others > 1 ? "s" : "");
        const char *fmt = "%sOp type not registered '%s' in node '%s'%s";
        int add = snprintf(NULL, 0, fmt, len ? "; " : "", m.items[i].op, m.items[i].node, more);
        char *grown = realloc(msg, len + (size_t)add + 1);
        if (!grown) {
            st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            break;
        }
        msg = grown;
        snprintf(msg + len, (size_t)add + 1, fmt, len ? "; " : "", m.items[i].op, m.items[i].node, more);
        len += (size_t)add;
    }
    if (!st && msg) st = pl_error(PL_NOT_FOUND, "%s", msg);
    free(msg);
    free(m.items);
    return st;
}

/* Sorts signatures and their tensors, then prepares each signature's
 * execution: with `strict` a signature that cannot be prepared fails the
 * load; otherwise (SavedModels, whose signatures TensorFlow only prepares
 * when they are used) it is logged and its requests will report the error. */
static pl_status warm_up(pl_model *m, bool strict) {
    if (m->num_signatures > 1) pl_qsort(m->signatures, (size_t)m->num_signatures, sizeof *m->signatures, cmp_sig);
    for (int s = 0; s < m->num_signatures; s++) {
        pl_signature *sig = &m->signatures[s];
        if (sig->num_inputs > 1) pl_qsort(sig->inputs, (size_t)sig->num_inputs, sizeof *sig->inputs, cmp_info);
        if (sig->num_outputs > 1) pl_qsort(sig->outputs, (size_t)sig->num_outputs, sizeof *sig->outputs, cmp_info);
        const char **names = malloc(((size_t)sig->num_inputs + (size_t)sig->num_outputs + 1) * sizeof *names);
        if (!names) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        for (int i = 0; i < sig->num_inputs; i++) names[i] = sig->inputs[i].tensor_name;
        for (int i = 0; i < sig->num_outputs; i++) names[sig->num_inputs + i] = sig->outputs[i].tensor_name;
        call_key k;
        pl_status st = make_key(sig->num_inputs, names, sig->num_outputs, names + sig->num_inputs, &k);
        free(names);
        if (st) return pl_status_prefix(st, "signature '%s': ", sig->key);
        cached_exec *c = NULL;
        st = get_exec(m, &k, &c);
        free(k.names);
        if (st && !strict) {
            pl_log_warning("signature '%s' cannot be prepared: %s", sig->key, pl_status_message(st));
            pl_status_free(st);
            continue;
        }
        if (st) return pl_status_prefix(st, "signature '%s': ", sig->key);
        cached_release(m, c);
    }
    return NULL;
}

pl_status pl__model_new(const char *format, pl_graph *graph, pl_session *session, pl_signature *signatures,
                        int num_signatures, bool strict, pl_model **out) {
    pl_model *m = calloc(1, sizeof *m);
    if (!m) {
        for (int i = 0; i < num_signatures; i++) pl__signature_clear(&signatures[i]);
        free(signatures);
        pl_session_free(session);
        pl_graph_free(graph);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    pthread_mutex_init(&m->mu, NULL);
    m->format = format;
    m->graph = graph;
    m->session = session;
    m->signatures = signatures;
    m->num_signatures = num_signatures;
    pl_status st = warm_up(m, strict);
    if (st) {
        pl_model_free(m);
        return st;
    }
    *out = m;
    return NULL;
}

static pl_status load_saved_model(const char *dir, const pl_model_options *opt, pl_model **out) {
    pl__saved_model_parts parts;
    PL_TRY(pl__saved_model_read(dir, opt ? opt->tags : NULL, &parts));
    pl_status st = pl__graph_check_ops(parts.graph);
    if (st) {
        pl__saved_model_parts_free(&parts);
        return st;
    }
    return pl__model_new("tensorflow_savedmodel", parts.graph, parts.session, parts.signatures,
                         parts.num_signatures, false, out);
}

static bool is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

pl_status pl_model_load(const char *path, const pl_model_options *opt, pl_model **out) {
    (void)opt;
    struct stat sb;
    if (stat(path, &sb) != 0) return pl_error(PL_NOT_FOUND, "Model path '%s' does not exist", path);
    if (S_ISREG(sb.st_mode)) return pl__graphdef_model_load(path, out);
    if (!S_ISDIR(sb.st_mode)) return pl_error(PL_INVALID_ARGUMENT, "Model path '%s' is neither a file nor a directory", path);
    size_t len = strlen(path) + 32;
    char *pb = malloc(len), *pbtxt = malloc(len);
    if (!pb || !pbtxt) {
        free(pb), free(pbtxt);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    snprintf(pb, len, "%s/saved_model.pb", path);
    snprintf(pbtxt, len, "%s/saved_model.pbtxt", path);
    bool saved_model = is_file(pb) || is_file(pbtxt);
    free(pb), free(pbtxt);
    if (saved_model) return load_saved_model(path, opt, out);
    return pl__graphdef_model_load(path, out);
}
