"""Cast through the graph runtime: every pair of numeric and bool dtypes,
float -> integer truncation with x86's results for NaN and out-of-range
values, integer wrap-around, half/bfloat16 rounding and the Truncate attr."""
import unittest

import numpy as np
from graphlib import GraphError, dtype_attr, node, placeholder, run
from mathref import FLOATS, INTS, bf16_round, f32_to_bf16_bits, wrap, x86_float_to_int

RNG = np.random.default_rng(7)
BF16 = dtype_attr(14)
ALL = FLOATS + INTS + [np.bool_]


def cast_all(x, dsts, truncate=None):
    attrs = {} if truncate is None else {"Truncate": truncate}
    nodes = [placeholder("x", x.dtype.type)]
    names = []
    for d in dsts:
        name = "to_%s" % np.dtype(d).name
        nodes.append(node(name, "Cast", ["x"], SrcT=x.dtype.type, DstT=d, **attrs))
        names.append(name)
    return dict(zip(dsts, run(nodes, feeds={"x": x}, fetches=names)))


def expected(x, dst):
    dst = np.dtype(dst)
    src = x.dtype
    if dst == np.bool_:
        return x != 0
    if src == np.bool_:
        return x.astype(dst)
    if dst.kind == "f":
        if src.kind == "f":
            return x.astype(dst)
        # Integers convert to float (half goes through float, as Eigen's half(int) does).
        if dst == np.float16:
            return x.astype(np.float32).astype(np.float16)
        return np.array([float(int(v)) for v in x.reshape(-1)], dtype=np.float64).astype(dst).reshape(x.shape) \
            if dst == np.float64 else np.array([np.float32(int(v)) for v in x.reshape(-1)], np.float32).reshape(x.shape)
    if src.kind == "f":
        return x86_float_to_int(x.astype(np.float64), dst)
    return wrap(x.astype(object), dst)


class Cast(unittest.TestCase):
    def test_every_pair(self):
        for src in ALL:
            if np.dtype(src).kind == "f":
                with np.errstate(over="ignore"):  # 70000.7 is inf in half
                    x = np.concatenate([RNG.normal(0, 100, size=20), [0.0, -0.0, 0.5, -0.5, 1.5, -2.7, 255.9, 300.2,
                                                                      -129.5, 65535.0, 70000.7]]).astype(src)
            elif src == np.bool_:
                x = np.array([True, False, True])
            else:
                info = np.iinfo(src)
                x = np.concatenate([RNG.integers(info.min, info.max, size=20, endpoint=True, dtype=src),
                                    np.array([info.min, info.max, 0, 1], dtype=src)]).astype(src)
            got = cast_all(x, ALL)
            for dst in ALL:
                with np.errstate(all="ignore"):
                    want = expected(x, dst)
                np.testing.assert_array_equal(got[dst], want, err_msg="%s -> %s" % (np.dtype(src), np.dtype(dst)))
                self.assertEqual(got[dst].dtype, np.dtype(dst))

    def test_float_to_int_special_values(self):
        x = np.array([np.nan, np.inf, -np.inf, 3e9, -3e9, 2.5e19, -1.0, 1e10, 2147483647.0, -2147483648.0],
                     np.float64)
        got = cast_all(x, INTS)
        for dst in INTS:
            np.testing.assert_array_equal(got[dst], x86_float_to_int(x, dst), err_msg=np.dtype(dst).name)
        # The x86 "integer indefinite": NaN and out-of-range become INT_MIN.
        self.assertEqual(got[np.int32][0], np.iinfo(np.int32).min)
        self.assertEqual(got[np.int64][1], np.iinfo(np.int64).min)
        self.assertEqual(got[np.uint8][6], 255)  # -1.0 -> int32 -1 -> low byte

    def test_bfloat16(self):
        x = np.array([1.0, 1.00390625, 1.01171875, -3.3, 65504, 1e30, np.nan, np.inf, -0.0, 1e-40], np.float32)
        nodes = [placeholder("x", np.float32),
                 node("b", "Cast", ["x"], SrcT=np.float32, DstT=BF16),
                 node("bt", "Cast", ["x"], SrcT=np.float32, DstT=BF16, Truncate=True),
                 node("f", "Cast", ["b"], SrcT=BF16, DstT=np.float32),
                 node("ft", "Cast", ["bt"], SrcT=BF16, DstT=np.float32),
                 node("i", "Cast", ["b"], SrcT=BF16, DstT=np.int32),
                 node("h", "Cast", ["b"], SrcT=BF16, DstT=np.float16)]
        f, ft, i, h = run(nodes, feeds={"x": x}, fetches=["f", "ft", "i", "h"])
        np.testing.assert_array_equal(f, bf16_round(x))
        # Truncate keeps the top 16 bits.
        trunc = (x.view(np.uint32) & 0xFFFF0000).view(np.float32)
        np.testing.assert_array_equal(ft, trunc)
        np.testing.assert_array_equal(i, x86_float_to_int(bf16_round(x), np.int32))
        with np.errstate(over="ignore"):
            np.testing.assert_array_equal(h, bf16_round(x).astype(np.float16))
        self.assertTrue(np.all(f32_to_bf16_bits(x)[:2] == [0x3F80, 0x3F80]))  # 1+2^-8 ties to even

    def test_truncate_float_to_half(self):
        x = np.array([1.0009765625 + 2 ** -12, 1 + 2 ** -11 + 2 ** -13, -5.123], np.float32)
        rounded, = cast_all(x, [np.float16]).values()
        truncated, = cast_all(x, [np.float16], truncate=True).values()
        np.testing.assert_array_equal(rounded, x.astype(np.float16))
        want = (x.view(np.uint32) & ~np.uint32((1 << 13) - 1)).view(np.float32).astype(np.float16)
        np.testing.assert_array_equal(truncated, want)
        self.assertNotEqual(rounded[1], truncated[1])

    def test_same_type_and_shapes(self):
        for shape in [(), (0,), (2, 0, 3), (1,)]:
            x = np.ones(shape, np.float32)
            got = cast_all(x, [np.float32, np.int8])
            self.assertEqual(got[np.float32].shape, shape)
            np.testing.assert_array_equal(got[np.int8], np.ones(shape, np.int8))

    def test_large(self):
        x = RNG.normal(0, 1000, size=(1 << 17,)).astype(np.float32)
        got = cast_all(x, [np.int32, np.uint8, np.float16])
        np.testing.assert_array_equal(got[np.int32], x.astype(np.int32))
        np.testing.assert_array_equal(got[np.uint8], x86_float_to_int(x, np.uint8))
        np.testing.assert_array_equal(got[np.float16], x.astype(np.float16))

    def test_unsupported(self):
        nodes = [placeholder("x", np.float32), node("s", "Cast", ["x"], SrcT=np.float32, DstT=str)]
        with self.assertRaises(GraphError) as cm:
            run(nodes, feeds={"x": np.zeros(1, np.float32)}, fetches=["s"])
        self.assertIn("UNIMPLEMENTED", str(cm.exception))
        self.assertIn("Cast float to string is not supported", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
