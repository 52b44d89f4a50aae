"""examples/python/detect_faces.py, an unmodified TensorFlow Serving client
(grpcio stub, TensorProtos, cv2), against a live plinth: the faces match
the oracle's reference for the test picture, with outputs in the typed
float_val fields (TensorFlow Serving's default) and in tensor_content, and
the annotated picture is written."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import cv2
import numpy as np

import clilib
import tfs

EXAMPLE = os.path.join(os.environ.get("PLINTH_SOURCE", "."), "examples", "python", "detect_faces.py")


class DetectFacesExample(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plinth-example-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_example(self, server, *args):
        return subprocess.run(["/usr/bin/python3", EXAMPLE, "--server", server.address(), "--model", "mtcnn"]
                              + list(args), capture_output=True, text=True, timeout=120 * tfs.SLOW)

    def check_against_oracle(self, server_args):
        out = os.path.join(self.tmp, "faces.jpg")
        with tfs.Server(model_name="mtcnn", model_path=clilib.MTCNN, args=server_args) as s:
            p = self.run_example(s, clilib.TEST_IMAGE, "-o", out, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        faces = json.loads(p.stdout)
        code, summary = clilib.compare_with_oracle(self.tmp, faces)
        self.assertEqual(code, 0, summary)
        self.assertIn("6/6 matched", summary)
        drawn = cv2.imread(out)
        self.assertEqual(drawn.shape, cv2.imread(clilib.TEST_IMAGE).shape)
        # cv2.rectangle drew green along each box's top edge (JPEG keeps it close to pure green).
        for y1, x1, y2, x2 in faces["box"]:
            row = drawn[int(y1), int(x1) + 4:int(x2) - 4].astype(int)
            self.assertTrue(np.all(row[:, 1] > 180) and np.all(row[:, 0] < 90) and np.all(row[:, 2] < 90), row[:3])

    def test_typed_fields(self):
        self.check_against_oracle([])

    def test_tensor_content(self):
        self.check_against_oracle(["--enable_serialization_as_tensor_content=true"])

    def test_text_output_and_errors(self):
        out = os.path.join(self.tmp, "faces.jpg")
        with tfs.Server(model_name="mtcnn", model_path=clilib.MTCNN) as s:
            p = self.run_example(s, clilib.TEST_IMAGE, "-o", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("6 faces; wrote " + out, p.stdout)
            self.assertEqual(p.stdout.count("face 0.9") + p.stdout.count("face 1.000"), 6, p.stdout)
            bad = subprocess.run(["/usr/bin/python3", EXAMPLE, "--server", s.address(), "--model", "nope",
                                  clilib.TEST_IMAGE, "-o", out], capture_output=True, text=True, timeout=60)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn("NOT_FOUND", bad.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
