/* plinth-cli detect MODEL IMAGE: sends a picture to an MTCNN-style model
 * (inputs input/min_size/thresholds/factor; outputs box/prob/landmarks),
 * prints the faces and draws them on a copy of the picture. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/image.h"
#include "cli/spec.h"
#include "tensor/tensor_proto.h"
#include "tensorflow_serving/apis/predict.pb-c.h"

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

/* A float TensorProto over `values` (borrowed). */
static void float_proto(Tensorflow__TensorProto *t, Tensorflow__TensorShapeProto *shape,
                        Tensorflow__TensorShapeProto__Dim *dims, Tensorflow__TensorShapeProto__Dim **dim_ptrs,
                        int rank, const int64_t *sizes, const float *values, size_t count) {
    tensorflow__tensor_proto__init(t);
    tensorflow__tensor_shape_proto__init(shape);
    for (int i = 0; i < rank; i++) {
        tensorflow__tensor_shape_proto__dim__init(&dims[i]);
        dims[i].size = sizes[i];
        dim_ptrs[i] = &dims[i];
    }
    shape->n_dim = (size_t)rank;
    shape->dim = dim_ptrs;
    t->dtype = TENSORFLOW__DATA_TYPE__DT_FLOAT;
    t->tensor_shape = shape;
    t->tensor_content.data = (uint8_t *)values;
    t->tensor_content.len = count * sizeof(float);
}

static int parse_args(int argc, char **argv, detect_params *p, const char **model, const char **image) {
    *model = *image = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && next) {
            p->out_path = argv[++i];
        } else if (!strcmp(a, "--min-size") && next) {
            p->min_size = strtof(argv[++i], NULL);
        } else if (!strcmp(a, "--factor") && next) {
            p->factor = strtof(argv[++i], NULL);
        } else if (!strcmp(a, "--thresholds") && next) {
            if (sscanf(argv[++i], "%f,%f,%f", &p->thresholds[0], &p->thresholds[1], &p->thresholds[2]) != 3) return -1;
        } else if (a[0] == '-') {
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

static const Tensorflow__TensorProto *find_output(const Tensorflow__Serving__PredictResponse *res, const char *name) {
    for (size_t i = 0; i < res->n_outputs; i++)
        if (!strcmp(res->outputs[i]->key, name)) return res->outputs[i]->value;
    return NULL;
}

/* Reads box/prob/landmarks into faces; checks the shapes a face detector must give. */
static pl_status read_faces(const Tensorflow__Serving__PredictResponse *res, face **out, int64_t *n_out) {
    const char *names[3] = {"box", "prob", "landmarks"};
    pl_tensor *t[3] = {NULL, NULL, NULL};
    pl_status st = NULL;
    for (int i = 0; i < 3 && !st; i++) {
        const Tensorflow__TensorProto *p = find_output(res, names[i]);
        if (!p) st = pl_error(PL_INVALID_ARGUMENT, "the model has no '%s' output: is it a face detector (MTCNN)?", names[i]);
        else st = pl_tensor_from_proto(p, &t[i]);
        if (!st && t[i]->dtype != PL_DT_FLOAT)
            st = pl_error(PL_INVALID_ARGUMENT, "output '%s' is %s, not DT_FLOAT", names[i], pl_dtype_name(t[i]->dtype));
    }
    int64_t n = st ? 0 : t[1]->count;
    if (!st && (t[0]->count != 4 * n || t[2]->count != 10 * n))
        st = pl_error(PL_INVALID_ARGUMENT, "outputs box, prob and landmarks disagree on the number of faces");
    face *faces = st ? NULL : calloc((size_t)n + 1, sizeof *faces);
    if (!st && !faces) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int64_t i = 0; !st && i < n; i++) {
        memcpy(faces[i].box, (float *)t[0]->data + 4 * i, sizeof faces[i].box);
        faces[i].prob = ((float *)t[1]->data)[i];
        memcpy(faces[i].landmarks, (float *)t[2]->data + 10 * i, sizeof faces[i].landmarks);
    }
    for (int i = 0; i < 3; i++) pl_tensor_unref(t[i]);
    *out = faces;
    *n_out = n;
    return st;
}

