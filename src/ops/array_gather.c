/* Indexed reads: Gather, GatherV2 (axis, batch_dims), GatherNd, and Where
 * (coordinates of the true elements). Out-of-range indices are errors with
 * TensorFlow's messages (gather_op.cc, gather_nd_op.cc), never reads. */
#include <stdio.h>
#include <string.h>

#include "ops/array_internal.h"

/* TensorFlow's SliceDebugString: the multi-index of flat element i, "[1,2]". */
static const char *index_str(int rank, const int64_t *dims, int64_t i, char *buf, size_t size) {
    int64_t idx[PL_MAX_RANK];
    for (int d = rank - 1; d >= 0; d--) {
        idx[d] = dims[d] ? i % dims[d] : 0;
        i = dims[d] ? i / dims[d] : 0;
    }
    if (rank == 0) {
        snprintf(buf, size, "[]");
        return buf;
    }
    return pl_shape_str(rank, idx, buf, size);
}

/* ---- Gather / GatherV2 ---- */

pl_status pl__arr_prep_gather_v2(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    s->i[0] = pl_attr_int_or(p->attrs, "batch_dims", 0);
    return NULL;
}

static pl_status gather(pl_kernel_ctx *c, int64_t axis, bool axis_is_set, int64_t batch_dims) {
    pl_tensor *params = c->inputs[0];
    const pl_tensor *indices = c->inputs[1];
    PL_TRY(pl__arr_want_index(indices, "indices"));
    /* Unsigned: axis is the client's, and -INT64_MIN or INT64_MAX + 1 would overflow. */
    uint64_t min_dim = axis < 0 ? 0 - (uint64_t)axis : (uint64_t)axis + 1;
    if ((uint64_t)params->rank < min_dim)
        return pl_error(PL_INVALID_ARGUMENT, "Shape must be at least rank %llu but is rank %d",
                        (unsigned long long)min_dim, params->rank);
    if (axis < 0) axis += params->rank;
    if (batch_dims != 0) {
        if (batch_dims < -indices->rank || batch_dims > indices->rank)
            return pl_error(PL_INVALID_ARGUMENT, "Expected batch_dims in the range [%d, %d], but got %lld", -indices->rank,
                            indices->rank, (long long)batch_dims);
        if (batch_dims < 0) batch_dims += indices->rank;
        if (!axis_is_set) axis = batch_dims;
        if (batch_dims >= params->rank)
            return pl_error(PL_INVALID_ARGUMENT, "batch_dims (%lld) must be less than rank(params) (%d).",
                            (long long)batch_dims, params->rank);
        if (axis < batch_dims)
            return pl_error(PL_INVALID_ARGUMENT, "batch_dims (%lld) must be less than or equal to axis (%lld).",
                            (long long)batch_dims, (long long)axis);
        for (int i = 0; i < batch_dims; i++)
            if (params->dims[i] != indices->dims[i])
                return pl_error(PL_INVALID_ARGUMENT, "params.shape[%d]: %lld should be equal to indices.shape[%d]: %lld", i,
                                (long long)params->dims[i], i, (long long)indices->dims[i]);
    }
    /* result shape = params[:axis] + indices[batch_dims:] + params[axis+1:] */
    int out_rank = params->rank - 1 + indices->rank - (int)batch_dims;
    if (out_rank > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "Gather: result has %d dimensions, more than %d", out_rank, PL_MAX_RANK);
    int64_t dims[PL_MAX_RANK];
    int r = 0;
    int64_t batch = 1, outer = 1, inner = 1, n = 1;
    for (int i = 0; i < axis; i++) {
        dims[r++] = params->dims[i];
        if (i < batch_dims) batch *= params->dims[i];
        else outer *= params->dims[i];
    }
    for (int i = (int)batch_dims; i < indices->rank; i++) {
        dims[r++] = indices->dims[i];
        n *= indices->dims[i];
    }
    for (int i = (int)axis + 1; i < params->rank; i++) {
        dims[r++] = params->dims[i];
        inner *= params->dims[i];
    }
    int64_t limit = params->dims[axis];
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, params->dtype, out_rank, dims, &out));
    if (out->count == 0) return NULL;
    for (int64_t k = 0; k < indices->count; k++) {
        int64_t v = pl__arr_int(indices, k);
        if (v < 0 || v >= limit) {
            char buf[96];
            return pl_error(PL_INVALID_ARGUMENT, "indices%s = %lld is not in [0, %lld)",
                            index_str(indices->rank, indices->dims, k, buf, sizeof buf), (long long)v, (long long)limit);
        }
    }
    size_t esz = pl_dtype_size(params->dtype);
    bool bytes = params->dtype != PL_DT_STRING && params->dtype != PL_DT_RESOURCE && params->dtype != PL_DT_VARIANT;
    int64_t o = 0;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t m = 0; m < outer; m++) {
            int64_t base = (b * outer + m) * limit * inner;
            const pl_tensor *idx = indices;
            int64_t first = b * n;
            /* One run of `inner` elements per index: a plain memcpy when the
             * elements are plain bytes (the embedding-lookup case). */
            if (bytes) {
                char *dst = (char *)out->data + (size_t)o * esz;
                const char *src = (const char *)params->data + (size_t)base * esz;
                size_t run = (size_t)inner * esz;
                for (int64_t j = 0; j < n; j++) memcpy(dst + (size_t)j * run, src + (size_t)pl__arr_int(idx, first + j) * run, run);
            } else {
                for (int64_t j = 0; j < n; j++)
                    PL_TRY(pl__arr_copy(out, o + j * inner, params, base + pl__arr_int(idx, first + j) * inner, inner));
            }
            o += n * inner;
        }
    return NULL;
}

