/* TensorList ops (the lists TF2 control flow carries through While loops):
 * a list is a pl_object inside a scalar VARIANT tensor, holding references
 * to immutable element tensors. Lists are values: an op that changes a
 * list changes it in place only when nothing else can see it (its tensor
 * and its object each have one reference, the consumer's own), and
 * otherwise changes a shallow copy, as TensorFlow forwards or copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/array_internal.h"
#include "ops/families.h"
#include "ops/partial_shape.h"

/* TensorShapeFromTensor: -1 as a scalar is an unknown rank; a vector gives dims (-1 unknown). */
static pl_status shape_from_tensor(const pl_tensor *t, pl__pshape *out) {
    if (t->dtype != PL_DT_INT32 && t->dtype != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "Expected an int32 or int64 shape tensor; found %s", pl_dtype_name(t->dtype));
    if (t->rank == 0) {
        if (pl_tensor_get_i64(t, 0) == -1) {
            out->rank = -1;
            return NULL;
        }
        return pl_error(PL_INVALID_ARGUMENT,
                        "The only valid scalar shape tensor is the fully unknown shape specified as -1.");
    }
    if (t->rank != 1 || t->count > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "element shape must be a vector of at most %d dims", PL_MAX_RANK);
    out->rank = (int)t->count;
    for (int i = 0; i < out->rank; i++) {
        out->dims[i] = pl_tensor_get_i64(t, i);
        if (out->dims[i] < -1)
            return pl_error(PL_INVALID_ARGUMENT, "Dimension %lld must be >= -1", (long long)out->dims[i]);
    }
    return NULL;
}

/* ---- the list ---- */

typedef struct tensor_list {
    pl_object base;
    pl_dtype element_dtype;
    pl__pshape element_shape;
    int64_t max_num_elements;  /* -1: unbounded */
    int64_t n, cap;
    pl_tensor **items;         /* NULL: an element never set (reads as zeros) */
} tensor_list;

static void list_destroy(pl_object *obj) {
    tensor_list *l = (tensor_list *)obj;
    for (int64_t i = 0; i < l->n; i++) pl_tensor_unref(l->items[i]);
    free(l->items);
    free(l);
}

static const pl_object_type list_type = {"tensorflow::TensorList", list_destroy};

/* Grows or shrinks to n elements; new ones are unset. */
static pl_status list_resize(tensor_list *l, int64_t n) {
    if (n > l->cap) {
        int64_t cap = l->cap ? l->cap : 4;
        while (cap < n) cap *= 2;
        pl_tensor **grown = realloc(l->items, (size_t)cap * sizeof *grown);
        if (!grown) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory growing a TensorList");
        l->items = grown;
        l->cap = cap;
    }
    for (int64_t i = n; i < l->n; i++) pl_tensor_unref(l->items[i]);
    for (int64_t i = l->n; i < n; i++) l->items[i] = NULL;
    l->n = n;
    return NULL;
}

static pl_status list_new(pl_dtype dtype, const pl__pshape *shape, int64_t n, tensor_list **out) {
    if (n < 0 || n > INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "invalid TensorList size %lld", (long long)n);
    tensor_list *l = calloc(1, sizeof *l);
    if (!l) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_object_init(&l->base, &list_type);
    l->element_dtype = dtype;
    l->element_shape = *shape;
    l->max_num_elements = -1;
    pl_status st = list_resize(l, n);
    if (st) {
        pl_object_unref(&l->base);
        return st;
    }
    *out = l;
    return NULL;
}

/* Wraps l (taking over its reference) as output i. */
static pl_status set_list_output(pl_kernel_ctx *c, int i, tensor_list *l) {
    pl_tensor *t;
    pl_status st = pl_tensor_alloc(PL_DT_VARIANT, 0, NULL, &t);
    if (st) {
        pl_object_unref(&l->base);
        return st;
    }
    pl_tensor_set_object(t, 0, &l->base);
    pl_ctx_set_output(c, i, t);
    return NULL;
}

