/* Joining and splitting along an axis: ConcatV2, Concat, Pack, Unpack, Split,
 * SplitV and ConcatOffset. Each is a sequence of contiguous row copies: with
 * `outer` rows before the axis, every input contributes one run per row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/array_internal.h"

static int64_t prod(const int64_t *dims, int from, int to) {
    int64_t n = 1;
    for (int i = from; i < to; i++) n *= dims[i];
    return n;
}

/* out row r = concatenation of ins[k] row r (runs[k] elements each): one
 * strided copy per input, so short runs take the engine's fixed-size path. */
static pl_status join_rows(pl_tensor *out, pl_tensor *const *ins, int n, int64_t outer, const int64_t *runs) {
    int64_t row = 0;
    for (int k = 0; k < n; k++) row += runs[k];
    int64_t off = 0;
    for (int k = 0; k < n; k++) {
        int64_t dims[2] = {outer, runs[k]}, dst_strides[2] = {row, 1}, src_strides[2] = {runs[k], 1};
        PL_TRY(pl__arr_copy_strided(out, off, dst_strides, ins[k], 0, src_strides, 2, dims));
        off += runs[k];
    }
    return NULL;
}

/* outs[k] row r = the runs[k] elements of `in` row r after runs[0..k). */
static pl_status split_rows(pl_tensor *const *outs, int n, const pl_tensor *in, int64_t outer, const int64_t *runs) {
    int64_t row = 0;
    for (int k = 0; k < n; k++) row += runs[k];
    int64_t off = 0;
    for (int k = 0; k < n; k++) {
        int64_t dims[2] = {outer, runs[k]}, dst_strides[2] = {runs[k], 1}, src_strides[2] = {row, 1};
        PL_TRY(pl__arr_copy_strided(outs[k], 0, dst_strides, in, off, src_strides, 2, dims));
        off += runs[k];
    }
    return NULL;
}

/* ---- ConcatV2 / Concat (TensorFlow's concat_op.cc) ---- */

static pl_status concat(pl_kernel_ctx *c, pl_tensor *const *values, int n, const pl_tensor *axis_t) {
    char a[160], b[160];
    if (axis_t->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "Concat dim tensor should be a scalar, but got shape %s",
                        pl__arr_shape_str(axis_t, a, sizeof a));
    PL_TRY(pl__arr_want_index(axis_t, "Concat dim tensor"));
    if (n < 1) return pl_error(PL_INVALID_ARGUMENT, "ConcatOp : Expected at least one input");
    const pl_tensor *first = values[0];
    int rank = first->rank;
    int64_t concat_dim = pl__arr_int(axis_t, 0);
    int64_t axis = concat_dim < 0 ? concat_dim + rank : concat_dim;
    /* Legacy: a list of scalars concatenates into a vector along axis 0. */
    bool scalars = rank == 0 && concat_dim == 0;
    if (!(axis >= 0 && axis < rank) && !scalars)
        return pl_error(PL_INVALID_ARGUMENT,
                        "ConcatOp : Expected concatenating dimensions in the range [%d, %d), but got %lld", -rank, rank,
                        (long long)concat_dim);
    int64_t out_axis = 0;
    for (int i = 0; i < n; i++) {
        const pl_tensor *in = values[i];
        if (in->dtype != first->dtype)
            return pl_error(PL_INVALID_ARGUMENT, "ConcatOp : input %d is %s, expected %s", i, pl_dtype_name(in->dtype),
                            pl_dtype_name(first->dtype));
        if (in->rank != rank)
            return pl_error(PL_INVALID_ARGUMENT,
                            "ConcatOp : Ranks of all input tensors should match: shape[0] = %s vs. shape[%d] = %s",
                            pl__arr_shape_str(first, a, sizeof a), i, pl__arr_shape_str(in, b, sizeof b));
        for (int j = 0; j < rank; j++)
            if (j != axis && in->dims[j] != first->dims[j])
                return pl_error(PL_INVALID_ARGUMENT,
                                "ConcatOp : Dimension %d in both shapes must be equal: shape[0] = %s vs. shape[%d] = %s", j,
                                pl__arr_shape_str(first, a, sizeof a), i, pl__arr_shape_str(in, b, sizeof b));
        out_axis += scalars ? 1 : in->dims[axis];
    }
    if (n == 1) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    int64_t dims[PL_MAX_RANK];
    int out_rank = scalars ? 1 : rank;
    if (scalars) axis = 0;
    for (int j = 0; j < rank; j++) dims[j] = first->dims[j];
    dims[axis] = out_axis;
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, first->dtype, out_rank, dims, &out));
    int64_t outer = scalars ? 1 : prod(first->dims, 0, (int)axis);
    int64_t *runs = malloc((size_t)n * sizeof *runs);
    if (!runs) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < n; i++) runs[i] = scalars ? 1 : prod(values[i]->dims, (int)axis, rank);
    pl_status st = join_rows(out, values, n, outer, runs);
    free(runs);
    return st;
}

