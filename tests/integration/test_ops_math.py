"""Binary element-wise math kernels through the graph runtime, against numpy
references that encode TensorFlow's semantics (mathref.py): broadcasting and
its errors, every op x dtype TensorFlow registers on CPU, integer division
rules and errors, comparisons (numbers, bool, strings), logical ops, Select,
SelectV2, BiasAdd, AddN and ClipByValue."""
import unittest

import numpy as np
from graphlib import GraphError, const, dtype_attr, node, placeholder, run
from mathref import (COMPARE_REFS, FLOAT_REFS, FLOATS, INT_REFS, INTS, SIGNED, UNSIGNED, bf16_round,
                     int_binary, wrap)

RNG = np.random.default_rng(1234)


def random_values(dtype, shape, nonzero=False, small=False):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        v = RNG.normal(0, 10, size=shape)
        if small:
            v = RNG.uniform(-3, 3, size=shape)
        if nonzero:
            v = np.where(np.abs(v) < 0.5, 1.5, v)
        return v.astype(dt)
    if dt == np.bool_:
        return RNG.integers(0, 2, size=shape).astype(np.bool_)
    info = np.iinfo(dt)
    lo, hi = (max(info.min, -4), min(info.max, 5)) if small else (info.min, info.max)
    v = RNG.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64 if dt != np.uint64 else np.uint64)
    v = v.astype(dt)
    if nonzero:
        v = np.where(v == 0, dt.type(1), v)
    return v


def binary_graph(ops, dtype, extra_attrs=None):
    nodes = [placeholder("a", dtype), placeholder("b", dtype)]
    for op in ops:
        nodes.append(node(op, op, ["a", "b"], T=dtype, **(extra_attrs or {})))
    return nodes


def run_binary(ops, a, b, dtype):
    got = run(binary_graph(ops, dtype), feeds={"a": a, "b": b}, fetches=list(ops))
    return dict(zip(ops, got))


def expect_error(testcase, nodes, feeds, fetches, code, text):
    with testcase.assertRaises(GraphError) as cm:
        run(nodes, feeds=feeds, fetches=fetches)
    msg = str(cm.exception)
    testcase.assertIn(code, msg)
    testcase.assertIn(text, msg)


class Broadcasting(unittest.TestCase):
    CASES = [
        ((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 3), ()), ((), (2, 3)), ((), ()), ((1,), ()), ((), (1,)),
        ((2, 1, 3), (4, 1)), ((4, 1), (1, 5)), ((1, 1, 1), (2,)), ((0, 3), (1, 3)), ((0, 3), (3,)),
        ((2, 0), (2, 1)), ((0,), ()), ((5, 1, 4, 1, 3), (6, 1, 1, 1)), ((1, 2, 3, 4, 5, 6), (5, 1)),
        ((3, 1, 2, 1, 2, 1, 2, 1), (1, 2, 1, 2, 1, 2, 1, 2)),
    ]

    def test_shapes_and_values(self):
        # One graph per case, every case adding and subtracting (order matters for Sub).
        for sa, sb in self.CASES:
            a = RNG.normal(size=sa).astype(np.float32)
            b = RNG.normal(size=sb).astype(np.float32)
            got = run_binary(["AddV2", "Sub"], a, b, np.float32)
            np.testing.assert_array_equal(got["AddV2"], a + b, err_msg=str((sa, sb)))
            np.testing.assert_array_equal(got["Sub"], a - b, err_msg=str((sa, sb)))
            self.assertEqual(got["AddV2"].shape, np.broadcast_shapes(sa, sb))

    def test_int_broadcast(self):
        a = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
        b = np.array([[10], [20], [30]], dtype=np.int32)
        got = run_binary(["Mul"], a, b, np.int32)
        np.testing.assert_array_equal(got["Mul"], a * b)

    def test_incompatible_shapes(self):
        for sa, sb, text in [((2, 3), (4,), "Incompatible shapes: [2,3] vs. [4]"),
                             ((0,), (2,), "Incompatible shapes: [0] vs. [2]"),
                             ((2, 3, 4), (3, 3, 4), "Incompatible shapes: [2,3,4] vs. [3,3,4]")]:
            expect_error(self, binary_graph(["Add"], np.float32),
                         {"a": np.zeros(sa, np.float32), "b": np.zeros(sb, np.float32)}, ["Add"],
                         "INVALID_ARGUMENT", text)

    def test_large_broadcast_uses_every_path(self):
        # Big enough to split across threads, in the three row shapes: both
        # running, one broadcast scalar, and a broadcast row.
        a = RNG.normal(size=(300, 257)).astype(np.float32)
        for b in [RNG.normal(size=(300, 257)), RNG.normal(size=()), RNG.normal(size=(257,)),
                  RNG.normal(size=(300, 1))]:
            b = b.astype(np.float32)
            got = run_binary(["Mul", "Maximum"], a, b, np.float32)
            np.testing.assert_array_equal(got["Mul"], a * b)
            np.testing.assert_array_equal(got["Maximum"], np.maximum(a, b))
        big = RNG.normal(size=(1 << 17,)).astype(np.float32)
        got = run_binary(["Sub"], big, np.float32(0.5), np.float32)
        np.testing.assert_array_equal(got["Sub"], big - np.float32(0.5))


