"""Array kernels (src/ops/array*.c) through run_graph, checked against numpy.

Every case builds a small graph (inputs fed as placeholders), runs it, and
compares with numpy's answer; error cases check TensorFlow's message. Many
cases share one graph (Batch) to keep the number of processes small."""
import itertools
import random
import unittest

import numpy as np
from graphlib import GraphError, node, placeholder, run

ALL_DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
              np.uint32, np.uint64, np.bool_, np.complex64, np.complex128, bytes]


def sample(shape, dtype, seed=0):
    rng = np.random.RandomState(seed)
    n = int(np.prod(shape, dtype=np.int64))
    if dtype is bytes:
        words = [b"", b"a", b"bc", b"plinth", b"x" * 40]
        return np.array([words[i % 5] + str(i).encode() for i in range(n)], dtype=object).astype(bytes).reshape(shape)
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.randint(0, 2, size=shape).astype(np.bool_)
    if dt.kind == "c":
        return (rng.randn(*shape) + 1j * rng.randn(*shape)).astype(dt)
    if dt.kind == "f":
        return rng.randn(*shape).astype(dt)
    info = np.iinfo(dt)
    return rng.randint(max(info.min, -1000), min(info.max, 1000), size=shape).astype(dt)


def ph_dtype(v):
    v = np.asarray(v)
    return bytes if v.dtype.kind in "SO" else v.dtype


class Batch:
    """Many independent op invocations in one graph and one run."""

    def __init__(self):
        self.nodes, self.feeds, self.fetches, self.checks = [], {}, [], []

    def add(self, op, inputs, n_out=1, **attrs):
        k = len(self.checks)
        names = []
        for i, v in enumerate(inputs):
            name = "c%d_in%d" % (k, i)
            self.nodes.append(placeholder(name, ph_dtype(v)))
            self.feeds[name] = np.asarray(v)
            names.append(name)
        self.nodes.append(node("c%d" % k, op, names, **attrs))
        first = len(self.fetches)
        self.fetches += ["c%d:%d" % (k, j) for j in range(n_out)]
        self.checks.append((first, n_out))
        return k

    def run(self):
        got = run(self.nodes, feeds=self.feeds, fetches=self.fetches)
        return [got[f:f + n] for f, n in self.checks]


def op(name, inputs, n_out=1, **attrs):
    b = Batch()
    b.add(name, inputs, n_out, **attrs)
    return b.run()[0]


class ArrayTest(unittest.TestCase):
    def same(self, got, want):
        want = np.asarray(want)
        got = np.asarray(got)
        self.assertEqual(got.shape, want.shape)
        if want.dtype.kind in "SO":
            self.assertEqual(got.tolist(), want.tolist())
        else:
            self.assertEqual(got.dtype, want.dtype)
            np.testing.assert_array_equal(got, want)

    def error(self, name, inputs, text, n_out=1, **attrs):
        with self.assertRaises(GraphError) as e:
            op(name, inputs, n_out, **attrs)
        self.assertIn(text, str(e.exception))
        return str(e.exception)


class Reshape(ArrayTest):
    def test_shapes(self):
        x = np.arange(24, dtype=np.float32)
        b = Batch()
        cases = [((2, 3, 4), np.int32), ((-1, 6), np.int32), ((4, -1, 2), np.int64), ((24,), np.int32),
                 ((1, 1, 24), np.int64)]
        for shp, t in cases:
            b.add("Reshape", [x, np.array(shp, t)])
        b.add("Reshape", [np.float32([7]), np.int32([])])            # to a scalar
        b.add("Reshape", [np.float32(7), np.int32([1, 1])])          # from a scalar
        b.add("Reshape", [np.zeros((0, 5), np.float32), np.int32([-1, 0])])  # -1 next to a zero dim
        b.add("Reshape", [np.zeros((0, 5), np.float32), np.int32([5, -1])])
        b.add("Reshape", [sample((2, 3), bytes), np.int32([3, 2])])
        got = b.run()
        for (shp, _), g in zip(cases, got):
            self.same(g[0], x.reshape(shp))
        self.same(got[5][0], np.float32(7))
        self.same(got[6][0], np.float32([[7]]))
        self.same(got[7][0], np.zeros((5, 0), np.float32))
        self.same(got[8][0], np.zeros((5, 0), np.float32))
        self.same(got[9][0], sample((2, 3), bytes).reshape(3, 2))

    def test_errors(self):
        x = np.arange(6, dtype=np.float32)
        self.error("Reshape", [x, np.int32([-1, -1])], "Only one input size may be -1, not both 0 and 1")
        self.error("Reshape", [x, np.int32([-2, 3])], "Size 0 must be non-negative, not -2")
        self.error("Reshape", [x, np.int32([4, -1])],
                   "Input to reshape is a tensor with 6 values, but the requested shape requires a multiple of 4")
        msg = self.error("Reshape", [x, np.int32([4, 2])],
                         "Input to reshape is a tensor with 6 values, but the requested shape has 8")
        self.assertIn("INVALID_ARGUMENT", msg)
        self.error("Reshape", [x, np.int32([[2, 3]])], "sizes input must be 1-D, not [1,2]")


class SqueezeExpand(ArrayTest):
    def test_squeeze(self):
        x = sample((1, 3, 1, 2, 1), np.float32)
        b = Batch()
        b.add("Squeeze", [x])
        b.add("Squeeze", [x], squeeze_dims=[0, -1])
        b.add("Squeeze", [x], squeeze_dims=[2])
        b.add("Squeeze", [np.zeros((1, 0, 1), np.int8)])
        got = b.run()
        self.same(got[0][0], np.squeeze(x))
        self.same(got[1][0], np.squeeze(x, axis=(0, 4)))
        self.same(got[2][0], np.squeeze(x, axis=2))
        self.same(got[3][0], np.zeros((0,), np.int8))
        self.error("Squeeze", [x], "Can not squeeze dim[1], expected a dimension of 1, got 3", squeeze_dims=[1])
        self.error("Squeeze", [x], "Tried to squeeze dim index 5 for tensor with 5 dimensions.", squeeze_dims=[5])
        self.error("Squeeze", [x], "Tried to squeeze dim index -6 for tensor with 5 dimensions.", squeeze_dims=[-6])

    def test_expand_dims(self):
        x = sample((2, 3), np.int64)
        b = Batch()
        for d in (0, 1, 2, -1, -2, -3):
            b.add("ExpandDims", [x, np.int32(d)])
        b.add("ExpandDims", [np.float32(5), np.int64([0])])
        got = b.run()
        for d, g in zip((0, 1, 2, -1, -2, -3), got):
            self.same(g[0], np.expand_dims(x, d))
        self.same(got[6][0], np.float32([5]))
        self.error("ExpandDims", [x, np.int32(3)], "Tried to expand dim index 3 for tensor with 2 dimensions.")
        self.error("ExpandDims", [x, np.int32(-4)], "Tried to expand dim index -4 for tensor with 2 dimensions.")
        self.error("ExpandDims", [x, np.int32([0, 1])], "'dim' must be a tensor with a single value")


