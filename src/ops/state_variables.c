/* Variables: handles (VarHandleOp, and TF1 VariableV2 rewritten to a handle
 * at load), reads, assignments and in-graph updates (ResourceGather,
 * gradient descent). Values are immutable tensors swapped under the
 * variable's lock (see state_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/state_internal.h"
#include "runtime/session.h"

/* ---- the variable resource ---- */

static void variable_destroy(pl_object *obj) {
    pl__variable *v = (pl__variable *)obj;
    pl_tensor_unref(v->value);
    pthread_mutex_destroy(&v->mu);
    free(v->res.container);
    free(v->res.name);
    free(v);
}

const pl_object_type pl__variable_type = {"Var", variable_destroy};

typedef struct var_decl {
    const char *container, *name;
    pl_dtype dtype;
    int rank;
    const int64_t *dims;
    bool is_ref;
} var_decl;

static pl_status variable_create(void *arg, pl_object **out) {
    const var_decl *d = arg;
    pl__variable *v = calloc(1, sizeof *v);
    if (v) {
        v->res.container = strdup(d->container);
        v->res.name = strdup(d->name);
    }
    if (!v || !v->res.container || !v->res.name) {
        if (v) {
            free(v->res.container);
            free(v->res.name);
            free(v);
        }
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    pl_object_init(&v->res.base, &pl__variable_type);
    pthread_mutex_init(&v->mu, NULL);
    v->dtype = d->dtype;
    v->rank = d->rank;
    for (int i = 0; i < d->rank && i < PL_MAX_RANK; i++) v->dims[i] = d->dims[i];
    v->is_ref = d->is_ref;
    *out = &v->res.base;
    return NULL;
}

pl_status pl__variable_lookup_or_create(struct pl_session *s, const char *container, const char *name,
                                        pl_dtype dtype, int rank, const int64_t *dims, bool is_ref,
                                        pl__variable **out) {
    if (!s) return pl_error(PL_FAILED_PRECONDITION, "variable '%s' needs a session to live in", name);
    var_decl d = {container, name, dtype, rank, dims, is_ref};
    pl_object *obj = NULL;
    PL_TRY(pl_session_resource_lookup_or_create(s, container, name, &pl__variable_type, variable_create, &d, &obj));
    *out = (pl__variable *)obj;
    return NULL;
}

pl_status pl__handle_tensor(pl_object *obj, pl_tensor **out) {
    pl_tensor *t = NULL;
    PL_TRY(pl_tensor_alloc(PL_DT_RESOURCE, 0, NULL, &t));
    pl_tensor_set_object(t, 0, pl_object_ref(obj));
    *out = t;
    return NULL;
}

pl_status pl__variable_from_input(const pl_kernel_ctx *c, int i, pl__variable **out) {
    const pl_tensor *t = i < c->num_inputs ? c->inputs[i] : NULL;
    pl_object *obj = t && t->dtype == PL_DT_RESOURCE && t->count == 1 ? pl_tensor_object(t, 0) : NULL;
    if (!obj || obj->type != &pl__variable_type)
        return pl_error(PL_INVALID_ARGUMENT, "%s: input %d must be a variable handle (got %s)", c->node_name, i,
                        t ? pl_dtype_name(t->dtype) : "nothing");
    *out = (pl__variable *)obj;
    return NULL;
}

static const char *container_label(const pl__variable *v) {
    return v->res.container[0] ? v->res.container : "localhost";
}

static pl_status uninitialized(const pl__variable *v) {
    if (v->is_ref) return pl_error(PL_FAILED_PRECONDITION, "Attempting to use uninitialized value %s", v->res.name);
    return pl_error(PL_FAILED_PRECONDITION,
                    "Error while reading resource variable %s from Container: %s. This could mean that the variable "
                    "was uninitialized.", v->res.name, container_label(v));
}

pl_status pl__variable_read(pl__variable *v, pl_tensor **out) {
    pthread_mutex_lock(&v->mu);
    pl_tensor *t = pl_tensor_ref(v->value);
    pthread_mutex_unlock(&v->mu);
    if (!t) return uninitialized(v);
    *out = t;
    return NULL;
}

pl_status pl__resource_key(const pl_kernel_prep *p, char **container, char **name) {
    const char *c = "", *n = "";
    size_t clen = 0, nlen = 0;
    if (pl_attr_has(p->attrs, "container")) PL_TRY(pl_attr_string(p->attrs, "container", &c, &clen));
    if (pl_attr_has(p->attrs, "shared_name")) PL_TRY(pl_attr_string(p->attrs, "shared_name", &n, &nlen));
    /* TensorFlow keys an unshared resource by its node name, which is unique in the graph. */
    if (nlen == 0) {
        n = p->node_name;
        nlen = strlen(n);
    }
    *container = strndup(c, clen);
    *name = strndup(n, nlen);
    if (!*container || !*name) {
        free(*container);
        free(*name);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    return NULL;
}

void pl__state_release(void *state) { free(state); }

/* ---- VarHandleOp, VariableV2 ---- */

typedef struct handle_state {
    char *container, *name;
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
    bool is_ref;
    pl_tensor *handle;  /* resolved at prepare when the session is known; else NULL */
} handle_state;

void pl__state_release_handle(void *state) {
    handle_state *h = state;
    if (!h) return;
    pl_tensor_unref(h->handle);
    free(h->container);
    free(h->name);
    free(h);
}

static pl_status make_handle(const handle_state *h, struct pl_session *s, pl_tensor **out) {
    pl__variable *v = NULL;
    PL_TRY(pl__variable_lookup_or_create(s, h->container, h->name, h->dtype, h->rank, h->dims, h->is_ref, &v));
    pl_status st = pl__handle_tensor(&v->res.base, out);
    pl_object_unref(&v->res.base);
    return st;
}

pl_status pl__state_var_handle_prepare(pl_kernel_prep *p) {
    handle_state *h = calloc(1, sizeof *h);
    if (!h) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    h->is_ref = strcmp(p->op, "VarHandleOp") != 0;
    h->dtype = pl_attr_type_or(p->attrs, "dtype", PL_DT_INVALID);
    h->rank = -1;
    pl_status st = NULL;
    if (pl_attr_has(p->attrs, "shape")) st = pl_attr_shape(p->attrs, "shape", &h->rank, h->dims);
    if (!st) st = pl__resource_key(p, &h->container, &h->name);
    if (!st && p->session) st = make_handle(h, p->session, &h->handle);
    if (st) {
        pl__state_release_handle(h);
        return st;
    }
    p->state = h;
    return NULL;
}

pl_status pl__state_var_handle_compute(pl_kernel_ctx *c) {
    const handle_state *h = c->state;
    pl_tensor *t = NULL;
    if (h->handle) t = pl_tensor_ref(h->handle);
    else PL_TRY(make_handle(h, c->session, &t));
    pl_ctx_set_output(c, 0, t);
    return NULL;
}

/* ---- ReadVariableOp ---- */

static char *short_dtype(pl_dtype d, char *buf, size_t size) {
    const char *n = pl_dtype_name(d);
    if (!strncmp(n, "DT_", 3)) n += 3;
    size_t i = 0;
    for (; n[i] && i + 1 < size; i++) buf[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] - 'A' + 'a' : n[i]);
    buf[i] = 0;
    return buf;
}

pl_status pl__state_read_variable_prepare(pl_kernel_prep *p) {
    pl_dtype *dt = malloc(sizeof *dt);
    if (!dt) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    *dt = pl_attr_type_or(p->attrs, "dtype", PL_DT_INVALID);
    p->state = dt;
    return NULL;
}

pl_status pl__state_read_variable_compute(pl_kernel_ctx *c) {
    pl_dtype want = *(const pl_dtype *)c->state;
    pl__variable *v = NULL;
    pl_tensor *t = NULL;
    PL_TRY(pl__variable_from_input(c, 0, &v));
    PL_TRY(pl__variable_read(v, &t));
    if (want != PL_DT_INVALID && t->dtype != want) {
        char a[24], b[24];
        pl_status st = pl_error(PL_INVALID_ARGUMENT,
                                "Trying to read variable %s from Container: %s with wrong dtype. Expected %s got %s",
                                v->res.name, container_label(v), short_dtype(want, a, sizeof a),
                                short_dtype(t->dtype, b, sizeof b));
        pl_tensor_unref(t);
        return st;
    }
    pl_ctx_set_output(c, 0, t);
    return NULL;
}

/* ---- element-wise updates ---- */

typedef void update_fn(void *y, const void *a, const void *b, int64_t n, bool sub);

/* Signed types add in their unsigned twin: TensorFlow's wrap-around without undefined behaviour. */
#define DEF_UPDATE(SUF, T, U)                                                                   \
    static void update_##SUF(void *y, const void *a, const void *b, int64_t n, bool sub) {     \
        T *o = y;                                                                               \
        const T *x = a, *d = b;                                                                 \
        for (int64_t i = 0; i < n; i++) o[i] = (T)(sub ? (U)x[i] - (U)d[i] : (U)x[i] + (U)d[i]); \
    }
