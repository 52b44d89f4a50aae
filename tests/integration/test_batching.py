"""Request batching (--enable_batching, spec 1e) with real concurrent gRPC
clients on half_plus_two: batched answers equal y = x / 2 + 2 computed with
numpy, batches really form (the server's debug log names each batch's task
and row counts, padding included), and TensorFlow Serving's limits and
startup checks give its codes and texts."""
import json
import os
import re
import shutil
import tempfile
import time
import unittest

import grpc
import numpy as np

import tfs
from resthttp import call
from test_grpc_predict import expected, request
from test_metrics import parse
from tensorflow.core.example import example_pb2
from tensorflow_serving.apis import regression_pb2

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")
MATRIX = tfs.testdata("matrix_half_plus_two")
# A batch that is not full waits this long for more tasks; long enough that
# futures sent together land in one batch even under the sanitizers.
TIMEOUT_US = 700000 * tfs.SLOW


def params_file(tmp, text, name="batching.txt"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def rows(values):
    """A [n, 1] float request for half_plus_two."""
    return request(x=[float(v) for v in values], shape=[len(values), 1])


def batches(server):
    """(tasks, rows, padded) of every batch the server ran."""
    return [tuple(int(g) for g in m.groups())
            for m in re.finditer(r"Batch of (\d+) task\(s\), (\d+) row\(s\) padded to (\d+)", server.output())]


def batching_server(tmp, text, args=(), model_path=HALF_PLUS_TWO, **kw):
    return tfs.Server(model_path=model_path, env={"PLINTH_LOG_LEVEL": "debug"},
                      args=["--enable_batching", "--batching_parameters_file=%s" % params_file(tmp, text)] + list(args),
                      **kw)


class Batching(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-batching-")
        cls.server = batching_server(cls.tmp, """
            max_batch_size { value: 8 }
            batch_timeout_micros { value: %d }
            max_enqueued_batches { value: 100 }
            num_batch_threads { value: 1 }
            allowed_batch_sizes: [4, 8]
        """ % TIMEOUT_US, args=["--monitoring_config_file=" + params_file(
            cls.tmp, "prometheus_config { enable: true }", "monitoring.txt")], rest=True).start()
        cls.stub = cls.server.predict_stub()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check(cls.tmp)

    def check(self, futures, inputs):
        for f, x in zip(futures, inputs):
            y = f.result().outputs["y"]
            self.assertEqual([d.size for d in y.tensor_shape.dim], [len(x), 1])
            np.testing.assert_array_equal(np.asarray(y.float_val, np.float32), expected(x))

    def test_requests_share_a_padded_batch(self):
        before = len(batches(self.server))
        inputs = [[1.0], [2.5], [-7.0]]
        self.check([self.stub.Predict.future(rows(x), timeout=30) for x in inputs], inputs)
        # Three one-row tasks run as one batch of 3 rows, padded to the allowed size 4.
        self.assertIn((3, 3, 4), batches(self.server)[before:])

    def test_full_batch_runs_without_waiting(self):
        before = len(batches(self.server))
        inputs = [[i, i + 0.5] for i in range(4)]
        start = time.time()
        self.check([self.stub.Predict.future(rows(x), timeout=30) for x in inputs], inputs)
        self.assertIn((4, 8, 8), batches(self.server)[before:])
        # A full batch does not wait for the timeout.
        if not tfs.SANITIZED:
            self.assertLess(time.time() - start, TIMEOUT_US / 1e6)

    def test_many_clients_get_their_own_rows(self):
        rng = np.random.default_rng(7)
        inputs = [rng.normal(size=rng.integers(1, 5)).astype(np.float32).tolist() for _ in range(24)]
        before = len(batches(self.server))
        self.check([self.stub.Predict.future(rows(x), timeout=60) for x in inputs], inputs)
        ran = batches(self.server)[before:]
        self.assertEqual(sum(b[0] for b in ran), len(inputs))
        self.assertEqual(sum(b[1] for b in ran), sum(len(x) for x in inputs))
        self.assertLess(len(ran), len(inputs))
        for tasks, n, padded in ran:
            self.assertIn(padded, (4, 8))
            self.assertLessEqual(n, padded)

    def test_regress_is_batched_too(self):
        def regress(x):
            r = regression_pb2.RegressionRequest()
            r.model_spec.name = "default"
            r.model_spec.signature_name = "regress_x_to_y"
            for v in x:
                e = example_pb2.Example()
                e.features.feature["x"].float_list.value.append(v)
                r.input.example_list.examples.add().CopyFrom(e)
            return r
        inputs = [[3.0, 4.0], [10.0]]
        futures = [self.stub.Regress.future(regress(x), timeout=30) for x in inputs]
        for f, x in zip(futures, inputs):
            got = [r.value for r in f.result().result.regressions]
            np.testing.assert_array_equal(np.asarray(got, np.float32), expected(x))

    def test_rest_is_batched_too(self):
        before = len(batches(self.server))
        status, _, body = call(self.server.rest_port, "POST", "/v1/models/default:predict",
                               '{"instances": [[1.0], [2.0]]}')
        self.assertEqual((status, json.loads(body)), (200, {"predictions": [[2.5], [3.0]]}))
        self.assertIn((1, 2, 4), batches(self.server)[before:])

    def test_zz_metrics(self):
        # Runs last: every batch so far was counted once, every task's wait once.
        status, _, page = call(self.server.rest_port, "GET", "/monitoring/prometheus/metrics")
        self.assertEqual(status, 200)
        samples, types = parse(page.decode())
        ran = batches(self.server)
        prefix = ":tensorflow:serving:batching_session:"
        self.assertEqual(types[prefix + "wrapped_run_count"], "counter")
        self.assertEqual(samples[(prefix + "wrapped_run_count", frozenset())], len(ran))
        self.assertEqual(types[prefix + "queuing_latency"], "histogram")
        pool = frozenset({("thread_pool_name", "")})
        self.assertEqual(samples[(prefix + "queuing_latency_count", pool)], sum(b[0] for b in ran))

    def test_task_larger_than_max_batch_size(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.Predict(rows(range(9)), timeout=30)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(cm.exception.details(), "Task size 9 is larger than maximum input batch size 8")

    def test_scalar_input_cannot_be_batched(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.Predict(request(x=[1.0], shape=[]), timeout=30)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(cm.exception.details(), "Batching Run() input tensors must have at least one dimension")


class Limits(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plinth-batching-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_full_queue_is_unavailable(self):
        # One open batch of 3 rows waits for its timeout; a second task of 3
        # rows needs a second batch, which max_enqueued_batches forbids.
        with batching_server(self.tmp, """
            max_batch_size { value: 4 }
            batch_timeout_micros { value: %d }
            max_enqueued_batches { value: 1 }
            num_batch_threads { value: 1 }
        """ % (1500000 * tfs.SLOW)) as s:
            stub = s.predict_stub()
            first = stub.Predict.future(rows([1, 2, 3]), timeout=60)
            time.sleep(0.4 * tfs.SLOW)
            with self.assertRaises(grpc.RpcError) as cm:
                stub.Predict(rows([4, 5, 6]), timeout=60)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
            self.assertEqual(cm.exception.details(),
                             "The batch scheduling queue to which this task was submitted is full")
            np.testing.assert_array_equal(first.result().outputs["y"].float_val, expected([1, 2, 3]))

    def test_large_batch_splitting(self):
        with batching_server(self.tmp, """
            max_batch_size { value: 16 }
            enable_large_batch_splitting { value: true }
            max_execution_batch_size { value: 4 }
            num_batch_threads { value: 1 }
        """) as s:
            x = np.arange(10, dtype=np.float32) - 3.5
            y = s.predict_stub().Predict(rows(x), timeout=30).outputs["y"]
            self.assertEqual([d.size for d in y.tensor_shape.dim], [10, 1])
            np.testing.assert_array_equal(np.asarray(y.float_val, np.float32), expected(x))
            # 10 rows ran as batches of at most 4.
            self.assertEqual(sorted(b[1] for b in batches(s)), [2, 4, 4])

    def test_pad_variable_length_inputs(self):
        # matrix_half_plus_two maps x to x / 2 + 2 element-wise; ragged dims
        # 1+ are padded with each task's first value, and the padded rows come
        # back, as in TensorFlow Serving.
        with batching_server(self.tmp, """
            max_batch_size { value: 2 }
            batch_timeout_micros { value: %d }
            num_batch_threads { value: 1 }
            pad_variable_length_inputs: true
        """ % TIMEOUT_US, model_path=MATRIX) as s:
            stub = s.predict_stub()
            a = np.array([[[1, 2], [3, 4]]], np.float32)
            b = np.arange(9, dtype=np.float32).reshape(1, 3, 3) + 10
            fa = stub.Predict.future(request(x=a.ravel(), shape=a.shape, output_filter=()), timeout=30)
            fb = stub.Predict.future(request(x=b.ravel(), shape=b.shape, output_filter=()), timeout=30)
            ya, yb = fa.result().outputs["y"], fb.result().outputs["y"]
            self.assertIn((2, 2, 2), batches(s))
            padded = np.full((1, 3, 3), a[0, 0, 0], np.float32)
            padded[:, :2, :2] = a
            self.assertEqual([d.size for d in ya.tensor_shape.dim], [1, 3, 3])
            np.testing.assert_array_equal(np.asarray(ya.float_val, np.float32), expected(padded.ravel()))
            np.testing.assert_array_equal(np.asarray(yb.float_val, np.float32), expected(b.ravel()))

    def test_per_model_parameters(self):
        # Only a version with batching_params.pbtxt is batched, with its own limits.
        own = os.path.join(self.tmp, "own")
        shutil.copytree(HALF_PLUS_TWO, own)
        params_file(os.path.join(own, "00000123"), "max_batch_size { value: 2 }", "batching_params.pbtxt")
        config = params_file(self.tmp, """
            model_config_list {
              config { name: "own" base_path: "%s" model_platform: "tensorflow" }
              config { name: "plain" base_path: "%s" model_platform: "tensorflow" }
            }""" % (own, HALF_PLUS_TWO), "models.txt")
        global_params = params_file(self.tmp, "max_batch_size { value: 1 }  num_batch_threads { value: 1 }")
        with tfs.Server(model_config_file=config, args=[
                "--enable_batching", "--enable_per_model_batching_parameters",
                "--batching_parameters_file=%s" % global_params]) as s:
            stub = s.predict_stub()
            with self.assertRaises(grpc.RpcError) as cm:
                stub.Predict(request(x=[1.0, 2.0, 3.0], shape=[3, 1], name="own"), timeout=30)
            self.assertEqual(cm.exception.details(), "Task size 3 is larger than maximum input batch size 2")
            y = stub.Predict(request(x=[1.0, 2.0], shape=[2, 1], name="own"), timeout=30).outputs["y"]
            np.testing.assert_array_equal(y.float_val, expected([1.0, 2.0]))
            y = stub.Predict(request(x=[1.0, 2.0, 3.0], shape=[3, 1], name="plain"), timeout=30).outputs["y"]
            np.testing.assert_array_equal(y.float_val, expected([1.0, 2.0, 3.0]))


class Startup(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plinth-batching-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fails(self, text, *args):
        s = tfs.Server(model_path=HALF_PLUS_TWO, args=list(args) + [
            "--batching_parameters_file=%s" % params_file(self.tmp, text)])
        self.assertEqual(s.run_to_exit(), 255)
        return s.output()

    def test_file_without_enable_batching(self):
        out = self.fails("max_batch_size { value: 8 }")
        self.assertIn("Failed to start server. Error: INVALID_ARGUMENT: server_options.batching_parameters_file is "
                      "set without setting server_options.enable_batching to true.", out)

    def test_unparsable_file(self):
        out = self.fails("max_batch_size: what", "--enable_batching")
        self.assertIn("Failed to start server. Error: INVALID_ARGUMENT: Invalid protobuf file: '%s'"
                      % os.path.join(self.tmp, "batching.txt"), out)

    def test_last_allowed_size_must_be_max_batch_size(self):
        out = self.fails("max_batch_size { value: 8 } allowed_batch_sizes: [2, 4]", "--enable_batching",
                         "--max_num_load_retries=0")
        self.assertIn("Failed to start server. Error: UNKNOWN: 1 model(s) did not become available: "
                      "{{{name: default version: 123} due to error: INVALID_ARGUMENT: Last entry in "
                      "allowed_batch_sizes must match max_batch_size; last entry was 4; expected 8}, }", out)

    def test_no_batch_threads(self):
        out = self.fails("num_batch_threads { value: 0 }", "--enable_batching")
        self.assertIn("Failed to start server. Error: INVALID_ARGUMENT: num_batch_threads must be positive; was 0",
                      out)


if __name__ == "__main__":
    unittest.main()
