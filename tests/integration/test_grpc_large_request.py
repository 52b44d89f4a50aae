"""Large Predict requests over gRPC: tensor contents are taken straight out of
the received pieces (no contiguous copy of the message), every other field
still decodes as protobuf says, and a run may write its output over a fed
tensor nobody else holds without any other consumer seeing the change.

Requests are sent as raw bytes, so the wire forms a protobuf library never
writes (a field repeated, fields out of order, a cut message) are covered."""
import os
import tempfile
import unittest

import grpc
import numpy as np
from graphlib import const, graph, node, placeholder, shape
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2
from tfs import SANITIZED, Server

N = 1 << 20  # 4 MB of float32: well past the size whose pieces are gathered


def write_model(d):
    """y = (x - 1) / 2 (a fused chain that may run in place), z = x * 3 and
    w = x + x: three consumers of x that must all see the request's values."""
    f = np.float32
    nodes = [placeholder("x", f, shape(None)),
             const("one", f(1)), const("two", f(2)), const("three", f(3)),
             node("xm1", "Sub", ["x", "one"], T=f),
             node("y", "RealDiv", ["xm1", "two"], T=f),
             node("z", "Mul", ["x", "three"], T=f),
             node("w", "AddV2", ["x", "x"], T=f)]
    os.makedirs(os.path.join(d, "1"))
    with open(os.path.join(d, "1", "model.pb"), "wb") as fh:
        fh.write(graph(nodes).SerializeToString())


def tensor_bytes(values, content=True):
    t = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
    t.tensor_shape.dim.add(size=len(values))
    if content:
        t.tensor_content = values.astype("<f4").tobytes()
    else:
        t.float_val.extend(values.tolist())
    return t.SerializeToString()


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def request_bytes(tensor, name=b"x"):
    """A PredictRequest for model "m" written by hand: spec, then inputs {name: tensor}."""
    spec = field(1, b"m")
    entry = field(1, name) + field(2, tensor)
    return field(1, spec) + field(2, entry)


def decode(raw):
    r = predict_pb2.PredictResponse()
    r.ParseFromString(raw)
    return {k: np.frombuffer(v.tensor_content, "<f4") if v.tensor_content else np.array(v.float_val, np.float32)
            for k, v in r.outputs.items()}


class LargeRequests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        write_model(cls.tmp.name)
        cls.server = Server("m", cls.tmp.name).start()
        cls.channel = grpc.insecure_channel("localhost:%d" % cls.server.port,
                                            options=[("grpc.max_send_message_length", 1 << 30),
                                                     ("grpc.max_receive_message_length", 1 << 30)])
        cls.predict = cls.channel.unary_unary("/tensorflow.serving.PredictionService/Predict")

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop()
        cls.tmp.cleanup()

    def check(self, x, raw):
        out = decode(self.predict(raw, timeout=60))
        np.testing.assert_array_equal(out["y"], (x - np.float32(1)) / np.float32(2))
        np.testing.assert_array_equal(out["z"], x * np.float32(3))
        np.testing.assert_array_equal(out["w"], x + x)

    def test_tensor_content(self):
        x = np.random.default_rng(1).standard_normal(N).astype(np.float32)
        self.check(x, request_bytes(tensor_bytes(x)))

    def test_same_request_again(self):
        x = np.linspace(-5, 5, N, dtype=np.float32)
        raw = request_bytes(tensor_bytes(x))
        for _ in range(3):
            self.check(x, raw)

    def test_float_val(self):
        # Large, but no tensor_content: the values are copied through as they came.
        x = np.arange(N // 2, dtype=np.float32)
        self.check(x, request_bytes(tensor_bytes(x, content=False)))

    def test_fields_in_any_order(self):
        x = np.random.default_rng(2).standard_normal(N).astype(np.float32)
        t = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
        t.tensor_shape.dim.add(size=N)
        content = field(4, x.tobytes())
        tensor = content + t.SerializeToString()      # tensor_content before dtype and shape
        entry = field(2, tensor) + field(1, b"x")     # value before key
        self.check(x, field(2, entry) + field(1, field(1, b"m")))

    def test_last_tensor_content_wins(self):
        first = np.full(N, 7, np.float32)
        x = np.random.default_rng(3).standard_normal(N).astype(np.float32)
        # A bytes field given twice: the second replaces the first.
        self.check(x, request_bytes(tensor_bytes(first) + field(4, x.tobytes())))

    def test_small_content_after_large_one_wins(self):
        x = np.arange(5, dtype=np.float32)
        t = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
        t.tensor_shape.dim.add(size=5)
        tensor = t.SerializeToString() + field(4, np.full(N, 7, np.float32).tobytes()) + field(4, x.tobytes())
        self.check(x, request_bytes(tensor))

    def test_content_of_the_wrong_size(self):
        x = np.zeros(N, np.float32)
        t = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=x.tobytes())
        t.tensor_shape.dim.add(size=N + 1)
        with self.assertRaises(grpc.RpcError) as e:
            self.predict(request_bytes(t.SerializeToString()), timeout=60)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("x", e.exception.details())

    def test_broken_wire_format(self):
        raw = request_bytes(tensor_bytes(np.ones(N, np.float32)))
        bad = {
            "cut inside the content": raw[:len(raw) // 2],
            "length past the end": raw[:-8],
            "a group": raw + bytes([3 << 3 | 3]),
            "an overlong varint": raw + bytes([0x80] * 11),
            "a field past the end of its entry": raw + field(2, field(1, b"y") + varint(2 << 3 | 2) + varint(1 << 40)),
        }
        for what, body in bad.items():
            with self.subTest(what):
                with self.assertRaises(grpc.RpcError) as e:
                    self.predict(body, timeout=60)
                self.assertEqual(e.exception.code(), grpc.StatusCode.INTERNAL)
                self.assertEqual(e.exception.details(), "Failed to parse request")
        # Nothing was lost: the server still answers.
        x = np.ones(N, np.float32)
        self.check(x, raw)

    def test_unknown_fields_pass_through(self):
        x = np.random.default_rng(5).standard_normal(N).astype(np.float32)
        unknown = varint(99 << 3 | 0) + varint(12345) + varint(98 << 3 | 5) + b"\0\0\0\0" + \
            varint(97 << 3 | 1) + b"\0" * 8 + \
            bytes([0xF0, 0xF0, 0x00, 0xF0, 0xF0, 0x00])  # a varint field with overlong tag and value
        self.check(x, request_bytes(tensor_bytes(x) + unknown) + unknown)

    @unittest.skipIf(SANITIZED, "the sanitizers' allocator keeps freed memory in quarantine")
    def test_server_memory_returns_after_large_requests(self):
        x = np.ones(4 * N, np.float32)  # 16 MB
        raw = request_bytes(tensor_bytes(x))
        def rss_mb():
            with open("/proc/%d/status" % self.server.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        self.check(x, raw)
        after_first = rss_mb()
        for _ in range(4):
            self.check(x, raw)
        # Receive buffers, the request's block and the outputs (3 x 16 MB) go back
        # after each request; growth of a few MB is allocator noise.
        self.assertLess(rss_mb(), after_first + 24)


if __name__ == "__main__":
    unittest.main()
