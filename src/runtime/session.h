/* Sessions: the state of one loaded model that outlives a single run —
 * named resources such as variables and lookup tables, kept in containers
 * the way TensorFlow's ResourceMgr keeps them.
 *
 * Every resource is a pl_object (see tensor.h) identified by (container,
 * name); the empty container is the default one. Lookups are thread-safe.
 *
 *     static pl_status make_var(void *arg, pl_object **out) { ... }
 *     pl_object *var;
 *     PL_TRY(pl_session_resource_lookup_or_create(s, "", "weights", &var_type,
 *                                                 make_var, NULL, &var));
 *     ...
 *     pl_object_unref(var);
 */
#ifndef PL_RUNTIME_SESSION_H
#define PL_RUNTIME_SESSION_H

#include "base/status.h"
#include "tensor/tensor.h"

typedef struct pl_session pl_session;

pl_status pl_session_new(pl_session **out);
/* Drops every resource the session holds. No run may be in flight. */
void pl_session_free(pl_session *s);

/* Finds (container, name) or, when it is absent, creates it with
 * create(arg, &obj) and stores it. *out is a new reference. Fails with
 * INVALID_ARGUMENT when the existing resource has another type. create runs
 * under the session's resource lock: it must not call back into the session. */
pl_status pl_session_resource_lookup_or_create(pl_session *s, const char *container, const char *name,
                                               const pl_object_type *type,
                                               pl_status (*create)(void *arg, pl_object **out), void *arg,
                                               pl_object **out);
/* Finds (container, name); NOT_FOUND when absent. *out is a new reference. */
pl_status pl_session_resource_lookup(pl_session *s, const char *container, const char *name,
                                     const pl_object_type *type, pl_object **out);
/* Stores obj (taking over the caller's reference) under (container, name);
 * ALREADY_EXISTS when the name is taken (obj is then released). */
pl_status pl_session_resource_create(pl_session *s, const char *container, const char *name, pl_object *obj);
/* Removes (container, name); NOT_FOUND when absent. */
pl_status pl_session_resource_delete(pl_session *s, const char *container, const char *name);

#endif
