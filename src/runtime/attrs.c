/* The pl_attr_* accessors of kernel.h over a NodeDef's attr map. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"
#include "tensor/tensor_proto.h"

pl_status pl__attrs_init(pl_attrs *a, size_t n, const char *const *keys, const Tensorflow__AttrValue *const *values) {
    a->n = 0;
    a->items = NULL;
    if (n == 0) return NULL;
    a->items = calloc(n, sizeof *a->items);
    if (!a->items) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    a->n = (int)n;
    for (size_t i = 0; i < n; i++) {
        pl__attr *it = &a->items[i];
        it->name = keys[i] ? keys[i] : "";
        it->value = values[i];
        atomic_init(&it->tensor, NULL);
        const Tensorflow__AttrValue *v = values[i];
        if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST && v->list && v->list->n_type) {
            it->types = malloc(v->list->n_type * sizeof *it->types);
            if (!it->types) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
            for (size_t k = 0; k < v->list->n_type; k++) it->types[k] = (pl_dtype)v->list->type[k];
        }
    }
    return NULL;
}

void pl__attrs_deinit(pl_attrs *a) {
    for (int i = 0; i < a->n; i++) {
        free(a->items[i].types);
        pl_tensor_unref(atomic_load(&a->items[i].tensor));
    }
    free(a->items);
    a->items = NULL;
    a->n = 0;
}

static const pl__attr *find(const pl_attrs *a, const char *name) {
    if (!a) return NULL;
    for (int i = 0; i < a->n; i++)
        if (a->items[i].value && !strcmp(a->items[i].name, name)) return &a->items[i];
    return NULL;
}

const Tensorflow__AttrValue *pl__attrs_get(const pl_attrs *a, const char *name) {
    const pl__attr *it = find(a, name);
    return it ? it->value : NULL;
}

bool pl_attr_has(const pl_attrs *a, const char *name) { return find(a, name) != NULL; }

static pl_status get(const pl_attrs *a, const char *name, Tensorflow__AttrValue__ValueCase kind, const char *what,
                     const pl__attr **out) {
    const pl__attr *it = find(a, name);
    if (!it) return pl_error(PL_INVALID_ARGUMENT, "NodeDef missing attr '%s'", name);
    if (it->value->value_case != kind)
        return pl_error(PL_INVALID_ARGUMENT, "attr '%s' is not of type %s", name, what);
    *out = it;
    return NULL;
}

pl_status pl_attr_int(const pl_attrs *a, const char *name, int64_t *out) {
    const pl__attr *it;
    PL_TRY(get(a, name, TENSORFLOW__ATTR_VALUE__VALUE_I, "int", &it));
    *out = it->value->i;
    return NULL;
}

pl_status pl_attr_float(const pl_attrs *a, const char *name, float *out) {
    const pl__attr *it;
    PL_TRY(get(a, name, TENSORFLOW__ATTR_VALUE__VALUE_F, "float", &it));
    *out = it->value->f;
    return NULL;
}

pl_status pl_attr_bool(const pl_attrs *a, const char *name, bool *out) {
    const pl__attr *it;
    PL_TRY(get(a, name, TENSORFLOW__ATTR_VALUE__VALUE_B, "bool", &it));
    *out = it->value->b != 0;
    return NULL;
}

pl_status pl_attr_type(const pl_attrs *a, const char *name, pl_dtype *out) {
    const pl__attr *it;
    PL_TRY(get(a, name, TENSORFLOW__ATTR_VALUE__VALUE_TYPE, "type", &it));
    *out = (pl_dtype)it->value->type;
    return NULL;
}

pl_status pl_attr_string(const pl_attrs *a, const char *name, const char **data, size_t *len) {
    const pl__attr *it;
    PL_TRY(get(a, name, TENSORFLOW__ATTR_VALUE__VALUE_S, "string", &it));
    *data = it->value->s.data ? (const char *)it->value->s.data : "";
    *len = it->value->s.len;
    return NULL;
}

pl_status pl_attr_shape(const pl_attrs *a, const char *name, int *rank, int64_t dims[PL_MAX_RANK]) {
    const pl__attr *it;
    PL_TRY(get(a, name, TENSORFLOW__ATTR_VALUE__VALUE_SHAPE, "shape", &it));
    return pl_status_prefix(pl_partial_shape_from_proto(it->value->shape, rank, dims), "attr '%s': ", name);
}

static pl_status shape_list(const pl_attrs *a, const char *name, const Tensorflow__AttrValue__ListValue **out) {
    const pl__attr *it;
    PL_TRY(get(a, name, TENSORFLOW__ATTR_VALUE__VALUE_LIST, "list(shape)", &it));
    *out = it->value->list;
    return NULL;
}

pl_status pl_attr_shape_list_len(const pl_attrs *a, const char *name, int *n) {
    const Tensorflow__AttrValue__ListValue *list;
    PL_TRY(shape_list(a, name, &list));
    *n = list ? (int)list->n_shape : 0;
    return NULL;
}

pl_status pl_attr_shape_list_at(const pl_attrs *a, const char *name, int i, int *rank, int64_t dims[PL_MAX_RANK]) {
    const Tensorflow__AttrValue__ListValue *list;
    PL_TRY(shape_list(a, name, &list));
    if (!list || i < 0 || (size_t)i >= list->n_shape)
        return pl_error(PL_INVALID_ARGUMENT, "attr '%s' has no shape at index %d", name, i);
    return pl_status_prefix(pl_partial_shape_from_proto(list->shape[i], rank, dims), "attr '%s'[%d]: ", name, i);
}

pl_status pl_attr_tensor(const pl_attrs *a, const char *name, pl_tensor **out) {
    const pl__attr *it;
    PL_TRY(get(a, name, TENSORFLOW__ATTR_VALUE__VALUE_TENSOR, "tensor", &it));
    /* Converted once and shared, so preparing a graph many times (one
     * execution per set of fetches) keeps one copy of its constants. */
    pl__attr *m = (pl__attr *)it;
    pl_tensor *t = atomic_load(&m->tensor);
    if (!t) {
        if (!it->value->tensor) return pl_error(PL_INVALID_ARGUMENT, "attr '%s' holds no tensor", name);
        PL_TRY(pl_status_prefix(pl_tensor_from_proto(it->value->tensor, &t), "attr '%s': ", name));
        pl_tensor *expected = NULL;
        if (!atomic_compare_exchange_strong(&m->tensor, &expected, t)) {
            pl_tensor_unref(t);
            t = expected;
        }
    }
    *out = pl_tensor_ref(t);
    return NULL;
}

