"""State kernels through run_graph: resource variables, reference variables in
the handle form the SavedModel loader gives them, ResourceGather, gradient
descent, checkpoint restore, lookup tables. Each graph is one run; control
edges order the reads and writes, and the expected values come from Python
and numpy."""
import os
import tempfile
import unittest

import numpy as np
from graphlib import GraphError, const, node, placeholder, run, shape

SHARED = os.environ.get("PLINTH_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
DT_RESOURCE = 20


def scalar_shape():
    """A shape attr holding [] (graphlib's shape() leaves the attr unset)."""
    from tensorflow.core.framework import attr_value_pb2
    a = attr_value_pb2.AttrValue()
    a.shape.SetInParent()
    return a


def var(name, dtype=np.float32, shp=None, op="VarHandleOp", **kw):
    attrs = dict(dtype=dtype, shape=shp if shp is not None else shape(None), shared_name=kw.pop("shared_name", name))
    attrs.update(kw)
    return node(name, op, **attrs)


class ResourceVariables(unittest.TestCase):
    def test_assign_read_update_in_order(self):
        init = np.array([1.5, -2.0, 4.0], dtype=np.float32)
        delta = np.array([0.5, 0.5, -1.0], dtype=np.float32)
        nodes = [var("v"), const("init", init), const("delta", delta),
                 node("before", "VarIsInitializedOp", ["v"]),
                 node("assign", "AssignVariableOp", ["v", "init", "^before"], dtype=np.float32),
                 node("after", "VarIsInitializedOp", ["v", "^assign"]),
                 node("r1", "ReadVariableOp", ["v", "^assign"], dtype=np.float32),
                 node("add", "AssignAddVariableOp", ["v", "delta", "^r1"], dtype=np.float32),
                 node("r2", "ReadVariableOp", ["v", "^add"], dtype=np.float32),
                 node("sub", "AssignSubVariableOp", ["v", "delta", "^r2"], dtype=np.float32),
                 node("sub2", "AssignSubVariableOp", ["v", "delta", "^sub"], dtype=np.float32),
                 node("r3", "ReadVariableOp", ["v", "^sub2"], dtype=np.float32)]
        before, after, r1, r2, r3 = run(nodes, fetches=["before", "after", "r1", "r2", "r3"])
        self.assertEqual((bool(before), bool(after)), (False, True))
        np.testing.assert_array_equal(r1, init)
        np.testing.assert_array_equal(r2, init + delta)
        np.testing.assert_array_equal(r3, init - delta)

    def test_integer_wraparound(self):
        big = np.array([np.iinfo(np.int32).max], dtype=np.int32)
        nodes = [var("v", np.int32), const("x", big), const("one", np.array([1], dtype=np.int32)),
                 node("a", "AssignVariableOp", ["v", "x"], dtype=np.int32),
                 node("add", "AssignAddVariableOp", ["v", "one", "^a"], dtype=np.int32),
                 node("r", "ReadVariableOp", ["v", "^add"], dtype=np.int32)]
        r, = run(nodes, fetches=["r"])
        np.testing.assert_array_equal(r, big.astype(np.int64) + 1 - 2**32)

    def test_read_uninitialized(self):
        with self.assertRaises(GraphError) as e:
            run([var("w"), node("r", "ReadVariableOp", ["w"], dtype=np.float32)], fetches=["r"])
        self.assertIn("FAILED_PRECONDITION", str(e.exception))
        self.assertIn("Error while reading resource variable w", str(e.exception))

    def test_read_wrong_dtype(self):
        nodes = [var("v"), const("x", np.float32(1)), node("a", "AssignVariableOp", ["v", "x"], dtype=np.float32),
                 node("r", "ReadVariableOp", ["v", "^a"], dtype=np.int32)]
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["r"])
        self.assertIn("INVALID_ARGUMENT", str(e.exception))
        self.assertIn("Expected int32 got float", str(e.exception))

    def test_update_shape_mismatch(self):
        nodes = [var("v"), const("x", np.zeros(2, np.float32)), const("d", np.zeros(3, np.float32)),
                 node("a", "AssignVariableOp", ["v", "x"], dtype=np.float32),
                 node("add", "AssignAddVariableOp", ["v", "d", "^a"], dtype=np.float32)]
        with self.assertRaises(GraphError) as e:
            run(nodes, targets=["add"])
        self.assertIn("Cannot update variable with shape [2] using a Tensor with shape [3]", str(e.exception))

    def test_two_handles_one_variable(self):
        # Same shared_name: the same session variable.
        nodes = [var("h1", shared_name="shared"), var("h2", shared_name="shared"), const("x", np.float32(7)),
                 node("a", "AssignVariableOp", ["h1", "x"], dtype=np.float32),
                 node("r", "ReadVariableOp", ["h2", "^a"], dtype=np.float32)]
        self.assertEqual(run(nodes, fetches=["r"])[0], np.float32(7))

    def test_destroy(self):
        nodes = [var("v"), const("x", np.float32(1)), node("a", "AssignVariableOp", ["v", "x"], dtype=np.float32),
                 node("d", "DestroyResourceOp", ["v", "^a"]),
                 node("d2", "DestroyResourceOp", ["v", "^d"], ignore_lookup_error=False)]
        with self.assertRaises(GraphError) as e:
            run(nodes, targets=["d2"])
        self.assertIn("NOT_FOUND", str(e.exception))
        run(nodes, targets=["d"])

    def test_variable_shape(self):
        x = np.zeros((2, 5, 3), np.float32)
        nodes = [var("v"), const("x", x), node("a", "AssignVariableOp", ["v", "x"], dtype=np.float32),
                 node("s32", "VariableShape", ["v", "^a"]), node("s64", "VariableShape", ["v", "^a"], out_type=np.int64)]
        s32, s64 = run(nodes, fetches=["s32", "s64"])
        self.assertEqual((s32.dtype, s64.dtype), (np.int32, np.int64))
        np.testing.assert_array_equal(s32, x.shape)
        np.testing.assert_array_equal(s64, x.shape)

    def test_disable_copy_on_read(self):
        nodes = [var("v"), const("x", np.float32(3)), node("a", "AssignVariableOp", ["v", "x"], dtype=np.float32),
                 node("d", "DisableCopyOnRead", ["v", "^a"]), node("r", "ReadVariableOp", ["v", "^d"], dtype=np.float32)]
        self.assertEqual(run(nodes, fetches=["r"])[0], 3)
        with self.assertRaises(GraphError) as e:
            run([const("x", np.float32(3)), node("d", "DisableCopyOnRead", ["x"])], targets=["d"])
        self.assertIn("must be a variable handle", str(e.exception))

    def test_gather(self):
        params = np.arange(12, dtype=np.float32).reshape(4, 3)
        idx = np.array([[3, 0], [1, 1]], dtype=np.int64)
        nodes = [var("v"), const("p", params), const("i", idx),
                 node("a", "AssignVariableOp", ["v", "p"], dtype=np.float32),
                 node("g", "ResourceGather", ["v", "i", "^a"], dtype=np.float32, Tindices=np.int64)]
        g, = run(nodes, fetches=["g"])
        np.testing.assert_array_equal(g, params[idx])
        nodes[2] = const("i", np.array([4], dtype=np.int32))
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["g"])
        self.assertIn("indices[0] = 4 is not in [0, 4)", str(e.exception))

    def test_gradient_descent(self):
        w = np.array([1.0, 2.0, -3.0], dtype=np.float32)
        delta = np.array([0.2, -0.4, 1.0], dtype=np.float32)
        nodes = [var("v"), const("w", w), const("alpha", np.float32(0.5)), const("delta", delta),
                 node("a", "AssignVariableOp", ["v", "w"], dtype=np.float32),
                 node("gd", "ResourceApplyGradientDescent", ["v", "alpha", "delta", "^a"], T=np.float32),
                 node("r", "ReadVariableOp", ["v", "^gd"], dtype=np.float32)]
        r, = run(nodes, fetches=["r"])
        np.testing.assert_allclose(r, w - np.float32(0.5) * delta, rtol=1e-7)


