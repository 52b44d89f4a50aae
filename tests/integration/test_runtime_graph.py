"""The graph runtime through run_graph: import, feeds and fetches, pruning,
Switch/Merge deadness, error reporting, hostile GraphDefs, .npy round trips."""
import os
import random
import subprocess
import tempfile
import unittest

import numpy as np
from graphlib import GraphError, const, graph, node, placeholder, run, run_graphdef, shape, tool


class Basics(unittest.TestCase):
    def test_const_identity(self):
        v = np.arange(6, dtype=np.float32).reshape(2, 3)
        got = run([const("c", v), node("i", "Identity", ["c"], T=np.float32)], fetches=["i", "c:0", "c"])
        for g in got:
            np.testing.assert_array_equal(g, v)
            self.assertEqual(g.dtype, np.float32)

    def test_compact_const_repeats_last_value(self):
        # TensorFlow's rule: fewer values than elements repeat the last one.
        from tensorflow.core.framework import tensor_pb2, types_pb2
        p = tensor_pb2.TensorProto(dtype=types_pb2.DT_INT32, int_val=[7, 9])
        p.tensor_shape.dim.add().size = 4
        got, = run([node("c", "Const", value=p, dtype=np.int32)], fetches=["c"])
        np.testing.assert_array_equal(got, [7, 9, 9, 9])
        p = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
        p.tensor_shape.dim.add().size = 3
        got, = run([node("z", "Const", value=p, dtype=np.float32)], fetches=["z"])
        np.testing.assert_array_equal(got, [0, 0, 0])

    def test_feed_placeholder_and_identity_n(self):
        x = np.array([[1, 2], [3, 4]], dtype=np.int64)
        got = run([placeholder("x", np.int64), const("c", np.float32(2.5)),
                   node("n", "IdentityN", ["c", "x"], T=[np.float32, np.int64])],
                  feeds={"x": x}, fetches=["n:1", "n:0"])
        np.testing.assert_array_equal(got[0], x)
        self.assertEqual(got[1], np.float32(2.5))

    def test_feed_overrides_any_tensor(self):
        # Feeding c:0 replaces the constant; the Const itself is pruned.
        got, = run([const("c", np.float32(1)), node("i", "StopGradient", ["c"], T=np.float32)],
                   feeds={"c:0": np.float32(5)}, fetches=["i"])
        self.assertEqual(got, np.float32(5))

    def test_fetch_of_fed_tensor(self):
        got, = run([placeholder("x", np.float32)], feeds={"x": np.float32(3)}, fetches=["x:0"])
        self.assertEqual(got, np.float32(3))

    def test_placeholder_with_default(self):
        nodes = [const("d", np.int32(4)), node("p", "PlaceholderWithDefault", ["d"], dtype=np.int32, shape=shape())]
        self.assertEqual(run(nodes, fetches=["p"])[0], 4)
        self.assertEqual(run(nodes, feeds={"p": np.int32(9)}, fetches=["p"])[0], 9)

    def test_pruning_skips_unneeded_failing_nodes(self):
        # The unfed placeholder would fail if it ran.
        got, = run([placeholder("unfed", np.float32), node("bad", "Identity", ["unfed"], T=np.float32),
                    const("c", np.int32(1)), node("ok", "Snapshot", ["c"], T=np.int32)], fetches=["ok"])
        self.assertEqual(got, 1)

    def test_control_dependency_runs_first(self):
        # The control input's failure shows that it ran even though no data flows from it.
        with self.assertRaises(GraphError) as e:
            run([placeholder("unfed", np.float32), node("guard", "Identity", ["unfed"], T=np.float32),
                 const("c", np.int32(1)), node("out", "Identity", ["c", "^guard"], T=np.int32)], fetches=["out"])
        self.assertIn("You must feed a value for placeholder tensor 'unfed' with dtype float", str(e.exception))

    def test_targets_run(self):
        with self.assertRaises(GraphError) as e:
            run([placeholder("unfed", np.float32, (2, None)), node("noop", "NoOp", ["^unfed"])], targets=["noop"])
        self.assertIn("shape [2,?]", str(e.exception))
        run([const("c", np.int32(1)), node("noop", "NoOp", ["^c"])], targets=["noop"])

    def test_npy_dtypes_round_trip(self):
        values = [np.float16([1.5, -2]), np.float64([[1e300]]), np.int8([-128, 127]), np.uint8([0, 255]),
                  np.int16([-3]), np.uint16([65535]), np.int32([]), np.uint32([4000000000]),
                  np.uint64([2**63 + 5]), np.bool_([True, False, True]), np.complex64([1 + 2j]),
                  np.complex128([3 - 4j]), np.array([b"ab", b"", b"xyz"]), np.float32(7).reshape(()),
                  np.zeros((2, 0, 3), np.float32)]
        for v in values:
            got, = run([placeholder("x", v.dtype if v.dtype.kind != "S" else bytes),
                        node("y", "Identity", ["x"])], feeds={"x": v}, fetches=["y"])
            self.assertEqual(got.dtype, v.dtype if v.dtype.kind != "S" else got.dtype)
            self.assertEqual(got.shape, v.shape)
            np.testing.assert_array_equal(got, v)


