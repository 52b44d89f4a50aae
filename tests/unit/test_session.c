/* Session resources: create on first lookup, share afterwards, refuse
 * another type under the same name, delete, and concurrent lookups creating
 * exactly one object. */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "runtime/session.h"

typedef struct counter {
    pl_object base;
    int value;
} counter;

static atomic_int destroyed, created;

static void counter_destroy(pl_object *o) {
    atomic_fetch_add(&destroyed, 1);
    free(o);
}

static const pl_object_type counter_type = {"Counter", counter_destroy};
static const pl_object_type other_type = {"Other", counter_destroy};

static pl_status make_counter(void *arg, pl_object **out) {
    counter *c = calloc(1, sizeof *c);
    if (!c) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_object_init(&c->base, &counter_type);
    c->value = arg ? *(int *)arg : 0;
    atomic_fetch_add(&created, 1);
    *out = &c->base;
    return NULL;
}

static void test_lookup_or_create(void) {
    pl_session *s;
    CHECK_OK(pl_session_new(&s));
    int seven = 7;
    pl_object *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(pl_session_resource_lookup_or_create(s, "", "v", &counter_type, make_counter, &seven, &a));
    CHECK_OK(pl_session_resource_lookup_or_create(s, NULL, "v", &counter_type, make_counter, NULL, &b));
    CHECK(a && a == b);
    if (a) CHECK_EQ_INT(((counter *)a)->value, 7);
    CHECK_ERR(pl_session_resource_lookup(s, "", "v", &other_type, &c), PL_INVALID_ARGUMENT);
    CHECK_ERR(pl_session_resource_lookup(s, "other", "v", &counter_type, &c), PL_NOT_FOUND);
    CHECK_OK(pl_session_resource_lookup(s, "", "v", NULL, &c));
    CHECK(c == a);
    pl_object *d = NULL;
    CHECK_OK(make_counter(NULL, &d));
    CHECK_ERR(pl_session_resource_create(s, "", "v", d), PL_ALREADY_EXISTS); /* d released */
    CHECK_OK(pl_session_resource_delete(s, "", "v"));
    CHECK_ERR(pl_session_resource_delete(s, "", "v"), PL_NOT_FOUND);
    pl_object_unref(a);
    pl_object_unref(b);
    pl_object_unref(c);
    pl_session_free(s);
    CHECK_EQ_INT(atomic_load(&destroyed), atomic_load(&created));
}

static pl_session *shared;
static pl_object *seen[8];

static void *lookup(void *arg) {
    int i = (int)(intptr_t)arg;
    pl_status st = pl_session_resource_lookup_or_create(shared, "c", "x", &counter_type, make_counter, NULL, &seen[i]);
    pl_status_free(st);
    return NULL;
}

static void test_concurrent_create_once(void) {
    atomic_store(&created, 0);
    atomic_store(&destroyed, 0);
    CHECK_OK(pl_session_new(&shared));
    pthread_t t[8];
    for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, lookup, (void *)(intptr_t)i);
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    CHECK_EQ_INT(atomic_load(&created), 1);
    for (int i = 0; i < 8; i++) {
        CHECK(seen[i] == seen[0]);
        pl_object_unref(seen[i]);
    }
    pl_session_free(shared);
    CHECK_EQ_INT(atomic_load(&destroyed), 1);
}

int main(void) {
    RUN_TEST(test_lookup_or_create);
    RUN_TEST(test_concurrent_create_once);
    return check_summary();
}
