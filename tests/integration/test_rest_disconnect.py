"""A REST client that hangs up while its model runs: the run is cancelled
(request_count records CANCELLED, not OK), the server thread it held is free
again long before the run would have ended, and the server keeps serving.
A client that stays gets its full reply, however long the run takes.

The model is a while loop counting to its input, so its run time is set by
the request and is measured first on this machine."""
import json
import os
import re
import socket
import tempfile
import time
import unittest

import tfs
from graphlib import const, node, placeholder
from resthttp import call, np, write_frozen_model
from test_control_flow import Loop

I32 = np.int32
MONITORING = tfs.testdata("monitoring_config.txt")
PREDICT = "/v1/models/count:predict"


def counter_model(base):
    """i = 0; while i < limit: i += 1 -> i (output "loop/Exit_0")."""
    nodes = [const("i0", I32(0)), placeholder("limit", I32)]
    L = Loop("loop", ["i0"], [I32])
    lim = L.invariant("limit", I32, "limit")
    L.nodes.append(node("loop/Less", "Less", [L.merges[0], lim], T=I32))
    L.cond("loop/Less")
    one = L.const("one", I32(1))
    L.nodes.append(node("loop/add", "AddV2", [L.idents[0], one], T=I32))
    L.body(["loop/add"])
    return write_frozen_model(base, nodes + L.nodes)


def count_body(limit):
    return json.dumps({"inputs": {"limit": limit}})


def request_count(port, status):
    """The count model's request_count with `status`, as the Prometheus page on `port` says."""
    page = call(port, "GET", "/monitoring/prometheus/metrics")[2].decode()
    m = re.search(r'^:tensorflow:serving:request_count\{model_name="count",status="%s"\} (\d+)$' % status, page, re.M)
    return int(m.group(1)) if m else 0


class Disconnect(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-disconnect-")
        model = counter_model(os.path.join(cls.tmp, "count"))
        # One REST thread: while a handler runs, no other REST call is served,
        # so the time a second call waits shows when the first one ended.
        s = tfs.Server(model_name="count", model_path=model, rest=True,
                       args=["--rest_api_num_threads=1", "--monitoring_config_file=" + MONITORING])
        s.cmd = [a for a in s.cmd if not a.startswith("--rest_api_timeout_in_ms=")] + ["--rest_api_timeout_in_ms=600000"]
        cls.server = s.start()
        cls.port = s.rest_port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check(cls.tmp)

    def predict(self, limit, timeout=120):
        t = time.monotonic()
        r = call(self.port, "POST", PREDICT, count_body(limit), timeout=timeout)
        return r, time.monotonic() - t

    def count_calls(self, status):
        return request_count(self.port, status)

    def limit_for(self, seconds):
        """A loop length that runs about `seconds` here, measured on a run of at least 0.3 s."""
        limit = 20000
        while True:
            r, took = self.predict(limit)
            self.assertEqual((r[0], json.loads(r[2])), (200, {"outputs": limit}))
            if took >= 0.3:
                return int(limit * seconds / took)
            limit *= 4

    def test_hang_up_cancels_the_run(self):
        limit = self.limit_for(8.0)
        ok_before, cancelled_before = self.count_calls("OK"), self.count_calls("CANCELLED")

        conn = socket.create_connection(("127.0.0.1", self.port))
        body = count_body(limit).encode()
        conn.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                     % (PREDICT.encode(), len(body)) + body)
        time.sleep(0.5)
        conn.close()
        hung_up = time.monotonic()

        # The next call waits for the only REST thread: it is answered once the
        # cancelled run has stopped, far sooner than the 8 s the run needed.
        r = call(self.port, "GET", "/v1/models/count")
        waited = time.monotonic() - hung_up
        self.assertEqual(r[0], 200)
        self.assertLess(waited, 3.0 * tfs.SLOW)

        self.assertEqual(self.count_calls("CANCELLED") - cancelled_before, 1)
        self.assertEqual(self.count_calls("OK") - ok_before, 1)  # only the status call above
        # Serving goes on, with the right answers.
        r, _ = self.predict(1234)
        self.assertEqual((r[0], json.loads(r[2])), (200, {"outputs": 1234}))

    def test_a_client_that_stays_gets_its_reply(self):
        limit = self.limit_for(2.0)
        cancelled_before = self.count_calls("CANCELLED")
        r, took = self.predict(limit)
        self.assertEqual((r[0], json.loads(r[2])), (200, {"outputs": limit}))
        # Several of the watcher's 0.1 s looks happened during the run (with
        # room for the machine getting faster after the measurement).
        self.assertGreater(took, 0.3)
        self.assertEqual(self.count_calls("CANCELLED"), cancelled_before)

    def test_hang_up_before_the_body_is_complete(self):
        # The handler never runs: nothing is recorded and nothing is stuck.
        calls_before = self.count_calls("OK") + self.count_calls("CANCELLED")
        conn = socket.create_connection(("127.0.0.1", self.port))
        conn.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inputs\"" % PREDICT.encode())
        conn.close()
        r, took = self.predict(10)
        self.assertEqual((r[0], json.loads(r[2])), (200, {"outputs": 10}))
        self.assertEqual(self.count_calls("OK") + self.count_calls("CANCELLED"), calls_before + 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
