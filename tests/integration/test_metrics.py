"""Prometheus metrics (spec 1g) over REST and gRPC: --monitoring_config_file,
the page on its path (and only there), TF Serving's mangled names, labels and
33+1 histogram buckets, request_count for every call, request_latency and
runtime_latency for successful ones, from both entry points, and the example
counts of MultiInference, with counts checked exactly."""
import os
import re
import shutil
import tempfile
import time
import unittest

import grpc

import tfs
from resthttp import call

from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import classification_pb2, inference_pb2, predict_pb2

HALF = tfs.testdata("saved_model_half_plus_two_cpu")
MONITORING = tfs.testdata("monitoring_config.txt")
PREFIX = ":tensorflow:serving:"
# One sample line: name{labels} value (labels may be empty for histograms' _sum/_count).
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\} (\S+)$')


def parse(page):
    """{(name, frozenset(labels)): value} and the # TYPE lines, checking every line's syntax."""
    samples, types = {}, {}
    assert page.endswith("\n")
    for line in page[:-1].split("\n"):
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, "bad line: %r" % line
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2)))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, types


def lbl(**kw):
    return frozenset(kw.items())


def grpc_predict(server, model, x):
    req = predict_pb2.PredictRequest()
    req.model_spec.name = model
    t = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[x])
    t.tensor_shape.dim.add().size = 1
    req.inputs["x"].CopyFrom(t)
    return server.predict_stub().Predict(req, timeout=30 * tfs.SLOW)