class ShapeOps(ArrayTest):
    def test_shape_size_rank(self):
        x = np.zeros((2, 0, 3), np.float32)
        b = Batch()
        b.add("Shape", [x])
        b.add("Shape", [x], out_type=np.int64)
        b.add("Shape", [np.float32(1)])
        b.add("Size", [x])
        b.add("Size", [sample((4, 5), bytes)], out_type=np.int64)
        b.add("Rank", [x])
        b.add("Rank", [np.int8(1)])
        b.add("ShapeN", [x, np.ones((7,), np.int32)], n_out=2, N=2, out_type=np.int64)
        got = b.run()
        self.same(got[0][0], np.int32([2, 0, 3]))
        self.same(got[1][0], np.int64([2, 0, 3]))
        self.same(got[2][0], np.zeros((0,), np.int32))
        self.same(got[3][0], np.int32(0))
        self.same(got[4][0], np.int64(20))
        self.same(got[5][0], np.int32(3))
        self.same(got[6][0], np.int32(0))
        self.same(got[7][0], np.int64([2, 0, 3]))
        self.same(got[7][1], np.int64([7]))

    def test_broadcast_args_and_invert_permutation(self):
        b = Batch()
        b.add("BroadcastArgs", [np.int32([2, 1, 3]), np.int32([4, 1])])
        b.add("BroadcastArgs", [np.int64([]), np.int64([5, 0])])
        b.add("InvertPermutation", [np.int32([3, 4, 0, 2, 1])])
        b.add("InvertPermutation", [np.int64([])])
        got = b.run()
        self.same(got[0][0], np.int32([2, 4, 3]))
        self.same(got[1][0], np.int64([5, 0]))
        self.same(got[2][0], np.argsort([3, 4, 0, 2, 1]).astype(np.int32))
        self.same(got[3][0], np.int64([]))
        self.error("BroadcastArgs", [np.int32([2, 3]), np.int32([4])], "Incompatible shapes: [2,3] vs. [4]")
        self.error("InvertPermutation", [np.int32([0, 0])], "0 is duplicated in the input.")
        self.error("InvertPermutation", [np.int32([0, 2])], "2 is not between 0 and 2")

    def test_ensure_shape(self):
        from graphlib import shape
        x = sample((2, 3), np.float32)
        self.same(op("EnsureShape", [x], shape=shape(None, 3))[0], x)
        self.same(op("EnsureShape", [x], shape=shape(None))[0], x)
        self.error("EnsureShape", [x], "is not compatible with expected shape [?,4].", shape=shape(None, 4))


class FillOps(ArrayTest):
    def test_fill_like(self):
        b = Batch()
        b.add("Fill", [np.int32([2, 3]), np.float32(1.5)])
        b.add("Fill", [np.int64([2, 0]), np.int8(3)])
        b.add("Fill", [np.int32([]), np.int64(9)])
        b.add("Fill", [np.int32([3]), np.array(b"ab")])
        b.add("ZerosLike", [sample((2, 2), np.complex64)])
        b.add("OnesLike", [sample((3,), np.complex128)])
        b.add("OnesLike", [sample((2, 2), np.float16)])
        b.add("OnesLike", [sample((2,), np.bool_)])
        b.add("ZerosLike", [sample((2,), np.uint64)])
        got = b.run()
        self.same(got[0][0], np.full((2, 3), 1.5, np.float32))
        self.same(got[1][0], np.zeros((2, 0), np.int8))
        self.same(got[2][0], np.int64(9))
        self.same(got[3][0], np.array([b"ab"] * 3))
        self.same(got[4][0], np.zeros((2, 2), np.complex64))
        self.same(got[5][0], np.ones(3, np.complex128))
        self.same(got[6][0], np.ones((2, 2), np.float16))
        self.same(got[7][0], np.ones(2, np.bool_))
        self.same(got[8][0], np.zeros(2, np.uint64))
        self.error("Fill", [np.int32([2, -1]), np.float32(1)], "Dimension -1 must be >= 0")
        self.error("Fill", [np.int32([2]), np.float32([1, 2])], "value must represent a scalar, got shape [2]")

    def test_range(self):
        int_cases = [(0, 10, 3), (10, 0, -3), (5, 5, 1), (-7, 8, 2), (3, 4, 100)]
        float_cases = [(0.0, 1.0, 0.1), (1.0, -2.0, -0.3), (0.5, 0.5, 1.0), (-1.0, 10.0, 1.5)]
        b = Batch()
        for s, l, d in int_cases:
            b.add("Range", [np.int32(s), np.int32(l), np.int32(d)])
            b.add("Range", [np.int64(s), np.int64(l), np.int64(d)])
        for s, l, d in float_cases:
            b.add("Range", [np.float32(s), np.float32(l), np.float32(d)])
            b.add("Range", [np.float64(s), np.float64(l), np.float64(d)])
        got = iter(b.run())
        for s, l, d in int_cases:
            self.same(next(got)[0], np.arange(s, l, d, dtype=np.int32))
            self.same(next(got)[0], np.arange(s, l, d, dtype=np.int64))
        for s, l, d in float_cases:
            # TensorFlow: size = ceil(|(limit - start) / delta|) in the op's type,
            # values by repeated addition in that type.
            for t in (np.float32, np.float64):
                g = next(got)[0]
                n = int(np.ceil(np.abs((t(l) - t(s)) / t(d))))
                want, v = [], t(s)
                for _ in range(n):
                    want.append(v)
                    v = t(v + t(d))
                self.same(g, np.array(want, t))
        self.error("Range", [np.int32(0), np.int32(5), np.int32(0)], "Requires delta != 0: 0")
        self.error("Range", [np.int32(5), np.int32(0), np.int32(1)], "Requires start <= limit when delta > 0: 5/0")
        self.error("Range", [np.int32(0), np.int32(5), np.int32(-1)], "Requires start >= limit when delta < 0: 0/5")
        self.error("Range", [np.int32([0, 1]), np.int32(5), np.int32(1)], "start must be a scalar, not shape [2]")

    def test_one_hot(self):
        idx = np.int32([[0, 2], [-1, 5]])
        b = Batch()
        for axis in (-1, 0, 1, 2):
            b.add("OneHot", [idx, np.int32(4), np.float32(5), np.float32(-1)], axis=axis)
        b.add("OneHot", [np.int64([1, 0]), np.int32(2), np.array(b"on"), np.array(b"off")])
        got = b.run()
        eye = (idx[..., None] == np.arange(4)).astype(np.float32) * 6 - 1
        self.same(got[0][0], eye)
        self.same(got[1][0], np.moveaxis(eye, -1, 0))
        self.same(got[2][0], np.moveaxis(eye, -1, 1))
        self.same(got[3][0], eye)
        self.same(got[4][0], np.array([[b"off", b"on"], [b"on", b"off"]]))
        self.error("OneHot", [idx, np.int32(-1), np.float32(1), np.float32(0)], "depth must be non-negative, got: -1")