INT_OPS = ["Add", "AddV2", "Sub", "Mul", "SquaredDifference", "Maximum", "Minimum", "Div", "TruncateDiv",
           "FloorDiv", "FloorMod", "TruncateMod", "Mod"]
FLOAT_OPS = ["Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "SquaredDifference", "Maximum", "Minimum",
             "FloorDiv", "FloorMod", "TruncateMod", "Mod", "Pow", "DivNoNan", "MulNoNan", "Atan2"]


class BinaryDtypes(unittest.TestCase):
    def test_integer_ops(self):
        for dt in INTS:
            for sb in [(4,), ()]:
                a = random_values(dt, (3, 4))
                b = random_values(dt, sb, nonzero=True)
                # Make sure INT_MIN / -1 and exact/inexact divisions with mixed signs occur.
                if np.dtype(dt).kind == "i" and sb == (4,):
                    a[0, 0] = np.iinfo(dt).min
                    b[0] = -1
                    a[1, 1] = -7
                    b[1] = 2
                got = run_binary(INT_OPS, a, b, dt)
                for op in INT_OPS:
                    want = int_binary(INT_REFS[op], a, b, dt)
                    np.testing.assert_array_equal(got[op], want, err_msg="%s %s %s" % (op, np.dtype(dt), sb))
                    self.assertEqual(got[op].dtype, np.dtype(dt))

    def test_integer_pow(self):
        for dt in SIGNED + UNSIGNED:
            a = random_values(dt, (3, 4), small=True)
            b = np.abs(random_values(dt, (4,), small=True)).astype(dt)
            b[0] = 0
            got = run_binary(["Pow"], a, b, dt)
            np.testing.assert_array_equal(got["Pow"], int_binary(lambda x, y: x ** y, a, b, dt))
        # Overflow wraps.
        got = run_binary(["Pow"], np.array([3, -2], np.int32), np.array([40, 31], np.int32), np.int32)
        np.testing.assert_array_equal(got["Pow"], wrap([3 ** 40, (-2) ** 31], np.int32))

    def test_float_ops(self):
        for dt in FLOATS:
            for sb in [(4,), ()]:
                a = random_values(dt, (3, 4))
                b = random_values(dt, sb, nonzero=True)
                ops = list(FLOAT_OPS)
                got = run_binary(ops, a, b, dt)
                for op in ops:
                    if dt == np.float16:
                        with np.errstate(all="ignore"):
                            want = FLOAT_REFS[op](a.astype(np.float32), b.astype(np.float32)).astype(np.float16)
                    else:
                        with np.errstate(all="ignore"):
                            want = FLOAT_REFS[op](a, b).astype(dt)
                    rtol = {np.float32: 2e-7, np.float64: 1e-15, np.float16: 1e-3}[dt]
                    if op in ("Pow", "Atan2"):
                        rtol *= 10
                        np.testing.assert_allclose(got[op], want, rtol=rtol, atol=0,
                                                   err_msg="%s %s" % (op, np.dtype(dt)))
                    else:
                        np.testing.assert_array_equal(got[op], want, err_msg="%s %s" % (op, np.dtype(dt)))
                    self.assertEqual(got[op].dtype, np.dtype(dt))

    def test_float_special_values(self):
        nan, inf = np.nan, np.inf
        a = np.array([nan, 1, nan, -0.0, inf, -inf, 2, 0, -5.5, 5.5, 1, -1], np.float32)
        b = np.array([1, nan, nan, 0.0, inf, 2, -inf, 0, 2, -2, 0, 0], np.float32)
        ops = ["Maximum", "Minimum", "DivNoNan", "MulNoNan", "FloorDiv", "FloorMod", "RealDiv"]
        got = run_binary(ops, a, b, np.float32)
        # NaN on either side wins in Maximum/Minimum (TensorFlow >= 2.4).
        np.testing.assert_array_equal(got["Maximum"], np.maximum(a, b))
        np.testing.assert_array_equal(got["Minimum"], np.minimum(a, b))
        # DivNoNan/MulNoNan give 0 wherever y == 0, even for x = NaN or inf.
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(got["DivNoNan"], np.where(b == 0, 0, a / b).astype(np.float32))
            np.testing.assert_array_equal(got["MulNoNan"], np.where(b == 0, 0, a * b).astype(np.float32))
            np.testing.assert_array_equal(got["FloorDiv"], np.floor(a / b))
            np.testing.assert_array_equal(got["FloorMod"], FLOAT_REFS["FloorMod"](a, b))
            np.testing.assert_array_equal(got["RealDiv"], a / b)
        # floor(x / y) is not numpy's floor_divide: 1 // 0.1 is 9 in numpy, 10 in TensorFlow.
        got = run_binary(["FloorDiv"], np.float64(1.0), np.float64(0.1), np.float64)
        self.assertEqual(got["FloorDiv"], 10.0)

    def test_bfloat16_through_cast(self):
        # npy has no bfloat16: values go in and out as float32 through Cast.
        a = RNG.normal(0, 10, size=(3, 4)).astype(np.float32)
        b = RNG.normal(0, 10, size=(4,)).astype(np.float32)
        ops = ["Add", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "Pow"]
        bf16 = dtype_attr(14)
        nodes = [placeholder("a", np.float32), placeholder("b", np.float32),
                 node("ab", "Cast", ["a"], SrcT=np.float32, DstT=bf16),
                 node("bb", "Cast", ["b"], SrcT=np.float32, DstT=bf16)]
        for op in ops:
            nodes.append(node(op + "_b", op, ["ab", "bb"], T=bf16))
            nodes.append(node(op, "Cast", [op + "_b"], SrcT=bf16, DstT=np.float32))
        got = dict(zip(ops, run(nodes, feeds={"a": a, "b": b}, fetches=ops)))
        ra, rb = bf16_round(a), bf16_round(b)
        for op in ops:
            with np.errstate(all="ignore"):
                want = bf16_round(FLOAT_REFS[op](ra, rb).astype(np.float32))
            np.testing.assert_array_equal(got[op], want, err_msg=op)