DEF_UPDATE(f32, float, float)
DEF_UPDATE(f64, double, double)
DEF_UPDATE(i8, int8_t, uint8_t)
DEF_UPDATE(i16, int16_t, uint16_t)
DEF_UPDATE(i32, int32_t, uint32_t)
DEF_UPDATE(i64, int64_t, uint64_t)
DEF_UPDATE(u8, uint8_t, uint8_t)
DEF_UPDATE(u16, uint16_t, uint16_t)
DEF_UPDATE(u32, uint32_t, uint32_t)
DEF_UPDATE(u64, uint64_t, uint64_t)

static void update_f16(void *y, const void *a, const void *b, int64_t n, bool sub) {
    uint16_t *o = y;
    const uint16_t *x = a, *d = b;
    for (int64_t i = 0; i < n; i++) {
        float fx = pl_half_to_float(x[i]), fd = pl_half_to_float(d[i]);
        o[i] = pl_float_to_half(sub ? fx - fd : fx + fd);
    }
}

static void update_bf16(void *y, const void *a, const void *b, int64_t n, bool sub) {
    uint16_t *o = y;
    const uint16_t *x = a, *d = b;
    for (int64_t i = 0; i < n; i++) {
        float fx = pl_bfloat16_to_float(x[i]), fd = pl_bfloat16_to_float(d[i]);
        o[i] = pl_float_to_bfloat16(sub ? fx - fd : fx + fd);
    }
}

