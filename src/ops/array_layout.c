/* Ops that rearrange elements without changing them: Transpose,
 * ConjugateTranspose, ReverseV2, Reverse, ReverseSequence, Tile and
 * BroadcastTo, plus MatrixBandPart (a band kept, the rest zeroed). Each
 * describes its output as a strided view of the input and hands it to the
 * copy engine. */
#include <stdio.h>
#include <string.h>

#include "ops/array_internal.h"

/* A dense copy of `in` read through (src_off, src_strides) over `dims`. */
static pl_status gather_view(pl_kernel_ctx *c, const pl_tensor *in, int64_t src_off, const int64_t *src_strides,
                             int view_rank, const int64_t *view_dims, int out_rank, const int64_t *out_dims,
                             pl_tensor **out_t) {
    int64_t dst_strides[PL__ARR_MAX_VIEW];
    pl__arr_strides(view_rank, view_dims, dst_strides);
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, out_rank, out_dims, &out));
    if (out_t) *out_t = out;
    return pl__arr_copy_strided(out, 0, dst_strides, in, src_off, src_strides, view_rank, view_dims);
}

/* ---- Transpose / ConjugateTranspose (transpose_op.cc) ---- */

static void conjugate(pl_tensor *t) {
    if (t->dtype == PL_DT_COMPLEX64) {
        float *v = t->data;
        for (int64_t i = 0; i < t->count; i++) v[2 * i + 1] = -v[2 * i + 1];
    } else if (t->dtype == PL_DT_COMPLEX128) {
        double *v = t->data;
        for (int64_t i = 0; i < t->count; i++) v[2 * i + 1] = -v[2 * i + 1];
    }
}

static pl_status transpose(pl_kernel_ctx *c, bool conj) {
    pl_tensor *in = c->inputs[0];
    const pl_tensor *perm_t = c->inputs[1];
    char buf[64];
    if (perm_t->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "perm must be rank 1, got shape %s", pl__arr_shape_str(perm_t, buf, sizeof buf));
    PL_TRY(pl__arr_want_index(perm_t, "perm"));
    int dims = in->rank;
    if (perm_t->count != dims)
        return pl_error(PL_INVALID_ARGUMENT, "transpose expects a vector of size %d. But input(1) is a vector of size %lld",
                        dims, (long long)perm_t->count);
    int64_t perm[PL_MAX_RANK];
    bool seen[PL_MAX_RANK] = {false};
    bool identity = true;
    for (int i = 0; i < dims; i++) {
        int64_t d = pl__arr_int(perm_t, i);
        if (d < 0 || d >= dims) return pl_error(PL_INVALID_ARGUMENT, "%lld is out of range [0 .. %d)", (long long)d, dims);
        perm[i] = d;
        seen[d] = true;
        identity &= d == i;
    }
    for (int i = 0; i < dims; i++)
        if (!seen[i]) {
            char list[200];
            pl__arr_values_str(perm_t, ",", list, sizeof list);
            list[strlen(list) - 1] = '\0'; /* TensorFlow writes {0,1,1} where the summary has [0,1,1] */
            return pl_error(PL_INVALID_ARGUMENT, "%d is missing from {%s}.", i, list + 1);
        }
    bool is_complex = in->dtype == PL_DT_COMPLEX64 || in->dtype == PL_DT_COMPLEX128;
    if (identity && !(conj && is_complex)) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    int64_t in_strides[PL_MAX_RANK], src_strides[PL_MAX_RANK], out_dims[PL_MAX_RANK];
    pl__arr_strides(dims, in->dims, in_strides);
    for (int i = 0; i < dims; i++) {
        out_dims[i] = in->dims[perm[i]];
        src_strides[i] = in_strides[perm[i]];
    }
    pl_tensor *out;
    PL_TRY(gather_view(c, in, 0, src_strides, dims, out_dims, dims, out_dims, &out));
    if (conj) conjugate(out);
    return NULL;
}

pl_status pl__arr_transpose(pl_kernel_ctx *c) { return transpose(c, false); }
pl_status pl__arr_conjugate_transpose(pl_kernel_ctx *c) { return transpose(c, true); }

/* ---- ReverseV2 (reverse_op.cc) ---- */