class IntegerErrors(unittest.TestCase):
    def test_division_by_zero(self):
        for op in ["Div", "FloorDiv", "FloorMod", "Mod"]:
            for dt in [np.int32, np.int64, np.uint8, np.int8]:
                expect_error(self, binary_graph([op], dt),
                             {"a": np.array([1, 2], dt), "b": np.array([1, 0], dt)}, [op],
                             "INVALID_ARGUMENT", "Integer division by zero")

    def test_truncate_ops_report_as_tensorflow_does(self):
        # BinaryOpShared::SetComputeError only names Div/Mod/FloorDiv/FloorMod.
        for op in ["TruncateDiv", "TruncateMod"]:
            expect_error(self, binary_graph([op], np.int32),
                         {"a": np.array([1], np.int32), "b": np.array([0], np.int32)}, [op], "INTERNAL",
                         "Unexpected error in binary operator (only integer div and mod should have errors)")

    def test_negative_integer_power(self):
        expect_error(self, binary_graph(["Pow"], np.int32),
                     {"a": np.array([5, 2], np.int32), "b": np.array([2, -3], np.int32)}, ["Pow"],
                     "INVALID_ARGUMENT", "Integers to negative integer powers are not allowed")

    def test_float_division_by_zero_is_not_an_error(self):
        got = run_binary(["Div", "FloorDiv"], np.array([1, -1, 0], np.float32), np.float32(0), np.float32)
        np.testing.assert_array_equal(got["Div"], [np.inf, -np.inf, np.nan])

    def test_unregistered_dtype_fails_at_load(self):
        expect_error(self, binary_graph(["RealDiv"], np.int32),
                     {"a": np.array([1], np.int32), "b": np.array([1], np.int32)}, ["RealDiv"],
                     "INVALID_ARGUMENT", "No OpKernel was registered to support Op 'RealDiv'")