pl_status pl__arr_gather(pl_kernel_ctx *c) { return gather(c, 0, false, 0); }

pl_status pl__arr_gather_v2(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *axis_t = c->inputs[2];
    if (axis_t->rank != 0) return pl_error(PL_INVALID_ARGUMENT, "axis must be scalar");
    if (axis_t->dtype != PL_DT_INT32 && axis_t->dtype != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "axis must be int32 or int64.");
    return gather(c, pl__arr_int(axis_t, 0), true, s->i[0]);
}

/* ---- GatherNd ---- */

pl_status pl__arr_gather_nd(pl_kernel_ctx *c) {
    pl_tensor *params = c->inputs[0];
    const pl_tensor *indices = c->inputs[1];
    char a[96], b[400];
    PL_TRY(pl__arr_want_index(indices, "indices"));
    if (params->rank < 1) return pl_error(PL_INVALID_ARGUMENT, "params must be at least a vector");
    if (indices->rank < 1) return pl_error(PL_INVALID_ARGUMENT, "indices must be at least a vector");
    int64_t nd = indices->dims[indices->rank - 1];
    if (nd > params->rank)
        return pl_error(PL_INVALID_ARGUMENT, "index innermost dimension length must be <= params rank; saw: %lld vs. %d",
                        (long long)nd, params->rank);
    int out_rank = indices->rank - 1 + params->rank - (int)nd;
    if (out_rank > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "GatherNd: result has %d dimensions, more than %d", out_rank, PL_MAX_RANK);
    int64_t dims[PL_MAX_RANK], n = 1, slice = 1;
    int r = 0;
    for (int i = 0; i < indices->rank - 1; i++) {
        dims[r++] = indices->dims[i];
        n *= indices->dims[i];
    }
    for (int i = (int)nd; i < params->rank; i++) {
        dims[r++] = params->dims[i];
        slice *= params->dims[i];
    }
    if (n > 0 && params->count == 0 && slice > 0)
        return pl_error(PL_INVALID_ARGUMENT, "Requested more than 0 entries, but params is empty.  Params shape: %s",
                        pl__arr_shape_str(params, a, sizeof a));
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, params->dtype, out_rank, dims, &out));
    int64_t strides[PL_MAX_RANK];
    pl__arr_strides(params->rank, params->dims, strides);
    for (int64_t j = 0; j < n; j++) {
        int64_t off = 0;
        for (int64_t k = 0; k < nd; k++) {
            int64_t v = pl__arr_int(indices, j * nd + k);
            if (v < 0 || v >= params->dims[k]) {
                size_t len = (size_t)snprintf(b, sizeof b, "[");
                for (int64_t q = 0; q < nd && len < sizeof b; q++)
                    len += (size_t)snprintf(b + len, sizeof b - len, q ? ", %lld" : "%lld",
                                            (long long)pl__arr_int(indices, j * nd + q));
                if (len < sizeof b) snprintf(b + len, sizeof b - len, "]");
                char p_shape[96];
                return pl_error(PL_INVALID_ARGUMENT, "indices%s = %s does not index into param shape %s, node name: %s",
                                index_str(indices->rank - 1, indices->dims, j, a, sizeof a), b,
                                pl__arr_shape_str(params, p_shape, sizeof p_shape), c->node_name);
            }
            off += v * strides[k];
        }
        PL_TRY(pl__arr_copy(out, j * slice, params, off, slice));
    }
    return NULL;
}

