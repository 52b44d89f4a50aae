/* ParseExample and ParseExampleV2: serialized tf.Example protos into dense
 * and sparse tensors, with TensorFlow's defaults, checks and error texts. This
 * is how Classify, Regress and MultiInference inputs reach a model. */
#include <stdlib.h>
#include <string.h>

#include "ops/families.h"
#include "tensorflow/core/example/example.pb-c.h"

#define MAX_FEATURES 1024

typedef struct parse_state {
    bool v2;
    int num_sparse, num_dense;
    pl_dtype sparse_types[MAX_FEATURES];
    pl_dtype dense_types[MAX_FEATURES];
    int dense_rank[MAX_FEATURES];
    int64_t dense_dims[MAX_FEATURES][PL_MAX_RANK];
} parse_state;

/* TensorFlow's DataTypeString: "float", "int64", "string". */
static const char *type_word(pl_dtype t) {
    switch (t) {
    case PL_DT_FLOAT: return "float";
    case PL_DT_INT64: return "int64";
    case PL_DT_STRING: return "string";
    default: return pl_dtype_name(t);
    }
}

static pl_status check_feature_type(pl_dtype t) {
    if (t == PL_DT_FLOAT || t == PL_DT_INT64 || t == PL_DT_STRING) return NULL;
    return pl_error(PL_INVALID_ARGUMENT, "Unsupported feature type %s: only DT_FLOAT, DT_INT64 and DT_STRING",
                    pl_dtype_name(t));
}

static pl_status parse_prepare(pl_kernel_prep *p) {
    parse_state *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    p->state = s;
    s->v2 = !strcmp(p->op, "ParseExampleV2");
    const pl_dtype *types;
    int n;
    PL_TRY(pl_attr_type_list(p->attrs, "sparse_types", &types, &n));
    if (n > MAX_FEATURES) return pl_error(PL_INVALID_ARGUMENT, "too many sparse features (%d)", n);
    s->num_sparse = n;
    for (int i = 0; i < n; i++) PL_TRY(check_feature_type(s->sparse_types[i] = types[i]));
    PL_TRY(pl_attr_type_list(p->attrs, "Tdense", &types, &n));
    if (n > MAX_FEATURES) return pl_error(PL_INVALID_ARGUMENT, "too many dense features (%d)", n);
    s->num_dense = n;
    for (int i = 0; i < n; i++) PL_TRY(check_feature_type(s->dense_types[i] = types[i]));
    int shapes;
    PL_TRY(pl_attr_shape_list_len(p->attrs, "dense_shapes", &shapes));
    if (shapes != s->num_dense)
        return pl_error(PL_INVALID_ARGUMENT, "len(dense_keys) != len(dense_shapes): %d vs. %d", s->num_dense, shapes);
    for (int i = 0; i < n; i++) {
        PL_TRY(pl_attr_shape_list_at(p->attrs, "dense_shapes", i, &s->dense_rank[i], s->dense_dims[i]));
        if (s->dense_rank[i] < 0 || s->dense_rank[i] >= PL_MAX_RANK)
            return pl_error(PL_INVALID_ARGUMENT, "dense_shapes[%d] must have a known rank below %d", i, PL_MAX_RANK);
        for (int d = 0; d < s->dense_rank[i]; d++)
            if (s->dense_dims[i][d] < 0 && d > 0)
                return pl_error(PL_INVALID_ARGUMENT, "dense_shapes[%d] may be unknown in its first dimension only", i);
    }
    if (s->v2) {
        int ragged = (int)pl_attr_int_or(p->attrs, "num_ragged", 0);
        const pl_dtype *rt;
        if (!ragged && pl_attr_has(p->attrs, "ragged_value_types")) {
            PL_TRY(pl_attr_type_list(p->attrs, "ragged_value_types", &rt, &ragged));
        }
        if (ragged) return pl_error(PL_UNIMPLEMENTED, "ParseExampleV2 with ragged features is not supported");
        if (pl_attr_int_or(p->attrs, "num_sparse", s->num_sparse) != s->num_sparse)
            return pl_error(PL_INVALID_ARGUMENT, "num_sparse does not match len(sparse_types)");
    }
    int expected = s->v2 ? 5 + s->num_dense : 2 + s->num_sparse + 2 * s->num_dense;
    if (p->num_inputs != expected)
        return pl_error(PL_INVALID_ARGUMENT, "%s expects %d inputs, got %d", p->op, expected, p->num_inputs);
    p->num_outputs = 3 * s->num_sparse + s->num_dense;
    return NULL;
}

