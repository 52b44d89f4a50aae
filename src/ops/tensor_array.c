/* TensorArrayV3 and friends: per-run arrays of tensors held by a RESOURCE
 * handle, with TensorFlow's rules for dynamic size, element shapes,
 * clear-after-read and the error messages that go with them. The float
 * "flow" tensors only order the ops; they carry no data. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/array_internal.h"
#include "ops/families.h"
#include "ops/partial_shape.h"

static pl_status attr_pshape(const pl_attrs *a, const char *name, pl__pshape *s) {
    s->rank = -1;
    if (!pl_attr_has(a, name)) return NULL;
    return pl_attr_shape(a, name, &s->rank, s->dims);
}

/* ---- the array ---- */

typedef struct slot {
    pl_tensor *tensor;      /* NULL before a write, or after a clearing read */
    int rank;
    int64_t dims[PL_MAX_RANK];
    bool written, read, cleared;
} slot;

typedef struct tensor_array {
    pl_object base;
    char *name;
    pl_dtype dtype;
    pl__pshape element_shape;
    bool dynamic_size, clear_after_read, identical_element_shapes, closed;
    int32_t size;
    int32_t cap;
    slot *slots;
} tensor_array;

static void tensor_array_destroy(pl_object *obj) {
    tensor_array *ta = (tensor_array *)obj;
    for (int32_t i = 0; i < ta->size; i++) pl_tensor_unref(ta->slots[i].tensor);
    free(ta->slots);
    free(ta->name);
    free(ta);
}

static const pl_object_type tensor_array_type = {"TensorArray", tensor_array_destroy};

static atomic_int tensor_array_counter;

static pl_status resize(tensor_array *ta, int64_t n) {
    if (n > INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "TensorArray %s: size %lld is too large", ta->name, (long long)n);
    if (n > ta->cap) {
        int64_t cap = ta->cap ? ta->cap : 4;
        while (cap < n) cap *= 2;
        if (cap > INT32_MAX) cap = INT32_MAX;
        slot *grown = realloc(ta->slots, (size_t)cap * sizeof *grown);
        if (!grown) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory growing TensorArray %s", ta->name);
        memset(grown + ta->cap, 0, (size_t)(cap - ta->cap) * sizeof *grown);
        ta->slots = grown;
        ta->cap = (int32_t)cap;
    }
    if (n > ta->size) ta->size = (int32_t)n;
    return NULL;
}

static pl_status closed_error(const tensor_array *ta) {
    return pl_error(PL_INVALID_ARGUMENT, "TensorArray %s has already been closed.", ta->name);
}

/* TensorArray::LockedWriteOrAggregate without aggregation (forward arrays). */
static pl_status ta_write(tensor_array *ta, int32_t index, pl_tensor *value) {
    if (ta->closed) return closed_error(ta);
    if (index < 0 || (!ta->dynamic_size && index >= ta->size))
        return pl_error(PL_INVALID_ARGUMENT,
                        "TensorArray %s: Tried to write to index %d but array is not resizeable and size is: %d",
                        ta->name, index, ta->size);
    if (ta->dynamic_size && index >= ta->size) PL_TRY(resize(ta, (int64_t)index + 1));
    slot *s = &ta->slots[index];
    char sa[160], sb[160];
    if (value->dtype != ta->dtype) {
        return pl_error(PL_INVALID_ARGUMENT,
                        "TensorArray %s: Could not write to TensorArray index %d because the value dtype is %s but "
                        "TensorArray dtype is %s.",
                        ta->name, index, pl_dtype_string(value->dtype), pl_dtype_string(ta->dtype));
    }
    if (!pl__pshape_compatible(&ta->element_shape, value->rank, value->dims)) {
        return pl_error(PL_INVALID_ARGUMENT,
                        "TensorArray %s: Could not write to TensorArray index %d because the value shape is %s which "
                        "is incompatible with the TensorArray's inferred element shape: %s (consider setting "
                        "infer_shape=False).",
                        ta->name, index, pl_shape_str(value->rank, value->dims, sa, sizeof sa),
                        pl__pshape_str(&ta->element_shape, sb, sizeof sb));
    } else if (ta->identical_element_shapes && !pl__pshape_fully_defined(&ta->element_shape)) {
        ta->element_shape.rank = value->rank;
        memcpy(ta->element_shape.dims, value->dims, sizeof value->dims);
    }
    if (s->read)
        return pl_error(PL_INVALID_ARGUMENT,
                        "TensorArray %s: Could not write to TensorArray index %d because it has already been read.",
                        ta->name, index);
    if (s->written)
        return pl_error(PL_INVALID_ARGUMENT,
                        "TensorArray %s: Could not write to TensorArray index %d because it has already been written "
                        "to.",
                        ta->name, index);
    s->tensor = pl_tensor_ref(value);
    s->rank = value->rank;
    memcpy(s->dims, value->dims, sizeof s->dims);
    s->written = true;
    return NULL;
}

