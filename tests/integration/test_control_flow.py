"""TF1 control flow in the executor: while loops built the way
tf.while_loop builds them (Enter/Merge/Switch/LoopCond/NextIteration/Exit),
nested loops, loop invariants, conditionals inside loops and loops inside
untaken conditionals, TensorArrays written in a loop, parallel_iterations
not changing results, and malformed loop structure rejected at load."""
import unittest

import numpy as np
from graphlib import GraphError, const, dtype_attr, node, placeholder, run, shape

I32 = np.int32
F32 = np.float32


class Loop:
    """Builds a while loop over named loop variables, TensorFlow style."""

    def __init__(self, name, loop_vars, dtypes, parallel_iterations=10, outer_pivot=None):
        self.name, self.vars, self.dtypes = name, list(loop_vars), list(dtypes)
        self.par = parallel_iterations
        self.nodes = []
        self.merges, self.idents, self.exits = [], [], []
        self.outer_pivot = outer_pivot
        for k, (v, t) in enumerate(zip(self.vars, self.dtypes)):
            n = "%s/Enter_%d" % (name, k)
            self.nodes.append(node(n, "Enter", [v], T=t, frame_name=name, is_constant=False,
                                   parallel_iterations=parallel_iterations))
            self.merges.append("%s/Merge_%d" % (name, k))
            self.nodes.append(node(self.merges[-1], "Merge", [n, "%s/NextIteration_%d" % (name, k)], T=t, N=2))

    def invariant(self, tensor, dtype, label):
        """An outer tensor used inside the loop (a constant Enter)."""
        n = "%s/inv_%s" % (self.name, label)
        self.nodes.append(node(n, "Enter", [tensor], T=dtype, frame_name=self.name, is_constant=True,
                               parallel_iterations=self.par))
        return n

    def cond(self, pred):
        """pred: the name of a bool scalar computed from self.merges."""
        self.nodes.append(node(self.name + "/LoopCond", "LoopCond", [pred]))
        for k, t in enumerate(self.dtypes):
            sw = "%s/Switch_%d" % (self.name, k)
            self.nodes.append(node(sw, "Switch", [self.merges[k], self.name + "/LoopCond"], T=t))
            self.exits.append("%s/Exit_%d" % (self.name, k))
            self.nodes.append(node(self.exits[-1], "Exit", [sw + ":0"], T=t))
            self.idents.append("%s/Identity_%d" % (self.name, k))
            self.nodes.append(node(self.idents[-1], "Identity", [sw + ":1"], T=t))

    def body(self, results):
        for k, (r, t) in enumerate(zip(results, self.dtypes)):
            self.nodes.append(node("%s/NextIteration_%d" % (self.name, k), "NextIteration", [r], T=t))

    def const(self, name, value, in_body=True):
        """A constant inside the loop: a control input from the loop puts it in the frame."""
        pivot = self.idents[0] if in_body else self.merges[0]
        n = const("%s/%s" % (self.name, name), value)
        n.input.append("^" + pivot)
        self.nodes.append(n)
        return n.name


def counting_loop(limit, parallel_iterations=10):
    """i = 0; s = 0; while i < limit: s += i * i; i += 1 -> (i, s)"""
    nodes = [const("i0", I32(0)), const("s0", I32(0)), placeholder("limit", I32)]
    L = Loop("loop", ["i0", "s0"], [I32, I32], parallel_iterations)
    lim = L.invariant("limit", I32, "limit")
    L.nodes.append(node("loop/Less", "Less", [L.merges[0], lim], T=I32))
    L.cond("loop/Less")
    one = L.const("one", I32(1))
    L.nodes += [node("loop/add_i", "AddV2", [L.idents[0], one], T=I32),
                node("loop/sq", "Mul", [L.idents[0], L.idents[0]], T=I32),
                node("loop/add_s", "AddV2", [L.idents[1], "loop/sq"], T=I32)]
    L.body(["loop/add_i", "loop/add_s"])
    return nodes + L.nodes, L


