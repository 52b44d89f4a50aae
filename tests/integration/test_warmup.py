"""Model warmup (--enable_model_warmup, spec 1f): the test writes its own
TFRecord files of PredictionLog records (CRC32C computed here, independently
of the server) into temporary copies of TensorFlow Serving's test models and
checks that records are replayed before a version is AVAILABLE (the counter
model counts them), that every kind of bad file fails the version with
TensorFlow Serving's code and text in GetModelStatus, and that a missing file
is only logged."""
import os
import shutil
import struct
import tempfile
import unittest

import grpc
import numpy as np
from google.protobuf import text_format

import tfs
from test_grpc_predict import expected, request
from tensorflow.core.example import example_pb2
from tensorflow_serving.apis import get_model_status_pb2, model_management_pb2, predict_pb2, prediction_log_pb2

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")
COUNTER = tfs.testdata("saved_model_counter")


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(payloads):
    out = b""
    for p in payloads:
        header = struct.pack("<Q", len(p))
        out += header + struct.pack("<I", masked(header)) + p + struct.pack("<I", masked(p))
    return out


def predict_log(signature, inputs=None):
    log = prediction_log_pb2.PredictionLog()
    r = log.predict_log.request
    r.model_spec.name = "ignored"
    r.model_spec.signature_name = signature
    for alias, x in (inputs or {}).items():
        r.inputs[alias].CopyFrom(request(x=x, shape=[len(x), 1]).inputs["x"])
    return log.SerializeToString()


def example(v):
    e = example_pb2.Example()
    e.features.feature["x"].float_list.value.append(v)
    return e


def model_copy(tmp, source, name, warmup=None):
    """A copy of `source` whose version directory holds `warmup` bytes as its warmup file."""
    base = os.path.join(tmp, name)
    shutil.copytree(source, base)
    if warmup is not None:
        version = os.path.join(base, os.listdir(base)[0])
        os.makedirs(os.path.join(version, "assets.extra"))
        with open(os.path.join(version, "assets.extra", "tf_serving_warmup_requests"), "wb") as f:
            f.write(warmup)
    return base


def config_text(models):
    return "model_config_list {%s}" % "".join(
        ' config { name: "%s" base_path: "%s" model_platform: "tensorflow" }' % m for m in models)


