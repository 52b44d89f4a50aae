"""Reduction kernels (Sum, Mean, Prod, Max, Min, All, Any) and ArgMax/ArgMin
through the graph runtime, against references that encode TensorFlow's
rules (mathref.reduce_ref): axes as int32/int64 scalars or vectors,
negative axes, keep_dims, empty axes, zero-size dims and their identities,
integer wrap-around and truncating integer Mean, NaN propagation, errors."""
import itertools
import unittest

import numpy as np
from graphlib import GraphError, const, dtype_attr, node, placeholder, run
from mathref import FLOATS, INTS, reduce_ref, wrap

RNG = np.random.default_rng(99)
NUMERIC_OPS = ["Sum", "Mean", "Prod", "Max", "Min"]


def values(dtype, shape):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return RNG.normal(0, 3, size=shape).astype(dt)
    if dt == np.bool_:
        return RNG.integers(0, 2, size=shape).astype(np.bool_)
    info = np.iinfo(dt)
    return RNG.integers(max(info.min, -100), min(info.max, 100), size=shape, endpoint=True).astype(dt)


def reduce_graph(ops, dtype, axes, keep_dims, idx_dtype=np.int32):
    nodes = [placeholder("x", dtype), const("axes", np.asarray(axes, dtype=idx_dtype))]
    for op in ops:
        nodes.append(node(op, op, ["x", "axes"], T=dtype, Tidx=idx_dtype, keep_dims=keep_dims))
    return nodes


def run_reduce(ops, x, axes, keep_dims=False, idx_dtype=np.int32):
    got = run(reduce_graph(ops, x.dtype.type, axes, keep_dims, idx_dtype), feeds={"x": x}, fetches=list(ops))
    return dict(zip(ops, got))


def normalise(axes, rank):
    return tuple(sorted(a % rank for a in np.asarray(axes).reshape(-1)))


def check(testcase, op, got, x, axes, keep_dims):
    want = reduce_ref(op, x, normalise(axes, x.ndim), keep_dims)
    testcase.assertEqual(got.shape, np.shape(want), "%s %s axes=%s" % (op, x.shape, axes))
    testcase.assertEqual(got.dtype, x.dtype)
    if x.dtype.kind == "f" and op in ("Sum", "Mean", "Prod"):
        # Summation order differs from numpy's pairwise sums: the error bound
        # scales with the sum of magnitudes (cancellation), not the result.
        tol = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3}[x.dtype.type]
        scale = np.abs(want).astype(np.float64)
        if op != "Prod":
            scale = reduce_ref(op, np.abs(x).astype(np.float64), normalise(axes, x.ndim), keep_dims)
        with np.errstate(invalid="ignore"):
            err = np.abs(got.astype(np.float64) - want.astype(np.float64))
        ok = (err <= tol * (scale + 1e-30)) | (np.isnan(got) & np.isnan(want)) | (got == want)
        testcase.assertTrue(np.all(ok), "%s %s axes=%s: %s vs %s" % (op, x.dtype, axes, got, want))
    else:
        np.testing.assert_array_equal(got, want, err_msg="%s %s %s" % (op, x.dtype, axes))