static pl_status input_list(const pl_kernel_ctx *c, int i, tensor_list **out) {
    const pl_tensor *t = c->inputs[i];
    char buf[160];
    if (t->dtype != PL_DT_VARIANT || t->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "Input list must be a scalar saw: %s",
                        pl_shape_str(t->rank, t->dims, buf, sizeof buf));
    pl_object *obj = pl_tensor_object(t, 0);
    if (!obj || obj->type != &list_type) return pl_error(PL_INVALID_ARGUMENT, "Input handle is not a list.");
    *out = (tensor_list *)obj;
    return NULL;
}

/* ForwardInputOrCreateNewList: the list input 0 as output 0, ready to change.
 * In place when this consumer holds the only reference to both the tensor
 * and the list; otherwise a shallow copy (elements are shared, immutable). */
static pl_status writable_list(pl_kernel_ctx *c, tensor_list **out) {
    tensor_list *l;
    PL_TRY(input_list(c, 0, &l));
    pl_tensor *t = c->inputs[0];
    if (pl_tensor_unshared(t) && atomic_load(&l->base.refs) == 1) {
        pl_ctx_forward(c, 0, 0);
        *out = l;
        return NULL;
    }
    tensor_list *copy;
    PL_TRY(list_new(l->element_dtype, &l->element_shape, l->n, &copy));
    copy->max_num_elements = l->max_num_elements;
    for (int64_t i = 0; i < l->n; i++) copy->items[i] = pl_tensor_ref(l->items[i]);
    PL_TRY(set_list_output(c, 0, copy));
    *out = copy;
    return NULL;
}

static pl_status check_dtype(const tensor_list *l, pl_dtype op_dtype) {
    if (op_dtype == l->element_dtype) return NULL;
    return pl_error(PL_INVALID_ARGUMENT, "Invalid data types; op elements %s but list elements %s",
                    pl_dtype_string(op_dtype), pl_dtype_string(l->element_dtype));
}

static pl_status scalar_int(const pl_tensor *t, const char *what, int64_t *out) {
    char buf[160];
    if (t->rank != 0 || (t->dtype != PL_DT_INT32 && t->dtype != PL_DT_INT64))
        return pl_error(PL_INVALID_ARGUMENT, "%s must be a scalar, got shape %s", what,
                        pl_shape_str(t->rank, t->dims, buf, sizeof buf));
    *out = pl_tensor_get_i64(t, 0);
    return NULL;
}

/* GetElementShapeFromInput: the shape input merged with the list's. */
static pl_status element_shape_input(const pl_kernel_ctx *c, const tensor_list *l, int i, pl__pshape *out) {
    PL_TRY(shape_from_tensor(c->inputs[i], out));
    return pl__pshape_merge(out, l->element_shape.rank, l->element_shape.dims);
}

/* ---- kernels ---- */

typedef struct list_attrs {
    pl_dtype element_dtype;
    int64_t num_elements;           /* TensorListStack: -1 or the required length */
    pl_dtype shape_type;            /* TensorListElementShape's output */
    bool resize_if_out_of_bounds;   /* TensorListSetItem */
} list_attrs;

static pl_status attrs_prepare(pl_kernel_prep *p) {
    list_attrs *a = calloc(1, sizeof *a);
    if (!a) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = a;
    a->element_dtype = pl_attr_type_or(p->attrs, "element_dtype", PL_DT_INVALID);
    a->num_elements = pl_attr_int_or(p->attrs, "num_elements", -1);
    a->shape_type = pl_attr_type_or(p->attrs, "shape_type", PL_DT_INT32);
    a->resize_if_out_of_bounds = pl_attr_bool_or(p->attrs, "resize_if_index_out_of_bounds", false);
    if (!strcmp(p->op, "TensorListPopBack") && p->num_outputs < 2) p->num_outputs = 2;
    return NULL;
}