class ReferenceVariables(unittest.TestCase):
    """VariableV2 as the loader leaves it: a handle, with Assign/AssignAdd taking it and a ReadVariableOp for values."""

    def nodes(self):
        return [var("v/_handle", op="VariableV2", shared_name="v", shp=scalar_shape()),
                node("v", "ReadVariableOp", ["v/_handle"], dtype=np.float32),
                const("x", np.float32(10)), const("one", np.float32(1)),
                node("init", "IsVariableInitialized", ["v/_handle"], dtype=np.float32),
                node("assign", "Assign", ["v/_handle", "x", "^init"], T=np.float32),
                node("incr", "AssignAdd", ["v/_handle", "one", "^assign"], T=np.float32),
                node("decr", "AssignSub", ["v/_handle", "one", "^incr"], T=np.float32)]

    def test_assign_outputs_new_values(self):
        init, a, i, d = run(self.nodes(), fetches=["init", "assign", "incr", "decr"])
        self.assertFalse(init)
        self.assertEqual((a, i, d), (10, 11, 10))

    def test_uninitialized_message(self):
        with self.assertRaises(GraphError) as e:
            run(self.nodes(), fetches=["v"])
        self.assertIn("Attempting to use uninitialized value v", str(e.exception))

    def test_assign_validates_shape(self):
        nodes = self.nodes()
        nodes[2] = const("x", np.zeros(2, np.float32))
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["assign"])
        self.assertIn("Assign requires shapes of both tensors to match. lhs shape= [] rhs shape= [2]", str(e.exception))
        nodes[5] = node("assign", "Assign", ["v/_handle", "x", "^init"], T=np.float32, validate_shape=False)
        np.testing.assert_array_equal(run(nodes, fetches=["assign"])[0], [0, 0])


