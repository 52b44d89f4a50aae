"""MTCNN's frozen graph end to end through run_graph (convolution, pooling,
softmax, resize, crop-and-resize and NMS inside a while loop and conds),
compared with the oracle's reference detections by its own compare.py."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from graphlib import tool

SHARED = os.environ.get("PLINTH_SHARED", "")
MODEL = os.path.join(SHARED, "models", "mtcnn", "1", "mtcnn.pb")
ORACLE = os.path.join(SHARED, "oracle")


@unittest.skipUnless(os.path.exists(MODEL), "MTCNN model not present")
class MTCNN(unittest.TestCase):
    def detect(self, ref_name):
        ref = json.load(open(os.path.join(ORACLE, "ref", ref_name)))
        p = ref["params"]
        with tempfile.TemporaryDirectory() as d:
            feeds = {"min_size": np.float32(p["min_size"]), "factor": np.float32(p["factor"]),
                     "thresholds": np.array(p["thresholds"], np.float32)}
            args = [tool("run_graph"), MODEL, "--feed", "input=" + os.path.join(ORACLE, ref["input_raw"])]
            for name, value in feeds.items():
                np.save(os.path.join(d, name + ".npy"), value)
                args += ["--feed", "%s=%s" % (name, os.path.join(d, name + ".npy"))]
            for name in ("box", "prob", "landmarks"):
                args += ["--fetch", "%s=%s" % (name, os.path.join(d, name + ".npy"))]
            r = subprocess.run(args, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            got = {k: np.load(os.path.join(d, k + ".npy")).tolist() for k in ("box", "prob", "landmarks")}
            got_path = os.path.join(d, "got.json")
            json.dump(got, open(got_path, "w"))
            c = subprocess.run([sys.executable, os.path.join(ORACLE, "compare.py"),
                                os.path.join(ORACLE, "ref", ref_name), got_path], capture_output=True, text=True)
            self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
            self.assertEqual(len(got["box"]), ref["count"])

    def test_params_a(self):
        self.detect("test_image.A.json")

    def test_params_b(self):
        self.detect("test_image.B.json")


if __name__ == "__main__":
    unittest.main()