pl_status pl__arr_concat_v2(pl_kernel_ctx *c) {
    return concat(c, c->inputs, c->num_inputs - 1, c->inputs[c->num_inputs - 1]);
}

pl_status pl__arr_concat(pl_kernel_ctx *c) { return concat(c, c->inputs + 1, c->num_inputs - 1, c->inputs[0]); }

/* ---- Pack / Unpack ---- */

pl_status pl__arr_prep_axis(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    s->i[0] = pl_attr_int_or(p->attrs, "axis", 0);
    /* Unpack's "num" and Split's "num_split" say how many outputs there are. */
    const char *count = pl_attr_has(p->attrs, "num") ? "num" : pl_attr_has(p->attrs, "num_split") ? "num_split" : NULL;
    if (count) {
        PL_TRY(pl_attr_int(p->attrs, count, &s->i[1]));
        if (s->i[1] < 0 || s->i[1] > 1 << 20)
            return pl_error(PL_INVALID_ARGUMENT, "%s: %s = %lld is out of range", p->op, count, (long long)s->i[1]);
        if (p->num_outputs < s->i[1]) p->num_outputs = (int)s->i[1];
    }
    return NULL;
}

pl_status pl__arr_pack(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    int n = c->num_inputs;
    const pl_tensor *first = c->inputs[0];
    int expanded = first->rank + 1;
    for (int i = 1; i < n; i++) {
        const pl_tensor *in = c->inputs[i];
        if (!pl_tensor_same_shape(in, first) || in->dtype != first->dtype) {
            char a[160], b[160];
            return pl_error(PL_INVALID_ARGUMENT,
                            "Shapes of all inputs must match: values[0].shape = %s != values[%d].shape = %s",
                            pl__arr_shape_str(first, a, sizeof a), i, pl__arr_shape_str(in, b, sizeof b));
        }
    }
    int64_t axis = s->i[0] < 0 ? s->i[0] + expanded : s->i[0];
    if (axis < 0 || axis >= expanded)
        return pl_error(PL_INVALID_ARGUMENT, "axis = %lld not in [%d, %d)", (long long)s->i[0], -expanded, expanded);
    if (expanded > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "Pack: rank %d is the most supported", PL_MAX_RANK);
    int64_t dims[PL_MAX_RANK];
    for (int i = 0, r = 0; i < expanded; i++) dims[i] = i == axis ? n : first->dims[r++];
    if (n == 1) return pl__arr_view(c, 0, c->inputs[0], expanded, dims);
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, first->dtype, expanded, dims, &out));
    int64_t *runs = malloc((size_t)n * sizeof *runs);
    if (!runs) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    int64_t run = prod(first->dims, (int)axis, first->rank);
    for (int i = 0; i < n; i++) runs[i] = run;
    pl_status st = join_rows(out, c->inputs, n, prod(first->dims, 0, (int)axis), runs);
    free(runs);
    return st;
}