class Checkpoints(unittest.TestCase):
    prefix = os.path.join(SHARED, "models", "tfs-testdata", "saved_model_half_plus_two_cpu", "00000123",
                          "variables", "variables")

    def restore(self, names, dtypes, slices=None, prefix=None):
        return [const("prefix", np.array(prefix or self.prefix, dtype=object)),
                const("names", np.array(names, dtype=object)),
                const("slices", np.array(slices or [""] * len(names), dtype=object)),
                node("r", "RestoreV2", ["prefix", "names", "slices"], dtypes=dtypes)]

    def test_restore_v2(self):
        a, c, b = run(self.restore(["a", "c", "b"], [np.float32] * 3), fetches=["r:0", "r:1", "r:2"])
        self.assertEqual((a, b, c), (0.5, 2.0, 3.0))

    def test_restore_errors(self):
        cases = [(self.restore(["zz"], [np.float32]), "NOT_FOUND: Key zz not found in checkpoint"),
                 (self.restore(["a"], [np.int32]), "expected dtype DT_INT32 does not equal original dtype DT_FLOAT"),
                 (self.restore(["a"], [np.float32], slices=["1 0,1"]), "does not match the shape stored in checkpoint"),
                 (self.restore(["a"], [np.float32], prefix="/nonexistent/x"),
                  "Failed to find any matching files for /nonexistent/x")]
        for nodes, msg in cases:
            with self.subTest(msg=msg), self.assertRaises(GraphError) as e:
                run(nodes, fetches=["r:0"])
            self.assertIn(msg, str(e.exception))

    def test_restore_v1_op_and_assign(self):
        nodes = [const("prefix", np.array(self.prefix, dtype=object)), const("name", np.array("b", dtype=object)),
                 node("r", "Restore", ["prefix", "name"], dt=np.float32),
                 var("b/_handle", op="VariableV2", shared_name="b", shp=scalar_shape()),
                 node("assign", "Assign", ["b/_handle", "r"], T=np.float32),
                 node("b", "ReadVariableOp", ["b/_handle", "^assign"], dtype=np.float32)]
        self.assertEqual(run(nodes, fetches=["b"])[0], 2.0)

    def test_save_is_refused(self):
        nodes = [const("prefix", np.array("/tmp/x", dtype=object)), const("names", np.array(["a"], dtype=object)),
                 const("slices", np.array([""], dtype=object)), const("a", np.float32(1)),
                 node("s", "SaveV2", ["prefix", "names", "slices", "a"], dtypes=[np.float32])]
        with self.assertRaises(GraphError) as e:
            run(nodes, targets=["s"])
        self.assertIn("UNIMPLEMENTED", str(e.exception))

    def test_sharded_filename(self):
        nodes = [const("base", np.array("model/ckpt", dtype=object)), const("s", np.int32(3)),
                 const("n", np.int32(12)), node("f", "ShardedFilename", ["base", "s", "n"])]
        self.assertEqual(run(nodes, fetches=["f"])[0], b"model/ckpt-00003-of-00012")


