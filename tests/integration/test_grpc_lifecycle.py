"""Model lifecycle through a running server (spec 1d, 1h): config files,
config polling and HandleReloadConfigRequest, version labels, new versions
appearing while requests are in flight (none may fail), and a SIGTERM that
lets running calls finish and exits 0."""
import os
import shutil
import signal
import tempfile
import threading
import time
import unittest

import grpc

import tfs
from test_rest_disconnect import counter_model
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import get_model_status_pb2, model_management_pb2, predict_pb2
from tensorflow_serving.config import model_server_config_pb2

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")
HALF_PLUS_THREE = tfs.testdata("saved_model_half_plus_three")


def predict(stub, name="default", version=None, label=None, x=2.0, timeout=10):
    r = predict_pb2.PredictRequest()
    r.model_spec.name = name
    if version is not None:
        r.model_spec.version.value = version
    if label is not None:
        r.model_spec.version_label = label
    r.inputs["x"].dtype = types_pb2.DT_FLOAT
    r.inputs["x"].tensor_shape.dim.add(size=1)
    r.inputs["x"].float_val.append(x)
    resp = stub.Predict(r, timeout=timeout)
    return resp.outputs["y"].float_val[0], resp.model_spec.version.value


def count_request(limit):
    """A Predict for the counting loop of test_rest_disconnect.counter_model."""
    r = predict_pb2.PredictRequest()
    r.model_spec.name = "count"
    r.inputs["limit"].dtype = types_pb2.DT_INT32
    r.inputs["limit"].int_val.append(limit)
    return r


def count(stub, limit, timeout=60):
    return stub.Predict(count_request(limit), timeout=timeout * tfs.SLOW).outputs["loop/Exit_0"].int_val[0]


def wait_for(fn, timeout=20):
    deadline = time.time() + timeout * tfs.SLOW
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except grpc.RpcError as e:
            last = e
        time.sleep(0.1)
    raise AssertionError("condition not met in time; last: %r" % (last,))


def states(stub, name):
    r = get_model_status_pb2.GetModelStatusRequest()
    r.model_spec.name = name
    resp = stub.GetModelStatus(r, timeout=10)
    return {s.version: get_model_status_pb2.ModelVersionStatus.State.Name(s.state) for s in resp.model_version_status}


def config_text(models):
    """A text-format ModelServerConfig for [(name, path)]."""
    entries = ",\n".join('  config: {\n    name: "%s",\n    base_path: "%s",\n    model_platform: "tensorflow"\n  }'
                         % m for m in models)
    return "model_config_list: {\n%s\n}\n" % entries


def copy_version(src_model, dst_base, version):
    """Copies the only version of src_model to dst_base/<version>, atomically."""
    src = os.path.join(src_model, sorted(os.listdir(src_model))[0])
    tmp = os.path.join(dst_base, ".tmp-%d" % version)
    shutil.copytree(src, tmp)
    os.rename(tmp, os.path.join(dst_base, str(version)))


