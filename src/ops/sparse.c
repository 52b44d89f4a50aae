/* Sparse-tensor kernels: a sparse tensor is (indices [N,rank] int64, values
 * [N], dense_shape [rank]); these reshape it, fill its empty rows, reduce
 * segments of it, and scatter it into a dense tensor, as TensorFlow does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/families.h"

static pl_status expect_int64(const pl_tensor *t, const char *name, int rank) {
    if (t->dtype != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "%s must be int64, got %s", name, pl_dtype_name(t->dtype));
    if (rank >= 0 && t->rank != rank)
        return pl_error(PL_INVALID_ARGUMENT, "%s must be rank %d, got rank %d", name, rank, t->rank);
    return NULL;
}

/* Index tensors may be int32 or int64. */
static int64_t index_at(const pl_tensor *t, int64_t i) {
    return t->dtype == PL_DT_INT32 ? ((const int32_t *)t->data)[i] : ((const int64_t *)t->data)[i];
}

/* Copies element `from` of src into element `to` of dst (same dtype). */
static pl_status copy_element(const pl_tensor *src, int64_t from, pl_tensor *dst, int64_t to) {
    if (src->dtype == PL_DT_STRING) {
        const pl_str *s = &((const pl_str *)src->data)[from];
        return pl_tensor_set_string(dst, to, s->data, s->len);
    }
    size_t es = pl_dtype_size(src->dtype);
    memcpy((char *)dst->data + to * es, (const char *)src->data + from * es, es);
    return NULL;
}

/* ---- SparseReshape ---- */

static pl_status sparse_reshape_compute(pl_kernel_ctx *c) {
    const pl_tensor *indices = c->inputs[0], *in_shape = c->inputs[1], *new_shape = c->inputs[2];
    PL_TRY(expect_int64(indices, "Input indices", 2));
    PL_TRY(expect_int64(in_shape, "Input shape", 1));
    PL_TRY(expect_int64(new_shape, "Target shape", 1));
    int64_t n = indices->dims[0], in_rank = in_shape->count, out_rank = new_shape->count;
    if (indices->dims[1] != in_rank)
        return pl_error(PL_INVALID_ARGUMENT, "Input shape should have the same number of dimensions as the indices");
    if (out_rank > PL_MAX_RANK) return pl_error(PL_INVALID_ARGUMENT, "Target shape has too many dimensions");
    const int64_t *ish = in_shape->data, *tsh = new_shape->data;
    int64_t dense = 1, product = 1, unknown = -1, out_dims[PL_MAX_RANK];
    for (int64_t d = 0; d < in_rank; d++) {
        if (ish[d] < 0 || (ish[d] && dense > INT64_MAX / ish[d])) return pl_error(PL_INVALID_ARGUMENT, "Input shape is invalid");
        dense *= ish[d];
    }
    for (int64_t d = 0; d < out_rank; d++) {
        if (tsh[d] == -1) {
            if (unknown >= 0) return pl_error(PL_INVALID_ARGUMENT, "only one output dimension may be -1, not both %lld and %lld", (long long)unknown, (long long)d);
            unknown = d;
        } else if (tsh[d] < 0) {
            return pl_error(PL_INVALID_ARGUMENT, "size %lld must be non-negative, not %lld", (long long)d, (long long)tsh[d]);
        } else {
            if (tsh[d] && product > INT64_MAX / tsh[d]) return pl_error(PL_INVALID_ARGUMENT, "Target shape is too large");
            product *= tsh[d];
        }
        out_dims[d] = tsh[d];
    }
    if (unknown >= 0) {
        if (product == 0 || dense % product)
            return pl_error(PL_INVALID_ARGUMENT,
                            "Input to reshape is a SparseTensor with %lld dense values, but the requested shape requires a "
                            "multiple of %lld",
                            (long long)dense, (long long)product);
        out_dims[unknown] = dense / product;
    } else if (product != dense) {
        return pl_error(PL_INVALID_ARGUMENT,
                        "Input to reshape is a tensor with %lld dense values, but the requested shape has %lld",
                        (long long)dense, (long long)product);
    }
    pl_tensor *out_idx, *out_shape;
    int64_t idims[2] = {n, out_rank}, sdims[1] = {out_rank};
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_INT64, 2, idims, &out_idx));
    PL_TRY(pl_ctx_alloc_output(c, 1, PL_DT_INT64, 1, sdims, &out_shape));
    memcpy(out_shape->data, out_dims, (size_t)out_rank * sizeof(int64_t));
    const int64_t *in = indices->data;
    int64_t *out = out_idx->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t linear = 0;
        for (int64_t d = 0; d < in_rank; d++) {
            /* In bounds, the linear index stays below the dense count, which fits. */
            int64_t index = in[i * in_rank + d];
            if (index < 0 || index >= ish[d])
                return pl_error(PL_INVALID_ARGUMENT, "Input indices[%lld, %lld] = %lld is out of bounds: need 0 <= index < %lld",
                                (long long)i, (long long)d, (long long)index, (long long)ish[d]);
            linear = linear * ish[d] + index;
        }
        for (int64_t d = out_rank; d-- > 0;) {
            out[i * out_rank + d] = out_dims[d] ? linear % out_dims[d] : 0;
            linear = out_dims[d] ? linear / out_dims[d] : 0;
        }
    }
    return NULL;
}