class SwitchMerge(unittest.TestCase):
    def cond_graph(self):
        # s = Switch(x, p); f = Identity(s:0); t = Identity(s:1); m = Merge(f, t)
        return [placeholder("x", np.float32), placeholder("p", np.bool_),
                node("s", "Switch", ["x", "p"], T=np.float32),
                node("f", "Identity", ["s:0"], T=np.float32), node("t", "Identity", ["s:1"], T=np.float32),
                node("m", "Merge", ["f", "t"], T=np.float32, N=2)]

    def test_merge_takes_the_live_branch(self):
        for pred, index in ((True, 1), (False, 0)):
            m, i = run(self.cond_graph(), feeds={"x": np.float32(3), "p": np.bool_(pred)}, fetches=["m", "m:1"])
            self.assertEqual(m, np.float32(3))
            self.assertEqual(i, index)
            self.assertEqual(i.dtype, np.int32)

    def test_dead_fetch_is_an_error(self):
        with self.assertRaises(GraphError) as e:
            run(self.cond_graph(), feeds={"x": np.float32(3), "p": np.bool_(True)}, fetches=["f"])
        self.assertIn("does not have value", str(e.exception))

    def test_deadness_skips_failing_nodes(self):
        # An unfed placeholder under the untaken branch's control never runs.
        nodes = self.cond_graph() + [node("unfed", "Placeholder", ["^f"], dtype=np.float32),
                                     node("guarded", "Identity", ["unfed"], T=np.float32),
                                     node("m2", "Merge", ["guarded", "t"], T=np.float32, N=2)]
        m2, = run(nodes, feeds={"x": np.float32(2), "p": np.bool_(True)}, fetches=["m2"])
        self.assertEqual(m2, np.float32(2))

    def test_dead_control_input_kills_the_node(self):
        nodes = self.cond_graph() + [const("c", np.float32(1)), node("ctl", "Identity", ["c", "^f"], T=np.float32)]
        with self.assertRaises(GraphError):
            run(nodes, feeds={"x": np.float32(2), "p": np.bool_(True)}, fetches=["ctl"])
        got, = run(nodes, feeds={"x": np.float32(2), "p": np.bool_(False)}, fetches=["ctl"])
        self.assertEqual(got, np.float32(1))

    def test_switch_predicate_must_be_a_bool_scalar(self):
        with self.assertRaises(GraphError) as e:
            run(self.cond_graph(), feeds={"x": np.float32(3), "p": np.bool_([True, False])}, fetches=["m"])
        self.assertIn("{{node s}}", str(e.exception))

    def test_control_trigger_runs_despite_dead_input(self):
        nodes = self.cond_graph() + [node("trig", "ControlTrigger", ["^f"]), const("c", np.int32(5)),
                                     node("after", "Identity", ["c", "^trig"], T=np.int32)]
        got, = run(nodes, feeds={"x": np.float32(2), "p": np.bool_(True)}, fetches=["after"])
        self.assertEqual(got, 5)


