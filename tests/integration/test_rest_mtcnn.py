"""MTCNN (a frozen graph) over REST: the oracle's request body (make_request.py,
columnar inputs) gives the oracle's faces (compare.py), the same as gRPC gives;
and --rest_api_timeout_in_ms cuts a run short with 504 DEADLINE_EXCEEDED."""
import json
import os
import subprocess
import tempfile
import unittest

import tfs
from resthttp import call, error_body

MTCNN = os.path.join(tfs.shared_dir(), "models", "mtcnn")
ORACLE = os.path.join(tfs.shared_dir(), "oracle")


def oracle_request(ref):
    return subprocess.run(["/usr/bin/python3", os.path.join(ORACLE, "make_request.py"),
                           os.path.join(ORACLE, "ref", ref)], capture_output=True, check=True).stdout


class Mtcnn(unittest.TestCase):
    def test_faces_match_the_oracle(self):
        with tfs.Server(model_name="mtcnn", model_path=MTCNN, rest=True) as s:
            for ref in ("test_image.A.json", "test_image.B.json"):
                r = call(s.rest_port, "POST", "/v1/models/mtcnn:predict", oracle_request(ref), timeout=300)
                self.assertEqual(r[0], 200, r[2][:300])
                with tempfile.NamedTemporaryFile(suffix=".json") as got:
                    got.write(r[2])
                    got.flush()
                    cmp = subprocess.run(["/usr/bin/python3", os.path.join(ORACLE, "compare.py"),
                                          os.path.join(ORACLE, "ref", ref), got.name], capture_output=True, text=True)
                self.assertEqual(cmp.returncode, 0, cmp.stdout + cmp.stderr)
                outputs = json.loads(r[2])["outputs"]
                self.assertEqual(sorted(outputs), ["box", "landmarks", "prob"])

    def test_timeout_gives_504(self):
        # The harness's 5000 ms is replaced by 1 ms: no MTCNN run is that fast.
        s = tfs.Server(model_name="mtcnn", model_path=MTCNN, rest=True)
        s.cmd = [a for a in s.cmd if not a.startswith("--rest_api_timeout_in_ms=")] + ["--rest_api_timeout_in_ms=1"]
        with s:
            r = call(s.rest_port, "POST", "/v1/models/mtcnn:predict", oracle_request("test_image.B.json"), timeout=300)
            self.assertEqual((r[0], r[2]), (504, error_body("Deadline Exceeded")))
            # The server goes on serving (the status route runs no model).
            self.assertEqual(call(s.rest_port, "GET", "/v1/models/mtcnn")[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