class Reductions(unittest.TestCase):
    def test_every_axis_set_of_a_4d_tensor(self):
        x = values(np.float32, (2, 3, 4, 5))
        for r in range(0, 5):
            for axes in itertools.combinations(range(4), r):
                for keep in (False, True):
                    got = run_reduce(NUMERIC_OPS, x, list(axes), keep)
                    for op in NUMERIC_OPS:
                        check(self, op, got[op], x, list(axes), keep)

    def test_dtypes(self):
        for dt in FLOATS + INTS:
            x = values(dt, (3, 4, 5))
            for axes in [[1], [0, 2], [-1], 0, [0, 1, 2]]:
                got = run_reduce(NUMERIC_OPS, x, axes, False, np.int64 if axes == 0 else np.int32)
                for op in NUMERIC_OPS:
                    check(self, op, got[op], x, axes, False)

    def test_integer_wrap_and_truncating_mean(self):
        x = np.array([[100, 100, 100], [-7, 2, 0], [-1, -1, 1]], np.int8)
        got = run_reduce(["Sum", "Mean", "Prod"], x, [1])
        np.testing.assert_array_equal(got["Sum"], np.array([300 - 256, -5, -1], np.int8))
        # Mean sums in int64 (no wrap) and truncates toward zero: -5/3 -> -1, -1/3 -> 0.
        np.testing.assert_array_equal(got["Mean"], np.array([100, -1, 0], np.int8))
        np.testing.assert_array_equal(got["Prod"], np.array([(100 ** 3 + 128) % 256 - 128, 0, 1], np.int8))
        u = np.array([250, 10, 3], np.uint8)
        got = run_reduce(["Sum", "Mean"], u, [0])
        self.assertEqual(got["Sum"], np.uint8(7))
        self.assertEqual(got["Mean"], np.uint8(87))

    def test_bool_reductions(self):
        x = values(np.bool_, (3, 4, 2))
        for axes in [[0], [1, 2], [], [0, 1, 2]]:
            got = run_reduce(["All", "Any"], x, axes)
            for op in ("All", "Any"):
                check(self, op, got[op], x, axes, False)

    def test_empty_axes_is_identity(self):
        x = np.array([[-0.0, np.nan], [1, 2]], np.float32)
        got = run_reduce(NUMERIC_OPS, x, np.zeros(0, np.int32))
        for op in NUMERIC_OPS:
            np.testing.assert_array_equal(got[op], x)
            self.assertTrue(np.signbit(got[op][0, 0]))  # -0.0 passes through unchanged

    def test_scalar_input(self):
        got = run_reduce(["Sum", "Max"], np.float32(3.5), np.zeros(0, np.int32))
        self.assertEqual(got["Sum"], 3.5)
        self.assertEqual(got["Sum"].shape, ())

    def test_zero_size_identities(self):
        for dt in [np.float32, np.float64, np.float16, np.int32, np.uint8, np.int64]:
            x = np.zeros((0, 3), dt)
            got = run_reduce(NUMERIC_OPS, x, [0])
            for op in NUMERIC_OPS:
                check(self, op, got[op], x, [0], False)
            got = run_reduce(NUMERIC_OPS, x, [1], True)
            for op in NUMERIC_OPS:
                self.assertEqual(got[op].shape, (0, 1))
        x = np.zeros((2, 0), np.float32)
        got = run_reduce(NUMERIC_OPS, x, [1])
        np.testing.assert_array_equal(got["Sum"], [0, 0])
        np.testing.assert_array_equal(got["Prod"], [1, 1])
        np.testing.assert_array_equal(got["Max"], [-np.inf, -np.inf])
        np.testing.assert_array_equal(got["Min"], [np.inf, np.inf])
        self.assertTrue(np.all(np.isnan(got["Mean"])))
        got = run_reduce(["Mean"], np.zeros((2, 0), np.int32), [1])
        np.testing.assert_array_equal(got["Mean"], [0, 0])
        got = run_reduce(["All", "Any"], np.zeros((0,), np.bool_), [0])
        self.assertEqual(bool(got["All"]), True)
        self.assertEqual(bool(got["Any"]), False)

    def test_nan_propagates_through_max_min(self):
        x = np.array([[1, np.nan, 3], [np.nan, -1, 2], [5, 6, 7]] + [[1, 2, 3]] * 30, np.float32)
        got = run_reduce(["Max", "Min"], x, [1])
        np.testing.assert_array_equal(got["Max"], np.max(x, axis=1))
        np.testing.assert_array_equal(got["Min"], np.min(x, axis=1))
        long = np.arange(100, dtype=np.float32)
        long[57] = np.nan
        got = run_reduce(["Max", "Min"], long, [0])
        self.assertTrue(np.isnan(got["Max"]) and np.isnan(got["Min"]))

    def test_large_parallel_paths(self):
        for shape, axes in [((1 << 17,), [0]), ((300, 400), [1]), ((300, 400), [0]), ((64, 40, 30), [0, 2]),
                            ((20, 30, 200), [1])]:
            x = values(np.float32, shape)
            got = run_reduce(NUMERIC_OPS[:2] + ["Max", "Min"], x, axes)
            for op in NUMERIC_OPS[:2] + ["Max", "Min"]:
                check(self, op, got[op], x, axes, False)
            xi = values(np.int32, shape)
            got = run_reduce(["Sum", "Max"], xi, axes)
            for op in ("Sum", "Max"):
                check(self, op, got[op], xi, axes, False)

    def test_bfloat16_sum(self):
        bf16 = dtype_attr(14)
        x = np.array([[1, 2, 3.5], [256, 1, 1]], np.float32)
        nodes = [placeholder("x", np.float32), node("xb", "Cast", ["x"], SrcT=np.float32, DstT=bf16),
                 const("axes", np.int32(1)),
                 node("s", "Sum", ["xb", "axes"], T=bf16, Tidx=np.int32),
                 node("m", "Max", ["xb", "axes"], T=bf16, Tidx=np.int32),
                 node("sf", "Cast", ["s"], SrcT=bf16, DstT=np.float32),
                 node("mf", "Cast", ["m"], SrcT=bf16, DstT=np.float32)]
        s, m = run(nodes, feeds={"x": x}, fetches=["sf", "mf"])
        np.testing.assert_array_equal(s, [6.5, 258])  # 258 is a bfloat16 value; summed in float
        np.testing.assert_array_equal(m, [3.5, 256])

    def test_errors(self):
        x = np.zeros((2, 3), np.float32)
        for axes, text in [([2], "Invalid reduction dimension (2 for input with 2 dimension(s)"),
                           ([-3], "Invalid reduction dimension (-3 for input with 2 dimension(s)"),
                           ([1, -1], "Invalid reduction arguments: Axes contains duplicate dimension: 1")]:
            with self.assertRaises(GraphError) as cm:
                run_reduce(["Sum"], x, axes)
            self.assertIn("INVALID_ARGUMENT", str(cm.exception))
            self.assertIn(text, str(cm.exception))
        with self.assertRaises(GraphError) as cm:
            run_reduce(["Sum"], np.float32(1), [0])
        self.assertIn("Invalid reduction dimension (0 for input with 0 dimension(s)", str(cm.exception))
        with self.assertRaises(GraphError) as cm:
            run(reduce_graph(["Sum"], np.bool_, [0], False), feeds={"x": np.zeros(2, np.bool_)}, fetches=["Sum"])
        self.assertIn("No OpKernel was registered to support Op 'Sum'", str(cm.exception))