static void print_faces(const pl_cli *cli, const face *faces, int64_t n) {
    if (cli->json) {
        printf("{\"faces\": [");
        for (int64_t i = 0; i < n; i++) {
            const face *f = &faces[i];
            printf("%s\n  {\"prob\": %.6g, \"box\": [%.2f, %.2f, %.2f, %.2f], \"landmarks\": [", i ? "," : "", f->prob,
                   f->box[0], f->box[1], f->box[2], f->box[3]);
            for (int k = 0; k < 10; k++) printf("%s%.2f", k ? ", " : "", f->landmarks[k]);
            printf("]}");
        }
        printf("\n]}\n");
        return;
    }
    printf("%lld face%s\n", (long long)n, n == 1 ? "" : "s");
    if (!n) return;
    printf("  #   score     x1      y1      x2      y2\n");
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
    if (parse_args(argc, argv, &p, &model, &image_path)) {
        fprintf(stderr, "usage: plinth-cli detect MODEL IMAGE [-o OUT.png|OUT.jpg] [--min-size 40]\n"
                        "                  [--thresholds 0.6,0.7,0.7] [--factor 0.709]\n");
        return 2;
    }
    pl_image img;
    pl_status st = pl_image_read(image_path, &img);
    if (st) return pl_cli_fail(cli, st);

    /* The picture as float BGR, the way cv2.imread(...).astype(np.float32) gives it. */
    size_t count = (size_t)img.width * img.height * 3;
    float *pixels = malloc(count * sizeof(float) + 1);
    if (!pixels) {
        pl_image_free(&img);
        return pl_cli_fail(cli, pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"));
    }
    for (size_t i = 0; i < count; i++) pixels[i] = img.bgr[i];

    Tensorflow__TensorProto tensors[4];
    Tensorflow__TensorShapeProto shapes[4];
    Tensorflow__TensorShapeProto__Dim dims[4][3];
    Tensorflow__TensorShapeProto__Dim *dim_ptrs[4][3];
    const int64_t image_dims[3] = {img.height, img.width, 3}, three = 3;
    float_proto(&tensors[0], &shapes[0], dims[0], dim_ptrs[0], 3, image_dims, pixels, count);
    float_proto(&tensors[1], &shapes[1], dims[1], dim_ptrs[1], 0, NULL, &p.min_size, 1);
    float_proto(&tensors[2], &shapes[2], dims[2], dim_ptrs[2], 1, &three, p.thresholds, 3);
    float_proto(&tensors[3], &shapes[3], dims[3], dim_ptrs[3], 0, NULL, &p.factor, 1);
    const char *names[4] = {"input", "min_size", "thresholds", "factor"};
    Tensorflow__Serving__PredictRequest__InputsEntry entries[4], *entry_ptrs[4];
    for (int i = 0; i < 4; i++) {
        tensorflow__serving__predict_request__inputs_entry__init(&entries[i]);
        entries[i].key = (char *)names[i];
        entries[i].value = &tensors[i];
        entry_ptrs[i] = &entries[i];
    }
    Tensorflow__Serving__PredictRequest req = TENSORFLOW__SERVING__PREDICT_REQUEST__INIT;
    Tensorflow__Serving__ModelSpec spec;
    Google__Protobuf__Int64Value version;
    pl_cli_fill_spec(cli, model, &spec, &version);
    req.model_spec = &spec;
    req.n_inputs = 4;
    req.inputs = entry_ptrs;

    pl_rpc *rpc;
    ProtobufCMessage *reply = NULL;
    st = pl_cli_connect(cli, &rpc);
    if (!st)
        st = pl_rpc_call(rpc, "/tensorflow.serving.PredictionService/Predict", &req.base,
                         &tensorflow__serving__predict_response__descriptor, cli->timeout, &reply);
    free(pixels);
    face *faces = NULL;
    int64_t n = 0;
    if (!st) st = read_faces((Tensorflow__Serving__PredictResponse *)reply, &faces, &n);
    if (!st) {
        print_faces(cli, faces, n);
        draw_faces(&img, faces, n);
        st = pl_image_write(&img, p.out_path);
        if (!st && !cli->json) printf("wrote %s\n", p.out_path);
    }
    free(faces);
    if (reply) protobuf_c_message_free_unpacked(reply, NULL);
    pl_rpc_close(rpc);
    pl_image_free(&img);
    return st ? pl_cli_fail(cli, st) : 0;
}
