"""PredictionService.Predict over gRPC against TensorFlow Serving's behaviour
(spec 1b, 1h): the integration test cases of tensorflow_model_server_test.py
for half_plus_two, every error case with TensorFlow Serving's exact code and
text, and hostile requests that must fail cleanly while the server keeps
serving."""
import struct
import unittest

import grpc
import numpy as np

import tfs
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")


def request(x=(2.0,), shape=None, name="default", output_filter=("y",), dtype=types_pb2.DT_FLOAT, alias="x"):
    r = predict_pb2.PredictRequest()
    r.model_spec.name = name
    t = r.inputs[alias]
    t.dtype = dtype
    for d in (shape if shape is not None else [len(x)]):
        t.tensor_shape.dim.add(size=d)
    if dtype == types_pb2.DT_FLOAT:
        t.float_val.extend(x)
    else:
        t.int_val.extend(int(v) for v in x)
    r.output_filter.extend(output_filter)
    return r


def expected(x):
    """half_plus_two: y = x / 2 + 2, computed independently in float32."""
    return np.asarray(x, dtype=np.float32) / np.float32(2) + np.float32(2)


class Predict(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tfs.Server(model_name="default", model_path=HALF_PLUS_TWO).start()
        cls.stub = cls.server.predict_stub()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check()

    def error(self, req, method="Predict"):
        with self.assertRaises(grpc.RpcError) as cm:
            getattr(self.stub, method)(req, timeout=10)
        return cm.exception.code(), cm.exception.details()

    def test_predict_saved_model(self):
        # VerifyPredictRequest with and without output_filter.
        for flt in (("y",), ()):
            resp = self.stub.Predict(request(output_filter=flt), timeout=10)
            self.assertEqual(list(resp.outputs.keys()), ["y"])
            y = resp.outputs["y"]
            self.assertEqual(y.dtype, types_pb2.DT_FLOAT)
            self.assertEqual(len(y.float_val), 1)
            self.assertEqual(y.float_val[0], 3.0)
            self.assertEqual(resp.model_spec.name, "default")
            self.assertEqual(resp.model_spec.signature_name, "serving_default")
            self.assertEqual(resp.model_spec.version.value, 123)

    def test_batch_matches_numpy(self):
        x = np.array([[-1.5], [0.0], [2.0], [1e6], [3.25]], dtype=np.float32)
        resp = self.stub.Predict(request(x.ravel().tolist(), shape=[5, 1]), timeout=10)
        y = resp.outputs["y"]
        self.assertEqual([d.size for d in y.tensor_shape.dim], [5, 1])
        np.testing.assert_array_equal(np.array(y.float_val, dtype=np.float32), expected(x).ravel())

    def test_tensor_content_input(self):
        x = np.array([4.0, 8.0, -2.0], dtype=np.float32)
        r = request(shape=[3], x=())
        r.inputs["x"].tensor_content = x.tobytes()
        resp = self.stub.Predict(r, timeout=10)
        np.testing.assert_array_equal(np.array(resp.outputs["y"].float_val, dtype=np.float32), expected(x))

    def test_versions_and_labels(self):
        r = request()
        r.model_spec.version.value = 123
        self.assertEqual(self.stub.Predict(r, timeout=10).outputs["y"].float_val[0], 3.0)
        r.model_spec.version.value = 124
        self.assertEqual(self.error(r), (grpc.StatusCode.NOT_FOUND,
                                         "Servable not found for request: Specific(default, 124)"))
        r = request()
        r.model_spec.version_label = "stable"
        self.assertEqual(self.error(r), (grpc.StatusCode.INVALID_ARGUMENT,
                                         "Unrecognized servable version label: stable"))

    def test_model_errors(self):
        self.assertEqual(self.error(request(name="missing")),
                         (grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(missing)"))
        self.assertEqual(self.error(request(name="")),
                         (grpc.StatusCode.INVALID_ARGUMENT, "ModelSpec has no name specified."))
        r = request()
        r.ClearField("model_spec")
        self.assertEqual(self.error(r), (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"))

    def test_signature_errors(self):
        r = request()
        r.model_spec.signature_name = "nope"
        self.assertEqual(self.error(r), (grpc.StatusCode.FAILED_PRECONDITION,
                                         'Serving signature key "nope" not found.'))
        r = request()
        r.inputs["z"].dtype = types_pb2.DT_FLOAT
        r.inputs["z"].float_val.append(1)
        self.assertEqual(self.error(r), (grpc.StatusCode.INVALID_ARGUMENT,
                                         "input size does not match signature: 2!=1 len({x,z}) != len({x}). "
                                         "Sent extra: {z}. Missing but required: {}."))
        r = request(alias="z")
        self.assertEqual(self.error(r), (grpc.StatusCode.INVALID_ARGUMENT,
                                         "Signature input alias: x(feed name: x:0) not found in request and no "
                                         "default value provided. Inputs expected to be in the request {z}, or "
                                         "default input alias set: "))
        r = predict_pb2.PredictRequest()
        r.model_spec.name = "default"
        self.assertEqual(self.error(r), (grpc.StatusCode.INVALID_ARGUMENT,
                                         "input size does not match signature: 0!=1 len({}) != len({x}). "
                                         "Sent extra: {}. Missing but required: {x}."))

    def test_output_filter_errors(self):
        self.assertEqual(self.error(request(output_filter=("w",))),
                         (grpc.StatusCode.INVALID_ARGUMENT,
                          "output tensor alias not found in signature: w Outputs expected to be in the set {y}."))
        self.assertEqual(self.error(request(output_filter=("y", "y"))),
                         (grpc.StatusCode.INVALID_ARGUMENT, "duplicate output tensor alias: y"))

    def test_wrong_dtype(self):
        self.assertEqual(self.error(request(dtype=types_pb2.DT_INT32)),
                         (grpc.StatusCode.INVALID_ARGUMENT, "Expects arg[0] to be float but int32 is provided"))

    def test_long_messages_are_truncated(self):
        r = request()
        for i in range(100):
            r.inputs["extra_input_with_a_long_name_%03d" % i].dtype = types_pb2.DT_FLOAT
        code, details = self.error(r)
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(details.startswith("input size does not match signature: 101!=1 len({extra_input"))
        self.assertTrue(details.endswith("...TRUNCATED"))
        self.assertEqual(len(details), 1024 + len("...TRUNCATED"))

    def raw_predict(self, payload):
        call = self.server.channel().unary_unary("/tensorflow.serving.PredictionService/Predict",
                                                 request_serializer=None, response_deserializer=None)
        return call(payload, timeout=10)

    def test_hostile_requests(self):
        cases = []
        # Not a protobuf message at all.
        cases.append(("garbage", b"\xff\xff\xff\xff\x0f", grpc.StatusCode.INTERNAL))
        # A TensorProto nested 4000 deep through variant_val.tensors.
        t = b""
        for _ in range(2000):
            v = b"\x1a" + _varint(len(t)) + t
            t = b"\x7a" + _varint(len(v)) + v
        cases.append(("deep", _predict_bytes(t), grpc.StatusCode.INTERNAL))
        for name, payload, code in cases:
            with self.assertRaises(grpc.RpcError, msg=name) as cm:
                self.raw_predict(payload)
            self.assertEqual(cm.exception.code(), code, name)

        # Content shorter than the shape says.
        r = request(x=(), shape=[4])
        r.inputs["x"].tensor_content = struct.pack("<3f", 1, 2, 3)
        self.assertEqual(self.error(r), (grpc.StatusCode.INVALID_ARGUMENT, "tensor parsing error: x"))
        # A 2 GiB-element shape backed by one value: refused, not allocated.
        r = request(x=(1.0,), shape=[1 << 31])
        code, details = self.error(r)
        self.assertEqual(code, grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("tensor parsing error: x", details)
        # An element count that overflows int64.
        r = request(x=(1.0,), shape=[1 << 40, 1 << 40])
        self.assertIn(self.error(r)[0], (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED))
        # Thousands of inputs.
        r = request()
        for i in range(5000):
            r.inputs["i%d" % i].dtype = types_pb2.DT_FLOAT
        code, details = self.error(r)
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(details.startswith("input size does not match signature: 5001!=1"))
        # The server is still fine.
        self.assertEqual(self.stub.Predict(request(), timeout=10).outputs["y"].float_val[0], 3.0)


def _varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _predict_bytes(tensor_body):
    """PredictRequest{model_spec{name:"default"}, inputs{"x": <tensor_body>}} by hand."""
    spec = b"\x0a\x07default"
    entry = b"\x0a\x01x" + b"\x12" + _varint(len(tensor_body)) + tensor_body
    return b"\x0a" + _varint(len(spec)) + spec + b"\x12" + _varint(len(entry)) + entry


class TensorContentOutput(unittest.TestCase):
    def test_enable_serialization_as_tensor_content(self):
        with tfs.Server(model_path=HALF_PLUS_TWO, args=["--enable_serialization_as_tensor_content"]) as s:
            resp = s.predict_stub().Predict(request(x=(2.0, 4.0)), timeout=10)
            y = resp.outputs["y"]
            self.assertEqual(len(y.float_val), 0)
            np.testing.assert_array_equal(np.frombuffer(y.tensor_content, dtype="<f4"), expected([2.0, 4.0]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