static pl_status get_list(const pl_attrs *a, const char *name, const pl__attr **out) {
    const pl__attr *it = find(a, name);
    if (!it) return pl_error(PL_INVALID_ARGUMENT, "NodeDef missing attr '%s'", name);
    if (it->value->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST)
        return pl_error(PL_INVALID_ARGUMENT, "attr '%s' is not a list", name);
    *out = it;
    return NULL;
}

static const Tensorflow__AttrValue__ListValue empty_list;

static const Tensorflow__AttrValue__ListValue *list_of(const pl__attr *it) {
    return it->value->list ? it->value->list : &empty_list;
}

/* An empty list carries no element type on the wire, so it passes as any kind. */
static pl_status check_list_kind(const char *name, const Tensorflow__AttrValue__ListValue *l, size_t n,
                                 const char *what) {
    size_t total = l->n_s + l->n_i + l->n_f + l->n_b + l->n_type + l->n_shape + l->n_tensor + l->n_func;
    if (total != n) return pl_error(PL_INVALID_ARGUMENT, "attr '%s' is not of type list(%s)", name, what);
    if (n > (size_t)INT32_MAX) return pl_error(PL_INVALID_ARGUMENT, "attr '%s' is too long", name);
    return NULL;
}

/* protobuf-c leaves an empty repeated field NULL. Kernels copy `n` items or
 * offset into them without testing for an empty list, and memcpy or pointer
 * arithmetic on a null pointer is undefined even for zero items, so an empty
 * list hands out these instead. */
static const int64_t no_ints[1];
static const float no_floats[1];
static const pl_dtype no_types[1];

pl_status pl_attr_int_list(const pl_attrs *a, const char *name, const int64_t **items, int *n) {
    const pl__attr *it;
    PL_TRY(get_list(a, name, &it));
    const Tensorflow__AttrValue__ListValue *l = list_of(it);
    PL_TRY(check_list_kind(name, l, l->n_i, "int"));
    *items = l->n_i ? l->i : no_ints;
    *n = (int)l->n_i;
    return NULL;
}

pl_status pl_attr_float_list(const pl_attrs *a, const char *name, const float **items, int *n) {
    const pl__attr *it;
    PL_TRY(get_list(a, name, &it));
    const Tensorflow__AttrValue__ListValue *l = list_of(it);
    PL_TRY(check_list_kind(name, l, l->n_f, "float"));
    *items = l->n_f ? l->f : no_floats;
    *n = (int)l->n_f;
    return NULL;
}

pl_status pl_attr_type_list(const pl_attrs *a, const char *name, const pl_dtype **items, int *n) {
    const pl__attr *it;
    PL_TRY(get_list(a, name, &it));
    const Tensorflow__AttrValue__ListValue *l = list_of(it);
    PL_TRY(check_list_kind(name, l, l->n_type, "type"));
    *items = l->n_type ? it->types : no_types;
    *n = (int)l->n_type;
    return NULL;
}

pl_status pl_attr_func(const pl_attrs *a, const char *name, const char **func_name) {
    const pl__attr *it;
    PL_TRY(get(a, name, TENSORFLOW__ATTR_VALUE__VALUE_FUNC, "func", &it));
    if (!it->value->func || !it->value->func->name)
        return pl_error(PL_INVALID_ARGUMENT, "attr '%s' names no function", name);
    *func_name = it->value->func->name;
    return NULL;
}

int64_t pl_attr_int_or(const pl_attrs *a, const char *name, int64_t dflt) {
    const pl__attr *it = find(a, name);
    return it && it->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE_I ? it->value->i : dflt;
}

float pl_attr_float_or(const pl_attrs *a, const char *name, float dflt) {
    const pl__attr *it = find(a, name);
    return it && it->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE_F ? it->value->f : dflt;
}

bool pl_attr_bool_or(const pl_attrs *a, const char *name, bool dflt) {
    const pl__attr *it = find(a, name);
    return it && it->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE_B ? it->value->b != 0 : dflt;
}

pl_dtype pl_attr_type_or(const pl_attrs *a, const char *name, pl_dtype dflt) {
    const pl__attr *it = find(a, name);
    return it && it->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE ? (pl_dtype)it->value->type : dflt;
}

bool pl_attr_string_equals(const pl_attrs *a, const char *name, const char *value) {
    const pl__attr *it = find(a, name);
    if (!it || it->value->value_case != TENSORFLOW__ATTR_VALUE__VALUE_S) return false;
    size_t n = strlen(value);
    return it->value->s.len == n && (n == 0 || !memcmp(it->value->s.data, value, n));
}