static pl_status empty_compute(pl_kernel_ctx *c) {
    /* element_shape, max_num_elements */
    const list_attrs *a = c->state;
    pl__pshape shape;
    PL_TRY(shape_from_tensor(c->inputs[0], &shape));
    int64_t max;
    PL_TRY(scalar_int(c->inputs[1], "max_num_elements", &max));
    tensor_list *l;
    PL_TRY(list_new(a->element_dtype, &shape, 0, &l));
    l->max_num_elements = max;
    return set_list_output(c, 0, l);
}

static pl_status reserve_compute(pl_kernel_ctx *c) {
    /* element_shape, num_elements */
    const list_attrs *a = c->state;
    pl__pshape shape;
    PL_TRY(shape_from_tensor(c->inputs[0], &shape));
    const pl_tensor *n_t = c->inputs[1];
    char buf[160];
    if (n_t->rank != 0 || n_t->dtype != PL_DT_INT32)
        return pl_error(PL_INVALID_ARGUMENT, "The num_elements to reserve must be a tensor size 1, but got %s",
                        pl_shape_str(n_t->rank, n_t->dims, buf, sizeof buf));
    int64_t n = pl_tensor_get_i64(n_t, 0);
    if (n < 0)
        return pl_error(PL_INVALID_ARGUMENT,
                        "The num_elements to reserve must be a non negative number, but got %lld", (long long)n);
    tensor_list *l;
    PL_TRY(list_new(a->element_dtype, &shape, n, &l));
    return set_list_output(c, 0, l);
}

static pl_status from_tensor_compute(pl_kernel_ctx *c) {
    /* tensor, element_shape */
    const pl_tensor *t = c->inputs[0];
    pl__pshape shape;
    PL_TRY(shape_from_tensor(c->inputs[1], &shape));
    char s1[160], s2[160];
    if (t->rank < 1)
        return pl_error(PL_INVALID_ARGUMENT, "Tensor must be at least a vector, but saw shape: %s",
                        pl_shape_str(t->rank, t->dims, s1, sizeof s1));
    if (!pl__pshape_compatible(&shape, t->rank - 1, t->dims + 1))
        return pl_error(PL_INVALID_ARGUMENT, "Specified a list with shape %s from a tensor with shape %s",
                        pl__pshape_str(&shape, s1, sizeof s1), pl_shape_str(t->rank - 1, t->dims + 1, s2, sizeof s2));
    tensor_list *l;
    PL_TRY(list_new(t->dtype, &shape, t->dims[0], &l));
    int64_t per = t->dims[0] ? t->count / t->dims[0] : 0;
    pl_status st = NULL;
    for (int64_t i = 0; !st && i < t->dims[0]; i++) {
        st = pl_tensor_alloc(t->dtype, t->rank - 1, t->dims + 1, &l->items[i]);
        if (!st) st = pl__arr_copy(l->items[i], 0, t, i * per, per);
    }
    if (st) {
        pl_object_unref(&l->base);
        return st;
    }
    return set_list_output(c, 0, l);
}

/* Zeros of the element shape an unset element reads as. */
static pl_status unset_element(const tensor_list *l, pl__pshape *shape, pl_tensor **out) {
    char buf[160];
    if (!pl__pshape_fully_defined(shape))
        for (int64_t i = 0; i < l->n; i++)
            if (l->items[i]) {
                pl__pshape tmp = *shape;
                PL_TRY(pl__pshape_merge(&tmp, l->items[i]->rank, l->items[i]->dims));
                *shape = tmp;
            }
    if (!pl__pshape_fully_defined(shape))
        return pl_error(PL_INVALID_ARGUMENT,
                        "Trying to read an uninitialized tensor but element_shape is not fully defined: %s and no "
                        "list element is set.",
                        pl__pshape_str(shape, buf, sizeof buf));
    return pl_tensor_zeros(l->element_dtype, shape->rank, shape->dims, out);
}

