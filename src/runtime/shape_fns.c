/* Shape functions: for each op, what TensorFlow's registered shape function
 * says about its outputs given what is known of its inputs. The algebra
 * (unknown ranks and dims, merging, broadcasting, windowed sizes) follows
 * TensorFlow's InferenceContext so the results agree with what TensorFlow
 * reports for the same graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

typedef pl__tensor_type shp;

#define UNKNOWN (-1)

/* ---- the algebra ---- */

static void unknown_shape(shp *s) { s->rank = UNKNOWN; }

static void unknown_of_rank(shp *s, int rank) {
    s->rank = rank;
    for (int i = 0; i < rank; i++) s->dims[i] = UNKNOWN;
}

static void set_shape(shp *out, const shp *from) {
    out->rank = from->rank;
    memcpy(out->dims, from->dims, sizeof out->dims);
}

static void scalar(shp *s) { s->rank = 0; }

static void vector(shp *s, int64_t d) {
    s->rank = 1;
    s->dims[0] = d;
}

static pl_status with_rank(const shp *s, int rank, shp *out) {
    if (rank > PL_MAX_RANK) return pl_error(PL_UNIMPLEMENTED, "rank %d", rank);
    if (s->rank < 0) {
        unknown_of_rank(out, rank);
        return NULL;
    }
    if (s->rank != rank) return pl_error(PL_INVALID_ARGUMENT, "Shape must be rank %d but is rank %d", rank, s->rank);
    set_shape(out, s);
    return NULL;
}

static pl_status with_rank_at_least(const shp *s, int rank) {
    if (s->rank >= 0 && s->rank < rank)
        return pl_error(PL_INVALID_ARGUMENT, "Shape must be at least rank %d but is rank %d", rank, s->rank);
    return NULL;
}

/* The rank an axis needs, at most INT32_MAX: the axis may be any int64,
 * whose negation or successor can overflow. */
static int64_t rank_for_axis(int64_t axis) {
    if (axis < 0) return axis < -INT32_MAX ? INT32_MAX : -axis;
    return axis >= INT32_MAX ? INT32_MAX : axis + 1;
}

static pl_status with_rank_at_most(const shp *s, int rank) {
    if (s->rank > rank) return pl_error(PL_INVALID_ARGUMENT, "Shape must be at most rank %d but is rank %d", rank, s->rank);
    return NULL;
}

static int64_t dim(const shp *s, int64_t i) {
    if (s->rank < 0) return UNKNOWN;
    if (i < 0) i += s->rank;
    return i >= 0 && i < s->rank ? s->dims[i] : UNKNOWN;
}

static pl_status merge_dim(int64_t a, int64_t b, int64_t *out) {
    if (a < 0) *out = b;
    else if (b < 0 || a == b) *out = a;
    else return pl_error(PL_INVALID_ARGUMENT, "Dimensions must be equal, but are %lld and %lld", (long long)a, (long long)b);
    return NULL;
}

static pl_status merge_shape(const shp *a, const shp *b, shp *out) {
    if (a->rank < 0) {
        set_shape(out, b);
        return NULL;
    }
    if (b->rank < 0) {
        set_shape(out, a);
        return NULL;
    }
    if (a->rank != b->rank) return pl_error(PL_INVALID_ARGUMENT, "Shapes must be equal rank, but are %d and %d", a->rank, b->rank);
    shp r = {.rank = a->rank};
    for (int i = 0; i < a->rank; i++) PL_TRY(merge_dim(a->dims[i], b->dims[i], &r.dims[i]));
    set_shape(out, &r);
    return NULL;
}

static void concatenate(const shp *a, const shp *b, shp *out) {
    if (a->rank < 0 || b->rank < 0 || a->rank + b->rank > PL_MAX_RANK) {
        unknown_shape(out);
        return;
    }
    shp r = *a;
    for (int i = 0; i < b->rank; i++) r.dims[r.rank++] = b->dims[i];
    set_shape(out, &r);
}

pl_status pl__subshape(const shp *s, int64_t start, int64_t end, int64_t stride, shp *out) {
    int64_t rank = s->rank;
    if (start == 0 && stride == 1 && ((rank >= 0 && end >= rank) || end == INT64_MAX)) {
        set_shape(out, s);
        return NULL;
    }
    if (rank < 0) {
        unknown_shape(out);
        return NULL;
    }
    if (start > rank) start = rank;
    if (end > rank) end = rank;
    if (stride < 0 && start == rank) --start;
    if (start < 0 && (start += rank) < 0) return pl_error(PL_INVALID_ARGUMENT, "Subshape start out of bounds");
    if (end < 0 && (end += rank) < 0) return pl_error(PL_INVALID_ARGUMENT, "Subshape end out of bounds");
    if (stride == 0) return pl_error(PL_INVALID_ARGUMENT, "Subshape stride must be non-zero");
    if ((stride > 0 && start > end) || (stride < 0 && start < end))
        return pl_error(PL_INVALID_ARGUMENT, "Subshape has inverted bounds");
    shp r = {.rank = 0};
    for (int64_t i = start; stride > 0 ? i < end : i > end; i += stride) r.dims[r.rank++] = s->dims[i];
    set_shape(out, &r);
    return NULL;
}

static pl_status subshape(const shp *s, int64_t start, int64_t end, shp *out) {
    return pl__subshape(s, start, end, 1, out);
}

static int64_t dim_add(int64_t a, int64_t b) {
    if (a == 0) return b;
    if (b == 0) return a;
    if (a < 0 || b < 0) return UNKNOWN;
    return a > INT64_MAX - b ? UNKNOWN : a + b;
}

static int64_t dim_sub(int64_t a, int64_t b) {
    if (b == 0) return a;
    if (a < 0 || b < 0) return UNKNOWN;
    return a - b; /* may be negative: callers treat that as an error */
}

static int64_t dim_mul(int64_t a, int64_t b) {
    if (a == 0 || b == 0) return 0;
    if (a == 1) return b;
    if (b == 1) return a;
    if (a < 0 || b < 0) return UNKNOWN;
    return a > INT64_MAX / b ? UNKNOWN : a * b;
}

static int64_t dim_div(int64_t a, int64_t b) {
    if (b == 1) return a;
    if (a < 0 || b <= 0) return UNKNOWN;
    return a / b;
}

static int64_t num_elements(const shp *s) {
    if (s->rank < 0) return UNKNOWN;
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->dims[i] < 0) return UNKNOWN;
        n = dim_mul(n, s->dims[i]);
    }
    return n;
}

#define IN(i) (c->in[i])
#define OUT(i) (&c->out[i])
#define NEED_INPUTS(k) \
    do { if (c->n->num_inputs < (k)) return pl_error(PL_INVALID_ARGUMENT, "expected %d inputs", (k)); } while (0)

/* ---- simple families ---- */

static pl_status unchanged(pl__infer *c) {
    NEED_INPUTS(1);
    set_shape(OUT(0), IN(0));
    return NULL;
}

static pl_status unchanged_at_least_1(pl__infer *c) {
    NEED_INPUTS(1);
    PL_TRY(with_rank_at_least(IN(0), 1));
    set_shape(OUT(0), IN(0));
    return NULL;
}

static pl_status no_outputs(pl__infer *c) {
    (void)c;
    return NULL;
}