/* The feature keys: V1 has one scalar input each, V2 one vector per kind. */
static pl_status feature_key(const parse_state *s, pl_kernel_ctx *c, bool dense, int i, const pl_str **key) {
    const pl_tensor *t;
    if (s->v2) {
        t = c->inputs[dense ? 3 : 2];
        if (t->dtype != PL_DT_STRING || t->count != (dense ? s->num_dense : s->num_sparse))
            return pl_error(PL_INVALID_ARGUMENT, "%s_keys must be a string vector of %d keys", dense ? "dense" : "sparse",
                            dense ? s->num_dense : s->num_sparse);
        *key = &((const pl_str *)t->data)[i];
        return NULL;
    }
    t = c->inputs[2 + (dense ? s->num_sparse : 0) + i];
    if (t->dtype != PL_DT_STRING || t->count != 1)
        return pl_error(PL_INVALID_ARGUMENT, "Expected %s_keys[%d] to be a string scalar", dense ? "dense" : "sparse", i);
    *key = (const pl_str *)t->data;
    return NULL;
}

static const Tensorflow__Feature *find_feature(const Tensorflow__Example *ex, const pl_str *key) {
    if (!ex->features) return NULL;
    /* The last occurrence of a key wins, as in protobuf map parsing. */
    for (size_t i = ex->features->n_feature; i-- > 0;) {
        const Tensorflow__Features__FeatureEntry *e = ex->features->feature[i];
        /* An empty key string's data may be NULL, which memcmp must not see. */
        if (e->key && strlen(e->key) == key->len && (key->len == 0 || !memcmp(e->key, key->data, key->len)))
            return e->value;
    }
    return NULL;
}

static pl_dtype feature_dtype(const Tensorflow__Feature *f, size_t *count) {
    switch (f->kind_case) {
    case TENSORFLOW__FEATURE__KIND_FLOAT_LIST: *count = f->float_list->n_value; return PL_DT_FLOAT;
    case TENSORFLOW__FEATURE__KIND_INT64_LIST: *count = f->int64_list->n_value; return PL_DT_INT64;
    case TENSORFLOW__FEATURE__KIND_BYTES_LIST: *count = f->bytes_list->n_value; return PL_DT_STRING;
    default: *count = 0; return PL_DT_INVALID;
    }
}

/* Copies values [from, from+n) of a feature into element `at` of t. */
static pl_status copy_values(const Tensorflow__Feature *f, size_t from, size_t n, pl_tensor *t, int64_t at) {
    /* An empty list's value array is NULL (protobuf-c), which neither memcpy
     * nor pointer arithmetic may see, even for no values. */
    if (n == 0) return NULL;
    switch (t->dtype) {
    case PL_DT_FLOAT: memcpy((float *)t->data + at, f->float_list->value + from, n * sizeof(float)); return NULL;
    case PL_DT_INT64: memcpy((int64_t *)t->data + at, f->int64_list->value + from, n * sizeof(int64_t)); return NULL;
    default:
        for (size_t i = 0; i < n; i++) {
            const ProtobufCBinaryData *b = &f->bytes_list->value[from + i];
            PL_TRY(pl_tensor_set_string(t, at + (int64_t)i, b->data, b->len));
        }
        return NULL;
    }
}

static pl_status copy_default(const pl_tensor *def, int64_t n, pl_tensor *t, int64_t at) {
    if (t->dtype != PL_DT_STRING) {
        size_t es = pl_dtype_size(t->dtype);
        for (int64_t i = 0; i < n; i++)
            memcpy((char *)t->data + (at + i) * es, (const char *)def->data + (def->count == 1 ? 0 : i) * es, es);
        return NULL;
    }
    const pl_str *s = def->data;
    for (int64_t i = 0; i < n; i++) PL_TRY(pl_tensor_set_string(t, at + i, s[def->count == 1 ? 0 : i].data, s[def->count == 1 ? 0 : i].len));
    return NULL;
}