def oc_num(v):
    """OrderedCode::WriteNumIncreasing: a length byte, then big-endian bytes."""
    b = v.to_bytes((v.bit_length() + 7) // 8, "big") if v else b""
    return bytes([len(b)]) + b


def oc_string(s):
    """OrderedCode::WriteString: 00 -> 00 ff, ff -> ff 00, then the separator 00 01."""
    return b"".join(b"\x00\xff" if c == 0 else b"\xff\x00" if c == 255 else bytes([c]) for c in s) + b"\x00\x01"


def oc_signed(v):
    """OrderedCode::WriteSignedNumIncreasing, from ordered_code.cc's description: a sign bit, then as many
    copies of it as bytes follow the first, a delimiter bit, and the two's complement value."""
    x = ~v if v < 0 else v
    n = 1
    while x >= 1 << (7 * n - 1):
        n += 1
    raw = v & ((1 << (8 * n)) - 1)
    header = ((1 << (n + 1)) - 2) << (8 * n - n - 1)  # n one-bits (sign + n-1 size bits), then the delimiter 0
    return (raw ^ header).to_bytes(n, "big")


def slice_key(name, extents):
    key = oc_num(0) + oc_string(name.encode()) + oc_num(len(extents))
    for start, length in extents:
        key += oc_signed(start) + oc_signed(length)
    return key


def write_bundle(prefix, entries):
    """entries: [(key bytes, array, slices or None)] of float32 tensors."""
    from tensorflow.core.framework import types_pb2, tensor_slice_pb2
    from tensorflow.core.protobuf import tensor_bundle_pb2
    from test_bundle import build_table, crc32c, mask
    data, items = bytearray(), [(b"", tensor_bundle_pb2.BundleHeaderProto(num_shards=1).SerializeToString())]
    for key, arr, slices in sorted(entries, key=lambda e: e[0]):
        arr = np.ascontiguousarray(arr, dtype="<f4")
        e = tensor_bundle_pb2.BundleEntryProto(dtype=types_pb2.DT_FLOAT, offset=len(data), size=arr.nbytes,
                                               crc32c=mask(crc32c(arr.tobytes())))
        for n in arr.shape:
            e.shape.dim.add().size = n
        for sl in slices or ():
            p = e.slices.add()
            for start, length in sl:
                x = p.extent.add()
                if length >= 0:
                    x.start, x.length = start, length
        if slices:  # the full tensor's entry only describes its pieces
            e.offset = e.size = e.crc32c = 0
        else:
            data += arr.tobytes()
        items.append((key, e.SerializeToString()))
    with open(prefix + ".index", "wb") as f:
        f.write(build_table(items, compress=False))
    with open(prefix + ".data-00000-of-00001", "wb") as f:
        f.write(bytes(data))


class PartitionedVariables(unittest.TestCase):
    """A variable saved in two parts (as a partitioner splits it) and one saved whole, restored by slice."""

    def test_ordered_code_examples(self):
        # The worked examples in TensorFlow's ordered_code.cc.
        self.assertEqual(oc_signed(0x424242), bytes.fromhex("f0424242"))
        self.assertEqual(oc_signed(-0x800), bytes.fromhex("3800"))

    def test_restore_by_slice(self):
        emb = np.arange(12, dtype=np.float32).reshape(4, 3)
        w = -np.arange(12, dtype=np.float32).reshape(3, 4)
        parts = [[(0, 2), (0, -1)], [(2, 2), (0, -1)]]
        with tempfile.TemporaryDirectory() as d:
            prefix = os.path.join(d, "ckpt")
            write_bundle(prefix, [(b"emb", np.zeros((4, 3), np.float32), parts),
                                  (slice_key("emb", parts[0]), emb[0:2], None),
                                  (slice_key("emb", parts[1]), emb[2:4], None),
                                  (b"w", w, None)])

            def restore(names, specs):
                return run([const("prefix", np.array(prefix, dtype=object)),
                            const("names", np.array(names, dtype=object)),
                            const("slices", np.array(specs, dtype=object)),
                            node("r", "RestoreV2", ["prefix", "names", "slices"], dtypes=[np.float32] * len(names))],
                           fetches=["r:%d" % i for i in range(len(names))])

            p0, p1, wcut, wall = restore(["emb", "emb", "w", "w"], ["4 3 0,2:-", "4 3 2,2:-", "3 4 1,2:1,3", ""])
            np.testing.assert_array_equal(p0, emb[0:2])
            np.testing.assert_array_equal(p1, emb[2:4])
            np.testing.assert_array_equal(wcut, w[1:3, 1:4])
            np.testing.assert_array_equal(wall, w)
            for names, specs, msg in [(["emb"], ["4 3 1,2:-"], "UNIMPLEMENTED"), (["emb"], [""], "UNIMPLEMENTED"),
                                      (["emb"], ["5 3 0,2:-"], "does not match the shape"),
                                      (["w"], ["3 4 0,9:-"], "INVALID_ARGUMENT")]:
                with self.subTest(specs=specs), self.assertRaises(GraphError) as e:
                    restore(names, specs)
                self.assertIn(msg, str(e.exception))


def table(name, key, value, op="HashTableV2", **kw):
    return node(name, op, key_dtype=key, value_dtype=value, shared_name=kw.pop("shared_name", ""), **kw)


class LookupTables(unittest.TestCase):
    def test_tensor_initialized_string_to_int64(self):
        keys = np.array(["apple", "pear", "", "fig"], dtype=object)
        vals = np.array([3, 1, 7, -2], dtype=np.int64)
        query = np.array([["fig", "kiwi"], ["", "apple"]], dtype=object)
        nodes = [table("t", str, np.int64), const("k", keys), const("v", vals), const("q", query),
                 const("dflt", np.int64(-1)),
                 node("init", "InitializeTableV2", ["t", "k", "v"], Tkey=str, Tval=np.int64),
                 node("find", "LookupTableFindV2", ["t", "q", "dflt", "^init"], Tin=str, Tout=np.int64),
                 node("size", "LookupTableSizeV2", ["t", "^init"])]
        found, size = run(nodes, fetches=["find", "size"])
        ref = dict(zip(keys, vals))
        np.testing.assert_array_equal(found, np.vectorize(lambda k: ref.get(k, -1))(query))
        self.assertEqual(size, 4)

    def test_uninitialized_and_conflicting(self):
        nodes = [table("t", np.int64, np.float32), const("q", np.array([1], dtype=np.int64)),
                 const("dflt", np.float32(0)), node("find", "LookupTableFindV2", ["t", "q", "dflt"])]
        with self.assertRaises(GraphError) as e:
            run(nodes, fetches=["find"])
        self.assertIn("FAILED_PRECONDITION: Table not initialized.", str(e.exception))
        nodes = [table("t", np.int64, np.float32), const("k", np.array([5, 5], dtype=np.int64)),
                 const("v", np.array([1, 2], dtype=np.float32)),
                 node("init", "InitializeTableV2", ["t", "k", "v"])]
        with self.assertRaises(GraphError) as e:
            run(nodes, targets=["init"])
        self.assertIn("HashTable has different value for same key", str(e.exception))

    def text_table(self, content, key, value, key_index, value_index, query, dflt, **kw):
        with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
            f.write(content)
        try:
            nodes = [table("t", key, value), const("file", np.array(f.name, dtype=object)), const("q", query),
                     const("dflt", dflt),
                     node("init", "InitializeTableFromTextFileV2", ["t", "file"], key_index=key_index,
                          value_index=value_index, **kw),
                     node("find", "LookupTableFindV2", ["t", "q", "dflt", "^init"]),
                     node("size", "LookupTableSizeV2", ["t", "^init"])]
            return run(nodes, fetches=["find", "size"])
        finally:
            os.unlink(f.name)

    def test_vocabulary_file(self):
        words = ["the", "quick", "brown", "fox", "jumps"]
        content = ("\n".join(words) + "\n").encode()
        q = np.array(["fox", "dog", "the", "jumps"], dtype=object)
        # TensorFlow's TextFileIndex: -2 is the whole line, -1 the line number.
        # key = whole line, value = line number: a vocabulary lookup.
        found, size = self.text_table(content, str, np.int64, -2, -1, q, np.int64(-1))
        np.testing.assert_array_equal(found, [words.index(w) if w in words else -1 for w in q])
        self.assertEqual(size, 5)
        # key = line number, value = whole line: the reverse.
        found, _ = self.text_table(content, np.int64, str, -1, -2, np.array([4, 0, 9], dtype=np.int64),
                                   np.array("UNK", dtype=object))
        self.assertEqual(list(found), [b"jumps", b"the", b"UNK"])
        # vocab_size reads a prefix; more than the file holds is an error.
        _, size = self.text_table(content, str, np.int64, -2, -1, q, np.int64(-1), vocab_size=3)
        self.assertEqual(size, 3)
        with self.assertRaises(GraphError) as e:
            self.text_table(content, str, np.int64, -2, -1, q, np.int64(-1), vocab_size=9)
        self.assertIn("expected 9 but got 5", str(e.exception))

    def test_columns_crlf_and_delimiter(self):
        content = b"a,1.5,x\r\nb,-2,y\r\nc,1e3,z\r\n"
        found, size = self.text_table(content, str, np.float32, 0, 1, np.array(["c", "a", "q"], dtype=object),
                                      np.float32(0), delimiter=",")
        np.testing.assert_array_equal(found, np.array([1000, 1.5, 0], dtype=np.float32))
        found, _ = self.text_table(content, str, str, 2, 0, np.array(["y", "x"], dtype=object),
                                   np.array("", dtype=object), delimiter=",")
        self.assertEqual(list(found), [b"b", b"a"])
        with self.assertRaises(GraphError) as e:
            self.text_table(content, str, np.int64, 0, 1, np.array(["a"], dtype=object), np.int64(0), delimiter=",")
        self.assertIn("is not a valid", str(e.exception))
        with self.assertRaises(GraphError) as e:
            self.text_table(content, str, np.int64, 0, 5, np.array(["a"], dtype=object), np.int64(0), delimiter=",")
        self.assertIn("expected at least 6 columns", str(e.exception))

    def test_mutable_table(self):
        nodes = [table("t", str, np.int64, op="MutableHashTableV2"),
                 const("k1", np.array(["a", "b"], dtype=object)), const("v1", np.array([1, 2], dtype=np.int64)),
                 const("k2", np.array(["b", "c"], dtype=object)), const("v2", np.array([20, 30], dtype=np.int64)),
                 const("q", np.array(["a", "b", "c", "d"], dtype=object)), const("dflt", np.int64(0)),
                 node("i1", "LookupTableInsertV2", ["t", "k1", "v1"]),
                 node("i2", "LookupTableInsertV2", ["t", "k2", "v2", "^i1"]),
                 node("find", "LookupTableFindV2", ["t", "q", "dflt", "^i2"]),
                 node("export", "LookupTableExportV2", ["t", "^i2"], Tkeys=str, Tvalues=np.int64),
                 node("imp", "LookupTableImportV2", ["t", "k1", "v1", "^find", "^export"]),
                 node("size", "LookupTableSizeV2", ["t", "^imp"])]
        found, ek, ev, size = run(nodes, fetches=["find", "export:0", "export:1", "size"])
        np.testing.assert_array_equal(found, [1, 20, 30, 0])
        self.assertEqual(dict(zip(ek, ev)), {b"a": 1, b"b": 20, b"c": 30})
        self.assertEqual(size, 2)

    def test_many_int64_keys(self):
        rng = np.random.default_rng(3)
        keys = rng.choice(10**12, size=5000, replace=False).astype(np.int64)
        vals = rng.standard_normal(5000)
        q = np.concatenate([keys[::7], rng.integers(-10**6, 0, 50)]).astype(np.int64)
        nodes = [table("t", np.int64, np.float64), const("k", keys), const("v", vals), const("q", q),
                 const("dflt", np.float64(np.nan)), node("init", "InitializeTableV2", ["t", "k", "v"]),
                 node("find", "LookupTableFindV2", ["t", "q", "dflt", "^init"])]
        found, = run(nodes, fetches=["find"])
        ref = dict(zip(keys, vals))
        np.testing.assert_array_equal(found, [ref.get(k, np.nan) for k in q])


if __name__ == "__main__":
    unittest.main(verbosity=2)
