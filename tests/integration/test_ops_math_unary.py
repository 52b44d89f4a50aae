"""Unary element-wise kernels through the graph runtime: every op x dtype
TensorFlow registers on CPU against numpy, with TensorFlow's formulas where
they differ from the textbook (Elu uses exp(x) - 1, Softplus switches to x
or exp(x) past log(epsilon) + 2, LeakyRelu selects so alpha > 1 works,
Round is half-to-even, integer Neg/Abs wrap), special values included."""
import math
import unittest

import numpy as np
from graphlib import GraphError, dtype_attr, node, placeholder, run
from mathref import FLOATS, SIGNED, UNSIGNED, bf16_round, wrap

RNG = np.random.default_rng(5)
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1e-6, -1e-6, 20.0, -20.0,
           100.0, -100.0]


def softplus(x):
    t = np.log(np.finfo(x.dtype).eps) + 2 if x.dtype != np.float16 else np.log(np.finfo(np.float32).eps) + 2
    with np.errstate(all="ignore"):
        return np.where(x > -t, x, np.where(x < t, np.exp(x), np.log1p(np.exp(x))))


def selu(x):
    scale, scale_alpha = 1.0507009873554804934193349852946, 1.7580993408473768599402175208123
    with np.errstate(all="ignore"):
        return np.where(x < 0, x.dtype.type(scale_alpha) * (np.exp(x) - 1), x.dtype.type(scale) * x)


def erf(x, fn):
    return np.array([fn(float(v)) for v in x.reshape(-1)], np.float64).reshape(x.shape).astype(x.dtype)


FLOAT_REFS = {
    "Neg": np.negative, "Abs": np.abs, "Exp": np.exp, "Expm1": np.expm1, "Log": np.log, "Log1p": np.log1p,
    "Sqrt": np.sqrt, "Rsqrt": lambda x: 1 / np.sqrt(x), "Square": np.square, "Reciprocal": lambda x: 1 / x,
    "Inv": lambda x: 1 / x, "Sign": np.sign, "Floor": np.floor, "Ceil": np.ceil, "Round": np.round,
    "Rint": np.rint, "Tanh": np.tanh, "Sigmoid": lambda x: 1 / (1 + np.exp(-x)), "Sin": np.sin, "Cos": np.cos,
    "Tan": np.tan, "Asin": np.arcsin, "Acos": np.arccos, "Atan": np.arctan, "Sinh": np.sinh, "Cosh": np.cosh,
    "Erf": lambda x: erf(x, math.erf), "Erfc": lambda x: erf(x, math.erfc),
    "Relu": lambda x: np.where(x < 0, x.dtype.type(0), x), "Relu6": lambda x: np.where(x < 0, 0, np.where(x > 6, 6, x)).astype(x.dtype),
    "Elu": lambda x: np.where(x < 0, np.exp(x) - 1, x), "Selu": selu,
    # alpha is a float attr: a double kernel multiplies by float(0.2), not 0.2.
    "LeakyRelu": lambda x: np.where(x > 0, x, x * x.dtype.type(np.float32(0.2))), "Softplus": softplus,
    "Softsign": lambda x: x / (1 + np.abs(x)),
}
EXACT = {"Neg", "Abs", "Sqrt", "Square", "Reciprocal", "Inv", "Sign", "Floor", "Ceil", "Round", "Rint", "Relu",
         "Relu6", "Softsign", "Rsqrt"}
BOOL_REFS = {"IsNan": np.isnan, "IsInf": np.isinf, "IsFinite": np.isfinite}


def run_unary(ops, x, **attrs):
    nodes = [placeholder("x", x.dtype.type)]
    for op in ops:
        nodes.append(node(op, op, ["x"], T=x.dtype.type, **attrs))
    return dict(zip(ops, run(nodes, feeds={"x": x}, fetches=list(ops))))


