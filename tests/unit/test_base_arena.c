/* Arena: alignment, zero and huge sizes, limits, reset and stats. */
#include <stdint.h>

#include "base/arena.h"
#include "check.h"

static void test_zero_size_is_non_null(void) {
    pl_arena a;
    pl_arena_init(&a, 0);
    void *p = pl_arena_alloc(&a, 0), *q = pl_arena_alloc(&a, 0);
    CHECK(p != NULL);
    CHECK(q != NULL);
    CHECK_EQ_INT(pl_arena_get_stats(&a).nbytes_used, 0);
    pl_arena_deinit(&a);
}

static void test_alignment(void) {
    pl_arena a;
    pl_arena_init(&a, 1024);
    for (size_t align = 1; align <= PL_ARENA_MAX_ALIGN; align *= 2) {
        for (int i = 0; i < 5; i++) {
            (void)pl_arena_alloc(&a, 3); /* knock the bump pointer off alignment */
            unsigned char *p = pl_arena_alloc_aligned(&a, 24, align);
            CHECK(p != NULL);
            size_t want = align < PL_ARENA_ALIGN ? PL_ARENA_ALIGN : align;
            CHECK_EQ_INT((uintptr_t)p % want, 0);
            if (p) memset(p, 0xab, 24);
        }
    }
    CHECK(pl_arena_alloc_aligned(&a, 8, 3) == NULL);                      /* not a power of two */
    CHECK(pl_arena_alloc_aligned(&a, 8, PL_ARENA_MAX_ALIGN * 2) == NULL);  /* too large */
    pl_arena_deinit(&a);
}

static void test_huge_sizes_refused(void) {
    pl_arena a;
    pl_arena_init(&a, 0);
    CHECK(pl_arena_alloc(&a, SIZE_MAX) == NULL);
    CHECK(pl_arena_alloc(&a, SIZE_MAX - 8) == NULL);
    CHECK(pl_arena_alloc(&a, PL_ARENA_MAX_ALLOC + 1) == NULL);
    CHECK(pl_arena_alloc_array(&a, SIZE_MAX / 2, 4) == NULL);  /* product overflows */
    CHECK(pl_arena_calloc(&a, (size_t)1 << 33, (size_t)1 << 33) == NULL);
    CHECK(pl_arena_strndup(&a, "x", SIZE_MAX) == NULL);
    CHECK_EQ_INT(pl_arena_get_stats(&a).nbytes_reserved, 0);
    /* Still usable afterwards. */
    CHECK(pl_arena_alloc(&a, 100) != NULL);
    pl_arena_deinit(&a);
}

static void test_limit(void) {
    pl_arena a;
    pl_arena_init(&a, 4096);
    pl_arena_set_limit(&a, 3 * 4096);
    int ok = 0;
    for (int i = 0; i < 100; i++)
        if (pl_arena_alloc(&a, 1000)) ok++;
    /* Two chunks of 4096 (plus headers) fit under 12288, a third does not. */
    CHECK(ok >= 8 && ok < 12);
    CHECK(pl_arena_get_stats(&a).nbytes_reserved <= 3 * 4096);
    CHECK(pl_arena_alloc(&a, 5000) == NULL); /* a dedicated chunk would pass the limit */
    pl_arena_set_limit(&a, 0);
    CHECK(pl_arena_alloc(&a, 5000) != NULL);
    pl_arena_deinit(&a);
}

static void test_contents_survive_many_allocations(void) {
    pl_arena a;
    pl_arena_init(&a, 512);
    enum { N = 2000 };
    unsigned char *ptrs[N];
    size_t sizes[N];
    for (int i = 0; i < N; i++) {
        sizes[i] = (size_t)(i * 37) % 300;
        ptrs[i] = pl_arena_alloc(&a, sizes[i]);
        CHECK(ptrs[i] != NULL);
        memset(ptrs[i], i & 0xff, sizes[i]);
    }
    int bad = 0;
    for (int i = 0; i < N; i++)
        for (size_t j = 0; j < sizes[i]; j++)
            if (ptrs[i][j] != (unsigned char)(i & 0xff)) bad++;
    CHECK_EQ_INT(bad, 0);
    size_t total = 0;
    for (int i = 0; i < N; i++) total += sizes[i];
    CHECK_EQ_INT(pl_arena_get_stats(&a).nbytes_used, total);
    pl_arena_deinit(&a);
}

static void test_big_allocation_keeps_head(void) {
    pl_arena a;
    pl_arena_init(&a, 4096);
    char *small1 = pl_arena_alloc(&a, 16);
    (void)pl_arena_alloc(&a, 100000);  /* dedicated chunk */
    char *small2 = pl_arena_alloc(&a, 16);
    /* The small allocations still come from the same chunk. */
    CHECK(small2 > small1 && small2 - small1 < 4096);
    CHECK_EQ_INT(pl_arena_get_stats(&a).n_chunks, 2);
    pl_arena_deinit(&a);
}

static void test_reset_keeps_one_chunk(void) {
    pl_arena a;
    pl_arena_init(&a, 4096);
    for (int i = 0; i < 50; i++) (void)pl_arena_alloc(&a, 500);
    (void)pl_arena_alloc(&a, 1 << 20);
    CHECK(pl_arena_get_stats(&a).n_chunks > 2);
    pl_arena_reset(&a);
    pl_arena_stats s = pl_arena_get_stats(&a);
    CHECK_EQ_INT(s.n_chunks, 1);
    CHECK_EQ_INT(s.nbytes_used, 0);
    CHECK(s.nbytes_reserved < 8192);
    /* The kept chunk is reused without a new one. */
    CHECK(pl_arena_alloc(&a, 1000) != NULL);
    CHECK_EQ_INT(pl_arena_get_stats(&a).n_chunks, 1);
    /* Reset of an arena holding only a dedicated chunk frees it. */
    pl_arena b;
    pl_arena_init(&b, 4096);
    (void)pl_arena_alloc(&b, 1 << 20);
    pl_arena_reset(&b);
    CHECK_EQ_INT(pl_arena_get_stats(&b).n_chunks, 0);
    CHECK_EQ_INT(pl_arena_get_stats(&b).nbytes_reserved, 0);
    pl_arena_deinit(&b);
    pl_arena_deinit(&a);
}

static void test_copies(void) {
    pl_arena a;
    pl_arena_init(&a, 0);
    CHECK_STR(pl_arena_strdup(&a, "hello"), "hello");
    CHECK_STR(pl_arena_strndup(&a, "hello", 3), "hel");
    CHECK_STR(pl_arena_strdup(&a, ""), "");
    int *z = pl_arena_calloc(&a, 10, sizeof(int));
    int sum = 0;
    for (int i = 0; i < 10; i++) sum += z[i];
    CHECK_EQ_INT(sum, 0);
    const char raw[4] = {1, 0, 2, 0};
    char *d = pl_arena_memdup(&a, raw, 4);
    CHECK(d && memcmp(d, raw, 4) == 0);
    CHECK(pl_arena_memdup(&a, NULL, 0) != NULL);
    pl_arena_deinit(&a);
}

int main(void) {
    RUN_TEST(test_zero_size_is_non_null);
    RUN_TEST(test_alignment);
    RUN_TEST(test_huge_sizes_refused);
    RUN_TEST(test_limit);
    RUN_TEST(test_contents_survive_many_allocations);
    RUN_TEST(test_big_allocation_keeps_head);
    RUN_TEST(test_reset_keeps_one_chunk);
    RUN_TEST(test_copies);
    return check_summary();
}