/* TensorArray::LockedRead; *out is a new reference. */
static pl_status ta_read(tensor_array *ta, int32_t index, pl_tensor **out) {
    if (ta->closed) return closed_error(ta);
    if (index < 0 || index >= ta->size)
        return pl_error(PL_INVALID_ARGUMENT, "Tried to read from index %d but array size is: %d", index, ta->size);
    slot *s = &ta->slots[index];
    if (!s->written) {
        /* An unwritten element reads as zeros when the element shape says what they are. */
        if (!pl__pshape_fully_defined(&ta->element_shape)) {
            char sb[160];
            return pl_error(PL_INVALID_ARGUMENT,
                            "TensorArray %s: Could not read from TensorArray index %d.  Furthermore, the element "
                            "shape is not fully defined: %s.  It is possible you are working with a resizeable "
                            "TensorArray and stop_gradients is not allowing the gradients to be written.  If you set "
                            "the full element_shape property on the forward TensorArray, the proper all-zeros tensor "
                            "will be returned instead of incurring this error.",
                            ta->name, index, pl__pshape_str(&ta->element_shape, sb, sizeof sb));
        }
        s->rank = ta->element_shape.rank;
        memcpy(s->dims, ta->element_shape.dims, sizeof s->dims);
        s->written = true;
    }
    if (s->cleared)
        return pl_error(PL_INVALID_ARGUMENT,
                        "TensorArray %s: Could not read index %d twice because it was cleared after a previous read "
                        "(perhaps try setting clear_after_read = false?).",
                        ta->name, index);
    if (!s->tensor || s->tensor->count == 0) {
        pl_tensor *z;
        PL_TRY(pl_tensor_zeros(ta->dtype, s->rank, s->dims, &z));
        pl_tensor_unref(s->tensor);
        s->tensor = z;
    }
    *out = pl_tensor_ref(s->tensor);
    if (ta->clear_after_read) {
        pl_tensor_unref(s->tensor);
        s->tensor = NULL;
        s->cleared = true;
    }
    s->read = true;
    return NULL;
}

/* ---- kernels ---- */

typedef struct ta_attrs {
    pl_dtype dtype;
    pl__pshape element_shape;
    bool dynamic_size, clear_after_read, identical_element_shapes;
    char *name;
} ta_attrs;

static void ta_attrs_free(void *state) {
    ta_attrs *a = state;
    if (a) free(a->name);
    free(a);
}

static pl_status create_prepare(pl_kernel_prep *p) {
    ta_attrs *a = calloc(1, sizeof *a);
    if (!a) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = a;
    PL_TRY(pl_attr_type(p->attrs, "dtype", &a->dtype));
    PL_TRY(attr_pshape(p->attrs, "element_shape", &a->element_shape));
    a->dynamic_size = pl_attr_bool_or(p->attrs, "dynamic_size", false);
    a->clear_after_read = pl_attr_bool_or(p->attrs, "clear_after_read", true);
    a->identical_element_shapes = pl_attr_bool_or(p->attrs, "identical_element_shapes", false);
    const char *name = NULL;
    size_t len = 0;
    if (pl_attr_has(p->attrs, "tensor_array_name")) PL_TRY(pl_attr_string(p->attrs, "tensor_array_name", &name, &len));
    if (len == 0) {
        name = p->node_name;
        len = strlen(name);
    }
    a->name = strndup(name, len);
    if (!a->name) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    if (p->num_outputs < 2) p->num_outputs = 2;
    return NULL;
}