class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plinth-life-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_config(self, models, name="models.config"):
        path = os.path.join(self.tmp, name)
        with open(path + ".new", "w") as f:
            f.write(config_text(models))
        os.rename(path + ".new", path)
        return path

    def test_good_model_config(self):
        cfg = self.write_config([("half_plus_two", HALF_PLUS_TWO), ("half_plus_three", HALF_PLUS_THREE)])
        with tfs.Server(model_config_file=cfg) as s:
            stub = s.predict_stub()
            self.assertEqual(predict(stub, "half_plus_two"), (3.0, 123))
            self.assertEqual(predict(stub, "half_plus_three"), (4.0, 123))

    def test_bad_model_config(self):
        s = tfs.Server(model_config_file=tfs.testdata("bad_model_config.txt"))
        self.assertNotEqual(s.run_to_exit(), 0)
        self.assertIn("Error parsing text-format tensorflow.serving.ModelServerConfig", s.stderr_text())
        self.assertIn("Invalid protobuf file: '%s'" % tfs.testdata("bad_model_config.txt"), s.output())

    def test_model_config_reload(self):
        cfg = self.write_config([("half_plus_two", HALF_PLUS_TWO)])
        with tfs.Server(model_config_file=cfg, args=["--model_config_file_poll_wait_seconds=1"]) as s:
            stub, models = s.predict_stub(), s.model_stub()
            self.assertEqual(predict(stub, "half_plus_two"), (3.0, 123))
            self.write_config([("half_plus_three", HALF_PLUS_THREE)])
            self.assertEqual(wait_for(lambda: predict(stub, "half_plus_three")), (4.0, 123))
            # The model the new config leaves out is unloaded.
            wait_for(lambda: states(models, "half_plus_two") == {123: "END"})

    def test_model_config_reload_with_zero_poll_period(self):
        cfg = self.write_config([("half_plus_two", HALF_PLUS_TWO)])
        with tfs.Server(model_config_file=cfg, args=["--model_config_file_poll_wait_seconds=0"]) as s:
            stub = s.predict_stub()
            self.assertEqual(predict(stub, "half_plus_two")[0], 3.0)
            self.write_config([("half_plus_three", HALF_PLUS_THREE)])
            time.sleep(3)
            self.assertEqual(predict(stub, "half_plus_two")[0], 3.0)
            with self.assertRaises(grpc.RpcError) as cm:
                predict(stub, "half_plus_three")
            self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_handle_reload_config_request(self):
        with tfs.Server(model_name="a", model_path=HALF_PLUS_TWO) as s:
            stub, models = s.predict_stub(), s.model_stub()
            req = model_management_pb2.ReloadConfigRequest()
            for name, path in (("a", HALF_PLUS_TWO), ("b", HALF_PLUS_THREE)):
                c = req.config.model_config_list.config.add()
                c.name, c.base_path, c.model_platform = name, path, "tensorflow"
            req.metric_names.append(":tensorflow:serving:request_count")
            resp = models.HandleReloadConfigRequest(req, timeout=60 * tfs.SLOW)
            self.assertEqual(resp.status.error_code, 0)
            self.assertEqual([m.name for m in resp.metric], [":tensorflow:serving:request_count"])
            # The call returns once the new model is available.
            self.assertEqual(predict(stub, "b")[0], 4.0)
            self.assertEqual(predict(stub, "a")[0], 3.0)

            # A label on an available version, then dropping "a".
            req = model_management_pb2.ReloadConfigRequest()
            c = req.config.model_config_list.config.add()
            c.name, c.base_path, c.model_platform = "b", HALF_PLUS_THREE, "tensorflow"
            c.version_labels["stable"] = 123
            models.HandleReloadConfigRequest(req, timeout=60 * tfs.SLOW)
            self.assertEqual(predict(stub, "b", label="stable"), (4.0, 123))
            wait_for(lambda: states(models, "a") == {123: "END"})
            with self.assertRaises(grpc.RpcError) as cm:
                predict(stub, "a")
            self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)

            # Labels may only point at available versions.
            c.version_labels["stable"] = 7
            with self.assertRaises(grpc.RpcError) as cm:
                models.HandleReloadConfigRequest(req, timeout=60)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
            self.assertEqual(cm.exception.details(),
                             "Request to assign label to version 7 of model b, which is not currently available "
                             "for inference")
            # Only a ModelConfigList is accepted.
            with self.assertRaises(grpc.RpcError) as cm:
                models.HandleReloadConfigRequest(model_management_pb2.ReloadConfigRequest(), timeout=60)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertEqual(cm.exception.details(),
                             "ServerModelConfig type not supported by HandleReloadConfigRequest. Only "
                             "ModelConfigList is currently supported")
            # Duplicate names are refused.
            req = model_management_pb2.ReloadConfigRequest()
            for _ in range(2):
                c = req.config.model_config_list.config.add()
                c.name, c.base_path, c.model_platform = "b", HALF_PLUS_THREE, "tensorflow"
            with self.assertRaises(grpc.RpcError) as cm:
                models.HandleReloadConfigRequest(req, timeout=60)
            self.assertEqual(cm.exception.details(), "Illegal to list model b multiple times in config list")
            self.assertEqual(predict(stub, "b")[0], 4.0)

    def test_versions_change_under_load(self):
        base = os.path.join(self.tmp, "model")
        os.mkdir(base)
        copy_version(HALF_PLUS_TWO, base, 1)
        with tfs.Server(model_path=base, args=["--file_system_poll_wait_seconds=1"]) as s:
            stub, models = s.predict_stub(), s.model_stub()
            stop = threading.Event()
            seen, failures = set(), []

            def hammer():
                with grpc.insecure_channel(s.address()) as ch:
                    st = s.predict_stub(ch)
                    while not stop.is_set():
                        try:
                            seen.add(predict(st, timeout=30))
                        except grpc.RpcError as e:
                            failures.append((e.code(), e.details()))

            threads = [threading.Thread(target=hammer) for _ in range(4)]
            for t in threads:
                t.start()
            try:
                # A new version (half_plus_three as version 2) loads before 1 unloads.
                copy_version(HALF_PLUS_THREE, base, 2)
                wait_for(lambda: any(v == 2 for _, v in seen))
                wait_for(lambda: states(models, "default") == {2: "AVAILABLE", 1: "END"})
                self.assertEqual({r for r in seen if r[1] == 2}, {(4.0, 2)})
                # Removing it brings version 1 back.
                shutil.rmtree(os.path.join(base, "2"))
                wait_for(lambda: states(models, "default") == {2: "END", 1: "AVAILABLE"})
                seen.clear()
                wait_for(lambda: seen == {(3.0, 1)} or None, timeout=5)
            finally:
                stop.set()
                for t in threads:
                    t.join()
            self.assertEqual(failures, [])
            self.assertIn((3.0, 1), seen)

    def test_sigterm_drains_and_exits_zero(self):
        s = tfs.Server(model_path=HALF_PLUS_TWO).start()
        results, errors = [], []
        stop = threading.Event()

        def client():
            with grpc.insecure_channel(s.address()) as ch:
                st = s.predict_stub(ch)
                while not stop.is_set():
                    try:
                        results.append(predict(st, timeout=30)[0])
                    except grpc.RpcError as e:
                        errors.append(e.code())
                        return

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        wait_for(lambda: len(results) > 20)
        code = s.stop(signal.SIGTERM)
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(code, 0, s.output())
        self.assertTrue(all(r == 3.0 for r in results))
        # Calls made after the shutdown began are refused, never half-answered.
        refused = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
        self.assertTrue(all(c in refused for c in errors), errors)

    def test_sigterm_waits_for_a_running_call(self):
        # A run that is under way when the signal comes is answered in full.
        s = tfs.Server(model_name="count", model_path=counter_model(os.path.join(self.tmp, "count"))).start()
        try:
            stub = s.predict_stub()
            limit, took = 100000, 0.0
            while took < 0.3:
                limit *= 2
                start = time.monotonic()
                self.assertEqual(count(stub, limit), limit)
                took = time.monotonic() - start
            limit = int(limit * 2.0 / took)  # about 2 s
            with grpc.insecure_channel(s.address()) as ch:
                running = s.predict_stub(ch).Predict.future(count_request(limit), timeout=60 * tfs.SLOW)
                time.sleep(0.5)
                start = time.monotonic()
                code = s.stop(signal.SIGTERM)
                stopped = time.monotonic() - start
                self.assertEqual(running.result().outputs["loop/Exit_0"].int_val, [limit])
        finally:
            s.stop()
        self.assertEqual(code, 0, s.output())
        self.assertGreater(stopped, 0.5)

    def test_sigterm_refuses_a_call_nobody_serves(self):
        # A Predict whose request message never comes is held by gRPC and by
        # no thread of plinth: shutdown refuses it at once instead of keeping
        # the port open for the 30 s that running calls may take.
        s = tfs.Server(model_path=HALF_PLUS_TWO).start()
        release = threading.Event()

        def no_message():
            release.wait()
            return
            yield

        with grpc.insecure_channel(s.address()) as ch:
            half = ch.stream_unary("/tensorflow.serving.PredictionService/Predict",
                                   request_serializer=bytes, response_deserializer=bytes).future(no_message(), timeout=60)
            try:
                self.assertEqual(predict(s.predict_stub(ch))[0], 3.0)
                start = time.monotonic()
                code = s.stop(signal.SIGTERM)
                took = time.monotonic() - start
                with self.assertRaises(grpc.RpcError) as cm:
                    half.result(timeout=5)
            finally:
                release.set()
        self.assertEqual(code, 0, s.output())
        self.assertLess(took, 10)
        self.assertIn(cm.exception.code(), (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED))
        self.assertNotIn("still running after 30 s", s.output())

    def test_sigint_exits_zero(self):
        s = tfs.Server(model_path=HALF_PLUS_TWO).start()
        self.assertEqual(predict(s.predict_stub())[0], 3.0)
        self.assertEqual(s.stop(signal.SIGINT), 0, s.output())


if __name__ == "__main__":
    unittest.main(verbosity=2)
