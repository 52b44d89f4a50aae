"""Function libraries: PartitionedCall and StatefulPartitionedCall, library
functions used as ops, attr placeholders, node:output:index references,
functional While and If, nested calls, control_rets that must run, and the
errors for missing or recursive functions."""
import os
import subprocess
import tempfile
import unittest

import numpy as np
from graphlib import GraphError, attr_value, const, func, graph, node, placeholder, run_graphdef, tool
from tensorflow.core.framework import function_pb2, op_def_pb2

I32, F32 = np.int32, np.float32


def function(name, inputs, outputs, nodes, ret, attrs=(), control_ret=None):
    """inputs/outputs: [(name, dtype or "T")], ret: {output: "node:arg:idx"}."""
    f = function_pb2.FunctionDef()
    f.signature.name = name
    for arg_list, spec in ((f.signature.input_arg, inputs), (f.signature.output_arg, outputs)):
        for n, t in spec:
            a = arg_list.add(name=n)
            if isinstance(t, str):
                a.type_attr = t
            else:
                a.type = attr_value(t).type
    for a in attrs:
        f.signature.attr.add(name=a, type="type")
    f.node_def.extend(nodes)
    for k, v in ret.items():
        f.ret[k] = v
    for k, v in (control_ret or {}).items():
        f.control_ret[k] = v
    return f


def placeholder_attr(name):
    from tensorflow.core.framework import attr_value_pb2
    return attr_value_pb2.AttrValue(placeholder=name)


def run_lib(nodes, functions, feeds=None, fetches=()):
    g = graph(nodes)
    g.library.function.extend(functions)
    return run_graphdef(g, feeds, fetches)


# mul_add(x, y) = x * y + 1, generic over T
MUL_ADD = function("mul_add", [("x", "T"), ("y", "T")], [("out", "T")], [
    node("m", "Mul", ["x", "y"], T=placeholder_attr("T")),
    node("one", "Const", value=np.array(1, F32), dtype=F32),
    node("one_t", "Cast", ["one:output:0"], SrcT=F32, DstT=placeholder_attr("T")),
    node("r", "AddV2", ["m:z:0", "one_t:y:0"], T=placeholder_attr("T"))], {"out": "r:z:0"}, attrs=["T"])


class Calls(unittest.TestCase):
    def test_partitioned_call(self):
        for op in ("PartitionedCall", "StatefulPartitionedCall"):
            nodes = [placeholder("a", F32), placeholder("b", F32),
                     node("call", op, ["a", "b"], Tin=[F32, F32], Tout=[F32], f=func("mul_add", T=F32))]
            got, = run_lib(nodes, [MUL_ADD], {"a": F32([1, 2]), "b": F32([3, 4])}, ["call"])
            np.testing.assert_array_equal(got, [4, 9])

    def test_function_as_op_and_int_instantiation(self):
        nodes = [placeholder("a", I32), const("b", I32(5)), node("call", "mul_add", ["a", "b"], T=I32)]
        got, = run_lib(nodes, [MUL_ADD], {"a": I32([2, -1])}, ["call:0"])
        np.testing.assert_array_equal(got, [11, -4])
        self.assertEqual(got.dtype, np.int32)

    def test_nested_and_multi_output(self):
        # outer(x) = (mul_add(x, x), x): calls through PartitionedCall, two outputs
        outer = function("outer", [("x", F32)], [("sq1", F32), ("same", F32)], [
            node("inner", "PartitionedCall", ["x", "x"], Tin=[F32, F32], Tout=[F32], f=func("mul_add", T=F32)),
            node("ident", "Identity", ["x"], T=F32)], {"sq1": "inner:output:0", "same": "ident:output:0"})
        nodes = [placeholder("a", F32), node("call", "PartitionedCall", ["a"], Tin=[F32], Tout=[F32, F32], f=func("outer"))]
        s, same = run_lib(nodes, [MUL_ADD, outer], {"a": F32(3)}, ["call:0", "call:1"])
        self.assertEqual(s, 10)
        self.assertEqual(same, 3)

    def test_control_ret_runs(self):
        # The failing node feeds nothing, but as a control ret it must run.
        f = function("effect", [("x", F32)], [("y", F32)], [
            node("unfed", "Placeholder", dtype=F32), node("guard", "Identity", ["unfed:output:0"], T=F32),
            node("y", "Identity", ["x"], T=F32)], {"y": "y:output:0"}, control_ret={"guard": "guard"})
        nodes = [placeholder("a", F32), node("call", "StatefulPartitionedCall", ["a"], Tin=[F32], Tout=[F32], f=func("effect"))]
        with self.assertRaises(GraphError) as e:
            run_lib(nodes, [f], {"a": F32(1)}, ["call"])
        self.assertIn("You must feed a value for placeholder tensor 'unfed'", str(e.exception))

    def test_missing_and_recursive_functions(self):
        nodes = [placeholder("a", F32), node("call", "PartitionedCall", ["a"], Tin=[F32], Tout=[F32], f=func("nowhere"))]
        with self.assertRaises(GraphError) as e:
            run_lib(nodes, [MUL_ADD], {"a": F32(1)}, ["call"])
        self.assertIn("Function 'nowhere' is not defined", str(e.exception))
        rec = function("rec", [("x", F32)], [("y", F32)], [
            node("again", "PartitionedCall", ["x"], Tin=[F32], Tout=[F32], f=func("rec"))], {"y": "again:output:0"})
        nodes[-1] = node("call", "PartitionedCall", ["a"], Tin=[F32], Tout=[F32], f=func("rec"))
        with self.assertRaises(GraphError) as e:
            run_lib(nodes, [rec], {"a": F32(1)}, ["call"])
        self.assertIn("levels deep", str(e.exception))