class Comparisons(unittest.TestCase):
    def test_numeric_dtypes(self):
        for dt in FLOATS + INTS:
            a = random_values(dt, (3, 4), small=True)
            b = random_values(dt, (4,), small=True)
            ops = list(COMPARE_REFS)
            got = run_binary(ops, a, b, dt)
            for op in ops:
                np.testing.assert_array_equal(got[op], COMPARE_REFS[op](a, b), err_msg="%s %s" % (op, np.dtype(dt)))
                self.assertEqual(got[op].dtype, np.bool_)

    def test_nan_compares_false_except_not_equal(self):
        a = np.array([np.nan, 1, np.nan], np.float32)
        b = np.array([np.nan, np.nan, 1], np.float32)
        got = run_binary(list(COMPARE_REFS), a, b, np.float32)
        for op, ref in COMPARE_REFS.items():
            np.testing.assert_array_equal(got[op], ref(a, b))

    def test_bool_and_logical(self):
        a = np.array([[True, False], [True, True]])
        b = np.array([False, True])
        got = run_binary(["Equal", "NotEqual", "LogicalAnd", "LogicalOr"], a, b, np.bool_)
        np.testing.assert_array_equal(got["Equal"], a == b)
        np.testing.assert_array_equal(got["NotEqual"], a != b)
        np.testing.assert_array_equal(got["LogicalAnd"], a & b)
        np.testing.assert_array_equal(got["LogicalOr"], a | b)
        nodes = [placeholder("a", np.bool_), node("n", "LogicalNot", ["a"])]
        got, = run(nodes, feeds={"a": a}, fetches=["n"])
        np.testing.assert_array_equal(got, ~a)

    def test_strings(self):
        nodes = [const("a", np.array([b"ab", b"", b"abc", b"x\x00y"], dtype=object)),
                 const("b", np.array([b"ab", b"", b"abd", b"x\x00z"], dtype=object)),
                 const("s", np.array(b"ab", dtype=object)),
                 node("eq", "Equal", ["a", "b"], T=str), node("ne", "NotEqual", ["a", "b"], T=str),
                 node("eqs", "Equal", ["a", "s"], T=str)]
        eq, ne, eqs = run(nodes, fetches=["eq", "ne", "eqs"])
        np.testing.assert_array_equal(eq, [True, True, False, False])
        np.testing.assert_array_equal(ne, [False, False, True, True])
        np.testing.assert_array_equal(eqs, [True, False, False, False])

    def test_string_add_concatenates(self):
        nodes = [const("a", np.array([[b"ab", b""], [b"x", b"yz"]], dtype=object)),
                 const("b", np.array([b"1", b"23"], dtype=object)),
                 node("cat", "Add", ["a", "b"], T=str),
                 const("want", np.array([[b"ab1", b"23"], [b"x1", b"yz23"]], dtype=object)),
                 node("eq", "Equal", ["cat", "want"], T=str)]
        eq, = run(nodes, fetches=["eq"])
        np.testing.assert_array_equal(eq, np.ones((2, 2), np.bool_))

    def test_incompatible_shape_error_attr(self):
        a, b = np.zeros(3, np.int32), np.zeros(4, np.int32)
        nodes = [placeholder("a", np.int32), placeholder("b", np.int32),
                 node("eq", "Equal", ["a", "b"], T=np.int32, incompatible_shape_error=False),
                 node("ne", "NotEqual", ["a", "b"], T=np.int32, incompatible_shape_error=False)]
        eq, ne = run(nodes, feeds={"a": a, "b": b}, fetches=["eq", "ne"])
        self.assertEqual(eq.shape, ())
        self.assertEqual(bool(eq), False)
        self.assertEqual(bool(ne), True)
        expect_error(self, binary_graph(["Equal"], np.int32), {"a": a, "b": b}, ["Equal"], "INVALID_ARGUMENT",
                     "Incompatible shapes: [3] vs. [4]")


