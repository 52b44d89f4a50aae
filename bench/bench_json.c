/* Tensor JSON codec speed: decode and encode MB/s for the MTCNN test_image
 * predict request (made at run time by the oracle's make_request.py into a
 * temporary directory) and for a 1000x1000 float matrix in the row format,
 * against jansson doing the same job (parse to a tree, fill a float buffer;
 * build a tree, print it indented) in the same run.
 *
 *   bench_json [seconds per measurement, default 0.5]
 *
 * Single-threaded. Each figure is the best of several rounds timed in CPU
 * time of the measuring thread, so that other processes on a shared machine
 * do not count against either side. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/json.h"
#include "base/clock.h"
#include "base/file.h"

#ifdef PLINTH_HAVE_JANSSON
#include <jansson.h>
#endif

#ifndef PLINTH_SHARED_DIR
#define PLINTH_SHARED_DIR "../shared"
#endif

static double budget_s = 0.5;

typedef struct payload {
    const char *name;
    char *body;
    size_t len;
    pl_tensor_info inputs[4];
    int n_inputs;
} payload;

static pl_status lookup(void *ctx, const char *name, const pl_tensor_info **inputs, int *n) {
    (void)name;
    payload *p = ctx;
    *inputs = p->inputs;
    *n = p->n_inputs;
    return NULL;
}

static int64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs fn until the budget is spent; returns the best seconds per call. */
static double best_time(void (*fn)(void *), void *arg) {
    double best = 1e30;
    int64_t start = pl_clock_now_ns();
    int rounds = 0;
    do {
        int64_t t0 = thread_cpu_ns();
        fn(arg);
        double s = pl_clock_ns_to_s(thread_cpu_ns() - t0);
        if (s < best) best = s;
        rounds++;
    } while (rounds < 3 || pl_clock_ns_to_s(pl_clock_now_ns() - start) < budget_s);
    return best;
}

static void fail(pl_status st) {
    fprintf(stderr, "bench_json: %s\n", pl_status_message(st));
    exit(1);
}

/* ---- plinth ---- */

static payload *cur;
static pl_json_predict decoded;
static pl_strbuf encoded;

static void plinth_decode(void *arg) {
    (void)arg;
    pl_json_predict req;
    pl_status st = pl_json_decode_predict(cur->body, cur->len, lookup, cur, &req);
    if (st) fail(st);
    pl_json_predict_deinit(&req);
}

static void plinth_encode(void *arg) {
    (void)arg;
    pl_strbuf_clear(&encoded);
    pl_status st = pl_json_encode_predict(decoded.format, decoded.num_inputs, (const char *const *)decoded.aliases,
                                          decoded.tensors, &encoded);
    if (st) fail(st);
}

#ifdef PLINTH_HAVE_JANSSON
/* ---- jansson: the same work through a general JSON tree ---- */

static json_t *lib_tree;
static size_t lib_out_len;

/* Shape from the first elements, then the values depth first. */
static void lib_fill(json_t *v, float **out) {
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) lib_fill(e, out);
    } else {
        *(*out)++ = (float)json_number_value(v);
    }
}

static size_t lib_count(json_t *v) {
    if (!json_is_array(v)) return 1;
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(v, i, e) n += lib_count(e);
    return n;
}

static void lib_decode(void *arg) {
    (void)arg;
    json_error_t err;
    json_t *root = json_loadb(cur->body, cur->len, 0, &err);
    if (!root) {
        fprintf(stderr, "jansson: %s\n", err.text);
        exit(1);
    }
    json_t *x = json_object_get(root, "inputs");
    if (!x) x = json_object_get(root, "instances");
    if (json_is_object(x)) {
        const char *k;
        json_t *v;
        json_object_foreach(x, k, v) {
            float *buf = malloc(lib_count(v) * sizeof *buf + 1), *p = buf;
            lib_fill(v, &p);
            free(buf);
        }
    } else {
        float *buf = malloc(lib_count(x) * sizeof *buf + 1), *p = buf;
        lib_fill(x, &p);
        free(buf);
    }
    json_decref(root);
}

static json_t *lib_build(const pl_tensor *t, int dim, int64_t *off) {
    if (dim == t->rank) return json_real(((const float *)t->data)[(*off)++]);
    json_t *a = json_array();
    for (int64_t i = 0; i < t->dims[dim]; i++) json_array_append_new(a, lib_build(t, dim + 1, off));
    return a;
}

