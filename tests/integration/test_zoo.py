"""Every model of the shared zoo served by one plinth process (one --model_config_file;
tfrust_regression_tf1 in a second one with --saved_model_tags=serve,train), every signature
answering over gRPC, checked against independent evidence:

* formulas and values from the source repositories' own tests (tfjs-node saved_model_test.ts,
  tensorflow/java SavedModelBundleTest, TensorFlow Serving's half_plus_two), with the
  constants read from the checkpoints by build/bundle_dump;
* numpy forward passes: the Keras LSTM and the penguin classifier from their checkpoints,
  the frozen graphs with tests/integration/zooref.py (float64, TensorFlow's op semantics);
* MTCNN against the oracle's TensorFlow.js reference; the quantized MobileNet against the
  float one; cross-signature consistency for the taxi Estimator.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import grpc
import numpy as np
from tensorflow.core.example import example_pb2
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, get_model_status_pb2,
                                     predict_pb2, regression_pb2)

import zooref
from graphlib import tensor_proto, tool
from tfs import SLOW, Server, shared_dir

ZOO = os.path.join(shared_dir(), "zoo")
F32 = np.float32

_NP = {types_pb2.DT_FLOAT: np.float32, types_pb2.DT_DOUBLE: np.float64, types_pb2.DT_INT32: np.int32,
       types_pb2.DT_INT64: np.int64, types_pb2.DT_UINT8: np.uint8, types_pb2.DT_BOOL: np.bool_,
       types_pb2.DT_INT16: np.int16, types_pb2.DT_INT8: np.int8}
_VALS = {types_pb2.DT_FLOAT: "float_val", types_pb2.DT_DOUBLE: "double_val", types_pb2.DT_INT64: "int64_val",
         types_pb2.DT_BOOL: "bool_val"}


def to_array(t):
    """A TensorProto from a response as numpy (tensor_content or the typed *_val fields)."""
    shape = [d.size for d in t.tensor_shape.dim]
    if t.dtype == types_pb2.DT_STRING:
        return np.array(list(t.string_val), dtype=object).reshape(shape)
    dt = _NP[t.dtype]
    if t.tensor_content:
        return np.frombuffer(t.tensor_content, np.dtype(dt).newbyteorder("<")).astype(dt).reshape(shape)
    vals = np.array(list(getattr(t, _VALS.get(t.dtype, "int_val"))), dt)
    n = int(np.prod(shape)) if shape else 1
    return (vals if vals.size == n else np.resize(vals, n)).reshape(shape)


def checkpoint(model_dir):
    """Float tensors of a checkpoint by key, read with build/bundle_dump."""
    p = subprocess.run([tool("bundle_dump"), os.path.join(model_dir, "variables", "variables")],
                       capture_output=True, text=True, check=True)
    out = {}
    for line in p.stdout.splitlines():
        d = json.loads(line)
        if d.get("dtype") == "DT_FLOAT" and "values" in d:
            out[d["key"].split("/.ATTRIBUTES")[0]] = np.array(d["values"], np.float64).reshape(d["shape"])
    return out


def example(**features):
    e = example_pb2.Example()
    for k, v in features.items():
        if isinstance(v, (bytes, str)):
            e.features.feature[k].bytes_list.value.append(v.encode() if isinstance(v, str) else v)
        elif isinstance(v, int):
            e.features.feature[k].int64_list.value.append(v)
        else:
            e.features.feature[k].float_list.value.append(v)
    return e


def rel_err(got, want):
    """Largest error relative to the output's scale."""
    want = np.asarray(want, np.float64)
    return float(np.max(np.abs(np.asarray(got, np.float64) - want)) / max(np.max(np.abs(want)), 1e-30))


class ZooTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-zoo-")
        cfg = os.path.join(cls.tmp, "models.config")
        cls.models = sorted(d for d in os.listdir(ZOO)
                            if os.path.isdir(os.path.join(ZOO, d)) and d != "tfrust_regression_tf1")
        with open(cfg, "w") as f:
            f.write("model_config_list {\n")
            for d in cls.models:
                f.write("  config { name: '%s' base_path: '%s' model_platform: 'tensorflow' }\n"
                        % (d, os.path.join(ZOO, d)))
            f.write("}\n")
        cls.server = Server(model_config_file=cfg, wait=False)
        cls.tf1 = Server(model_name="tfrust_regression_tf1", model_path=os.path.join(ZOO, "tfrust_regression_tf1"),
                         args=["--saved_model_tags=serve,train"], wait=False)
        cls.server.start()
        cls.tf1.start()
        try:
            cls.server.wait_ready()
            cls.tf1.wait_ready()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in (cls.server, cls.tf1):
            s.stop()

    # ---- clients ----

    def predict(self, model, inputs, signature="", output_filter=(), server=None):
        req = predict_pb2.PredictRequest()
        req.model_spec.name = model
        if signature:
            req.model_spec.signature_name = signature
        for k, v in inputs.items():
            req.inputs[k].CopyFrom(v if isinstance(v, tensor_pb2.TensorProto) else tensor_proto(v))
        req.output_filter.extend(output_filter)
        resp = (server or self.server).predict_stub().Predict(req, timeout=60 * SLOW)
        self.assertEqual(resp.model_spec.name, model)
        return {k: to_array(v) for k, v in resp.outputs.items()}

    def classify(self, model, examples, signature=""):
        req = classification_pb2.ClassificationRequest()
        req.model_spec.name = model
        if signature:
            req.model_spec.signature_name = signature
        req.input.example_list.examples.extend(examples)
        return self.server.predict_stub().Classify(req, timeout=60 * SLOW).result

    def regress(self, model, examples, signature="", server=None):
        req = regression_pb2.RegressionRequest()
        req.model_spec.name = model
        if signature:
            req.model_spec.signature_name = signature
        req.input.example_list.examples.extend(examples)
        return (server or self.server).predict_stub().Regress(req, timeout=60 * SLOW).result

    def metadata(self, model, server=None):
        req = get_model_metadata_pb2.GetModelMetadataRequest()
        req.model_spec.name = model
        req.metadata_field.append("signature_def")
        resp = (server or self.server).predict_stub().GetModelMetadata(req, timeout=10 * SLOW)
        sig = get_model_metadata_pb2.SignatureDefMap()
        resp.metadata["signature_def"].Unpack(sig)
        return sig.signature_def

    def zoo(self, model):
        d = os.path.join(ZOO, model)
        (version,) = [v for v in os.listdir(d) if v.isdigit()]
        return os.path.join(d, version)

    # ---- every model ----

    def test_every_model_is_available(self):
        for model in self.models + ["tfrust_regression_tf1"]:
            server = self.tf1 if model == "tfrust_regression_tf1" else self.server
            req = get_model_status_pb2.GetModelStatusRequest()
            req.model_spec.name = model
            resp = server.model_stub().GetModelStatus(req, timeout=10 * SLOW)
            with self.subTest(model=model):
                self.assertEqual([v.state for v in resp.model_version_status],
                                 [get_model_status_pb2.ModelVersionStatus.AVAILABLE])
                self.assertEqual(resp.model_version_status[0].version, int(os.path.basename(self.zoo(model))))

    def test_frozen_graphs_get_a_derived_serving_default(self):
        # inputs: the Placeholders; outputs: nodes nothing consumes; shapes as TensorFlow's shape
        # inference gives them (producer 0: an empty Placeholder shape is an unknown rank)
        unknown = None
        want = {
            "mobilenet_v1_025_128": ({"input": (1, [1, 128, 128, 3])},
                                     {"MobilenetV1/Predictions/Reshape_1": (1, [1, 1001])}),
            "mobilenet_v1_025_128_quant": ({"input": (1, [1, 128, 128, 3])},
                                           {"MobilenetV1/Predictions/Reshape_1": (1, [1, 1001])}),
            "char_rnn_lstm": ({"input_data": (3, [10, 10])}, {"probs": (1, [100, 57])}),
            "tf2onnx_lstm_mnist": ({"X": (1, [-1, 784]), "keep_prob": (1, unknown)}, {"output": (1, [-1, 10])}),
            "opencv_face_ssd_uint8": ({"data": (1, unknown)},
                                      {"mbox_loc": (1, [1, -1]), "mbox_conf_flatten": (1, [-1, 17784])}),
            "mtcnn": ({"input": (1, [-1, -1, 3]), "min_size": (1, unknown), "thresholds": (1, [3]),
                       "factor": (1, unknown)},
                      {"prob": (1, [-1]), "landmarks": (1, [-1, 10]), "box": (1, unknown)}),
        }

        def infos(m):
            return {k: (v.dtype, None if v.tensor_shape.unknown_rank else [d.size for d in v.tensor_shape.dim])
                    for k, v in m.items()}

        for model, (ins, outs) in want.items():
            with self.subTest(model=model):
                sig = self.metadata(model)["serving_default"]
                self.assertEqual(sig.method_name, "tensorflow/serving/predict")
                self.assertEqual(infos(sig.inputs), {k: (t, s) for k, (t, s) in ins.items()})
                self.assertEqual(infos(sig.outputs), {k: (t, s) for k, (t, s) in outs.items()})
                for k, v in sig.inputs.items():
                    self.assertEqual(v.name, k + ":0")

    # ---- formula models (tfjs-node saved_model_test.ts) ----

    def test_tfjs_models(self):
        x3 = np.array([1.0, 2, 3], F32)
        i3 = np.array([1, 2, 3], np.int32)
        out = self.predict("tfjs_times_three_float", {"x": x3})
        np.testing.assert_array_equal(out["output_0"], [3.0, 6.0, 9.0])
        self.assertEqual(out["output_0"].dtype, np.float32)
        out = self.predict("tfjs_times_two_int", {"x": i3})
        np.testing.assert_array_equal(out["output_0"], [2, 4, 6])
        self.assertEqual(out["output_0"].dtype, np.int32)
        np.testing.assert_array_equal(self.predict("tfjs_uint8_multiply", {"x": np.array([3], np.uint8)})["output_0"],
                                      np.array([18], np.int32))
        out = self.predict("tfjs_int64_multiply", {"x": np.array([3, 4], np.int64)})["output_0"]
        self.assertEqual(out.dtype, np.int64)
        np.testing.assert_array_equal(out, [18, 24])
        np.testing.assert_array_equal(
            self.predict("tfjs_module_with_multiple_signatures", {"x": x3})["output_0"], [3.0, 6.0, 9.0])
        np.testing.assert_array_equal(
            self.predict("tfjs_module_with_multiple_signatures", {"x": x3}, "timestwo")["output_0"], [2.0, 4.0, 6.0])
        out = self.predict("tfjs_model_multi_output", {"x": i3, "y": i3})
        np.testing.assert_array_equal(out["output_0"], [2, 4, 6])
        np.testing.assert_array_equal(out["output_1"], [1, 2, 3])
        out = self.predict("tfjs_model_single_input_multi_output", {"x": i3})
        np.testing.assert_array_equal(out["output_0"], [2, 4, 6])
        np.testing.assert_array_equal(out["output_1"], [1, 2, 3])

    # ---- tensorflow/java SavedModelBundleTest and its model's source ----

    def test_tfjava_saved_model(self):
        m = "tfjava_saved_model_using_python"
        np.testing.assert_array_equal(self.predict(m, {"a": F32(10.0), "b": F32(15.5)}, "add")["output_0"], 25.5)
        np.testing.assert_array_equal(
            self.predict(m, {"a": np.array([1, 2], F32), "b": F32(0.5)}, "add")["output_0"], [1.5, 2.5])
        self.assertEqual(float(self.predict(m, {"dummy": F32(1.0)}, "get_variable")["output_0"]), 2.0)
        # const + x: zeros of the constant's shape, broadcast against any x
        np.testing.assert_array_equal(self.predict(m, {"input": F32(4.0)}, "get_const_scalar")["output_0"], 4.0)
        np.testing.assert_array_equal(self.predict(m, {"input": F32(4.0)}, "get_const_vector")["output_0"],
                                      [4.0, 4.0, 4.0])
        x = np.array([1.0, -2.0, 3.0], F32)
        np.testing.assert_array_equal(self.predict(m, {"input": x}, "get_const_matrix")["output_0"], [x, x])

    # ---- tensorflow/rust regression models: y_hat = w*x + b with the checkpoint's w, b ----

    def test_tfrust_regression_tf1(self):
        v = checkpoint(self.zoo("tfrust_regression_tf1"))
        w, b = v["w"][0], v["b"][0]
        x = np.array([-1.0, 0.0, 2.5, 10.0], F32)
        out = self.predict("tfrust_regression_tf1", {"x": x, "y": np.zeros(4, F32)}, "tensorflow/serving/regress",
                           server=self.tf1)["out"]
        np.testing.assert_allclose(out, (F32(w) * x + F32(b)).astype(F32), rtol=1e-7)
        # Its method is regress but it takes two float inputs: the Regress API turns it down as TFS does.
        with self.assertRaises(grpc.RpcError) as e:
            self.regress("tfrust_regression_tf1", [example(x=1.0, y=2.0)], "tensorflow/serving/regress",
                         server=self.tf1)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("Expected one input Tensor.", e.exception.details())

    def test_tfrust_regression_tf2_train_updates_variables(self):
        m = "tfrust_regression_tf2"
        v = checkpoint(self.zoo(m))
        lr = v["optimizer/learning_rate"]
        w = self.predict(m, {}, "w")["output"]
        b = self.predict(m, {}, "b")["output"]
        np.testing.assert_array_equal(w, v["w"].astype(F32))
        np.testing.assert_array_equal(b, v["b"].astype(F32))
        x, y = np.array([1.0, 2.0, 3.0], F32), np.array([2.0, 4.5, 5.5], F32)
        loss = self.predict(m, {"x": x, "y": y}, "train")["loss"]
        err = w[0] * x.astype(np.float64) + b[0] - y
        self.assertAlmostEqual(float(loss), float(np.mean(err ** 2)), delta=1e-5 * float(np.mean(err ** 2)))
        # SGD(learning_rate) on the mean squared error
        w2 = self.predict(m, {}, "w")["output"]
        b2 = self.predict(m, {}, "b")["output"]
        np.testing.assert_allclose(w2, w - lr * np.mean(2 * err * x), rtol=1e-5)
        np.testing.assert_allclose(b2, b - lr * np.mean(2 * err), rtol=1e-5, atol=1e-6)

    # ---- TensorFlow Serving's half_plus_two: y = a*x + b, y2 = a*x + c, y3 = a2*x2 + c2 ----

    def test_half_plus_two(self):
        m = "tfs_half_plus_two_tf1"
        v = checkpoint(self.zoo(m))
        a, b, c, a2, c2 = (float(v[k]) for k in ("a", "b", "c", "a2", "c2"))
        x = np.array([[1.0], [2.0], [5.0]], F32)
        np.testing.assert_array_equal(self.predict(m, {"x": x})["y"], a * x + b)
        np.testing.assert_array_equal(self.predict(m, {"inputs": x}, "regress_x2_to_y3")["outputs"], a2 * x + c2)
        examples = [example(x=float(t)) for t in x[:, 0]]
        res = self.classify(m, examples, "classify_x_to_y")
        self.assertEqual([[s.score for s in c.classes] for c in res.classifications], (a * x + b).tolist())
        res = self.regress(m, examples, "regress_x_to_y")
        self.assertEqual([r.value for r in res.regressions], (a * x[:, 0] + b).tolist())
        res = self.regress(m, examples, "regress_x_to_y2")
        self.assertEqual([r.value for r in res.regressions], (a * x[:, 0] + c).tolist())
        # Predict serves the classify and regress signatures too, on serialized examples.
        serialized = np.array([e.SerializeToString() for e in examples], object)
        for sig, alias, want in (("classify_x_to_y", "scores", a * x + b), ("regress_x_to_y", "outputs", a * x + b),
                                 ("regress_x_to_y2", "outputs", a * x + c)):
            np.testing.assert_array_equal(self.predict(m, {"inputs": serialized}, sig)[alias], want)

    # ---- Keras models: numpy forward passes from the checkpoints ----

    def test_lstm_timeseries(self):
        v = checkpoint(self.zoo("lstm_timeseries"))
        rng = np.random.default_rng(1)
        x = (rng.random((3, 5, 1)) * 4).astype(F32)
        got = self.predict("lstm_timeseries", {"input_6": x})["dense_17"]
        W, U, b = v["trainable_variables/0"], v["trainable_variables/1"], v["trainable_variables/2"]

        def sigmoid(z):
            return 1 / (1 + np.exp(-z))

        h = np.zeros((3, 64))
        c = np.zeros((3, 64))
        for t in range(5):  # Keras LSTM: gates i, f, c, o; tanh and sigmoid
            i, f, g, o = np.split(x[:, t].astype(np.float64) @ W + h @ U + b, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        y = np.maximum(h @ v["layer_with_weights-1/kernel"] + v["layer_with_weights-1/bias"], 0)
        y = np.maximum(y @ v["layer_with_weights-2/kernel"] + v["layer_with_weights-2/bias"], 0)
        y = y @ v["layer_with_weights-3/kernel"] + v["layer_with_weights-3/bias"]
        self.assertEqual(got.shape, (3, 1))
        self.assertLess(rel_err(got, y), 1e-5)

    def test_tfx_penguin_keras(self):
        v = checkpoint(self.zoo("tfx_penguin_keras"))
        rows = [(39.1, 18.7, 181.0, 3750.0), (46.5, 17.9, 192.0, 3500.0), (50.0, 15.2, 218.0, 5700.0),
                (0.5, -1.0, 0.25, 0.1)]
        names = ("culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g")
        serialized = np.array([example(**dict(zip(names, r))).SerializeToString() for r in rows], object)
        got = self.predict("tfx_penguin_keras", {"examples": serialized})["output_0"]
        x = np.array(rows, F32).astype(np.float64)
        for k in range(2):
            x = np.maximum(x @ v["layer_with_weights-%d/kernel" % k] + v["layer_with_weights-%d/bias" % k], 0)
        z = x @ v["layer_with_weights-2/kernel"] + v["layer_with_weights-2/bias"]
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        self.assertEqual(got.shape, (4, 3))
        self.assertLess(rel_err(got, p), 1e-5)

    # ---- the taxi Estimator: its signatures must agree with each other ----

    def test_tfx_taxi_estimator(self):
        m = "tfx_taxi_estimator"
        trips = [dict(trip_start_hour=8, trip_start_day=3, trip_start_month=5, pickup_latitude=41.88,
                      pickup_longitude=-87.63, dropoff_latitude=41.9, dropoff_longitude=-87.65, trip_miles=2.5,
                      fare=9.25, trip_seconds=600, payment_type="Credit Card", company="Flash Cab",
                      pickup_census_tract=17031081700, dropoff_census_tract=17031081600,
                      pickup_community_area=8, dropoff_community_area=8, tips=0.0),
                 dict(trip_start_hour=23, trip_start_day=7, trip_start_month=12, pickup_latitude=41.97,
                      pickup_longitude=-87.9, dropoff_latitude=41.89, dropoff_longitude=-87.62, trip_miles=17.0,
                      fare=44.0, trip_seconds=2100, payment_type="Cash", company="Taxi Affiliation Services",
                      pickup_census_tract=17031980000, dropoff_census_tract=17031320100,
                      pickup_community_area=76, dropoff_community_area=32, tips=0.0),
                 dict(trip_start_hour=0, trip_start_day=1, trip_start_month=1, trip_miles=0.0, fare=3.25,
                      trip_seconds=0, payment_type="Unknown", company="never seen in training")]
        examples = [example(**t) for t in trips]
        serialized = np.array([e.SerializeToString() for e in examples], object)
        out = self.predict(m, {"examples": serialized}, "predict")
        logits = out["logits"].astype(np.float64)
        self.assertEqual(out["logits"].shape, (3, 1))
        np.testing.assert_allclose(out["logistic"], 1 / (1 + np.exp(-logits)), rtol=1e-6)
        np.testing.assert_allclose(out["probabilities"][:, 1:], out["logistic"], rtol=1e-6)
        np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, rtol=1e-6)
        np.testing.assert_array_equal(out["class_ids"][:, 0], (logits[:, 0] > 0).astype(np.int64))
        np.testing.assert_array_equal(out["classes"][:, 0], [str(int(i)).encode() for i in out["class_ids"][:, 0]])
        np.testing.assert_array_equal(out["all_class_ids"], [[0, 1]] * 3)
        np.testing.assert_array_equal(out["all_classes"], [[b"0", b"1"]] * 3)
        for sig in ("", "classification"):
            res = self.classify(m, examples, sig)
            for c, p in zip(res.classifications, out["probabilities"]):
                self.assertEqual([x.label for x in c.classes], ["0", "1"])
                np.testing.assert_allclose([x.score for x in c.classes], p, rtol=1e-6)
        res = self.regress(m, examples, "regression")
        np.testing.assert_allclose([r.value for r in res.regressions], out["logistic"][:, 0], rtol=1e-6)
        # Predict on the classify and regress signatures gives the same numbers.
        for sig in ("serving_default", "classification"):
            got = self.predict(m, {"inputs": serialized}, sig)
            np.testing.assert_allclose(got["scores"], out["probabilities"], rtol=1e-6)
            np.testing.assert_array_equal(got["classes"], [[b"0", b"1"]] * 3)
        np.testing.assert_allclose(self.predict(m, {"inputs": serialized}, "regression")["outputs"], out["logistic"],
                                   rtol=1e-6)
        # The same example alone gives the same answer as in a batch.
        alone = self.predict(m, {"examples": serialized[1:2]}, "predict")["logits"]
        np.testing.assert_allclose(alone, out["logits"][1:2], rtol=1e-6)

    # ---- frozen graphs against the numpy interpreter ----

    def frozen(self, model, feeds, fetches):
        (pb,) = [f for f in os.listdir(self.zoo(model)) if f.endswith(".pb")]
        ref = zooref.run_graph(zooref.load_graph(os.path.join(self.zoo(model), pb)), feeds, fetches)
        got = self.predict(model, feeds, output_filter=fetches)
        for name, want in zip(fetches, ref):
            with self.subTest(model=model, output=name):
                self.assertEqual(got[name].shape, want.shape)
                self.assertLess(rel_err(got[name], want), 2e-5)
        return got

    def test_mobilenets(self):
        img = np.load(os.path.join(shared_dir(), "oracle", "raw", "test_image.npy"))[:, :, ::-1]  # RGB
        h, w, _ = img.shape
        out = "MobilenetV1/Predictions/Reshape_1"
        crops = [(0, 0, h, w), (0, 0, h, h), (0, w - h, h, w), (0, 0, h // 2, w // 2), (h // 2, w // 2, h, w),
                 (h // 2, 0, h, w // 2), (0, w // 4, h, 3 * w // 4)]
        confident = 0
        for i, (y0, x0, y1, x1) in enumerate(crops):
            x = (zooref.resize_bilinear(img[y0:y1, x0:x1], 128, 128) / 127.5 - 1).astype(F32)[None]
            f = self.frozen("mobilenet_v1_025_128", {"input": x}, [out])[out][0]
            q = self.frozen("mobilenet_v1_025_128_quant", {"input": x}, [out])[out][0]
            self.assertAlmostEqual(float(f.sum()), 1.0, places=5)
            # quantize_weights moves each weight by at most half a step: where the float model is
            # sure of its class, the quantized one names the same class
            second, first = np.sort(f)[-2:]
            if first > 1.3 * second:
                confident += 1
                self.assertEqual(int(np.argmax(q)), int(np.argmax(f)), "crop %d" % i)
        self.assertGreaterEqual(confident, 5)

    def test_opencv_face_ssd(self):
        img = np.load(os.path.join(shared_dir(), "oracle", "raw", "test_image.npy"))  # BGR, as OpenCV feeds it
        x = (zooref.resize_bilinear(img, 300, 300) - np.array([104.0, 117.0, 123.0])).astype(F32)[None]
        got = self.frozen("opencv_face_ssd_uint8", {"data": x}, ["mbox_loc", "mbox_conf_flatten"])
        conf = got["mbox_conf_flatten"].reshape(-1, 2)
        np.testing.assert_allclose(conf.sum(axis=1), 1.0, rtol=1e-5)  # softmax over (background, face)
        self.assertGreater(int((conf[:, 1] > 0.5).sum()), 0)  # the picture has faces

    def test_char_rnn(self):
        x = np.random.default_rng(2).integers(0, 57, (10, 10)).astype(np.int32)
        got = self.frozen("char_rnn_lstm", {"input_data": x}, ["probs"])["probs"]
        np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)

    def test_tf2onnx_lstm(self):
        x = np.random.default_rng(3).random((3, 784)).astype(F32)
        self.frozen("tf2onnx_lstm_mnist", {"X": x, "keep_prob": F32(1.0)}, ["output"])

    def test_mtcnn_against_oracle(self):
        oracle = os.path.join(shared_dir(), "oracle")
        with open(os.path.join(oracle, "ref", "test_image.A.json")) as f:
            ref = json.load(f)
        x = np.load(os.path.join(oracle, ref["input_raw"]))
        p = ref["params"]
        got = self.predict("mtcnn", {"input": x, "min_size": F32(p["min_size"]), "factor": F32(p["factor"]),
                                     "thresholds": np.array(p["thresholds"], F32)})
        path = os.path.join(self.tmp, "mtcnn.json")
        with open(path, "w") as f:
            json.dump({k: got[k].tolist() for k in ("box", "prob", "landmarks")}, f)
        sys.path.insert(0, oracle)
        try:
            import compare
        finally:
            sys.path.remove(oracle)
        self.assertEqual(compare.main([os.path.join(oracle, "ref", "test_image.A.json"), path]), 0)


if __name__ == "__main__":
    unittest.main()