static pl_status reverse_dims(pl_kernel_ctx *c, const bool *rev) {
    pl_tensor *in = c->inputs[0];
    int dims = in->rank;
    int64_t strides[PL_MAX_RANK], off = 0;
    bool any = false;
    pl__arr_strides(dims, in->dims, strides);
    for (int i = 0; i < dims; i++)
        if (rev[i] && in->dims[i] > 1) {
            off += (in->dims[i] - 1) * strides[i];
            strides[i] = -strides[i];
            any = true;
        }
    if (!any) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    return gather_view(c, in, off, strides, dims, in->dims, dims, in->dims, NULL);
}

pl_status pl__arr_reverse_v2(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    const pl_tensor *axis_t = c->inputs[1];
    /* Scalars and empty tensors come back as they are, whatever the axes say. */
    if (in->rank == 0 || in->count == 0) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    if (axis_t->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "'dims' must be 1-dimension, not %d", axis_t->rank);
    PL_TRY(pl__arr_want_index(axis_t, "axis"));
    int dims = in->rank;
    bool rev[PL_MAX_RANK] = {false};
    for (int64_t i = 0; i < axis_t->count; i++) {
        int64_t a = pl__arr_int(axis_t, i);
        int64_t canon = a < 0 ? a + dims : a;
        /* The unclosed bracket is TensorFlow's text. */
        if (canon < 0 || canon >= dims)
            return pl_error(PL_INVALID_ARGUMENT, "'axis'[%lld] = %lld is out of valid range [0, %d", (long long)i,
                            (long long)a, dims - 1);
        if (rev[canon]) return pl_error(PL_INVALID_ARGUMENT, "axis %lld specified more than once.", (long long)canon);
        rev[canon] = true;
    }
    return reverse_dims(c, rev);
}

/* Reverse (v1): one bool per dimension. */
pl_status pl__arr_reverse(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    const pl_tensor *dims_t = c->inputs[1];
    if (in->rank == 0) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    if (dims_t->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "'dims' must be 1-dimension, not %d", dims_t->rank);
    if (dims_t->dtype != PL_DT_BOOL) return pl_error(PL_INVALID_ARGUMENT, "Reverse: 'dims' must be bool");
    if (dims_t->dims[0] != in->rank)
        return pl_error(PL_INVALID_ARGUMENT,
                        "'dims' must have the same number of values as 'input' has dimensions. 'input' has %d'dims' has "
                        "%lld values",
                        in->rank, (long long)dims_t->dims[0]);
    bool rev[PL_MAX_RANK];
    for (int i = 0; i < in->rank; i++) rev[i] = ((const uint8_t *)dims_t->data)[i] != 0;
    return reverse_dims(c, rev);
}

/* ---- ReverseSequence (reverse_sequence_op.cc) ---- */

pl_status pl__arr_prep_reverse_sequence(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    PL_TRY(pl_attr_int(p->attrs, "seq_dim", &s->i[0]));
    s->i[1] = pl_attr_int_or(p->attrs, "batch_dim", 0);
    return NULL;
}