pl_status pl__arr_unpack(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *in = c->inputs[0];
    int64_t axis = s->i[0] < 0 ? s->i[0] + in->rank : s->i[0];
    char a[160];
    if (axis < 0 || axis >= in->rank)
        return pl_error(PL_INVALID_ARGUMENT, "axis = %lld not in [%d, %d)", (long long)s->i[0], -in->rank, in->rank);
    int64_t num = s->i[1];
    if (in->dims[axis] != num)
        return pl_error(PL_INVALID_ARGUMENT, "Input shape axis %lld must equal %lld, got shape %s", (long long)axis,
                        (long long)num, pl__arr_shape_str(in, a, sizeof a));
    int64_t dims[PL_MAX_RANK];
    for (int i = 0, r = 0; i < in->rank; i++)
        if (i != axis) dims[r++] = in->dims[i];
    int64_t outer = prod(in->dims, 0, (int)axis), run = prod(in->dims, (int)axis + 1, in->rank);
    for (int64_t k = 0; k < num; k++) {
        pl_tensor *out;
        PL_TRY(pl_ctx_alloc_output(c, (int)k, in->dtype, in->rank - 1, dims, &out));
        int64_t box[2] = {outer, run}, dst_strides[2] = {run, 1}, src_strides[2] = {num * run, 1};
        PL_TRY(pl__arr_copy_strided(out, 0, dst_strides, in, k * run, src_strides, 2, box));
    }
    return NULL;
}

/* ---- Split / SplitV (split_op.cc, split_v_op.cc) ---- */

static pl_status split_axis(const pl_tensor *in, const pl_tensor *dim_t, int64_t *axis) {
    if (dim_t->count != 1) return pl_error(PL_INVALID_ARGUMENT, "split_dim_tensor must have exactly one element.");
    PL_TRY(pl__arr_want_index(dim_t, "split_dim"));
    int64_t orig = pl__arr_int(dim_t, 0);
    *axis = orig < 0 ? orig + in->rank : orig;
    if (*axis < 0 || *axis >= in->rank)
        return pl_error(PL_INVALID_ARGUMENT, "-input rank(-%d) <= split_dim < input rank (%d), but got %lld", in->rank,
                        in->rank, (long long)orig);
    return NULL;
}