static pl_status flow_scalar(pl_kernel_ctx *c, int out) {
    pl_tensor *flow;
    PL_TRY(pl_tensor_scalar(PL_DT_FLOAT, 0, &flow));
    pl_ctx_set_output(c, out, flow);
    return NULL;
}

static pl_status create_compute(pl_kernel_ctx *c) {
    const ta_attrs *a = c->state;
    const pl_tensor *size = c->inputs[0];
    char sb[160];
    if (size->rank != 0 || size->dtype != PL_DT_INT32)
        return pl_error(PL_INVALID_ARGUMENT, "TensorArray size must be scalar, but had shape: %s",
                        pl_shape_str(size->rank, size->dims, sb, sizeof sb));
    int32_t n = *(const int32_t *)size->data;
    if (n < 0) return pl_error(PL_INVALID_ARGUMENT, "Size should be >= 0.");
    tensor_array *ta = calloc(1, sizeof *ta);
    if (!ta) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_object_init(&ta->base, &tensor_array_type);
    int id = atomic_fetch_add(&tensor_array_counter, 1);
    size_t len = strlen(a->name) + 16;
    ta->name = malloc(len);
    if (ta->name) snprintf(ta->name, len, "%s_%d", a->name, id);
    ta->dtype = a->dtype;
    ta->element_shape = a->element_shape;
    ta->dynamic_size = a->dynamic_size;
    ta->clear_after_read = a->clear_after_read;
    ta->identical_element_shapes = a->identical_element_shapes;
    pl_status st = ta->name ? resize(ta, n) : pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_tensor *handle = NULL;
    if (!st) st = pl_tensor_alloc(PL_DT_RESOURCE, 0, NULL, &handle);
    if (st) {
        pl_object_unref(&ta->base);
        return st;
    }
    pl_tensor_set_object(handle, 0, &ta->base);
    pl_ctx_set_output(c, 0, handle);
    return flow_scalar(c, 1);
}

static pl_status get_array(const pl_kernel_ctx *c, tensor_array **out) {
    const pl_tensor *h = c->inputs[0];
    pl_object *obj = h->dtype == PL_DT_RESOURCE && h->count == 1 ? pl_tensor_object(h, 0) : NULL;
    if (!obj || obj->type != &tensor_array_type)
        return pl_error(PL_INVALID_ARGUMENT, "input 0 is not a TensorArray handle");
    *out = (tensor_array *)obj;
    return NULL;
}

static pl_status scalar_index(const pl_tensor *t, int32_t *out) {
    char sb[160];
    if (t->rank != 0 || t->dtype != PL_DT_INT32)
        return pl_error(PL_INVALID_ARGUMENT, "TensorArray index must be scalar, but had shape: %s",
                        pl_shape_str(t->rank, t->dims, sb, sizeof sb));
    *out = *(const int32_t *)t->data;
    return NULL;
}

static pl_status check_read_dtype(const tensor_array *ta, pl_dtype want) {
    if (want == ta->dtype) return NULL;
    return pl_error(PL_INVALID_ARGUMENT, "TensorArray dtype is %s but Op requested dtype %s.", pl_dtype_string(ta->dtype),
                    pl_dtype_string(want));
}

static pl_status check_write_dtype(const tensor_array *ta, pl_dtype got) {
    if (got == ta->dtype) return NULL;
    return pl_error(PL_INVALID_ARGUMENT, "TensorArray dtype is %s but Op is trying to write dtype %s.",
                    pl_dtype_string(ta->dtype), pl_dtype_string(got));
}

static pl_status write_compute(pl_kernel_ctx *c) {
    /* handle, index, value, flow_in -> flow_out */
    pl_ctx_forward(c, 3, 0);
    int32_t index;
    PL_TRY(scalar_index(c->inputs[1], &index));
    tensor_array *ta;
    PL_TRY(get_array(c, &ta));
    PL_TRY(check_write_dtype(ta, c->inputs[2]->dtype));
    return ta_write(ta, index, c->inputs[2]);
}

