"""plinth-cli bench against a real server: the requested number of requests
is sent and counted, the reported statistics agree with each other, a
duration bounds the run, and a failing request is reported, not hidden."""
import os
import pty
import subprocess
import tempfile
import time
import unittest

import numpy as np

import clilib
import tfs
from clilib import run, run_json

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")


class Bench(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tfs.Server(model_name="half_plus_two", model_path=HALF_PLUS_TWO)
        cls.server.start()
        cls.addr = cls.server.address()

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0, cls.server.output()

    def check_stats(self, doc):
        lat = doc["latency_ms"]
        self.assertLessEqual(lat["min"], lat["p50"])
        self.assertLessEqual(lat["p50"], lat["p90"])
        self.assertLessEqual(lat["p90"], lat["p99"])
        self.assertLessEqual(lat["p99"], lat["max"])
        self.assertLessEqual(lat["min"], lat["mean"])
        self.assertLessEqual(lat["mean"], lat["max"])
        self.assertEqual(sum(b["count"] for b in doc["histogram"]), doc["requests"])
        self.assertAlmostEqual(doc["histogram"][0]["from_ms"], lat["min"], places=3)
        self.assertAlmostEqual(doc["histogram"][-1]["to_ms"], lat["max"], places=3)
        self.assertAlmostEqual(doc["qps"], doc["requests"] / doc["seconds"], delta=0.01 * doc["qps"] + 0.01)

    def test_request_count(self):
        doc = run_json("--server", self.addr, "bench", "half_plus_two", "--input", "x=[[1.0], [2.0]]",
                       "--concurrency", "3", "--requests", "40")
        self.assertEqual(doc["requests"], 40)
        self.assertEqual(doc["errors"], 0)
        self.assertEqual(doc["concurrency"], 3)
        self.assertEqual(doc["transport"], "gRPC")
        self.check_stats(doc)

    def test_duration(self):
        t0 = time.time()
        doc = run_json("--server", self.addr, "bench", "half_plus_two", "--input", "x=[[1.0]]", "-c", "2",
                       "--duration", "1.5")
        elapsed = time.time() - t0
        self.assertGreaterEqual(doc["seconds"], 1.5)
        self.assertLess(doc["seconds"], 1.5 + 10 * tfs.SLOW)
        self.assertLess(elapsed, 30 * tfs.SLOW)
        self.assertGreater(doc["requests"], 0)
        self.check_stats(doc)

    def test_text_report(self):
        code, out, err = run("--server", self.addr, "bench", "half_plus_two", "--input", "x=[[1.0]]", "-n", "12")
        self.assertEqual(code, 0, err)
        self.assertIn("bench half_plus_two over gRPC at %s: 1 client, 12 requests" % self.addr, out)
        for word in ("throughput", "p50", "p90", "p99", "histogram", "errors      0"):
            self.assertIn(word, out)
        # Not a terminal: no progress line.
        self.assertEqual(err, "")

    def test_progress_line_on_a_terminal(self):
        """With stderr on a terminal, a progress line is redrawn in place, then cleared."""
        master, slave = pty.openpty()
        p = subprocess.Popen([clilib.cli_bin(), "--server", self.addr, "bench", "half_plus_two", "--input",
                              "x=[[1.0]]", "--duration", "1.2"], stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            seen += chunk
        out, _ = p.communicate(timeout=60 * tfs.SLOW)
        os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertGreaterEqual(seen.count(b"req/s"), 2, seen)
        self.assertIn(b"\r", seen)
        self.assertNotIn(b"\n", seen)  # one line, redrawn
        self.assertIn("throughput", out.decode())

    def test_errors(self):
        code, out, err = run("--server", self.addr, "bench", "nope", "--input", "x=[[1.0]]", "-n", "5")
        self.assertEqual(code, 1)
        self.assertIn("model 'nope' is not served", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        # The warm-up request shows a request the server refuses before any load is sent.
        ints = os.path.join(tempfile.mkdtemp(prefix="plinth-bench-"), "x.npy")
        np.save(ints, np.array([[1], [2]], np.int32))
        code, out, err = run("--server", self.addr, "bench", "half_plus_two", "--input", "x=" + ints, "-n", "5")
        self.assertEqual(code, 1)
        self.assertIn("int32", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertEqual(out, "")
        code, out, err = run("--server", "localhost:%d" % tfs.free_port(), "--timeout", "5", "bench",
                             "half_plus_two", "--input", "x=[[1.0]]")
        self.assertEqual(code, 1)
        self.assertIn("cannot reach a server", err)
        code, out, err = run("bench", "half_plus_two", "--requests", "5", "--duration", "2")
        self.assertEqual(code, 2)
        self.assertIn("usage: plinth-cli", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
