/* Predict latency of the zoo's image CNNs (MobileNet V1 0.25/128, float and
 * weight-quantized, and OpenCV's SSD face detector at 300x300) through the
 * runtime, against the compute limit measured in the same run (the graph's
 * convolution and matmul FLOPs over the FMA peak of the cores used) and
 * against TensorFlow.js-wasm running the same graph on the same input in the
 * same run (bench/zoo_tfjs.js; its output is compared with plinth's too).
 *
 *   bench_zoo_cnn [--runs N] [--tfjs ORACLE_COPY] [--node NODE]
 * (models and picture under $PLINTH_SHARED; the TensorFlow.js copy from
 * $PLINTH_TFJS, which bench/run.sh prepares; without it that column is
 * skipped). Prints ratios only against figures of the same run. */
#include <libgen.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "common/image_scale.h"
#include "probe/fma.h"
#include "runtime/model.h"
#include "tensor/npy.h"

typedef struct bench_case {
    const char *label, *model, *graph, *input, *output;
    int size;           /* square input side */
    bool bgr_mean;      /* SSD: BGR minus (104, 117, 123); MobileNet: RGB / 127.5 - 1 */
} bench_case;

static const bench_case cases[] = {
    {"mobilenet_v1_025_128", "mobilenet_v1_025_128", "frozen_graph.pb", "input", "MobilenetV1/Predictions/Reshape_1",
     128, false},
    {"mobilenet_v1_025_128_quant", "mobilenet_v1_025_128_quant", "quantized_graph.pb", "input",
     "MobilenetV1/Predictions/Reshape_1", 128, false},
    {"opencv_face_ssd_uint8", "opencv_face_ssd_uint8", "opencv_face_detector_uint8.pb", "data", "mbox_conf_flatten",
     300, true},
};

