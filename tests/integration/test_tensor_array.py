"""TensorArrayV3 and friends against hand-computed results and TensorFlow's
error texts: fixed and dynamic size, element shapes, clear_after_read,
gather/scatter, concat/split, size and close."""
import unittest

import numpy as np
from graphlib import GraphError, const, node, run, shape

F = np.float32


def ta(name, size, **attrs):
    attrs.setdefault("dtype", F)
    return [const(name + "/size", np.int32(size)), node(name, "TensorArrayV3", [name + "/size"], **attrs)]


def write(name, arr, index, value, flow):
    """Writes const `value` at `index`; returns (nodes, flow tensor name)."""
    v = np.asarray(value, F)
    return [const(name + "/i", np.int32(index)), const(name + "/v", v),
            node(name, "TensorArrayWriteV3", [arr, name + "/i", name + "/v", flow], T=F)], name


def chain(arr, writes, flow):
    nodes = []
    for k, (i, v) in enumerate(writes):
        ns, flow = write("w%d" % k, arr, i, v, flow)
        nodes += ns
    return nodes, flow


class TensorArray(unittest.TestCase):
    def test_write_read_gather_concat_size(self):
        nodes, flow = chain("ta", [(0, [1, 2]), (1, [3, 4]), (2, [5, 6])], "ta:1")
        nodes = ta("ta", 3, clear_after_read=False) + nodes + [
            const("idx", np.int32([2, 0])),
            node("g", "TensorArrayGatherV3", ["ta", "idx", flow], dtype=F, element_shape=shape(None)),
            node("c", "TensorArrayConcatV3", ["ta", flow], dtype=F, element_shape_except0=shape(None)),
            node("s", "TensorArraySizeV3", ["ta", flow]),
            const("one", np.int32(1)), node("r", "TensorArrayReadV3", ["ta", "one", flow], dtype=F)]
        g, c, lens, s, r = run(nodes, fetches=["g", "c", "c:1", "s", "r"])
        np.testing.assert_array_equal(g, [[5, 6], [1, 2]])
        np.testing.assert_array_equal(c, [1, 2, 3, 4, 5, 6])
        np.testing.assert_array_equal(lens, [2, 2, 2])
        self.assertEqual(lens.dtype, np.int64)
        self.assertEqual(s, 3)
        np.testing.assert_array_equal(r, [3, 4])

    def test_flow_output_is_a_float_scalar(self):
        nodes = ta("ta", 1)
        flow, = run(nodes, fetches=["ta:1"])
        self.assertEqual(flow.dtype, np.float32)
        self.assertEqual(flow.shape, ())

    def test_dynamic_size_grows_and_unwritten_reads_zeros(self):
        nodes, flow = chain("ta", [(3, [7, 8])], "ta:1")
        nodes = ta("ta", 0, dynamic_size=True, element_shape=shape(2)) + nodes + [
            node("s", "TensorArraySizeV3", ["ta", flow]),
            const("one", np.int32(1)), node("r", "TensorArrayReadV3", ["ta", "one", flow], dtype=F)]
        s, r = run(nodes, fetches=["s", "r"])
        self.assertEqual(s, 4)
        np.testing.assert_array_equal(r, [0, 0])

    def test_unwritten_read_without_full_shape_fails(self):
        nodes, flow = chain("ta", [(0, [1])], "ta:1")
        nodes = ta("ta", 2) + nodes + [const("one", np.int32(1)),
                                       node("r", "TensorArrayReadV3", ["ta", "one", flow], dtype=F)]
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["r"])
        self.assertIn("Could not read from TensorArray index 1.  Furthermore, the element shape is not fully defined",
                      str(e.exception))

    def test_identical_element_shapes_fill_zeros(self):
        nodes, flow = chain("ta", [(0, [1, 2, 3])], "ta:1")
        nodes = ta("ta", 2, identical_element_shapes=True) + nodes + [
            node("g", "TensorArrayGatherV3", ["ta", "idx", flow], dtype=F, element_shape=shape(None)),
            const("idx", np.int32([1, 0]))]
        g, = run(nodes, fetches=["g"])
        np.testing.assert_array_equal(g, [[0, 0, 0], [1, 2, 3]])

    def test_clear_after_read(self):
        nodes, flow = chain("ta", [(0, [1])], "ta:1")
        nodes = ta("ta", 1) + nodes + [const("zero", np.int32(0)),
                                       node("r1", "TensorArrayReadV3", ["ta", "zero", flow], dtype=F),
                                       node("r2", "TensorArrayReadV3", ["ta", "zero", flow, "^r1"], dtype=F)]
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["r2"])
        self.assertIn("Could not read index 0 twice because it was cleared after a previous read", str(e.exception))

    def test_write_errors(self):
        cases = [
            ([(0, [1]), (0, [2])], {}, "because it has already been written to."),
            ([(5, [1])], {}, "Tried to write to index 5 but array is not resizeable and size is: 2"),
            ([(-1, [1])], {"dynamic_size": True}, "Tried to write to index -1"),
            ([(0, [1, 2])], {"element_shape": shape(3)},
             "because the value shape is [2] which is incompatible with the TensorArray's inferred element shape: [3]"),
        ]
        for writes, attrs, text in cases:
            nodes, flow = chain("ta", writes, "ta:1")
            with self.assertRaises(GraphError) as e:
                run(ta("ta", 2, **attrs) + nodes, fetches=[flow])
            self.assertIn(text, str(e.exception))
            self.assertIn("TensorArray ta_", str(e.exception))

    def test_dtype_mismatch(self):
        nodes = ta("ta", 1) + [const("i", np.int32(0)), const("v", np.int32([1])),
                               node("w", "TensorArrayWriteV3", ["ta", "i", "v", "ta:1"], T=np.int32)]
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["w"])
        self.assertIn("TensorArray dtype is float but Op is trying to write dtype int32.", str(e.exception))

    def test_scatter_and_gather(self):
        value = np.arange(12, dtype=F).reshape(3, 4)
        nodes = ta("ta", 0, dynamic_size=True) + [
            const("ix", np.int32([4, 0, 2])), const("v", value),
            node("sc", "TensorArrayScatterV3", ["ta", "ix", "v", "ta:1"], T=F),
            node("s", "TensorArraySizeV3", ["ta", "sc"]),
            const("gx", np.int32([0, 2, 4])),
            node("g", "TensorArrayGatherV3", ["ta", "gx", "sc", "^s"], dtype=F, element_shape=shape(4))]
        s, g = run(nodes, fetches=["s", "g"])
        self.assertEqual(s, 5)
        np.testing.assert_array_equal(g, value[[1, 2, 0]])

    def test_scatter_bounds(self):
        nodes = ta("ta", 2) + [const("ix", np.int32([0, 2])), const("v", np.zeros((2, 1), F)),
                               node("sc", "TensorArrayScatterV3", ["ta", "ix", "v", "ta:1"], T=F)]
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["sc"])
        self.assertIn("Max scatter index must be < array size (2 vs. 2)", str(e.exception))

    def test_split_and_concat(self):
        value = np.arange(10, dtype=F).reshape(5, 2)
        nodes = ta("ta", 3) + [
            const("v", value), const("lens", np.int64([2, 0, 3])),
            node("sp", "TensorArraySplitV3", ["ta", "v", "lens", "ta:1"], T=F),
            node("c", "TensorArrayConcatV3", ["ta", "sp"], dtype=F, element_shape_except0=shape(2)),
            const("two", np.int32(2))]
        c, lens = run(nodes, fetches=["c", "c:1"])
        np.testing.assert_array_equal(c, value)
        np.testing.assert_array_equal(lens, [2, 0, 3])

    def test_split_size_mismatch(self):
        nodes = ta("ta", 2) + [const("v", np.zeros((3,), F)), const("lens", np.int64([3])),
                               node("sp", "TensorArraySplitV3", ["ta", "v", "lens", "ta:1"], T=F)]
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["sp"])
        self.assertIn("TensorArray's size is not equal to the size of lengths (2 vs. 1)", str(e.exception))

    def test_empty_concat_and_gather(self):
        nodes = ta("ta", 0) + [
            node("c", "TensorArrayConcatV3", ["ta", "ta:1"], dtype=F, element_shape_except0=shape(3)),
            const("none", np.int32([]).reshape(0)),
            node("g", "TensorArrayGatherV3", ["ta", "none", "ta:1"], dtype=F, element_shape=shape(2, 2))]
        c, lens, g = run(nodes, fetches=["c", "c:1", "g"])
        self.assertEqual(c.shape, (0, 3))
        self.assertEqual(lens.shape, (0,))
        self.assertEqual(g.shape, (0, 2, 2))
        nodes[-1] = node("g", "TensorArrayGatherV3", ["ta", "none", "ta:1"], dtype=F, element_shape=shape(None, 2))
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["g"])
        self.assertIn("UNIMPLEMENTED", str(e.exception))

    def test_close(self):
        nodes = ta("ta", 2) + [node("cl", "TensorArrayCloseV3", ["ta"]),
                               node("s", "TensorArraySizeV3", ["ta", "ta:1", "^cl"])]
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["s"])
        self.assertIn("has already been closed.", str(e.exception))

    def test_strings(self):
        nodes = ta("ta", 2, dtype=bytes) + [
            const("i0", np.int32(0)), const("v0", np.array([b"ab", b"c"])),
            node("w0", "TensorArrayWriteV3", ["ta", "i0", "v0", "ta:1"], T=bytes),
            const("i1", np.int32(1)), const("v1", np.array([b"xyz"])),
            node("w1", "TensorArrayWriteV3", ["ta", "i1", "v1", "w0"], T=bytes),
            node("c", "TensorArrayConcatV3", ["ta", "w1"], dtype=bytes, element_shape_except0=shape())]
        c, = run(nodes, fetches=["c"])
        self.assertEqual(list(c), [b"ab", b"c", b"xyz"])


if __name__ == "__main__":
    unittest.main()
