"""Kernels given tensors with no elements (a zero dimension, empty strings),
checked against numpy's shapes and values.

An empty tensor's buffer holds no element, so a kernel that copies, fills,
sorts or offsets "count" elements of it does so with a count of zero; these
runs make the sanitizer builds see every such call."""
import os
import unittest

import numpy as np
import tfs
from graphlib import const, dtype_attr, node, placeholder, run, shape
from tensorflow.core.example import example_pb2
from tensorflow.core.framework import tensor_pb2, types_pb2
from test_ops_summary import Summary


class Batch:
    """Many independent op invocations in one graph and one run."""

    def __init__(self):
        self.nodes, self.feeds, self.fetches, self.wants = [], {}, [], []

    def add(self, op, inputs, want, **attrs):
        """`want`: the expected output (a list of them for several outputs)."""
        k = len(self.wants)
        names = []
        for i, v in enumerate(inputs):
            v = np.asarray(v)
            name = "c%d_in%d" % (k, i)
            self.nodes.append(placeholder(name, bytes if v.dtype.kind in "SO" else v.dtype))
            self.feeds[name] = v
            names.append(name)
        self.nodes.append(node("c%d" % k, op, names, **attrs))
        wants = want if isinstance(want, list) else [want]
        for j, w in enumerate(wants):
            self.fetches.append("c%d:%d" % (k, j))
            self.wants.append((op, np.asarray(w)))

    def check(self, test):
        got = run(self.nodes, feeds=self.feeds, fetches=self.fetches)
        for (op, want), g, name in zip(self.wants, got, self.fetches):
            with test.subTest(op=op, fetch=name):
                test.assertEqual(g.shape, want.shape)
                if want.dtype.kind in "SO":
                    test.assertEqual(g.astype(bytes).tolist(), want.astype(bytes).tolist())
                else:
                    test.assertEqual(g.dtype, want.dtype)
                    np.testing.assert_array_equal(g, want)


F = np.float32
E0 = np.zeros((0,), F)
E03 = np.zeros((0, 3), F)
E20 = np.zeros((2, 0), F)
S0 = np.array([], dtype=bytes)


