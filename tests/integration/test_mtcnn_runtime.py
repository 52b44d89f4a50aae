"""MTCNN end to end through the runtime: the frozen graph run by run_graph on
the oracle's test image with parameter sets A and B, compared with the
independent reference by the oracle's compare.py; and the model's derived
signature as the server reports it."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from graphlib import tool

SHARED = os.environ.get("PLINTH_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared"))
MODEL = os.path.join(SHARED, "models/mtcnn/1/mtcnn.pb")
ORACLE = os.path.join(SHARED, "oracle")


class Mtcnn(unittest.TestCase):
    def run_params(self, ref_name):
        with open(os.path.join(ORACLE, "ref", ref_name)) as f:
            ref = json.load(f)
        params = ref["params"]
        with tempfile.TemporaryDirectory() as d:
            feeds = {"min_size": np.float32(params["min_size"]), "factor": np.float32(params["factor"]),
                     "thresholds": np.asarray(params["thresholds"], np.float32)}
            args = [tool("run_graph"), MODEL, "--feed", "input:0=" + os.path.join(ORACLE, "raw", "test_image.npy")]
            for name, value in feeds.items():
                np.save(os.path.join(d, name + ".npy"), value)
                args += ["--feed", "%s:0=%s" % (name, os.path.join(d, name + ".npy"))]
            for name in ("box", "prob", "landmarks"):
                args += ["--fetch", "%s:0=%s" % (name, os.path.join(d, name + ".out.npy"))]
            p = subprocess.run(args, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            got = {k: np.load(os.path.join(d, k + ".out.npy")).tolist() for k in ("box", "prob", "landmarks")}
            got_path = os.path.join(d, "got.json")
            with open(got_path, "w") as f:
                json.dump(got, f)
            c = subprocess.run([sys.executable, os.path.join(ORACLE, "compare.py"),
                                os.path.join(ORACLE, "ref", ref_name), got_path], capture_output=True, text=True)
            self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
            self.assertTrue(c.stdout.strip().splitlines()[-1].endswith(": OK"), c.stdout)

    def test_params_a(self):
        self.run_params("test_image.A.json")

    def test_params_b(self):
        self.run_params("test_image.B.json")

    def test_signature(self):
        p = subprocess.run([tool("run_model"), os.path.dirname(MODEL)], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        sig = json.loads(p.stdout)["signatures"]["serving_default"]
        shapes = {k: v["shape"] for k, v in list(sig["inputs"].items()) + list(sig["outputs"].items())}
        self.assertEqual(shapes, {"input": [-1, -1, 3], "min_size": None, "thresholds": [3], "factor": None,
                                  "prob": [-1], "landmarks": [-1, 10], "box": None})
        self.assertTrue(all(v["dtype"] == "DT_FLOAT" for v in list(sig["inputs"].values()) + list(sig["outputs"].values())))


if __name__ == "__main__":
    unittest.main()