static update_fn *const update_fns[PL_DT_COUNT] = {
    [PL_DT_FLOAT] = update_f32, [PL_DT_DOUBLE] = update_f64, [PL_DT_INT8] = update_i8,
    [PL_DT_INT16] = update_i16, [PL_DT_INT32] = update_i32,  [PL_DT_INT64] = update_i64,
    [PL_DT_UINT8] = update_u8,  [PL_DT_UINT16] = update_u16, [PL_DT_UINT32] = update_u32,
    [PL_DT_UINT64] = update_u64, [PL_DT_HALF] = update_f16,  [PL_DT_BFLOAT16] = update_bf16,
};

/* ---- Assign, AssignAdd, AssignSub and their resource forms ---- */

typedef enum assign_mode { ASSIGN_SET, ASSIGN_ADD, ASSIGN_SUB } assign_mode;

typedef struct assign_state {
    assign_mode mode;
    bool has_output;       /* the TF1 forms output the new value */
    bool validate_shape;
} assign_state;

static pl_status assign_prepare(pl_kernel_prep *p, assign_mode mode) {
    assign_state *a = calloc(1, sizeof *a);
    if (!a) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    a->mode = mode;
    a->has_output = strstr(p->op, "VariableOp") == NULL;
    /* Resource variables accept any shape unless told otherwise; TF1 Assign validates by default. */
    a->validate_shape = pl_attr_bool_or(p->attrs, "validate_shape", a->has_output);
    p->state = a;
    return NULL;
}

pl_status pl__state_assign_prepare(pl_kernel_prep *p) { return assign_prepare(p, ASSIGN_SET); }

pl_status pl__state_assign_update_prepare(pl_kernel_prep *p) {
    return assign_prepare(p, strstr(p->op, "Sub") ? ASSIGN_SUB : ASSIGN_ADD);
}

static pl_status shape_mismatch(const char *fmt, const pl_tensor *a, const pl_tensor *b) {
    char sa[128], sb[128];
    return pl_error(PL_INVALID_ARGUMENT, fmt, pl_shape_str(a->rank, a->dims, sa, sizeof sa),
                    pl_shape_str(b->rank, b->dims, sb, sizeof sb));
}

static bool declared_shape_accepts(const pl__variable *v, const pl_tensor *t) {
    if (v->rank < 0) return true;
    if (v->rank != t->rank) return false;
    for (int i = 0; i < t->rank; i++)
        if (v->dims[i] >= 0 && v->dims[i] != t->dims[i]) return false;
    return true;
}

