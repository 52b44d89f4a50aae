/* NonMaxSuppression V1-V5 with TensorFlow's algorithm
 * (tensorflow/core/kernels/image/non_max_suppression_op.cc): candidates above
 * score_threshold in a max-heap ordered by score, equal scores by lower box
 * index first; a candidate is compared with the boxes selected since it was
 * last looked at, newest first, and dropped when IoU > iou_threshold (soft-NMS
 * instead decays its score by exp(-IoU^2 / (2 sigma)) and requeues it). IoU
 * is TensorFlow's: corners sorted with min/max, 0 for an empty box, in float. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/image_internal.h"

typedef struct nms_state {
    int version;                /* 1..5 */
    float iou_attr;             /* V1's iou_threshold attr */
    bool pad;                   /* V4/V5 pad_to_max_output_size */
} nms_state;

pl_status pl__image_nms_prepare(pl_kernel_prep *p) {
    int version = 1;
    if (!strcmp(p->op, "NonMaxSuppressionV2")) version = 2;
    if (!strcmp(p->op, "NonMaxSuppressionV3")) version = 3;
    if (!strcmp(p->op, "NonMaxSuppressionV4")) version = 4;
    if (!strcmp(p->op, "NonMaxSuppressionV5")) version = 5;
    float iou = pl_attr_float_or(p->attrs, "iou_threshold", 0.5f);
    if (version == 1 && !(iou >= 0 && iou <= 1)) return pl_error(PL_INVALID_ARGUMENT, "iou_threshold must be in [0, 1]");
    nms_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    s->version = version;
    s->iou_attr = iou;
    s->pad = pl_attr_bool_or(p->attrs, "pad_to_max_output_size", false);
    int outputs = version == 4 ? 2 : version == 5 ? 3 : 1;
    if (p->num_outputs < outputs) p->num_outputs = outputs;
    p->state = s;
    return NULL;
}

typedef struct candidate {
    int index;
    float score;
    int suppress_begin;
} candidate;

/* a comes out of the queue after b. */
static inline bool cand_less(const candidate *a, const candidate *b) {
    return a->score < b->score || (a->score == b->score && a->index > b->index);
}

typedef struct heap {
    candidate *v;
    int n;
} heap;

static void heap_push(heap *h, candidate c) {
    int i = h->n++;
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (!cand_less(&h->v[parent], &c)) break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = c;
}

static candidate heap_pop(heap *h) {
    candidate top = h->v[0], last = h->v[--h->n];
    int i = 0;
    for (;;) {
        int child = 2 * i + 1;
        if (child >= h->n) break;
        if (child + 1 < h->n && cand_less(&h->v[child], &h->v[child + 1])) child++;
        if (!cand_less(&last, &h->v[child])) break;
        h->v[i] = h->v[child];
        i = child;
    }
    if (h->n > 0) h->v[i] = last;
    return top;
}

/* A box with its corners sorted and its area, worked out once per box rather
 * than once per comparison (the same float operations, so the same IoU). */
typedef struct corners {
    float ymin, xmin, ymax, xmax, area;
} corners;

static corners corners_of(const float *boxes, int i) {
    const float *a = boxes + 4 * i;
    corners c = {fminf(a[0], a[2]), fminf(a[1], a[3]), fmaxf(a[0], a[2]), fmaxf(a[1], a[3]), 0};
    c.area = (c.ymax - c.ymin) * (c.xmax - c.xmin);
    return c;
}

/* IoU of candidate i and selected box j. */
static float iou(const corners *i, const corners *j) {
    if (i->area <= 0 || j->area <= 0) return 0.0f;
    const float iy0 = fmaxf(i->ymin, j->ymin), ix0 = fmaxf(i->xmin, j->xmin);
    const float iy1 = fminf(i->ymax, j->ymax), ix1 = fminf(i->xmax, j->xmax);
    const float inter = fmaxf(iy1 - iy0, 0.0f) * fmaxf(ix1 - ix0, 0.0f);
    return inter / (i->area + j->area - inter);
}

typedef struct nms_params {
    int max_out;
    float iou_threshold, score_threshold, sigma;
} nms_params;

