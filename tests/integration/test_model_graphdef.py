"""Frozen GraphDef models through run_model (the server's loader): the derived
serving_default signature, running by tensor name, and load errors."""
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np
from graphlib import const, graph, node, placeholder, shape, tool


def write_model(d, nodes, producer=None, name="model.pb"):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(graph(nodes, producer).SerializeToString())


def run_model(*args):
    p = subprocess.run([tool("run_model")] + list(args), capture_output=True, text=True, errors="replace")
    return p.returncode, p.stdout, p.stderr.strip()


class Signature(unittest.TestCase):
    def test_derived_signature(self):
        nodes = [placeholder("x", np.float32, shape(2, None)),
                 placeholder("s", np.int32, shape()),
                 placeholder("u", np.uint8),
                 const("c", np.zeros((4, 5), np.float32)),
                 node("y", "Identity", ["x"], T=np.float32),
                 node("pair", "IdentityN", ["s", "c"], T=[np.int32, np.float32]),
                 node("cy", "Identity", ["pair:1"], T=np.float32),
                 node("side", "NoOp", ["^u"]),
                 const("unused", np.int32(1))]
        with tempfile.TemporaryDirectory() as d:
            # pair:0 is consumed by nobody, but its node is (pair:1), so it is no output.
            for producer, s_shape in ((None, None), (27, [])):
                write_model(os.path.join(d, str(producer)), nodes, producer)
                rc, out, err = run_model(os.path.join(d, str(producer)))
                self.assertEqual(rc, 0, err)
                meta = json.loads(out)
                self.assertEqual(meta["format"], "tensorflow_graphdef")
                sig = meta["signatures"]["serving_default"]
                self.assertEqual(sig["method_name"], "tensorflow/serving/predict")
                self.assertEqual(sig["inputs"], {
                    "s": {"name": "s:0", "dtype": "DT_INT32", "shape": s_shape},
                    "u": {"name": "u:0", "dtype": "DT_UINT8", "shape": None},
                    "x": {"name": "x:0", "dtype": "DT_FLOAT", "shape": [2, -1]}})
                self.assertEqual(sig["outputs"], {
                    "cy": {"name": "cy:0", "dtype": "DT_FLOAT", "shape": [4, 5]},
                    "y": {"name": "y:0", "dtype": "DT_FLOAT", "shape": [2, -1]}})

    def test_pb_file_path_and_run(self):
        with tempfile.TemporaryDirectory() as d:
            write_model(d, [placeholder("x", np.float32), node("y", "Identity", ["x"], T=np.float32),
                            node("z", "Snapshot", ["y"], T=np.float32)], name="frozen.pb")
            x = np.arange(6, dtype=np.float32).reshape(2, 3)
            np.save(os.path.join(d, "x.npy"), x)
            for path in (d, os.path.join(d, "frozen.pb")):
                rc, out, err = run_model(path, "--feed", "x:0=" + os.path.join(d, "x.npy"),
                                         "--fetch", "z:0=" + os.path.join(d, "z.npy"),
                                         "--fetch", "y=" + os.path.join(d, "y.npy"), "--repeat", "3")
                self.assertEqual(rc, 0, err)
                np.testing.assert_array_equal(np.load(os.path.join(d, "z.npy")), x)
                np.testing.assert_array_equal(np.load(os.path.join(d, "y.npy")), x)