static pl_status const_fn(pl__infer *c) {
    pl_tensor *t;
    PL_TRY(pl_attr_tensor(c->n->attrs, "value", &t));
    OUT(0)->dtype = t->dtype;
    OUT(0)->rank = t->rank;
    memcpy(OUT(0)->dims, t->dims, sizeof t->dims);
    pl_tensor_unref(t);
    return NULL;
}

static pl_status attr_shape(pl__infer *c, shp *out) {
    unknown_shape(out);
    if (!pl_attr_has(c->n->attrs, "shape")) return NULL;
    return pl_attr_shape(c->n->attrs, "shape", &out->rank, out->dims);
}

static pl_status placeholder(pl__infer *c) {
    PL_TRY(attr_shape(c, OUT(0)));
    /* Old graphs cannot tell a scalar shape attr from "unknown". */
    if (c->producer <= 21 && OUT(0)->rank <= 0) unknown_shape(OUT(0));
    return NULL;
}

static pl_status placeholder_with_default(pl__infer *c) { return attr_shape(c, OUT(0)); }

static pl_status switch_fn(pl__infer *c) {
    NEED_INPUTS(2);
    set_shape(OUT(0), IN(0));
    if (c->n->num_outputs > 1) set_shape(OUT(1), IN(0));
    return NULL;
}

static pl_status merge_fn(pl__infer *c) {
    NEED_INPUTS(1);
    shp out = *IN(0);
    if (out.rank >= 0)
        for (int i = 1; i < c->n->num_inputs; i++) {
            const shp *in = IN(i);
            if (in->rank < 0 || in->rank != out.rank) {
                unknown_shape(&out);
                break;
            }
            for (int d = 0; d < out.rank; d++)
                if (in->dims[d] != out.dims[d]) out.dims[d] = UNKNOWN;
        }
    set_shape(OUT(0), &out);
    if (c->n->num_outputs > 1) {
        scalar(OUT(1));
        OUT(1)->dtype = PL_DT_INT32;
    }
    return NULL;
}

/* BroadcastBinaryOpOutputShapeFn */
static pl_status broadcast(const shp *x, const shp *y, shp *out) {
    if (x->rank < 0 || y->rank < 0) {
        unknown_shape(out);
        return NULL;
    }
    int rank = x->rank > y->rank ? x->rank : y->rank;
    shp r = {.rank = rank};
    for (int i = 0; i < rank; i++) {
        int xi = i - (rank - x->rank), yi = i - (rank - y->rank);
        int64_t dx = xi < 0 ? 1 : x->dims[xi], dy = yi < 0 ? 1 : y->dims[yi];
        if (dx > 1) r.dims[i] = dx;
        else if (dy > 1) r.dims[i] = dy;
        else if (dx == 1) r.dims[i] = dy;
        else if (dy == 1) r.dims[i] = dx;
        else if (dx < 0 && dy < 0) r.dims[i] = UNKNOWN;
        else PL_TRY(merge_dim(dx, dy, &r.dims[i]));
    }
    set_shape(out, &r);
    return NULL;
}

static pl_status binary(pl__infer *c) {
    NEED_INPUTS(2);
    return broadcast(IN(0), IN(1), OUT(0));
}

static pl_status comparison(pl__infer *c) {
    OUT(0)->dtype = PL_DT_BOOL;
    return binary(c);
}

static pl_status select_fn(pl__infer *c) {
    NEED_INPUTS(3);
    shp data = {0}, cond = *IN(0);
    PL_TRY(merge_shape(IN(1), IN(2), &data));
    if (cond.rank < 0 || data.rank < 0 || cond.rank == 0) {
        set_shape(OUT(0), &data);
        return NULL;
    }
    if (cond.rank != 1 || data.rank == 0) PL_TRY(merge_shape(&data, &cond, &data));
    set_shape(OUT(0), &data);
    return NULL;
}

static pl_status select_v2(pl__infer *c) {
    NEED_INPUTS(3);
    shp tmp = {0};
    PL_TRY(broadcast(IN(1), IN(2), &tmp));
    return broadcast(IN(0), &tmp, OUT(0));
}

static pl_status add_n(pl__infer *c) {
    NEED_INPUTS(1);
    shp cur = *IN(0);
    for (int i = 1; i < c->n->num_inputs; i++) PL_TRY(merge_shape(&cur, IN(i), &cur));
    set_shape(OUT(0), &cur);
    return NULL;
}

/* ---- shapes as values ---- */

static pl_status shape_fn(pl__infer *c) {
    NEED_INPUTS(1);
    OUT(0)->dtype = pl_attr_type_or(c->n->attrs, "out_type", PL_DT_INT32);
    vector(OUT(0), IN(0)->rank < 0 ? UNKNOWN : IN(0)->rank);
    return NULL;
}

static pl_status size_fn(pl__infer *c) {
    OUT(0)->dtype = pl_attr_type_or(c->n->attrs, "out_type", PL_DT_INT32);
    scalar(OUT(0));
    return NULL;
}

static pl_status rank_fn(pl__infer *c) {
    OUT(0)->dtype = PL_DT_INT32;
    scalar(OUT(0));
    return NULL;
}

static pl_status reshape(pl__infer *c) {
    NEED_INPUTS(2);
    shp out = {0}, in = *IN(0);
    PL_TRY(pl__infer_input_as_shape(c, 1, &out));
    if (out.rank < 0 || in.rank < 0) {
        set_shape(OUT(0), &out);
        return NULL;
    }
    bool too_many = false;
    int out_unknown = -1, in_unknown = -1;
    int64_t out_elems = num_elements(&out), in_elems = num_elements(&in);
    if (out_elems < 0) {
        out_elems = 1;
        for (int i = 0; i < out.rank; i++) {
            if (out.dims[i] < 0) {
                if (out_unknown >= 0) {
                    too_many = true;
                    break;
                }
                out_unknown = i;
            } else {
                out_elems = dim_mul(out_elems, out.dims[i]);
            }
        }
    }
    if (in_elems < 0) {
        in_elems = 1;
        for (int i = 0; i < in.rank; i++) {
            if (in.dims[i] < 0) {
                if (in_unknown >= 0) {
                    too_many = true;
                    break;
                }
                in_unknown = i;
            } else {
                in_elems = dim_mul(in_elems, in.dims[i]);
            }
        }
    }
    if (!too_many) {
        if (in_unknown < 0 && out_unknown < 0) {
            if (in_elems != out_elems)
                return pl_error(PL_INVALID_ARGUMENT, "Cannot reshape a tensor with %lld elements to shape with %lld "
                                "elements", (long long)in_elems, (long long)out_elems);
        } else if (in_unknown < 0 && out_unknown >= 0 && out_elems > 0) {
            if (in_elems % out_elems) return pl_error(PL_INVALID_ARGUMENT, "Cannot reshape: sizes do not divide");
            out.dims[out_unknown] = in_elems / out_elems;
        } else if (in_unknown >= 0 && out_unknown >= 0 && in_elems == out_elems) {
            out.dims[out_unknown] = in.dims[in_unknown];
        }
    }
    set_shape(OUT(0), &out);
    return NULL;
}

static bool list_contains(const int64_t *items, int n, int64_t v, int rank) {
    for (int k = 0; k < n; k++)
        if (items[k] == v || items[k] == v - rank) return true;
    return false;
}

