"""Constant folding at prepare time: constant subexpressions are computed
once and drop out of the execution, fed tensors and loop bodies are left
alone, and results are the same with folding on and off (the MTCNN graph
against the oracle both ways)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from graphlib import const, graph, node, placeholder, tool

F32 = np.float32
SHARED = os.environ.get("PLINTH_SHARED", "../shared")


def run_stats(nodes, feeds, fetches, fold=True):
    """Runs through run_graph --stats; returns (node count, fetched arrays)."""
    env = dict(os.environ, PLINTH_CONSTANT_FOLDING="1" if fold else "0")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "g.pb")
        with open(path, "wb") as f:
            f.write(graph(nodes).SerializeToString())
        args = [tool("run_graph"), path, "--stats"]
        for i, (name, value) in enumerate(feeds.items()):
            np.save(os.path.join(d, "in%d.npy" % i), value)
            args += ["--feed", "%s=%s" % (name, os.path.join(d, "in%d.npy" % i))]
        for i, name in enumerate(fetches):
            args += ["--fetch", "%s=%s" % (name, os.path.join(d, "out%d.npy" % i))]
        p = subprocess.run(args, capture_output=True, text=True, env=env)
        if p.returncode:
            raise AssertionError(p.stderr)
        count = int(p.stdout.split()[1])
        return count, [np.load(os.path.join(d, "out%d.npy" % i)) for i in range(len(fetches))]


GRAPH = [const("a", F32([1, 2, 3])), const("b", F32(2)), node("ab", "Mul", ["a", "b"], T=F32),
         node("ab2", "Square", ["ab"], T=F32), placeholder("x", F32), node("y", "AddV2", ["ab2", "x"], T=F32)]


class Folding(unittest.TestCase):
    def test_constant_subexpression_folds(self):
        x = F32([10, 20, 30])
        on, (y_on,) = run_stats(GRAPH, {"x": x}, ["y"], fold=True)
        off, (y_off,) = run_stats(GRAPH, {"x": x}, ["y"], fold=False)
        np.testing.assert_array_equal(y_on, (np.float32([1, 2, 3]) * 2) ** 2 + x)
        np.testing.assert_array_equal(y_on, y_off)
        # a, b, ab collapse into the folded ab2: three nodes fewer
        self.assertEqual(off - on, 3)

    def test_fed_constant_is_not_folded_away(self):
        x = F32([0, 0, 0])
        _, (y,) = run_stats(GRAPH, {"x": x, "b:0": F32(-1)}, ["y"], fold=True)
        np.testing.assert_array_equal(y, [1, 4, 9])

    def test_folded_node_can_be_fetched(self):
        _, (ab,) = run_stats(GRAPH, {"x": F32([0, 0, 0])}, ["ab"], fold=True)
        np.testing.assert_array_equal(ab, [2, 4, 6])

    def test_mtcnn_same_with_folding_off(self):
        oracle = os.path.join(SHARED, "oracle")
        with open(os.path.join(oracle, "ref", "test_image.A.json")) as f:
            params = json.load(f)["params"]
        with tempfile.TemporaryDirectory() as d:
            feeds = {"min_size": F32(params["min_size"]), "factor": F32(params["factor"]),
                     "thresholds": F32(params["thresholds"])}
            args = [tool("run_graph"), os.path.join(SHARED, "models/mtcnn/1/mtcnn.pb"), "--stats",
                    "--feed", "input=" + os.path.join(oracle, "raw", "test_image.npy")]
            for k, v in feeds.items():
                np.save(os.path.join(d, k + ".npy"), v)
                args += ["--feed", "%s=%s" % (k, os.path.join(d, k + ".npy"))]
            for k in ("box", "prob", "landmarks"):
                args += ["--fetch", "%s=%s" % (k, os.path.join(d, k + ".npy"))]
            p = subprocess.run(args, capture_output=True, text=True,
                               env=dict(os.environ, PLINTH_CONSTANT_FOLDING="0"))
            self.assertEqual(p.returncode, 0, p.stderr)
            got = {k: np.load(os.path.join(d, k + ".npy")).tolist() for k in ("box", "prob", "landmarks")}
            with open(os.path.join(d, "got.json"), "w") as f:
                json.dump(got, f)
            c = subprocess.run([sys.executable, os.path.join(oracle, "compare.py"),
                                os.path.join(oracle, "ref", "test_image.A.json"), os.path.join(d, "got.json")],
                               capture_output=True, text=True)
            self.assertEqual(c.returncode, 0, c.stdout)


if __name__ == "__main__":
    unittest.main()