class ArgMinMax(unittest.TestCase):
    def run_arg(self, x, dim, output_type=None, dim_dtype=np.int32):
        attrs = {} if output_type is None else {"output_type": output_type}
        nodes = [placeholder("x", x.dtype.type), const("d", np.asarray(dim, dim_dtype)),
                 node("amax", "ArgMax", ["x", "d"], T=x.dtype.type, Tidx=dim_dtype, **attrs),
                 node("amin", "ArgMin", ["x", "d"], T=x.dtype.type, Tidx=dim_dtype, **attrs)]
        return run(nodes, feeds={"x": x}, fetches=["amax", "amin"])

    def test_axes_and_dtypes(self):
        for dt in FLOATS + INTS + [np.bool_]:
            x = values(dt, (3, 4, 5))
            for dim in [0, 1, 2, -1, -3]:
                amax, amin = self.run_arg(x, dim)
                np.testing.assert_array_equal(amax, np.argmax(x, axis=dim), err_msg="%s %d" % (np.dtype(dt), dim))
                np.testing.assert_array_equal(amin, np.argmin(x, axis=dim))
                self.assertEqual(amax.dtype, np.int64)

    def test_ties_take_the_lowest_index_and_output_type(self):
        x = np.array([[3, 7, 7, 1, 1], [2, 2, 2, 2, 2]], np.int32)
        amax, amin = self.run_arg(x, 1, output_type=np.int32, dim_dtype=np.int64)
        np.testing.assert_array_equal(amax, [1, 0])
        np.testing.assert_array_equal(amin, [3, 0])
        self.assertEqual(amax.dtype, np.int32)

    def test_nan_is_never_chosen(self):
        # Eigen's ArgMax starts from (0, lowest) and only takes strictly larger values.
        x = np.array([[np.nan, 1, 5, 2], [3, np.nan, 1, 9], [np.nan, np.nan, np.nan, np.nan]], np.float32)
        amax, amin = self.run_arg(x, 1)
        np.testing.assert_array_equal(amax, [2, 3, 0])
        np.testing.assert_array_equal(amin, [1, 2, 0])

    def test_errors(self):
        for x, dim, text in [(np.zeros((2, 3), np.float32), 2, "Expected dimension in the range [-2, 2), but got 2"),
                             (np.zeros((2, 0), np.float32), 1, "Reduction axis 1 is empty in shape [2,0]"),
                             (np.zeros((2, 3), np.float32), [0], "dim must be a scalar, but received tensor of shape: [1]")]:
            with self.assertRaises(GraphError) as cm:
                self.run_arg(x, dim)
            self.assertIn("INVALID_ARGUMENT", str(cm.exception))
            self.assertIn(text, str(cm.exception))
        amax, _ = self.run_arg(np.zeros((0, 3), np.float32), 1)
        self.assertEqual(amax.shape, (0,))