class ConcatSplit(ArrayTest):
    def test_concat_all_axes(self):
        a, b_, c = sample((2, 3, 4), np.float32, 1), sample((2, 3, 4), np.float32, 2), sample((2, 3, 4), np.float32, 3)
        b = Batch()
        for axis in range(-3, 3):
            b.add("ConcatV2", [a, b_, c, np.int32(axis)], N=3)
        b.add("Concat", [np.int32(1), a, b_], N=2)
        b.add("ConcatV2", [np.zeros((2, 0), np.int16), sample((2, 3), np.int16), np.int64(1)], N=2)
        b.add("ConcatV2", [sample((1, 2), bytes), sample((3, 2), bytes, 1), np.int32(0)], N=2)
        b.add("ConcatV2", [a, np.int32(0)], N=1)
        b.add("ConcatV2", [np.float32(1), np.float32(2), np.int32(0)], N=2)
        got = b.run()
        for i, axis in enumerate(range(-3, 3)):
            self.same(got[i][0], np.concatenate([a, b_, c], axis))
        self.same(got[6][0], np.concatenate([a, b_], 1))
        self.same(got[7][0], sample((2, 3), np.int16))
        self.same(got[8][0], np.concatenate([sample((1, 2), bytes), sample((3, 2), bytes, 1)]))
        self.same(got[9][0], a)
        self.same(got[10][0], np.float32([1, 2]))

    def test_concat_errors(self):
        a = np.zeros((2, 3), np.float32)
        self.error("ConcatV2", [a, np.zeros((2, 4), np.float32), np.int32(0)],
                   "ConcatOp : Dimension 1 in both shapes must be equal: shape[0] = [2,3] vs. shape[1] = [2,4]", N=2)
        self.error("ConcatV2", [a, np.zeros((2,), np.float32), np.int32(0)],
                   "ConcatOp : Ranks of all input tensors should match: shape[0] = [2,3] vs. shape[1] = [2]", N=2)
        self.error("ConcatV2", [a, a, np.int32(2)],
                   "ConcatOp : Expected concatenating dimensions in the range [-2, 2), but got 2", N=2)

    def test_pack_unpack(self):
        xs = [sample((2, 3), np.int32, s) for s in range(4)]
        b = Batch()
        for axis in (0, 1, 2, -1, -3):
            b.add("Pack", xs, N=4, axis=axis)
        b.add("Pack", [np.float32(1), np.float32(2)], N=2)
        for axis in (0, 1, -1):
            b.add("Unpack", [xs[0]], n_out=xs[0].shape[axis], num=xs[0].shape[axis], axis=axis)
        got = b.run()
        for i, axis in enumerate((0, 1, 2, -1, -3)):
            self.same(got[i][0], np.stack(xs, axis))
        self.same(got[5][0], np.float32([1, 2]))
        for i, axis in enumerate((0, 1, -1)):
            want = [np.take(xs[0], j, axis) for j in range(xs[0].shape[axis])]
            for g, w in zip(got[6 + i], want):
                self.same(g, w)
        self.error("Pack", [xs[0], np.zeros((3, 2), np.int32)],
                   "Shapes of all inputs must match: values[0].shape = [2,3] != values[1].shape = [3,2]", N=2)
        self.error("Pack", xs[:2], "axis = 3 not in [-3, 3)", N=2, axis=3)
        self.error("Unpack", [xs[0]], "Input shape axis 0 must equal 3, got shape [2,3]", n_out=3, num=3)

    def test_split(self):
        x = sample((4, 6), np.float64)
        b = Batch()
        b.add("Split", [np.int32(1), x], n_out=3, num_split=3)
        b.add("Split", [np.int32(-2), x], n_out=2, num_split=2)
        b.add("SplitV", [x, np.int32([1, -1, 2]), np.int32(1)], n_out=3, num_split=3)
        b.add("SplitV", [x, np.int64([0, 4]), np.int32(0)], n_out=2, num_split=2)
        b.add("SplitV", [sample((5,), bytes), np.int32([2, 3]), np.int32(0)], n_out=2, num_split=2)
        got = b.run()
        for g, w in zip(got[0], np.split(x, 3, 1)):
            self.same(g, w)
        for g, w in zip(got[1], np.split(x, 2, 0)):
            self.same(g, w)
        for g, w in zip(got[2], np.split(x, [1, 4], 1)):
            self.same(g, w)
        self.same(got[3][0], x[:0])
        self.same(got[3][1], x)
        self.same(got[4][0], sample((5,), bytes)[:2])
        self.same(got[4][1], sample((5,), bytes)[2:])
        self.error("Split", [np.int32(1), x], "Number of ways to split should evenly divide the split dimension, "
                   "but got split_dim 1 (size = 6) and num_split 4", n_out=4, num_split=4)
        self.error("Split", [np.int32(2), x], "-input rank(-2) <= split_dim < input rank (2), but got 2", n_out=2,
                   num_split=2)
        self.error("SplitV", [x, np.int32([-1, -1]), np.int32(1)], "There can only be one -1 in the input.", n_out=2,
                   num_split=2)
        self.error("SplitV", [x, np.int32([2, 2]), np.int32(1)], "Determined shape must either match input shape "
                   "along split_dim exactly if fully specified", n_out=2, num_split=2)

    def test_concat_offset(self):
        got = op("ConcatOffset", [np.int32(1), np.int32([2, 3, 5]), np.int32([2, 4, 5]), np.int32([2, 1, 5])],
                 n_out=3, N=3)
        self.same(got[0], np.int32([0, 0, 0]))
        self.same(got[1], np.int32([0, 3, 0]))
        self.same(got[2], np.int32([0, 7, 0]))