/* ---- Where ---- */

static bool is_true(const pl_tensor *t, int64_t i) {
    switch (t->dtype) {
    case PL_DT_FLOAT: return ((const float *)t->data)[i] != 0;
    case PL_DT_DOUBLE: return ((const double *)t->data)[i] != 0;
    case PL_DT_HALF: case PL_DT_BFLOAT16: return (((const uint16_t *)t->data)[i] & 0x7fff) != 0;
    case PL_DT_COMPLEX64: return ((const float *)t->data)[2 * i] != 0 || ((const float *)t->data)[2 * i + 1] != 0;
    case PL_DT_COMPLEX128: return ((const double *)t->data)[2 * i] != 0 || ((const double *)t->data)[2 * i + 1] != 0;
    default: {
        size_t esz = pl_dtype_size(t->dtype);
        const unsigned char *p = (const unsigned char *)t->data + (size_t)i * esz;
        for (size_t k = 0; k < esz; k++)
            if (p[k]) return true;
        return false;
    }
    }
}

pl_status pl__arr_where(pl_kernel_ctx *c) {
    const pl_tensor *in = c->inputs[0];
    if (in->dtype == PL_DT_STRING || in->dtype == PL_DT_RESOURCE || in->dtype == PL_DT_VARIANT)
        return pl_error(PL_INVALID_ARGUMENT, "Where: %s input is not supported", pl_dtype_name(in->dtype));
    /* bool masks (P-Net's score thresholds, a million elements at 1920x1080) take a byte loop. */
    const bool bytes = pl_dtype_size(in->dtype) == 1;
    const unsigned char *b = in->data;
    int64_t n = 0;
    if (bytes)
        for (int64_t i = 0; i < in->count; i++) n += b[i] != 0;
    else
        for (int64_t i = 0; i < in->count; i++) n += is_true(in, i);
    int64_t dims[2] = {n, in->rank};
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_INT64, 2, dims, &out));
    int64_t *o = out->data;
    if (bytes && in->rank == 1) {
        for (int64_t i = 0; i < in->count; i++)
            if (b[i]) *o++ = i;
        return NULL;
    }
    int64_t idx[PL_MAX_RANK] = {0};
    for (int64_t i = 0; i < in->count; i++) {
        if (bytes ? b[i] != 0 : is_true(in, i)) {
            memcpy(o, idx, (size_t)in->rank * sizeof *o);
            o += in->rank;
        }
        for (int d = in->rank - 1; d >= 0; d--) {
            if (++idx[d] < in->dims[d]) break;
            idx[d] = 0;
        }
    }
    return NULL;
}

