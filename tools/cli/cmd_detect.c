/* plinth-cli detect MODEL IMAGE: sends a picture to an MTCNN-style model
 * (inputs input/min_size/thresholds/factor; outputs box/prob/landmarks),
 * prints the faces and draws them on a copy of the picture. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/image.h"
#include "cli/show.h"

const char pl_cli_detect_usage[] =
    "usage: plinth-cli [options] detect MODEL IMAGE [-o OUT.png|OUT.jpg] [--min-size 40]\n"
    "                  [--thresholds 0.6,0.7,0.7] [--factor 0.709]\n"
    "  MODEL is an MTCNN face detector (inputs input, min_size, thresholds, factor;\n"
    "  outputs box, prob, landmarks); the faces are printed and drawn into OUT (default faces.png)\n";

typedef struct detect_params {
    float min_size;
    float thresholds[3];
    float factor;
    const char *out_path;
} detect_params;

typedef struct face {
    float box[4];        /* y1, x1, y2, x2 */
    float prob;
    float landmarks[10]; /* y1..y5, x1..x5 */
} face;

static const char *const input_names[4] = {"factor", "input", "min_size", "thresholds"};
static const char *const output_names[3] = {"box", "landmarks", "prob"};

/* A usage mistake names the option before the usage text is shown. */
static int bad_value(const char *option, const char *value, const char *want) {
    fprintf(stderr, "plinth-cli: %s: '%s' is not a valid value (%s)\n", option, value, want);
    return -1;
}

static int parse_args(int argc, char **argv, detect_params *p, const char **model, const char **image) {
    *model = *image = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && next) {
            p->out_path = argv[++i];
        } else if (!strcmp(a, "--min-size") && next) {
            p->min_size = strtof(argv[++i], &end);
            if (*end || !(p->min_size > 0)) return bad_value(a, next, "a face size in pixels, above 0");
        } else if (!strcmp(a, "--factor") && next) {
            p->factor = strtof(argv[++i], &end);
            if (*end || !(p->factor > 0 && p->factor < 1)) return bad_value(a, next, "a scale step between 0 and 1");
        } else if (!strcmp(a, "--thresholds") && next) {
            int used = 0;
            if (sscanf(argv[++i], "%f,%f,%f%n", &p->thresholds[0], &p->thresholds[1], &p->thresholds[2], &used) != 3 ||
                next[used])
                return bad_value(a, next, "three numbers separated by commas, e.g. 0.6,0.7,0.7");
        } else if (a[0] == '-' && a[1]) {
            bool takes_value = !strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--min-size") ||
                               !strcmp(a, "--factor") || !strcmp(a, "--thresholds");
            fprintf(stderr, "plinth-cli: detect: %s '%s'\n", takes_value ? "no value after" : "unknown option", a);
            return -1;
        } else if (!*model) {
            *model = a;
        } else if (!*image) {
            *image = a;
        } else {
            return -1;
        }
    }
    return *model && *image ? 0 : -1;
}

static bool has_alias(int n, const pl_tensor_info *infos, const char *alias) {
    for (int i = 0; i < n; i++)
        if (!strcmp(infos[i].alias, alias)) return true;
    return false;
}

static void list_aliases(pl_strbuf *b, int n, const pl_tensor_info *infos) {
    for (int i = 0; i < n; i++) pl_strbuf_printf(b, "%s%s", i ? ", " : "", infos[i].alias);
    if (!n) pl_strbuf_puts(b, "none");
}

/* A face detector's signature has MTCNN's inputs and outputs; anything else
 * gets one line saying what the model has instead. */