class SliceOps(ArrayTest):
    def test_slice(self):
        x = sample((4, 5, 6), np.int32)
        b = Batch()
        specs = [([0, 0, 0], [4, 5, 6]), ([1, 2, 3], [2, 2, 2]), ([1, 0, 2], [-1, -1, 3]), ([3, 4, 5], [1, 1, 1]),
                 ([2, 2, 2], [0, 3, 0])]
        for bg, sz in specs:
            b.add("Slice", [x, np.int32(bg), np.int64(sz)])
        b.add("Slice", [np.zeros((0, 3), np.float32), np.int32([0, 1]), np.int32([-1, 2])])
        got = b.run()
        for (bg, sz), g in zip(specs, got):
            idx = tuple(slice(s, None if n == -1 else s + n) for s, n in zip(bg, sz))
            self.same(g[0], x[idx])
        self.same(got[5][0], np.zeros((0, 2), np.float32))
        self.error("Slice", [x, np.int32([0, 0, 7]), np.int32([1, 1, 1])], "Expected begin[2] in [0, 6], but got 7")
        self.error("Slice", [x, np.int32([0, 0, 2]), np.int32([1, 1, 5])], "Expected size[2] in [0, 4], but got 5")
        self.error("Slice", [x, np.int32([0, 0]), np.int32([1, 1])],
                   "Expected begin and size arguments to be 1-D tensors of size 3, but got shapes [2] and [2] instead.")

    def strided(self, x, begin, end, strides, masks):
        """numpy basic indexing equivalent of a StridedSlice spec (None when numpy refuses)."""
        bm, em, el, na, sh = masks
        idx = []
        for i in range(len(begin)):
            if el & (1 << i):
                idx.append(Ellipsis)
            elif na & (1 << i):
                idx.append(np.newaxis)
            elif sh & (1 << i):
                idx.append(begin[i])
            else:
                idx.append(slice(None if bm & (1 << i) else begin[i], None if em & (1 << i) else end[i], strides[i]))
        try:
            return x[tuple(idx)]
        except IndexError:
            return None

    def test_strided_slice_matches_numpy(self):
        rng = random.Random(7)
        cases = []
        for _ in range(400):
            rank = rng.randint(1, 4)
            shape = [rng.randint(0, 5) for _ in range(rank)]
            n = rng.randint(1, rank + 1)
            begin = [rng.randint(-6, 6) for _ in range(n)]
            end = [rng.randint(-6, 6) for _ in range(n)]
            strides = [rng.choice([1, 1, 2, 3, -1, -2]) for _ in range(n)]
            bm, em = rng.getrandbits(n), rng.getrandbits(n)
            el = 1 << rng.randrange(n) if rng.random() < 0.3 else 0
            na = rng.getrandbits(n) & ~el if rng.random() < 0.3 else 0
            sh = rng.getrandbits(n) & ~el & ~na if rng.random() < 0.4 else 0
            for i in range(n):
                if sh & (1 << i):
                    strides[i] = 1
            x = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
            want = self.strided(x, begin, end, strides, (bm, em, el, na, sh))
            cases.append((x, begin, end, strides, (bm, em, el, na, sh), want))
        ok = [c for c in cases if c[5] is not None]
        b = Batch()
        for x, begin, end, strides, m, _ in ok:
            b.add("StridedSlice", [x, np.int32(begin), np.int32(end), np.int32(strides)], Index=np.int32,
                  begin_mask=m[0], end_mask=m[1], ellipsis_mask=m[2], new_axis_mask=m[3], shrink_axis_mask=m[4])
        got = b.run()
        self.assertGreater(len(ok), 250)
        for c, g in zip(ok, got):
            with self.subTest(shape=c[0].shape, begin=c[1], end=c[2], strides=c[3], masks=c[4]):
                self.same(g[0], c[5])
        # Shrinking an index past the end is TensorFlow's error too.
        bad = [c for c in cases if c[5] is None][:5]
        for x, begin, end, strides, m, _ in bad:
            try:
                op("StridedSlice", [x, np.int32(begin), np.int32(end), np.int32(strides)], begin_mask=m[0],
                   end_mask=m[1], ellipsis_mask=m[2], new_axis_mask=m[3], shrink_axis_mask=m[4])
                self.fail("expected an error for %r" % ((x.shape, begin, end, strides, m),))
            except GraphError as e:
                self.assertTrue("out of bounds" in str(e) or "Index out of range" in str(e), str(e))

    def test_strided_slice_cases(self):
        x = sample((3, 4, 5), np.float32)
        b = Batch()
        b.add("StridedSlice", [x, np.int64([-1]), np.int64([0]), np.int64([1])], shrink_axis_mask=1)
        b.add("StridedSlice", [x, np.int32([0, 1]), np.int32([0, 2]), np.int32([1, 1])], ellipsis_mask=1,
              shrink_axis_mask=2)
        b.add("StridedSlice", [x, np.int32([0]), np.int32([0]), np.int32([1])], begin_mask=1, end_mask=1)
        b.add("StridedSlice", [x, np.int32([0, 0]), np.int32([0, 0]), np.int32([1, -1])], ellipsis_mask=1,
              begin_mask=2, end_mask=2)
        b.add("StridedSlice", [sample((3, 2), bytes), np.int32([2]), np.int32([0]), np.int32([-1])])
        b.add("StridedSlice", [x, np.int32([0, 0]), np.int32([0, 0]), np.int32([1, 1])], ellipsis_mask=1,
              new_axis_mask=2)
        got = b.run()
        self.same(got[0][0], x[-1])
        self.same(got[1][0], x[..., 1])
        self.same(got[2][0], x)
        self.same(got[3][0], x[..., ::-1])
        self.same(got[4][0], sample((3, 2), bytes)[2:0:-1])
        self.same(got[5][0], x[..., np.newaxis])
        s = [x, np.int32([0]), np.int32([1]), np.int32([0])]
        self.error("StridedSlice", s, "strides[0] must be non-zero")
        self.error("StridedSlice", [x, np.int32([0, 0]), np.int32([1, 1]), np.int32([1, 1])],
                   "Multiple ellipses in slice spec not allowed", ellipsis_mask=3)
        self.error("StridedSlice", [x, np.int32([3]), np.int32([4]), np.int32([1])],
                   "slice index 3 of dimension 0 out of bounds.", shrink_axis_mask=1)
        self.error("StridedSlice", [x, np.int32([1]), np.int32([2]), np.int32([-1])],
                   "only stride 1 allowed on non-range indexing.", shrink_axis_mask=1)
        self.error("StridedSlice", [x, np.int32([0, 0]), np.int32([1]), np.int32([1, 1])],
                   "Expected begin, end, and strides to be 1D equal size tensors, but got shapes [2], [1], and [2] "
                   "instead.")
        self.error("StridedSlice", [x, np.int32([0] * 4), np.int32([1] * 4), np.int32([1] * 4)],
                   "Index out of range using input dim 3; input has only 3 dims")