def multi_inference(server, xs, regress_signature="regress_x_to_y"):
    req = inference_pb2.MultiInferenceRequest()
    for sig, method in ((regress_signature, "tensorflow/serving/regress"),
                        ("classify_x_to_y", "tensorflow/serving/classify")):
        t = req.tasks.add()
        t.model_spec.name = "default"
        t.model_spec.signature_name = sig
        t.method_name = method
    for x in xs:
        req.input.example_list.examples.add().features.feature["x"].float_list.value.append(x)
    return server.predict_stub().MultiInference(req, timeout=30 * tfs.SLOW)


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tfs.Server(model_name="default", model_path=HALF, rest=True,
                                args=["--monitoring_config_file=" + MONITORING]).start()
        cls.port = cls.server.rest_port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check()

    def scrape(self):
        r = call(self.port, "GET", "/monitoring/prometheus/metrics")
        self.assertEqual(r[0], 200)
        self.assertEqual(r[1]["content-type"], "text/plain")
        return parse(r[2].decode())

    def test_counts_and_latency_from_rest_and_grpc(self):
        before, _ = self.scrape()
        for x in (1.0, 2.0, 3.0):
            self.assertEqual(call(self.port, "POST", "/v1/models/default:predict", '{"instances": [%s]}' % x)[0], 200)
        self.assertEqual(call(self.port, "POST", "/v1/models/default:regress",
                              '{"signature_name": "regress_x_to_y", "examples": [{"x": 1.0}]}')[0], 200)
        self.assertEqual(call(self.port, "GET", "/v1/models/default")[0], 200)
        for _ in range(2):
            self.assertEqual(call(self.port, "POST", "/v1/models/missing:predict", '{"instances": [1]}')[0], 404)
        self.assertEqual(call(self.port, "POST", "/v1/models/default:predict", "{")[0], 400)
        self.assertEqual(call(self.port, "GET", "/v1/models/default:predict")[0], 400)
        for x in (1.0, 5.0):
            self.assertEqual(grpc_predict(self.server, "default", x).outputs["y"].float_val, [x / 2 + 2])
        with self.assertRaises(grpc.RpcError):
            grpc_predict(self.server, "missing", 1.0)
        creq = classification_pb2.ClassificationRequest()
        creq.model_spec.name = "default"
        creq.model_spec.signature_name = "classify_x_to_y"
        creq.input.example_list.examples.add().features.feature["x"].float_list.value.append(2.0)
        self.assertEqual(self.server.predict_stub().Classify(creq, timeout=30 * tfs.SLOW)
                         .result.classifications[0].classes[0].score, 3.0)

        after, types = self.scrape()

        def delta(name, **labels):
            key = (PREFIX + name, lbl(**labels))
            return after.get(key, 0) - before.get(key, 0)

        # request_count: every call, by model name and status code name.
        self.assertEqual(delta("request_count", model_name="default", status="OK"), 3 + 1 + 1 + 2 + 1)
        self.assertEqual(delta("request_count", model_name="missing", status="NOT_FOUND"), 3)
        # The malformed GET has no model name; the bad JSON has one.
        self.assertEqual(delta("request_count", model_name="", status="INVALID_ARGUMENT"), 1)
        self.assertEqual(delta("request_count", model_name="default", status="INVALID_ARGUMENT"), 1)
        # request_latency: successful calls, API as each entry point names it.
        lat = "request_latency_count"
        self.assertEqual(delta(lat, model_name="default", API="predict", entrypoint="REST"), 3)
        self.assertEqual(delta(lat, model_name="default", API="regress", entrypoint="REST"), 1)
        self.assertEqual(delta(lat, model_name="default", API="", entrypoint="REST"), 1)
        self.assertEqual(delta(lat, model_name="default", API="Predict", entrypoint="GRPC"), 2)
        self.assertEqual(delta(lat, model_name="default", API="Classify", entrypoint="GRPC"), 1)
        self.assertEqual(delta(lat, model_name="missing", API="predict", entrypoint="REST"), 0)
        self.assertGreater(after[(PREFIX + "request_latency_sum",
                                  lbl(model_name="default", API="predict", entrypoint="REST"))], 0)

        self.assertEqual(types[PREFIX + "request_count"], "counter")
        self.assertEqual(types[PREFIX + "request_latency"], "histogram")

        # runtime_latency: successful model runs, API as TF Serving's predict_util,
        # classifier and regressor name it whichever entry point called.
        run = "runtime_latency_count"
        self.assertEqual(delta(run, model_name="default", API="Predict", runtime="TF1"), 3 + 2)
        self.assertEqual(delta(run, model_name="default", API="Regress", runtime="TF1"), 1)
        self.assertEqual(delta(run, model_name="default", API="Classify", runtime="TF1"), 1)
        self.assertEqual(delta(run, model_name="missing", API="Predict", runtime="TF1"), 0)
        self.assertEqual(types[PREFIX + "runtime_latency"], "histogram")
        # Running the model is part of the request: per API, the runtime sum is
        # positive and below the request latency sum of both entry points.
        for api, rest_api in (("Predict", "predict"), ("Regress", "regress"), ("Classify", None)):
            run_sum = delta("runtime_latency_sum", model_name="default", API=api, runtime="TF1")
            req_sum = delta("request_latency_sum", model_name="default", API=api, entrypoint="GRPC")
            if rest_api:
                req_sum += delta("request_latency_sum", model_name="default", API=rest_api, entrypoint="REST")
            self.assertGreater(run_sum, 0, api)
            self.assertLessEqual(run_sum, req_sum, api)
        # Classify and Regress do not count examples; only MultiInference does.
        self.assertEqual(delta("request_example_count_total", model="default"), 0)

    def test_runtime_latency_buckets(self):
        call(self.port, "POST", "/v1/models/default:predict", '{"instances": [1]}')
        page = call(self.port, "GET", "/monitoring/prometheus/metrics")[2].decode()
        labels = 'model_name="default",API="Predict",runtime="TF1"'
        lines = [l for l in page.split("\n") if l.startswith(PREFIX + "runtime_latency_bucket{" + labels + ",le=")]
        self.assertEqual(len(lines), 34)
        limits = [float(re.search(r'le="([^"]+)"', l).group(1)) for l in lines[:-1]]
        self.assertEqual(limits, [float("%g" % (10 * 1.8 ** k)) for k in range(33)])
        self.assertIn(',le="+Inf"} ', lines[-1])

    def test_example_counts_from_multi_inference(self):
        before, _ = self.scrape()
        for xs in ([1.0, 2.0, 3.0], [4.0] * 5, [0.5]):
            resp = multi_inference(self.server, xs)
            self.assertEqual([r.value for r in resp.results[0].regression_result.regressions], [x / 2 + 2 for x in xs])
        # A MultiInference that fails before the run counts nothing.
        with self.assertRaises(grpc.RpcError) as e:
            multi_inference(self.server, [1.0, 2.0], regress_signature="no_such_signature")
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        after, types = self.scrape()

        def delta(name, **labels):
            key = (PREFIX + name, lbl(**labels))
            return after.get(key, 0) - before.get(key, 0)

        self.assertEqual(types[PREFIX + "request_example_counts"], "histogram")
        self.assertEqual(types[PREFIX + "request_example_count_total"], "counter")
        self.assertEqual(delta("request_example_count_total", model="default"), 3 + 5 + 1)
        self.assertEqual(delta("request_example_counts_count", model="default"), 3)
        self.assertEqual(delta("request_example_counts_sum", model="default"), 9)
        # Buckets::Exponential(1, 2, 15); TF's Histogram::Add puts a sample in
        # the first bucket whose limit is above it, so 1 lands under le="2",
        # 3 under le="4" and 5 under le="8" (cumulative counts).
        bucket = lambda le: delta("request_example_counts_bucket", model="default", le=le)
        self.assertEqual([bucket("1"), bucket("2"), bucket("4"), bucket("8"), bucket("16384"), bucket("+Inf")],
                         [0, 1, 2, 3, 3, 3])
        # MultiInference records no runtime latency in TF Serving.
        self.assertEqual(delta("runtime_latency_count", model_name="default", API="MultiInference", runtime="TF1"), 0)

    def test_metrics_without_samples_are_typed(self):
        # TF Serving registers these at start-up, so their # TYPE lines are on
        # the page before anything records into them.
        page = call(self.port, "GET", "/monitoring/prometheus/metrics")[2].decode()
        for line in ("# TYPE :tensorflow:serving:request_log_count counter",
                     "# TYPE :tensorflow:serving:mlmd_map gauge",
                     "# TYPE :tensorflow:serving:runtime_latency histogram",
                     "# TYPE :tensorflow:serving:request_example_counts histogram",
                     "# TYPE :tensorflow:serving:request_example_count_total counter",
                     "# TYPE :tensorflow:serving:batching_session:queuing_latency histogram",
                     "# TYPE :tensorflow:serving:batching_session:wrapped_run_count counter",
                     "# TYPE :tensorflow:serving:saved_model_with_batching:queuing_latency histogram",
                     "# TYPE :tensorflow:serving:model_warmup_latency histogram",
                     "# TYPE :tensorflow:serving:model_warmup_records_read counter",
                     "# TYPE :tensorflow:cc:saved_model:load_attempt_count counter",
                     "# TYPE :tensorflow:cc:saved_model:load_latency counter"):
            self.assertIn(line + "\n", page)
        self.assertNotIn(PREFIX + "request_log_count{", page)
        # No batching here: the batching metrics have no samples; a wrapped
        # run count without labels would be printed as "name{} N".
        self.assertNotIn(PREFIX + "batching_session:wrapped_run_count{", page)
        self.assertNotIn(PREFIX + "saved_model_with_batching:queuing_latency_", page)

    def test_histogram_buckets(self):
        call(self.port, "POST", "/v1/models/default:predict", '{"instances": [1]}')
        _, types = self.scrape()
        page = call(self.port, "GET", "/monitoring/prometheus/metrics")[2].decode()
        labels = 'model_name="default",API="predict",entrypoint="REST"'
        lines = [l for l in page.split("\n") if l.startswith(PREFIX + "request_latency_bucket{" + labels + ",le=")]
        # TF's Buckets::Exponential(10, 1.8, 33) plus the DBL_MAX bucket shown as +Inf.
        limits = [float(re.search(r'le="([^"]+)"', l).group(1)) for l in lines[:-1]]
        self.assertEqual(len(lines), 34)
        self.assertTrue(lines[-1].startswith(PREFIX + 'request_latency_bucket{' + labels + ',le="+Inf"} '))
        for k, got in enumerate(limits):
            want = 10 * 1.8 ** k
            self.assertEqual(got, float("%g" % want), k)  # absl::StrCat: six significant digits
        counts = [int(l.rsplit(" ", 1)[1]) for l in lines]
        self.assertEqual(counts, sorted(counts))
        count = [l for l in page.split("\n") if l.startswith(PREFIX + "request_latency_count{" + labels + "}")]
        self.assertEqual(int(count[0].rsplit(" ", 1)[1]), counts[-1])

    def test_path_with_query_is_refused(self):
        r = call(self.port, "GET", "/monitoring/prometheus/metrics?x=1")
        self.assertEqual((r[0], r[2]), (400, b"Unexpected path: /monitoring/prometheus/metrics?x=1. Should be "
                                             b"/monitoring/prometheus/metrics"))

    def test_label_values_from_urls_are_escaped(self):
        call(self.port, "POST", '/v1/models/a%22b%5Cc%0Ad:predict', '{"instances": [1]}')
        page = call(self.port, "GET", "/monitoring/prometheus/metrics")[2].decode()
        self.assertIn(PREFIX + 'request_count{model_name="a\\"b\\\\c\\nd",status="NOT_FOUND"} 1\n', page)
        parse(page)