/* ---- SparseFillEmptyRows ---- */

static pl_status fill_empty_rows_compute(pl_kernel_ctx *c) {
    const pl_tensor *indices = c->inputs[0], *values = c->inputs[1], *shape = c->inputs[2], *dflt = c->inputs[3];
    PL_TRY(expect_int64(indices, "indices", 2));
    PL_TRY(expect_int64(shape, "dense_shape", 1));
    if (values->rank != 1 || values->dims[0] != indices->dims[0])
        return pl_error(PL_INVALID_ARGUMENT, "values must be a vector with one value per index");
    if (dflt->count != 1 || dflt->dtype != values->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "default_value must be a scalar of the values' type");
    if (shape->count < 1 || indices->dims[1] != shape->count)
        return pl_error(PL_INVALID_ARGUMENT, "dense_shape must have one entry per index dimension");
    int64_t n = indices->dims[0], rank = shape->count, rows = ((const int64_t *)shape->data)[0];
    if (rows < 0) return pl_error(PL_INVALID_ARGUMENT, "Dense shape cannot be negative");
    const int64_t *ix = indices->data;
    int64_t *per_row = calloc((size_t)rows + 1, sizeof *per_row);
    if (!per_row) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    int64_t empty = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = ix[i * rank];
        if (r < 0 || r >= rows) {
            free(per_row);
            return pl_error(PL_INVALID_ARGUMENT, "indices(%lld, 0) is invalid: %lld >= %lld", (long long)i, (long long)r, (long long)rows);
        }
        per_row[r]++;
    }
    for (int64_t r = 0; r < rows; r++) empty += per_row[r] == 0;
    /* Output position of each row's first entry: rows in order, entries of a row in input order. */
    int64_t *start = malloc(((size_t)rows + 1) * sizeof *start);
    pl_tensor *oi, *ov, *ind, *rmap;
    int64_t total = n + empty, idims[2] = {total, rank}, vdims[1] = {total}, rdims[1] = {rows}, mdims[1] = {n};
    pl_status st = start ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st) st = pl_ctx_alloc_output(c, 0, PL_DT_INT64, 2, idims, &oi);
    if (!st) st = pl_ctx_alloc_output(c, 1, values->dtype, 1, vdims, &ov);
    if (!st) st = pl_ctx_alloc_output(c, 2, PL_DT_BOOL, 1, rdims, &ind);
    if (!st) st = pl_ctx_alloc_output(c, 3, PL_DT_INT64, 1, mdims, &rmap);
    if (!st) {
        int64_t at = 0;
        for (int64_t r = 0; r < rows; r++) {
            start[r] = at;
            ((uint8_t *)ind->data)[r] = per_row[r] == 0;
            at += per_row[r] ? per_row[r] : 1;
        }
        int64_t *oix = oi->data;
        for (int64_t r = 0; r < rows && !st; r++) /* empty rows get (r, 0, ...) and the default */
            if (!per_row[r]) {
                memset(&oix[start[r] * rank], 0, (size_t)rank * sizeof(int64_t));
                oix[start[r] * rank] = r;
                st = copy_element(dflt, 0, ov, start[r]);
            }
        for (int64_t i = 0; i < n && !st; i++) {
            int64_t r = ix[i * rank], to = start[r]++;
            memcpy(&oix[to * rank], &ix[i * rank], (size_t)rank * sizeof(int64_t));
            ((int64_t *)rmap->data)[i] = to;
            st = copy_element(values, i, ov, to);
        }
    }
    free(start);
    free(per_row);
    return st;
}

