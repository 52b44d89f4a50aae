/* Session resources: (container, name) -> pl_object, behind one mutex.
 * Resources are created at load (variables, tables) and looked up by
 * kernels' prepare(), so a plain list is fast enough and keeps order. */
#include "runtime/session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct resource {
    char *container;
    char *name;
    pl_object *obj;
    struct resource *next;
} resource;

struct pl_session {
    pthread_mutex_t mu;
    resource *head;
};

pl_status pl_session_new(pl_session **out) {
    pl_session *s = calloc(1, sizeof *s);
    if (!s) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return NULL;
}

void pl_session_free(pl_session *s) {
    if (!s) return;
    for (resource *r = s->head, *next; r; r = next) {
        next = r->next;
        pl_object_unref(r->obj);
        free(r->container);
        free(r->name);
        free(r);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static resource *find_locked(pl_session *s, const char *container, const char *name) {
    for (resource *r = s->head; r; r = r->next)
        if (!strcmp(r->container, container) && !strcmp(r->name, name)) return r;
    return NULL;
}

static pl_status insert_locked(pl_session *s, const char *container, const char *name, pl_object *obj) {
    resource *r = calloc(1, sizeof *r);
    if (r) {
        r->container = strdup(container);
        r->name = strdup(name);
    }
    if (!r || !r->container || !r->name) {
        if (r) {
            free(r->container);
            free(r->name);
            free(r);
        }
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    r->obj = obj;
    r->next = s->head;
    s->head = r;
    return NULL;
}

static pl_status check_type(const resource *r, const pl_object_type *type) {
    if (type && r->obj && r->obj->type != type)
        return pl_error(PL_INVALID_ARGUMENT, "Resource %s/%s is a %s, not a %s", r->container, r->name,
                        r->obj->type->name, type->name);
    return NULL;
}

pl_status pl_session_resource_lookup_or_create(pl_session *s, const char *container, const char *name,
                                               const pl_object_type *type,
                                               pl_status (*create)(void *arg, pl_object **out), void *arg,
                                               pl_object **out) {
    container = container ? container : "";
    pthread_mutex_lock(&s->mu);
    pl_status st = NULL;
    resource *r = find_locked(s, container, name);
    if (r) {
        st = check_type(r, type);
        if (!st) *out = pl_object_ref(r->obj);
    } else {
        pl_object *obj = NULL;
        st = create(arg, &obj);
        if (!st && (st = insert_locked(s, container, name, obj))) pl_object_unref(obj);
        if (!st) *out = pl_object_ref(obj);
    }
    pthread_mutex_unlock(&s->mu);
    return st;
}

pl_status pl_session_resource_lookup(pl_session *s, const char *container, const char *name,
                                     const pl_object_type *type, pl_object **out) {
    container = container ? container : "";
    pthread_mutex_lock(&s->mu);
    pl_status st = NULL;
    resource *r = find_locked(s, container, name);
    if (!r)
        st = pl_error(PL_NOT_FOUND, "Resource %s/%s does not exist", container, name);
    else if (!(st = check_type(r, type)))
        *out = pl_object_ref(r->obj);
    pthread_mutex_unlock(&s->mu);
    return st;
}

pl_status pl_session_resource_create(pl_session *s, const char *container, const char *name, pl_object *obj) {
    container = container ? container : "";
    pthread_mutex_lock(&s->mu);
    pl_status st = NULL;
    if (find_locked(s, container, name))
        st = pl_error(PL_ALREADY_EXISTS, "Resource %s/%s already exists", container, name);
    else
        st = insert_locked(s, container, name, obj);
    pthread_mutex_unlock(&s->mu);
    if (st) pl_object_unref(obj);
    return st;
}

pl_status pl_session_resource_delete(pl_session *s, const char *container, const char *name) {
    container = container ? container : "";
    pthread_mutex_lock(&s->mu);
    resource **link = &s->head;
    while (*link && (strcmp((*link)->container, container) || strcmp((*link)->name, name))) link = &(*link)->next;
    resource *r = *link;
    if (r) *link = r->next;
    pthread_mutex_unlock(&s->mu);
    if (!r) return pl_error(PL_NOT_FOUND, "Resource %s/%s does not exist", container, name);
    pl_object_unref(r->obj);
    free(r->container);
    free(r->name);
    free(r);
    return NULL;
}