typedef struct batch {
    int64_t size;
    bool scalar;              /* V2 with a scalar input: no batch dimension */
    Tensorflow__Example **examples;
} batch;

static pl_status parse_dense(const parse_state *s, pl_kernel_ctx *c, const batch *b, int j) {
    const pl_str *key;
    PL_TRY(feature_key(s, c, true, j, &key));
    const pl_tensor *def = c->inputs[(s->v2 ? 5 : 2 + s->num_sparse + s->num_dense) + j];
    pl_dtype type = s->dense_types[j];
    if (def->count && def->dtype != type)
        return pl_error(PL_INVALID_ARGUMENT, "dense_defaults[%d] is %s, expected %s", j, pl_dtype_name(def->dtype),
                        pl_dtype_name(type));
    int rank = s->dense_rank[j];
    int64_t dims[PL_MAX_RANK], row = 1;
    bool variable = rank > 0 && s->dense_dims[j][0] < 0;
    memcpy(dims, s->dense_dims[j], sizeof dims);
    int64_t inner = 1;
    for (int d = variable ? 1 : 0; d < rank; d++) inner *= dims[d];
    if (variable) { /* padded to the longest example, with the default value as padding */
        int64_t longest = 0;
        for (int64_t e = 0; e < b->size; e++) {
            const Tensorflow__Feature *f = find_feature(b->examples[e], key);
            size_t n = 0;
            if (f) feature_dtype(f, &n);
            if (inner && (int64_t)n / inner > longest) longest = (int64_t)n / inner;
        }
        dims[0] = longest;
        if (def->count > 1) return pl_error(PL_INVALID_ARGUMENT, "the default of a variable-length feature must be a scalar");
    }
    for (int d = 0; d < rank; d++) row *= dims[d];
    int64_t out_dims[PL_MAX_RANK];
    int out_rank = 0;
    if (!b->scalar) out_dims[out_rank++] = b->size;
    for (int d = 0; d < rank; d++) out_dims[out_rank++] = dims[d];
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 3 * s->num_sparse + j, type, out_rank, out_dims, &out));
    for (int64_t e = 0; e < b->size; e++) {
        const Tensorflow__Feature *f = find_feature(b->examples[e], key);
        size_t n = 0;
        pl_dtype got = f ? feature_dtype(f, &n) : PL_DT_INVALID;
        if (f && got == PL_DT_INVALID) f = NULL; /* a feature with no kind counts as missing */
        if (!f) {
            if (!def->count)
                return pl_error(PL_INVALID_ARGUMENT,
                                "Name: <unknown>, Feature: %.*s (data type: %s) is required but could not be found.",
                                (int)key->len, key->data, type_word(type));
            PL_TRY(copy_default(def, row, out, e * row));
            continue;
        }
        if (got != type)
            return pl_error(PL_INVALID_ARGUMENT,
                            "Name: <unknown>, Key: %.*s, Index: %lld.  Data types don't match. Data type: %s but "
                            "expected type: %s",
                            (int)key->len, key->data, (long long)e, type_word(got), type_word(type));
        if (variable ? (inner && (int64_t)n % inner) : (int64_t)n != row)
            return pl_error(PL_INVALID_ARGUMENT,
                            "Name: <unknown>, Key: %.*s, Index: %lld.  Number of %s values != expected.  Values size: "
                            "%zu but output shape: %s",
                            (int)key->len, key->data, (long long)e, got == PL_DT_STRING ? "bytes" : got == PL_DT_FLOAT ? "float" : "int64",
                            n, "(see dense_shapes)");
        PL_TRY(copy_values(f, 0, n, out, e * row));
        if ((int64_t)n < row) PL_TRY(copy_default(def, row - (int64_t)n, out, e * row + (int64_t)n));
    }
    return NULL;
}

