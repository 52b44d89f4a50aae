/* Hash map: a random mix of puts, removes and lookups checked against a plain
 * array, forced collisions, growth, ownership and iteration. */
#include <stdint.h>

#include "base/map.h"
#include "check.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The reference: key i of a small universe is present when has[i]. */
enum { UNIVERSE = 300 };

static void run_against_reference(const pl_map_type *type, int ops) {
    char keys[UNIVERSE][16];
    bool has[UNIVERSE] = {0};
    intptr_t vals[UNIVERSE] = {0};
    for (int i = 0; i < UNIVERSE; i++) snprintf(keys[i], sizeof keys[i], "key-%d", i);
    pl_map m;
    pl_map_init(&m, type);
    size_t count = 0;
    int mismatches = 0;
    for (int op = 0; op < ops; op++) {
        int k = (int)(rng() % UNIVERSE);
        int what = (int)(rng() % 10);
        /* A copy, so borrowed-key maps are tested with stable storage while
         * copying maps never see the caller's pointer again. */
        char probe[16];
        memcpy(probe, keys[k], sizeof probe);
        const char *key = type->key_dup ? probe : keys[k];
        if (what < 5) {
            intptr_t v = (intptr_t)(rng() % 1000) + 1;
            CHECK_OK(pl_map_put(&m, key, (void *)v));
            if (!has[k]) count++;
            has[k] = true;
            vals[k] = v;
        } else if (what < 8) {
            bool removed = pl_map_remove(&m, key);
            if (removed != has[k]) mismatches++;
            if (has[k]) count--;
            has[k] = false;
        } else {
            void *v = NULL;
            bool found = pl_map_lookup(&m, key, &v);
            if (found != has[k] || (found && (intptr_t)v != vals[k])) mismatches++;
        }
        if (pl_map_count(&m) != count) mismatches++;
        if (op % 997 == 0) {
            for (int i = 0; i < UNIVERSE; i++) {
                void *v = pl_map_find(&m, keys[i]);
                if ((v != NULL) != has[i] || (v && (intptr_t)v != vals[i])) mismatches++;
            }
        }
    }
    /* Iteration visits each present key exactly once. */
    size_t pos = 0, seen = 0;
    const void *key;
    void *val;
    while (pl_map_next(&m, &pos, &key, &val)) {
        seen++;
        int k = atoi((const char *)key + 4);
        if (k < 0 || k >= UNIVERSE || !has[k] || (intptr_t)val != vals[k]) mismatches++;
    }
    CHECK_EQ_INT(seen, count);
    CHECK_EQ_INT(mismatches, 0);
    pl_map_deinit(&m);
}

static void test_random_ops_string_keys(void) { run_against_reference(&pl_map_type_str, 200000); }
static void test_random_ops_borrowed_keys(void) { run_against_reference(&pl_map_type_str_borrowed, 50000); }

/* Every key hashes alike: all entries share one probe run, so removes must
 * shift the run correctly. */
static uint64_t constant_hash(const void *key) {
    (void)key;
    return 42;
}
/* Only two distinct hashes, which makes runs wrap around the table. */
static uint64_t two_hashes(const void *key) { return strlen(key) % 2 ? UINT64_MAX : 7; }

static void test_collisions(void) {
    pl_map_type t = pl_map_type_str;
    t.hash = constant_hash;
    run_against_reference(&t, 30000);
    t.hash = two_hashes;
    run_against_reference(&t, 30000);
}

static int freed_vals, freed_keys;
static void count_val_free(void *v) {
    freed_vals++;
    free(v);
}
static void count_key_free(void *k) {
    freed_keys++;
    free(k);
}
static void *dup(const void *k) { return strdup(k); }

static void test_ownership(void) {
    pl_map_type t = {pl_hash_str, pl_equal_str, dup, count_key_free, count_val_free};
    pl_map m;
    pl_map_init(&m, &t);
    freed_vals = freed_keys = 0;
    CHECK_OK(pl_map_put(&m, "a", strdup("1")));
    CHECK_OK(pl_map_put(&m, "b", strdup("2")));
    CHECK_OK(pl_map_put(&m, "a", strdup("3")));  /* replaces: old value freed, key kept */
    CHECK_EQ_INT(freed_vals, 1);
    CHECK_EQ_INT(freed_keys, 0);
    CHECK_STR(pl_map_find(&m, "a"), "3");
    void *same = pl_map_find(&m, "b");
    CHECK_OK(pl_map_put(&m, "b", same));  /* same pointer: not freed */
    CHECK_EQ_INT(freed_vals, 1);
    CHECK(pl_map_remove(&m, "a"));
    CHECK_EQ_INT(freed_vals, 2);
    CHECK_EQ_INT(freed_keys, 1);
    CHECK(!pl_map_remove(&m, "a"));
    CHECK(!pl_map_remove(&m, "zzz"));
    pl_map_deinit(&m);
    CHECK_EQ_INT(freed_vals, 3);
    CHECK_EQ_INT(freed_keys, 2);
}

static void test_null_values_and_empty(void) {
    pl_map m;
    pl_map_init(&m, NULL);
    CHECK(pl_map_find(&m, "x") == NULL);
    CHECK(!pl_map_remove(&m, "x"));
    size_t pos = 0;
    CHECK(!pl_map_next(&m, &pos, NULL, NULL));
    CHECK_OK(pl_map_put(&m, "x", NULL));
    void *v = (void *)1;
    CHECK(pl_map_lookup(&m, "x", &v));
    CHECK(v == NULL);
    CHECK(!pl_map_lookup(&m, "y", &v));
    CHECK_OK(pl_map_put(&m, "", (void *)5));  /* the empty string is a key like any other */
    CHECK(pl_map_find(&m, "") == (void *)5);
    pl_map_deinit(&m);
}

static void test_growth(void) {
    pl_map m;
    pl_map_init(&m, NULL);
    char key[32];
    for (intptr_t i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "k%ld", (long)i);
        CHECK_OK(pl_map_put(&m, key, (void *)(i + 1)));
    }
    CHECK_EQ_INT(pl_map_count(&m), 100000);
    CHECK(m.count * 4 <= m.capacity * 3);
    int bad = 0;
    for (intptr_t i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "k%ld", (long)i);
        if (pl_map_find(&m, key) != (void *)(i + 1)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    pl_map_deinit(&m);
}

static void test_hash_quality(void) {
    /* Keys differing in one character spread over the low bits. */
    int buckets[64] = {0};
    char key[16];
    for (int i = 0; i < 6400; i++) {
        snprintf(key, sizeof key, "input_%d", i);
        buckets[pl_hash_str(key) & 63]++;
    }
    int min = buckets[0], max = buckets[0];
    for (int i = 1; i < 64; i++) {
        if (buckets[i] < min) min = buckets[i];
        if (buckets[i] > max) max = buckets[i];
    }
    CHECK(min > 50 && max < 150);
    CHECK(pl_hash_bytes("ab", 2) != pl_hash_bytes("ba", 2));
}

int main(void) {
    RUN_TEST(test_random_ops_string_keys);
    RUN_TEST(test_random_ops_borrowed_keys);
    RUN_TEST(test_collisions);
    RUN_TEST(test_ownership);
    RUN_TEST(test_null_values_and_empty);
    RUN_TEST(test_growth);
    RUN_TEST(test_hash_quality);
    return check_summary();
}
