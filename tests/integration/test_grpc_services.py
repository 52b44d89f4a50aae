"""The other gRPC methods against TensorFlow Serving (spec 1b, 1h):
GetModelMetadata against TensorFlow Serving's golden metadata file,
GetModelStatus, Classify / Regress / MultiInference with tf.Example inputs,
grpc.health.v1, the UNIX socket, channel arguments, large messages and
unknown methods."""
import importlib.util
import json
import os
import unittest

import grpc
import numpy as np

import tfs
from tensorflow.core.example import example_pb2
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, get_model_status_pb2,
                                     inference_pb2, predict_pb2, regression_pb2)

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")


def health_pb2():
    """grpc.health.v1 messages from the generated protos (the grpc package shadows them)."""
    path = os.path.join(os.environ.get("PLINTH_BUILD", ""), "python", "grpc", "health", "v1", "health_pb2.py")
    spec = importlib.util.spec_from_file_location("plinth_health_pb2", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def example(**features):
    e = example_pb2.Example()
    for k, v in features.items():
        e.features.feature[k].float_list.value.extend(v if isinstance(v, (list, tuple)) else [v])
    return e


def predict(stub, x=2.0, name="default", timeout=10):
    r = predict_pb2.PredictRequest()
    r.model_spec.name = name
    r.inputs["x"].dtype = types_pb2.DT_FLOAT
    r.inputs["x"].tensor_shape.dim.add(size=1)
    r.inputs["x"].float_val.append(x)
    return stub.Predict(r, timeout=timeout).outputs["y"].float_val[0]


class Services(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tfs.Server(model_path=HALF_PLUS_TWO, grpc_socket=True,
                                args=["--enable_grpc_healthcheck_service"]).start()
        cls.stub = cls.server.predict_stub()
        cls.models = cls.server.model_stub()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check()

    def error(self, fn, req):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(req, timeout=10)
        return cm.exception.code(), cm.exception.details()

    # -- GetModelMetadata --

    def test_get_model_metadata(self):
        r = get_model_metadata_pb2.GetModelMetadataRequest()
        r.model_spec.name = "default"
        r.metadata_field.append("signature_def")
        resp = self.stub.GetModelMetadata(r, timeout=10)
        self.assertEqual(resp.model_spec.name, "default")
        self.assertEqual(resp.model_spec.version.value, 123)
        self.assertEqual(list(resp.metadata.keys()), ["signature_def"])
        any_ = resp.metadata["signature_def"]
        self.assertEqual(any_.type_url, "type.googleapis.com/tensorflow.serving.SignatureDefMap")
        sigs = get_model_metadata_pb2.SignatureDefMap()
        any_.Unpack(sigs)
        with open(tfs.testdata("half_plus_two_model_metadata.json")) as f:
            golden = json.load(f)["metadata"]["signature_def"]["signature_def"]
        self.assertEqual(sorted(sigs.signature_def.keys()), sorted(golden.keys()))
        for key, want in golden.items():
            got = sigs.signature_def[key]
            self.assertEqual(got.method_name, want["method_name"], key)
            for side in ("inputs", "outputs"):
                self.assertEqual(sorted(getattr(got, side).keys()), sorted(want[side].keys()), key)
                for alias, info in want[side].items():
                    g = getattr(got, side)[alias]
                    self.assertEqual(g.name, info["name"])
                    self.assertEqual(types_pb2.DataType.Name(g.dtype), info["dtype"])
                    self.assertEqual(g.tensor_shape.unknown_rank, info["tensor_shape"]["unknown_rank"])
                    self.assertEqual([d.size for d in g.tensor_shape.dim],
                                     [int(d["size"]) for d in info["tensor_shape"].get("dim", [])])

    def test_get_model_metadata_errors(self):
        r = get_model_metadata_pb2.GetModelMetadataRequest()
        r.model_spec.name = "default"
        self.assertEqual(self.error(self.stub.GetModelMetadata, r),
                         (grpc.StatusCode.INVALID_ARGUMENT,
                          "GetModelMetadataRequest must specify at least one metadata_field"))
        r.metadata_field.append("graph")
        self.assertEqual(self.error(self.stub.GetModelMetadata, r),
                         (grpc.StatusCode.INVALID_ARGUMENT, "Metadata field graph is not supported"))
        r = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self.assertEqual(self.error(self.stub.GetModelMetadata, r),
                         (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"))
        r.model_spec.name = "nope"
        self.assertEqual(self.error(self.stub.GetModelMetadata, r),
                         (grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(nope)"))

    # -- GetModelStatus --

    def test_get_model_status(self):
        r = get_model_status_pb2.GetModelStatusRequest()
        r.model_spec.name = "default"
        resp = self.models.GetModelStatus(r, timeout=10)
        self.assertEqual(len(resp.model_version_status), 1)
        st = resp.model_version_status[0]
        self.assertEqual(st.version, 123)
        self.assertEqual(st.state, get_model_status_pb2.ModelVersionStatus.AVAILABLE)
        self.assertEqual(st.status.error_code, 0)
        self.assertEqual(st.status.error_message, "")
        r.model_spec.version.value = 123
        self.assertEqual(len(self.models.GetModelStatus(r, timeout=10).model_version_status), 1)
        r.model_spec.version.value = 5
        self.assertEqual(self.error(self.models.GetModelStatus, r),
                         (grpc.StatusCode.NOT_FOUND, "Could not find version 5 of model default"))
        r = get_model_status_pb2.GetModelStatusRequest()
        r.model_spec.name = "nope"
        self.assertEqual(self.error(self.models.GetModelStatus, r),
                         (grpc.StatusCode.NOT_FOUND, "Could not find any versions of model nope"))
        # A label is ignored: all versions come back.
        r = get_model_status_pb2.GetModelStatusRequest()
        r.model_spec.name = "default"
        r.model_spec.version_label = "whatever"
        self.assertEqual(len(self.models.GetModelStatus(r, timeout=10).model_version_status), 1)
        self.assertEqual(self.error(self.models.GetModelStatus, get_model_status_pb2.GetModelStatusRequest()),
                         (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"))

    # -- Classify, Regress, MultiInference --

    def test_classify(self):
        r = classification_pb2.ClassificationRequest()
        r.model_spec.name = "default"
        r.model_spec.signature_name = "classify_x_to_y"
        r.input.example_list.examples.append(example(x=2.0))
        resp = self.stub.Classify(r, timeout=10)
        self.assertEqual(len(resp.result.classifications), 1)
        self.assertEqual(len(resp.result.classifications[0].classes), 1)
        self.assertEqual(resp.result.classifications[0].classes[0].score, 3.0)
        self.assertEqual(resp.model_spec.name, "default")
        self.assertEqual(resp.model_spec.signature_name, "classify_x_to_y")
        self.assertEqual(resp.model_spec.version.value, 123)

    def test_regress(self):
        r = regression_pb2.RegressionRequest()
        r.model_spec.name = "default"
        r.model_spec.signature_name = "regress_x_to_y"
        xs = [2.0, -4.0, 10.5]
        for x in xs:
            r.input.example_list.examples.append(example(x=x))
        resp = self.stub.Regress(r, timeout=10)
        got = np.array([g.value for g in resp.result.regressions], dtype=np.float32)
        np.testing.assert_array_equal(got, np.array(xs, dtype=np.float32) / 2 + 2)
        self.assertEqual(resp.model_spec.signature_name, "regress_x_to_y")

    def test_examples_with_context(self):
        # The context's features join every example's.
        r = regression_pb2.RegressionRequest()
        r.model_spec.name = "default"
        r.model_spec.signature_name = "regress_x_to_y"
        r.input.example_list_with_context.context.CopyFrom(example(x=6.0))
        r.input.example_list_with_context.examples.add()
        r.input.example_list_with_context.examples.add()
        resp = self.stub.Regress(r, timeout=10)
        self.assertEqual([g.value for g in resp.result.regressions], [5.0, 5.0])

    def test_multi_inference(self):
        r = inference_pb2.MultiInferenceRequest()
        t = r.tasks.add()
        t.model_spec.name = "default"
        t.model_spec.signature_name = "regress_x_to_y"
        t.method_name = "tensorflow/serving/regress"
        t = r.tasks.add()
        t.model_spec.name = "default"
        t.model_spec.signature_name = "classify_x_to_y"
        t.method_name = "tensorflow/serving/classify"
        r.input.example_list.examples.append(example(x=2.0))
        resp = self.stub.MultiInference(r, timeout=10)
        self.assertEqual(len(resp.results), 2)
        self.assertEqual(resp.results[0].regression_result.regressions[0].value, 3.0)
        self.assertEqual(resp.results[0].model_spec.signature_name, "regress_x_to_y")
        self.assertEqual(resp.results[1].classification_result.classifications[0].classes[0].score, 3.0)
        self.assertEqual(resp.results[1].model_spec.signature_name, "classify_x_to_y")
        self.assertEqual(resp.results[1].model_spec.version.value, 123)

    def test_inference_errors(self):
        r = classification_pb2.ClassificationRequest()
        r.model_spec.name = "default"
        r.model_spec.signature_name = "nope"
        r.input.example_list.examples.append(example(x=2.0))
        self.assertEqual(self.error(self.stub.Classify, r),
                         (grpc.StatusCode.INVALID_ARGUMENT, "No signature was found with the name: nope"))
        r.model_spec.signature_name = "serving_default"
        code, details = self.error(self.stub.Classify, r)
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(details.startswith("No classification inputs found in SignatureDef: "), details)
        r.model_spec.signature_name = "classify_x_to_y"
        r.input.Clear()
        self.assertEqual(self.error(self.stub.Classify, r), (grpc.StatusCode.INVALID_ARGUMENT, "Input is empty."))
        r.ClearField("model_spec")
        self.assertEqual(self.error(self.stub.Classify, r), (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"))

        m = inference_pb2.MultiInferenceRequest()
        m.input.example_list.examples.append(example(x=2.0))
        self.assertEqual(self.error(self.stub.MultiInference, m),
                         (grpc.StatusCode.INVALID_ARGUMENT, "ModelSpec has no name specified."))
        for name, sig, method in (("default", "regress_x_to_y", "tensorflow/serving/regress"),
                                  ("other", "classify_x_to_y", "tensorflow/serving/classify")):
            t = m.tasks.add()
            t.model_spec.name, t.model_spec.signature_name, t.method_name = name, sig, method
        self.assertEqual(self.error(self.stub.MultiInference, m),
                         (grpc.StatusCode.INVALID_ARGUMENT,
                          "All ModelSpecs in a MultiInferenceRequest must access the same model name."))
        m.tasks[1].model_spec.name = "default"
        m.tasks[1].model_spec.signature_name = "regress_x_to_y"
        self.assertEqual(self.error(self.stub.MultiInference, m),
                         (grpc.StatusCode.INVALID_ARGUMENT, "Duplicate evaluation of signature: regress_x_to_y"))
        del m.tasks[1]
        m.tasks[0].method_name = "tensorflow/serving/predict"
        self.assertEqual(self.error(self.stub.MultiInference, m),
                         (grpc.StatusCode.UNIMPLEMENTED, "Unsupported signature method_name: tensorflow/serving/predict"))

    # -- transport --

    def test_health(self):
        h = health_pb2()
        check = self.server.channel().unary_unary("/grpc.health.v1.Health/Check",
                                                  request_serializer=h.HealthCheckRequest.SerializeToString,
                                                  response_deserializer=h.HealthCheckResponse.FromString)
        for service in ("", "ModelService", "PredictionService"):
            self.assertEqual(check(h.HealthCheckRequest(service=service), timeout=10).status,
                             h.HealthCheckResponse.SERVING)
        with self.assertRaises(grpc.RpcError) as cm:
            check(h.HealthCheckRequest(service="nope"), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_unix_socket(self):
        with grpc.insecure_channel("unix:" + self.server.socket_path) as ch:
            self.assertEqual(predict(self.server.predict_stub(ch)), 3.0)

    def test_unknown_method(self):
        call = self.server.channel().unary_unary("/tensorflow.ProfilerService/Profile")
        with self.assertRaises(grpc.RpcError) as cm:
            call(b"", timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_large_messages(self):
        # 24 MiB each way: above gRPC's 4 MiB default, below INT32_MAX.
        n = 6 << 20
        x = np.arange(n, dtype=np.float32)
        r = predict_pb2.PredictRequest()
        r.model_spec.name = "default"
        r.inputs["x"].dtype = types_pb2.DT_FLOAT
        r.inputs["x"].tensor_shape.dim.add(size=n)
        r.inputs["x"].tensor_content = x.tobytes()
        opts = [("grpc.max_send_message_length", 1 << 30), ("grpc.max_receive_message_length", 1 << 30)]
        with grpc.insecure_channel(self.server.address(), options=opts) as ch:
            resp = self.server.predict_stub(ch).Predict(r, timeout=60)
        y = np.array(resp.outputs["y"].float_val, dtype=np.float32)
        np.testing.assert_array_equal(y, x / np.float32(2) + np.float32(2))


class Startup(unittest.TestCase):
    def test_good_grpc_channel_args(self):
        with tfs.Server(model_path=HALF_PLUS_TWO,
                        channel_args="grpc.max_connection_age_ms=2000,grpc.lb_policy_name=grpclb") as s:
            self.assertEqual(predict(s.predict_stub()), 3.0)

    def test_health_is_off_by_default(self):
        with tfs.Server(model_path=HALF_PLUS_TWO) as s:
            call = s.channel().unary_unary("/grpc.health.v1.Health/Check")
            with self.assertRaises(grpc.RpcError) as cm:
                call(b"", timeout=10)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_model_that_fails_to_load(self):
        s = tfs.Server(model_path=tfs.testdata("bad_half_plus_two"), args=["--max_num_load_retries=0"])
        code = s.run_to_exit()
        self.assertNotEqual(code, 0)
        out = s.output()
        self.assertIn("Failed to start server. Error: UNKNOWN: 1 model(s) did not become available: "
                      "{{{name: default version: 123} due to error: ", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
