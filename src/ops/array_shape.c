/* Ops that read or change only a tensor's shape: Reshape, Squeeze,
 * ExpandDims, Shape, ShapeN, Size, Rank, EnsureShape, BroadcastArgs and
 * InvertPermutation. Reshaping ops share the input's buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/array_internal.h"

/* ---- Reshape (TensorFlow's reshape_op.h, messages verbatim) ---- */

pl_status pl__arr_reshape(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    const pl_tensor *sizes = c->inputs[1];
    char buf[64];
    if (sizes->rank > 1)
        return pl_error(PL_INVALID_ARGUMENT, "sizes input must be 1-D, not %s", pl__arr_shape_str(sizes, buf, sizeof buf));
    if (sizes->dtype != PL_DT_INT32 && sizes->dtype != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "desired shape must be a DT_INT32 or DT_INT64 vector, not a %s",
                        pl_dtype_string(sizes->dtype));
    int64_t n = sizes->count;
    if (n > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "Reshape to rank %lld is not supported (at most %d dimensions)",
                        (long long)n, PL_MAX_RANK);
    int64_t dims[PL_MAX_RANK];
    int64_t product = 1;
    int unknown = -1;
    bool sizes_have_zero = false;
    for (int d = 0; d < n; d++) {
        int64_t size = pl__arr_int(sizes, d);
        if (size == -1) {
            if (unknown != -1)
                return pl_error(PL_INVALID_ARGUMENT, "Only one input size may be -1, not both %d and %d", unknown, d);
            unknown = d;
            dims[d] = 1;
        } else if (size < 0) {
            return pl_error(PL_INVALID_ARGUMENT, "Size %d must be non-negative, not %lld", d, (long long)size);
        } else {
            dims[d] = size;
            /* Zero sizes stay out of the product so the -1 can still be inferred
             * from the non-zero dimensions. */
            if (size == 0) sizes_have_zero = true;
            else if (product > INT64_MAX / size)
                return pl_error(PL_INVALID_ARGUMENT, "Reshape to a shape with too many elements");
            else product *= size;
        }
    }
    if (unknown != -1) {
        int64_t in_elems = 1;
        bool in_has_zero = false;
        for (int d = 0; d < in->rank; d++) {
            if (in->dims[d] > 0 || !sizes_have_zero) in_elems *= in->dims[d];
            else in_has_zero = true;
        }
        int64_t missing = in_elems / product;
        if (!in_has_zero && product * missing != in_elems)
            return pl_error(PL_INVALID_ARGUMENT,
                            "Input to reshape is a tensor with %lld values, but the requested shape requires a multiple of %lld",
                            (long long)in_elems, (long long)product);
        dims[unknown] = missing;
    }
    int64_t count;
    PL_TRY(pl_shape_count((int)n, dims, &count));
    if (count != in->count)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Input to reshape is a tensor with %lld values, but the requested shape has %lld",
                        (long long)in->count, (long long)count);
    return pl__arr_view(c, 0, in, (int)n, dims);
}

/* ---- Squeeze ---- */

pl_status pl__arr_prep_squeeze(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    const char *name = pl_attr_has(p->attrs, "squeeze_dims") ? "squeeze_dims" : "axis";
    if (!pl_attr_has(p->attrs, name)) return NULL;
    const int64_t *items;
    int n;
    PL_TRY(pl_attr_int_list(p->attrs, name, &items, &n));
    if (n > PL__ARR_MAX_LIST) return pl_error(PL_INVALID_ARGUMENT, "Squeeze: too many squeeze_dims (%d)", n);
    memcpy(s->list, items, (size_t)n * sizeof *items);
    s->n = n;
    return NULL;
}

pl_status pl__arr_squeeze(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    pl_tensor *in = c->inputs[0];
    if (in->dtype == PL_DT_VARIANT) return pl_error(PL_INVALID_ARGUMENT, "Squeeze on Variant not supported");
    bool squeeze[PL_MAX_RANK] = {false};
    for (int k = 0; k < s->n; k++) {
        int64_t dim = s->list[k];
        if (dim < -in->rank || dim >= in->rank)
            return pl_error(PL_INVALID_ARGUMENT, "Tried to squeeze dim index %lld for tensor with %d dimensions.",
                            (long long)dim, in->rank);
        squeeze[dim < 0 ? dim + in->rank : dim] = true;
    }
    int64_t dims[PL_MAX_RANK];
    int r = 0;
    for (int i = 0; i < in->rank; i++) {
        if (s->n > 0) {
            if (!squeeze[i]) dims[r++] = in->dims[i];
            else if (in->dims[i] != 1)
                return pl_error(PL_INVALID_ARGUMENT, "Can not squeeze dim[%d], expected a dimension of 1, got %lld", i,
                                (long long)in->dims[i]);
        } else if (in->dims[i] != 1) {
            dims[r++] = in->dims[i];
        }
    }
    return pl__arr_view(c, 0, in, r, dims);
}

/* ---- ExpandDims ---- */