static pl_status squeeze(pl__infer *c) {
    NEED_INPUTS(1);
    const shp *in = IN(0);
    if (in->rank < 0) {
        unknown_shape(OUT(0));
        return NULL;
    }
    const int64_t *sq = NULL;
    int nsq = 0;
    if (pl_attr_has(c->n->attrs, "squeeze_dims")) PL_TRY(pl_attr_int_list(c->n->attrs, "squeeze_dims", &sq, &nsq));
    else if (pl_attr_has(c->n->attrs, "axis")) PL_TRY(pl_attr_int_list(c->n->attrs, "axis", &sq, &nsq));
    for (int k = 0; k < nsq; k++)
        if (sq[k] < -in->rank || sq[k] >= in->rank) return pl_error(PL_INVALID_ARGUMENT, "squeeze_dims out of range");
    shp r = {.rank = 0};
    for (int i = 0; i < in->rank; i++) {
        bool explicit_match = list_contains(sq, nsq, i, in->rank);
        int64_t d = in->dims[i];
        if (d < 0) {
            if (explicit_match) continue;
            if (nsq == 0) {
                unknown_shape(OUT(0));
                return NULL;
            }
        } else if (d == 1) {
            if (explicit_match || nsq == 0) continue;
        } else if (explicit_match) {
            return pl_error(PL_INVALID_ARGUMENT, "Can not squeeze dim[%d], expected a dimension of 1, got %lld", i,
                            (long long)d);
        }
        r.dims[r.rank++] = d;
    }
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status expand_dims(pl__infer *c) {
    NEED_INPUTS(2);
    const pl_tensor *t = pl__infer_input_value(c, 1);
    if (!t) {
        unknown_shape(OUT(0));
        return NULL;
    }
    if (t->count != 1 || (t->dtype != PL_DT_INT32 && t->dtype != PL_DT_INT64))
        return pl_error(PL_INVALID_ARGUMENT, "'dim' input must be a tensor with a single value");
    const shp *in = IN(0);
    if (in->rank < 0) {
        unknown_shape(OUT(0));
        return NULL;
    }
    int64_t d = pl_tensor_get_i64(t, 0), rank = in->rank;
    if (d < -rank - 1 || d > rank) return pl_error(PL_INVALID_ARGUMENT, "dim out of range");
    if (d < 0) d += rank + 1;
    if (rank + 1 > PL_MAX_RANK) return pl_error(PL_UNIMPLEMENTED, "rank too large");
    shp r = {.rank = (int)rank + 1};
    for (int i = 0, k = 0; i < r.rank; i++) r.dims[i] = i == d ? 1 : in->dims[k++];
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status pack(pl__infer *c) {
    NEED_INPUTS(1);
    int n = c->n->num_inputs;
    shp cur = *IN(n - 1);
    for (int i = n - 2; i >= 0; i--) PL_TRY(merge_shape(IN(i), &cur, &cur));
    if (cur.rank < 0) {
        unknown_shape(OUT(0));
        return NULL;
    }
    int64_t axis = pl_attr_int_or(c->n->attrs, "axis", 0);
    if (axis < -(cur.rank + 1) || axis > cur.rank) return pl_error(PL_INVALID_ARGUMENT, "axis out of range");
    if (axis < 0) axis += cur.rank + 1;
    if (cur.rank + 1 > PL_MAX_RANK) return pl_error(PL_UNIMPLEMENTED, "rank too large");
    shp r = {.rank = cur.rank + 1};
    for (int i = 0, k = 0; i < r.rank; i++) r.dims[i] = i == axis ? n : cur.dims[k++];
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status unpack(pl__infer *c) {
    NEED_INPUTS(1);
    const shp *in = IN(0);
    shp r = {0};
    if (in->rank < 0) {
        unknown_shape(&r);
    } else {
        int64_t axis = pl_attr_int_or(c->n->attrs, "axis", 0);
        if (axis < -in->rank || axis >= in->rank) return pl_error(PL_INVALID_ARGUMENT, "axis out of range");
        if (axis < 0) axis += in->rank;
        r.rank = 0;
        for (int i = 0; i < in->rank; i++)
            if (i != axis) r.dims[r.rank++] = in->dims[i];
    }
    for (int k = 0; k < c->n->num_outputs; k++) set_shape(OUT(k), &r);
    return NULL;
}

/* ConcatShapeHelper */
static pl_status concat_helper(pl__infer *c, int start, int end, int axis_input) {
    const pl_tensor *axis_t = pl__infer_input_value(c, axis_input);
    if (!axis_t) {
        int rank = UNKNOWN;
        for (int i = start; i < end && rank < 0; i++) rank = IN(i)->rank;
        if (rank < 0) {
            unknown_shape(OUT(0));
            return NULL;
        }
        if (rank == 0) return pl_error(PL_INVALID_ARGUMENT, "Can't concatenate scalars (use tf.stack instead)");
        for (int i = start; i < end; i++) {
            shp tmp;
            PL_TRY(with_rank(IN(i), rank, &tmp));
        }
        unknown_of_rank(OUT(0), rank);
        return NULL;
    }
    if (axis_t->count != 1) return pl_error(PL_INVALID_ARGUMENT, "axis must be a scalar");
    int64_t axis = pl_tensor_get_i64(axis_t, 0);
    int64_t min_rank = rank_for_axis(axis);
    shp before = {0}, after = {0};
    const shp *in = IN(end - 1);
    PL_TRY(with_rank_at_least(in, (int)(min_rank > PL_MAX_RANK ? PL_MAX_RANK + 1 : min_rank)));
    PL_TRY(subshape(in, 0, axis, &before));
    int64_t middle = dim(in, axis);
    if (axis == -1) scalar(&after);
    else PL_TRY(subshape(in, axis + 1, INT64_MAX, &after));
    for (int i = end - 2; i >= start; i--) {
        shp b, a;
        in = IN(i);
        PL_TRY(with_rank_at_least(in, (int)(min_rank > PL_MAX_RANK ? PL_MAX_RANK + 1 : min_rank)));
        PL_TRY(subshape(in, 0, axis, &b));
        int64_t m = dim(in, axis);
        if (axis == -1) scalar(&a);
        else PL_TRY(subshape(in, axis + 1, INT64_MAX, &a));
        PL_TRY(merge_shape(&b, &before, &before));
        middle = dim_add(middle, m);
        PL_TRY(merge_shape(&a, &after, &after));
    }
    shp mid = {0}, s = {0};
    vector(&mid, middle);
    concatenate(&before, &mid, &s);
    concatenate(&s, &after, OUT(0));
    return NULL;
}

static pl_status concat_v2(pl__infer *c) {
    NEED_INPUTS(2);
    return concat_helper(c, 0, c->n->num_inputs - 1, c->n->num_inputs - 1);
}

static pl_status concat_v1(pl__infer *c) {
    NEED_INPUTS(2);
    return concat_helper(c, 1, c->n->num_inputs, 0);
}

static pl_status gather_v1(pl__infer *c) {
    NEED_INPUTS(2);
    PL_TRY(with_rank_at_least(IN(0), 1));
    shp params_sub = {0};
    PL_TRY(subshape(IN(0), 1, INT64_MAX, &params_sub));
    concatenate(IN(1), &params_sub, OUT(0));
    OUT(0)->dtype = pl_attr_type_or(c->n->attrs, "Tparams", PL_DT_INVALID);
    return NULL;
}

static pl_status gather_v2(pl__infer *c) {
    NEED_INPUTS(3);
    OUT(0)->dtype = pl_attr_type_or(c->n->attrs, "Tparams", PL_DT_INVALID);
    const shp *params = IN(0), *indices = IN(1);
    const pl_tensor *axis_t = pl__infer_input_value(c, 2);
    if (!axis_t) {
        if (params->rank >= 0 && indices->rank >= 0) {
            int64_t batch_dims = pl_attr_int_or(c->n->attrs, "batch_dims", 0);
            int64_t rank = params->rank + indices->rank - 1 - batch_dims;
            if (rank < 0 || rank > PL_MAX_RANK) return pl_error(PL_INVALID_ARGUMENT, "bad rank");
            unknown_of_rank(OUT(0), (int)rank);
        } else {
            unknown_shape(OUT(0));
        }
        return NULL;
    }
    int64_t axis = pl_tensor_get_i64(axis_t, 0);
    int64_t batch_dims = pl_attr_int_or(c->n->attrs, "batch_dims", 0);
    PL_TRY(with_rank_at_least(params, (int)rank_for_axis(axis)));
    if (params->rank < 0) {
        unknown_shape(OUT(0));
        return NULL;
    }
    if (batch_dims < 0 && indices->rank >= 0) batch_dims += indices->rank;
    shp a = {0}, b = {0}, ind = {0}, s = {0};
    PL_TRY(subshape(params, 0, axis, &a));
    PL_TRY(subshape(indices, batch_dims, INT64_MAX, &ind));
    if (axis == -1) scalar(&b);
    else PL_TRY(subshape(params, axis + 1, INT64_MAX, &b));
    concatenate(&a, &ind, &s);
    concatenate(&s, &b, OUT(0));
    return NULL;
}

static pl_status where_fn(pl__infer *c) {
    NEED_INPUTS(1);
    if (c->n->num_inputs > 1) return select_v2(c); /* the old Where(cond, x, y) */
    OUT(0)->dtype = PL_DT_INT64;
    OUT(0)->rank = 2;
    OUT(0)->dims[0] = UNKNOWN;
    OUT(0)->dims[1] = IN(0)->rank;
    return NULL;
}

static pl_status reduction(pl__infer *c) {
    NEED_INPUTS(2);
    const shp *in = IN(0);
    if (c->producer >= 21) PL_TRY(with_rank_at_most(IN(1), 1));
    bool keep = pl_attr_bool_or(c->n->attrs, "keep_dims", false);
    const pl_tensor *idx = pl__infer_input_value(c, 1);
    if (!idx || in->rank < 0) {
        if (keep && in->rank >= 0) unknown_of_rank(OUT(0), in->rank);
        else unknown_shape(OUT(0));
        return NULL;
    }
    bool reduce[PL_MAX_RANK] = {0};
    for (int64_t k = 0; k < idx->count; k++) {
        int64_t v = pl_tensor_get_i64(idx, k);
        if (v < -in->rank || v >= in->rank)
            return pl_error(PL_INVALID_ARGUMENT, "Invalid reduction dimension %lld for input with %d dimensions.",
                            (long long)v, in->rank);
        reduce[v < 0 ? v + in->rank : v] = true;
    }
    shp r = {.rank = 0};
    for (int i = 0; i < in->rank; i++) {
        if (!reduce[i]) r.dims[r.rank++] = in->dims[i];
        else if (keep) r.dims[r.rank++] = 1;
    }
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status arg_reduce(pl__infer *c) {
    NEED_INPUTS(2);
    OUT(0)->dtype = pl_attr_type_or(c->n->attrs, "output_type", PL_DT_INT64);
    const shp *in = IN(0);
    const pl_tensor *d = pl__infer_input_value(c, 1);
    if (!d || in->rank < 0) {
        if (in->rank > 0) unknown_of_rank(OUT(0), in->rank - 1);
        else unknown_shape(OUT(0));
        return NULL;
    }
    int64_t axis = pl_tensor_get_i64(d, 0);
    if (axis < -in->rank || axis >= in->rank) return pl_error(PL_INVALID_ARGUMENT, "dimension out of range");
    if (axis < 0) axis += in->rank;
    shp r = {.rank = 0};
    for (int i = 0; i < in->rank; i++)
        if (i != axis) r.dims[r.rank++] = in->dims[i];
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status tile(pl__infer *c) {
    NEED_INPUTS(2);
    shp in = *IN(0), mult;
    PL_TRY(pl__infer_input_as_shape(c, 1, &mult));
    if (in.rank >= 0) {
        PL_TRY(with_rank(&mult, in.rank, &mult));
        shp v, tmp;
        vector(&v, in.rank);
        PL_TRY(merge_shape(IN(1), &v, &tmp));
    }
    if (mult.rank < 0) {
        unknown_shape(OUT(0));
        return NULL;
    }
    PL_TRY(with_rank(&in, mult.rank, &in));
    shp r = {.rank = mult.rank};
    for (int i = 0; i < r.rank; i++) r.dims[i] = dim_mul(in.dims[i], mult.dims[i]);
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status fill(pl__infer *c) {
    NEED_INPUTS(2);
    return pl__infer_input_as_shape(c, 0, OUT(0));
}

static pl_status slice(pl__infer *c) {
    NEED_INPUTS(3);
    shp in = *IN(0), begin_shape, sizes_shape;
    PL_TRY(with_rank(IN(1), 1, &begin_shape));
    PL_TRY(with_rank(IN(2), 1, &sizes_shape));
    PL_TRY(merge_shape(&begin_shape, &sizes_shape, &begin_shape));
    int64_t ndims = begin_shape.dims[0];
    if (ndims >= 0) PL_TRY(with_rank(&in, (int)(ndims > PL_MAX_RANK ? PL_MAX_RANK + 1 : ndims), &in));
    shp begin = {0};
    PL_TRY(pl__infer_input_as_shape(c, 1, &begin));
    const pl_tensor *sizes = pl__infer_input_value(c, 2);
    if (sizes) {
        if (sizes->count > PL_MAX_RANK) return pl_error(PL_UNIMPLEMENTED, "rank too large");
        PL_TRY(with_rank(&begin, (int)sizes->count, &begin));
        shp r = {.rank = (int)sizes->count};
        for (int i = 0; i < r.rank; i++) {
            int64_t sz = pl_tensor_get_i64(sizes, i);
            if (sz != -1) {
                if (sz < 0) return pl_error(PL_INVALID_ARGUMENT, "Out of bounds slicing");
                r.dims[i] = sz;
            } else {
                int64_t d = dim_sub(dim(&in, i), begin.dims[i]);
                if (d < -1 || (d < 0 && dim(&in, i) >= 0 && begin.dims[i] >= 0))
                    return pl_error(PL_INVALID_ARGUMENT, "Negative dimension size");
                r.dims[i] = d;
            }
        }
        set_shape(OUT(0), &r);
        return NULL;
    }
    shp sv = {0};
    PL_TRY(pl__infer_input_as_shape(c, 2, &sv));
    if (sv.rank >= 0) {
        PL_TRY(with_rank(&begin, sv.rank, &begin));
        set_shape(OUT(0), &sv);
        return NULL;
    }
    if (in.rank >= 0) unknown_of_rank(OUT(0), in.rank);
    else unknown_shape(OUT(0));
    return NULL;
}

static pl_status transpose(pl__infer *c) {
    NEED_INPUTS(2);
    const shp *in = IN(0);
    const pl_tensor *perm = pl__infer_input_value(c, 1);
    int rank = in->rank;
    if (rank < 0 && IN(1)->rank == 1 && IN(1)->dims[0] >= 0 && IN(1)->dims[0] <= PL_MAX_RANK) rank = (int)IN(1)->dims[0];
    if (rank < 0) {
        unknown_shape(OUT(0));
        return NULL;
    }
    if (!perm) {
        unknown_of_rank(OUT(0), rank);
        return NULL;
    }
    if (perm->count != rank) return pl_error(PL_INVALID_ARGUMENT, "perm must have the same length as the input rank");
    shp r = {.rank = rank};
    for (int i = 0; i < rank; i++) {
        int64_t p = pl_tensor_get_i64(perm, i);
        if (p < 0 || p >= rank) return pl_error(PL_INVALID_ARGUMENT, "perm out of range");
        r.dims[i] = dim(in, p);
    }
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status pad(pl__infer *c) {
    NEED_INPUTS(2);
    const shp *in = IN(0);
    shp pshape = {0};
    PL_TRY(with_rank(IN(1), 2, &pshape));
    int64_t n = pshape.dims[0];
    if (in->rank >= 0) PL_TRY(merge_dim(n, in->rank, &n));
    const pl_tensor *p = pl__infer_input_value(c, 1);
    if (!p) {
        if (n >= 0 && n <= PL_MAX_RANK) unknown_of_rank(OUT(0), (int)n);
        else unknown_shape(OUT(0));
        return NULL;
    }
    if (p->rank != 2 || p->dims[1] != 2 || p->dims[0] > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "paddings must be a matrix with 2 columns");
    shp r = {.rank = (int)p->dims[0]};
    for (int i = 0; i < r.rank; i++) {
        int64_t d = dim(in, i), lo = pl_tensor_get_i64(p, 2 * i), hi = pl_tensor_get_i64(p, 2 * i + 1);
        if (lo < 0 || hi < 0) return pl_error(PL_INVALID_ARGUMENT, "Paddings must be non-negative");
        r.dims[i] = dim_add(dim_add(d, lo), hi);
    }
    set_shape(OUT(0), &r);
    return NULL;
}

/* ---- StridedSlice: ValidateStridedSliceOp over a partial input shape ---- */

/* Bit i of a mask attr. begin and end of unknown value leave the length of
 * strides unchecked, so i may pass 63, where a shift would be undefined. */
static bool mask_bit(int64_t mask, int64_t i) { return i < 64 && ((uint64_t)mask >> i) & 1; }

static pl_status strided_slice(pl__infer *c) {
    NEED_INPUTS(4);
    const shp *input = IN(0);
    shp b = {0}, e = {0}, s = {0};
    PL_TRY(with_rank(IN(1), 1, &b));
    PL_TRY(with_rank(IN(2), 1, &e));
    PL_TRY(with_rank(IN(3), 1, &s));
    PL_TRY(merge_shape(&b, &e, &b));
    PL_TRY(merge_shape(&b, &s, &b));
    const pl_tensor *strides_t = pl__infer_input_value(c, 3);
    if (input->rank < 0 || b.dims[0] < 0 || !strides_t) {
        unknown_shape(OUT(0));
        return NULL;
    }
    const pl_tensor *begin_t = pl__infer_input_value(c, 1), *end_t = pl__infer_input_value(c, 2);
    int64_t nsparse = strides_t->count;
    if (strides_t->rank != 1 || (begin_t && (begin_t->rank != 1 || begin_t->count != nsparse || nsparse >= 32)) ||
        (end_t && (end_t->rank != 1 || end_t->count != nsparse || nsparse >= 32)))
        return pl_error(PL_INVALID_ARGUMENT, "Expected begin, end, and strides to be 1D equal size tensors");
    int64_t begin_mask = pl_attr_int_or(c->n->attrs, "begin_mask", 0), end_mask = pl_attr_int_or(c->n->attrs, "end_mask", 0);
    int64_t ellipsis_mask = pl_attr_int_or(c->n->attrs, "ellipsis_mask", 0);
    int64_t new_axis_mask = pl_attr_int_or(c->n->attrs, "new_axis_mask", 0);
    int64_t shrink_mask = pl_attr_int_or(c->n->attrs, "shrink_axis_mask", 0);
    if (ellipsis_mask & (ellipsis_mask - 1)) return pl_error(PL_INVALID_ARGUMENT, "Multiple ellipses in slice spec not allowed");
    /* Step 1: ellipsis and new axes. */
    bool ellipsis_seen = false;
    int num_add_axis_after_ellipsis = 0;
    for (int64_t i = 0; i < nsparse; i++) {
        if (ellipsis_seen && mask_bit(new_axis_mask, i)) num_add_axis_after_ellipsis++;
        if (mask_bit(ellipsis_mask, i)) ellipsis_seen = true;
    }
    int64_t sparse_dims = nsparse, sparse_ellipsis = ellipsis_mask, implicit_ellipsis = -1;
    if (!ellipsis_seen) {
        implicit_ellipsis = sparse_dims; /* a bit past the mask when strides has 63 entries or more */
        sparse_dims++;
    }
    /* Step 2: the dense spec. */
    enum { NEW_AXIS = -1, SHRINK_AXIS = -2 };
    int dims = input->rank;
    int64_t begin[PL_MAX_RANK] = {0}, end[PL_MAX_RANK] = {0}, stride[PL_MAX_RANK] = {0};
    int64_t dbegin_mask = 0, dend_mask = 0, dshrink = 0;
    int gather[64], ngather = 0, full = 0;
    for (int64_t i = 0; i < sparse_dims; i++) {
        if (i == implicit_ellipsis || mask_bit(sparse_ellipsis, i)) {
            int64_t next = dims - (sparse_dims - i) + 1 + num_add_axis_after_ellipsis;
            if (next > dims) next = dims;
            for (; full < next; full++) {
                begin[full] = end[full] = 0;
                stride[full] = 1;
                dbegin_mask |= 1LL << full;
                dend_mask |= 1LL << full;
                if (ngather < 64) gather[ngather++] = full;
            }
        } else if (mask_bit(new_axis_mask, i)) {
            if (ngather < 64) gather[ngather++] = NEW_AXIS;
        } else {
            if (full == dims)
                return pl_error(PL_INVALID_ARGUMENT, "Index out of range using input dim %d; input has only %d dims",
                                full, dims);
            if (begin_t) begin[full] = pl_tensor_get_i64(begin_t, i);
            if (end_t) end[full] = pl_tensor_get_i64(end_t, i);
            stride[full] = pl_tensor_get_i64(strides_t, i);
            if (mask_bit(begin_mask, i)) dbegin_mask |= 1LL << full;
            if (mask_bit(end_mask, i)) dend_mask |= 1LL << full;
            if (mask_bit(shrink_mask, i)) {
                if (ngather < 64) gather[ngather++] = SHRINK_AXIS;
                dshrink |= 1LL << full;
            } else if (ngather < 64) {
                gather[ngather++] = full;
            }
            full++;
        }
    }
    /* Step 3: the processing shape. */
    int64_t proc[PL_MAX_RANK];
    for (int i = 0; i < dims; i++) {
        int64_t dim_i = input->dims[i], st = stride[i];
        bool shrink_i = dshrink & (1LL << i);
        if (st == 0) return pl_error(PL_INVALID_ARGUMENT, "strides[%d] must be non-zero", i);
        if (dim_i == -1) {
            proc[i] = shrink_i ? 1 : -1;
            continue;
        }
        bool masks[2] = {(dbegin_mask >> i) & 1, (dend_mask >> i) & 1};
        int64_t valid[2] = {st > 0 ? 0 : -1, st > 0 ? dim_i : dim_i - 1};
        if (shrink_i && st <= 0) return pl_error(PL_INVALID_ARGUMENT, "only stride 1 allowed on non-range indexing.");
        bool both_masked = masks[0] && masks[1];
        int64_t bi = begin[i], ei = end[i];
        if (begin_t && end_t) {
            if (shrink_i) {
                int64_t fwd = bi < 0 ? dim_i + bi : bi;
                bi = fwd;
                ei = bi + 1;
                if (fwd < 0 || fwd >= dim_i)
                    return pl_error(PL_INVALID_ARGUMENT, "slice index %lld of dimension %d out of bounds.",
                                    (long long)bi, i);
            } else {
                for (int k = 0; k < 2; k++) {
                    int64_t *x = k ? &ei : &bi;
                    if (masks[k]) {
                        *x = st > 0 ? valid[k] : valid[(k + 1) & 1];
                    } else {
                        int64_t fwd = *x < 0 ? dim_i + *x : *x;
                        *x = fwd < valid[0] ? valid[0] : fwd > valid[1] ? valid[1] : fwd;
                    }
                }
            }
        }
        int64_t interval = 0;
        bool known = false;
        if (begin_t && end_t) {
            interval = ei - bi;
            known = true;
        } else if (shrink_i) {
            interval = 1;
            known = true;
        } else if (both_masked && dim_i >= 0) {
            interval = st < 0 ? -dim_i : dim_i;
            known = true;
        }
        if (known) {
            if (interval == 0 || ((interval < 0) != (st < 0))) proc[i] = 0;
            else proc[i] = interval / st + (interval % st != 0 ? 1 : 0);
        } else {
            proc[i] = -1;
        }
    }
    /* Step 4: the final shape. */
    shp r = {.rank = 0};
    for (int k = 0; k < ngather; k++) {
        if (gather[k] == SHRINK_AXIS) continue;
        if (r.rank == PL_MAX_RANK) return pl_error(PL_UNIMPLEMENTED, "rank too large");
        r.dims[r.rank++] = gather[k] == NEW_AXIS ? 1 : proc[gather[k]];
    }
    set_shape(OUT(0), &r);
    return NULL;
}

/* ---- convolution and pooling ---- */

typedef enum { PAD_VALID, PAD_SAME, PAD_EXPLICIT } padding_t;

static padding_t padding_of(const pl_attrs *a) {
    if (pl_attr_string_equals(a, "padding", "SAME")) return PAD_SAME;
    if (pl_attr_string_equals(a, "padding", "EXPLICIT")) return PAD_EXPLICIT;
    return PAD_VALID;
}

static int64_t windowed(int64_t in, int64_t filter, int64_t dilation, int64_t stride, padding_t p, int64_t pad_lo,
                        int64_t pad_hi) {
    if (stride <= 0) return UNKNOWN;
    int64_t eff = dim_add(dim_mul(dim_sub(filter, 1), dilation), 1);
    if (p == PAD_SAME) return dim_div(dim_add(in, stride - 1), stride);
    if (p == PAD_EXPLICIT) in = dim_add(in, pad_lo + pad_hi);
    int64_t d = dim_sub(in, eff);
    if (d < -1) return UNKNOWN;
    return dim_div(dim_add(d, stride), stride);
}

static bool nchw(const pl_attrs *a) { return pl_attr_string_equals(a, "data_format", "NCHW"); }

static void attr_ints4(const pl_attrs *a, const char *name, int64_t out[4]) {
    const int64_t *v;
    int n;
    out[0] = out[1] = out[2] = out[3] = 1;
    pl_status st = pl_attr_has(a, name) ? pl_attr_int_list(a, name, &v, &n) : pl_error(PL_NOT_FOUND, "absent");
    if (!st && n == 4) memcpy(out, v, 4 * sizeof *out);
    pl_status_free(st);
}

static pl_status conv2d(pl__infer *c) {
    NEED_INPUTS(2);
    shp in = {0}, f = {0};
    PL_TRY(with_rank(IN(0), 4, &in));
    PL_TRY(with_rank(IN(1), 4, &f));
    bool cf = nchw(c->n->attrs);
    int64_t strides[4], dil[4], pads[8] = {0};
    attr_ints4(c->n->attrs, "strides", strides);
    attr_ints4(c->n->attrs, "dilations", dil);
    padding_t p = padding_of(c->n->attrs);
    if (p == PAD_EXPLICIT) {
        const int64_t *v;
        int n;
        pl_status st = pl_attr_int_list(c->n->attrs, "explicit_paddings", &v, &n);
        if (!st && n == 8) memcpy(pads, v, sizeof pads);
        pl_status_free(st);
    }
    int h = cf ? 2 : 1, w = cf ? 3 : 2, ch = cf ? 1 : 3;
    bool depthwise = !strcmp(c->n->op, "DepthwiseConv2dNative");
    int64_t out_depth = depthwise ? dim_mul(f.dims[2], f.dims[3]) : f.dims[3];
    shp r = {.rank = 4};
    r.dims[0] = in.dims[0];
    r.dims[h] = windowed(in.dims[h], f.dims[0], dil[h], strides[h], p, pads[2 * h], pads[2 * h + 1]);
    r.dims[w] = windowed(in.dims[w], f.dims[1], dil[w], strides[w], p, pads[2 * w], pads[2 * w + 1]);
    r.dims[ch] = out_depth;
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status pool(pl__infer *c) {
    NEED_INPUTS(1);
    shp in = {0};
    PL_TRY(with_rank(IN(0), 4, &in));
    bool cf = nchw(c->n->attrs);
    int64_t ksize[4], strides[4];
    attr_ints4(c->n->attrs, "ksize", ksize);
    attr_ints4(c->n->attrs, "strides", strides);
    padding_t p = padding_of(c->n->attrs);
    int h = cf ? 2 : 1, w = cf ? 3 : 2, ch = cf ? 1 : 3;
    shp r = {.rank = 4};
    r.dims[0] = in.dims[0];
    r.dims[h] = windowed(in.dims[h], ksize[h], 1, strides[h], p, 0, 0);
    r.dims[w] = windowed(in.dims[w], ksize[w], 1, strides[w], p, 0, 0);
    r.dims[ch] = dim_div(in.dims[ch], ksize[ch]);
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status bias_add(pl__infer *c) {
    NEED_INPUTS(2);
    bool cf = nchw(c->n->attrs);
    PL_TRY(with_rank_at_least(IN(0), cf ? 3 : 2));
    shp bias = {0};
    PL_TRY(with_rank(IN(1), 1, &bias));
    const shp *in = IN(0);
    if (in->rank < 0) {
        unknown_shape(OUT(0));
        return NULL;
    }
    shp r = *in;
    int ch = cf ? in->rank - 3 : in->rank - 1;
    PL_TRY(merge_dim(in->dims[ch], bias.dims[0], &r.dims[ch]));
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status mat_mul(pl__infer *c) {
    NEED_INPUTS(2);
    shp a = {0}, b = {0};
    PL_TRY(with_rank(IN(0), 2, &a));
    PL_TRY(with_rank(IN(1), 2, &b));
    bool ta = pl_attr_bool_or(c->n->attrs, "transpose_a", false), tb = pl_attr_bool_or(c->n->attrs, "transpose_b", false);
    int64_t inner = UNKNOWN;
    PL_TRY(merge_dim(a.dims[ta ? 0 : 1], b.dims[tb ? 1 : 0], &inner));
    shp r = {.rank = 2};
    r.dims[0] = a.dims[ta ? 1 : 0];
    r.dims[1] = b.dims[tb ? 0 : 1];
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status fused_batch_norm(pl__infer *c) {
    NEED_INPUTS(1);
    shp x = {0};
    PL_TRY(with_rank(IN(0), 4, &x));
    set_shape(OUT(0), &x);
    int64_t ch = x.dims[nchw(c->n->attrs) ? 1 : 3];
    for (int k = 1; k < c->n->num_outputs; k++) {
        vector(OUT(k), ch);
        OUT(k)->dtype = pl_attr_type_or(c->n->attrs, "U", OUT(0)->dtype);
    }
    return NULL;
}

/* ---- images ---- */

static pl_status sized_image(pl__infer *c, int64_t batch, int size_input, int64_t channels) {
    shp size = {0};
    PL_TRY(with_rank(IN(size_input), 1, &size));
    int64_t d = UNKNOWN;
    PL_TRY(merge_dim(size.dims[0], 2, &d));
    const pl_tensor *t = pl__infer_input_value(c, size_input);
    int64_t h = UNKNOWN, w = UNKNOWN;
    if (t) {
        if (t->dtype != PL_DT_INT32 || t->count != 2) return pl_error(PL_INVALID_ARGUMENT, "Bad size input type");
        h = ((const int32_t *)t->data)[0];
        w = ((const int32_t *)t->data)[1];
    }
    shp r = {.rank = 4, .dims = {batch, h, w, channels}};
    set_shape(OUT(0), &r);
    return NULL;
}

static pl_status resize(pl__infer *c) {
    NEED_INPUTS(2);
    shp in = {0};
    PL_TRY(with_rank(IN(0), 4, &in));
    if (!strcmp(c->n->op, "ResizeBilinear") || !strcmp(c->n->op, "ResizeBicubic") || !strcmp(c->n->op, "ResizeArea"))
        OUT(0)->dtype = PL_DT_FLOAT;
    return sized_image(c, in.dims[0], 1, in.dims[3]);
}

static pl_status crop_and_resize(pl__infer *c) {
    NEED_INPUTS(4);
    shp in = {0}, boxes = {0}, ind = {0};
    PL_TRY(with_rank(IN(0), 4, &in));
    PL_TRY(with_rank(IN(1), 2, &boxes));
    PL_TRY(with_rank(IN(2), 1, &ind));
    int64_t n = UNKNOWN, four = UNKNOWN;
    PL_TRY(merge_dim(boxes.dims[0], ind.dims[0], &n));
    PL_TRY(merge_dim(boxes.dims[1], 4, &four));
    OUT(0)->dtype = PL_DT_FLOAT;
    return sized_image(c, n, 3, in.dims[3]);
}

static pl_status nms(pl__infer *c) {
    OUT(0)->dtype = PL_DT_INT32;
    vector(OUT(0), UNKNOWN);
    if (c->n->num_outputs > 1) {
        OUT(1)->dtype = strcmp(c->n->op, "NonMaxSuppressionV5") ? PL_DT_INT32 : OUT(0)->dtype;
        if (!strcmp(c->n->op, "NonMaxSuppressionV5")) {
            OUT(1)->dtype = pl_attr_type_or(c->n->attrs, "T", PL_DT_FLOAT);
            vector(OUT(1), UNKNOWN);
            if (c->n->num_outputs > 2) {
                OUT(2)->dtype = PL_DT_INT32;
                scalar(OUT(2));
            }
        } else {
            scalar(OUT(1));
        }
    }
    return NULL;
}

/* ---- TensorArrays ---- */

static pl_status tensor_array(pl__infer *c) {
    vector(OUT(0), 2);
    OUT(0)->dtype = PL_DT_RESOURCE;
    if (c->n->num_outputs > 1) {
        scalar(OUT(1));
        OUT(1)->dtype = PL_DT_FLOAT;
    }
    return NULL;
}

static pl_status flow_out(pl__infer *c) {
    scalar(OUT(0));
    OUT(0)->dtype = PL_DT_FLOAT;
    return NULL;
}

static pl_status ta_concat(pl__infer *c) {
    OUT(0)->dtype = pl_attr_type_or(c->n->attrs, "dtype", PL_DT_INVALID);
    unknown_shape(OUT(0));
    if (c->n->num_outputs > 1) {
        vector(OUT(1), UNKNOWN);
        OUT(1)->dtype = PL_DT_INT64;
    }
    return NULL;
}

static pl_status ta_gather(pl__infer *c) {
    NEED_INPUTS(2);
    OUT(0)->dtype = pl_attr_type_or(c->n->attrs, "dtype", PL_DT_INVALID);
    shp idx = {0}, es = {0};
    PL_TRY(with_rank(IN(1), 1, &idx));
    unknown_shape(&es);
    if (pl_attr_has(c->n->attrs, "element_shape")) PL_TRY(pl_attr_shape(c->n->attrs, "element_shape", &es.rank, es.dims));
    concatenate(&idx, &es, OUT(0));
    return NULL;
}

static pl_status ta_size(pl__infer *c) {
    scalar(OUT(0));
    OUT(0)->dtype = PL_DT_INT32;
    return NULL;
}

static pl_status cast(pl__infer *c) {
    NEED_INPUTS(1);
    set_shape(OUT(0), IN(0));
    OUT(0)->dtype = pl_attr_type_or(c->n->attrs, "DstT", PL_DT_INVALID);
    return NULL;
}

static pl_status range(pl__infer *c) {
    NEED_INPUTS(3);
    OUT(0)->dtype = pl_attr_type_or(c->n->attrs, "Tidx", PL_DT_INT32);
    const pl_tensor *s = pl__infer_input_value(c, 0), *l = pl__infer_input_value(c, 1), *d = pl__infer_input_value(c, 2);
    vector(OUT(0), UNKNOWN);
    if (!s || !l || !d || s->count != 1 || l->count != 1 || d->count != 1) return NULL;
    double start = pl_tensor_get_f64(s, 0), limit = pl_tensor_get_f64(l, 0), delta = pl_tensor_get_f64(d, 0);
    if (delta == 0) return pl_error(PL_INVALID_ARGUMENT, "Requires delta != 0");
    double n = (limit - start) / delta;
    bool integral = OUT(0)->dtype != PL_DT_FLOAT && OUT(0)->dtype != PL_DT_DOUBLE;
    int64_t size = integral ? (int64_t)((llabs((int64_t)(limit - start)) + llabs((int64_t)delta) - 1) / llabs((int64_t)delta))
                            : (int64_t)(n > 0 ? n + 0.999999999999 : 0);
    if ((delta > 0 && start > limit) || (delta < 0 && start < limit)) size = 0;
    vector(OUT(0), size < 0 ? 0 : size);
    return NULL;
}

static pl_status identity_n(pl__infer *c) {
    for (int k = 0; k < c->n->num_outputs && k < c->n->num_inputs; k++) {
        set_shape(OUT(k), IN(k));
        OUT(k)->dtype = IN(k)->dtype;
    }
    return NULL;
}

static pl_status split(pl__infer *c) {
    NEED_INPUTS(2);
    const shp *in = IN(1);
    int n = c->n->num_outputs;
    const pl_tensor *axis_t = pl__infer_input_value(c, 0);
    shp r = {0};
    if (!axis_t || in->rank < 0) {
        if (in->rank >= 0) unknown_of_rank(&r, in->rank);
        else unknown_shape(&r);
    } else {
        int64_t axis = pl_tensor_get_i64(axis_t, 0);
        if (axis < -in->rank || axis >= in->rank) return pl_error(PL_INVALID_ARGUMENT, "axis out of range");
        if (axis < 0) axis += in->rank;
        r = *in;
        int64_t num_split = pl_attr_int_or(c->n->attrs, "num_split", n);
        r.dims[axis] = in->dims[axis] < 0 || num_split <= 0 ? UNKNOWN : in->dims[axis] / num_split;
    }
    for (int k = 0; k < n; k++) set_shape(OUT(k), &r);
    return NULL;
}

/* ---- the table ---- */

static const struct {
    const char *op;
    pl__shape_fn fn;
} fns[] = {
    {"Const", const_fn}, {"Placeholder", placeholder}, {"PlaceholderV2", placeholder},
    {"PlaceholderWithDefault", placeholder_with_default},
    {"Identity", unchanged}, {"RefIdentity", unchanged}, {"Snapshot", unchanged}, {"StopGradient", unchanged},
    {"PreventGradient", unchanged}, {"CheckNumerics", unchanged}, {"Enter", unchanged}, {"RefEnter", unchanged},
    {"Exit", unchanged}, {"RefExit", unchanged}, {"NextIteration", unchanged}, {"RefNextIteration", unchanged},
    {"LoopCond", unchanged}, {"IdentityN", identity_n},
    {"Switch", switch_fn}, {"RefSwitch", switch_fn}, {"Merge", merge_fn}, {"RefMerge", merge_fn},
    {"NoOp", no_outputs}, {"ControlTrigger", no_outputs}, {"Assert", no_outputs},
    {"Relu", unchanged}, {"Relu6", unchanged}, {"Elu", unchanged}, {"Selu", unchanged}, {"Sigmoid", unchanged},
    {"Tanh", unchanged}, {"Softplus", unchanged}, {"Softsign", unchanged}, {"Exp", unchanged}, {"Log", unchanged},
    {"Log1p", unchanged}, {"Neg", unchanged}, {"Abs", unchanged}, {"Sqrt", unchanged}, {"Rsqrt", unchanged},
    {"Square", unchanged}, {"Floor", unchanged}, {"Ceil", unchanged}, {"Round", unchanged}, {"Rint", unchanged},
    {"Sign", unchanged}, {"Reciprocal", unchanged}, {"Inv", unchanged}, {"Sin", unchanged}, {"Cos", unchanged},
    {"Erf", unchanged}, {"LogicalNot", unchanged}, {"ZerosLike", unchanged}, {"OnesLike", unchanged},
    {"LeakyRelu", unchanged}, {"Expm1", unchanged}, {"Atan", unchanged}, {"Tan", unchanged},
    {"IsNan", comparison}, {"IsInf", comparison}, {"IsFinite", comparison},
    {"Softmax", unchanged_at_least_1}, {"LogSoftmax", unchanged_at_least_1}, {"LRN", unchanged},
    {"Add", binary}, {"AddV2", binary}, {"Sub", binary}, {"Mul", binary}, {"RealDiv", binary}, {"Div", binary},
    {"DivNoNan", binary}, {"Maximum", binary}, {"Minimum", binary}, {"FloorDiv", binary}, {"FloorMod", binary},
    {"TruncateDiv", binary}, {"TruncateMod", binary}, {"Mod", binary}, {"Pow", binary},
    {"SquaredDifference", binary}, {"BiasAdd", bias_add}, {"BiasAddV1", bias_add},
    {"Greater", comparison}, {"GreaterEqual", comparison}, {"Less", comparison}, {"LessEqual", comparison},
    {"Equal", comparison}, {"NotEqual", comparison}, {"LogicalAnd", comparison}, {"LogicalOr", comparison},
    {"Select", select_fn}, {"SelectV2", select_v2}, {"AddN", add_n}, {"Where", where_fn},
    {"Shape", shape_fn}, {"Size", size_fn}, {"Rank", rank_fn}, {"Reshape", reshape}, {"Squeeze", squeeze},
    {"ExpandDims", expand_dims}, {"Pack", pack}, {"Unpack", unpack}, {"ConcatV2", concat_v2}, {"Concat", concat_v1},
    {"Gather", gather_v1}, {"GatherV2", gather_v2}, {"Sum", reduction}, {"Prod", reduction}, {"Max", reduction},
    {"Min", reduction}, {"Mean", reduction}, {"All", reduction}, {"Any", reduction}, {"ArgMax", arg_reduce},
    {"ArgMin", arg_reduce}, {"Tile", tile}, {"Fill", fill}, {"Slice", slice}, {"StridedSlice", strided_slice},
    {"Transpose", transpose}, {"Pad", pad}, {"PadV2", pad}, {"MirrorPad", pad}, {"Cast", cast}, {"Range", range},
    {"Split", split},
    {"Conv2D", conv2d}, {"DepthwiseConv2dNative", conv2d}, {"MaxPool", pool}, {"AvgPool", pool}, {"MatMul", mat_mul},
    {"FusedBatchNorm", fused_batch_norm}, {"FusedBatchNormV2", fused_batch_norm}, {"FusedBatchNormV3", fused_batch_norm},
    {"ResizeBilinear", resize}, {"ResizeNearestNeighbor", resize}, {"ResizeBicubic", resize}, {"ResizeArea", resize},
    {"CropAndResize", crop_and_resize}, {"NonMaxSuppression", nms}, {"NonMaxSuppressionV2", nms},
    {"NonMaxSuppressionV3", nms}, {"NonMaxSuppressionV4", nms}, {"NonMaxSuppressionV5", nms},
    {"TensorArrayV3", tensor_array}, {"TensorArrayWriteV3", flow_out}, {"TensorArrayScatterV3", flow_out},
    {"TensorArraySplitV3", flow_out}, {"TensorArrayConcatV3", ta_concat}, {"TensorArrayGatherV3", ta_gather},
    {"TensorArraySizeV3", ta_size}, {"TensorArrayCloseV3", no_outputs}, {"TensorArrayReadV3", NULL},
    {"OnesLike", unchanged},
};

pl__shape_fn pl__shape_fn_find(const char *op) {
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (!strcmp(fns[i].op, op)) return fns[i].fn;
    return NULL;
}
