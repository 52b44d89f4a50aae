"""Dequantize against numpy evaluations of TensorFlow's formulas (dequantize_op.cc,
quantization_utils.h) carried out in float32 step by step, for every quantized dtype
and mode. (The weight-quantized MobileNet is checked against the float one in test_zoo.py.)"""
import unittest

import numpy as np
from graphlib import GraphError, const, dtype_attr, node, run
from tensorflow.core.framework import tensor_pb2, types_pb2

F32 = np.float32
# dtype enum, numpy storage type, numeric_limits lowest / highest
QTYPES = {
    "quint8": (types_pb2.DT_QUINT8, np.uint8, 0, 255),
    "qint8": (types_pb2.DT_QINT8, np.int8, -128, 127),
    "quint16": (types_pb2.DT_QUINT16, np.uint16, 0, 65535),
    "qint16": (types_pb2.DT_QINT16, np.int16, -32768, 32767),
    "qint32": (types_pb2.DT_QINT32, np.int32, -2147483648, 2147483647),
}


def qconst(name, values, qtype):
    enum, np_t, _, _ = QTYPES[qtype]
    arr = np.asarray(values, np_t)
    p = tensor_pb2.TensorProto(dtype=enum)
    for d in arr.shape:
        p.tensor_shape.dim.add().size = d
    p.tensor_content = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    return node(name, "Const", value=p, dtype=dtype_attr(enum))


def dequantize(name, qtype, mode=None, **attrs):
    if mode is not None:
        attrs["mode"] = mode
    return node(name, "Dequantize", ["q", "lo", "hi"], T=dtype_attr(QTYPES[qtype][0]), **attrs)


def ref_min_combined(q, lo, hi, qtype):
    _, _, tmin, tmax = QTYPES[qtype]
    half = F32(0) if tmin == 0 else (F32(tmax) - F32(tmin) + F32(1)) / F32(2)
    scale = (F32(hi) - F32(lo)) / (F32(tmax) - F32(tmin))
    return ((q.astype(F32) + half) * scale) + F32(lo)


def ref_min_first(q, lo, hi, qtype):
    _, np_t, tmin, _ = QTYPES[qtype]
    steps = 1 << (8 * np.dtype(np_t).itemsize)
    lo, hi = F32(lo), F32(hi)
    scale = F32(float(hi - lo) / (steps - 1.0))
    r = float(lo / scale)  # float32 quotient, rounded half away from zero as C's round()
    rounded = lo if hi == lo else F32(np.sign(r) * np.floor(abs(r) + 0.5) * float(scale))
    offset = rounded - F32(tmin) * scale
    return offset + q.astype(F32) * scale


def ref_scaled(q, lo, hi, qtype, narrow=False):
    _, _, tmin, tmax = QTYPES[qtype]
    if tmin == 0:
        scale = F32(hi) / F32(tmax)
    else:
        s0, s1 = F32(lo) / F32(tmin + (1 if narrow else 0)), F32(hi) / F32(tmax)
        scale = s1 if s0 < s1 else s0
    return q.astype(F32) * scale


def sample(qtype, shape, seed):
    _, np_t, tmin, tmax = QTYPES[qtype]
    rng = np.random.default_rng(seed)
    v = rng.integers(tmin, tmax, size=shape, endpoint=True, dtype=np.int64)
    v.reshape(-1)[:2] = [tmin, tmax]
    return v.astype(np_t)