/* Under v->mu: the tensor the variable holds after this assignment (a new reference). */
static pl_status assign_locked(const assign_state *a, pl__variable *v, pl_tensor *value, pl_tensor **out) {
    char x[24], y[24];
    if (v->dtype != PL_DT_INVALID && value->dtype != v->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "Trying to assign variable with wrong dtype. Expected %s got %s",
                        short_dtype(v->dtype, x, sizeof x), short_dtype(value->dtype, y, sizeof y));
    pl_tensor *old = v->value;
    if (a->mode == ASSIGN_SET) {
        if (a->validate_shape && old && !pl_tensor_same_shape(old, value))
            return shape_mismatch("Assign requires shapes of both tensors to match. lhs shape= %s rhs shape= %s", old,
                                  value);
        if (a->validate_shape && !old && !declared_shape_accepts(v, value)) {
            char sv[128], sd[128];
            return pl_error(PL_INVALID_ARGUMENT,
                            "Assign requires shapes of both tensors to match. lhs shape= %s rhs shape= %s",
                            pl_shape_str(v->rank, v->dims, sd, sizeof sd),
                            pl_shape_str(value->rank, value->dims, sv, sizeof sv));
        }
        /* Tensors are immutable once produced, so the variable can share the value. */
        *out = pl_tensor_ref(value);
        return NULL;
    }
    if (!old) return uninitialized(v);
    if (old->dtype != value->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "Trying to update variable with wrong dtype. Expected %s got %s",
                        short_dtype(old->dtype, x, sizeof x), short_dtype(value->dtype, y, sizeof y));
    if (!pl_tensor_same_shape(old, value))
        return shape_mismatch("Cannot update variable with shape %s using a Tensor with shape %s, shapes must be equal.",
                              old, value);
    update_fn *fn = update_fns[old->dtype];
    if (!fn) return pl_error(PL_UNIMPLEMENTED, "updating a %s variable is not supported", pl_dtype_name(old->dtype));
    pl_tensor *t = NULL;
    PL_TRY(pl_tensor_alloc(old->dtype, old->rank, old->dims, &t));
    fn(t->data, old->data, value->data, old->count, a->mode == ASSIGN_SUB);
    *out = t;
    return NULL;
}

static pl_status assign_compute(pl_kernel_ctx *c) {
    const assign_state *a = c->state;
    pl__variable *v = NULL;
    PL_TRY(pl__variable_from_input(c, 0, &v));
    if (c->num_inputs < 2) return pl_error(PL_INVALID_ARGUMENT, "%s: missing value input", c->node_name);
    pl_tensor *next = NULL, *output = NULL;
    pthread_mutex_lock(&v->mu);
    pl_status st = assign_locked(a, v, c->inputs[1], &next);
    if (!st) {
        pl_tensor_unref(v->value);
        v->value = next;
        /* Referenced under the lock: once it is released another run may replace and free `next`. */
        if (a->has_output) output = pl_tensor_ref(next);
    }
    pthread_mutex_unlock(&v->mu);
    if (output) pl_ctx_set_output(c, 0, output);
    return st;
}

pl_status pl__state_assign_compute(pl_kernel_ctx *c) { return assign_compute(c); }
pl_status pl__state_assign_update_compute(pl_kernel_ctx *c) { return assign_compute(c); }

/* ---- VarIsInitializedOp, IsVariableInitialized ---- */

pl_status pl__state_is_initialized_compute(pl_kernel_ctx *c) {
    pl__variable *v = NULL;
    PL_TRY(pl__variable_from_input(c, 0, &v));
    pl_tensor *t = NULL;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_BOOL, 0, NULL, &t));
    pthread_mutex_lock(&v->mu);
    *(uint8_t *)t->data = v->value != NULL;
    pthread_mutex_unlock(&v->mu);
    return NULL;
}

/* ---- VariableShape ---- */

pl_status pl__state_variable_shape_prepare(pl_kernel_prep *p) {
    pl_dtype t = pl_attr_type_or(p->attrs, "out_type", PL_DT_INT32);
    if (t != PL_DT_INT32 && t != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "%s: out_type must be int32 or int64", p->node_name);
    pl_dtype *out_type = malloc(sizeof *out_type);
    if (!out_type) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    *out_type = t;
    p->state = out_type;
    return NULL;
}