static pl_status get_item_compute(pl_kernel_ctx *c) {
    /* input_handle, index, element_shape */
    const list_attrs *a = c->state;
    tensor_list *l;
    PL_TRY(input_list(c, 0, &l));
    PL_TRY(check_dtype(l, a->element_dtype));
    int64_t index;
    PL_TRY(scalar_int(c->inputs[1], "index", &index));
    if (index < 0 || index >= l->n)
        return pl_error(PL_INVALID_ARGUMENT, "Trying to access element %lld in a list with %lld elements.",
                        (long long)index, (long long)l->n);
    if (l->items[index]) {
        pl_ctx_set_output(c, 0, pl_tensor_ref(l->items[index]));
        return NULL;
    }
    pl__pshape shape;
    PL_TRY(element_shape_input(c, l, 2, &shape));
    pl_tensor *z;
    PL_TRY(unset_element(l, &shape, &z));
    pl_ctx_set_output(c, 0, z);
    return NULL;
}

static pl_status check_item_shape(const tensor_list *l, const pl_tensor *v, const char *what) {
    if (pl__pshape_compatible(&l->element_shape, v->rank, v->dims)) return NULL;
    char s1[160], s2[160];
    return pl_error(PL_INVALID_ARGUMENT, "Tried to %s a tensor with incompatible shape %s list. Item element shape: %s "
                    "list shape: %s",
                    what, !strcmp(what, "set") ? "at a" : "to a", pl_shape_str(v->rank, v->dims, s1, sizeof s1),
                    pl__pshape_str(&l->element_shape, s2, sizeof s2));
}

static pl_status set_item_compute(pl_kernel_ctx *c) {
    /* input_handle, index, item */
    const list_attrs *a = c->state;
    tensor_list *l;
    PL_TRY(input_list(c, 0, &l));
    PL_TRY(check_dtype(l, a->element_dtype));
    int64_t index;
    PL_TRY(scalar_int(c->inputs[1], "index", &index));
    if (index < 0 || (index >= l->n && !a->resize_if_out_of_bounds))
        return pl_error(PL_INVALID_ARGUMENT, "Trying to modify element %lld in a list with %lld elements.",
                        (long long)index, (long long)l->n);
    pl_tensor *v = c->inputs[2];
    PL_TRY(check_dtype(l, v->dtype));
    PL_TRY(check_item_shape(l, v, "set"));
    tensor_list *out;
    PL_TRY(writable_list(c, &out));
    if (index >= out->n) PL_TRY(list_resize(out, index + 1));
    pl_tensor_unref(out->items[index]);
    out->items[index] = pl_tensor_ref(v);
    return NULL;
}

static pl_status push_back_compute(pl_kernel_ctx *c) {
    /* input_handle, tensor */
    const list_attrs *a = c->state;
    pl_tensor *v = c->inputs[1];
    if (v->dtype != a->element_dtype)
        return pl_error(PL_INVALID_ARGUMENT, "Invalid data types; list elements %s but tried to append %s",
                        pl_dtype_string(a->element_dtype), pl_dtype_string(v->dtype));
    tensor_list *l;
    PL_TRY(input_list(c, 0, &l));
    PL_TRY(check_item_shape(l, v, "append"));
    PL_TRY(check_dtype(l, a->element_dtype));
    if (l->max_num_elements != -1 && l->n >= l->max_num_elements)
        return pl_error(PL_INVALID_ARGUMENT, "Tried to push item into a full list list size: %lld max_num_elements: %lld",
                        (long long)l->n, (long long)l->max_num_elements);
    tensor_list *out;
    PL_TRY(writable_list(c, &out));
    PL_TRY(list_resize(out, out->n + 1));
    out->items[out->n - 1] = pl_tensor_ref(v);
    return NULL;
}