/* ---- SparseSegmentSum / Mean / SqrtN (and the WithNumSegments forms) ---- */

typedef enum { SEG_SUM, SEG_MEAN, SEG_SQRTN } seg_kind;

static pl_status segment_reduce(pl_kernel_ctx *c, seg_kind kind, bool with_num) {
    const pl_tensor *data = c->inputs[0], *indices = c->inputs[1], *ids = c->inputs[2];
    if (data->dtype != PL_DT_FLOAT && data->dtype != PL_DT_DOUBLE)
        return pl_error(PL_UNIMPLEMENTED, "sparse segment reductions of %s are not supported", pl_dtype_name(data->dtype));
    if (data->rank < 1) return pl_error(PL_INVALID_ARGUMENT, "data must be at least rank 1");
    if (indices->rank != 1 || ids->rank != 1 || indices->count != ids->count)
        return pl_error(PL_INVALID_ARGUMENT, "segment_ids and indices should have same size.");
    int64_t k = ids->count, rows = data->dims[0], inner = rows ? data->count / rows : 0;
    int64_t segments = k ? index_at(ids, k - 1) + 1 : 0;
    if (with_num) {
        const pl_tensor *num = c->inputs[3];
        if (num->count != 1) return pl_error(PL_INVALID_ARGUMENT, "num_segments should be a scalar");
        int64_t want = index_at(num, 0);
        if (want < segments) return pl_error(PL_INVALID_ARGUMENT, "segment ids must be < num_segments");
        segments = want;
    }
    for (int64_t i = 0; i < k; i++) {
        int64_t s = index_at(ids, i), x = index_at(indices, i);
        if (s < 0 || (i && s < index_at(ids, i - 1))) return pl_error(PL_INVALID_ARGUMENT, "segment ids are not increasing");
        if (x < 0 || x >= rows)
            return pl_error(PL_INVALID_ARGUMENT, "Bad: indices[%lld] == %lld out of range [0, %lld)", (long long)i, (long long)x, (long long)rows);
    }
    int64_t dims[PL_MAX_RANK];
    memcpy(dims, data->dims, sizeof dims);
    dims[0] = segments;
    pl_tensor *out;
    PL_TRY(pl_tensor_zeros(data->dtype, data->rank, dims, &out));
    pl_ctx_set_output(c, 0, out);
    int64_t *count = calloc((size_t)segments + 1, sizeof *count);
    if (!count) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    bool f32 = data->dtype == PL_DT_FLOAT;
    for (int64_t i = 0; i < k; i++) {
        int64_t s = index_at(ids, i), x = index_at(indices, i);
        count[s]++;
        for (int64_t j = 0; j < inner; j++) {
            if (f32) ((float *)out->data)[s * inner + j] += ((const float *)data->data)[x * inner + j];
            else ((double *)out->data)[s * inner + j] += ((const double *)data->data)[x * inner + j];
        }
    }
    for (int64_t s = 0; s < segments && kind != SEG_SUM; s++) {
        if (!count[s]) continue;
        double scale = kind == SEG_MEAN ? 1.0 / (double)count[s] : 1.0 / sqrt((double)count[s]);
        for (int64_t j = 0; j < inner; j++) {
            if (f32) ((float *)out->data)[s * inner + j] *= (float)scale;
            else ((double *)out->data)[s * inner + j] *= scale;
        }
    }
    free(count);
    return NULL;
}

static pl_status segment_sum(pl_kernel_ctx *c) { return segment_reduce(c, SEG_SUM, false); }
static pl_status segment_mean(pl_kernel_ctx *c) { return segment_reduce(c, SEG_MEAN, false); }
static pl_status segment_sqrtn(pl_kernel_ctx *c) { return segment_reduce(c, SEG_SQRTN, false); }
static pl_status segment_sum_n(pl_kernel_ctx *c) { return segment_reduce(c, SEG_SUM, true); }
static pl_status segment_mean_n(pl_kernel_ctx *c) { return segment_reduce(c, SEG_MEAN, true); }
static pl_status segment_sqrtn_n(pl_kernel_ctx *c) { return segment_reduce(c, SEG_SQRTN, true); }