class SignatureFile(unittest.TestCase):
    NODES = [placeholder("x", np.float32, shape(None, 2)), node("y", "Identity", ["x"], T=np.float32),
             node("z", "Snapshot", ["y"], T=np.float32)]

    def load(self, text):
        with tempfile.TemporaryDirectory() as d:
            write_model(d, self.NODES)
            with open(os.path.join(d, "signature.pbtxt"), "w") as f:
                f.write(text)
            return run_model(d)

    def test_signatures_replace_the_derived_one(self):
        rc, out, err = self.load("""
            signature_def {
              key: "double"
              value {
                method_name: "tensorflow/serving/regress"
                inputs { key: "in" value { name: "x:0" } }
                outputs { key: "mid" value { name: "y:0" dtype: DT_FLOAT tensor_shape { dim { size: 7 } dim { size: 2 } } } }
              }
            }
            signature_def { key: "serving_default" value { inputs { key: "x" value { name: "x" } }
                                                             outputs { key: "z" value { name: "z:0" } } } }
            """)
        self.assertEqual(rc, 0, err)
        sigs = json.loads(out)["signatures"]
        self.assertEqual(sorted(sigs), ["double", "serving_default"])
        self.assertEqual(sigs["double"]["method_name"], "tensorflow/serving/regress")
        # dtype and shape default to what inference says; given ones are kept
        self.assertEqual(sigs["double"]["inputs"]["in"], {"name": "x:0", "dtype": "DT_FLOAT", "shape": [-1, 2]})
        self.assertEqual(sigs["double"]["outputs"]["mid"], {"name": "y:0", "dtype": "DT_FLOAT", "shape": [7, 2]})
        self.assertEqual(sigs["serving_default"]["method_name"], "tensorflow/serving/predict")
        self.assertEqual(sigs["serving_default"]["outputs"]["z"]["shape"], [-1, 2])

    def test_errors(self):
        for text, want in (("signature_def { key: \"s\" value { outputs { key: \"o\" value { name: \"nope:0\" } } } }",
                            "does not exist"),
                           ("signature_def { key: \"s\" value { outputs { key: \"o\" value { coo_sparse { } } } } }",
                            "must name a tensor"),
                           ("signature_def {", "Error parsing text-format"),
                           ("", "defines no signature")):
            rc, out, err = self.load(text)
            self.assertEqual(rc, 1, out)
            self.assertIn("signature.pbtxt", err)
            self.assertIn(want, err)


class LoadErrors(unittest.TestCase):
    def expect_error(self, path, text):
        rc, out, err = run_model(path)
        self.assertEqual(rc, 1, out)
        self.assertIn(text, err)
        self.assertEqual(len(err.splitlines()), 1)

    def test_directory_contents(self):
        with tempfile.TemporaryDirectory() as d:
            self.expect_error(d, "Could not find SavedModel .pb or .pbtxt")
            write_model(d, [placeholder("x", np.float32), node("y", "Identity", ["x"])], name="a.pb")
            write_model(d, [placeholder("x", np.float32), node("y", "Identity", ["x"])], name="b.pb")
            self.expect_error(d, "holds 2 .pb files")
            self.expect_error(os.path.join(d, "missing"), "does not exist")

    def test_unsupported_ops_listed_once_each(self):
        with tempfile.TemporaryDirectory() as d:
            write_model(d, [placeholder("x", np.float32), node("a", "Frobnicate", ["x"]),
                            node("b", "Frobnicate", ["a"]), node("c", "Frobnicate", ["b"]),
                            node("d", "Twiddle", ["c"])])
            rc, out, err = run_model(d)
            self.assertEqual(rc, 1)
            self.assertIn("Op type not registered 'Frobnicate' in node 'a' (and 2 other nodes); "
                          "Op type not registered 'Twiddle' in node 'd'", err)

    def test_garbage_and_structure(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "g.pb"), "wb") as f:
                f.write(b"\x0a\xff\xff\xff\xff\x0f garbage")
            self.expect_error(d, "INVALID_ARGUMENT")
        with tempfile.TemporaryDirectory() as d:
            write_model(d, [node("a", "Identity", ["b"]), node("b", "Identity", ["a"])])
            self.expect_error(d, "contains a cycle")
        with tempfile.TemporaryDirectory() as d:
            write_model(d, [placeholder("x", np.float32), node("side", "NoOp", ["^x"])])
            self.expect_error(d, "The graph has no output")


class SavedModels(unittest.TestCase):
    """SavedModel directories go to the SavedModel reader; the model keeps their SignatureDefs."""

    def test_saved_model_routed(self):
        base = os.path.join(os.environ.get("PLINTH_SHARED", "../shared"), "models/tfs-testdata/saved_model_half_plus_three")
        version = os.path.join(base, sorted(os.listdir(base))[0])
        rc, out, err = run_model(version)
        self.assertEqual(rc, 0, err)
        meta = json.loads(out)
        self.assertEqual(meta["format"], "tensorflow_savedmodel")
        self.assertEqual(meta["signatures"]["serving_default"]["inputs"]["x"]["name"], "x:0")
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "x.npy"), np.float32([1, 2, 5]))
            rc, out, err = run_model(version, "--feed", "x:0=" + os.path.join(d, "x.npy"),
                                     "--fetch", "y:0=" + os.path.join(d, "y.npy"))
            self.assertEqual(rc, 0, err)
            np.testing.assert_allclose(np.load(os.path.join(d, "y.npy")), [3.5, 4, 5.5])


if __name__ == "__main__":
    unittest.main()