class FloatUnary(unittest.TestCase):
    def check_float(self, dt, x):
        ops = list(FLOAT_REFS) + list(BOOL_REFS)
        got = run_unary(ops, x)
        for op in ops:
            with np.errstate(all="ignore"):
                if op in BOOL_REFS:
                    want = BOOL_REFS[op](x)
                elif dt == np.float16:
                    want = FLOAT_REFS[op](x.astype(np.float32)).astype(np.float16)
                else:
                    want = FLOAT_REFS[op](x).astype(dt)
            self.assertEqual(got[op].dtype, np.bool_ if op in BOOL_REFS else np.dtype(dt), op)
            if op in EXACT or op in BOOL_REFS:
                np.testing.assert_array_equal(got[op], want, err_msg="%s %s" % (op, np.dtype(dt)))
            else:
                rtol = {np.float32: 3e-6, np.float64: 1e-14, np.float16: 1e-3}[dt]
                atol = 1e-37 if dt != np.float16 else 1e-7
                if op in ("Elu", "Selu"):  # exp(x) - 1 cancels near 0: one ulp of exp(x) absolute
                    atol = 2 * np.finfo(dt).eps
                np.testing.assert_allclose(got[op], want, rtol=rtol, atol=atol, err_msg="%s %s" % (op, np.dtype(dt)))

    def test_float_dtypes(self):
        for dt in FLOATS:
            with np.errstate(over="ignore"):
                x = np.concatenate([RNG.normal(0, 3, size=40), RNG.uniform(-1, 1, size=10), SPECIAL]).astype(dt)
            self.check_float(dt, x)

    def test_round_half_to_even(self):
        x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999998, 3.5000002, 1e8 + 0.5], np.float32)
        got = run_unary(["Round", "Rint"], x)
        np.testing.assert_array_equal(got["Round"], [0, 2, 2, -0, -2, -2, 2, 4, np.round(np.float32(1e8 + 0.5))])
        np.testing.assert_array_equal(got["Rint"], got["Round"])

    def test_activation_edges(self):
        x = np.array([np.nan, -np.inf, np.inf, -0.0, -3, 3, 7, 5.99], np.float32)
        got = run_unary(["Relu", "Relu6", "Elu", "Softplus", "Softsign", "Sigmoid", "Tanh"], x)
        self.assertTrue(np.isnan(got["Relu"][0]) and np.isnan(got["Relu6"][0]))  # NaN passes through
        np.testing.assert_array_equal(got["Relu"][1:], np.array([0, np.inf, -0.0, 0, 3, 7, 5.99], np.float32))
        np.testing.assert_array_equal(got["Relu6"][1:], np.array([0, 6, -0.0, 0, 3, 6, 5.99], np.float32))
        np.testing.assert_array_equal(got["Elu"][1:3], [-1, np.inf])
        np.testing.assert_array_equal(got["Softplus"][1:3], [0, np.inf])
        np.testing.assert_array_equal(got["Sigmoid"][1:3], [0, 1])
        np.testing.assert_array_equal(got["Tanh"][1:3], [-1, 1])
        # Softplus is exactly x above -log(eps) - 2 (~13.94 for float) and exp(x) below its negative.
        y = np.array([13.9, 14.0, 30.0, -14.0, -30.0], np.float32)
        got = run_unary(["Softplus"], y)
        np.testing.assert_array_equal(got["Softplus"][1:3], y[1:3])
        np.testing.assert_allclose(got["Softplus"][3:], np.exp(y[3:]), rtol=3e-7)

    def test_leaky_relu_alpha(self):
        x = np.array([-2, -0.5, 0, 0.5, 3, np.nan], np.float32)
        for alpha in [0.2, 0.01, 1.5, -1.0]:
            got = run_unary(["LeakyRelu"], x, alpha=alpha)
            want = np.where(x > 0, x, x * np.float32(alpha))
            np.testing.assert_array_equal(got["LeakyRelu"], want, err_msg=str(alpha))

    def test_bfloat16(self):
        bf16 = dtype_attr(14)
        x = RNG.normal(0, 2, size=(20,)).astype(np.float32)
        ops = ["Neg", "Abs", "Exp", "Sqrt", "Square", "Tanh", "Sigmoid", "Relu", "Floor", "Round"]
        nodes = [placeholder("x", np.float32), node("xb", "Cast", ["x"], SrcT=np.float32, DstT=bf16)]
        for op in ops:
            nodes.append(node(op + "_b", op, ["xb"], T=bf16))
            nodes.append(node(op, "Cast", [op + "_b"], SrcT=bf16, DstT=np.float32))
        got = dict(zip(ops, run(nodes, feeds={"x": x}, fetches=ops)))
        xb = bf16_round(x)
        for op in ops:
            with np.errstate(all="ignore"):
                want = FLOAT_REFS[op](xb)
            if op in EXACT:
                np.testing.assert_array_equal(got[op], bf16_round(want), err_msg=op)
            else:
                np.testing.assert_allclose(got[op], bf16_round(want), rtol=1e-2, err_msg=op)

    def test_large(self):
        x = RNG.normal(0, 3, size=(1 << 17,)).astype(np.float32)
        got = run_unary(["Relu", "Exp", "IsNan"], x)
        np.testing.assert_array_equal(got["Relu"], np.maximum(x, 0))
        np.testing.assert_allclose(got["Exp"], np.exp(x), rtol=3e-6)
        self.assertFalse(got["IsNan"].any())


