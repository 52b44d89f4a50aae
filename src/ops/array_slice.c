/* Slice and StridedSlice. StridedSlice follows TensorFlow's
 * ValidateStridedSliceOp step by step (sparse spec -> dense spec -> canonical
 * begin/end -> processing shape -> final shape) so masks, clamping and
 * negative strides behave, and fail, exactly as there. */
#include <string.h>

#include "ops/array_internal.h"

static pl_status strided_box(pl_kernel_ctx *c, pl_tensor *in, const int64_t *begin, const int64_t *step,
                             const int64_t *box, int out_rank, const int64_t *out_dims) {
    int64_t in_strides[PL_MAX_RANK], src_strides[PL_MAX_RANK], dst_strides[PL_MAX_RANK];
    pl__arr_strides(in->rank, in->dims, in_strides);
    pl__arr_strides(in->rank, box, dst_strides);
    int64_t off = 0;
    for (int i = 0; i < in->rank; i++) {
        src_strides[i] = in_strides[i] * step[i];
        off += begin[i] * in_strides[i];
    }
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, out_rank, out_dims, &out));
    return pl__arr_copy_strided(out, 0, dst_strides, in, off, src_strides, in->rank, box);
}

/* ---- Slice (slice_op.cc) ---- */

pl_status pl__arr_slice(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    const pl_tensor *begin_t = c->inputs[1], *size_t_ = c->inputs[2];
    char a[64], b[64];
    int rank = in->rank;
    if (begin_t->rank != 1 || size_t_->rank != 1 || begin_t->count != rank || size_t_->count != rank)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Expected begin and size arguments to be 1-D tensors of size %d, but got shapes %s and %s instead.",
                        rank, pl__arr_shape_str(begin_t, a, sizeof a), pl__arr_shape_str(size_t_, b, sizeof b));
    PL_TRY(pl__arr_want_index(begin_t, "begin"));
    PL_TRY(pl__arr_want_index(size_t_, "size"));
    int64_t begin[PL_MAX_RANK], size[PL_MAX_RANK], step[PL_MAX_RANK];
    bool identity = true;
    for (int i = 0; i < rank; i++) {
        int64_t bi = pl__arr_int(begin_t, i), si = pl__arr_int(size_t_, i), d = in->dims[i];
        /* "all elements from begin[i] to dim_size(i)"; wrapping arithmetic keeps a
         * hostile begin from overflowing (the checks below reject it anyway). */
        if (si == -1) si = (int64_t)((uint64_t)d - (uint64_t)bi);
        if (d == 0) {
            if (bi != 0 || si != 0)
                return pl_error(PL_INVALID_ARGUMENT,
                                "Expected begin[%d] == 0 (got %lld) and size[%d] == 0 (got %lld) when input.dim_size(%d) == 0",
                                i, (long long)bi, i, (long long)si, i);
        } else {
            if (bi < 0 || bi > d)
                return pl_error(PL_INVALID_ARGUMENT, "Expected begin[%d] in [0, %lld], but got %lld", i, (long long)d,
                                (long long)bi);
            if (si < 0 || si > d - bi)
                return pl_error(PL_INVALID_ARGUMENT, "Expected size[%d] in [0, %lld], but got %lld", i, (long long)(d - bi),
                                (long long)si);
        }
        begin[i] = bi;
        size[i] = si;
        step[i] = 1;
        identity &= bi == 0 && si == d;
    }
    if (identity) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    return strided_box(c, in, begin, step, size, rank, size);
}

/* ---- StridedSlice ---- */

pl_status pl__arr_prep_strided_slice(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    static const char *const masks[5] = {"begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"};
    for (int k = 0; k < 5; k++) s->i[k] = (int64_t)(uint32_t)pl_attr_int_or(p->attrs, masks[k], 0);
    return NULL;
}

#define BIT(i) ((uint64_t)1 << (i))
enum { SHRINK_AXIS = -1, NEW_AXIS = -2 };

/* The result of validation: what to copy and the shape to give it. */
typedef struct {
    int64_t begin[PL_MAX_RANK], end[PL_MAX_RANK], strides[PL_MAX_RANK];
    int64_t processing[PL_MAX_RANK];
    int final_rank;
    int64_t final_dims[PL_MAX_RANK];
    bool is_identity;
} slice_plan;

/* The dense spec: masks per input dimension, and where each final dimension
 * comes from (an input dimension, SHRINK_AXIS or NEW_AXIS). */
typedef struct {
    uint64_t begin_mask, end_mask, shrink_mask;
    int gather[64]; /* sparse entries (< 32, checked) plus ellipsis-expanded dims */
    int n_gather;
} dense_spec;

/* Steps 1 and 2: expand the ellipsis (explicit or implied at the end) and
 * new axes so there is one begin/end/stride per input dimension. *ds
 * arrives zeroed. */