class Array(unittest.TestCase):
    def test_shape_and_copy_ops(self):
        a = np.arange(6, dtype=F).reshape(2, 3)
        b = Batch()
        b.add("Identity", [E03], E03)
        b.add("Reshape", [E03, np.int32([3, 0])], E03.reshape(3, 0))
        b.add("Reshape", [S0, np.int32([0, 4])], S0.reshape(0, 4))
        b.add("ExpandDims", [E03, np.int32(1)], E03[:, None])
        b.add("Squeeze", [np.zeros((0, 1), F)], np.zeros((0, 1), F).squeeze(1), squeeze_dims=[1])
        # An empty list attr: protobuf leaves its array unallocated.
        b.add("Squeeze", [np.zeros((1, 0, 1), F)], np.zeros((0,), F), squeeze_dims=[])
        b.add("ConcatV2", [E03, a, np.int32(0)], np.concatenate([E03, a], 0))
        b.add("ConcatV2", [E03, E03, np.int32(0)], np.concatenate([E03, E03], 0))
        b.add("ConcatV2", [E20, a, E20, np.int32(1)], np.concatenate([E20, a, E20], 1))
        b.add("ConcatV2", [S0, np.array([b"x"]), S0, np.int32(0)], np.array([b"x"]))
        b.add("Pack", [E03, E03], np.stack([E03, E03]), axis=0)
        b.add("Pack", [E03, E03], np.stack([E03, E03], 2), axis=2)
        b.add("Unpack", [np.zeros((2, 0), F)], [E0, E0], num=2, axis=0)
        b.add("Split", [np.int32(1), np.zeros((0, 4), F)], [np.zeros((0, 2), F)] * 2, num_split=2)
        b.add("SplitV", [np.zeros((3, 2), F), np.int32([0, 3]), np.int32(0)],
              [np.zeros((0, 2), F), np.zeros((3, 2), F)], num_split=2)
        b.add("Slice", [a, np.int32([1, 0]), np.int32([0, 3])], a[1:1, 0:3])
        b.add("Slice", [E03, np.int32([0, 1]), np.int32([0, 2])], E03[:, 1:3])
        b.add("StridedSlice", [a, np.int32([1, 0]), np.int32([1, 3]), np.int32([1, 1])], a[1:1, 0:3],
              begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0)
        b.add("StridedSlice", [a, np.int32([0, 2]), np.int32([2, 0]), np.int32([1, -1])], a[0:2, 2:0:-1],
              begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0)
        b.add("Transpose", [E03, np.int32([1, 0])], E03.T)
        b.add("Transpose", [np.zeros((2, 0, 3), F), np.int32([2, 0, 1])], np.zeros((3, 2, 0), F))
        b.add("Tile", [E03, np.int32([4, 2])], np.tile(E03, (4, 2)))
        b.add("Tile", [a, np.int32([0, 2])], np.tile(a, (0, 2)))
        b.add("Tile", [S0, np.int32([3])], S0)
        b.add("BroadcastTo", [np.float32([1, 2, 3]), np.int32([0, 3])], np.broadcast_to(F([1, 2, 3]), (0, 3)))
        b.add("Pad", [E03, np.int32([[1, 1], [0, 0]])], np.pad(E03, ((1, 1), (0, 0))))
        b.add("Pad", [E20, np.int32([[0, 0], [0, 0]])], E20)
        b.add("PadV2", [E20, np.int32([[0, 1], [2, 0]]), F(7)], np.pad(E20, ((0, 1), (2, 0)), constant_values=7))
        b.add("MirrorPad", [E03, np.int32([[0, 0], [1, 1]])], np.pad(E03, ((0, 0), (1, 1)), "symmetric"),
              mode="SYMMETRIC")
        b.add("ReverseV2", [E03, np.int32([0, 1])], E03[::-1, ::-1])
        b.add("Fill", [np.int32([0, 3]), F(2)], np.full((0, 3), 2, F))
        b.add("Fill", [np.int32([2, 0]), np.array(b"s")], np.full((2, 0), b"s"))
        b.add("ZerosLike", [E03], E03)
        b.add("OnesLike", [S0.astype(F)], E0)
        b.add("Range", [np.int32(3), np.int32(3), np.int32(1)], np.arange(3, 3, dtype=np.int32))
        b.add("OneHot", [np.int32([]), np.int32(4), F(1), F(0)], np.zeros((0, 4), F))
        b.add("Shape", [E03], np.int32([0, 3]))
        b.add("Size", [E03], np.int32(0))
        b.add("Cast", [E03, ], E03.astype(np.int64), SrcT=F, DstT=np.int64)
        b.add("Cast", [np.zeros((0,), np.int32)], np.zeros((0,), F), SrcT=np.int32, DstT=F)
        b.check(self)

    def test_gather_scatter_search(self):
        a = np.arange(6, dtype=F).reshape(2, 3)
        i0 = np.zeros((0,), np.int32)
        b = Batch()
        b.add("GatherV2", [a, i0, np.int32(0)], a[i0])
        b.add("GatherV2", [a, i0, np.int32(1)], a[:, i0])
        b.add("GatherV2", [E03, np.zeros((0, 2), np.int64), np.int32(0)], np.zeros((0, 2, 3), F))
        b.add("GatherV2", [np.array([b"a", b""]), np.int32([1, 1]), np.int32(0)], np.array([b"", b""]))
        b.add("Gather", [a, i0], a[i0])
        b.add("GatherNd", [a, np.zeros((0, 2), np.int32)], np.zeros((0,), F))
        b.add("GatherNd", [a, np.zeros((0, 1), np.int32)], np.zeros((0, 3), F))
        b.add("ScatterNd", [np.zeros((0, 1), np.int32), np.zeros((0, 3), F), np.int32([2, 3])], np.zeros((2, 3), F))
        b.add("ScatterNd", [np.zeros((0, 1), np.int32), np.zeros((0, 0), F), np.int32([2, 0])], np.zeros((2, 0), F))
        b.add("Where", [np.zeros((0, 3), np.bool_)], np.zeros((0, 2), np.int64))
        b.add("Where", [np.zeros((2, 3), np.bool_)], np.zeros((0, 2), np.int64))
        b.add("Unique", [E0], [E0, np.zeros((0,), np.int32)])
        b.add("Unique", [S0], [S0, np.zeros((0,), np.int32)])
        b.add("TopKV2", [E03, np.int32(0)], [np.zeros((0, 0), F), np.zeros((0, 0), np.int32)])
        b.add("TopKV2", [a, np.int32(0)], [np.zeros((2, 0), F), np.zeros((2, 0), np.int32)])
        b.add("Select", [np.zeros((0, 3), np.bool_), E03, E03], E03)
        b.add("SelectV2", [np.zeros((0, 1), np.bool_), E03, F(1)], E03)
        b.check(self)


