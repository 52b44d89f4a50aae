"""Requests made of empty things, over gRPC and REST: tensors with a zero
dimension, typed value lists and tensor_content with no bytes, strings that
are empty or absent, Classify/Regress with no examples, and a batched Predict
of no rows. Each answer is checked against numpy (identity models echo their
input, half_plus_two computes x / 2 + 2) and the server must keep serving;
the sanitizer builds make any undefined behaviour on these paths (a null
buffer handed to memcpy, arithmetic on a null pointer) fail the run."""
import json
import os
import tempfile
import unittest

import grpc
import numpy as np

import tfs
from resthttp import call, identity_model, model_config
from test_batching import batching_server
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import classification_pb2, inference_pb2, predict_pb2, regression_pb2

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")

# alias -> (numpy dtype, DataType, TensorProto field holding typed values)
TYPES = {
    "f": (np.float32, types_pb2.DT_FLOAT, "float_val"),
    "d": (np.float64, types_pb2.DT_DOUBLE, "double_val"),
    "i32": (np.int32, types_pb2.DT_INT32, "int_val"),
    "i64": (np.int64, types_pb2.DT_INT64, "int64_val"),
    "u8": (np.uint8, types_pb2.DT_UINT8, "int_val"),
    "b": (np.bool_, types_pb2.DT_BOOL, "bool_val"),
    "h": (np.float16, types_pb2.DT_HALF, "half_val"),
    "c": (np.complex64, types_pb2.DT_COMPLEX64, "scomplex_val"),
    "s": (object, types_pb2.DT_STRING, "string_val"),
}

JSON_TYPES = ("f", "d", "i32", "i64", "u8", "b", "s")


def to_numpy(p):
    """A TensorProto's value as numpy, decoded here independently of the server."""
    shape = [d.size for d in p.tensor_shape.dim]
    n = int(np.prod(shape, dtype=np.int64))
    dt = {v[1]: v[0] for v in TYPES.values()}[p.dtype]
    if p.dtype == types_pb2.DT_STRING:
        vals = list(p.string_val) or [b""] * n
        return np.array(vals[:n] + [vals[-1]] * (n - len(vals)) if vals else [], dtype=object).reshape(shape)
    if p.tensor_content:
        return np.frombuffer(p.tensor_content, dtype=dt).reshape(shape)
    field = {v[1]: v[2] for v in TYPES.values()}[p.dtype]
    vals = list(getattr(p, field))
    if p.dtype == types_pb2.DT_HALF:
        vals = np.array(vals, np.uint16).view(np.float16)
    elif p.dtype == types_pb2.DT_COMPLEX64:
        vals = np.array(vals, np.float32).view(np.complex64)
    self_check = len(vals) in (0, n)
    assert self_check, "%d values for %d elements" % (len(vals), n)
    return np.array(vals, dtype=dt).reshape(shape) if n else np.zeros(shape, dt)


def predict(name, inputs, content=False):
    """inputs: alias -> numpy array. content: send numbers as tensor_content."""
    r = predict_pb2.PredictRequest()
    r.model_spec.name = name
    for alias, v in inputs.items():
        dt, enum, field = TYPES[alias.split("_")[0]]
        v = np.asarray(v, dtype=dt)
        t = r.inputs[alias]
        t.dtype = enum
        for d in v.shape:
            t.tensor_shape.dim.add(size=d)
        if dt is object:
            t.string_val.extend(v.ravel().tolist())
        elif content:
            t.tensor_content = v.tobytes()
        elif enum == types_pb2.DT_HALF:
            t.half_val.extend(v.view(np.uint16).ravel().tolist())
        elif enum == types_pb2.DT_COMPLEX64:
            t.scomplex_val.extend(v.view(np.float32).ravel().tolist())
        else:
            getattr(t, field).extend(v.ravel().tolist())
    return r


def same(test, got, want):
    test.assertEqual(got.shape, want.shape)
    if want.dtype == object:
        test.assertEqual(got.ravel().tolist(), want.ravel().tolist())
    else:
        test.assertEqual(got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want)