/* Splits `in` along axis into n outputs of sizes[k]; frees sizes. */
static pl_status split_by_sizes(pl_kernel_ctx *c, const pl_tensor *in, int64_t axis, int64_t *sizes, int n) {
    pl_status st = NULL;
    pl_tensor **outs = malloc((size_t)n * sizeof *outs);
    int64_t dims[PL_MAX_RANK];
    memcpy(dims, in->dims, sizeof dims);
    int64_t inner = prod(in->dims, (int)axis + 1, in->rank);
    if (!outs) {
        st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (int k = 0; k < n && !st; k++) {
        dims[axis] = sizes[k];
        st = pl_ctx_alloc_output(c, k, in->dtype, in->rank, dims, &outs[k]);
        sizes[k] *= inner;
    }
    if (!st) st = split_rows(outs, n, in, prod(in->dims, 0, (int)axis), sizes);
done:
    free(outs);
    free(sizes);
    return st;
}

static pl_status new_sizes(int64_t n, int64_t **out) {
    *out = malloc((size_t)(n > 0 ? n : 1) * sizeof **out);
    return *out ? NULL : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
}

pl_status pl__arr_split(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *in = c->inputs[1];
    int64_t axis;
    PL_TRY(split_axis(in, c->inputs[0], &axis));
    int64_t num = s->i[1];
    if (num <= 0)
        return pl_error(PL_INVALID_ARGUMENT, "Number of ways to split should be > 0, but got %lld", (long long)num);
    if (in->dims[axis] % num != 0)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Number of ways to split should evenly divide the split dimension, but got split_dim %lld (size = "
                        "%lld) and num_split %lld",
                        (long long)axis, (long long)in->dims[axis], (long long)num);
    if (num == 1) {
        pl_ctx_forward(c, 1, 0);
        return NULL;
    }
    int64_t *sizes;
    PL_TRY(new_sizes(num, &sizes));
    for (int64_t k = 0; k < num; k++) sizes[k] = in->dims[axis] / num;
    return split_by_sizes(c, in, axis, sizes, (int)num);
}

pl_status pl__arr_split_v(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *in = c->inputs[0], *sizes_t = c->inputs[1];
    int64_t num = s->i[1];
    if (sizes_t->rank != 1 || sizes_t->count != num)
        return pl_error(PL_INVALID_ARGUMENT,
                        "size of the split_tensor must be 1-D and have the same elements as outputs got %d -D and %lld "
                        "elements",
                        sizes_t->rank, (long long)sizes_t->count);
    PL_TRY(pl__arr_want_index(sizes_t, "size_splits"));
    int64_t axis;
    PL_TRY(split_axis(in, c->inputs[2], &axis));
    int64_t total = in->dims[axis];
    if (num == 1) {
        if (pl__arr_int(sizes_t, 0) != total)
            return pl_error(PL_INVALID_ARGUMENT,
                            "If there is only one output, it must have the same size as the input. Input size: %lld output "
                            "size: %lld",
                            (long long)total, (long long)pl__arr_int(sizes_t, 0));
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    int64_t *sizes;
    PL_TRY(new_sizes(num, &sizes));
    int neg = -1;
    int64_t determined = 0;
    for (int k = 0; k < num; k++) {
        sizes[k] = pl__arr_int(sizes_t, k);
        if (sizes[k] == -1) {
            if (neg != -1) {
                free(sizes);
                return pl_error(PL_INVALID_ARGUMENT, "There can only be one -1 in the input.");
            }
            neg = k;
        } else {
            determined += sizes[k];
        }
    }
    if (!((neg == -1 && determined == total) || (neg >= 0 && determined <= total))) {
        free(sizes);
        return pl_error(PL_INVALID_ARGUMENT,
                        "Determined shape must either match input shape along split_dim exactly if fully specified, or be "
                        "less than the size of the input along split_dim if not fully specified.  Got: %lld",
                        (long long)determined);
    }
    if (neg >= 0) sizes[neg] = total - determined;
    for (int k = 0; k < num; k++)
        if (sizes[k] < 0) {
            pl_status st = pl_error(PL_INVALID_ARGUMENT, "Split size at index %d must be >= 0. Got: %lld", k,
                                    (long long)sizes[k]);
            free(sizes);
            return st;
        }
    return split_by_sizes(c, in, axis, sizes, (int)num);
}

/* ---- ConcatOffset ---- */

pl_status pl__arr_prep_concat_offset(pl_kernel_prep *p) {
    if (p->num_outputs < p->num_inputs - 1) p->num_outputs = p->num_inputs - 1;
    return NULL;
}

pl_status pl__arr_concat_offset(pl_kernel_ctx *c) {
    const pl_tensor *dim_t = c->inputs[0];
    char a[160];
    if (dim_t->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "Concat dim tensor should be a scalar integer, but got shape %s",
                        pl__arr_shape_str(dim_t, a, sizeof a));
    int n = c->num_inputs - 1;
    const pl_tensor *s0 = c->inputs[1];
    if (s0->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "input 0 should be a vector, but got shape %s",
                        pl__arr_shape_str(s0, a, sizeof a));
    int64_t dims = s0->count;
    int64_t cdim = pl__arr_int(dim_t, 0);
    int64_t axis = cdim < 0 ? cdim + dims : cdim;
    if (axis < 0 || axis >= dims)
        return pl_error(PL_INVALID_ARGUMENT, "Concat dim is out of range: %lld vs. %lld", (long long)cdim, (long long)dims);
    int64_t offset = 0;
    for (int i = 0; i < n; i++) {
        const pl_tensor *s = c->inputs[1 + i];
        if (s->rank != 1 || s->count != dims)
            return pl_error(PL_INVALID_ARGUMENT, "input %d should contain %lld elements, but got %lld", i,
                            (long long)dims, (long long)s->count);
        pl_tensor *out;
        PL_TRY(pl_ctx_alloc_output(c, i, s->dtype, 1, &dims, &out));
        for (int64_t j = 0; j < dims; j++) {
            int64_t v;
            if (j == axis) {
                v = offset;
                offset = (int64_t)((uint64_t)offset + (uint64_t)pl__arr_int(s, j)); /* wraps like TF's int32 */
            } else {
                if (pl__arr_int(s, j) != pl__arr_int(s0, j)) {
                    char b[160];
                    return pl_error(PL_INVALID_ARGUMENT,
                                    "All dimensions except %lld must match. Input %d has shape %s and doesn't match "
                                    "input 0 with shape %s.",
                                    (long long)axis, i, pl__arr_values_str(s, " ", a, sizeof a),
                                    pl__arr_values_str(s0, " ", b, sizeof b));
                }
                v = 0;
            }
            if (s->dtype == PL_DT_INT32) ((int32_t *)out->data)[j] = (int32_t)v;
            else ((int64_t *)out->data)[j] = v;
        }
    }
    return NULL;
}