class WhileLoops(unittest.TestCase):
    def test_counting_loop(self):
        nodes, L = counting_loop(10)
        for limit in (0, 1, 10, 57):
            i, s = run(nodes, feeds={"limit": I32(limit)}, fetches=L.exits)
            self.assertEqual(i, limit)
            self.assertEqual(s, sum(k * k for k in range(limit)))

    def test_parallel_iterations_do_not_change_results(self):
        for par in (1, 2, 10, 1000):
            nodes, L = counting_loop(0, par)
            i, s = run(nodes, feeds={"limit": I32(30)}, fetches=L.exits)
            self.assertEqual((i, s), (30, sum(k * k for k in range(30))))

    def test_nested_loops(self):
        # for i in range(n): for j in range(m): total += i * 10 + j
        nodes = [const("i0", I32(0)), const("t0", I32(0)), placeholder("n", I32), placeholder("m", I32)]
        O = Loop("outer", ["i0", "t0"], [I32, I32])
        n_in = O.invariant("n", I32, "n")
        m_in = O.invariant("m", I32, "m")
        O.nodes.append(node("outer/Less", "Less", [O.merges[0], n_in], T=I32))
        O.cond("outer/Less")
        j0 = O.const("j0", I32(0))
        # inner loop over (j, total), reading outer's i as an invariant
        I = Loop("outer/inner", [j0, O.idents[1]], [I32, I32])
        m_inner = I.invariant(m_in, I32, "m")
        i_inner = I.invariant(O.idents[0], I32, "i")
        I.nodes.append(node("outer/inner/Less", "Less", [I.merges[0], m_inner], T=I32))
        I.cond("outer/inner/Less")
        one = I.const("one", I32(1))
        ten = I.const("ten", I32(10))
        I.nodes += [node("outer/inner/i10", "Mul", [i_inner, ten], T=I32),
                    node("outer/inner/v", "AddV2", ["outer/inner/i10", I.idents[0]], T=I32),
                    node("outer/inner/total", "AddV2", [I.idents[1], "outer/inner/v"], T=I32),
                    node("outer/inner/j1", "AddV2", [I.idents[0], one], T=I32)]
        I.body(["outer/inner/j1", "outer/inner/total"])
        o_one = O.const("one", I32(1))
        O.nodes.append(node("outer/i1", "AddV2", [O.idents[0], o_one], T=I32))
        O.body(["outer/i1", I.exits[1]])
        nodes += O.nodes + I.nodes
        for n, m in ((3, 4), (0, 5), (5, 0), (4, 7)):
            i, total = run(nodes, feeds={"n": I32(n), "m": I32(m)}, fetches=O.exits)
            self.assertEqual(i, n)
            self.assertEqual(total, sum(a * 10 + b for a in range(n) for b in range(m)))

    def test_cond_inside_loop(self):
        # while i < 10: x = x * 2 if i % 3 == 0 else x + 1; i += 1
        nodes = [const("i0", I32(0)), const("x0", F32(1))]
        L = Loop("loop", ["i0", "x0"], [I32, F32])
        ten = L.const("ten", I32(10), in_body=False)
        L.nodes.append(node("loop/Less", "Less", [L.merges[0], ten], T=I32))
        L.cond("loop/Less")
        three, zero, one = L.const("three", I32(3)), L.const("zero", I32(0)), L.const("one", I32(1))
        two_f, one_f = L.const("two_f", F32(2)), L.const("one_f", F32(1))
        L.nodes += [node("loop/mod", "FloorMod", [L.idents[0], three], T=I32),
                    node("loop/eq", "Equal", ["loop/mod", zero], T=I32),
                    node("loop/cond/sw", "Switch", [L.idents[1], "loop/eq"], T=F32),
                    node("loop/cond/double", "Mul", ["loop/cond/sw:1", two_f], T=F32),
                    node("loop/cond/inc", "AddV2", ["loop/cond/sw:0", one_f], T=F32),
                    node("loop/cond/merge", "Merge", ["loop/cond/inc", "loop/cond/double"], T=F32, N=2),
                    node("loop/i1", "AddV2", [L.idents[0], one], T=I32)]
        L.body(["loop/i1", "loop/cond/merge"])
        x = F32(1)
        for i in range(10):
            x = x * 2 if i % 3 == 0 else x + 1
        got, = run(nodes + L.nodes, fetches=[L.exits[1]])
        self.assertEqual(got, x)

    def test_loop_in_untaken_branch(self):
        # y = (while i < 5: i += 1) if p else -1: the loop's frame is entered with dead
        # tensors when p is false and must finish dead, letting the Merge take the other side.
        nodes = [placeholder("p", np.bool_), const("i0", I32(0)),
                 node("sw", "Switch", ["i0", "p"], T=I32),
                 node("t", "Identity", ["sw:1"], T=I32), node("f", "Identity", ["sw:0"], T=I32)]
        L = Loop("loop", ["t"], [I32])
        five = L.const("five", I32(5), in_body=False)
        L.nodes.append(node("loop/Less", "Less", [L.merges[0], five], T=I32))
        L.cond("loop/Less")
        one = L.const("one", I32(1))
        L.nodes.append(node("loop/add", "AddV2", [L.idents[0], one], T=I32))
        L.body(["loop/add"])
        neg = const("neg", I32(-1))
        neg.input.append("^f")
        nodes += L.nodes + [neg, node("out", "Merge", ["neg", L.exits[0]], T=I32, N=2)]
        self.assertEqual(run(nodes, feeds={"p": np.bool_(True)}, fetches=["out"])[0], 5)
        self.assertEqual(run(nodes, feeds={"p": np.bool_(False)}, fetches=["out"])[0], -1)
        with self.assertRaises(GraphError):  # the loop's exit itself is dead when p is false
            run(nodes, feeds={"p": np.bool_(False)}, fetches=[L.exits[0]])

    def test_tensor_array_in_loop(self):
        # ta = TensorArray(size n); for i < n: ta[i] = [i, i*i]; concat -> values
        nodes = [placeholder("n", I32), node("ta", "TensorArrayV3", ["n"], dtype=F32, element_shape=shape(2)),
                 const("i0", I32(0))]
        L = Loop("loop", ["i0", "ta:1"], [I32, F32])
        n_in = L.invariant("n", I32, "n")
        L.nodes.append(node("loop/inv_h", "Enter", ["ta"], T=dtype_attr(20), frame_name="loop", is_constant=True,
                            parallel_iterations=10))  # DT_RESOURCE
        L.nodes.append(node("loop/Less", "Less", [L.merges[0], n_in], T=I32))
        L.cond("loop/Less")
        one = L.const("one", I32(1))
        L.nodes += [node("loop/f", "Cast", [L.idents[0]], SrcT=I32, DstT=F32),
                    node("loop/sq", "Mul", ["loop/f", "loop/f"], T=F32),
                    node("loop/v", "Pack", ["loop/f", "loop/sq"], T=F32, N=2, axis=0),
                    node("loop/write", "TensorArrayWriteV3", ["loop/inv_h", L.idents[0], "loop/v", L.idents[1]],
                         T=F32),
                    node("loop/i1", "AddV2", [L.idents[0], one], T=I32)]
        L.body(["loop/i1", "loop/write"])
        nodes += L.nodes + [node("stack", "TensorArrayGatherV3", ["ta", "range", L.exits[1]], dtype=F32,
                                 element_shape=shape(2)),
                            const("zero", I32(0)), const("step", I32(1)),
                            node("range", "Range", ["zero", "n", "step"], Tidx=I32)]
        for n in (1, 6):
            got, = run(nodes, feeds={"n": I32(n)}, fetches=["stack"])
            np.testing.assert_array_equal(got, [[k, k * k] for k in range(n)])


class Structure(unittest.TestCase):
    def test_inputs_from_two_frames(self):
        nodes, L = counting_loop(3)
        # a node mixing a loop tensor with an outer tensor without an Enter
        nodes.append(node("bad", "AddV2", [L.idents[0], "i0"], T=I32))
        with self.assertRaises(GraphError) as e:
            run(nodes, feeds={"limit": I32(3)}, fetches=L.exits[:1], targets=["bad"])
        self.assertIn("has inputs from different frames", str(e.exception))

    def test_cycle_without_next_iteration(self):
        nodes = [const("a", I32(1)), node("m", "Merge", ["a", "b"], T=I32, N=2), node("b", "Identity", ["m"], T=I32)]
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["m"])
        self.assertIn("contains a cycle", str(e.exception))


if __name__ == "__main__":
    unittest.main()
