"""A gRPC client that cancels or goes away while its model runs: the run is
cancelled (request_count records CANCELLED, not OK), the server thread it
held is free again long before the run would have ended, and the server keeps
serving. A client that stays gets its full reply; one whose deadline passes
gets DEADLINE_EXCEEDED, recorded as such.

The model is the while loop of test_rest_disconnect, counting to its input,
so its run time is set by the request and is measured first on this machine."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import grpc

import tfs
from test_grpc_lifecycle import count_request
from test_rest_disconnect import MONITORING, counter_model, request_count
from tensorflow_serving.apis import get_model_status_pb2

# A client in a process of its own, killed while its call runs: its
# connection is closed by the kernel, with no RST_STREAM before.
KILLED_CLIENT = """
import sys, grpc
from tensorflow_serving.apis import prediction_service_pb2_grpc, predict_pb2
r = predict_pb2.PredictRequest.FromString(bytes.fromhex(sys.argv[2]))
stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(sys.argv[1]))
fut = stub.Predict.future(r, timeout=600)
print("sent", flush=True)
fut.result()
"""


class Disconnect(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-grpc-disconnect-")
        model = counter_model(os.path.join(cls.tmp, "count"))
        # One gRPC thread: while a model runs, no other gRPC call is served,
        # so the time a second call waits shows when the first run ended.
        cls.server = tfs.Server(model_name="count", model_path=model, rest=True,
                                args=["--grpc_max_threads=1", "--monitoring_config_file=" + MONITORING]).start()
        cls.stub = cls.server.predict_stub()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check(cls.tmp)

    def predict(self, limit, timeout=120):
        t = time.monotonic()
        resp = self.stub.Predict(count_request(limit), timeout=timeout * tfs.SLOW)
        return resp.outputs["loop/Exit_0"].int_val[0], time.monotonic() - t

    def count_calls(self, status):
        return request_count(self.server.rest_port, status)

    def limit_for(self, seconds):
        """A loop length that runs about `seconds` here, measured on a run of at least 0.3 s."""
        limit = 20000
        while True:
            out, took = self.predict(limit)
            self.assertEqual(out, limit)
            if took >= 0.3:
                return int(limit * seconds / took)
            limit *= 4

    def next_call_wait(self, since):
        """How long after `since` a call that needs the only gRPC thread is answered."""
        r = get_model_status_pb2.GetModelStatusRequest()
        r.model_spec.name = "count"
        resp = self.server.model_stub().GetModelStatus(r, timeout=60 * tfs.SLOW)
        self.assertEqual(resp.model_version_status[0].state, get_model_status_pb2.ModelVersionStatus.AVAILABLE)
        return time.monotonic() - since

    def assert_gone_call_cancelled(self, leave):
        """`leave(limit)` starts an 8 s run and leaves it; returns when it has left."""
        limit = self.limit_for(8.0)
        ok_before, cancelled_before = self.count_calls("OK"), self.count_calls("CANCELLED")
        left = leave(limit)
        # The status call waits for the only gRPC thread: it is answered once
        # the cancelled run has stopped, far sooner than the 8 s the run needed.
        self.assertLess(self.next_call_wait(left), 3.0 * tfs.SLOW)
        self.assertEqual(self.count_calls("CANCELLED") - cancelled_before, 1)
        self.assertEqual(self.count_calls("OK"), ok_before)
        # Serving goes on, with the right answers.
        self.assertEqual(self.predict(1234)[0], 1234)
        self.assertEqual(self.count_calls("OK") - ok_before, 1)

    def test_cancelled_call_stops_the_run(self):
        def leave(limit):
            fut = self.stub.Predict.future(count_request(limit), timeout=600)
            time.sleep(0.5)
            self.assertTrue(fut.cancel())
            return time.monotonic()

        self.assert_gone_call_cancelled(leave)

    def test_closed_channel_stops_the_run(self):
        def leave(limit):
            ch = grpc.insecure_channel(self.server.address())
            fut = self.server.predict_stub(ch).Predict.future(count_request(limit), timeout=600)
            time.sleep(0.5)
            ch.close()
            with self.assertRaises(grpc.RpcError) as cm:
                fut.result()
            self.assertEqual(cm.exception.code(), grpc.StatusCode.CANCELLED)
            return time.monotonic()

        self.assert_gone_call_cancelled(leave)

    def test_killed_client_stops_the_run(self):
        def leave(limit):
            p = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT, self.server.address(),
                                  count_request(limit).SerializeToString().hex()], stdout=subprocess.PIPE)
            self.assertEqual(p.stdout.readline().strip(), b"sent")
            time.sleep(1.0)
            p.send_signal(signal.SIGKILL)
            p.wait()
            p.stdout.close()
            return time.monotonic()

        self.assert_gone_call_cancelled(leave)

    def test_cancelled_calls_leave_nothing_behind(self):
        # A server of its own, stopped at the end: under the sanitizers its
        # exit code says whether the cancelled calls left leaks or errors.
        s = tfs.Server(model_name="count", model_path=os.path.join(self.tmp, "count"),
                       args=["--grpc_max_threads=1"]).start()
        try:
            stub = s.predict_stub()
            limit = self.limit_for(8.0)
            futures = [stub.Predict.future(count_request(limit), timeout=600) for _ in range(3)]
            time.sleep(0.5)
            for f in futures:
                self.assertTrue(f.cancel())
            self.assertEqual(stub.Predict(count_request(1234), timeout=60 * tfs.SLOW)
                             .outputs["loop/Exit_0"].int_val, [1234])
        finally:
            code = s.stop(signal.SIGTERM)
        self.assertEqual(code, 0, s.output())

    def test_a_client_that_stays_gets_its_reply(self):
        limit = self.limit_for(2.0)
        cancelled_before = self.count_calls("CANCELLED")
        out, took = self.predict(limit)
        self.assertEqual(out, limit)
        self.assertGreater(took, 0.3)
        self.assertEqual(self.count_calls("CANCELLED"), cancelled_before)

    def test_deadline_stops_the_run_as_deadline_exceeded(self):
        # Far longer than the deadline, even if the machine gets much faster
        # than it was while the run time was measured.
        limit = self.limit_for(20.0)
        exceeded_before, cancelled_before = self.count_calls("DEADLINE_EXCEEDED"), self.count_calls("CANCELLED")
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.Predict(count_request(limit), timeout=2.5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertLess(self.next_call_wait(time.monotonic()), 3.0 * tfs.SLOW)
        self.assertEqual(self.count_calls("DEADLINE_EXCEEDED") - exceeded_before, 1)
        self.assertEqual(self.count_calls("CANCELLED"), cancelled_before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