/* Runs the selection; selected/sel_scores/sel_corners hold at least max_out entries. */
static int nms_select(const float *boxes, const float *scores, int num_boxes, const nms_params *prm, candidate *queue,
                      int *selected, float *sel_scores, corners *sel_corners) {
    heap h = {queue, 0};
    for (int i = 0; i < num_boxes; i++)
        if (scores[i] > prm->score_threshold) heap_push(&h, (candidate){i, scores[i], 0});
    const bool soft = prm->sigma > 0;
    const float scale = soft ? -0.5f / prm->sigma : 0.0f;
    int n = 0;
    while (n < prm->max_out && h.n > 0) {
        candidate next = heap_pop(&h);
        const float original = next.score;
        const corners box = corners_of(boxes, next.index);
        bool hard = false;
        for (int j = n - 1; j >= next.suppress_begin; j--) {
            const float sim = iou(&box, &sel_corners[j]);
            if (soft) {
                next.score *= expf(scale * sim * sim);
            } else if (!(sim <= prm->iou_threshold)) {
                /* Hard NMS weighs by exp(0) = 1 or by 0, so only the 0 needs a multiply. */
                next.score *= 0.0f;
                if (sim > prm->iou_threshold) {
                    hard = true;
                    break;
                }
            }
            if (next.score <= prm->score_threshold) break;
        }
        next.suppress_begin = n;
        if (hard) continue;
        if (next.score == original) {
            selected[n] = next.index;
            sel_scores[n] = next.score;
            sel_corners[n] = box;
            n++;
        } else if (next.score > prm->score_threshold) {
            heap_push(&h, next);
        }
    }
    return n;
}

static pl_status scalar_of(const pl_tensor *t, const char *what, double *v) {
    char buf[64];
    if (t->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "%s must be 0-D, got shape %s", what, pl_shape_str(t->rank, t->dims, buf, sizeof buf));
    *v = pl_tensor_get_f64(t, 0);
    return NULL;
}

static pl_status float_copy(pl_tensor *t, pl_tensor **out) {
    if (t->dtype != PL_DT_FLOAT && t->dtype != PL_DT_HALF)
        return pl_error(PL_INVALID_ARGUMENT, "boxes and scores must be float32 or float16, got %s", pl_dtype_name(t->dtype));
    return pl__image_as_float(t, out);
}

static pl_status read_params(const nms_state *s, pl_kernel_ctx *c, nms_params *prm) {
    double v;
    PL_TRY(scalar_of(c->inputs[2], "max_output_size", &v));
    if (c->inputs[2]->dtype != PL_DT_INT32) return pl_error(PL_INVALID_ARGUMENT, "max_output_size must be int32");
    prm->max_out = *(const int32_t *)c->inputs[2]->data;
    prm->iou_threshold = s->iou_attr;
    prm->score_threshold = -FLT_MAX;
    prm->sigma = 0;
    if (s->version >= 2) {
        PL_TRY(scalar_of(c->inputs[3], "iou_threshold", &v));
        prm->iou_threshold = (float)v;
        if (!(prm->iou_threshold >= 0 && prm->iou_threshold <= 1))
            return pl_error(PL_INVALID_ARGUMENT, "iou_threshold must be in [0, 1]");
    }
    if (s->version >= 3) {
        PL_TRY(scalar_of(c->inputs[4], "score_threshold", &v));
        prm->score_threshold = (float)v;
    }
    if (s->version == 5) {
        PL_TRY(scalar_of(c->inputs[5], "soft_nms_sigma", &v));
        prm->sigma = (float)v;
        if (!(prm->sigma >= 0)) return pl_error(PL_INVALID_ARGUMENT, "soft_nms_sigma_val must be >= 0");
    }
    return NULL;
}

