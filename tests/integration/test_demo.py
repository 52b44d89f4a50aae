"""`make demo` end to end: scripts/demo.sh serves MTCNN on a free port, waits
until it is AVAILABLE, prints metadata and the faces it detects in the test
picture (checked against the oracle's boxes), writes the annotated picture
and stops the server; without a model it says where the model comes from."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

import cv2

import clilib
import tfs

SOURCE = os.environ.get("PLINTH_SOURCE", ".")
SCRIPT = os.path.join(SOURCE, "scripts", "demo.sh")


def demo(model_dir, out_dir, port):
    env = dict(os.environ, PLINTH_DEMO_PORT=str(port), PLINTH_DEMO_OUT=out_dir)
    return subprocess.run(["bash", SCRIPT, model_dir, os.environ["PLINTH_BUILD"]], capture_output=True, text=True,
                          env=env, timeout=300 * tfs.SLOW)


class Demo(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plinth-demo-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_end_to_end(self):
        port = tfs.free_port()
        p = demo(clilib.MTCNN, self.tmp, port)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = p.stdout
        self.assertIn("version 1: AVAILABLE", out)
        self.assertIn("signature 'serving_default' (tensorflow/serving/predict)", out)
        picture = os.path.join(self.tmp, "faces.png")
        self.assertIn("demo: the annotated picture is at " + picture, out)
        self.assertIn("plinth stopped", out)
        img = cv2.imread(picture)
        self.assertIsNotNone(img)
        self.assertEqual(img.shape, cv2.imread(clilib.TEST_IMAGE).shape)

        # The printed faces are the oracle's: x1 y1 x2 y2 within a pixel (rows print 0.1 px).
        rows = re.findall(r"^\s*\d+\s+([\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)$", out, re.M)
        self.assertIn("6 faces", out)
        with open(clilib.ORACLE_A) as f:
            ref = json.load(f)
        self.assertEqual(len(rows), len(ref["box"]))
        for (y1, x1, y2, x2), prob in zip(ref["box"], ref["prob"]):
            near = [r for r in rows if max(abs(float(r[1]) - x1), abs(float(r[2]) - y1), abs(float(r[3]) - x2),
                                           abs(float(r[4]) - y2)) < 1.0]
            self.assertEqual(len(near), 1, (x1, y1, x2, y2, rows))
            self.assertAlmostEqual(float(near[0][0]), prob, delta=1e-3)

        # The server is gone: its port is free again.
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))

    def assert_says_where_the_model_comes_from(self, message, model_dir):
        self.assertTrue(message.startswith("demo: no MTCNN model in '%s'" % model_dir), message)
        self.assertIn("mtcnn.pb of https://github.com/blaueck/tf-mtcnn (MIT licence)", message)
        self.assertIn("put it at %s/1/mtcnn.pb" % model_dir, message)
        self.assertIn("or put it at <dir>/1/mtcnn.pb and run: make demo MODEL_DIR=<dir>", message)

    def test_without_a_model_says_where_it_comes_from(self):
        missing = os.path.join(self.tmp, "no-model")
        p = demo(missing, self.tmp, tfs.free_port())
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assert_says_where_the_model_comes_from(p.stderr, missing)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "faces.png")))

    def make_demo(self, cwd, *args):
        env = {k: v for k, v in os.environ.items() if k not in ("PLINTH_SHARED", "MAKEFLAGS", "MAKELEVEL")}
        return subprocess.run(["make", "--no-print-directory", "demo", *args], cwd=cwd, capture_output=True,
                              text=True, env=env, timeout=60)

    def test_make_demo_with_a_missing_model_dir_stops_before_building(self):
        missing = os.path.join(self.tmp, "nonexistent")
        p = self.make_demo(SOURCE, "MODEL_DIR=" + missing, "BUILD=" + os.path.join(self.tmp, "build"))
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(p.stdout, "")  # no setup or build output before the message
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 5, p.stderr)  # the message, then make's own line
        self.assert_says_where_the_model_comes_from("\n".join(lines[:-1]), missing)
        self.assertRegex(lines[-1], r"^make: \*\*\* \[.*demo\] Error 1$")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "build")))

    def test_make_demo_without_the_shared_directory(self):
        """A checkout with no ../shared next to it: the default MODEL_DIR is missing."""
        repo = os.path.join(self.tmp, "checkout", "plinth")
        os.makedirs(os.path.join(repo, "scripts"))
        shutil.copy(os.path.join(SOURCE, "Makefile"), repo)
        shutil.copy(SCRIPT, os.path.join(repo, "scripts"))
        p = self.make_demo(repo)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(p.stdout, "")
        self.assert_says_where_the_model_comes_from(p.stderr, "../shared/models/mtcnn")
        self.assertEqual(len(p.stderr.strip().splitlines()), 5, p.stderr)  # the message and make's own line
        self.assertEqual(sorted(os.listdir(repo)), ["Makefile", "scripts"])  # nothing was built

    def test_a_port_in_use_is_refused(self):
        """gRPC servers share a port, so a server already there would answer the demo's calls."""
        with socket.socket() as other:
            other.bind(("127.0.0.1", 0))
            other.listen()
            port = other.getsockname()[1]
            p = demo(clilib.MTCNN, self.tmp, port)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertEqual(p.stderr, "demo: port %d is already in use (another plinth or TensorFlow Serving?); stop that "
                         "server or choose another port: PLINTH_DEMO_PORT=<port> make demo\n" % port)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "faces.png")))

    def test_other_model_dir(self):
        """MODEL_DIR may be any directory laid out like the default, e.g. a converted SavedModel."""
        converted = os.path.join(self.tmp, "converted")
        code, _, err = clilib.run("convert", clilib.MTCNN_PB, converted)
        self.assertEqual(code, 0, err)
        p = demo(converted, self.tmp, tfs.free_port())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("6 faces", p.stdout)
        self.assertIn("with " + converted, p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