class Examples(unittest.TestCase):
    def test_empty_feature_lists(self):
        # Features present with no values: protobuf leaves their value arrays
        # unallocated. A sparse feature gives no entries, the dense shape [2, 0].
        ser = []
        for kind in ("float_list", "int64_list", "bytes_list"):
            ex = example_pb2.Example()
            for key in ("f", "i", "s"):
                ex.features.feature[key].SetInParent()
            getattr(ex.features.feature["f"], kind).SetInParent()
            ex.features.feature["i"].int64_list.SetInParent()
            ex.features.feature["s"].bytes_list.SetInParent()
            ser.append(ex.SerializeToString())
        ser = ser[:1] + [example_pb2.Example().SerializeToString()]
        nodes = [const("serialized", np.array(ser, dtype=object)), const("names", np.array([], dtype=object))]
        keys = ["f", "i", "s"]
        for k in keys:
            nodes.append(const("k_" + k, np.array(k.encode(), dtype=object)))
        nodes.append(node("p", "ParseExample", ["serialized", "names"] + ["k_" + k for k in keys], Nsparse=3, Ndense=0,
                          sparse_types=[np.float32, np.int64, bytes], Tdense=[], dense_shapes=[]))
        got = run(nodes, feeds={}, fetches=["p:%d" % i for i in range(9)])
        for j, dt in enumerate([np.float32, np.int64]):
            self.assertEqual(got[j].shape, (0, 2))
            self.assertEqual(got[3 + j].shape, (0,))
            self.assertEqual(got[3 + j].dtype, dt)
            np.testing.assert_array_equal(got[6 + j], [2, 0])
        self.assertEqual(got[5].shape, (0,))
        np.testing.assert_array_equal(got[8], [2, 0])


