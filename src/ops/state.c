/* Kernels of the state family (see families.h): variables
 * (state_variables.c), checkpoint restore (state_checkpoint.c) and lookup
 * tables (state_tables.c). TF1 reference variables reach these kernels as
 * handles: the SavedModel loader rewrites them (runtime/saved_model_internal.h). */
#include "ops/families.h"
#include "ops/state_internal.h"

#define S PL_KERNEL_STATEFUL
#define K(op_, name, rel, flags_)                                                                         \
    {.op = op_, .prepare = pl__state_##name##_prepare, .compute = pl__state_##name##_compute, .release = rel, \
     .flags = flags_}
#define K_NOPREP(op_, name, flags_) {.op = op_, .compute = pl__state_##name##_compute, .flags = flags_}

const pl_kernel_def pl_kernels_state[] = {
    K("VarHandleOp", var_handle, pl__state_release_handle, S),
    K("VariableV2", var_handle, pl__state_release_handle, S),
    K("Variable", var_handle, pl__state_release_handle, S),
    K("ReadVariableOp", read_variable, pl__state_release, S),
    K("Assign", assign, pl__state_release, S),
    K("AssignVariableOp", assign, pl__state_release, S),
    K("AssignAdd", assign_update, pl__state_release, S),
    K("AssignSub", assign_update, pl__state_release, S),
    K("AssignAddVariableOp", assign_update, pl__state_release, S),
    K("AssignSubVariableOp", assign_update, pl__state_release, S),
    K_NOPREP("VarIsInitializedOp", is_initialized, S),
    K_NOPREP("IsVariableInitialized", is_initialized, S),
    K("DestroyResourceOp", destroy_resource, pl__state_release, S),
    K_NOPREP("DisableCopyOnRead", disable_copy_on_read, S),
    K("VariableShape", variable_shape, pl__state_release, S),
    K("ResourceGather", resource_gather, NULL, S),
    K("ResourceApplyGradientDescent", apply_gradient_descent, pl__state_release, S),
    K("ApplyGradientDescent", apply_gradient_descent, pl__state_release, S),

    K("RestoreV2", restore, pl__state_release, S),
    K("Restore", restore, pl__state_release, S),
    K("RestoreSlice", restore, pl__state_release, S),
    K_NOPREP("SaveV2", no_save, S),
    K_NOPREP("Save", no_save, S),
    K_NOPREP("SaveSlices", no_save, S),
    K_NOPREP("MergeV2Checkpoints", no_save, S),
    K_NOPREP("ShardedFilename", sharded_filename, 0),

    K("HashTableV2", table_handle, pl__state_table_handle_release, S),
    K("HashTable", table_handle, pl__state_table_handle_release, S),
    K("MutableHashTableV2", table_handle, pl__state_table_handle_release, S),
    K("MutableHashTable", table_handle, pl__state_table_handle_release, S),
    K_NOPREP("InitializeTableV2", table_init, S),
    K_NOPREP("InitializeTable", table_init, S),
    K_NOPREP("LookupTableImportV2", table_init, S),
    K_NOPREP("LookupTableImport", table_init, S),
    K("InitializeTableFromTextFileV2", table_init_file, pl__state_table_init_file_release, S),
    K("InitializeTableFromTextFile", table_init_file, pl__state_table_init_file_release, S),
    K_NOPREP("LookupTableFindV2", table_find, S),
    K_NOPREP("LookupTableFind", table_find, S),
    K_NOPREP("LookupTableInsertV2", table_insert, S),
    K_NOPREP("LookupTableInsert", table_insert, S),
    K_NOPREP("LookupTableSizeV2", table_size, S),
    K_NOPREP("LookupTableSize", table_size, S),
    K("LookupTableExportV2", table_export, NULL, S),
    K("LookupTableExport", table_export, NULL, S),
    {0},
};
