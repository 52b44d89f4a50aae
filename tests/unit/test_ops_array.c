/* The array family's element movement where graphs from Python cannot reach:
 * RESOURCE/VARIANT objects keep exact reference counts through every copying
 * kernel, strings are deep copies that outlive their source, and the strided
 * copy engine handles negative, zero and transposing strides. */
#include "check.h"
#include "ops/array_internal.h"

static int destroyed;

typedef struct {
    pl_object base;
    int id;
} test_obj;

static void obj_destroy(pl_object *o) {
    destroyed++;
    free(o);
}
static const pl_object_type obj_type = {"test", obj_destroy};

static int refs(const pl_object *o) { return atomic_load(&o->refs); }

static pl_tensor *objects(int rank, const int64_t *dims) {
    pl_tensor *t;
    CHECK_OK(pl_tensor_alloc(PL_DT_RESOURCE, rank, dims, &t));
    for (int64_t i = 0; i < t->count; i++) {
        test_obj *o = calloc(1, sizeof *o);
        pl_object_init(&o->base, &obj_type);
        o->id = (int)i;
        pl_tensor_set_object(t, i, &o->base);
    }
    return t;
}

static pl_tensor *ints(int n, const int32_t *v) {
    int64_t d = n;
    pl_tensor *t;
    CHECK_OK(pl_tensor_alloc(PL_DT_INT32, 1, &d, &t));
    for (int i = 0; i < n; i++) ((int32_t *)t->data)[i] = v[i];
    return t;
}

static pl_tensor *scalar(int32_t v) {
    pl_tensor *t;
    CHECK_OK(pl_tensor_alloc(PL_DT_INT32, 0, NULL, &t));
    *(int32_t *)t->data = v;
    return t;
}

/* Runs a kernel; outputs land in outs[0..n_out). */
static pl_status call(pl_status (*fn)(pl_kernel_ctx *), void *state, pl_tensor **in, int n_in, pl_tensor **outs,
                      int n_out) {
    for (int i = 0; i < n_out; i++) outs[i] = NULL;
    pl_kernel_ctx c = {.state = state, .node_name = "test", .num_inputs = n_in, .inputs = in, .num_outputs = n_out,
                       .outputs = outs};
    return fn(&c);
}

static int obj_id(const pl_tensor *t, int64_t i) { return ((const test_obj *)pl_tensor_object(t, i))->id; }

static void test_objects_through_kernels(void) {
    destroyed = 0;
    int64_t dims[2] = {2, 3};
    pl_tensor *x = objects(2, dims);
    pl_object *o0 = pl_tensor_object(x, 0);
    pl_tensor *out[2];

    /* Tile 2x along axis 1: every object is now held by x and twice by the tile. */
    pl_tensor *in_tile[2] = {x, ints(2, (int32_t[]){1, 2})};
    CHECK_OK(call(pl__arr_tile, NULL, in_tile, 2, out, 1));
    pl_tensor *tiled = out[0];
    CHECK_EQ_INT(tiled->count, 12);
    CHECK_EQ_INT(refs(o0), 3);
    CHECK_EQ_INT(obj_id(tiled, 3), 0);
    CHECK_EQ_INT(obj_id(tiled, 4), 1);

    /* Transpose, Gather, ConcatV2, ReverseV2, StridedSlice each add exactly their copies. */
    pl_tensor *in_tr[2] = {x, ints(2, (int32_t[]){1, 0})};
    CHECK_OK(call(pl__arr_transpose, NULL, in_tr, 2, out, 1));
    pl_tensor *tr = out[0];
    CHECK_EQ_INT(obj_id(tr, 1), 3);
    pl_tensor *in_g[3] = {x, ints(3, (int32_t[]){2, 0, 2}), scalar(1)};
    pl__arr_state *gs = calloc(1, sizeof *gs); /* batch_dims 0 */
    CHECK_OK(call(pl__arr_gather_v2, gs, in_g, 3, out, 1));
    pl_tensor *g = out[0];
    CHECK_EQ_INT(g->count, 6);
    CHECK_EQ_INT(obj_id(g, 0), 2);
    CHECK_EQ_INT(obj_id(g, 4), 3);
    pl_tensor *in_c[3] = {x, x, scalar(0)};
    CHECK_OK(call(pl__arr_concat_v2, NULL, in_c, 3, out, 1));
    pl_tensor *cc = out[0];
    pl_tensor *in_r[2] = {x, ints(1, (int32_t[]){1})};
    CHECK_OK(call(pl__arr_reverse_v2, NULL, in_r, 2, out, 1));
    pl_tensor *rv = out[0];
    CHECK_EQ_INT(obj_id(rv, 0), 2);
    pl__arr_state *ss = calloc(1, sizeof *ss);
    pl_tensor *in_s[4] = {x, ints(1, (int32_t[]){1}), ints(1, (int32_t[]){2}), ints(1, (int32_t[]){1})};
    CHECK_OK(call(pl__arr_strided_slice, ss, in_s, 4, out, 1));
    pl_tensor *sl = out[0];
    CHECK_EQ_INT(obj_id(sl, 0), 3);
    /* o0 is x[0,0]: x 1, tile 2, transpose 1, gather 1 (index 0 once), concat 2, reverse 1, slice 0 */
    CHECK_EQ_INT(refs(o0), 1 + 2 + 1 + 1 + 2 + 1);
    CHECK_EQ_INT(destroyed, 0);

    /* Split into two outputs and drop them. */
    pl__arr_state *sp = calloc(1, sizeof *sp);
    sp->i[1] = 2;
    pl_tensor *in_sp[2] = {scalar(0), x};
    CHECK_OK(call(pl__arr_split, sp, in_sp, 2, out, 2));
    CHECK_EQ_INT(obj_id(out[1], 0), 3);
    pl_tensor_unref(out[0]);
    pl_tensor_unref(out[1]);

    pl_tensor *all[] = {tiled, tr, g, cc, rv, sl};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) pl_tensor_unref(all[i]);
    CHECK_EQ_INT(refs(o0), 1);
    CHECK_EQ_INT(destroyed, 0);
    pl_tensor_unref(x);
    CHECK_EQ_INT(destroyed, 6);
    pl_tensor *extra[] = {in_tile[1], in_tr[1], in_g[1], in_g[2], in_c[2], in_r[1], in_s[1], in_s[2], in_s[3], in_sp[0]};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) pl_tensor_unref(extra[i]);
    free(ss);
    free(sp);
    free(gs);
}