typedef struct read_attrs {
    pl_dtype dtype;
    pl__pshape element_shape;
} read_attrs;

static pl_status read_prepare(pl_kernel_prep *p) {
    read_attrs *a = calloc(1, sizeof *a);
    if (!a) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = a;
    PL_TRY(pl_attr_type(p->attrs, "dtype", &a->dtype));
    PL_TRY(attr_pshape(p->attrs, "element_shape", &a->element_shape));
    if (a->element_shape.rank < 0) PL_TRY(attr_pshape(p->attrs, "element_shape_except0", &a->element_shape));
    return NULL;
}

static pl_status concat_prepare(pl_kernel_prep *p) {
    if (p->num_outputs < 2) p->num_outputs = 2;
    return read_prepare(p);
}

static pl_status read_compute(pl_kernel_ctx *c) {
    /* handle, index, flow_in -> value */
    const read_attrs *a = c->state;
    int32_t index;
    PL_TRY(scalar_index(c->inputs[1], &index));
    tensor_array *ta;
    PL_TRY(get_array(c, &ta));
    PL_TRY(check_read_dtype(ta, a->dtype));
    pl_tensor *v;
    PL_TRY(ta_read(ta, index, &v));
    pl_ctx_set_output(c, 0, v);
    return NULL;
}

static pl_status read_many(tensor_array *ta, const int32_t *indices, int32_t n, pl_tensor **values) {
    for (int32_t i = 0; i < n; i++) PL_TRY(ta_read(ta, indices ? indices[i] : i, &values[i]));
    return NULL;
}

static void unref_all(pl_tensor **v, int32_t n) {
    for (int32_t i = 0; i < n; i++) pl_tensor_unref(v[i]);
    free(v);
}

static pl_status gather_compute(pl_kernel_ctx *c) {
    /* handle, indices, flow_in -> value */
    const read_attrs *a = c->state;
    tensor_array *ta;
    PL_TRY(get_array(c, &ta));
    PL_TRY(check_read_dtype(ta, a->dtype));
    PL_TRY(pl__pshape_merge(&ta->element_shape, a->element_shape.rank, a->element_shape.dims));
    const pl_tensor *idx = c->inputs[1];
    char s1[160], s2[160];
    if (idx->rank != 1 || idx->dtype != PL_DT_INT32)
        return pl_error(PL_INVALID_ARGUMENT, "Expected indices to be a vector, but received shape: %s",
                        pl_shape_str(idx->rank, idx->dims, s1, sizeof s1));
    int32_t n = (int32_t)idx->count;
    pl_tensor *out;
    if (n == 0) {
        if (!pl__pshape_fully_defined(&a->element_shape) || a->element_shape.rank >= PL_MAX_RANK)
            return pl_error(PL_UNIMPLEMENTED,
                            "TensorArray has size zero, but element shape %s is not fully defined. Currently only "
                            "static shapes are supported when packing zero-size TensorArrays.",
                            pl__pshape_str(&a->element_shape, s1, sizeof s1));
        int64_t dims[PL_MAX_RANK] = {0};
        memcpy(dims + 1, a->element_shape.dims, (size_t)a->element_shape.rank * sizeof *dims);
        return pl_ctx_alloc_output(c, 0, a->dtype, a->element_shape.rank + 1, dims, &out);
    }
    pl_tensor **values = calloc((size_t)n, sizeof *values);
    if (!values) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_status st = read_many(ta, idx->data, n, values);
    const pl_tensor *v0 = values[0];
    if (!st && !pl__pshape_compatible(&a->element_shape, v0->rank, v0->dims))
        st = pl_error(PL_INVALID_ARGUMENT, "TensorArray was passed element_shape %s which does not match the Tensor at "
                      "index 0: %s", pl__pshape_str(&a->element_shape, s1, sizeof s1),
                      pl_shape_str(v0->rank, v0->dims, s2, sizeof s2));
    for (int32_t i = 1; !st && i < n; i++)
        if (!pl_tensor_same_shape(v0, values[i]))
            st = pl_error(PL_INVALID_ARGUMENT, "TensorArray has inconsistent shapes.  Index 0 has shape: %s but index %d "
                          "has shape: %s", pl_shape_str(v0->rank, v0->dims, s1, sizeof s1), i,
                          pl_shape_str(values[i]->rank, values[i]->dims, s2, sizeof s2));
    if (!st && v0->rank >= PL_MAX_RANK) st = pl_error(PL_UNIMPLEMENTED, "TensorArray elements have too many dimensions");
    if (!st) {
        int64_t dims[PL_MAX_RANK];
        dims[0] = n;
        memcpy(dims + 1, v0->dims, (size_t)v0->rank * sizeof *dims);
        st = pl_ctx_alloc_output(c, 0, a->dtype, v0->rank + 1, dims, &out);
        for (int32_t i = 0; !st && i < n; i++) st = pl__arr_copy(out, (int64_t)i * v0->count, values[i], 0, v0->count);
    }
    unref_all(values, n);
    return st;
}