pl_status pl__state_variable_shape_compute(pl_kernel_ctx *c) {
    pl_dtype out_type = *(const pl_dtype *)c->state;
    pl__variable *v = NULL;
    pl_tensor *value = NULL, *out = NULL;
    PL_TRY(pl__variable_from_input(c, 0, &v));
    PL_TRY(pl__variable_read(v, &value));
    int64_t rank = value->rank;
    pl_status st = pl_ctx_alloc_output(c, 0, out_type, 1, &rank, &out);
    for (int i = 0; !st && i < value->rank; i++) {
        if (out_type == PL_DT_INT64) ((int64_t *)out->data)[i] = value->dims[i];
        else if (value->dims[i] > INT32_MAX) st = pl_error(PL_INVALID_ARGUMENT, "dimension %d does not fit int32", i);
        else ((int32_t *)out->data)[i] = (int32_t)value->dims[i];
    }
    pl_tensor_unref(value);
    return st;
}

/* ---- DisableCopyOnRead ---- */

/* TensorFlow switches a variable out of copy-on-read mode before saving it;
 * plinth's values are immutable and never copied on read, so only the
 * handle is checked. */
pl_status pl__state_disable_copy_on_read_compute(pl_kernel_ctx *c) {
    pl__variable *v = NULL;
    return pl__variable_from_input(c, 0, &v);
}

/* ---- DestroyResourceOp ---- */

pl_status pl__state_destroy_resource_prepare(pl_kernel_prep *p) {
    bool *ignore = malloc(sizeof *ignore);
    if (!ignore) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    *ignore = pl_attr_bool_or(p->attrs, "ignore_lookup_error", true);
    p->state = ignore;
    return NULL;
}

pl_status pl__state_destroy_resource_compute(pl_kernel_ctx *c) {
    bool ignore = *(const bool *)c->state;
    const pl_tensor *t = c->num_inputs > 0 ? c->inputs[0] : NULL;
    pl_object *obj = t && t->dtype == PL_DT_RESOURCE && t->count == 1 ? pl_tensor_object(t, 0) : NULL;
    if (!obj || (obj->type != &pl__variable_type && obj->type != &pl__table_type))
        return pl_error(PL_INVALID_ARGUMENT, "%s: input 0 must be a resource handle", c->node_name);
    const pl__resource *r = (const pl__resource *)obj;
    pl_status st = c->session ? pl_session_resource_delete(c->session, r->container, r->name) : NULL;
    if (st && ignore && pl_status_code(st) == PL_NOT_FOUND) {
        pl_status_free(st);
        st = NULL;
    }
    return st;
}

/* ---- ResourceGather ---- */

pl_status pl__state_resource_gather_prepare(pl_kernel_prep *p) {
    if (pl_attr_int_or(p->attrs, "batch_dims", 0) != 0)
        return pl_error(PL_UNIMPLEMENTED, "%s: ResourceGather with batch_dims != 0 is not supported", p->node_name);
    return NULL;
}

static pl_status gather(pl_kernel_ctx *c, const pl_tensor *params, const pl_tensor *indices) {
    if (params->rank < 1) return pl_error(PL_INVALID_ARGUMENT, "params must be at least 1 dimensional");
    if (indices->dtype != PL_DT_INT32 && indices->dtype != PL_DT_INT64)
        return pl_error(PL_INVALID_ARGUMENT, "indices must be int32 or int64, got %s", pl_dtype_name(indices->dtype));
    int rank = indices->rank + params->rank - 1;
    if (rank > PL_MAX_RANK) return pl_error(PL_UNIMPLEMENTED, "gather result has rank %d", rank);
    int64_t dims[PL_MAX_RANK];
    for (int i = 0; i < indices->rank; i++) dims[i] = indices->dims[i];
    int64_t inner = 1;
    for (int i = 1; i < params->rank; i++) {
        dims[indices->rank + i - 1] = params->dims[i];
        inner *= params->dims[i];
    }
    pl_tensor *out = NULL;
    PL_TRY(pl_ctx_alloc_output(c, 0, params->dtype, rank, dims, &out));
    size_t es = pl_dtype_size(params->dtype);
    int64_t limit = params->dims[0];
    for (int64_t i = 0; i < indices->count; i++) {
        int64_t k = pl_tensor_get_i64(indices, i);
        if (k < 0 || k >= limit)
            return pl_error(PL_INVALID_ARGUMENT, "indices[%lld] = %lld is not in [0, %lld)", (long long)i,
                            (long long)k, (long long)limit);
        if (params->dtype == PL_DT_STRING) {
            const pl_str *src = (const pl_str *)params->data + k * inner;
            for (int64_t j = 0; j < inner; j++)
                PL_TRY(pl_tensor_set_string(out, i * inner + j, src[j].data, src[j].len));
        } else if (params->dtype == PL_DT_RESOURCE || params->dtype == PL_DT_VARIANT) {
            return pl_error(PL_UNIMPLEMENTED, "gathering %s is not supported", pl_dtype_name(params->dtype));
        } else if (inner > 0) {
            memcpy((char *)out->data + (size_t)(i * inner) * es, (const char *)params->data + (size_t)(k * inner) * es,
                   (size_t)inner * es);
        }
    }
    return NULL;
}