pl_status pl__arr_reverse_sequence(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    pl_tensor *in = c->inputs[0];
    const pl_tensor *lens = c->inputs[1];
    int64_t seq_dim = s->i[0], batch_dim = s->i[1];
    if (batch_dim == seq_dim) return pl_error(PL_INVALID_ARGUMENT, "batch_dim == seq_dim == %lld", (long long)seq_dim);
    if (seq_dim < 0 || seq_dim >= in->rank)
        return pl_error(PL_INVALID_ARGUMENT, "seq_dim must be < input rank ( %lld vs. %d)", (long long)seq_dim, in->rank);
    if (batch_dim < 0 || batch_dim >= in->rank)
        return pl_error(PL_INVALID_ARGUMENT, "batch_dim must be < input rank ( %lld vs. %d)", (long long)batch_dim,
                        in->rank);
    if (lens->rank != 1) return pl_error(PL_INVALID_ARGUMENT, "seq_lens input must be 1-dim, not %d", lens->rank);
    PL_TRY(pl__arr_want_index(lens, "seq_lengths"));
    if (lens->count != in->dims[batch_dim])
        return pl_error(PL_INVALID_ARGUMENT, "Length of seq_lengths != input.dims(%lld), (%lld vs. %lld)",
                        (long long)batch_dim, (long long)lens->count, (long long)in->dims[batch_dim]);
    for (int64_t b = 0; b < lens->count; b++) {
        int64_t len = pl__arr_int(lens, b);
        if (len < 0) return pl_error(PL_INVALID_ARGUMENT, "seq_lens(%lld) < 0", (long long)b);
        if (len > in->dims[seq_dim])
            return pl_error(PL_INVALID_ARGUMENT, "seq_lens(%lld) > input.dims(%lld)", (long long)b, (long long)seq_dim);
    }
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, in->rank, in->dims, &out));
    PL_TRY(pl__arr_copy(out, 0, in, 0, in->count));
    /* Then, per batch entry, the first len[b] steps again in reverse order. */
    int64_t strides[PL_MAX_RANK], src_strides[PL_MAX_RANK], box[PL_MAX_RANK];
    pl__arr_strides(in->rank, in->dims, strides);
    for (int64_t b = 0; b < lens->count; b++) {
        int64_t len = pl__arr_int(lens, b);
        if (len < 2) continue;
        memcpy(box, in->dims, sizeof box);
        memcpy(src_strides, strides, sizeof src_strides);
        box[batch_dim] = 1;
        box[seq_dim] = len;
        src_strides[seq_dim] = -strides[seq_dim];
        int64_t base = b * strides[batch_dim];
        PL_TRY(pl__arr_copy_strided(out, base, strides, in, base + (len - 1) * strides[seq_dim], src_strides, in->rank,
                                    box));
    }
    return NULL;
}

/* ---- MatrixBandPart ---- */

pl_status pl__arr_matrix_band_part(pl_kernel_ctx *c) {
    const pl_tensor *in = c->inputs[0], *lo_t = c->inputs[1], *hi_t = c->inputs[2];
    char a[64];
    if (in->rank < 2)
        return pl_error(PL_INVALID_ARGUMENT, "input must be at least 2-dim, received shape: %s",
                        pl__arr_shape_str(in, a, sizeof a));
    if (lo_t->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "num_lower must be scalar, got shape %s", pl__arr_shape_str(lo_t, a, sizeof a));
    if (hi_t->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "num_upper must be scalar, got shape %s", pl__arr_shape_str(hi_t, a, sizeof a));
    PL_TRY(pl__arr_want_index(lo_t, "num_lower"));
    PL_TRY(pl__arr_want_index(hi_t, "num_upper"));
    int64_t rows = in->dims[in->rank - 2], cols = in->dims[in->rank - 1];
    int64_t lower = pl__arr_int(lo_t, 0), upper = pl__arr_int(hi_t, 0);
    if (lower > rows)
        return pl_error(PL_INVALID_ARGUMENT,
                        "num_lower must be negative or less or equal to number of rows (%lld) got: %lld", (long long)rows,
                        (long long)lower);
    if (upper > cols)
        return pl_error(PL_INVALID_ARGUMENT,
                        "num_upper must be negative or less or equal to number of columns (%lld) got: %lld",
                        (long long)cols, (long long)upper);
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, in->dtype, in->rank, in->dims, &out));
    if (in->dtype != PL_DT_STRING && in->dtype != PL_DT_RESOURCE && in->dtype != PL_DT_VARIANT)
        memset(out->data, 0, pl_tensor_nbytes(out));
    if (rows == 0 || cols == 0) return NULL;
    /* Row m keeps columns [m - lower, m + upper] (a negative bound keeps all). */
    for (int64_t mat = 0; mat < in->count / (rows * cols); mat++)
        for (int64_t m = 0; m < rows; m++) {
            int64_t first = lower < 0 ? 0 : m - lower, last = upper < 0 ? cols - 1 : m + upper;
            if (first < 0) first = 0;
            if (last > cols - 1) last = cols - 1;
            if (last < first) continue;
            int64_t off = (mat * rows + m) * cols + first;
            PL_TRY(pl__arr_copy(out, off, in, off, last - first + 1));
        }
    return NULL;
}

/* ---- Tile (tile_ops.cc) ---- */