static pl_status pop_back_compute(pl_kernel_ctx *c) {
    /* input_handle, element_shape -> output_handle, tensor */
    const list_attrs *a = c->state;
    tensor_list *l;
    PL_TRY(input_list(c, 0, &l));
    PL_TRY(check_dtype(l, a->element_dtype));
    if (l->n == 0) return pl_error(PL_INVALID_ARGUMENT, "Trying to pop from an empty list.");
    pl_tensor *v = pl_tensor_ref(l->items[l->n - 1]);
    if (!v) {
        pl__pshape shape;
        PL_TRY(element_shape_input(c, l, 1, &shape));
        char buf[160];
        if (!pl__pshape_fully_defined(&shape))
            return pl_error(PL_INVALID_ARGUMENT,
                            "Trying to read an uninitialized tensor but element_shape is not fully defined.%s",
                            pl__pshape_str(&shape, buf, sizeof buf));
        PL_TRY(pl_tensor_zeros(l->element_dtype, shape.rank, shape.dims, &v));
    }
    pl_ctx_set_output(c, 1, v);
    tensor_list *out;
    PL_TRY(writable_list(c, &out));
    return list_resize(out, out->n - 1);
}

static pl_status length_compute(pl_kernel_ctx *c) {
    tensor_list *l;
    PL_TRY(input_list(c, 0, &l));
    pl_tensor *t;
    PL_TRY(pl_tensor_scalar(PL_DT_INT32, (double)l->n, &t));
    pl_ctx_set_output(c, 0, t);
    return NULL;
}

static pl_status element_shape_compute(pl_kernel_ctx *c) {
    const list_attrs *a = c->state;
    tensor_list *l;
    PL_TRY(input_list(c, 0, &l));
    pl_dtype st = a->shape_type == PL_DT_INT64 ? PL_DT_INT64 : PL_DT_INT32;
    pl_tensor *t;
    if (l->element_shape.rank < 0) {
        PL_TRY(pl_tensor_scalar(st, -1, &t));
        pl_ctx_set_output(c, 0, t);
        return NULL;
    }
    int64_t n = l->element_shape.rank;
    PL_TRY(pl_ctx_alloc_output(c, 0, st, 1, &n, &t));
    for (int i = 0; i < l->element_shape.rank; i++) {
        if (st == PL_DT_INT64) ((int64_t *)t->data)[i] = l->element_shape.dims[i];
        else ((int32_t *)t->data)[i] = (int32_t)l->element_shape.dims[i];
    }
    return NULL;
}

/* Stacks elements idx[0..n) (all of them when idx is NULL) under a leading dimension. */
static pl_status stack_elements(pl_kernel_ctx *c, const tensor_list *l, const int32_t *idx, int64_t n, pl__pshape shape) {
    char buf[160];
    for (int64_t k = 0; k < n; k++) {
        int64_t i = idx ? idx[k] : k;
        if (i < 0 || i >= l->n)
            return pl_error(PL_INVALID_ARGUMENT, "Index %lld out o range; list only has %lld elements.", (long long)i,
                            (long long)l->n);
        if (!pl__pshape_fully_defined(&l->element_shape) && l->items[i])
            PL_TRY(pl__pshape_merge(&shape, l->items[i]->rank, l->items[i]->dims));
    }
    if (!pl__pshape_fully_defined(&shape))
        return pl_error(PL_INVALID_ARGUMENT,
                        "Tried to stack list which only contains uninitialized tensors and has a non-fully-defined "
                        "element_shape: %s",
                        pl__pshape_str(&shape, buf, sizeof buf));
    if (shape.rank >= PL_MAX_RANK) return pl_error(PL_UNIMPLEMENTED, "TensorList elements have too many dimensions");
    int64_t dims[PL_MAX_RANK];
    dims[0] = n;
    memcpy(dims + 1, shape.dims, (size_t)shape.rank * sizeof *dims);
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, l->element_dtype, shape.rank + 1, dims, &out));
    int64_t per = n ? out->count / n : 0;
    for (int64_t k = 0; k < n; k++) {
        const pl_tensor *e = l->items[idx ? idx[k] : k];
        if (!e) {
            if (l->element_dtype != PL_DT_STRING && l->element_dtype != PL_DT_VARIANT &&
                l->element_dtype != PL_DT_RESOURCE)
                memset((char *)out->data + (size_t)(k * per) * pl_dtype_size(out->dtype), 0,
                       (size_t)per * pl_dtype_size(out->dtype));
            continue;
        }
        if (e->count != per || !pl__pshape_compatible(&shape, e->rank, e->dims))
            return pl_error(PL_INVALID_ARGUMENT, "Incompatible shapes during merge: %s vs. %s",
                            pl__pshape_str(&shape, buf, sizeof buf), pl_shape_str(e->rank, e->dims, buf, sizeof buf));
        PL_TRY(pl__arr_copy(out, k * per, e, 0, per));
    }
    return NULL;
}