static void test_strings_are_deep_copies(void) {
    int64_t n = 3;
    pl_tensor *s;
    CHECK_OK(pl_tensor_alloc(PL_DT_STRING, 1, &n, &s));
    const char *words[3] = {"alpha", "", "gamma"};
    for (int i = 0; i < 3; i++) CHECK_OK(pl_tensor_set_string(s, i, words[i], strlen(words[i])));
    pl_tensor *out[1];
    pl_tensor *in[2] = {s, ints(4, (int32_t[]){2, 2, 1, 0})};
    CHECK_OK(call(pl__arr_gather, NULL, in, 2, out, 1));
    pl_tensor_unref(s);
    const pl_str *g = out[0]->data;
    CHECK_EQ_INT(g[0].len, 5);
    CHECK(!memcmp(g[0].data, "gamma", 5));
    CHECK(g[0].data != g[1].data);
    CHECK_EQ_INT(g[2].len, 0);
    CHECK(!memcmp(g[3].data, "alpha", 5));
    pl_tensor_unref(out[0]);
    pl_tensor_unref(in[1]);
}

static void test_copy_engine_strides(void) {
    int64_t d6 = 6, d12 = 12;
    pl_tensor *src, *dst;
    CHECK_OK(pl_tensor_alloc(PL_DT_INT32, 1, &d6, &src));
    CHECK_OK(pl_tensor_zeros(PL_DT_INT32, 1, &d12, &dst));
    int32_t *s = src->data, *d = dst->data;
    for (int i = 0; i < 6; i++) s[i] = 10 + i;
    /* src seen as [2,3]; dst[i][j][k] (2x3x2) = src[1-i][j] for every k: a
     * reversed row stride, a unit column stride and a broadcast (0) stride. */
    int64_t dims[3] = {2, 3, 2}, ds[3] = {6, 2, 1}, ss[3] = {-3, 1, 0};
    CHECK_OK(pl__arr_copy_strided(dst, 0, ds, src, 3, ss, 3, dims));
    int32_t want[12] = {13, 13, 14, 14, 15, 15, 10, 10, 11, 11, 12, 12};
    for (int i = 0; i < 12; i++) CHECK_EQ_INT(d[i], want[i]);
    /* A 3x4 -> 4x3 transposition through the tiled path, for 1-, 2- and 8-byte elements. */
    pl_dtype types[3] = {PL_DT_UINT8, PL_DT_INT16, PL_DT_INT64};
    for (int t = 0; t < 3; t++) {
        pl_tensor *a, *b;
        CHECK_OK(pl_tensor_alloc(types[t], 1, &d12, &a));
        CHECK_OK(pl_tensor_zeros(types[t], 1, &d12, &b));
        size_t esz = pl_dtype_size(types[t]);
        for (int i = 0; i < 12; i++) memset((char *)a->data + i * esz, i + 1, esz);
        int64_t tdims[2] = {4, 3}, tds[2] = {3, 1}, tss[2] = {1, 4};
        CHECK_OK(pl__arr_copy_strided(b, 0, tds, a, 0, tss, 2, tdims));
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 3; c++) CHECK_EQ_INT(((unsigned char *)b->data)[(r * 3 + c) * esz], c * 4 + r + 1);
        pl_tensor_unref(a);
        pl_tensor_unref(b);
    }
    pl_tensor_unref(src);
    pl_tensor_unref(dst);
}

int main(void) {
    RUN_TEST(test_objects_through_kernels);
    RUN_TEST(test_strings_are_deep_copies);
    RUN_TEST(test_copy_engine_strides);
    return check_summary();
}