class Warmup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-warmup-")
        # The counter is reset, then incremented once per record and iteration.
        counter = model_copy(cls.tmp, COUNTER, "counter", tfrecord(
            [predict_log("reset_counter")] + [predict_log("incr_counter")] * 3))
        good = prediction_log_pb2.PredictionLog()
        c = good.classify_log.request
        c.model_spec.signature_name = "classify_x_to_y"
        c.input.example_list.examples.add().CopyFrom(example(1.0))
        regress = prediction_log_pb2.PredictionLog()
        r = regress.regress_log.request
        r.model_spec.signature_name = "regress_x_to_y"
        r.input.example_list_with_context.examples.add().CopyFrom(example(3.0))
        r.input.example_list_with_context.context.CopyFrom(example_pb2.Example())
        multi = prediction_log_pb2.PredictionLog()
        t = multi.multi_inference_log.request.tasks.add()
        t.model_spec.name = "half"
        t.model_spec.signature_name = "regress_x_to_y"
        t.method_name = "tensorflow/serving/regress"
        multi.multi_inference_log.request.input.example_list.examples.add().CopyFrom(example(2.0))
        records = [predict_log("serving_default", {"x": [1.0, 2.0]}), good.SerializeToString(),
                   regress.SerializeToString(), multi.SerializeToString()]
        # Exactly the maximum number of records is fine (empty logs replay nothing).
        records += [b""] * (1000 - len(records))
        half = model_copy(cls.tmp, HALF_PLUS_TWO, "half", tfrecord(records))
        cls.config = os.path.join(cls.tmp, "models.txt")
        with open(cls.config, "w") as f:
            f.write(config_text([("counter", counter), ("half", half)]))
        cls.server = tfs.Server(model_config_file=cls.config, args=[
            "--num_request_iterations_for_warmup=2", "--max_num_load_retries=0"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check(cls.tmp)

    def counter(self):
        r = predict_pb2.PredictRequest()
        r.model_spec.name = "counter"
        r.model_spec.signature_name = "get_counter"
        return self.server.predict_stub().Predict(r, timeout=10).outputs["output"].float_val[0]

    def test_records_are_replayed_before_available(self):
        # reset, reset, then 3 records x 2 iterations of incr_counter.
        self.assertEqual(self.counter(), 6.0)
        out = self.server.output()
        self.assertIn("Finished reading warmup data for model at %s" % os.path.join(
            self.tmp, "counter", "00000123", "assets.extra", "tf_serving_warmup_requests"), out)
        self.assertIn("Number of warmup records read: 4.", out)
        self.assertIn("Number of warmup records read: 1000.", out)

    def test_warmed_model_serves(self):
        y = self.server.predict_stub().Predict(request(x=[4.0], shape=[1, 1], name="half"), timeout=10).outputs["y"]
        np.testing.assert_array_equal(y.float_val, expected([4.0]))

    def test_bad_files_fail_the_version(self):
        bad = {
            "streamed": (tfrecord([prediction_log_pb2.PredictionLog(
                predict_streamed_log=prediction_log_pb2.PredictStreamedLog()).SerializeToString()]),
                grpc.StatusCode.UNIMPLEMENTED, "Unsupported log_type for warmup: 7"),
            "session_run": (tfrecord([prediction_log_pb2.PredictionLog(
                session_run_log=prediction_log_pb2.SessionRunLog()).SerializeToString()]),
                grpc.StatusCode.UNIMPLEMENTED, "Unsupported log_type for warmup: 5"),
            "too_many": (tfrecord([b""] * 1001), grpc.StatusCode.INVALID_ARGUMENT,
                         "Number of warmup records exceeds the maximum (1000) at %s"),
            "unparsable": (tfrecord([b"\xff\xff\xff"]), grpc.StatusCode.INVALID_ARGUMENT,
                           "Failed to parse warmup record: \\377\\377\\377 from %s"),
            "failing": (tfrecord([predict_log("serving_default", {"wrong": [1.0]})]), grpc.StatusCode.INVALID_ARGUMENT,
                        "Signature input alias: x(feed name: x:0) not found in request and no default value "
                        "provided. Inputs expected to be in the request {wrong}, or default input alias set: "),
            "corrupted": (tfrecord([predict_log("serving_default", {"x": [1.0]})])[:-1] + b"\0",
                          grpc.StatusCode.DATA_LOSS,
                          "corrupted record at 0. Please verify your warmup data is in TFRecord format."),
            "truncated": (tfrecord([predict_log("serving_default", {"x": [1.0]})])[:-3], grpc.StatusCode.DATA_LOSS,
                          "truncated record at 0. Please verify your warmup data is in TFRecord format."),
        }
        models = [("counter", os.path.join(self.tmp, "counter")), ("half", os.path.join(self.tmp, "half"))]
        for name, (data, _, _) in bad.items():
            models.append((name, model_copy(self.tmp, HALF_PLUS_TWO, name, data)))
        req = model_management_pb2.ReloadConfigRequest()
        text_format.Parse(config_text(models), req.config)
        with self.assertRaises(grpc.RpcError) as cm:
            self.server.model_stub().HandleReloadConfigRequest(req, timeout=60 * tfs.SLOW)
        self.assertIn("%d model(s) did not become available" % len(bad), cm.exception.details())
        for name, (_, code, message) in bad.items():
            st = get_model_status_pb2.GetModelStatusRequest()
            st.model_spec.name = name
            v = self.server.model_stub().GetModelStatus(st, timeout=10).model_version_status[0]
            self.assertEqual(v.state, 50, name)  # END
            self.assertEqual(v.status.error_code, code.value[0], name)
            path = os.path.join(self.tmp, name, "00000123", "assets.extra", "tf_serving_warmup_requests")
            self.assertEqual(v.status.error_message, message % path if "%s" in message else message, name)
        # The good models keep serving.
        self.assertEqual(self.counter(), 6.0)


class NoWarmupFile(unittest.TestCase):
    def test_missing_file_is_logged(self):
        with tfs.Server(model_path=HALF_PLUS_TWO) as s:
            y = s.predict_stub().Predict(request(x=[1.0], shape=[1, 1]), timeout=10).outputs["y"]
            np.testing.assert_array_equal(y.float_val, expected([1.0]))
            self.assertIn("No warmup data file found at %s" % os.path.join(
                HALF_PLUS_TWO, "00000123", "assets.extra", "tf_serving_warmup_requests"), s.output())

    def test_reload_reports_metric_increases(self):
        # HandleReloadConfigRequest reports how much each named metric's first
        # point moved across the reload: here the records the new model's
        # warmup read.
        tmp = tempfile.mkdtemp(prefix="plinth-warmup-")
        try:
            counter = model_copy(tmp, COUNTER, "counter", tfrecord([predict_log("incr_counter")] * 4))
            with tfs.Server(model_path=HALF_PLUS_TWO) as s:
                req = model_management_pb2.ReloadConfigRequest()
                text_format.Parse(config_text([("default", HALF_PLUS_TWO), ("counter", counter)]), req.config)
                records = "/tensorflow/serving/model_warmup_records_read"
                req.metric_names.extend([records, "/no/such/metric", records])
                resp = s.model_stub().HandleReloadConfigRequest(req, timeout=60 * tfs.SLOW)
                self.assertEqual(resp.status.error_code, 0)
                self.assertEqual([(m.name, m.int64_value_increase) for m in resp.metric],
                                 [(records, 4), ("/no/such/metric", 0)])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_disabled(self):
        tmp = tempfile.mkdtemp(prefix="plinth-warmup-")
        try:
            counter = model_copy(tmp, COUNTER, "counter", tfrecord([predict_log("incr_counter")] * 5))
            with tfs.Server(model_name="counter", model_path=counter, args=["--enable_model_warmup=false"]) as s:
                r = predict_pb2.PredictRequest()
                r.model_spec.name = "counter"
                r.model_spec.signature_name = "get_counter"
                self.assertEqual(s.predict_stub().Predict(r, timeout=10).outputs["output"].float_val[0], 0.0)
                self.assertNotIn("warmup data", s.output())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