class Layout(ArrayTest):
    def test_transpose(self):
        x = sample((2, 3, 4, 5), np.float32)
        b = Batch()
        perms = list(itertools.permutations(range(4)))
        for p in perms:
            b.add("Transpose", [x, np.int32(p)])
        b.add("Transpose", [sample((3, 2), bytes), np.int64([1, 0])])
        b.add("ConjugateTranspose", [sample((2, 3), np.complex64), np.int32([1, 0])])
        b.add("Transpose", [np.zeros((0, 3), np.int8), np.int32([1, 0])])
        got = b.run()
        for p, g in zip(perms, got):
            self.same(g[0], np.transpose(x, p))
        self.same(got[24][0], sample((3, 2), bytes).T)
        self.same(got[25][0], sample((2, 3), np.complex64).conj().T)
        self.same(got[26][0], np.zeros((3, 0), np.int8))
        self.error("Transpose", [x, np.int32([0, 1, 2])], "transpose expects a vector of size 4. But input(1) is a "
                   "vector of size 3")
        self.error("Transpose", [x, np.int32([0, 1, 2, 4])], "4 is out of range [0 .. 4)")
        self.error("Transpose", [x, np.int32([0, 1, 1, 2])], "3 is missing from {0,1,1,2}.")

    def test_reverse_tile_broadcast(self):
        x = sample((2, 3, 4), np.int16)
        b = Batch()
        axes = [[0], [1, 2], [-1], [], [0, 1, 2]]
        for a in axes:
            b.add("ReverseV2", [x, np.int32(a)])
        mults = [[1, 1, 1], [2, 1, 3], [1, 0, 2], [3, 2, 1]]
        for m in mults:
            b.add("Tile", [x, np.int32(m)])
        b.add("Tile", [sample((2,), bytes), np.int64([3])])
        targets = [(2, 3, 4), (5, 2, 3, 4), (2, 1, 1)]
        srcs = [x, x, np.int16([[[7]]])]
        for s, t in zip(srcs, targets):
            b.add("BroadcastTo", [s, np.int32(t)])
        b.add("BroadcastTo", [np.float32([1, 2, 3]), np.int64([2, 0, 3])])
        got = b.run()
        for a, g in zip(axes, got):
            self.same(g[0], np.flip(x, a) if a else x)
        for m, g in zip(mults, got[5:]):
            self.same(g[0], np.tile(x, m))
        self.same(got[9][0], np.tile(sample((2,), bytes), 3))
        for s, t, g in zip(srcs, targets, got[10:]):
            self.same(g[0], np.broadcast_to(s, t))
        self.same(got[13][0], np.zeros((2, 0, 3), np.float32))
        self.error("ReverseV2", [x, np.int32([1, -2])], "axis 1 specified more than once.")
        self.error("ReverseV2", [x, np.int32([3])], "'axis'[0] = 3 is out of valid range [0, 2")
        self.same(op("ReverseV2", [np.zeros((0, 2), np.int8), np.int32([5])])[0], np.zeros((0, 2), np.int8))
        self.same(op("Reverse", [x, np.bool_([True, False, True])])[0], x[::-1, :, ::-1])
        self.error("Tile", [x, np.int32([1, 2])], "Expected multiples argument to be a vector of length 3 but got "
                   "length 2")
        self.error("Tile", [x, np.int32([1, -2, 1])], "Expected multiples[1] >= 0, but got -2")
        self.error("BroadcastTo", [x, np.int32([2, 5, 4])], "Incompatible shapes: [2,3,4] vs. [2,5,4]")
        self.error("BroadcastTo", [x, np.int32([2, 1, 4])],
                   "Unable to broadcast tensor of shape [2,3,4] to tensor of shape [2,1,4]")

    def test_depth_space(self):
        x = sample((2, 4, 6, 8), np.float32)
        b = Batch()
        b.add("DepthToSpace", [x], block_size=2)
        b.add("SpaceToDepth", [x], block_size=2)
        got = b.run()
        n, h, w, c = x.shape
        d2s = x.reshape(n, h, w, 2, 2, c // 4).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * 2, w * 2, c // 4)
        s2d = x.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // 2, w // 2, c * 4)
        self.same(got[0][0], d2s)
        self.same(got[1][0], s2d)
        self.error("DepthToSpace", [sample((1, 2, 2, 6), np.float32)], "Input depth dimension 6 should be divisible "
                   "by: 4", block_size=2)

    @staticmethod
    def space_to_batch(x, block, pads):
        m = len(block)
        x = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)] * (x.ndim - 1 - m))
        b = x.shape[0]
        shp = [b]
        for k in range(m):
            shp += [x.shape[1 + k] // block[k], block[k]]
        shp += list(x.shape[1 + m:])
        y = x.reshape(shp)
        perm = [2 + 2 * k for k in range(m)] + [0] + [1 + 2 * k for k in range(m)] + list(range(1 + 2 * m, y.ndim))
        y = y.transpose(perm)
        return y.reshape([b * int(np.prod(block))] + [x.shape[1 + k] // block[k] for k in range(m)]
                         + list(x.shape[1 + m:]))

    def test_space_batch_round_trip(self):
        cases = [((1, 4, 4, 2), [2, 2], [[0, 0], [0, 0]]), ((2, 5, 7, 3), [2, 3], [[1, 0], [0, 2]]),
                 ((3, 6, 1), [3], [[2, 1]]), ((1, 9, 9, 1), [4, 4], [[3, 4], [4, 3]])]
        b = Batch()
        for shp, block, pads in cases:
            x = sample(shp, np.float32)
            b.add("SpaceToBatchND", [x, np.int32(block), np.int32(pads)])
            y = self.space_to_batch(x, block, pads)
            b.add("BatchToSpaceND", [y, np.int64(block), np.int64(pads)])
        got = b.run()
        for i, (shp, block, pads) in enumerate(cases):
            x = sample(shp, np.float32)
            self.same(got[2 * i][0], self.space_to_batch(x, block, pads))
            self.same(got[2 * i + 1][0], x)
        self.error("SpaceToBatchND", [sample((1, 5, 5, 1), np.float32), np.int32([2, 2]), np.int32([[0, 0], [0, 0]])],
                   "padded_shape[0]=5 is not divisible by block_shape[0]=2")
        self.error("BatchToSpaceND", [sample((3, 2, 2, 1), np.float32), np.int32([2, 2]), np.int32([[0, 0], [0, 0]])],
                   "Input batch dimension (3) is not divisible by product of block sizes (4)")


class Pad(ArrayTest):
    def test_pad(self):
        x = sample((2, 3, 4), np.int32)
        pads = [[[0, 0], [0, 0], [0, 0]], [[1, 1], [0, 1], [3, 0]], [[0, 0], [2, 2], [0, 0]]]
        b = Batch()
        for p in pads:
            b.add("Pad", [x, np.int32(p)])
            b.add("PadV2", [x, np.int64(p), np.int32(-7)])
            b.add("MirrorPad", [x, np.int32(p)], mode="REFLECT")
            b.add("MirrorPad", [x, np.int32(p)], mode="SYMMETRIC")
        b.add("PadV2", [sample((2,), bytes), np.int32([[1, 1]]), np.array(b"pad")])
        b.add("Pad", [np.zeros((0, 2), np.float32), np.int32([[1, 0], [0, 1]])])
        got = iter(b.run())
        for p in pads:
            self.same(next(got)[0], np.pad(x, p))
            self.same(next(got)[0], np.pad(x, p, constant_values=-7))
            self.same(next(got)[0], np.pad(x, p, mode="reflect"))
            self.same(next(got)[0], np.pad(x, p, mode="symmetric"))
        self.same(next(got)[0], np.array([b"pad"] + sample((2,), bytes).tolist() + [b"pad"]))
        self.same(next(got)[0], np.zeros((1, 3), np.float32))
        self.error("Pad", [x, np.int32([[0, 0], [0, 0]])], "The first dimension of paddings must be the rank of inputs")
        self.error("Pad", [x, np.int32([[0, 0], [0, -1], [0, 0]])], "Paddings must be non-negative: 0 -1")
        self.error("MirrorPad", [x, np.int32([[2, 0], [0, 0], [0, 0]])],
                   "paddings must be less than the dimension size: 2, 0 not less than 2", mode="REFLECT")
        self.error("MirrorPad", [x, np.int32([[3, 0], [0, 0], [0, 0]])],
                   "paddings must be no greater than the dimension size: 3, 0 greater than 2", mode="SYMMETRIC")


class Gather(ArrayTest):
    def test_gather(self):
        params = sample((5, 3, 4), np.float32)
        b = Batch()
        b.add("Gather", [params, np.int32([[4, 0], [2, 2]])])
        for axis in (0, 1, 2, -1):
            b.add("GatherV2", [params, np.int64([2, 0, 1]), np.int32(axis)])
        b.add("GatherV2", [params, np.int32(3), np.int32(0)])
        b.add("GatherV2", [sample((4,), bytes), np.int32([3, 3, 0]), np.int32(0)])
        b.add("GatherV2", [np.zeros((0, 4), np.float32), np.int32([]), np.int32(0)])   # empty from empty
        bp, bi = sample((2, 5, 3), np.int32), np.int32([[4, 0], [1, 1]])
        b.add("GatherV2", [bp, bi, np.int32(1)], batch_dims=1)
        got = b.run()
        self.same(got[0][0], params[np.int32([[4, 0], [2, 2]])])
        for i, axis in enumerate((0, 1, 2, -1)):
            self.same(got[1 + i][0], np.take(params, [2, 0, 1], axis))
        self.same(got[5][0], params[3])
        self.same(got[6][0], sample((4,), bytes)[[3, 3, 0]])
        self.same(got[7][0], np.zeros((0, 4), np.float32))
        self.same(got[8][0], np.stack([np.take(bp[i], bi[i], 0) for i in range(2)]))
        self.error("GatherV2", [params, np.int32([1, 5]), np.int32(0)], "indices[1] = 5 is not in [0, 5)")
        self.error("GatherV2", [params, np.int32([1]), np.int32(-4)], "Shape must be at least rank 4 but is rank 3")
        self.error("GatherV2", [params, np.int32([[1]]), np.int32(0)], "Expected batch_dims in the range [-2, 2], but "
                   "got 3", batch_dims=3)
        self.error("Gather", [params, np.int32([[0, 1], [-1, 2]])], "indices[1,0] = -1 is not in [0, 5)")
        self.error("GatherV2", [np.zeros((0, 4), np.float32), np.int32([0]), np.int32(0)],
                   "indices[0] = 0 is not in [0, 0)")

    def test_gather_nd(self):
        params = sample((3, 4, 5), np.int64)
        b = Batch()
        b.add("GatherNd", [params, np.int32([[0, 1], [2, 3]])])
        b.add("GatherNd", [params, np.int32([[[1, 2, 3]], [[0, 0, 4]]])])
        b.add("GatherNd", [params, np.int64([[2]])])
        b.add("GatherNd", [params, np.zeros((0, 2), np.int32)])
        got = b.run()
        self.same(got[0][0], params[[0, 2], [1, 3]])
        self.same(got[1][0], np.array([[params[1, 2, 3]], [params[0, 0, 4]]]))
        self.same(got[2][0], params[[2]])
        self.same(got[3][0], np.zeros((0, 5), np.int64))
        self.error("GatherNd", [params, np.int32([[0, 4]])], "indices[0] = [0, 4] does not index into param shape "
                   "[3,4,5]")

    def test_where(self):
        b = Batch()
        xs = [sample((3, 4), np.bool_), np.float32([[0, -0.0, 1], [np.nan, 0, 2]]), np.int64([0, 5, 0, -1]),
              np.zeros((2, 0, 3), np.bool_), np.bool_(True), np.bool_([False, False]),
              np.bool_([True, False, True, True]), np.uint8([0, 3, 0, 255]), np.int8([[0, -1], [2, 0]])]
        for x in xs:
            b.add("Where", [x])
        got = b.run()
        for x, g in zip(xs, got):
            self.same(g[0], np.argwhere(x).astype(np.int64))


class Search(ArrayTest):
    def test_top_k(self):
        x = np.float32([[3, 1, 3, 2, 3], [0, -1, 5, 5, -2]])
        b = Batch()
        for k in (0, 1, 3, 5):
            b.add("TopKV2", [x, np.int32(k)], n_out=2)
        b.add("TopKV2", [np.int64([[7, 7, 7]]), np.int32(2)], n_out=2)
        got = b.run()
        for k, g in zip((0, 1, 3, 5), got):
            order = np.argsort(-x, axis=1, kind="stable")[:, :k]
            self.same(g[1], order.astype(np.int32))
            self.same(g[0], np.take_along_axis(x, order, 1))
        self.same(got[4][1], np.int32([[0, 1]]))
        self.error("TopKV2", [x, np.int32(6)], "input must have at least k columns. Had 5, needed 6", n_out=2)
        self.error("TopKV2", [x, np.int32(-1)], "Need k >= 0, got -1", n_out=2)

    def test_unique(self):
        b = Batch()
        xs = [np.int32([4, 1, 4, 2, 1, 7]), np.float32([0.0, -0.0, 1.5, 1.5]), sample((6,), bytes)[[0, 2, 0, 1]],
              np.int64([])]
        for x in xs:
            b.add("Unique", [x], n_out=2)
        b.add("Unique", [xs[0]], n_out=2, out_idx=np.int64)
        got = b.run()
        for x, g in zip(xs, got):
            vals, first, inv = np.unique(x, return_index=True, return_inverse=True)
            order = np.argsort(first)
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            self.same(g[0], vals[order] if x.dtype.kind != "S" else np.array(vals[order]))
            self.same(g[1], rank[inv].astype(np.int32).reshape(-1))
        self.same(got[4][1], np.int64([0, 1, 0, 2, 1, 3]))

    def test_bounds(self):
        s = np.float32([[1, 2, 2, 4], [0, 0, 0, 0]])
        v = np.float32([[2, 0, 5], [0, -1, 1]])
        b = Batch()
        b.add("UpperBound", [s, v])
        b.add("LowerBound", [s, v], out_type=np.int64)
        got = b.run()
        self.same(got[0][0], np.int32([np.searchsorted(s[i], v[i], "right") for i in range(2)]))
        self.same(got[1][0], np.int64([np.searchsorted(s[i], v[i], "left") for i in range(2)]))


class Gradients(ArrayTest):
    def test_broadcast_gradient_args(self):
        # (s0, s1, r0, r1), worked by hand from TensorFlow's BCast rules: a
        # dimension is reduced for an input that has size 1 (or none) there.
        cases = [([2, 3, 4], [4], [], [0, 1]), ([1], [5, 1], [0, 1], [1]), ([2, 1, 3], [1, 4, 1], [1], [0, 2]),
                 ([], [2, 2], [0, 1], []), ([1, 1], [1], [0, 1], [0, 1])]
        b = Batch()
        for s0, s1, _, _ in cases:
            b.add("BroadcastGradientArgs", [np.int32(s0), np.int32(s1)], n_out=2)
        b.add("BroadcastGradientArgs", [np.int64([3, 1]), np.int64([3])], n_out=2)
        got = b.run()
        for (_, _, r0, r1), g in zip(cases, got):
            self.same(g[0], np.int32(r0))
            self.same(g[1], np.int32(r1))
        self.same(got[5][0], np.int64([1]))
        self.same(got[5][1], np.int64([0]))
        self.error("BroadcastGradientArgs", [np.int32([2, 3]), np.int32([4])], "Incompatible shapes: [2,3] vs. [4]",
                   n_out=2)

    def test_strided_slice_grad(self):
        shape = (4, 5, 3)
        dy = sample((2, 2), np.float32)
        got, = op("StridedSliceGrad", [np.int32(shape), np.int32([1, 4, 0]), np.int32([4, 0, 0]),
                                       np.int32([2, -2, 1]), dy], shrink_axis_mask=4)
        want = np.zeros(shape, np.float32)
        want[1:4:2, 4:0:-2, 0] = dy
        self.same(got, want)
        self.error("StridedSliceGrad", [np.int32(shape), np.int32([0]), np.int32([2]), np.int32([1]),
                                        sample((3, 5, 3), np.float32)], "shape of dy was [3,5,3] instead of [2,5,3]")

    def test_dynamic_stitch(self):
        b = Batch()
        idx = [np.int32([0, 3]), np.int32([[1, 3], [5, 2]])]
        data = [sample((2, 2), np.float32), sample((2, 2, 2), np.float32, 1)]
        b.add("DynamicStitch", idx + data, N=2)
        b.add("ParallelDynamicStitch", [np.int32(1), np.int32([0]), np.array(b"x"), np.array([b"y"])], N=2)
        got = b.run()
        want = np.zeros((6, 2), np.float32)
        for i, d in zip(idx, data):
            want[i.reshape(-1)] = d.reshape(-1, 2)
        self.same(got[0][0], want)
        self.same(got[1][0], np.array([b"y", b"x"]))


class MoreOps(ArrayTest):
    def test_scatter(self):
        b = Batch()
        idx = np.int32([[1], [3], [1]])
        upd = sample((3, 2), np.float32)
        b.add("ScatterNd", [idx, upd, np.int32([5, 2])])
        b.add("ScatterNd", [np.int64([[0, 1], [0, 1]]), np.int32([7, 9]), np.int64([2, 2])])
        t = sample((4, 3), np.int64)
        b.add("TensorScatterUpdate", [t, np.int32([[2], [0]]), sample((2, 3), np.int64, 1)])
        b.add("TensorScatterAdd", [t, np.int32([[1, 2], [1, 2]]), np.int64([5, 6])])
        b.add("TensorScatterUpdate", [sample((3,), bytes), np.int32([[1]]), np.array([b"new"])])
        got = b.run()
        want = np.zeros((5, 2), np.float32)
        np.add.at(want, idx[:, 0], upd)
        np.testing.assert_allclose(got[0][0], want, rtol=1e-6)
        self.same(got[1][0], np.int32([[0, 16], [0, 0]]))
        w = t.copy()
        w[[2, 0]] = sample((2, 3), np.int64, 1)
        self.same(got[2][0], w)
        w = t.copy()
        w[1, 2] += 11
        self.same(got[3][0], w)
        self.same(got[4][0], np.array([sample((3,), bytes)[0], b"new", sample((3,), bytes)[2]]))
        self.error("ScatterNd", [np.int32([[5]]), np.float32([1]), np.int32([5])],
                   "indices[0] = [5] does not index into shape [5]")

    def test_reverse_sequence_and_band(self):
        x = sample((3, 5, 2), np.int32)
        lens = np.int64([5, 0, 3])
        b = Batch()
        b.add("ReverseSequence", [x, lens], seq_dim=1, batch_dim=0)
        xt = np.ascontiguousarray(x.transpose(1, 0, 2))
        b.add("ReverseSequence", [xt, np.int32([2, 5, 1])], seq_dim=0, batch_dim=1)
        m = sample((2, 4, 5), np.float32)
        bands = [(1, 2), (-1, 0), (0, -1), (0, 0), (4, 5)]
        for lo, hi in bands:
            b.add("MatrixBandPart", [m, np.int64(lo), np.int64(hi)])
        got = b.run()
        want = x.copy()
        for i, n in enumerate(lens):
            want[i, :n] = x[i, :n][::-1]
        self.same(got[0][0], want)
        want = xt.copy()
        for i, n in enumerate([2, 5, 1]):
            want[:n, i] = xt[:n, i][::-1]
        self.same(got[1][0], want)
        r, c = np.arange(4)[:, None], np.arange(5)[None, :]
        for (lo, hi), g in zip(bands, got[2:]):
            keep = ((lo < 0) | (r - c <= lo)) & ((hi < 0) | (c - r <= hi))
            self.same(g[0], np.where(keep, m, np.float32(0)))
        self.error("ReverseSequence", [x, np.int32([6, 0, 0])], "seq_lens(0) > input.dims(1)", seq_dim=1)

    def test_sets_and_empty(self):
        b = Batch()
        x = np.int64([3, 1, 3, 3, 7, 1])
        b.add("UniqueWithCounts", [x], n_out=3)
        b.add("ListDiff", [np.int32([1, 2, 3, 4, 5, 6]), np.int32([1, 3, 5, 9])], n_out=2)
        b.add("ListDiff", [np.array([b"a", b"b", b"a"]), np.array([b"b"])], n_out=2, out_idx=np.int64)
        b.add("Empty", [np.int32([2, 3])], dtype=np.float64)
        got = b.run()
        self.same(got[0][0], np.int64([3, 1, 7]))
        self.same(got[0][1], np.int32([0, 1, 0, 0, 2, 1]))
        self.same(got[0][2], np.int32([3, 2, 1]))
        self.same(got[1][0], np.int32([2, 4, 6]))
        self.same(got[1][1], np.int32([1, 3, 5]))
        self.same(got[2][0], np.array([b"a", b"a"]))
        self.same(got[2][1], np.int64([0, 2]))
        self.assertEqual(got[3][0].shape, (2, 3))
        self.assertEqual(got[3][0].dtype, np.float64)


class Misc(ArrayTest):
    def test_check_numerics(self):
        x = np.float32([1, 2])
        self.same(op("CheckNumerics", [x], message="fine")[0], x)
        self.error("CheckNumerics", [np.float32([1, np.nan])], "bad : Tensor had NaN values", message="bad")
        self.error("CheckNumerics", [np.float64([np.inf, np.nan])], "m : Tensor had Inf and NaN values", message="m")
        self.error("CheckNumerics", [np.float16([1, -np.inf])], "h : Tensor had Inf values", message="h")
        self.error("CheckNumericsV2", [np.float32([np.nan, np.inf, -np.inf])], "v : Tensor had -Inf, +Inf, and NaN "
                   "values", message="v")
        self.error("CheckNumericsV2", [np.float32([np.inf, 1])], "v : Tensor had +Inf values", message="v")
        self.same(op("CheckNumericsV2", [np.float32([])], message="e")[0], np.float32([]))

    def test_bitcast(self):
        x = np.float32([1.5, -2])
        b = Batch()
        b.add("Bitcast", [x], type=np.int32)
        b.add("Bitcast", [x], type=np.uint8)
        b.add("Bitcast", [np.uint16([[1, 2], [3, 4]])], type=np.uint32)
        got = b.run()
        self.same(got[0][0], x.view(np.int32))
        self.same(got[1][0], x.view(np.uint8).reshape(2, 4))
        self.same(got[2][0], np.uint16([[1, 2], [3, 4]]).view(np.uint32).reshape(2))


class Hostile(ArrayTest):
    """Values a client or model file chooses must give errors, never overflow or huge allocations."""

    def test_extreme_values_are_errors(self):
        big, small = np.iinfo(np.int64).max, np.iinfo(np.int64).min
        x = sample((3, 4), np.float32)
        cases = [
            ("Slice", [x, np.int64([small, 0]), np.int64([-1, 1])], "Expected begin[0] in [0, 3]"),
            ("Slice", [x, np.int64([1, 0]), np.int64([big, 1])], "Expected size[0] in [0, 2], but got"),
            ("StridedSlice", [x, np.int64([big]), np.int64([0]), np.int64([1])], "out of bounds"),
            ("StridedSlice", [x, np.int64([small]), np.int64([0]), np.int64([1])], "out of bounds"),
            ("Tile", [x, np.int64([big, 2])], "Tile"),
            ("Reshape", [x, np.int64([big, big, -1])], "Reshape"),
            ("Range", [np.int64(small), np.int64(big), np.int64(1)], "Requires ((limit - start) / delta)"),
            ("Fill", [np.int64([big, 2]), np.float32(0)], ""),
            ("OneHot", [np.int32([1] * 8), np.int32(2 ** 31 - 1), np.float32(1), np.float32(0)], "too large"),
            ("DynamicStitch", [np.int64([big]), np.float32([1])], "too large"),
            ("SpaceToBatchND", [sample((1, 2, 1), np.float32), np.int64([2]), np.int64([[big, 0]])], "too large"),
            ("Pad", [x, np.int64([[big, 0], [0, 0]])], "too large"),
            ("BroadcastTo", [x, np.int64([big, 3, 4])], ""),
        ]
        for name, inputs, text in cases:
            with self.subTest(op=name):
                attrs = {"N": 1} if name == "DynamicStitch" else {}
                if name == "StridedSlice":
                    attrs["shrink_axis_mask"] = 1
                self.error(name, inputs, text, **attrs)


class EveryDtype(ArrayTest):
    """Data-moving ops treat elements as opaque: every dtype gives numpy's result."""

    def test_all_dtypes(self):
        for dt in ALL_DTYPES:
            with self.subTest(dtype=dt):
                x = sample((3, 4, 2), dt)
                y = sample((3, 1, 2), dt, 1)
                b = Batch()
                b.add("ConcatV2", [x, y, np.int32(1)], N=2)
                b.add("Transpose", [x, np.int32([2, 0, 1])])
                b.add("GatherV2", [x, np.int32([2, 0, 2]), np.int32(1)])
                b.add("StridedSlice", [x, np.int32([2, 0]), np.int32([0, 4]), np.int32([-1, 2])])
                b.add("Tile", [y, np.int32([1, 2, 2])])
                b.add("Pad", [y, np.int32([[1, 0], [0, 2], [0, 0]])])
                b.add("ReverseV2", [x, np.int32([0, 2])])
                b.add("Pack", [x, x], N=2, axis=1)
                b.add("Split", [np.int32(1), x], n_out=2, num_split=2)
                b.add("Reshape", [x, np.int32([-1, 3])])
                b.add("Slice", [x, np.int32([1, 1, 0]), np.int32([2, -1, 1])])
                got = b.run()
                zero = np.zeros((), x.dtype) if dt is not bytes else b""
                self.same(got[0][0], np.concatenate([x, y], 1))
                self.same(got[1][0], x.transpose(2, 0, 1))
                self.same(got[2][0], x[:, [2, 0, 2]])
                self.same(got[3][0], x[2:0:-1, 0:4:2])
                self.same(got[4][0], np.tile(y, (1, 2, 2)))
                self.same(got[5][0], np.pad(y, [(1, 0), (0, 2), (0, 0)], constant_values=zero))
                self.same(got[6][0], x[::-1, :, ::-1])
                self.same(got[7][0], np.stack([x, x], 1))
                self.same(got[8][0], x[:, :2])
                self.same(got[8][1], x[:, 2:])
                self.same(got[9][0], x.reshape(-1, 3))
                self.same(got[10][0], x[1:3, 1:, 0:1])


class Big(ArrayTest):
    def test_large_tensors(self):
        x = sample((64, 96, 3), np.float32)
        b = Batch()
        b.add("Transpose", [x, np.int32([1, 0, 2])])
        b.add("StridedSlice", [x, np.int32([0, 1, 2]), np.int32([64, 96, 3]), np.int32([2, 3, -1])], end_mask=4)
        b.add("ConcatV2", [x, x, np.int32(2)], N=2)
        b.add("Tile", [x, np.int32([2, 1, 3])])
        got = b.run()
        self.same(got[0][0], x.transpose(1, 0, 2))
        self.same(got[1][0], x[0:64:2, 1:96:3, 2::-1])
        self.same(got[2][0], np.concatenate([x, x], 2))
        self.same(got[3][0], np.tile(x, (2, 1, 3)))


if __name__ == "__main__":
    unittest.main()
