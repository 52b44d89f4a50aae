/* Kernels of the array family (see families.h): shapes, slicing,
 * concatenation, gathering, padding. The kernels live in src/ops/array_*.c;
 * this file is their table. */
#include "ops/array_internal.h"
#include "ops/families.h"

#define K(op_name, fn) {.op = op_name, .compute = pl__arr_##fn}
#define KP(op_name, fn, prep) \
    {.op = op_name, .prepare = pl__arr_prep_##prep, .compute = pl__arr_##fn, .release = pl__arr_free_state}

const pl_kernel_def pl_kernels_array[] = {
    K("Reshape", reshape),
    KP("Squeeze", squeeze, squeeze),
    K("ExpandDims", expand_dims),
    KP("Shape", shape, out_type),
    KP("ShapeN", shape_n, out_type),
    KP("Size", size, out_type),
    K("Rank", rank),
    KP("EnsureShape", ensure_shape, ensure_shape),
    K("BroadcastArgs", broadcast_args),
    K("InvertPermutation", invert_permutation),
    K("ConcatV2", concat_v2),
    K("Concat", concat),
    KP("Pack", pack, axis),
    KP("Unpack", unpack, axis),
    KP("Split", split, axis),
    KP("SplitV", split_v, axis),
    {.op = "ConcatOffset", .prepare = pl__arr_prep_concat_offset, .compute = pl__arr_concat_offset},
    K("Slice", slice),
    KP("StridedSlice", strided_slice, strided_slice),
    K("Transpose", transpose),
    K("ConjugateTranspose", conjugate_transpose),
    K("ReverseV2", reverse_v2),
    K("Tile", tile),
    K("BroadcastTo", broadcast_to),
    KP("DepthToSpace", depth_to_space, block_size),
    KP("SpaceToDepth", space_to_depth, block_size),
    K("SpaceToBatchND", space_to_batch_nd),
    K("BatchToSpaceND", batch_to_space_nd),
    K("Pad", pad),
    K("PadV2", pad),
    KP("MirrorPad", mirror_pad, mirror_pad),
    K("Gather", gather),
    KP("GatherV2", gather_v2, gather_v2),
    K("GatherNd", gather_nd),
    K("Where", where),
    K("Fill", fill),
    K("ZerosLike", zeros_like),
    K("OnesLike", ones_like),
    K("Range", range),
    KP("OneHot", one_hot, one_hot),
    KP("TopKV2", top_k_v2, top_k_v2),
    KP("Unique", unique, out_idx),
    KP("UpperBound", upper_bound, out_type),
    KP("LowerBound", lower_bound, out_type),
    KP("CheckNumerics", check_numerics, check_numerics),
    KP("Bitcast", bitcast, bitcast),
    {0},
};