class EmptyRequests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-empty-")
        # One identity model per dtype (id_f, id_s, ...), and one over every JSON dtype.
        models = [("hp2", HALF_PLUS_TWO, "")]
        for a, t in TYPES.items():
            models.append(("id_" + a, identity_model(os.path.join(cls.tmp, a), [(a, a + "_out", np.dtype(t[0]))]), ""))
        js = identity_model(os.path.join(cls.tmp, "js"), [(a, a + "_out", np.dtype(TYPES[a][0])) for a in JSON_TYPES])
        models.append(("js", js, ""))
        path = os.path.join(cls.tmp, "models.config")
        with open(path, "w") as f:
            f.write(model_config(models))
        cls.server = tfs.Server(model_config_file=path, rest=True).start()
        cls.stub = cls.server.predict_stub()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check(cls.tmp)

    def tearDown(self):
        # Still serving: a crash or sanitizer report would have stopped it.
        resp = self.stub.Predict(self.hp2_request([1.0]), timeout=10 * tfs.SLOW)
        self.assertEqual(list(resp.outputs["y"].float_val), [2.5])

    def hp2_request(self, x, shape=None):
        r = predict_pb2.PredictRequest()
        r.model_spec.name = "hp2"
        t = r.inputs["x"]
        t.dtype = types_pb2.DT_FLOAT
        for d in (shape if shape is not None else [len(x)]):
            t.tensor_shape.dim.add(size=d)
        t.float_val.extend(x)
        return r

    def echo(self, inputs, content=False):
        for alias, v in inputs.items():
            with self.subTest(alias=alias, shape=np.shape(v), content=content):
                resp = self.stub.Predict(predict("id_" + alias, {alias: v}, content), timeout=10 * tfs.SLOW)
                same(self, to_numpy(resp.outputs[alias + "_out"]), np.asarray(v, dtype=TYPES[alias][0]))

    def test_grpc_zero_dims_every_dtype(self):
        for shape in [(0,), (0, 3), (3, 0), (2, 0, 4)]:
            self.echo({a: np.zeros(shape, dtype=t[0]) if t[0] is not object else np.full(shape, b"", dtype=object)
                       for a, t in TYPES.items()})

    def test_grpc_empty_tensor_content(self):
        # tensor_content of no bytes for tensors of no elements.
        numeric = {a: np.zeros((0, 2), dtype=t[0]) for a, t in TYPES.items() if t[0] is not object}
        self.echo(numeric, content=True)

    def test_grpc_empty_and_absent_strings(self):
        self.echo({"s": np.array([b"", b"", b""], dtype=object)})
        self.echo({"s": np.array([[b""], [b"x"]], dtype=object)})
        # No string_val at all for three elements: three empty strings, as
        # TensorFlow's Tensor::FromProto fills missing values with defaults.
        r = predict("id_s", {"s": np.array([b"a"], dtype=object)})
        del r.inputs["s"].string_val[:]
        r.inputs["s"].tensor_shape.dim[0].size = 3
        resp = self.stub.Predict(r, timeout=10 * tfs.SLOW)
        same(self, to_numpy(resp.outputs["s_out"]), np.array([b"", b"", b""], dtype=object))
        # Numbers with no values given are zeros.
        r = predict("id_f", {"f": np.float32([1, 2])})
        del r.inputs["f"].float_val[:]
        resp = self.stub.Predict(r, timeout=10 * tfs.SLOW)
        same(self, to_numpy(resp.outputs["f_out"]), np.zeros(2, np.float32))

    def test_grpc_half_plus_two_no_rows(self):
        resp = self.stub.Predict(self.hp2_request([], shape=[0, 1]), timeout=10 * tfs.SLOW)
        same(self, to_numpy(resp.outputs["y"]), np.zeros((0, 1), np.float32) / 2 + 2)

    def test_grpc_empty_output_filter_and_inputs(self):
        r = self.hp2_request([4.0])
        del r.output_filter[:]
        resp = self.stub.Predict(r, timeout=10 * tfs.SLOW)
        self.assertEqual(list(resp.outputs["y"].float_val), [4.0])
        # No inputs at all: the signature's input is missing.
        r = predict_pb2.PredictRequest()
        r.model_spec.name = "hp2"
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.Predict(r, timeout=10 * tfs.SLOW)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_grpc_classify_regress_no_examples(self):
        for method, req in (("Classify", classification_pb2.ClassificationRequest()),
                            ("Regress", regression_pb2.RegressionRequest())):
            req.model_spec.name = "hp2"
            req.model_spec.signature_name = "regress_x_to_y" if method == "Regress" else "classify_x_to_y"
            req.input.example_list.SetInParent()
            with self.subTest(method=method):
                with self.assertRaises(grpc.RpcError) as e:
                    getattr(self.stub, method)(req, timeout=10 * tfs.SLOW)
                self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertIn("Input is empty", e.exception.details())
        # MultiInference with no tasks.
        req = inference_pb2.MultiInferenceRequest()
        req.input.example_list.SetInParent()
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.MultiInference(req, timeout=10 * tfs.SLOW)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    # ---- REST ----

    def rest(self, model, body):
        status, _, text = call(self.server.rest_port, "POST", "/v1/models/%s:predict" % model, json.dumps(body))
        return status, json.loads(text)

    def rest(self, model, body):
        status, _, text = call(self.server.rest_port, "POST", "/v1/models/%s:predict" % model, json.dumps(body))
        return status, json.loads(text)

    def test_rest_zero_dims(self):
        empty_rows = (np.zeros((2, 0), np.float32) / 2 + 2).tolist()
        self.assertEqual(self.rest("hp2", {"inputs": {"x": [[], []]}}), (200, {"outputs": empty_rows}))
        self.assertEqual(self.rest("hp2", {"inputs": {"x": []}}), (200, {"outputs": []}))
        self.assertEqual(self.rest("hp2", {"inputs": []}), (200, {"outputs": []}))
        self.assertEqual(self.rest("hp2", {"instances": [[], []]}), (200, {"predictions": empty_rows}))
        # A row format request needs at least one row.
        status, body = self.rest("hp2", {"instances": []})
        self.assertEqual(status, 400)
        self.assertIn("No values in 'instances' array", body["error"])
        for shape in ([[], []], []):
            want = {a + "_out": shape for a in JSON_TYPES}
            self.assertEqual(self.rest("js", {"inputs": {a: shape for a in JSON_TYPES}}), (200, {"outputs": want}))

    def test_rest_empty_strings(self):
        inputs = {a: [] for a in JSON_TYPES}
        inputs["s"] = ["", ""]
        want = {a + "_out": v for a, v in inputs.items()}
        self.assertEqual(self.rest("js", {"inputs": inputs}), (200, {"outputs": want}))
        row = {"s": "", "f": [], "d": [], "i32": [], "i64": [], "u8": [], "b": []}
        self.assertEqual(self.rest("js", {"instances": [row, row]}),
                         (200, {"predictions": [{a + "_out": v for a, v in row.items()}] * 2}))
        row = {"s": {"b64": ""}, "f": 1.5, "d": 2.5, "i32": 3, "i64": 4, "u8": 5, "b": True}
        want = {a + "_out": v for a, v in row.items()}
        want["s_out"] = ""
        self.assertEqual(self.rest("js", {"instances": [row]}), (200, {"predictions": [want]}))


