"""ScalarSummary and HistogramSummary decoded with protobuf's own parser (tensorflow.Summary
and HistogramProto declared here from summary.proto's field numbers) against a numpy
rendition of TensorFlow's histogram (histogram.cc); the Optional ops; the GPU-only cuDNN ops
fail cleanly when run."""
import unittest

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from graphlib import GraphError, const, node, run


def summary_class():
    f = descriptor_pb2.FileDescriptorProto(name="plinth_test_summary.proto", package="tensorflow", syntax="proto3")
    h = f.message_type.add(name="HistogramProto")
    for i, name in enumerate(["min", "max", "num", "sum", "sum_squares"], 1):
        h.field.add(name=name, number=i, type=descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
                    label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    for i, name in ((6, "bucket_limit"), (7, "bucket")):
        fd = h.field.add(name=name, number=i, type=descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
                         label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED)
        fd.options.packed = True
    s = f.message_type.add(name="Summary")
    v = s.nested_type.add(name="Value")
    v.field.add(name="tag", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    v.oneof_decl.add(name="value")
    v.field.add(name="simple_value", number=2, type=descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT,
                label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL, oneof_index=0)
    v.field.add(name="histo", number=5, type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
                type_name=".tensorflow.HistogramProto", label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
                oneof_index=0)
    s.field.add(name="value", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
                type_name=".tensorflow.Summary.Value", label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    desc = pool.FindMessageTypeByName("tensorflow.Summary")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


Summary = summary_class()


def tf_histogram(values):
    """histogram.cc: default limits, upper_bound bucketing, empty runs merged into their last limit."""
    pos = []
    v = 1.0e-12
    while v < 1.0e20:
        pos.append(v)
        v *= 1.1
    limits = [-np.finfo(np.float64).max] + [-x for x in reversed(pos)] + [0.0] + pos + [np.finfo(np.float64).max]
    counts = np.zeros(len(limits))
    for x in values:
        counts[np.searchsorted(limits, x, side="right")] += 1
    out_l, out_c, i = [], [], 0
    while i < len(limits):
        end, c = limits[i], counts[i]
        i += 1
        if c <= 0:
            while i < len(limits) and counts[i] <= 0:
                end, c = limits[i], counts[i]
                i += 1
        out_l.append(end)
        out_c.append(c)
    return out_l, out_c


class SummaryTest(unittest.TestCase):
    def test_scalar_summary(self):
        tags = np.array([b"loss", b"accuracy/top-1"], object)
        vals = np.array([0.25, -3.5], np.float64)
        out, = run([const("t", tags), const("v", vals), node("s", "ScalarSummary", ["t", "v"], T=np.float64)],
                   fetches=["s"])
        s = Summary.FromString(out.tobytes())  # full width: .item() drops trailing NULs
        self.assertEqual([v.tag for v in s.value], ["loss", "accuracy/top-1"])
        self.assertEqual([v.simple_value for v in s.value], [0.25, -3.5])
        self.assertTrue(all(v.HasField("simple_value") for v in s.value))

    def test_scalar_summary_zero_is_still_written(self):
        out, = run([const("t", np.array(b"z", object)), const("v", np.int32(0)),
                    node("s", "ScalarSummary", ["t", "v"], T=np.int32)], fetches=["s"])
        s = Summary.FromString(out.tobytes())  # full width: .item() drops trailing NULs
        self.assertTrue(s.value[0].HasField("simple_value"))
        self.assertEqual(s.value[0].simple_value, 0.0)

    def test_histogram_summary(self):
        rng = np.random.default_rng(5)
        x = np.concatenate([rng.normal(0, 3, 200), [0.0, 0.0, 1e-13, -7e5]]).astype(np.float32)
        out, = run([const("t", np.array(b"activations", object)), const("v", x.reshape(4, 51)),
                    node("h", "HistogramSummary", ["t", "v"], T=np.float32)], fetches=["h"])
        s = Summary.FromString(out.tobytes())  # full width: .item() drops trailing NULs
        self.assertEqual(s.value[0].tag, "activations")
        h = s.value[0].histo
        xd = x.astype(np.float64)
        self.assertEqual(h.min, xd.min())
        self.assertEqual(h.max, xd.max())
        self.assertEqual(h.num, len(x))
        self.assertAlmostEqual(h.sum, xd.sum(), delta=1e-9 * np.abs(xd).sum())
        self.assertAlmostEqual(h.sum_squares, (xd * xd).sum(), delta=1e-9 * (xd * xd).sum())
        limits, counts = tf_histogram(xd)
        np.testing.assert_array_equal(h.bucket_limit, limits)
        np.testing.assert_array_equal(h.bucket, counts)
        self.assertEqual(sum(h.bucket), len(x))

    def test_histogram_rejects_nan(self):
        with self.assertRaisesRegex(GraphError, "Nan in summary histogram for: h"):
            run([const("t", np.array(b"a", object)), const("v", np.array([1.0, np.nan], np.float32)),
                 node("h", "HistogramSummary", ["t", "v"], T=np.float32)], fetches=["h"])

    def test_scalar_summary_shape_mismatch(self):
        with self.assertRaisesRegex(GraphError, r"tags and values are not the same shape: \[\] != \[2\] \(tag 'a'\)"):
            run([const("t", np.array(b"a", object)), const("v", np.zeros(2, np.float32)),
                 node("s", "ScalarSummary", ["t", "v"], T=np.float32)], fetches=["s"])


class OptionalAndGpuOnlyTest(unittest.TestCase):
    def test_optional_round_trip(self):
        a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.array([True, False])
        has, none_has, ga, gb = run([const("a", a), const("b", b),
                                     node("o", "OptionalFromValue", ["a", "b"], Toutput_types=[np.float32, np.bool_]),
                                     node("n", "OptionalNone", []),
                                     node("has", "OptionalHasValue", ["o"]),
                                     node("nhas", "OptionalHasValue", ["n"]),
                                     node("g", "OptionalGetValue", ["o"], output_types=[np.float32, np.bool_],
                                          output_shapes=[])], fetches=["has", "nhas", "g:0", "g:1"])
        self.assertTrue(bool(has))
        self.assertFalse(bool(none_has))
        np.testing.assert_array_equal(ga, a)
        np.testing.assert_array_equal(gb, b)

    def test_get_value_of_none(self):
        with self.assertRaisesRegex(GraphError, "The given optional does not have a value."):
            run([node("n", "OptionalNone", []),
                 node("g", "OptionalGetValue", ["n"], output_types=[np.float32], output_shapes=[])], fetches=["g"])

    def test_cudnn_rnn_fails_when_run(self):
        with self.assertRaisesRegex(GraphError, "cuDNN RNN ops run on GPUs only"):
            run([const("x", np.zeros([1, 1, 1], np.float32)), const("p", np.zeros([4], np.float32)),
                 node("r", "CudnnRNN", ["x", "x", "x", "p"], T=np.float32)], fetches=["r"])


if __name__ == "__main__":
    unittest.main()