class DequantizeTest(unittest.TestCase):
    def run_dq(self, q, qtype, lo, hi, mode=None, **attrs):
        out, = run([qconst("q", q, qtype), const("lo", np.asarray(lo, F32)), const("hi", np.asarray(hi, F32)),
                    dequantize("d", qtype, mode, **attrs)], fetches=["d"])
        return out

    def assert_bits(self, got, want):
        self.assertEqual(got.dtype, np.float32)
        np.testing.assert_array_equal(got.view(np.uint32), np.asarray(want, F32).view(np.uint32))

    def test_every_type_and_mode_bit_exact(self):
        ranges = [(-1.0, 1.0), (-0.3712, 2.918), (0.0, 6.0), (-12.5, -0.25), (1e-3, 1e-3 + 1e-6)]
        modes = [("MIN_COMBINED", {}, ref_min_combined), ("MIN_FIRST", {}, ref_min_first),
                 ("SCALED", {}, ref_scaled),
                 ("SCALED", {"narrow_range": True}, lambda q, lo, hi, t: ref_scaled(q, lo, hi, t, narrow=True))]
        for k, qtype in enumerate(QTYPES):
            q = sample(qtype, [3, 17], k)
            nodes, fetches, wants = [qconst("q", q, qtype)], [], []
            for r, (lo, hi) in enumerate(ranges):
                nodes += [const("lo%d" % r, F32(lo)), const("hi%d" % r, F32(hi))]
                for m, (mode, attrs, ref) in enumerate(modes):
                    name = "d%d_%d" % (r, m)
                    nodes.append(node(name, "Dequantize", ["q", "lo%d" % r, "hi%d" % r],
                                      T=dtype_attr(QTYPES[qtype][0]), mode=mode, **attrs))
                    fetches.append(name)
                    wants.append(ref(q, lo, hi, qtype))
            for name, got, want in zip(fetches, run(nodes, fetches=fetches), wants):
                with self.subTest(qtype=qtype, node=name):
                    self.assert_bits(got, want)

    def test_default_mode_is_min_combined(self):
        q = sample("quint8", [10], 1)
        self.assert_bits(self.run_dq(q, "quint8", -2.0, 3.0), ref_min_combined(q, -2.0, 3.0, "quint8"))

    def test_hand_computed_values(self):
        # quint8 MIN_COMBINED over [0, 255]: identity; qint8 SCALED over [-127, 127]: identity.
        q = np.array([0, 1, 128, 255], np.uint8)
        np.testing.assert_array_equal(self.run_dq(q, "quint8", 0.0, 255.0, "MIN_COMBINED"), [0, 1, 128, 255])
        q8 = np.array([-128, -1, 0, 127], np.int8)
        np.testing.assert_array_equal(self.run_dq(q8, "qint8", -127.0, 127.0, "SCALED"), [-128, -1, 0, 127])
        # MIN_FIRST with min = max gives min everywhere.
        np.testing.assert_array_equal(self.run_dq(q, "quint8", 2.5, 2.5, "MIN_FIRST"), [2.5] * 4)

    def test_equal_range_min_combined_and_scaled(self):
        q = sample("qint16", [6], 3)
        self.assert_bits(self.run_dq(q, "qint16", 0.5, 0.5, "MIN_COMBINED"), ref_min_combined(q, 0.5, 0.5, "qint16"))

    def test_axis_slices(self):
        q = sample("qint8", [2, 3, 4], 7)
        lo, hi = [-1.0, -2.0, -0.5], [1.0, 4.0, 0.25]
        for mode, ref in (("SCALED", ref_scaled), ("MIN_COMBINED", ref_min_combined)):
            got = self.run_dq(q, "qint8", lo, hi, mode, axis=1)
            want = np.stack([ref(q[:, s, :], lo[s], hi[s], "qint8") for s in range(3)], axis=1)
            self.assert_bits(got, want)
        # A one-element axis takes the whole-tensor path.
        q1 = sample("quint8", [4, 1], 8)
        self.assert_bits(self.run_dq(q1, "quint8", [-1.0], [1.0], "MIN_FIRST", axis=1),
                         ref_min_first(q1, -1.0, 1.0, "quint8"))

    def test_bfloat16_output(self):
        q = sample("quint8", [16], 9)
        bf16 = dtype_attr(types_pb2.DT_BFLOAT16)
        got, = run([qconst("q", q, "quint8"), const("lo", F32(-1.0)), const("hi", F32(3.0)),
                    dequantize("d", "quint8", "MIN_COMBINED", dtype=bf16),
                    node("f", "Cast", ["d"], SrcT=bf16, DstT=np.float32)], fetches=["f"])
        f = ref_min_combined(q, -1.0, 3.0, "quint8").view(np.uint32)
        want = ((f + 0x7fff + ((f >> 16) & 1)) >> 16) << 16  # round to nearest even, widened back
        self.assert_bits(got, want.astype(np.uint32).view(F32))

    def test_errors(self):
        q = sample("quint8", [2, 3], 10)
        with self.assertRaisesRegex(GraphError, "MIN_FIRST mode is not implemented for Dequantize with axis != -1"):
            self.run_dq(q, "quint8", [0.0] * 3, [1.0] * 3, "MIN_FIRST", axis=1)
        with self.assertRaisesRegex(GraphError, r"input_min_tensor must have as many elements as input on the "
                                                r"dequantization axis \(1\), got 2, expected 3"):
            self.run_dq(q, "quint8", [0.0] * 2, [1.0] * 3, "SCALED", axis=1)
        with self.assertRaisesRegex(GraphError, r"Axis must be less than input dimension\(2\), got 2"):
            self.run_dq(q, "quint8", [0.0], [1.0], "SCALED", axis=2)
        with self.assertRaisesRegex(GraphError, "Mode string must be 'MIN_COMBINED', 'MIN_FIRST', or 'SCALED'"):
            self.run_dq(q, "quint8", 0.0, 1.0, "MAX_FIRST")
        with self.assertRaisesRegex(GraphError, "When output type is bfloat16, Mode string must be 'MIN_COMBINED'"):
            self.run_dq(q, "quint8", 0.0, 1.0, "SCALED", dtype=dtype_attr(types_pb2.DT_BFLOAT16))
        with self.assertRaisesRegex(GraphError, "Output type must be bfloat16 or float, is 'int32'"):
            self.run_dq(q, "quint8", 0.0, 1.0, "SCALED", dtype=np.int32)


if __name__ == "__main__":
    unittest.main()