pl_status pl__state_resource_gather_compute(pl_kernel_ctx *c) {
    pl__variable *v = NULL;
    PL_TRY(pl__variable_from_input(c, 0, &v));
    pl_tensor *params = NULL;
    PL_TRY(pl__variable_read(v, &params));
    pl_status st = c->num_inputs > 1 ? gather(c, params, c->inputs[1])
                                     : pl_error(PL_INVALID_ARGUMENT, "%s: missing indices", c->node_name);
    pl_tensor_unref(params);
    return st;
}

/* ---- ResourceApplyGradientDescent, ApplyGradientDescent ---- */

pl_status pl__state_apply_gradient_descent_prepare(pl_kernel_prep *p) {
    bool *has_output = malloc(sizeof *has_output);
    if (!has_output) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    *has_output = strncmp(p->op, "Resource", 8) != 0;
    p->state = has_output;
    return NULL;
}

static pl_status descend_locked(pl__variable *v, const pl_tensor *alpha, const pl_tensor *delta, pl_tensor **out) {
    pl_tensor *var = v->value;
    if (!var) return uninitialized(v);
    if (alpha->count != 1 || alpha->rank != 0) return pl_error(PL_INVALID_ARGUMENT, "alpha is not a scalar");
    if (!pl_tensor_same_shape(var, delta))
        return shape_mismatch("var and delta do not have the same shape%s %s", var, delta);
    if (var->dtype != delta->dtype || var->dtype != alpha->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "var, alpha and delta must have one dtype");
    pl_tensor *t = NULL;
    PL_TRY(pl_tensor_alloc(var->dtype, var->rank, var->dims, &t));
    double a = pl_tensor_get_f64(alpha, 0);
    if (var->dtype == PL_DT_FLOAT) {
        float *o = t->data, fa = (float)a;
        const float *x = var->data, *d = delta->data;
        for (int64_t i = 0; i < var->count; i++) o[i] = x[i] - fa * d[i];
    } else if (var->dtype == PL_DT_DOUBLE) {
        double *o = t->data;
        const double *x = var->data, *d = delta->data;
        for (int64_t i = 0; i < var->count; i++) o[i] = x[i] - a * d[i];
    } else {
        pl_tensor_unref(t);
        return pl_error(PL_UNIMPLEMENTED, "gradient descent on %s is not supported", pl_dtype_name(var->dtype));
    }
    *out = t;
    return NULL;
}

pl_status pl__state_apply_gradient_descent_compute(pl_kernel_ctx *c) {
    bool has_output = *(const bool *)c->state;
    pl__variable *v = NULL;
    PL_TRY(pl__variable_from_input(c, 0, &v));
    if (c->num_inputs < 3) return pl_error(PL_INVALID_ARGUMENT, "%s: needs var, alpha and delta", c->node_name);
    pl_tensor *next = NULL, *output = NULL;
    pthread_mutex_lock(&v->mu);
    pl_status st = descend_locked(v, c->inputs[1], c->inputs[2], &next);
    if (!st) {
        pl_tensor_unref(v->value);
        v->value = next;
        /* Referenced under the lock, as in assign_compute. */
        if (has_output) output = pl_tensor_ref(next);
    }
    pthread_mutex_unlock(&v->mu);
    if (output) pl_ctx_set_output(c, 0, output);
    return st;
}