static void lib_encode(void *arg) {
    (void)arg;
    json_t *root = json_object();
    if (decoded.format == PL_JSON_FORMAT_ROW) {
        json_t *rows = json_array();
        int64_t off = 0;
        const pl_tensor *t = decoded.tensors[0];
        for (int64_t r = 0; r < t->dims[0]; r++) json_array_append_new(rows, lib_build(t, 1, &off));
        json_object_set_new(root, "predictions", rows);
    } else {
        json_t *outs = json_object();
        for (int i = 0; i < decoded.num_inputs; i++) {
            int64_t off = 0;
            json_object_set_new(outs, decoded.aliases[i], lib_build(decoded.tensors[i], 0, &off));
        }
        json_object_set_new(root, "outputs", outs);
    }
    char *s = json_dumps(root, JSON_INDENT(4) | JSON_REAL_PRECISION(9));
    lib_out_len = strlen(s);
    free(s);
    json_decref(root);
    (void)lib_tree;
}
#endif

static void measure(payload *p) {
    cur = p;
    pl_status st = pl_json_decode_predict(p->body, p->len, lookup, p, &decoded);
    if (st) fail(st);
    pl_strbuf_init(&encoded, 0);
    plinth_encode(NULL);
    double mb_in = (double)p->len / 1e6, mb_out = (double)encoded.len / 1e6;
    double dec = best_time(plinth_decode, NULL), enc = best_time(plinth_encode, NULL);
    printf("%-16s request %.2f MB, response %.2f MB\n", p->name, mb_in, mb_out);
    printf("  plinth   decode %7.1f MB/s   encode %7.1f MB/s\n", mb_in / dec, mb_out / enc);
#ifdef PLINTH_HAVE_JANSSON
    double ldec = best_time(lib_decode, NULL), lenc = best_time(lib_encode, NULL);
    printf("  jansson  decode %7.1f MB/s   encode %7.1f MB/s (its output %.2f MB)\n", mb_in / ldec,
           (double)lib_out_len / 1e6 / lenc, (double)lib_out_len / 1e6);
    printf("  ratio    decode %7.1fx        encode %7.1fx (same work, time ratio)\n", ldec / dec, lenc / enc);
#else
    printf("  (jansson not found at build time: no baseline)\n");
#endif
    pl_strbuf_deinit(&encoded);
    pl_json_predict_deinit(&decoded);
}

/* Runs a Python snippet writing JSON to `path`. */
static bool run_python(char *const argv[], const char *path) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(path, "w", stdout)) _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void load(payload *p, const char *path) {
    pl_status st = pl_file_read(path, (size_t)1 << 30, &p->body, &p->len);
    if (st) fail(st);
}

int main(int argc, char **argv) {
    if (argc > 1) budget_s = atof(argv[1]);
    const char *shared = getenv("PLINTH_SHARED");
    if (!shared) shared = PLINTH_SHARED_DIR;
    char dir[] = "/tmp/plinth-bench-json-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char mtcnn_path[256], matrix_path[256], script[512], ref[512];
    snprintf(mtcnn_path, sizeof mtcnn_path, "%s/mtcnn.json", dir);
    snprintf(matrix_path, sizeof matrix_path, "%s/matrix.json", dir);
    snprintf(script, sizeof script, "%s/oracle/make_request.py", shared);
    snprintf(ref, sizeof ref, "%s/oracle/ref/test_image.B.json", shared);

    payload mtcnn = {.name = "mtcnn test_image", .n_inputs = 4};
    const char *mtcnn_inputs[] = {"factor", "input", "min_size", "thresholds"};
    for (int i = 0; i < 4; i++) mtcnn.inputs[i] = (pl_tensor_info){.alias = (char *)mtcnn_inputs[i], .dtype = PL_DT_FLOAT, .rank = -1};
    char *gen_mtcnn[] = {"/usr/bin/python3", script, ref, NULL};
    payload matrix = {.name = "1000x1000 float", .n_inputs = 1};
    matrix.inputs[0] = (pl_tensor_info){.alias = "x", .dtype = PL_DT_FLOAT, .rank = -1};
    char *gen_matrix[] = {"/usr/bin/python3", "-c",
                          "import json, sys, numpy as np\n"
                          "x = np.random.default_rng(7).standard_normal((1000, 1000)).astype(np.float32)\n"
                          "json.dump({'instances': x.tolist()}, sys.stdout)\n",
                          NULL};
    int rc = 0;
    if (!run_python(gen_mtcnn, mtcnn_path)) {
        fprintf(stderr, "bench_json: cannot make the MTCNN request with %s\n", script);
        rc = 1;
    } else {
        load(&mtcnn, mtcnn_path);
        measure(&mtcnn);
        free(mtcnn.body);
    }
    if (!run_python(gen_matrix, matrix_path)) {
        fprintf(stderr, "bench_json: cannot make the matrix request\n");
        rc = 1;
    } else {
        load(&matrix, matrix_path);
        measure(&matrix);
        free(matrix.body);
    }
    unlink(mtcnn_path);
    unlink(matrix_path);
    rmdir(dir);
    return rc;
}