class Select(unittest.TestCase):
    def run_select(self, op, c, t, e, dtype=np.float32):
        nodes = [placeholder("c", np.bool_), placeholder("t", dtype), placeholder("e", dtype),
                 node("s", op, ["c", "t", "e"], T=dtype)]
        return run(nodes, feeds={"c": c, "t": t, "e": e}, fetches=["s"])[0]

    def test_v1_forms(self):
        t = np.arange(6, dtype=np.float32).reshape(2, 3)
        e = -t
        for c in [np.array(True), np.array(False)]:
            np.testing.assert_array_equal(self.run_select("Select", c, t, e), t if c else e)
        c = np.array([True, False])
        np.testing.assert_array_equal(self.run_select("Select", c, t, e), np.where(c[:, None], t, e))
        c = np.array([[True, False, True], [False, False, True]])
        np.testing.assert_array_equal(self.run_select("Select", c, t, e), np.where(c, t, e))
        # Vector condition with vector branches is element-wise.
        c = np.array([True, False, True])
        np.testing.assert_array_equal(self.run_select("Select", c, t[0], e[0]), np.where(c, t[0], e[0]))

    def test_v1_dtypes(self):
        c = np.array([True, False, True, False])
        for dt in FLOATS + INTS + [np.bool_]:
            t = random_values(dt, (4, 2))
            e = random_values(dt, (4, 2))
            np.testing.assert_array_equal(self.run_select("Select", c, t, e, dt), np.where(c[:, None], t, e))

    def test_v1_errors(self):
        t = np.zeros((2, 3), np.float32)
        nodes = [placeholder("c", np.bool_), placeholder("t", np.float32), placeholder("e", np.float32),
                 node("sel", "Select", ["c", "t", "e"], T=np.float32)]
        expect_error(self, nodes, {"c": np.array(True), "t": t, "e": np.zeros((3, 2), np.float32)}, ["sel"],
                     "INVALID_ARGUMENT", "'then' and 'else' must have the same size.  but received: [2,3] vs. [3,2]")
        expect_error(self, nodes, {"c": np.array([True, False, True]), "t": t, "e": t}, ["sel"],
                     "INVALID_ARGUMENT", "Number of batches of 'then' must match size of 'cond', but saw: 2 vs. 3")
        expect_error(self, nodes, {"c": np.zeros((2, 2), np.bool_), "t": t, "e": t}, ["sel"], "INVALID_ARGUMENT",
                     "Inputs to operation sel of type Select must have the same size and shape.  "
                     "Input 0: [2,2] != input 1: [2,3]")

    def test_v2_broadcasting(self):
        for sc, st, se in [((2, 3), (2, 3), (2, 3)), ((), (2, 3), (3,)), ((3,), (2, 1), ()), ((2, 1), (3,), (1, 3)),
                           ((0, 3), (3,), ())]:
            c = RNG.integers(0, 2, size=sc).astype(np.bool_)
            t = RNG.normal(size=st).astype(np.float32)
            e = RNG.normal(size=se).astype(np.float32)
            np.testing.assert_array_equal(self.run_select("SelectV2", c, t, e), np.where(c, t, e))
        nodes = [placeholder("c", np.bool_), placeholder("t", np.float32), placeholder("e", np.float32),
                 node("sel", "SelectV2", ["c", "t", "e"], T=np.float32)]
        expect_error(self, nodes, {"c": np.zeros(2, np.bool_), "t": np.zeros(3, np.float32),
                                   "e": np.zeros(1, np.float32)}, ["sel"], "INVALID_ARGUMENT",
                     "condition [2], then [3], and else [1] must be broadcastable")

    def test_strings(self):
        nodes = [const("c", np.array([True, False, True])),
                 const("t", np.array([b"a", b"bb", b"ccc"], dtype=object)),
                 const("e", np.array([b"x", b"yy", b"zzz"], dtype=object)),
                 node("s", "SelectV2", ["c", "t", "e"], T=str),
                 const("want", np.array([b"a", b"yy", b"ccc"], dtype=object)),
                 node("eq", "Equal", ["s", "want"], T=str)]
        eq, = run(nodes, fetches=["eq"])
        np.testing.assert_array_equal(eq, [True, True, True])