static pl_status parse_sparse(const parse_state *s, pl_kernel_ctx *c, const batch *b, int j) {
    const pl_str *key;
    PL_TRY(feature_key(s, c, false, j, &key));
    pl_dtype type = s->sparse_types[j];
    int64_t total = 0, longest = 0;
    for (int64_t e = 0; e < b->size; e++) {
        const Tensorflow__Feature *f = find_feature(b->examples[e], key);
        size_t n = 0;
        pl_dtype got = f ? feature_dtype(f, &n) : PL_DT_INVALID;
        if (got == PL_DT_INVALID) continue;
        if (got != type)
            return pl_error(PL_INVALID_ARGUMENT,
                            "Name: <unknown>, Key: %.*s, Index: %lld.  Data types don't match. Expected type: %s, Actual "
                            "type: %s",
                            (int)key->len, key->data, (long long)e, type_word(type), type_word(got));
        total += (int64_t)n;
        if ((int64_t)n > longest) longest = (int64_t)n;
    }
    int index_rank = b->scalar ? 1 : 2;
    int64_t idims[2] = {total, index_rank}, vdims[1] = {total}, sdims[1] = {index_rank};
    pl_tensor *indices, *values, *shape;
    PL_TRY(pl_ctx_alloc_output(c, j, PL_DT_INT64, 2, idims, &indices));
    PL_TRY(pl_ctx_alloc_output(c, s->num_sparse + j, type, 1, vdims, &values));
    PL_TRY(pl_ctx_alloc_output(c, 2 * s->num_sparse + j, PL_DT_INT64, 1, sdims, &shape));
    int64_t *ix = indices->data, at = 0;
    for (int64_t e = 0; e < b->size; e++) {
        const Tensorflow__Feature *f = find_feature(b->examples[e], key);
        size_t n = 0;
        if (!f || feature_dtype(f, &n) == PL_DT_INVALID) continue;
        PL_TRY(copy_values(f, 0, n, values, at));
        for (size_t k = 0; k < n; k++, at++) {
            if (!b->scalar) *ix++ = e;
            *ix++ = (int64_t)k;
        }
    }
    int64_t *sh = shape->data;
    if (!b->scalar) *sh++ = b->size;
    *sh = longest;
    return NULL;
}

static pl_status parse_compute(pl_kernel_ctx *c) {
    const parse_state *s = c->state;
    const pl_tensor *serialized = c->inputs[0];
    if (serialized->dtype != PL_DT_STRING)
        return pl_error(PL_INVALID_ARGUMENT, "serialized must be a string tensor, got %s", pl_dtype_name(serialized->dtype));
    if (serialized->rank > 1 || (!s->v2 && serialized->rank != 1))
        return pl_error(PL_INVALID_ARGUMENT, "Expected serialized to be a %s, got shape of rank %d",
                        s->v2 ? "scalar or vector" : "vector", serialized->rank);
    batch b = {.size = serialized->count, .scalar = serialized->rank == 0};
    b.examples = calloc((size_t)b.size + 1, sizeof *b.examples);
    if (!b.examples) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_status st = NULL;
    const pl_str *in = serialized->data;
    for (int64_t e = 0; e < b.size && !st; e++) {
        b.examples[e] = tensorflow__example__unpack(NULL, in[e].len, (const uint8_t *)in[e].data);
        if (!b.examples[e]) st = pl_error(PL_INVALID_ARGUMENT, "Could not parse example input, value: '%.*s'",
                                          (int)(in[e].len > 64 ? 64 : in[e].len), in[e].data);
    }
    for (int j = 0; j < s->num_dense && !st; j++) st = parse_dense(s, c, &b, j);
    for (int j = 0; j < s->num_sparse && !st; j++) st = parse_sparse(s, c, &b, j);
    for (int64_t e = 0; e < b.size; e++)
        if (b.examples[e]) tensorflow__example__free_unpacked(b.examples[e], NULL);
    free(b.examples);
    return st;
}

const pl_kernel_def pl_kernels_example[] = {
    {.op = "ParseExample", .prepare = parse_prepare, .compute = parse_compute, .release = free},
    {.op = "ParseExampleV2", .prepare = parse_prepare, .compute = parse_compute, .release = free},
    {0},
};
