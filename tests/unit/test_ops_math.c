/* The math family's broadcasting engine called directly: how shapes collapse
 * into loops (checked against hand-worked plans), the parallel splitter's
 * coverage of a range, and a binary op over every collapsed shape form
 * against a naive index-by-index reference. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "ops/math_internal.h"

static pl_tensor *make(int rank, const int64_t *dims) {
    pl_tensor *t = NULL;
    pl_status st = pl_tensor_alloc(PL_DT_FLOAT, rank, dims, &t);
    if (st) {
        fprintf(stderr, "%s\n", pl_status_message(st));
        exit(1);
    }
    for (int64_t i = 0; i < t->count; i++) ((float *)t->data)[i] = (float)(i * 7 % 13) - 6.0f;
    return t;
}

static void test_plan_collapse(void) {
    /* [2,5,5,3] + [3]: the three leading dims merge, the bias runs along the row. */
    int64_t da[4] = {2, 5, 5, 3}, db[1] = {3};
    pl_tensor *a = make(4, da), *b = make(1, db);
    const pl_tensor *in[2] = {a, b};
    pl__ew_plan p;
    CHECK(pl__ew_plan_init(&p, 2, in));
    CHECK_EQ_INT(p.out_rank, 4);
    CHECK_EQ_INT(p.count, 150);
    CHECK_EQ_INT(p.rank, 2);
    CHECK_EQ_INT(p.dims[0], 50);
    CHECK_EQ_INT(p.dims[1], 3);
    CHECK_EQ_INT(p.strides[0][0], 3);
    CHECK_EQ_INT(p.strides[0][1], 1);
    CHECK_EQ_INT(p.strides[1][0], 0);
    CHECK_EQ_INT(p.strides[1][1], 1);
    pl_tensor_unref(a);
    pl_tensor_unref(b);

    /* [2,1,3] + [4,1] -> [2,4,3]: every dim changes role, nothing merges. */
    int64_t dc[3] = {2, 1, 3}, dd[2] = {4, 1};
    a = make(3, dc);
    b = make(2, dd);
    const pl_tensor *in2[2] = {a, b};
    CHECK(pl__ew_plan_init(&p, 2, in2));
    CHECK_EQ_INT(p.rank, 3);
    CHECK_EQ_INT(p.out_dims[1], 4);
    CHECK_EQ_INT(p.strides[0][1], 0);
    CHECK_EQ_INT(p.strides[1][0], 0);
    CHECK_EQ_INT(p.strides[1][1], 1);
    CHECK_EQ_INT(p.strides[1][2], 0);
    pl_tensor_unref(a);
    pl_tensor_unref(b);

    /* Incompatible, and 0 against 2. */
    int64_t d3[1] = {3}, d2[1] = {2}, d0[1] = {0};
    a = make(1, d3);
    b = make(1, d2);
    const pl_tensor *bad[2] = {a, b};
    CHECK(!pl__ew_plan_init(&p, 2, bad));
    pl_tensor_unref(a);
    a = make(1, d0);
    const pl_tensor *bad0[2] = {a, b};
    CHECK(!pl__ew_plan_init(&p, 2, bad0));
    pl_tensor_unref(a);
    pl_tensor_unref(b);
}

static int mark(const void *ctx, int64_t b, int64_t e) {
    int *hits = (int *)ctx;
    for (int64_t i = b; i < e; i++) hits[i]++;
    return 0;
}

static void test_parallel_for_covers_once(void) {
    int64_t n = 300001;
    int *hits = calloc((size_t)n, sizeof *hits);
    pl__parallel_for(n, 1000, mark, hits);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) bad += hits[i] != 1;
    CHECK_EQ_INT(bad, 0);
    free(hits);
}

/* out[idx] = a[idx mod a's shape] - b[...] computed one index at a time. */
static float naive_sub(const pl_tensor *a, const pl_tensor *b, const int64_t *idx, int rank) {
    int64_t oa = 0, ob = 0;
    for (int k = 0; k < rank; k++) {
        int ka = k - (rank - a->rank), kb = k - (rank - b->rank);
        if (ka >= 0) oa = oa * a->dims[ka] + (a->dims[ka] == 1 ? 0 : idx[k]);
        if (kb >= 0) ob = ob * b->dims[kb] + (b->dims[kb] == 1 ? 0 : idx[k]);
    }
    return ((float *)a->data)[oa] - ((float *)b->data)[ob];
}

static void test_sub_against_naive(void) {
    static const int64_t shapes[][2][4] = {
        {{3, 1, 4, 1}, {1, 5, 1, 6}}, {{1, 1, 1, 1}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {1, 3, 1, 5}},
        {{4, 1, 1, 7}, {1, 2, 3, 1}}, {{600, 1, 1, 111}, {1, 1, 1, 111}},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        pl_tensor *a = make(4, shapes[s][0]), *b = make(4, shapes[s][1]), *y = NULL;
        CHECK_OK(pl__math_binary(PL__SUB, a, b, true, &y));
        if (!y) continue;
        int64_t idx[4] = {0}, bad = 0;
        for (int64_t i = 0; i < y->count; i++) {
            if (((float *)y->data)[i] != naive_sub(a, b, idx, 4)) bad++;
            for (int k = 3; k >= 0 && ++idx[k] == y->dims[k]; k--) idx[k] = 0;
        }
        CHECK_EQ_INT(bad, 0);
        pl_tensor_unref(a);
        pl_tensor_unref(b);
        pl_tensor_unref(y);
    }
}

static void test_error_text(void) {
    int64_t d23[2] = {2, 3}, d4[1] = {4};
    pl_tensor *a = make(2, d23), *b = make(1, d4), *y = NULL;
    pl_status st = pl__math_binary(PL__ADD, a, b, true, &y);
    CHECK_EQ_INT(pl_status_code(st), PL_INVALID_ARGUMENT);
    CHECK_STR(pl_status_message(st), "Incompatible shapes: [2,3] vs. [4]");
    CHECK(y == NULL);
    pl_status_free(st);
    pl_tensor_unref(a);
    pl_tensor_unref(b);
}

int main(void) {
    RUN_TEST(test_plan_collapse);
    RUN_TEST(test_parallel_for_covers_once);
    RUN_TEST(test_sub_against_naive);
    RUN_TEST(test_error_text);
    return check_summary();
}
