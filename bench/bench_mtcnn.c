/* MTCNN through the runtime alone (no transport), on the reference image and
 * on a 1920x1080 image (the reference scaled 2.5x), against the compute limit
 * measured in the same run: the FLOPs of the convolutions the graph actually
 * ran for that image (2 * MACs, from the traced shapes) divided by the FMA
 * peak of every core (bench/probe). Also checks that an image size seen before
 * builds no oneDNN plan and reorders no weights, and prints where the time
 * goes by op.
 *
 *   bench_mtcnn [MODEL.pb IMAGE.npy] [--runs N] [--threads N]
 * (default: the model and image under $PLINTH_SHARED)
 *
 * Parameters are the oracle's set B (min_size 40, factor 0.7, thresholds
 * 0.6/0.7/0.8). Prints ratios only against figures of the same run. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "common/image_scale.h"
#include "ops/dnnl_glue.h"
#include "probe/fma.h"
#include "runtime/model.h"
#include "tensor/npy.h"

#define MAX_OPS 64

typedef struct op_time {
    char op[40];
    int64_t ns;
    int calls;
} op_time;

typedef struct trace {
    double flops;
    int64_t kernel_ns;
    int nops;
    op_time ops[MAX_OPS];
} trace;

static void die(pl_status st) {
    fprintf(stderr, "bench_mtcnn: %s\n", pl_status_message(st));
    exit(1);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* 2 * multiply-adds of a convolution or matmul node, from its traced shapes. */
static double node_flops(const pl_node_trace *t) {
    if (t->flops > 0) return t->flops; /* fused kernels say (their output may be pooled) */
    const char *op = t->op;
    const pl_tensor *y = t->num_outputs > 0 ? t->outputs[0] : NULL;
    if (!y || t->num_inputs < 2) return 0;
    const pl_tensor *f = t->inputs[1];
    if (strstr(op, "Conv2D") && f->rank == 4) /* Conv2D, _PlFusedConv2D: out elements x kh*kw*cin */
        return 2.0 * (double)y->count * (double)(f->dims[0] * f->dims[1] * f->dims[2]);
    if (strstr(op, "DepthwiseConv2dNative") && f->rank == 4)
        return 2.0 * (double)y->count * (double)(f->dims[0] * f->dims[1]);
    if (!strcmp(op, "MatMul") && t->inputs[0]->rank == 2) {
        const pl_tensor *a = t->inputs[0];
        return 2.0 * (double)y->count * (double)(a->dims[0] * a->dims[1] / (y->dims[0] ? y->dims[0] : 1));
    }
    return 0;
}

static void on_node(void *arg, const pl_node_trace *t) {
    trace *tr = arg;
    tr->flops += node_flops(t);
    tr->kernel_ns += t->ns;
    int i = 0;
    while (i < tr->nops && strcmp(tr->ops[i].op, t->op)) i++;
    if (i == tr->nops) {
        if (tr->nops == MAX_OPS) return;
        snprintf(tr->ops[tr->nops++].op, sizeof tr->ops[0].op, "%s", t->op);
    }
    tr->ops[i].ns += t->ns;
    tr->ops[i].calls++;
}

typedef struct inputs {
    pl_tensor *image, *min_size, *factor, *thresholds;
} inputs;

static double run_ms(pl_model *m, const inputs *in, trace *tr, int *faces) {
    const char *feeds[] = {"input:0", "min_size:0", "factor:0", "thresholds:0"};
    const char *fetches[] = {"prob:0", "box:0", "landmarks:0"};
    pl_tensor *fv[4] = {in->image, in->min_size, in->factor, in->thresholds}, *out[3];
    pl_run_options opt = {.on_node = tr ? on_node : NULL, .on_node_arg = tr};
    int64_t t0 = pl_clock_now_ns();
    pl_status st = pl_model_run(m, &opt, 4, feeds, fv, 3, fetches, out);
    int64_t t1 = pl_clock_now_ns();
    if (st) die(st);
    *faces = (int)out[0]->dims[0];
    for (int i = 0; i < 3; i++) pl_tensor_unref(out[i]);
    return pl_clock_ns_to_ms(t1 - t0);
}

/* The image mirrored left to right: same size, other content. */
static pl_tensor *mirrored(const pl_tensor *src) {
    pl_tensor *t;
    pl_status st = pl_tensor_copy(src, &t);
    if (st) die(st);
    int64_t h = src->dims[0], w = src->dims[1];
    const float *s = src->data;
    float *d = t->data;
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) d[(y * w + x) * 3 + c] = s[(y * w + (w - 1 - x)) * 3 + c];
    return t;
}