static pl_status build_dense(const pl__arr_state *st, int dims, const pl_tensor *begin_t, const pl_tensor *end_t,
                             const pl_tensor *strides_t, slice_plan *plan, dense_spec *ds) {
    uint64_t begin_mask = (uint64_t)st->i[0], end_mask = (uint64_t)st->i[1], ellipsis_mask = (uint64_t)st->i[2];
    uint64_t new_axis_mask = (uint64_t)st->i[3], shrink_mask = (uint64_t)st->i[4];
    if (ellipsis_mask & (ellipsis_mask - 1))
        return pl_error(PL_INVALID_ARGUMENT, "Multiple ellipses in slice spec not allowed");
    int64_t n = strides_t->count, sparse_dims = n;
    bool ellipsis_seen = false;
    int num_add_axis_after_ellipsis = 0;
    for (int i = 0; i < n; i++) {
        if (ellipsis_seen && (BIT(i) & new_axis_mask)) num_add_axis_after_ellipsis++;
        if (BIT(i) & ellipsis_mask) ellipsis_seen = true;
    }
    if (!ellipsis_seen) {
        ellipsis_mask |= BIT(sparse_dims);
        sparse_dims++;
    }
    int full = 0;
    for (int i = 0; i < sparse_dims; i++) {
        if (BIT(i) & ellipsis_mask) {
            int64_t next = dims - (sparse_dims - i) + 1 + num_add_axis_after_ellipsis;
            if (next > dims) next = dims;
            for (; full < next; full++) {
                plan->begin[full] = plan->end[full] = 0;
                plan->strides[full] = 1;
                ds->begin_mask |= BIT(full);
                ds->end_mask |= BIT(full);
                ds->gather[ds->n_gather++] = full;
            }
        } else if (BIT(i) & new_axis_mask) {
            ds->gather[ds->n_gather++] = NEW_AXIS;
        } else {
            if (full == dims)
                return pl_error(PL_INVALID_ARGUMENT, "Index out of range using input dim %d; input has only %d dims", full,
                                dims);
            plan->begin[full] = pl__arr_int(begin_t, i);
            plan->end[full] = pl__arr_int(end_t, i);
            plan->strides[full] = pl__arr_int(strides_t, i);
            if (begin_mask & BIT(i)) ds->begin_mask |= BIT(full);
            if (end_mask & BIT(i)) ds->end_mask |= BIT(full);
            if (shrink_mask & BIT(i)) {
                ds->gather[ds->n_gather++] = SHRINK_AXIS;
                ds->shrink_mask |= BIT(full);
            } else {
                ds->gather[ds->n_gather++] = full;
            }
            full++;
        }
    }
    return NULL;
}

/* Step 3 for dimension i: canonical begin/end (masks, negative indices,
 * clamping to the valid range for the stride's direction) and its size. */
static pl_status canonical_dim(const dense_spec *ds, int i, int64_t dim_i, slice_plan *plan) {
    int64_t *begin_i = &plan->begin[i], *end_i = &plan->end[i], stride_i = plan->strides[i];
    if (stride_i == 0) return pl_error(PL_INVALID_ARGUMENT, "strides[%d] must be non-zero", i);
    bool shrink_i = ds->shrink_mask & BIT(i);
    bool masks[2] = {(ds->begin_mask & BIT(i)) != 0, (ds->end_mask & BIT(i)) != 0};
    int64_t valid[2] = {stride_i > 0 ? 0 : -1, stride_i > 0 ? dim_i : dim_i - 1};
    if (shrink_i && stride_i <= 0) return pl_error(PL_INVALID_ARGUMENT, "only stride 1 allowed on non-range indexing.");
    if (shrink_i) {
        /* foo[-1] arrives as begin -1, end 0: end is rebuilt as begin + 1. */
        int64_t x_fwd = *begin_i < 0 ? dim_i + *begin_i : *begin_i;
        if (x_fwd < 0 || x_fwd >= dim_i)
            return pl_error(PL_INVALID_ARGUMENT, "slice index %lld of dimension %d out of bounds.", (long long)x_fwd, i);
        *begin_i = x_fwd;
        *end_i = x_fwd + 1;
    } else {
        for (int k = 0; k < 2; k++) {
            int64_t *x = k == 0 ? begin_i : end_i;
            if (masks[k]) {
                *x = stride_i > 0 ? valid[k] : valid[(k + 1) & 1];
            } else {
                int64_t x_fwd = *x < 0 ? dim_i + *x : *x;
                *x = x_fwd < valid[0] ? valid[0] : x_fwd > valid[1] ? valid[1] : x_fwd;
            }
        }
    }
    plan->is_identity &= stride_i == 1 && *begin_i == 0 && *end_i == dim_i;
    int64_t interval = *end_i - *begin_i;
    if (interval == 0 || ((interval < 0) != (stride_i < 0))) plan->processing[i] = 0;
    else plan->processing[i] = interval / stride_i + (interval % stride_i != 0 ? 1 : 0);
    return NULL;
}