static pl_status check_shapes(const pl_tensor *boxes, const pl_tensor *scores, int *num_boxes) {
    char buf[64];
    if (boxes->rank != 2)
        return pl_error(PL_INVALID_ARGUMENT, "boxes must be 2-D%s (Shape must be rank 2 but is rank %d)",
                        pl_shape_str(boxes->rank, boxes->dims, buf, sizeof buf), boxes->rank);
    if (boxes->dims[1] != 4)
        return pl_error(PL_INVALID_ARGUMENT, "boxes must have 4 columns (Dimension must be 4 but is %lld)",
                        (long long)boxes->dims[1]);
    if (boxes->dims[0] > INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "too many boxes");
    *num_boxes = (int)boxes->dims[0];
    if (scores->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "scores must be 1-D%s (Shape must be rank 1 but is rank %d)",
                        pl_shape_str(scores->rank, scores->dims, buf, sizeof buf), scores->rank);
    if (scores->dims[0] != *num_boxes)
        return pl_error(PL_INVALID_ARGUMENT, "scores has incompatible shape (Dimensions must be equal, but are %d and %lld)",
                        *num_boxes, (long long)scores->dims[0]);
    return NULL;
}

static pl_status write_outputs(const nms_state *s, pl_kernel_ctx *c, const int *selected, const float *sel_scores,
                               int n, int max_out, pl_dtype score_type) {
    int64_t len = (s->pad && n < max_out) ? max_out : n;
    pl_tensor *idx;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_INT32, 1, &len, &idx));
    int32_t *iv = idx->data;
    for (int64_t i = 0; i < len; i++) iv[i] = i < n ? selected[i] : 0;
    if (s->version == 5) {
        pl_tensor *sc;
        PL_TRY(pl_ctx_alloc_output(c, 1, score_type, 1, &len, &sc));
        for (int64_t i = 0; i < len; i++) {
            float v = i < n ? sel_scores[i] : 0.0f;
            if (score_type == PL_DT_HALF)
                ((uint16_t *)sc->data)[i] = pl_float_to_half(v);
            else
                ((float *)sc->data)[i] = v;
        }
    }
    if (s->version >= 4) {
        pl_tensor *valid;
        PL_TRY(pl_ctx_alloc_output(c, s->version == 5 ? 2 : 1, PL_DT_INT32, 0, NULL, &valid));
        *(int32_t *)valid->data = n;
    }
    return NULL;
}

pl_status pl__image_nms_compute(pl_kernel_ctx *c) {
    const nms_state *s = c->state;
    const int need = s->version == 1 ? 3 : s->version == 2 ? 4 : s->version == 5 ? 6 : 5;
    if (c->num_inputs < need) return pl_error(PL_INVALID_ARGUMENT, "NonMaxSuppression needs %d inputs", need);
    nms_params prm = {0};
    PL_TRY(read_params(s, c, &prm));
    int num_boxes = 0;
    PL_TRY(check_shapes(c->inputs[0], c->inputs[1], &num_boxes));
    if (prm.max_out < 0) return pl_error(PL_INVALID_ARGUMENT, "output size must be non-negative");
    pl_tensor *boxes = NULL, *scores = NULL;
    pl_status st = float_copy(c->inputs[0], &boxes);
    if (!st) st = float_copy(c->inputs[1], &scores);
    int cap = prm.max_out < num_boxes ? prm.max_out : num_boxes;
    candidate *queue = NULL;
    int *selected = NULL;
    float *sel_scores = NULL;
    corners *sel_corners = NULL;
    if (!st) {
        queue = malloc(sizeof *queue * (size_t)(num_boxes + 1));
        selected = malloc(sizeof *selected * (size_t)(cap + 1));
        sel_scores = malloc(sizeof *sel_scores * (size_t)(cap + 1));
        sel_corners = malloc(sizeof *sel_corners * (size_t)(cap + 1));
        if (!queue || !selected || !sel_scores || !sel_corners) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (!st) {
        nms_params bounded = prm;
        bounded.max_out = cap;
        int n = nms_select(boxes->data, scores->data, num_boxes, &bounded, queue, selected, sel_scores, sel_corners);
        st = write_outputs(s, c, selected, sel_scores, n, prm.max_out, c->inputs[1]->dtype);
    }
    free(queue);
    free(selected);
    free(sel_scores);
    free(sel_corners);
    pl_tensor_unref(boxes);
    pl_tensor_unref(scores);
    return st;
}