pl_status pl__arr_expand_dims(pl_kernel_ctx *c) {
    pl_tensor *in = c->inputs[0];
    const pl_tensor *dim_t = c->inputs[1];
    if (in->dtype == PL_DT_VARIANT) return pl_error(PL_INVALID_ARGUMENT, "ExpandDims on Variant not supported");
    if (dim_t->count != 1) return pl_error(PL_INVALID_ARGUMENT, "'dim' must be a tensor with a single value");
    PL_TRY(pl__arr_want_index(dim_t, "'dim'"));
    int64_t dim = pl__arr_int(dim_t, 0);
    if (dim < -1 - in->rank || dim > in->rank)
        return pl_error(PL_INVALID_ARGUMENT, "Tried to expand dim index %lld for tensor with %d dimensions.",
                        (long long)dim, in->rank);
    if (in->rank == PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "ExpandDims: rank %d is the most supported", PL_MAX_RANK);
    if (dim < 0) dim += in->rank + 1;
    int64_t dims[PL_MAX_RANK];
    for (int i = 0, r = 0; i <= in->rank; i++) dims[i] = i == dim ? 1 : in->dims[r++];
    return pl__arr_view(c, 0, in, in->rank + 1, dims);
}

/* ---- Shape, ShapeN, Size, Rank ---- */

pl_status pl__arr_prep_out_type(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    s->type = pl_attr_type_or(p->attrs, "out_type", PL_DT_INT32);
    if (s->type != PL_DT_INT32 && s->type != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "%s: out_type must be int32 or int64, not %s", p->op, pl_dtype_name(s->type));
    /* ShapeN has one output per input. */
    if (!strcmp(p->op, "ShapeN") && p->num_outputs < p->num_inputs) p->num_outputs = p->num_inputs;
    return NULL;
}

static void store_int(pl_tensor *t, int64_t i, int64_t v) {
    if (t->dtype == PL_DT_INT32) ((int32_t *)t->data)[i] = (int32_t)v;
    else ((int64_t *)t->data)[i] = v;
}

static pl_status shape_of(pl_kernel_ctx *c, int i, pl_dtype type) {
    const pl_tensor *in = c->inputs[i];
    pl_tensor *out;
    int64_t rank = in->rank;
    PL_TRY(pl_ctx_alloc_output(c, i, type, 1, &rank, &out));
    for (int d = 0; d < in->rank; d++) {
        if (type == PL_DT_INT32 && in->dims[d] > INT32_MAX) {
            if (c->num_inputs == 1 && c->num_outputs == 1)
                return pl_error(PL_INVALID_ARGUMENT, "Shape output type is 32-bit  but dim %d is %lld", d,
                                (long long)in->dims[d]);
            return pl_error(PL_INVALID_ARGUMENT, "ShapeN output type is 32-bit but shape %d dim %d is %lld", i, d,
                            (long long)in->dims[d]);
        }
        store_int(out, d, in->dims[d]);
    }
    return NULL;
}

pl_status pl__arr_shape(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    return shape_of(c, 0, s->type);
}

pl_status pl__arr_shape_n(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    for (int i = 0; i < c->num_inputs; i++) PL_TRY(shape_of(c, i, s->type));
    return NULL;
}

pl_status pl__arr_size(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *in = c->inputs[0];
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, s->type, 0, NULL, &out));
    if (s->type == PL_DT_INT32 && in->count > INT32_MAX)
        return pl_error(PL_INVALID_ARGUMENT, "Number of elements was larger than representable by 32-bit output type");
    store_int(out, 0, in->count);
    return NULL;
}

pl_status pl__arr_rank(pl_kernel_ctx *c) {
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_INT32, 0, NULL, &out));
    store_int(out, 0, c->inputs[0]->rank);
    return NULL;
}

/* ---- EnsureShape ---- */

pl_status pl__arr_prep_ensure_shape(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, strlen(p->node_name), &s));
    int rank;
    int64_t dims[PL_MAX_RANK];
    PL_TRY(pl_attr_shape(p->attrs, "shape", &rank, dims));
    s->n = rank;
    for (int i = 0; i < rank; i++) s->list[i] = dims[i];
    memcpy(s->text, p->node_name, strlen(p->node_name));
    return NULL;
}

/* PartialTensorShape::DebugString: "[?,3]", "<unknown>" for unknown rank. */
static void partial_shape_str(int rank, const int64_t *dims, char *buf, size_t size) {
    if (rank < 0) {
        snprintf(buf, size, "<unknown>");
        return;
    }
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && n < size; i++) {
        if (dims[i] < 0) n += (size_t)snprintf(buf + n, size - n, i ? ",?" : "?");
        else n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld", (long long)dims[i]);
    }
    if (n < size) snprintf(buf + n, size - n, "]");
}

pl_status pl__arr_ensure_shape(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *in = c->inputs[0];
    bool ok = s->n < 0 || s->n == in->rank;
    for (int i = 0; ok && s->n > 0 && i < in->rank; i++) ok = s->list[i] < 0 || s->list[i] == in->dims[i];
    if (!ok) {
        char a[200], b[200];
        pl__arr_shape_str(in, a, sizeof a);
        partial_shape_str(s->n, s->list, b, sizeof b);
        return pl_error(PL_INVALID_ARGUMENT, "Shape of tensor %s %s is not compatible with expected shape %s.", s->text, a,
                        b);
    }
    pl_ctx_forward(c, 0, 0);
    return NULL;
}