class FunctionalControlFlow(unittest.TestCase):
    # cond(i, acc) = i < 10; body(i, acc) = (i + 1, acc * 2)
    COND = function("cond", [("i", I32), ("acc", F32)], [("c", np.bool_)], [
        node("ten", "Const", value=np.array(10, I32), dtype=I32),
        node("less", "Less", ["i", "ten:output:0"], T=I32)], {"c": "less:z:0"})
    BODY = function("body", [("i", I32), ("acc", F32)], [("i1", I32), ("acc1", F32)], [
        node("one", "Const", value=np.array(1, I32), dtype=I32), node("two", "Const", value=np.array(2, F32), dtype=F32),
        node("inc", "AddV2", ["i", "one:output:0"], T=I32), node("dbl", "Mul", ["acc", "two:output:0"], T=F32)],
        {"i1": "inc:z:0", "acc1": "dbl:z:0"})

    def test_while(self):
        for op in ("While", "StatelessWhile"):
            nodes = [placeholder("i0", I32), placeholder("a0", F32),
                     node("w", op, ["i0", "a0"], T=[I32, F32], cond=func("cond"), body=func("body"))]
            for start in (0, 7, 12):
                i, acc = run_lib(nodes, [self.COND, self.BODY], {"i0": I32(start), "a0": F32(1)}, ["w:0", "w:1"])
                self.assertEqual(i, max(start, 10))
                self.assertEqual(acc, 2.0 ** max(0, 10 - start))

    def test_if(self):
        neg = function("neg", [("x", F32)], [("y", F32)], [node("n", "Neg", ["x"], T=F32)], {"y": "n:y:0"})
        ident = function("ident", [("x", F32)], [("y", F32)], [node("n", "Identity", ["x"], T=F32)],
                         {"y": "n:output:0"})
        for op in ("If", "StatelessIf"):
            nodes = [placeholder("p", I32), placeholder("x", F32),
                     node("cond", op, ["p", "x"], Tcond=I32, Tin=[F32], Tout=[F32], then_branch=func("neg"),
                          else_branch=func("ident"))]
            for p, want in ((1, -3), (0, 3), (-2, -3)):
                got, = run_lib(nodes, [neg, ident], {"p": I32(p), "x": F32(3)}, ["cond"])
                self.assertEqual(got, want)
            # a non-scalar condition is true when it has elements
            got, = run_lib(nodes, [neg, ident], {"p": np.zeros((0,), I32), "x": F32(3)}, ["cond"])
            self.assertEqual(got, 3)


    def test_case(self):
        def scale(name, k):
            return function(name, [("x", F32)], [("y", F32)], [
                node("k", "Const", value=np.array(k, F32), dtype=F32),
                node("m", "Mul", ["x", "k:output:0"], T=F32)], {"y": "m:z:0"})
        from tensorflow.core.framework import attr_value_pb2
        branches = attr_value_pb2.AttrValue()
        for name in ("times2", "times3", "times10"):
            branches.list.func.add(name=name)
        for op in ("Case", "StatelessCase"):
            nodes = [placeholder("b", I32), placeholder("x", F32),
                     node("case", op, ["b", "x"], Tin=[F32], Tout=[F32], branches=branches)]
            for b, want in ((0, 8), (1, 12), (2, 40), (7, 40), (-1, 40)):  # out of range: the last branch
                got, = run_lib(nodes, [scale("times2", 2), scale("times3", 3), scale("times10", 10)],
                               {"b": I32(b), "x": F32(4)}, ["case"])
                self.assertEqual(got, want)


class FrozenWithFunctions(unittest.TestCase):
    def test_signature_dtypes_from_call_outputs(self):
        g = graph([placeholder("a", I32), const("b", I32(5)),
                   node("call", "PartitionedCall", ["a", "b"], Tin=[I32, I32], Tout=[I32], f=func("mul_add", T=I32))])
        g.library.function.extend([MUL_ADD])
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "m.pb"), "wb") as f:
                f.write(g.SerializeToString())
            p = subprocess.run([tool("run_model"), d], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            import json
            out = json.loads(p.stdout)["signatures"]["serving_default"]["outputs"]
            self.assertEqual(out, {"call": {"name": "call:0", "dtype": "DT_INT32", "shape": None}})


class SavedModelTf2(unittest.TestCase):
    def test_half_plus_two_tf2(self):
        base = os.path.join(os.environ.get("PLINTH_SHARED", "../shared"), "models/tfs-testdata/saved_model_half_plus_two_tf2_cpu")
        version = os.path.join(base, sorted(os.listdir(base))[0])
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "x.npy"), F32([1, 2, 3]))
            p = subprocess.run([tool("run_model"), version, "--feed", "serving_default_x:0=" + os.path.join(d, "x.npy"),
                                "--fetch", "StatefulPartitionedCall_5:0=" + os.path.join(d, "y.npy")],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            np.testing.assert_allclose(np.load(os.path.join(d, "y.npy")), [2.5, 3, 3.5])


if __name__ == "__main__":
    unittest.main()