class IntegerUnary(unittest.TestCase):
    def test_signed(self):
        for dt in SIGNED:
            info = np.iinfo(dt)
            x = np.concatenate([RNG.integers(info.min, info.max, size=20, endpoint=True, dtype=np.int64).astype(dt),
                                np.array([info.min, info.max, 0, -1, 1, 6, 7, -7], dtype=dt)])
            got = run_unary(["Neg", "Abs", "Square", "Sign", "Round", "Relu", "Relu6"], x)
            xo = x.astype(object)
            np.testing.assert_array_equal(got["Neg"], wrap(-xo, dt))  # -INT_MIN wraps to INT_MIN
            np.testing.assert_array_equal(got["Abs"], wrap(np.abs(xo), dt))
            np.testing.assert_array_equal(got["Square"], wrap(xo * xo, dt))
            np.testing.assert_array_equal(got["Sign"], np.sign(x))
            np.testing.assert_array_equal(got["Round"], x)
            np.testing.assert_array_equal(got["Relu"], np.maximum(x, 0))
            np.testing.assert_array_equal(got["Relu6"], np.clip(x, 0, 6))
            for op in got:
                self.assertEqual(got[op].dtype, np.dtype(dt))

    def test_unsigned(self):
        for dt in UNSIGNED:
            info = np.iinfo(dt)
            x = np.concatenate([RNG.integers(0, info.max, size=20, endpoint=True, dtype=np.uint64).astype(dt),
                                np.array([info.max, 0, 1, 6, 7], dtype=dt)])
            got = run_unary(["Square", "Sign", "Relu", "Relu6"], x)
            np.testing.assert_array_equal(got["Square"], wrap(x.astype(object) ** 2, dt))
            np.testing.assert_array_equal(got["Sign"], (x > 0).astype(dt))
            np.testing.assert_array_equal(got["Relu"], x)
            np.testing.assert_array_equal(got["Relu6"], np.minimum(x, 6))

    def test_float_only_ops_refuse_integers(self):
        for op in ["Exp", "Sqrt", "Tanh", "IsNan", "Floor"]:
            with self.assertRaises(GraphError) as cm:
                run_unary([op], np.array([1], np.int32))
            self.assertIn("No OpKernel was registered to support Op '%s'" % op, str(cm.exception))

    def test_shapes(self):
        for shape in [(), (0,), (3, 0, 2), (1, 1, 1, 1, 1, 1, 1, 1)]:
            x = np.full(shape, -2.0, np.float32)
            got = run_unary(["Abs"], x)
            self.assertEqual(got["Abs"].shape, shape)
            np.testing.assert_array_equal(got["Abs"], np.abs(x))


if __name__ == "__main__":
    unittest.main()
