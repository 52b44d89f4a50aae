/* Names shared between the files of the state family: the session
 * resources it keeps (variables and lookup tables) and their handles.
 *
 * A handle is a scalar RESOURCE tensor holding the resource object itself,
 * so kernels reach a variable without a name lookup per run. Each resource
 * remembers its (container, name) key so DestroyResourceOp can remove it. */
#ifndef PL_OPS_STATE_INTERNAL_H
#define PL_OPS_STATE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "ops/kernel.h"

/* The common head of every state resource. */
typedef struct pl__resource {
    pl_object base;
    char *container;
    char *name;
} pl__resource;

/* A variable (resource variable or TF1 reference variable).
 *
 * The value is an immutable tensor: writes install a new tensor under `mu`,
 * readers take a reference to the current one and keep it as long as they
 * like. A read-modify-write (AssignAdd) holds `mu` throughout, so
 * concurrent increments are never lost. */
typedef struct pl__variable {
    pl__resource res;
    pthread_mutex_t mu;
    pl_dtype dtype;              /* declared; PL_DT_INVALID when unknown */
    int rank;                    /* declared shape; -1: unknown rank */
    int64_t dims[PL_MAX_RANK];   /* -1: unknown dimension */
    bool is_ref;                 /* a TF1 VariableV2 (for TensorFlow's error wording) */
    pl_tensor *value;            /* NULL until initialised; guarded by mu */
} pl__variable;

extern const pl_object_type pl__variable_type;
extern const pl_object_type pl__table_type;  /* lookup tables (state_tables.c) */

/* Resolves (container, shared_name or node name) in the session, creating an
 * uninitialised variable with the given declaration when absent. *out is a new reference. */
pl_status pl__variable_lookup_or_create(struct pl_session *s, const char *container, const char *name,
                                        pl_dtype dtype, int rank, const int64_t *dims, bool is_ref,
                                        pl__variable **out);

/* The variable behind handle input `i` of a kernel; borrowed for the compute call. */
pl_status pl__variable_from_input(const pl_kernel_ctx *c, int i, pl__variable **out);

/* The current value (a new reference); FAILED_PRECONDITION when uninitialised. */
pl_status pl__variable_read(pl__variable *v, pl_tensor **out);

/* A scalar RESOURCE tensor holding a new reference to obj. */
pl_status pl__handle_tensor(pl_object *obj, pl_tensor **out);

/* Reads the (container, shared_name) key of a resource-creating node:
 * shared_name, else the node name. Pointers borrow from the attrs and the
 * node name; `*name` is NUL-terminated in a malloc'd copy the caller frees. */
pl_status pl__resource_key(const pl_kernel_prep *p, char **container, char **name);

/* The kernels, listed in state.c's table. */
#define PL__STATE_KERNEL(name)                          \
    pl_status pl__state_##name##_prepare(pl_kernel_prep *p); \
    pl_status pl__state_##name##_compute(pl_kernel_ctx *c);
PL__STATE_KERNEL(var_handle)        /* VarHandleOp, VariableV2, Variable */
PL__STATE_KERNEL(read_variable)     /* ReadVariableOp */
PL__STATE_KERNEL(assign)            /* Assign, AssignVariableOp */
PL__STATE_KERNEL(assign_update)     /* AssignAdd, AssignSub and the *VariableOp forms */
PL__STATE_KERNEL(is_initialized)    /* VarIsInitializedOp, IsVariableInitialized */
PL__STATE_KERNEL(destroy_resource)  /* DestroyResourceOp */
PL__STATE_KERNEL(disable_copy_on_read) /* DisableCopyOnRead */
PL__STATE_KERNEL(variable_shape)    /* VariableShape */
PL__STATE_KERNEL(resource_gather)   /* ResourceGather */
PL__STATE_KERNEL(apply_gradient_descent) /* ResourceApplyGradientDescent, ApplyGradientDescent */
PL__STATE_KERNEL(restore)           /* RestoreV2, Restore, RestoreSlice */
PL__STATE_KERNEL(no_save)           /* SaveV2, Save, SaveSlices, MergeV2Checkpoints */
PL__STATE_KERNEL(sharded_filename)  /* ShardedFilename */
PL__STATE_KERNEL(table_handle)      /* HashTableV2, MutableHashTableV2 (+ v1 names) */
PL__STATE_KERNEL(table_init)        /* InitializeTableV2, LookupTableImportV2 */
PL__STATE_KERNEL(table_init_file)   /* InitializeTableFromTextFileV2 */
PL__STATE_KERNEL(table_find)        /* LookupTableFindV2 */
PL__STATE_KERNEL(table_insert)      /* LookupTableInsertV2 */
PL__STATE_KERNEL(table_size)        /* LookupTableSizeV2 */
PL__STATE_KERNEL(table_export)      /* LookupTableExportV2 */
#undef PL__STATE_KERNEL
void pl__state_release(void *state); /* free() for states that are one allocation */
void pl__state_release_handle(void *state);          /* var_handle */
void pl__state_table_handle_release(void *state);    /* table_handle */
void pl__state_table_init_file_release(void *state); /* table_init_file */

#endif