pl_status pl__arr_tile(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    const pl_tensor *mult_t = c->inputs[1];
    int dims = in->rank;
    char buf[64];
    if (mult_t->rank > 1)
        return pl_error(PL_INVALID_ARGUMENT, "Expected multiples to be 1-D, but got shape %s",
                        pl__arr_shape_str(mult_t, buf, sizeof buf));
    if (mult_t->count != dims)
        return pl_error(PL_INVALID_ARGUMENT, "Expected multiples argument to be a vector of length %d but got length %lld",
                        dims, (long long)(mult_t->rank >= 1 ? mult_t->dims[0] : 1));
    PL_TRY(pl__arr_want_index(mult_t, "multiples"));
    /* The output is the input seen as [m0, d0, m1, d1, ...] with stride 0 on
     * every m: one strided copy, whose inner runs are whole input rows. */
    int64_t view[2 * PL_MAX_RANK], src_strides[2 * PL_MAX_RANK], out_dims[PL_MAX_RANK], in_strides[PL_MAX_RANK];
    pl__arr_strides(dims, in->dims, in_strides);
    bool identity = true;
    for (int i = 0; i < dims; i++) {
        int64_t m = pl__arr_int(mult_t, i);
        if (m < 0) return pl_error(PL_INVALID_ARGUMENT, "Expected multiples[%d] >= 0, but got %lld", i, (long long)m);
        if (m > 0 && in->dims[i] > INT64_MAX / m)
            return pl_error(PL_INVALID_ARGUMENT, "Tile: output dimension %d overflows", i);
        view[2 * i] = m;
        view[2 * i + 1] = in->dims[i];
        src_strides[2 * i] = 0;
        src_strides[2 * i + 1] = in_strides[i];
        out_dims[i] = m * in->dims[i];
        identity &= m == 1;
    }
    if (identity) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    return gather_view(c, in, 0, src_strides, 2 * dims, view, dims, out_dims, NULL);
}

/* ---- BroadcastTo (broadcast_to_op.cc) ---- */

pl_status pl__arr_broadcast_to(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    const pl_tensor *shape_t = c->inputs[1];
    char a[160], b[160];
    if (shape_t->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "shape must be a vector, got shape %s",
                        pl__arr_shape_str(shape_t, a, sizeof a));
    PL_TRY(pl__arr_want_index(shape_t, "shape"));
    if (shape_t->count > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "BroadcastTo: rank %lld is more than %d", (long long)shape_t->count,
                        PL_MAX_RANK);
    int out_rank = (int)shape_t->count;
    int64_t out_dims[PL_MAX_RANK];
    for (int i = 0; i < out_rank; i++) {
        out_dims[i] = pl__arr_int(shape_t, i);
        if (out_dims[i] < 0)
            return pl_error(PL_INVALID_ARGUMENT, "Dimension %lld must be >= 0", (long long)out_dims[i]);
    }
    int64_t tmp;
    PL_TRY(pl_shape_count(out_rank, out_dims, &tmp));
    if (in->rank > out_rank)
        return pl_error(PL_INVALID_ARGUMENT, "Rank of input (%d) must be no greater than rank of output shape (%d).",
                        in->rank, out_rank);
    int64_t in_strides[PL_MAX_RANK], src_strides[PL_MAX_RANK];
    pl__arr_strides(in->rank, in->dims, in_strides);
    bool identity = in->rank == out_rank, unable = false;
    for (int i = 0; i < out_rank; i++) {
        int k = i - (out_rank - in->rank);
        int64_t di = k >= 0 ? in->dims[k] : 1, dout = out_dims[i];
        if (di == dout) {
            src_strides[i] = k >= 0 ? in_strides[k] : 0;
        } else if (di == 1) {
            src_strides[i] = 0;
            identity = false;
        } else if (dout == 1) {
            unable = true; /* broadcasting is valid but yields di, not the asked-for 1 */
        } else {
            return pl_error(PL_INVALID_ARGUMENT, "Incompatible shapes: %s vs. %s", pl__arr_shape_str(in, a, sizeof a),
                            pl_shape_str(out_rank, out_dims, b, sizeof b));
        }
    }
    if (unable)
        return pl_error(PL_INVALID_ARGUMENT, "Unable to broadcast tensor of shape %s to tensor of shape %s",
                        pl__arr_shape_str(in, a, sizeof a), pl_shape_str(out_rank, out_dims, b, sizeof b));
    if (identity) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    return gather_view(c, in, 0, src_strides, out_rank, out_dims, out_rank, out_dims, NULL);
}