class Math(unittest.TestCase):
    def test_elementwise_and_reductions(self):
        b = Batch()
        b.add("AddV2", [E03, F([1, 2, 3])], E03 + F([1, 2, 3]))
        b.add("Mul", [np.zeros((0, 1), F), np.ones((1, 3), F)], np.zeros((0, 3), F))
        b.add("Relu", [E03], E03)
        b.add("Exp", [E20], E20)
        b.add("Softmax", [E03], E03)
        b.add("Softmax", [E20], E20)
        b.add("Sum", [E03, np.int32(0)], E03.sum(0))
        b.add("Sum", [E03, np.int32(1)], E03.sum(1))
        b.add("Sum", [E03, np.int32([0, 1])], F(0))
        b.add("Prod", [E03, np.int32(0)], E03.prod(0))
        b.add("Mean", [E20, np.int32(0)], np.zeros((0,), F))
        b.add("Max", [E03, np.int32(1)], np.zeros((0,), F))
        b.add("Min", [E20, np.int32(0)], np.zeros((0,), F))
        b.add("Any", [np.zeros((0, 3), np.bool_), np.int32(0)], np.zeros((3,), np.bool_))
        b.add("All", [np.zeros((0, 3), np.bool_), np.int32(0)], np.ones((3,), np.bool_))
        b.add("ArgMax", [E03, np.int32(1)], np.zeros((0,), np.int64))
        b.add("Cumsum", [E03, np.int32(0)], E03)
        b.add("MatMul", [E03, np.ones((3, 4), F)], np.zeros((0, 4), F))
        b.add("MatMul", [E20, np.zeros((0, 4), F)], np.zeros((2, 4), F))
        b.add("MatMul", [np.ones((2, 3), F), np.zeros((3, 0), F)], np.zeros((2, 0), F))
        b.add("BatchMatMulV2", [np.zeros((0, 2, 3), F), np.ones((3, 4), F)], np.zeros((0, 2, 4), F))
        b.add("BatchMatMulV2", [np.zeros((2, 2, 0), F), np.ones((2, 0, 4), F)], np.zeros((2, 2, 4), F))
        b.add("BiasAdd", [E03, F([1, 2, 3])], E03)
        b.check(self)

    def test_nn_with_empty_batch(self):
        x = np.zeros((0, 4, 4, 2), F)
        w = np.ones((3, 3, 2, 5), F)
        b = Batch()
        b.add("Conv2D", [x, w], np.zeros((0, 4, 4, 5), F), strides=[1, 1, 1, 1], padding="SAME")
        b.add("MaxPool", [x], np.zeros((0, 2, 2, 2), F), ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
        b.add("AvgPool", [x], np.zeros((0, 2, 2, 2), F), ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
        b.add("ResizeBilinear", [x, np.int32([8, 8])], np.zeros((0, 8, 8, 2), F))
        b.check(self)


class Strings(unittest.TestCase):
    def test_empty_strings(self):
        e = np.array([b"", b""])
        b = Batch()
        b.add("StringJoin", [e, e], np.array([b"", b""]), N=2, separator="")
        b.add("StringJoin", [e, np.array([b"", b"x"])], np.array([b"-", b"-x"]), N=2, separator="-")
        b.add("StaticRegexReplace", [e], e, pattern="x", rewrite="", replace_global=True)
        b.add("StaticRegexReplace", [np.array([b"", b"aa"])], np.array([b"", b""]), pattern="a*", rewrite="",
              replace_global=True)
        b.add("StaticRegexFullMatch", [e], np.array([True, True]), pattern="a*")
        b.add("RegexFullMatch", [e, np.array(b"")], np.array([True, True]))
        b.add("AsString", [np.zeros((0,), np.int32)], S0)
        b.add("StringToHashBucketFast", [S0], np.zeros((0,), np.int64), num_buckets=10)
        b.add("StringLength", [e], np.int32([0, 0]))
        b.add("Equal", [e, np.array([b"", b"a"])], np.array([True, False]))
        b.add("AddV2", [e, np.array([b"", b"a"])], np.array([b"", b"a"]))
        b.add("Identity", [S0], S0)
        b.check(self)

    def test_strings_given_no_values(self):
        # A string TensorProto with a shape but no string_val holds empty
        # strings that were never written: their data pointers are null.
        p = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING)
        p.tensor_shape.dim.add(size=2)
        e = np.array([b"", b""])
        nodes = [node("u", "Const", value=p, dtype=dtype_attr(types_pb2.DT_STRING)),
                 const("x", np.array([b"x", b""])), const("one", np.int32(1)), const("two", np.int32([2])),
                 const("ax", np.int32(0)), const("v", np.float32([1.5, 2.5]))]
        checks = [
            (node("join", "StringJoin", ["u", "x"], N=2, separator="-"), np.array([b"-x", b"-"])),
            (node("join_all", "StringJoin", ["u", "u"], N=2, separator=""), e),
            (node("re", "StaticRegexReplace", ["u"], pattern="a*", rewrite="b", replace_global=True),
             np.array([b"b", b"b"])),
            (node("full", "StaticRegexFullMatch", ["u"], pattern=""), np.array([True, True])),
            (node("len", "StringLength", ["u"]), np.int32([0, 0])),
            (node("hash", "StringToHashBucketFast", ["u"], num_buckets=7),
             run([const("h_in", e), node("h", "StringToHashBucketFast", ["h_in"], num_buckets=7)],
                 fetches=["h"])[0]),
            (node("eq", "Equal", ["u", "x"], T=bytes), np.array([False, True])),
            (node("add", "AddV2", ["u", "x"], T=bytes), np.array([b"x", b""])),
            (node("cat", "ConcatV2", ["u", "x", "ax"], N=2, T=bytes, Tidx=np.int32), np.array([b"", b"", b"x", b""])),
            (node("tile", "Tile", ["u", "two"], T=bytes, Tmultiples=np.int32), np.array([b""] * 4)),
            (node("gather", "GatherV2", ["u", "one", "ax"], Tparams=bytes, Tindices=np.int32, Taxis=np.int32),
             np.array(b"")),
            (node("uniq", "Unique", ["u"], T=bytes, out_idx=np.int32), np.array([b""])),
        ]
        nodes += [n for n, _ in checks]
        nodes.append(node("summary", "ScalarSummary", ["u", "v"], T=np.float32))
        got = run(nodes, fetches=[n.name for n, _ in checks] + ["summary"])
        for (n, want), g in zip(checks, got):
            with self.subTest(op=n.op):
                want = np.asarray(want)
                self.assertEqual(g.shape, want.shape)
                self.assertEqual(g.tolist(), want.tolist())
        summary = Summary.FromString(got[-1].item())
        self.assertEqual([(v.tag, v.simple_value) for v in summary.value], [("", 1.5), ("", 2.5)])

    def test_keys_and_slices_given_no_values(self):
        def unset_strings(name, n):
            p = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING)
            p.tensor_shape.dim.add(size=n)
            return node(name, "Const", value=p, dtype=dtype_attr(types_pb2.DT_STRING))

        # ParseExample with a dense key that is an unwritten empty string,
        # matching an Example feature whose key is "".
        ex = example_pb2.Example()
        ex.features.feature[""].float_list.value.append(4.0)
        nodes = [const("serialized", np.array([ex.SerializeToString()], dtype=object)),
                 const("names", np.array([], dtype=object)), unset_strings("dk", 1), const("dd", np.zeros([0], F)),
                 node("dkey", "Reshape", ["dk", "scalar"], T=bytes, Tshape=np.int32), const("scalar", np.int32([])),
                 node("p", "ParseExample", ["serialized", "names", "dkey", "dd"], Nsparse=0, Ndense=1,
                      sparse_types=[], Tdense=[F], dense_shapes=[shape(1)])]
        got, = run(nodes, fetches=["p:0"])
        np.testing.assert_array_equal(got, F([[4.0]]))
        # RestoreV2 with shape_and_slices of unwritten empty strings (whole tensors).
        prefix = os.path.join(tfs.testdata("saved_model_half_plus_two_cpu"), "00000123", "variables", "variables")
        nodes = [const("prefix", np.array(prefix.encode(), dtype=object)), const("names", np.array([b"a", b"b"])),
                 unset_strings("slices", 2),
                 node("r", "RestoreV2", ["prefix", "names", "slices"], dtypes=[F, F])]
        a, b = run(nodes, fetches=["r:0", "r:1"])
        self.assertEqual((a.tolist(), b.tolist()), (0.5, 2.0))


if __name__ == "__main__":
    unittest.main()