class EmptyBatched(unittest.TestCase):
    """Batching, and outputs written as tensor_content, with no rows."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-empty-batch-")
        cls.server = batching_server(cls.tmp, "max_batch_size { value: 8 }\nbatch_timeout_micros { value: 1000 }\n",
                                     args=["--enable_serialization_as_tensor_content"]).start()
        cls.stub = cls.server.predict_stub()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check(cls.tmp)

    def test_no_rows(self):
        for shape in ([0, 1], [0]):
            r = predict_pb2.PredictRequest()
            r.model_spec.name = "default"
            r.inputs["x"].dtype = types_pb2.DT_FLOAT
            for d in shape:
                r.inputs["x"].tensor_shape.dim.add(size=d)
            with self.subTest(shape=shape):
                resp = self.stub.Predict(r, timeout=10 * tfs.SLOW)
                y = resp.outputs["y"]
                self.assertEqual(y.tensor_content, b"")
                same(self, to_numpy(y), np.zeros(shape, np.float32) / 2 + 2)
        # A real batch still follows.
        r.inputs["x"].tensor_shape.dim[0].size = 2
        r.inputs["x"].float_val.extend([2.0, 4.0])
        resp = self.stub.Predict(r, timeout=10 * tfs.SLOW)
        same(self, to_numpy(resp.outputs["y"]), np.float32([2.0, 4.0]) / 2 + 2)


if __name__ == "__main__":
    unittest.main()