static pl_status concat_compute(pl_kernel_ctx *c) {
    /* handle, flow_in -> value, lengths */
    const read_attrs *a = c->state;
    tensor_array *ta;
    PL_TRY(get_array(c, &ta));
    PL_TRY(check_read_dtype(ta, a->dtype));
    if (ta->closed) return closed_error(ta);
    int32_t n = ta->size;
    char s1[160], s2[160];
    pl_tensor *out, *lengths;
    if (n == 0) {
        if (!pl__pshape_fully_defined(&a->element_shape) || a->element_shape.rank >= PL_MAX_RANK)
            return pl_error(PL_UNIMPLEMENTED,
                            "TensorArray has size zero, but element_shape_except0 %s is not fully defined. Currently "
                            "only static shapes are supported when concatenating zero-size TensorArrays.",
                            pl__pshape_str(&a->element_shape, s1, sizeof s1));
        int64_t dims[PL_MAX_RANK] = {0}, zero = 0;
        memcpy(dims + 1, a->element_shape.dims, (size_t)a->element_shape.rank * sizeof *dims);
        PL_TRY(pl_ctx_alloc_output(c, 0, a->dtype, a->element_shape.rank + 1, dims, &out));
        return pl_ctx_alloc_output(c, 1, PL_DT_INT64, 1, &zero, &lengths);
    }
    pl_tensor **values = calloc((size_t)n, sizeof *values);
    if (!values) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_status st = read_many(ta, NULL, n, values);
    int64_t nn = n;
    if (!st) st = pl_ctx_alloc_output(c, 1, PL_DT_INT64, 1, &nn, &lengths);
    int64_t total = 0;
    const pl_tensor *v0 = values[0];
    for (int32_t i = 0; !st && i < n; i++) {
        const pl_tensor *v = values[i];
        if (v->rank < 1) {
            st = pl_error(PL_INVALID_ARGUMENT, "Concat saw a scalar shape at index %d but requires at least vectors.  "
                          "Did you mean to call pack?", i);
            break;
        }
        ((int64_t *)lengths->data)[i] = v->dims[0];
        total += v->dims[0];
        if (i == 0) {
            if (!pl__pshape_compatible(&a->element_shape, v->rank - 1, v->dims + 1))
                st = pl_error(PL_INVALID_ARGUMENT, "TensorArray was passed element_shape_except0 %s but index 0 has "
                              "(excepting dimension 0) shape: %s which does not match.",
                              pl__pshape_str(&a->element_shape, s1, sizeof s1),
                              pl_shape_str(v->rank - 1, v->dims + 1, s2, sizeof s2));
        } else if (v->rank != v0->rank || memcmp(v->dims + 1, v0->dims + 1, (size_t)(v->rank - 1) * sizeof *v->dims)) {
            st = pl_error(PL_INVALID_ARGUMENT, "TensorArray has inconsistent shapes.  Index 0 has (excepting dimension 0) "
                          "shape: %s but index %d has (excepting dimension 0) shape: %s",
                          pl_shape_str(v0->rank - 1, v0->dims + 1, s1, sizeof s1), i,
                          pl_shape_str(v->rank - 1, v->dims + 1, s2, sizeof s2));
        }
    }
    if (!st) {
        int64_t dims[PL_MAX_RANK];
        memcpy(dims, v0->dims, (size_t)v0->rank * sizeof *dims);
        dims[0] = total;
        st = pl_ctx_alloc_output(c, 0, a->dtype, v0->rank, dims, &out);
        int64_t off = 0;
        for (int32_t i = 0; !st && i < n; i++) {
            st = pl__arr_copy(out, off, values[i], 0, values[i]->count);
            off += values[i]->count;
        }
    }
    unref_all(values, n);
    return st;
}