static void die(pl_status st) {
    fprintf(stderr, "bench_zoo_cnn: %s\n", pl_status_message(st));
    exit(1);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The picture (HWC, BGR, 0..255) scaled to size x size and prepared as the model expects. */
static pl_tensor *model_input(const pl_tensor *img, const bench_case *c) {
    pl_tensor *scaled, *t;
    pl_status st = pl_bench_image_scaled(img, c->size, c->size, &scaled);
    if (st) die(st);
    int64_t dims[4] = {1, c->size, c->size, 3};
    if ((st = pl_tensor_alloc(PL_DT_FLOAT, 4, dims, &t))) die(st);
    static const double mean[3] = {104.0, 117.0, 123.0};
    const float *s = scaled->data;
    float *d = t->data;
    for (int64_t i = 0; i < scaled->count / 3; i++)
        for (int k = 0; k < 3; k++) {
            double v = s[i * 3 + (c->bgr_mean ? k : 2 - k)];
            d[i * 3 + k] = (float)(c->bgr_mean ? v - mean[k] : v / 127.5 - 1.0);
        }
    pl_tensor_unref(scaled);
    return t;
}

/* 2 * multiply-adds of a convolution or matmul node, from its traced shapes. */
static void count_flops(void *arg, const pl_node_trace *t) {
    const pl_tensor *y = t->num_outputs > 0 ? t->outputs[0] : NULL;
    if (!y || t->num_inputs < 2) return;
    const pl_tensor *f = t->inputs[1];
    double *flops = arg;
    if (strstr(t->op, "DepthwiseConv2dNative") && f->rank == 4)
        *flops += 2.0 * (double)y->count * (double)(f->dims[0] * f->dims[1]);
    else if (strstr(t->op, "Conv2D") && f->rank == 4)
        *flops += 2.0 * (double)y->count * (double)(f->dims[0] * f->dims[1] * f->dims[2]);
    else if (!strcmp(t->op, "MatMul") && f->rank == 2)
        *flops += 2.0 * (double)y->count * (double)f->dims[0];
}

static double run_ms(pl_model *m, const bench_case *c, pl_tensor *x, double *flops, pl_tensor **y) {
    char feed[256], fetch[256];
    snprintf(feed, sizeof feed, "%s:0", c->input);
    snprintf(fetch, sizeof fetch, "%s:0", c->output);
    const char *feeds[1] = {feed}, *fetches[1] = {fetch};
    pl_tensor *out;
    pl_run_options opt = {.on_node = flops ? count_flops : NULL, .on_node_arg = flops};
    int64_t t0 = pl_clock_now_ns();
    pl_status st = pl_model_run(m, &opt, 1, feeds, &x, 1, fetches, &out);
    double ms = pl_clock_ns_to_ms(pl_clock_now_ns() - t0);
    if (st) die(st);
    if (y) *y = out;
    else pl_tensor_unref(out);
    return ms;
}

static double median_ms(pl_model *m, const bench_case *c, pl_tensor *x, int runs, double *min) {
    double *t = calloc((size_t)runs, sizeof *t);
    if (!t) exit(1);
    for (int i = 0; i < runs; i++) t[i] = run_ms(m, c, x, NULL, NULL);
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double med = t[runs / 2];
    *min = t[0];
    free(t);
    return med;
}

/* TensorFlow.js-wasm on one thread: median ms (-1 when unavailable) and the largest
 * difference between its output and plinth's `y`. */
static double tfjs_ms(const char *node, const char *oracle, const char *script, const char *graph,
                      const bench_case *c, const pl_tensor *x, const pl_tensor *y, int runs, double *max_diff) {
    char dir[] = "/tmp/plinth-bench-zoo-XXXXXX";
    if (!mkdtemp(dir)) return -1;
    char in[512], out[512], json[512];
    snprintf(in, sizeof in, "%s/in.npy", dir);
    snprintf(out, sizeof out, "%s/out.bin", dir);
    snprintf(json, sizeof json, "%s/result", dir);
    double ms = -1;
    if (!pl_npy_write_file(in, x)) {
#define CMD "'%s' '%s' --oracle '%s' --model '%s' --input '%s=%s' --output '%s' --runs %d --threads 1 --out '%s' " \
            "> '%s' 2>/dev/null", node, script, oracle, graph, c->input, in, c->output, runs, out, json
        size_t len = (size_t)snprintf(NULL, 0, CMD) + 1;
        char *cmd = malloc(len);
        FILE *f;
        if (cmd) snprintf(cmd, len, CMD);
#undef CMD
        int rc = cmd ? system(cmd) : -1;
        free(cmd);
        if (rc == 0 && (f = fopen(json, "r"))) {
            char buf[512] = "";
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = 0;
            const char *p = strstr(buf, "\"median_ms\":");
            if (p) ms = atof(p + strlen("\"median_ms\":"));
        }
        float *got = calloc((size_t)y->count, sizeof *got);
        FILE *o = got ? fopen(out, "rb") : NULL;
        *max_diff = -1;
        if (o && fread(got, sizeof *got, (size_t)y->count, o) == (size_t)y->count) {
            *max_diff = 0;
            for (int64_t i = 0; i < y->count; i++) {
                double d = fabs((double)got[i] - ((const float *)y->data)[i]);
                if (d > *max_diff) *max_diff = d;
            }
        }
        if (o) fclose(o);
        free(got);
    }
    unlink(in);
    unlink(out);
    unlink(json);
    rmdir(dir);
    return ms;
}

int main(int argc, char **argv) {
    const char *shared = getenv("PLINTH_SHARED"), *oracle = getenv("PLINTH_TFJS"), *node = "node";
    int runs = 20;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--runs")) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tfjs")) oracle = argv[++i];
        else if (!strcmp(argv[i], "--node")) node = argv[++i];
    }
    if (!shared) {
        fprintf(stderr, "bench_zoo_cnn: set PLINTH_SHARED (bench/run.sh does)\n");
        return 2;
    }
    if (runs < 3) runs = 3;
    /* zoo_tfjs.js sits beside this file in the source tree. */
    char here[4096], script[4200];
    snprintf(here, sizeof here, "%s", __FILE__);
    snprintf(script, sizeof script, "%s/zoo_tfjs.js", dirname(here));
    char image[4096];
    snprintf(image, sizeof image, "%s/oracle/raw/test_image.npy", shared);
    pl_tensor *img;
    pl_status st = pl_npy_read_file(image, &img);
    if (st) die(st);
    int cores = omp_get_max_threads();
    double peak1 = pl_probe_fma_flops(1, 0.2), peak_all = pl_probe_fma_flops(cores, 0.2);
    char load[64] = "?";
    FILE *la = fopen("/proc/loadavg", "r");
    if (la && fgets(load, sizeof load, la)) load[strcspn(load, "\n")] = 0;
    if (la) fclose(la);
    printf("bench_zoo_cnn: FMA peak %.1f GFLOP/s on 1 core, %.1f on %d (%s); load average %.14s\n", peak1 / 1e9,
           peak_all / 1e9, cores, pl_probe_isa(), load);
    if (!oracle || !*oracle) printf("  (TensorFlow.js comparison skipped: PLINTH_TFJS is not set)\n");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const bench_case *c = &cases[k];
        char dir[4096], graph[4200];
        snprintf(dir, sizeof dir, "%s/zoo/%s/1", shared, c->model);
        snprintf(graph, sizeof graph, "%s/%s", dir, c->graph);
        pl_model *m;
        int64_t t0 = pl_clock_now_ns();
        if ((st = pl_model_load(dir, NULL, &m))) die(st);
        double load_ms = pl_clock_ns_to_ms(pl_clock_now_ns() - t0);
        pl_tensor *x = model_input(img, c), *y;
        omp_set_num_threads(cores);
        double first = run_ms(m, c, x, NULL, NULL), flops = 0;
        run_ms(m, c, x, &flops, &y);
        double min_all, med_all = median_ms(m, c, x, runs, &min_all);
        omp_set_num_threads(1);
        run_ms(m, c, x, NULL, NULL);
        double min1, med1 = median_ms(m, c, x, runs, &min1);
        omp_set_num_threads(cores);
        double lim1 = flops / peak1 * 1e3, lim_all = flops / peak_all * 1e3;
        printf("%s (%dx%d, %.3f GFLOP; load %.1f ms, first run %.2f ms):\n", c->label, c->size, c->size, flops / 1e9,
               load_ms, first);
        printf("  1 thread : median %.2f ms = %.2fx its compute limit (%.2f ms); min %.2f ms\n", med1, med1 / lim1,
               lim1, min1);
        printf("  %d threads: median %.2f ms = %.2fx its compute limit (%.2f ms); min %.2f ms\n", cores, med_all,
               med_all / lim_all, lim_all, min_all);
        if (oracle && *oracle) {
            double diff = -1, tj = tfjs_ms(node, oracle, script, graph, c, x, y, runs, &diff);
            if (tj > 0)
                printf("  TensorFlow.js-wasm, 1 thread, same graph: median %.2f ms = %.1fx plinth's 1-thread median "
                       "(outputs differ by at most %.1e)\n",
                       tj, tj / med1, diff);
            else
                printf("  TensorFlow.js-wasm: failed to run\n");
        }
        pl_tensor_unref(y);
        pl_tensor_unref(x);
        pl_model_free(m);
    }
    pl_tensor_unref(img);
    return 0;
}