static pl_status check_detector(const char *model, const pl_signature *sig) {
    bool ok = true;
    for (int i = 0; i < 4; i++) ok = ok && has_alias(sig->num_inputs, sig->inputs, input_names[i]);
    for (int i = 0; i < 3; i++) ok = ok && has_alias(sig->num_outputs, sig->outputs, output_names[i]);
    if (ok) return NULL;
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    pl_strbuf_printf(&b, "model '%s' is not an MTCNN face detector: its signature '%s' has inputs ", model, sig->key);
    list_aliases(&b, sig->num_inputs, sig->inputs);
    pl_strbuf_puts(&b, " and outputs ");
    list_aliases(&b, sig->num_outputs, sig->outputs);
    pl_strbuf_puts(&b, "; detect needs inputs input, min_size, thresholds, factor and outputs box, prob, landmarks");
    pl_status st = pl_strbuf_status(&b) ? pl_error(PL_RESOURCE_EXHAUSTED, "out of memory")
                                        : pl_error(PL_INVALID_ARGUMENT, "%s", b.data);
    pl_strbuf_deinit(&b);
    return st;
}

static pl_status float_tensor(int rank, const int64_t *dims, const float *values, pl_tensor **out) {
    PL_TRY(pl_tensor_alloc(PL_DT_FLOAT, rank, dims, out));
    memcpy((*out)->data, values, (size_t)(*out)->count * sizeof(float));
    return NULL;
}

/* The four inputs in input_names order. */
static pl_status make_inputs(const pl_image *img, const detect_params *p, pl_tensor *t[4]) {
    const int64_t three = 3;
    PL_TRY(float_tensor(0, NULL, &p->factor, &t[0]));
    /* The picture as float BGR, the way cv2.imread(...).astype(np.float32) gives it. */
    PL_TRY(pl_image_to_tensor(img, &t[1]));
    PL_TRY(float_tensor(0, NULL, &p->min_size, &t[2]));
    return float_tensor(1, &three, p->thresholds, &t[3]);
}

static const pl_tensor *find_output(const pl_client_outputs *o, const char *name) {
    for (int i = 0; i < o->num; i++)
        if (!strcmp(o->names[i], name)) return o->tensors[i];
    return NULL;
}

/* Reads box/prob/landmarks into faces; checks the shapes a face detector must give. */
static pl_status read_faces(const pl_client_outputs *o, face **out, int64_t *n_out) {
    const pl_tensor *box = find_output(o, "box"), *prob = find_output(o, "prob"), *marks = find_output(o, "landmarks");
    if (!box || !prob || !marks) return pl_error(PL_INVALID_ARGUMENT, "the reply lacks box, prob or landmarks");
    if (box->dtype != PL_DT_FLOAT || prob->dtype != PL_DT_FLOAT || marks->dtype != PL_DT_FLOAT)
        return pl_error(PL_INVALID_ARGUMENT, "box, prob and landmarks are not all DT_FLOAT");
    int64_t n = prob->count;
    if (box->count != 4 * n || marks->count != 10 * n)
        return pl_error(PL_INVALID_ARGUMENT, "outputs box, prob and landmarks disagree on the number of faces");
    face *faces = calloc((size_t)n + 1, sizeof *faces);
    if (!faces) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        memcpy(faces[i].box, (const float *)box->data + 4 * i, sizeof faces[i].box);
        faces[i].prob = ((const float *)prob->data)[i];
        memcpy(faces[i].landmarks, (const float *)marks->data + 10 * i, sizeof faces[i].landmarks);
    }
    *out = faces;
    *n_out = n;
    return NULL;
}