/* ---- BroadcastArgs ---- */

pl_status pl__arr_broadcast_args(pl_kernel_ctx *c) {
    const pl_tensor *a = c->inputs[0], *b = c->inputs[1];
    char buf[64];
    for (int i = 0; i < 2; i++) {
        const pl_tensor *t = c->inputs[i];
        if (t->rank != 1)
            return pl_error(PL_INVALID_ARGUMENT, "In[%d] must be a vector.%s", i, pl__arr_shape_str(t, buf, sizeof buf));
        PL_TRY(pl__arr_want_index(t, "BroadcastArgs input"));
    }
    int64_t n = a->count > b->count ? a->count : b->count;
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, a->dtype, 1, &n, &out));
    for (int64_t k = 0; k < n; k++) {
        int64_t ia = a->count - n + k, ib = b->count - n + k;
        int64_t da = ia >= 0 ? pl__arr_int(a, ia) : 1, db = ib >= 0 ? pl__arr_int(b, ib) : 1;
        int64_t d;
        if (da == db || db == 1) d = da;
        else if (da == 1) d = db;
        else {
            char sa[400], sb[400];
            return pl_error(PL_INVALID_ARGUMENT, "Incompatible shapes: %s vs. %s", pl__arr_values_str(a, ",", sa, sizeof sa),
                            pl__arr_values_str(b, ",", sb, sizeof sb));
        }
        store_int(out, k, d);
    }
    return NULL;
}

/* ---- InvertPermutation ---- */

pl_status pl__arr_invert_permutation(pl_kernel_ctx *c) {
    const pl_tensor *x = c->inputs[0];
    if (x->rank != 1) return pl_error(PL_INVALID_ARGUMENT, "invert_permutation expects a 1D vector.");
    PL_TRY(pl__arr_want_index(x, "x"));
    if (x->count > INT32_MAX)
        return pl_error(PL_INVALID_ARGUMENT, "permutation of nonnegative int32s must have <= int32 max elements");
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, x->dtype, 1, x->dims, &out));
    int64_t n = x->count;
    for (int64_t i = 0; i < n; i++) store_int(out, i, -1);
    for (int64_t i = 0; i < n; i++) {
        int64_t d = pl__arr_int(x, i);
        if (d < 0 || d >= n)
            return pl_error(PL_INVALID_ARGUMENT, "%lld is not between 0 and %lld", (long long)d, (long long)n);
        if (pl__arr_int(out, d) != -1)
            return pl_error(PL_INVALID_ARGUMENT, "%lld is duplicated in the input.", (long long)d);
        store_int(out, d, i);
    }
    return NULL;
}

/* ---- BroadcastGradientArgs (bcast.h's grad_reduce_idx) ---- */

pl_status pl__arr_prep_two_outputs(pl_kernel_prep *p) {
    if (p->num_outputs < 2) p->num_outputs = 2;
    return NULL;
}

pl_status pl__arr_broadcast_gradient_args(pl_kernel_ctx *c) {
    const pl_tensor *s[2] = {c->inputs[0], c->inputs[1]};
    for (int i = 0; i < 2; i++) {
        char buf[64];
        if (s[i]->rank != 1)
            return pl_error(PL_INVALID_ARGUMENT, "In[%d] must be a vector.%s", i, pl__arr_shape_str(s[i], buf, sizeof buf));
        PL_TRY(pl__arr_want_index(s[i], "BroadcastGradientArgs input"));
    }
    int64_t n = s[0]->count > s[1]->count ? s[0]->count : s[1]->count;
    if (n > 64) return pl_error(PL_INVALID_ARGUMENT, "BroadcastGradientArgs: shapes of rank %lld", (long long)n);
    /* Dimension j (from the left of the aligned shapes) is reduced for an
     * input whose size there is 1 (or missing) while the result's is not, and
     * for both inputs when every size there is 1. */
    int64_t idx[2][64], count[2] = {0, 0};
    for (int64_t j = 0; j < n; j++) {
        int64_t d[2];
        for (int i = 0; i < 2; i++) {
            int64_t k = s[i]->count - n + j;
            d[i] = k >= 0 ? pl__arr_int(s[i], k) : 1;
        }
        if (d[0] != 1 && d[1] != 1 && d[0] != d[1]) {
            char a[400], b[400];
            return pl_error(PL_INVALID_ARGUMENT, "Incompatible shapes: %s vs. %s",
                            pl__arr_values_str(s[0], ",", a, sizeof a), pl__arr_values_str(s[1], ",", b, sizeof b));
        }
        for (int i = 0; i < 2; i++)
            if (d[i] == 1) idx[i][count[i]++] = j;
    }
    for (int i = 0; i < 2; i++) {
        pl_tensor *out;
        PL_TRY(pl_ctx_alloc_output(c, i, s[i]->dtype, 1, &count[i], &out));
        for (int64_t k = 0; k < count[i]; k++) store_int(out, k, idx[i][k]);
    }
    return NULL;
}