/* ---- DynamicStitch / ParallelDynamicStitch (dynamic_stitch_op.cc) ---- */

pl_status pl__arr_prep_dynamic_stitch(pl_kernel_prep *p) {
    if (p->num_inputs % 2 != 0)
        return pl_error(PL_INVALID_ARGUMENT, "%s needs as many data inputs as indices inputs", p->op);
    return NULL;
}

pl_status pl__arr_dynamic_stitch(pl_kernel_ctx *c) {
    int n = c->num_inputs / 2;
    pl_tensor *const *indices = c->inputs, *const *data = c->inputs + n;
    char a[96], b[96];
    int64_t first_dim = 0;
    const pl_tensor *d0 = data[0], *i0 = indices[0];
    int slice_rank = d0->rank - i0->rank;
    if (slice_rank < 0)
        return pl_error(PL_INVALID_ARGUMENT, "data[0].shape = %s does not start with indices[0].shape = %s",
                        pl__arr_shape_str(d0, a, sizeof a), pl__arr_shape_str(i0, b, sizeof b));
    const int64_t *slice_dims = d0->dims + i0->rank;
    int64_t slice = 1;
    for (int k = 0; k < slice_rank; k++) slice *= slice_dims[k];
    for (int m = 0; m < n; m++) {
        const pl_tensor *im = indices[m], *dm = data[m];
        PL_TRY(pl__arr_want_index(im, "indices"));
        bool ok = dm->rank == im->rank + slice_rank && dm->dtype == d0->dtype;
        for (int k = 0; ok && k < im->rank; k++) ok = dm->dims[k] == im->dims[k];
        if (!ok)
            return pl_error(PL_INVALID_ARGUMENT, "data[%d].shape = %s does not start with indices[%d].shape = %s", m,
                            pl__arr_shape_str(dm, a, sizeof a), m, pl__arr_shape_str(im, b, sizeof b));
        for (int k = 0; k < slice_rank; k++)
            if (dm->dims[im->rank + k] != slice_dims[k]) {
                char e[96], f[96];
                return pl_error(PL_INVALID_ARGUMENT,
                                "Need data[0].shape[%d:] = data[%d].shape[%d:], got data[0].shape = %s, data[%d].shape = "
                                "%s, indices[0].shape = %s, indices[%d].shape = %s",
                                i0->rank, m, im->rank, pl__arr_shape_str(d0, a, sizeof a), m,
                                pl__arr_shape_str(dm, b, sizeof b), pl__arr_shape_str(i0, e, sizeof e), m,
                                pl__arr_shape_str(im, f, sizeof f));
            }
        for (int64_t k = 0; k < im->count; k++) {
            int64_t v = pl__arr_int(im, k);
            if (v < 0) return pl_error(PL_INVALID_ARGUMENT, "indices[%d] = %lld is negative", m, (long long)v);
            if (v >= PL_TENSOR_MAX_BYTES)
                return pl_error(PL_INVALID_ARGUMENT, "indices[%d] = %lld is too large", m, (long long)v);
            if (v + 1 > first_dim) first_dim = v + 1;
        }
    }
    if (slice_rank + 1 > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "DynamicStitch: result has more than %d dimensions", PL_MAX_RANK);
    int64_t dims[PL_MAX_RANK];
    dims[0] = first_dim;
    for (int k = 0; k < slice_rank; k++) dims[1 + k] = slice_dims[k];
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, d0->dtype, slice_rank + 1, dims, &out));
    if (out->dtype != PL_DT_STRING && out->dtype != PL_DT_RESOURCE && out->dtype != PL_DT_VARIANT)
        memset(out->data, 0, pl_tensor_nbytes(out));
    /* Later inputs win where indices repeat, as in TensorFlow. */
    for (int m = 0; m < n; m++)
        for (int64_t k = 0; k < indices[m]->count; k++)
            PL_TRY(pl__arr_copy(out, pl__arr_int(indices[m], k) * slice, data[m], k * slice, slice));
    return NULL;
}