static pl_status validate(const pl__arr_state *st, int in_rank, const int64_t *in_dims, const pl_tensor *begin_t,
                          const pl_tensor *end_t, const pl_tensor *strides_t, slice_plan *plan) {
    char a[64], b[64], d[64];
    int64_t n = strides_t->count;
    bool begin_wrong = !(begin_t->rank == 1 && begin_t->count == n && begin_t->count < 32);
    bool end_wrong = !(end_t->rank == 1 && end_t->count == n);
    if (begin_wrong || end_wrong || strides_t->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Expected begin, end, and strides to be 1D equal size tensors, but got shapes %s, %s, and %s instead.",
                        pl__arr_shape_str(begin_t, a, sizeof a), pl__arr_shape_str(end_t, b, sizeof b),
                        pl__arr_shape_str(strides_t, d, sizeof d));
    if (!pl__arr_is_int(begin_t->dtype) || !pl__arr_is_int(end_t->dtype) || !pl__arr_is_int(strides_t->dtype))
        return pl_error(PL_INVALID_ARGUMENT, "StridedSlice: begin, end and strides must be integers");
    dense_spec ds = {0};
    PL_TRY(build_dense(st, in_rank, begin_t, end_t, strides_t, plan, &ds));
    plan->is_identity = true;
    for (int i = 0; i < in_rank; i++) PL_TRY(canonical_dim(&ds, i, in_dims[i], plan));
    /* Step 4: the final shape drops shrunk axes and adds new ones. */
    plan->final_rank = 0;
    for (int k = 0; k < ds.n_gather; k++) {
        if (ds.gather[k] == SHRINK_AXIS) continue;
        if (plan->final_rank == PL_MAX_RANK)
            return pl_error(PL_INVALID_ARGUMENT, "StridedSlice: result has more than %d dimensions", PL_MAX_RANK);
        plan->final_dims[plan->final_rank++] = ds.gather[k] >= 0 ? plan->processing[ds.gather[k]] : 1;
    }
    return NULL;
}

pl_status pl__arr_strided_slice(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    const pl_tensor *strides_t = c->inputs[3];
    slice_plan plan;
    PL_TRY(validate(c->state, in->rank, in->dims, c->inputs[1], c->inputs[2], strides_t, &plan));
    if (plan.is_identity) return pl__arr_view(c, 0, in, plan.final_rank, plan.final_dims);
    return strided_box(c, in, plan.begin, plan.strides, plan.processing, plan.final_rank, plan.final_dims);
}

/* ---- StridedSliceGrad: dy scattered into zeros of the original shape ---- */

pl_status pl__arr_strided_slice_grad(pl_kernel_ctx *c) {
    const pl_tensor *shape_t = c->inputs[0], *dy = c->inputs[4];
    char a[64], b[64];
    if (shape_t->rank != 1 || shape_t->count > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "StridedSliceGrad: shape must be a vector of at most %d dims", PL_MAX_RANK);
    PL_TRY(pl__arr_want_index(shape_t, "shape"));
    int rank = (int)shape_t->count;
    int64_t dims[PL_MAX_RANK], count;
    for (int i = 0; i < rank; i++) dims[i] = pl__arr_int(shape_t, i);
    PL_TRY(pl_shape_count(rank, dims, &count));
    slice_plan plan;
    PL_TRY(validate(c->state, rank, dims, c->inputs[1], c->inputs[2], c->inputs[3], &plan));
    bool same = plan.final_rank == dy->rank;
    for (int i = 0; same && i < dy->rank; i++) same = plan.final_dims[i] == dy->dims[i];
    if (!same)
        return pl_error(PL_INVALID_ARGUMENT, "shape of dy was %s instead of %s", pl__arr_shape_str(dy, a, sizeof a),
                        pl_shape_str(plan.final_rank, plan.final_dims, b, sizeof b));
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, dy->dtype, rank, dims, &out));
    if (dy->dtype != PL_DT_STRING && dy->dtype != PL_DT_RESOURCE && dy->dtype != PL_DT_VARIANT)
        memset(out->data, 0, pl_tensor_nbytes(out));
    int64_t strides[PL_MAX_RANK], dst_strides[PL_MAX_RANK], src_strides[PL_MAX_RANK], off = 0;
    pl__arr_strides(rank, dims, strides);
    pl__arr_strides(rank, plan.processing, src_strides);
    for (int i = 0; i < rank; i++) {
        dst_strides[i] = strides[i] * plan.strides[i];
        off += plan.begin[i] * strides[i];
    }
    return pl__arr_copy_strided(out, off, dst_strides, dy, 0, src_strides, rank, plan.processing);
}