static pl_status stack_compute(pl_kernel_ctx *c) {
    /* input_handle, element_shape */
    const list_attrs *a = c->state;
    tensor_list *l;
    PL_TRY(input_list(c, 0, &l));
    PL_TRY(check_dtype(l, a->element_dtype));
    if (a->num_elements != -1 && l->n != a->num_elements)
        return pl_error(PL_INVALID_ARGUMENT, "Operation expected a list with %lld elements but got a list with %lld "
                        "elements.", (long long)a->num_elements, (long long)l->n);
    pl__pshape shape;
    PL_TRY(element_shape_input(c, l, 1, &shape));
    char buf[160];
    if (!pl__pshape_fully_defined(&shape) && l->n == 0)
        return pl_error(PL_INVALID_ARGUMENT,
                        "Tried to stack elements of an empty list with non-fully-defined element_shape: %s",
                        pl__pshape_str(&shape, buf, sizeof buf));
    return stack_elements(c, l, NULL, l->n, shape);
}

static pl_status gather_compute(pl_kernel_ctx *c) {
    /* input_handle, indices, element_shape */
    const list_attrs *a = c->state;
    tensor_list *l;
    PL_TRY(input_list(c, 0, &l));
    PL_TRY(check_dtype(l, a->element_dtype));
    const pl_tensor *idx = c->inputs[1];
    char buf[160];
    if (idx->dtype != PL_DT_INT32 || idx->rank != 1)
        return pl_error(PL_INVALID_ARGUMENT, "Expected indices to be a vector, but received shape: %s",
                        pl_shape_str(idx->rank, idx->dims, buf, sizeof buf));
    pl__pshape shape;
    PL_TRY(element_shape_input(c, l, 2, &shape));
    if (!pl__pshape_fully_defined(&shape) && idx->count == 0)
        return pl_error(PL_INVALID_ARGUMENT, "Tried to gather 0-elements from a list with non-fully-defined shape: %s",
                        pl__pshape_str(&shape, buf, sizeof buf));
    return stack_elements(c, l, idx->data, idx->count, shape);
}

static pl_status resize_compute(pl_kernel_ctx *c) {
    /* input_handle, size */
    int64_t size;
    PL_TRY(scalar_int(c->inputs[1], "size", &size));
    if (size < 0)
        return pl_error(PL_INVALID_ARGUMENT, "TensorListSlice expects size to be non-negative. Got: %lld", (long long)size);
    tensor_list *out;
    PL_TRY(writable_list(c, &out));
    return list_resize(out, size);
}

#define LIST_OP(name, fn) {.op = name, .prepare = attrs_prepare, .compute = fn, .release = free}
const pl_kernel_def pl_kernels_tensor_list[] = {
    LIST_OP("EmptyTensorList", empty_compute),
    LIST_OP("TensorListReserve", reserve_compute),
    LIST_OP("TensorListFromTensor", from_tensor_compute),
    LIST_OP("TensorListGetItem", get_item_compute),
    LIST_OP("TensorListSetItem", set_item_compute),
    LIST_OP("TensorListPushBack", push_back_compute),
    LIST_OP("TensorListPopBack", pop_back_compute),
    LIST_OP("TensorListLength", length_compute),
    LIST_OP("TensorListElementShape", element_shape_compute),
    LIST_OP("TensorListStack", stack_compute),
    LIST_OP("TensorListGather", gather_compute),
    LIST_OP("TensorListResize", resize_compute),
    {0},
};
#undef LIST_OP