def scan_ref(prod, x, axis, exclusive, reverse):
    """Sequential running sum/product in the element type (integers wrap)."""
    x = np.moveaxis(x, axis, -1)
    if reverse:
        x = x[..., ::-1]
    out = np.empty(x.shape, dtype=x.dtype)
    acc = np.full(x.shape[:-1], 1 if prod else 0, dtype=object if x.dtype.kind in "iu" else x.dtype)
    for i in range(x.shape[-1]):
        with np.errstate(over="ignore"):
            nxt = acc * x[..., i] if prod else acc + x[..., i]
            if x.dtype.kind in "iu":
                nxt = wrap(nxt, x.dtype).astype(object)
            else:
                nxt = np.asarray(nxt).astype(x.dtype)
        out[..., i] = acc if exclusive else nxt
        acc = nxt
    if reverse:
        out = out[..., ::-1]
    return np.moveaxis(out, -1, axis)


class Scans(unittest.TestCase):
    def run_scan(self, x, axis, exclusive=False, reverse=False, idx=np.int32):
        nodes = [placeholder("x", x.dtype.type), const("a", np.asarray(axis, idx))]
        for op in ("Cumsum", "Cumprod"):
            nodes.append(node(op, op, ["x", "a"], T=x.dtype.type, Tidx=idx, exclusive=exclusive, reverse=reverse))
        return run(nodes, feeds={"x": x}, fetches=["Cumsum", "Cumprod"])

    def test_axes_flags_dtypes(self):
        for dt in FLOATS + INTS:
            x = values(dt, (3, 4, 2))
            if np.dtype(dt).kind == "f":
                x = (x / 3).astype(dt)
            for axis in [0, 1, -1]:
                for exclusive in (False, True):
                    for reverse in (False, True):
                        cs, cp = self.run_scan(x, axis, exclusive, reverse, np.int64 if axis else np.int32)
                        for got, prod in ((cs, False), (cp, True)):
                            want = scan_ref(prod, x, axis, exclusive, reverse)
                            if np.dtype(dt).kind == "f" and dt != np.float16:
                                np.testing.assert_allclose(got, want, rtol=1e-6 if dt == np.float32 else 1e-14)
                            else:
                                np.testing.assert_array_equal(got, want, err_msg="%s %d %s %s %s" % (
                                    np.dtype(dt), axis, exclusive, reverse, prod))

    def test_shapes_and_errors(self):
        cs, cp = self.run_scan(np.zeros((0, 3), np.float32), 0)
        self.assertEqual(cs.shape, (0, 3))
        cs, _ = self.run_scan(np.array([1, 2, 3], np.int32), 0, exclusive=True, reverse=True)
        np.testing.assert_array_equal(cs, [5, 3, 0])
        for axis, text in [(2, "ScanOp: Expected scan axis in the range [-2, 2), but got 2"),
                           ([0], "ScanOp: axis must be a scalar, not [1]")]:
            with self.assertRaises(GraphError) as cm:
                self.run_scan(np.zeros((2, 2), np.float32), axis)
            self.assertIn(text, str(cm.exception))


if __name__ == "__main__":
    unittest.main()