static void print_faces(const pl_cli *cli, const face *faces, int64_t n, const char *out_path) {
    if (cli->json) {
        pl_strbuf b;
        pl_strbuf_init(&b, 0);
        pl_strbuf_puts(&b, "{\"faces\": [");
        for (int64_t i = 0; i < n; i++) {
            const face *f = &faces[i];
            /* %.9g: every float32 prints so that it reads back exactly. */
            pl_strbuf_printf(&b, "%s\n  {\"prob\": %.9g, \"box\": [%.9g, %.9g, %.9g, %.9g], \"landmarks\": [",
                             i ? "," : "", f->prob, f->box[0], f->box[1], f->box[2], f->box[3]);
            for (int k = 0; k < 10; k++) pl_strbuf_printf(&b, "%s%.9g", k ? ", " : "", f->landmarks[k]);
            pl_strbuf_puts(&b, "]}");
        }
        pl_strbuf_puts(&b, "\n], \"picture\": ");
        pl_cli_json_string(&b, out_path);
        pl_strbuf_putc(&b, '}');
        if (!pl_strbuf_status(&b)) printf("%s\n", b.data);
        pl_strbuf_deinit(&b);
        return;
    }
    printf("%lld face%s\n", (long long)n, n == 1 ? "" : "s");
    if (n) printf("  #   score     x1      y1      x2      y2\n");
    for (int64_t i = 0; i < n; i++) {
        const face *f = &faces[i];
        printf("%3lld  %.4f  %6.1f  %6.1f  %6.1f  %6.1f\n", (long long)i + 1, f->prob, f->box[1], f->box[0], f->box[3],
               f->box[2]);
    }
}

static void draw_faces(pl_image *img, const face *faces, int64_t n) {
    const pl_color box = {0, 220, 0}, mark = {0, 0, 255}, text = {0, 0, 0};
    int thick = img->width > 1200 ? 3 : 2;
    for (int64_t i = 0; i < n; i++) {
        const face *f = &faces[i];
        pl_image_rect(img, f->box[1], f->box[0], f->box[3], f->box[2], thick, box);
        for (int k = 0; k < 5; k++) pl_image_dot(img, f->landmarks[5 + k], f->landmarks[k], thick + 1, mark);
        char label[16];
        snprintf(label, sizeof label, "%.3f", f->prob);
        int y = (int)lround(f->box[0]) - 20;
        pl_image_text(img, (int)lround(f->box[1]), y < 0 ? 0 : y, label, 2, text, box);
    }
}

int pl_cli_detect(pl_cli *cli, int argc, char **argv) {
    detect_params p = {.min_size = 40, .thresholds = {0.6f, 0.7f, 0.7f}, .factor = 0.709f, .out_path = "faces.png"};
    const char *model, *image_path;
    if (parse_args(argc, argv, &p, &model, &image_path)) return pl_cli_usage(pl_cli_detect_usage);
    pl_image img;
    pl_status st = pl_image_read(image_path, &img);
    if (st) return pl_cli_fail(cli, st);

    pl_client *c = NULL;
    pl_client_signatures sigs = {0};
    pl_client_outputs outs = {0};
    const pl_signature *sig = NULL;
    pl_tensor *inputs[4] = {0};
    face *faces = NULL;
    int64_t n = 0;
    bool from_server = true;
    st = pl_client_open(cli, &c);
    if (!st) st = pl_client_metadata(c, model, &sigs);
    if (!st) {
        from_server = false;
        st = pl_client_find_signature(&sigs, cli->signature, &sig);
    }
    if (!st) st = check_detector(model, sig);
    if (!st) st = make_inputs(&img, &p, inputs);
    if (!st) {
        from_server = true;
        st = pl_client_predict(c, model, sig, 4, input_names, inputs, 3, output_names, &outs);
    }
    if (!st) {
        from_server = false;
        st = read_faces(&outs, &faces, &n);
    }
    if (!st) {
        draw_faces(&img, faces, n);
        st = pl_image_write(&img, p.out_path);
    }
    if (!st) {
        print_faces(cli, faces, n, p.out_path);
        if (!cli->json) printf("wrote %s\n", p.out_path);
    }
    free(faces);
    for (int i = 0; i < 4; i++) pl_tensor_unref(inputs[i]);
    pl_client_outputs_deinit(&outs);
    pl_client_signatures_deinit(&sigs);
    pl_client_close(c);
    pl_image_free(&img);
    return st ? pl_cli_fail_model(cli, from_server ? model : NULL, st) : 0;
}
