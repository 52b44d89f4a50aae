"""Kernels and shape inference given extreme integer arguments (axes at the
ends of int64, shapes whose non-zero dimensions overflow, more slice entries
than the masks have bits): each must end in the error TensorFlow gives, or a
clean error where TensorFlow's own arithmetic would overflow, and never in
arithmetic the sanitizer builds reject."""
import shutil
import tempfile
import unittest

import grpc
import numpy as np

import tfs
from graphlib import GraphError, const, node, placeholder, run
from resthttp import write_frozen_model
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import predict_pb2

F = np.float32
I64_MIN, I64_MAX = -2**63, 2**63 - 1


def run_op(op, inputs, **attrs):
    nodes, feeds, names = [], {}, []
    for i, v in enumerate(inputs):
        v = np.asarray(v)
        nodes.append(placeholder("in%d" % i, v.dtype))
        feeds["in%d" % i] = v
        names.append("in%d" % i)
    nodes.append(node("y", op, names, **attrs))
    return run(nodes, feeds=feeds, fetches=["y"])[0]


class ExtremeArgs(unittest.TestCase):
    def error(self, text, op, inputs, **attrs):
        with self.assertRaises(GraphError) as e:
            run_op(op, inputs, **attrs)
        self.assertIn(text, str(e.exception))

    def test_gather_axis_at_int64_ends(self):
        x = np.arange(3, dtype=F)
        self.error("Shape must be at least rank 9223372036854775808 but is rank 1", "GatherV2",
                   [x, np.int64([0]), np.int64(I64_MIN)])
        self.error("Shape must be at least rank 9223372036854775808 but is rank 1", "GatherV2",
                   [x, np.int64([0]), np.int64(I64_MAX)])
        np.testing.assert_array_equal(run_op("GatherV2", [x, np.int64([2, 0]), np.int64(-1)]), x[[2, 0]])

    def test_zero_dim_does_not_hide_overflow(self):
        # The count is 0, but the other dimensions multiply past int64.
        big = 2**62
        self.error("shape has too many elements", "BroadcastTo", [np.zeros((1,), F), np.int64([0, big, big])])
        self.error("shape has too many elements", "Fill", [np.int64([0, big, big]), F(1)])
        # Non-zero dimensions that fit are fine.
        got = run_op("BroadcastTo", [np.zeros((1,), F), np.int64([0, 2**20, 2**20])])
        self.assertEqual(got.shape, (0, 2**20, 2**20))

    def test_strided_slice_with_more_entries_than_mask_bits(self):
        # A frozen graph's signature comes from shape inference at load. With
        # begin and end fed, it sees only their shape and walks all 70 strides
        # entries; at run time the kernel rejects 32 or more, as TensorFlow does.
        tmp = tempfile.mkdtemp(prefix="plinth-extreme-")
        try:
            write_frozen_model(tmp, [
                placeholder("x", F, (2,)), placeholder("b", np.int64, (70,)), placeholder("e", np.int64, (70,)),
                const("s", np.ones(70, np.int64)),
                node("y", "StridedSlice", ["x", "b", "e", "s"], T=F, Index=np.int64, begin_mask=0, end_mask=0,
                     ellipsis_mask=0, new_axis_mask=-1, shrink_axis_mask=0)])
            with tfs.Server(model_name="m", model_path=tmp) as server:
                r = predict_pb2.PredictRequest()
                r.model_spec.name = "m"
                for alias, v in (("x", np.zeros(2, F)), ("b", np.zeros(70, np.int64)), ("e", np.ones(70, np.int64))):
                    t = r.inputs[alias]
                    t.dtype = types_pb2.DT_FLOAT if v.dtype == F else types_pb2.DT_INT64
                    t.tensor_shape.dim.add(size=v.size)
                    t.tensor_content = v.tobytes()
                with self.assertRaises(grpc.RpcError) as e:
                    server.predict_stub().Predict(r, timeout=10 * tfs.SLOW)
                self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertIn("Expected begin, end, and strides to be 1D equal size tensors", e.exception.details())
            self.assertEqual(server.proc.returncode, 0, server.output())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