class Errors(unittest.TestCase):
    def expect(self, nodes, text, **kw):
        with self.assertRaises(GraphError) as e:
            run(nodes, **kw)
        self.assertIn(text, str(e.exception))
        return str(e.exception)

    def test_unknown_ops_are_listed_together(self):
        msg = self.expect([node("a", "NoSuchOp"), node("b", "AlsoMissing", ["a"])], "Op type not registered",
                          fetches=["b"])
        self.assertIn("'NoSuchOp' in node 'a'", msg)
        self.assertIn("'AlsoMissing' in node 'b'", msg)

    def test_cycle(self):
        self.expect([node("a", "Identity", ["b"]), node("b", "Identity", ["a"])], "contains a cycle", fetches=["a"])

    def test_missing_input(self):
        self.expect([node("a", "Identity", ["nowhere:0"])], "Unknown input node 'nowhere:0'", fetches=["a"])

    def test_wrong_input_count(self):
        # Kernels read inputs by position: a node short of inputs must be refused before one runs.
        self.expect([const("a", np.int32([1, 2])), node("s", "StridedSlice", ["a", "a", "a"], T=np.int32, Index=np.int32)],
                    "Node 's' has 3 inputs, but StridedSlice takes 4", fetches=["s"])
        self.expect([const("a", np.int32(1)), node("sw", "Switch", ["a"], T=np.int32)],
                    "Node 'sw' has 1 inputs, but Switch takes 2", fetches=["sw"])
        self.expect([node("m", "Merge", [], T=np.int32, N=0)], "Merge takes at least 1", fetches=["m"])

    def test_output_index_beyond_an_enter(self):
        # "e:1" of a one-output Enter is dead, never a read past the outputs.
        nodes = [const("a", np.int32(1)), node("e", "Enter", ["a"], T=np.int32, frame_name="f", is_constant=True),
                 node("i", "Identity", ["e:1"], T=np.int32), node("x", "Exit", ["i"], T=np.int32)]
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["x"])
        self.assertIn("does not have value", str(e.exception))

    def test_duplicate_node(self):
        self.expect([const("a", 1), const("a", 2)], "Node 'a' is not unique", fetches=["a"])

    def test_missing_fetch(self):
        self.expect([const("a", 1)], "does not exist", fetches=["b:0"])

    def test_exit_outside_loop(self):
        self.expect([const("a", 1), node("e", "Exit", ["a"], T=np.int32)], "not inside a while loop", fetches=["e"])

    def test_kernel_error_names_node(self):
        self.expect([placeholder("x", np.int32)], "[[{{node x}}]]", fetches=["x"])

    def test_bad_const(self):
        from tensorflow.core.framework import tensor_pb2, types_pb2
        p = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=b"abc")
        p.tensor_shape.dim.add().size = 2
        self.expect([node("c", "Const", value=p, dtype=np.float32)], "tensor_content", fetches=["c"])
        p = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1, 2, 3])
        p.tensor_shape.dim.add().size = 2
        got, = run([node("c", "Const", value=p, dtype=np.float32)], fetches=["c"])  # extra values are ignored
        np.testing.assert_array_equal(got, [1, 2])
        self.expect([node("c", "Const", value=p, dtype=np.int32)], "Type mismatch", fetches=["c"])
        self.expect([node("c", "Const", dtype=np.float32)], "missing attr 'value'", fetches=["c"])

    def test_garbage_bytes(self):
        rng = random.Random(7)
        valid = graph([const("c", np.arange(10, dtype=np.float32)), node("i", "Identity", ["c"])]).SerializeToString()
        inputs = [b"\xff" * 40, b"not a graph at all", valid[:len(valid) // 2]]
        for _ in range(40):
            b = bytearray(valid)
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            inputs.append(bytes(b))
        inputs += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))) for _ in range(40)]
        for data in inputs:
            try:
                run_graphdef(data, fetches=["i"])
            except GraphError as e:
                self.assertTrue(str(e).startswith("error: "), str(e))


def _varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def deeply_nested_graph(depth):
    """A GraphDef whose Const attr holds a function whose attr holds a function ... `depth` times,
    built in linear time: the length prefixes are computed inside out, the bytes emitted outside in."""
    # per level: AttrValue{func(10): NameAttrList{name(1):"f", attr(2): Entry{key(1):"k", value(2): <inner>}}}
    heads, size = [], 0
    for _ in range(depth):
        entry_len = 3 + len(_varint(size)) + 1 + size            # key "k" + value header + inner
        nal_len = 3 + len(_varint(entry_len)) + 1 + entry_len     # name "f" + entry header + entry
        heads.append(b"\x52" + _varint(nal_len) + b"\x0a\x01f" + b"\x12" + _varint(entry_len) + b"\x0a\x01k" +
                     b"\x12" + _varint(size))
        size = 1 + len(_varint(nal_len)) + nal_len
    attr = b"\x0a\x01a" + b"\x12" + _varint(size) + b"".join(reversed(heads))
    node = b"\x0a\x01n\x12\x05Const" + b"\x2a" + _varint(len(attr)) + attr
    return b"\x0a" + _varint(len(node)) + node


class Hostile(unittest.TestCase):
    def test_deep_nesting_is_refused(self):
        for depth in (40, 200000):
            with self.assertRaises(GraphError) as e:
                run_graphdef(deeply_nested_graph(depth), fetches=["n"])
            self.assertIn("nests messages more than 100 levels deep", str(e.exception))

    def test_moderate_nesting_parses(self):
        # 10 levels of function attrs is ordinary; the Const then fails for its missing value.
        with self.assertRaises(GraphError) as e:
            run_graphdef(deeply_nested_graph(10), fetches=["n"])
        self.assertNotIn("levels deep", str(e.exception))


class Tool(unittest.TestCase):
    def test_usage_and_bad_npy(self):
        p = subprocess.run([tool("run_graph")], capture_output=True)
        self.assertNotEqual(p.returncode, 0)
        with tempfile.TemporaryDirectory() as d:
            g = os.path.join(d, "g.pb")
            with open(g, "wb") as f:
                f.write(graph([placeholder("x", np.float32)]).SerializeToString())
            bad = os.path.join(d, "bad.npy")
            with open(bad, "wb") as f:
                f.write(b"\x93NUMPY\x01\x00\x10\x00{'descr': '>f4'}")
            p = subprocess.run([tool("run_graph"), g, "--feed", "x=" + bad, "--fetch", "x=" + os.path.join(d, "o.npy")],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1)


if __name__ == "__main__":
    unittest.main()