static pl_status scatter_compute(pl_kernel_ctx *c) {
    /* handle, indices, value, flow_in -> flow_out */
    pl_ctx_forward(c, 3, 0);
    tensor_array *ta;
    PL_TRY(get_array(c, &ta));
    const pl_tensor *value = c->inputs[2], *idx = c->inputs[1];
    char s1[160];
    PL_TRY(check_write_dtype(ta, value->dtype));
    if (value->rank < 1)
        return pl_error(PL_INVALID_ARGUMENT, "Input value for unpack must be at least a vector but received shape: %s",
                        pl_shape_str(value->rank, value->dims, s1, sizeof s1));
    if (value->dims[0] > INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "tensor dim0 too large to unpack");
    if (ta->closed) return closed_error(ta);
    if (idx->rank != 1 || idx->dtype != PL_DT_INT32)
        return pl_error(PL_INVALID_ARGUMENT, "Expected indices to be a vector, but received shape: %s",
                        pl_shape_str(idx->rank, idx->dims, s1, sizeof s1));
    if (idx->count != value->dims[0])
        return pl_error(PL_INVALID_ARGUMENT, "Expected len(indices) == values.shape[0], but saw: %lld vs. %lld",
                        (long long)idx->count, (long long)value->dims[0]);
    const int32_t *ix = idx->data;
    int32_t n = (int32_t)idx->count, max_index = -1;
    for (int32_t i = 0; i < n; i++)
        if (ix[i] > max_index) max_index = ix[i];
    int64_t array_size = ta->size;
    if (ta->dynamic_size && array_size < (int64_t)max_index + 1) array_size = (int64_t)max_index + 1;
    if (max_index >= array_size)
        return pl_error(PL_INVALID_ARGUMENT, "Max scatter index must be < array size (%d vs. %lld)", max_index,
                        (long long)array_size);
    int64_t per = value->dims[0] ? value->count / value->dims[0] : 0;
    pl_status st = NULL;
    /* TensorFlow writes the last index first. */
    for (int32_t i = n - 1; !st && i >= 0; i--) {
        pl_tensor *e;
        st = pl_tensor_alloc(ta->dtype, value->rank - 1, value->dims + 1, &e);
        if (st) break;
        st = pl__arr_copy(e, 0, value, (int64_t)i * per, per);
        if (!st) st = ta_write(ta, ix[i], e);
        pl_tensor_unref(e);
    }
    return st;
}