/* ---- SparseToDense ---- */

static pl_status sparse_to_dense_compute(pl_kernel_ctx *c) {
    const pl_tensor *indices = c->inputs[0], *shape = c->inputs[1], *values = c->inputs[2], *dflt = c->inputs[3];
    bool validate = *(const bool *)c->state;
    if (indices->rank > 2) return pl_error(PL_INVALID_ARGUMENT, "sparse_indices should be a scalar, vector, or matrix");
    if (shape->rank != 1 || shape->count > PL_MAX_RANK) return pl_error(PL_INVALID_ARGUMENT, "output_shape should be a vector");
    int64_t n = indices->rank == 0 ? 1 : indices->dims[0], rank = indices->rank == 2 ? indices->dims[1] : 1;
    if (rank != shape->count)
        return pl_error(PL_INVALID_ARGUMENT, "sparse_indices has %lld dimensions but output_shape has %lld",
                        (long long)rank, (long long)shape->count);
    if (values->count != n && values->count != 1)
        return pl_error(PL_INVALID_ARGUMENT, "sparse_values has incorrect shape %lld, should be [] or [%lld]", (long long)values->count, (long long)n);
    if (dflt->count != 1 || dflt->dtype != values->dtype) return pl_error(PL_INVALID_ARGUMENT, "default_value should be a scalar");
    int64_t dims[PL_MAX_RANK];
    for (int64_t d = 0; d < rank; d++) dims[d] = index_at(shape, d);
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, values->dtype, (int)rank, dims, &out));
    for (int64_t i = 0; i < out->count; i++) PL_TRY(copy_element(dflt, 0, out, i));
    int64_t prev = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t linear = 0;
        for (int64_t d = 0; d < rank; d++) {
            int64_t v = index_at(indices, i * rank + d);
            if (v < 0 || v >= dims[d])
                return pl_error(PL_INVALID_ARGUMENT, "indices[%lld] is out of bounds: need 0 <= index < [%lld]", (long long)i, (long long)dims[d]);
            linear = linear * dims[d] + v;
        }
        if (validate && linear < prev) return pl_error(PL_INVALID_ARGUMENT, "indices[%lld] is out of order. Many sparse ops require sorted indices.", (long long)i);
        if (validate && linear == prev) return pl_error(PL_INVALID_ARGUMENT, "indices[%lld] is repeated", (long long)i);
        prev = linear;
        PL_TRY(copy_element(values, values->count == 1 ? 0 : i, out, linear));
    }
    return NULL;
}

static pl_status sparse_to_dense_prepare(pl_kernel_prep *p) {
    bool *validate = malloc(sizeof *validate);
    if (!validate) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    *validate = pl_attr_bool_or(p->attrs, "validate_indices", true);
    p->state = validate;
    return NULL;
}

static pl_status two_outputs(pl_kernel_prep *p) {
    if (p->num_outputs < 2) p->num_outputs = 2;
    return NULL;
}

static pl_status four_outputs(pl_kernel_prep *p) {
    if (p->num_outputs < 4) p->num_outputs = 4;
    return NULL;
}

const pl_kernel_def pl_kernels_sparse[] = {
    {.op = "SparseReshape", .prepare = two_outputs, .compute = sparse_reshape_compute},
    {.op = "SparseFillEmptyRows", .prepare = four_outputs, .compute = fill_empty_rows_compute},
    {.op = "SparseSegmentSum", .compute = segment_sum},
    {.op = "SparseSegmentMean", .compute = segment_mean},
    {.op = "SparseSegmentSqrtN", .compute = segment_sqrtn},
    {.op = "SparseSegmentSumWithNumSegments", .compute = segment_sum_n},
    {.op = "SparseSegmentMeanWithNumSegments", .compute = segment_mean_n},
    {.op = "SparseSegmentSqrtNWithNumSegments", .compute = segment_sqrtn_n},
    {.op = "SparseToDense", .prepare = sparse_to_dense_prepare, .compute = sparse_to_dense_compute, .release = free},
    {0},
};