static int cmp_op(const void *a, const void *b) {
    int64_t x = ((const op_time *)a)->ns, y = ((const op_time *)b)->ns;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void bench_image(pl_model *m, inputs *in, const char *label, int runs, double peak) {
    int faces;
    int64_t p0, w0, p1, w1, p2, w2;
    pl__dnnl_setup_counts(&p0, &w0);
    double first = run_ms(m, in, NULL, &faces);
    pl__dnnl_setup_counts(&p1, &w1);
    trace tr = {0};
    double traced = run_ms(m, in, &tr, &faces);
    double *t = calloc((size_t)runs, sizeof *t);
    for (int i = 0; i < runs; i++) t[i] = run_ms(m, in, NULL, &faces);
    pl__dnnl_setup_counts(&p2, &w2);
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double median = t[runs / 2], limit = tr.flops / peak * 1e3;
    printf("%s: %lldx%lld, %d faces, %.3f GFLOP of convolution\n", label, (long long)in->image->dims[1],
           (long long)in->image->dims[0], faces, tr.flops / 1e9);
    printf("  compute limit (FLOPs / all-core FMA peak) = 1.00 (%.2f ms)\n", limit);
    printf("  runtime median  = %.2fx the limit (%.2f ms; min %.2fx, n=%d)\n", median / limit, median, t[0] / limit, runs);
    printf("  first run       = %.2fx the limit (%lld plans built, %lld weight layouts)\n", first / limit,
           (long long)(p1 - p0), (long long)(w1 - w0));
    printf("  repeated size   : %lld plans built, %lld weights reordered over %d runs%s\n", (long long)(p2 - p1),
           (long long)(w2 - w1), runs + 1, p2 == p1 && w2 == w1 ? " (no re-preparation)" : " (RE-PREPARED)");
    qsort(tr.ops, (size_t)tr.nops, sizeof tr.ops[0], cmp_op);
    printf("  time by op (share of one traced run, %.2f ms in kernels, %.2f ms in all):", tr.kernel_ns / 1e6, traced);
    for (int i = 0; i < tr.nops && i < 8; i++)
        printf("%s %s %.0f%%", i ? "," : "", tr.ops[i].op, 100.0 * (double)tr.ops[i].ns / (traced * 1e6));
    printf(", outside kernels %.0f%%\n", 100.0 * (1.0 - (double)tr.kernel_ns / (traced * 1e6)));
    free(t);
}

int main(int argc, char **argv) {
    const char *shared = getenv("PLINTH_SHARED");
    char model[4096], image[4096];
    int first_opt = 3;
    if (argc >= 3 && argv[1][0] != '-') {
        snprintf(model, sizeof model, "%s", argv[1]);
        snprintf(image, sizeof image, "%s", argv[2]);
    } else if (shared) {
        snprintf(model, sizeof model, "%s/models/mtcnn/1/mtcnn.pb", shared);
        snprintf(image, sizeof image, "%s/oracle/raw/test_image.npy", shared);
        first_opt = 1;
    } else {
        fprintf(stderr, "usage: bench_mtcnn [MODEL.pb IMAGE.npy] [--runs N] [--threads N] (or set PLINTH_SHARED)\n");
        return 2;
    }
    int runs = 10;
    for (int i = first_opt; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--runs")) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads")) omp_set_num_threads(atoi(argv[++i]));
    }
    if (runs < 1) runs = 1;
    int threads = omp_get_max_threads();
    double peak = pl_probe_fma_flops(threads, 0.3);
    printf("bench_mtcnn: %d thread(s), FMA peak %.1f GFLOP/s (%s) on them, load average %s", threads, peak / 1e9,
           pl_probe_isa(), "");
    FILE *la = fopen("/proc/loadavg", "r");
    char buf[64] = "?";
    if (la && fgets(buf, sizeof buf, la)) printf("%.14s\n", buf);
    else printf("?\n");
    if (la) fclose(la);
    pl_model *m;
    int64_t t0 = pl_clock_now_ns();
    pl_status st = pl_model_load(model, NULL, &m);
    if (st) die(st);
    printf("model load: %.1f ms\n", pl_clock_ns_to_ms(pl_clock_now_ns() - t0));
    inputs in;
    if ((st = pl_npy_read_file(image, &in.image))) die(st);
    if ((st = pl_tensor_scalar(PL_DT_FLOAT, 40, &in.min_size))) die(st);
    if ((st = pl_tensor_scalar(PL_DT_FLOAT, 0.7, &in.factor))) die(st);
    int64_t three = 3;
    if ((st = pl_tensor_alloc(PL_DT_FLOAT, 1, &three, &in.thresholds))) die(st);
    float *th = in.thresholds->data;
    th[0] = 0.6f, th[1] = 0.7f, th[2] = 0.8f;
    pl_tensor *ref = in.image;
    bench_image(m, &in, "test_image", runs, peak);
    in.image = mirrored(ref);
    bench_image(m, &in, "test_image mirrored (same size, other content)", runs, peak);
    pl_tensor_unref(in.image);
    if ((st = pl_bench_image_scaled(ref, 1080, 1920, &in.image))) die(st);
    bench_image(m, &in, "1920x1080", runs > 3 ? runs / 2 : runs, peak);
    pl_tensor_unref(in.image);
    pl_tensor_unref(ref);
    pl_tensor_unref(in.min_size);
    pl_tensor_unref(in.factor);
    pl_tensor_unref(in.thresholds);
    pl_model_free(m);
    return 0;
}