static pl_status split_compute(pl_kernel_ctx *c) {
    /* handle, value, lengths, flow_in -> flow_out */
    pl_ctx_forward(c, 3, 0);
    tensor_array *ta;
    PL_TRY(get_array(c, &ta));
    const pl_tensor *value = c->inputs[1], *lens = c->inputs[2];
    char s1[160];
    if (lens->rank != 1 || lens->dtype != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "Expected lengths to be a vector, received shape: %s",
                        pl_shape_str(lens->rank, lens->dims, s1, sizeof s1));
    if (lens->count > INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "Expected lengths to have < max int32 entries");
    int32_t n = (int32_t)lens->count;
    const int64_t *len = lens->data;
    int64_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        if (len[i] < 0 || total > INT64_MAX - len[i]) return pl_error(PL_INVALID_ARGUMENT, "invalid lengths");
        total += len[i];
    }
    if (value->rank < 1)
        return pl_error(PL_INVALID_ARGUMENT, "Expected value to be at least a vector, but received shape: %s",
                        pl_shape_str(value->rank, value->dims, s1, sizeof s1));
    if (total != value->dims[0])
        return pl_error(PL_INVALID_ARGUMENT, "Expected sum of lengths to be equal to values.shape[0], but sum of lengths "
                        "is %lld and value's shape is: %s", (long long)total,
                        pl_shape_str(value->rank, value->dims, s1, sizeof s1));
    if (ta->closed) return closed_error(ta);
    int64_t per = total ? value->count / total : 0;
    int64_t array_size = ta->size;
    if (ta->dynamic_size && array_size < n) array_size = n;
    if (array_size != n)
        return pl_error(PL_INVALID_ARGUMENT, "TensorArray's size is not equal to the size of lengths (%lld vs. %d), and "
                        "the TensorArray is not marked as dynamically resizeable", (long long)array_size, n);
    PL_TRY(check_write_dtype(ta, value->dtype));
    pl_status st = NULL;
    int64_t *offsets = malloc(((size_t)n + 1) * sizeof *offsets);
    if (!offsets) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    offsets[0] = 0;
    for (int32_t i = 0; i < n; i++) offsets[i + 1] = offsets[i] + len[i];
    for (int32_t i = n - 1; !st && i >= 0; i--) {
        int64_t dims[PL_MAX_RANK];
        memcpy(dims, value->dims, (size_t)value->rank * sizeof *dims);
        dims[0] = len[i];
        pl_tensor *e;
        st = pl_tensor_alloc(ta->dtype, value->rank, dims, &e);
        if (st) break;
        st = pl__arr_copy(e, 0, value, offsets[i] * per, len[i] * per);
        if (!st) st = ta_write(ta, i, e);
        pl_tensor_unref(e);
    }
    free(offsets);
    return st;
}

static pl_status size_compute(pl_kernel_ctx *c) {
    tensor_array *ta;
    PL_TRY(get_array(c, &ta));
    if (ta->closed) return closed_error(ta);
    pl_tensor *t;
    PL_TRY(pl_tensor_scalar(PL_DT_INT32, ta->size, &t));
    pl_ctx_set_output(c, 0, t);
    return NULL;
}

static pl_status close_compute(pl_kernel_ctx *c) {
    tensor_array *ta;
    PL_TRY(get_array(c, &ta));
    /* Cleared and marked closed; the object itself goes with its last handle. */
    for (int32_t i = 0; i < ta->size; i++) pl_tensor_unref(ta->slots[i].tensor);
    free(ta->slots);
    ta->slots = NULL;
    ta->size = ta->cap = 0;
    ta->closed = true;
    return NULL;
}

const pl_kernel_def pl_kernels_tensor_array[] = {
    {.op = "TensorArrayV3", .prepare = create_prepare, .compute = create_compute, .release = ta_attrs_free,
     .flags = PL_KERNEL_STATEFUL},
    {.op = "TensorArrayWriteV3", .compute = write_compute, .flags = PL_KERNEL_STATEFUL},
    {.op = "TensorArrayReadV3", .prepare = read_prepare, .compute = read_compute, .release = free,
     .flags = PL_KERNEL_STATEFUL},
    {.op = "TensorArrayGatherV3", .prepare = read_prepare, .compute = gather_compute, .release = free,
     .flags = PL_KERNEL_STATEFUL},
    {.op = "TensorArrayConcatV3", .prepare = concat_prepare, .compute = concat_compute, .release = free,
     .flags = PL_KERNEL_STATEFUL},
    {.op = "TensorArrayScatterV3", .compute = scatter_compute, .flags = PL_KERNEL_STATEFUL},
    {.op = "TensorArraySplitV3", .compute = split_compute, .flags = PL_KERNEL_STATEFUL},
    {.op = "TensorArraySizeV3", .compute = size_compute, .flags = PL_KERNEL_STATEFUL},
    {.op = "TensorArrayCloseV3", .compute = close_compute, .flags = PL_KERNEL_STATEFUL},
    {0},
};