class BiasAddN(unittest.TestCase):
    def test_bias_add_nhwc_nchw(self):
        x = RNG.normal(size=(2, 3, 4, 5)).astype(np.float32)
        b5 = RNG.normal(size=(5,)).astype(np.float32)
        b3 = RNG.normal(size=(3,)).astype(np.float32)
        nodes = [placeholder("x", np.float32), placeholder("b5", np.float32), placeholder("b3", np.float32),
                 node("nhwc", "BiasAdd", ["x", "b5"], T=np.float32, data_format="NHWC"),
                 node("dflt", "BiasAdd", ["x", "b5"], T=np.float32),
                 node("v1", "BiasAddV1", ["x", "b5"], T=np.float32),
                 node("nchw", "BiasAdd", ["x", "b3"], T=np.float32, data_format="NCHW")]
        got = run(nodes, feeds={"x": x, "b5": b5, "b3": b3}, fetches=["nhwc", "dflt", "v1", "nchw"])
        for g in got[:3]:
            np.testing.assert_array_equal(g, x + b5)
        np.testing.assert_array_equal(got[3], x + b3[None, :, None, None])

    def test_bias_add_dtypes(self):
        for dt in FLOATS + INTS:
            x = random_values(dt, (4, 3))
            b = random_values(dt, (3,))
            nodes = [placeholder("x", dt), placeholder("b", dt), node("y", "BiasAdd", ["x", "b"], T=dt)]
            got, = run(nodes, feeds={"x": x, "b": b}, fetches=["y"])
            if np.dtype(dt).kind == "f":
                want = (x.astype(np.float32) + b.astype(np.float32)).astype(dt) if dt == np.float16 else x + b
            else:
                want = int_binary(lambda p, q: p + q, x, b, dt)
            np.testing.assert_array_equal(got, want)

    def test_bias_add_errors(self):
        nodes = [placeholder("x", np.float32), placeholder("b", np.float32),
                 node("y", "BiasAdd", ["x", "b"], T=np.float32)]
        expect_error(self, nodes, {"x": np.zeros(3, np.float32), "b": np.zeros(3, np.float32)}, ["y"],
                     "INVALID_ARGUMENT", "Input tensor must be at least 2D: [3]")
        expect_error(self, nodes, {"x": np.zeros((2, 3), np.float32), "b": np.zeros((1, 3), np.float32)}, ["y"],
                     "INVALID_ARGUMENT", "Biases must be 1D: [1,3]")
        expect_error(self, nodes, {"x": np.zeros((2, 3), np.float32), "b": np.zeros(4, np.float32)}, ["y"],
                     "INVALID_ARGUMENT",
                     "Must provide as many biases as the last dimension of the input tensor: [4] vs. [2,3]")

    def test_add_n(self):
        for dt in [np.float32, np.float64, np.float16, np.int32, np.int64, np.int8, np.uint8]:
            xs = [random_values(dt, (3, 4)) for _ in range(4)]
            nodes = [placeholder("x%d" % i, dt) for i in range(4)]
            nodes.append(node("one", "AddN", ["x0"], T=dt, N=1))
            nodes.append(node("all", "AddN", ["x0", "x1", "x2", "x3"], T=dt, N=4))
            one, al = run(nodes, feeds={"x%d" % i: x for i, x in enumerate(xs)}, fetches=["one", "all"])
            np.testing.assert_array_equal(one, xs[0])
            if np.dtype(dt).kind == "f":
                want = xs[0]
                for x in xs[1:]:  # left to right, rounded after each addition
                    want = (want.astype(np.float32) + x.astype(np.float32)).astype(dt) if dt == np.float16 \
                        else want + x
            else:
                want = wrap(sum(x.astype(object) for x in xs), dt)
            np.testing.assert_array_equal(al, want, err_msg=str(np.dtype(dt)))
        nodes = [placeholder("a", np.float32), placeholder("b", np.float32),
                 node("s", "AddN", ["a", "b"], T=np.float32, N=2)]
        expect_error(self, nodes, {"a": np.zeros(2, np.float32), "b": np.zeros(3, np.float32)}, ["s"],
                     "INVALID_ARGUMENT",
                     "Inputs to operation s of type AddN must have the same size and shape.  Input 0: [2] != input 1: [3]")

    def test_clip_by_value(self):
        t = np.array([[-3, 0.5, 7, np.nan], [1, 2, 3, 4]], np.float32)
        for lo, hi in [(np.float32(0), np.float32(2)),
                       (np.full((2, 4), -1, np.float32), np.float32(3)),
                       (np.float32(1), np.arange(8, dtype=np.float32).reshape(2, 4))]:
            nodes = [placeholder("t", np.float32), placeholder("lo", np.float32), placeholder("hi", np.float32),
                     node("c", "ClipByValue", ["t", "lo", "hi"], T=np.float32)]
            got, = run(nodes, feeds={"t": t, "lo": lo, "hi": hi}, fetches=["c"])
            # std::max(std::min(t, hi), lo): NaN stays NaN.
            want = np.where(np.isnan(t), np.nan, np.maximum(np.minimum(t, hi), lo))
            np.testing.assert_array_equal(got, want)
        for dt in [np.int32, np.uint8, np.float16, np.float64, np.int64]:
            t = random_values(dt, (3, 4))
            lo, hi = np.sort(random_values(dt, (2,)))
            nodes = [placeholder("t", dt), placeholder("lo", dt), placeholder("hi", dt),
                     node("c", "ClipByValue", ["t", "lo", "hi"], T=dt)]
            got, = run(nodes, feeds={"t": t, "lo": lo, "hi": hi}, fetches=["c"])
            np.testing.assert_array_equal(got, np.clip(t, lo, hi))
        nodes = [placeholder("t", np.float32), placeholder("lo", np.float32), placeholder("hi", np.float32),
                 node("c", "ClipByValue", ["t", "lo", "hi"], T=np.float32)]
        expect_error(self, nodes, {"t": np.zeros((2, 3), np.float32), "lo": np.zeros(3, np.float32),
                                   "hi": np.float32(1)}, ["c"], "INVALID_ARGUMENT",
                     "clip_value_min and clip_value_max must be either of the same shape as input, or a scalar.")


if __name__ == "__main__":
    unittest.main()