class Config(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plinth-metrics-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def config(self, text):
        path = os.path.join(self.tmp, "monitoring.txt")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_custom_path(self):
        cfg = self.config('prometheus_config { enable: true path: "/metrics" }\n')
        with tfs.Server(model_name="default", model_path=HALF, rest=True,
                        args=["--monitoring_config_file=" + cfg]) as s:
            r = call(s.rest_port, "GET", "/metrics")
            self.assertEqual(r[0], 200)
            self.assertIn(b"# TYPE :tensorflow:serving:request_count counter\n", r[2])
            self.assertEqual(call(s.rest_port, "GET", "/monitoring/prometheus/metrics")[0], 404)

    def test_saved_model_load_metrics(self):
        # TensorFlow's loader metrics: one attempt per load of a SavedModel
        # version directory, "success" or "fail", and the summed latency.
        bad = os.path.join(self.tmp, "bad")
        os.makedirs(os.path.join(bad, "1"))
        with open(os.path.join(bad, "1", "saved_model.pb"), "wb") as f:
            f.write(b"\xff\xff not a SavedModel")
        models = os.path.join(self.tmp, "models.config")

        def write_config(with_bad):
            entries = [("default", HALF)] + ([("bad", bad)] if with_bad else [])
            with open(models, "w") as f:
                f.write("model_config_list {\n" + "".join(
                    '  config { name: "%s" base_path: "%s" model_platform: "tensorflow" }\n' % e
                    for e in entries) + "}\n")

        write_config(False)
        with tfs.Server(model_config_file=models, rest=True,
                        args=["--monitoring_config_file=" + MONITORING, "--max_num_load_retries=0",
                              "--model_config_file_poll_wait_seconds=1"]) as s:
            samples, types = parse(call(s.rest_port, "GET", "/monitoring/prometheus/metrics")[2].decode())
            good_path = os.path.join(HALF, "00000123")
            self.assertEqual(types[":tensorflow:cc:saved_model:load_attempt_count"], "counter")
            self.assertEqual(types[":tensorflow:cc:saved_model:load_latency"], "counter")
            self.assertEqual(samples[(":tensorflow:cc:saved_model:load_attempt_count",
                                      lbl(model_path=good_path, status="success"))], 1)
            self.assertGreater(samples[(":tensorflow:cc:saved_model:load_latency", lbl(model_path=good_path))], 0)

            write_config(True)
            key = (":tensorflow:cc:saved_model:load_attempt_count", lbl(model_path=os.path.join(bad, "1"),
                                                                          status="fail"))
            deadline = time.time() + 30 * tfs.SLOW
            while time.time() < deadline:
                samples, _ = parse(call(s.rest_port, "GET", "/monitoring/prometheus/metrics")[2].decode())
                if key in samples:
                    break
                time.sleep(0.2)
            self.assertEqual(samples.get(key), 1)
            self.assertIn((":tensorflow:cc:saved_model:load_latency", lbl(model_path=os.path.join(bad, "1"))),
                          samples)
            self.assertNotIn((key[0], lbl(model_path=os.path.join(bad, "1"), status="success")), samples)

    def test_disabled_or_absent(self):
        cfg = self.config("prometheus_config { enable: false }\n")
        for args in (["--monitoring_config_file=" + cfg], []):
            with tfs.Server(model_name="default", model_path=HALF, rest=True, args=args) as s:
                self.assertEqual(call(s.rest_port, "GET", "/monitoring/prometheus/metrics")[0], 404)

    def test_bad_config_fails_the_start(self):
        cfg = self.config("prometheus_config { enable: maybe }\n")
        s = tfs.Server(model_name="default", model_path=HALF, rest=True, args=["--monitoring_config_file=" + cfg])
        self.assertNotEqual(s.run_to_exit(), 0)
        self.assertIn("Invalid protobuf file: '%s'" % cfg, s.output())


if __name__ == "__main__":
    unittest.main(verbosity=2)
