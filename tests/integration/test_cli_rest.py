"""plinth-cli --rest against a real plinth: status, metadata, predict,
detect and bench over TensorFlow Serving's REST API give the same answers
as over gRPC (two routes to one answer), the faces match the oracle, and
REST errors (no server, unknown model or version) read as over gRPC."""
import json
import os
import shutil
import tempfile
import unittest

import numpy as np

import clilib
import tfs
from clilib import run, run_json

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")


class CliRest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-cli-rest-")
        config = os.path.join(cls.tmp, "models.config")
        with open(config, "w") as f:
            f.write('model_config_list { config { name: "mtcnn" base_path: "%s" model_platform: "tensorflow" }\n'
                    '  config { name: "half_plus_two" base_path: "%s" model_platform: "tensorflow"\n'
                    '           version_labels { key: "stable" value: 123 } } }\n'
                    % (clilib.MTCNN, HALF_PLUS_TWO))
        cls.server = tfs.Server(model_config_file=config, rest=True,
                                args=["--allow_version_labels_for_unavailable_models=true"])
        cls.server.start()
        cls.grpc = ["--server", cls.server.address()]
        cls.rest = ["--rest", "localhost:%d" % cls.server.rest_port]

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, cls.server.output()

    def both(self, *args):
        return run_json(*self.grpc, *args), run_json(*self.rest, *args)

    def test_status_and_metadata_agree(self):
        g, r = self.both("status", "half_plus_two")
        self.assertEqual(g, r)
        self.assertEqual(r["versions"][0]["state"], "AVAILABLE")
        for model in ("half_plus_two", "mtcnn"):
            g, r = self.both("metadata", model)
            self.assertEqual(g, r)
        self.assertEqual(sorted(r["signatures"]["serving_default"]["outputs"]), ["box", "landmarks", "prob"])

    def test_version_and_label_paths(self):
        g = run_json(*self.grpc, "--version", "123", "metadata", "half_plus_two")
        r = run_json(*self.rest, "--version", "123", "metadata", "half_plus_two")
        self.assertEqual(g, r)
        g = run_json(*self.grpc, "--label", "stable", "metadata", "half_plus_two")
        r = run_json(*self.rest, "--label", "stable", "metadata", "half_plus_two")
        self.assertEqual(g, r)
        self.assertEqual(r["version"], 123)
        code, _, err = run(*self.rest, "--version", "7", "status", "half_plus_two")
        self.assertEqual(code, 1)
        self.assertIn("model 'half_plus_two' version 7 is not served at localhost:%d" % self.server.rest_port, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_predict_agrees(self):
        x = [[1.0], [2.0], [-0.25]]
        outs = []
        for transport in (self.grpc, self.rest):
            code, out, err = run(*transport, "predict", "half_plus_two", "--input", "x=" + json.dumps(x))
            self.assertEqual(code, 0, err)
            outs.append(json.loads(out))
        self.assertEqual(outs[0], outs[1])
        np.testing.assert_array_equal(np.array(outs[1]["outputs"], np.float32), np.array(x, np.float32) * 0.5 + 2)
        # Saved as .npy over REST: typed by the signature (DT_FLOAT -> float32).
        d = tempfile.mkdtemp(dir=self.tmp)
        code, _, err = run(*self.rest, "predict", "half_plus_two", "--input", "x=" + json.dumps(x), "--save", d)
        self.assertEqual(code, 0, err)
        y = np.load(os.path.join(d, "y.npy"))
        self.assertEqual(y.dtype, np.float32)
        np.testing.assert_array_equal(y, np.array(x, np.float32) * 0.5 + 2)

    def test_detect_agrees_and_matches_the_oracle(self):
        g, r = self.both("detect", "mtcnn", clilib.TEST_IMAGE, "-o", os.path.join(self.tmp, "faces.png"))
        self.assertEqual(len(g["faces"]), 6)
        for a, b in zip(g["faces"], r["faces"]):
            np.testing.assert_allclose(a["box"], b["box"], rtol=1e-6)
            np.testing.assert_allclose(a["landmarks"], b["landmarks"], rtol=1e-6)
            self.assertAlmostEqual(a["prob"], b["prob"], places=6)
        faces = {k: [f[k] for f in r["faces"]] for k in ("box", "prob", "landmarks")}
        code, summary = clilib.compare_with_oracle(self.tmp, faces)
        self.assertEqual(code, 0, summary)

    def test_bench_over_rest(self):
        doc = run_json(*self.rest, "bench", "half_plus_two", "--input", "x=[[1.0]]", "-c", "2", "-n", "30")
        self.assertEqual(doc["transport"], "REST")
        self.assertEqual(doc["requests"], 30)
        self.assertEqual(doc["errors"], 0)
        self.assertEqual(sum(b["count"] for b in doc["histogram"]), 30)

    def test_errors(self):
        code, _, err = run("--rest", "localhost:%d" % tfs.free_port(), "--timeout", "5", "status", "mtcnn")
        self.assertEqual(code, 1)
        self.assertEqual(err.strip().splitlines(), [err.strip()])
        self.assertIn("cannot reach a server at localhost:", err)
        for cmd in (["status", "nope"], ["metadata", "nope"], ["predict", "nope", "--input", "x=[1.0]"],
                    ["detect", "nope", clilib.TEST_IMAGE]):
            code, _, err = run(*self.rest, *cmd)
            self.assertEqual(code, 1)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertIn("model 'nope' is not served at localhost:%d" % self.server.rest_port, err)
        code, _, err = run(*self.rest, "detect", "half_plus_two", clilib.TEST_IMAGE)
        self.assertEqual(code, 1)
        self.assertIn("is not an MTCNN face detector", err)
        # A server error comes back as the server words it: over REST that is the
        # {"error": ...} text of TensorFlow Serving's JSON decoder, which names the input.
        wrong = os.path.join(self.tmp, "wrong.npy")
        np.save(wrong, np.array([[1]], np.float32))
        codes = [run(*t, "predict", "half_plus_two", "--input", "nope=" + wrong) for t in (self.grpc, self.rest)]
        self.assertEqual([c[0] for c in codes], [1, 1])
        self.assertIn("input alias: x", codes[0][2])
        self.assertEqual(codes[1][2], "plinth-cli: Missing named input: x in 'inputs' object.\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
