"""ParseExample / ParseExampleV2 against values computed by hand from the
tf.Example protos the test builds (TensorFlow's documented semantics)."""
import unittest

import numpy as np
from graphlib import GraphError, const, node, run, shape
from tensorflow.core.example import example_pb2


def example(**features):
    ex = example_pb2.Example()
    for key, value in features.items():
        f = ex.features.feature[key]
        if isinstance(value, list) and value and isinstance(value[0], bytes):
            f.bytes_list.value.extend(value)
        elif isinstance(value, list) and value and isinstance(value[0], float):
            f.float_list.value.extend(value)
        elif isinstance(value, list):
            f.int64_list.value.extend(value)
    return ex.SerializeToString()


def parse_v1(serialized, dense, sparse=()):
    """dense: [(key, dtype, shape, default ndarray)], sparse: [(key, dtype)]."""
    nodes = [const("serialized", np.array(serialized, dtype=object)), const("names", np.array([], dtype=object))]
    for i, (key, _) in enumerate(sparse):
        nodes.append(const(f"sk{i}", np.array(key.encode(), dtype=object)))
    for i, (key, _, _, default) in enumerate(dense):
        nodes.append(const(f"dk{i}", np.array(key.encode(), dtype=object)))
        nodes.append(const(f"dd{i}", default))
    inputs = (["serialized", "names"] + [f"sk{i}" for i in range(len(sparse))] + [f"dk{i}" for i in range(len(dense))]
              + [f"dd{i}" for i in range(len(dense))])
    nodes.append(node("parse", "ParseExample", inputs, Nsparse=len(sparse), Ndense=len(dense),
                      sparse_types=[t for _, t in sparse], Tdense=[t for _, t, _, _ in dense],
                      dense_shapes=[shape(*s) for _, _, s, _ in dense]))
    ns = len(sparse)
    fetches = ([f"parse:{i}" for i in range(ns)] + [f"parse:{ns + i}" for i in range(ns)]
               + [f"parse:{2 * ns + i}" for i in range(ns)] + [f"parse:{3 * ns + i}" for i in range(len(dense))])
    return run(nodes, feeds={}, fetches=fetches)


class ParseExampleTest(unittest.TestCase):
    def test_dense_float_with_and_without_default(self):
        ser = [example(x=[2.0]), example(y=[1.0]), example(x=[-0.5])]
        out, = parse_v1(ser, [("x", np.float32, (1,), np.array([7.0], np.float32))])
        np.testing.assert_array_equal(out, np.array([[2.0], [7.0], [-0.5]], np.float32))

    def test_missing_required_feature_is_an_error(self):
        ser = [example(y=[1.0])]
        with self.assertRaises(GraphError) as e:
            parse_v1(ser, [("x", np.float32, (1,), np.zeros([0], np.float32))])
        self.assertIn("Feature: x (data type: float) is required but could not be found.", str(e.exception))

    def test_type_mismatch_is_an_error(self):
        ser = [example(x=[3])]
        with self.assertRaises(GraphError) as e:
            parse_v1(ser, [("x", np.float32, (1,), np.zeros([0], np.float32))])
        self.assertIn("Data types don't match", str(e.exception))

    def test_multi_valued_int64_and_string(self):
        ser = [example(a=[1, 2, 3], s=[b"p"]), example(a=[4, 5, 6], s=[b"q"])]
        a, s = parse_v1(ser, [("a", np.int64, (3,), np.zeros([0], np.int64)),
                              ("s", bytes, (1,), np.array([b""], dtype=object))])
        np.testing.assert_array_equal(a, [[1, 2, 3], [4, 5, 6]])
        self.assertEqual(s.tolist(), [[b"p"], [b"q"]])

    def test_wrong_count_is_an_error(self):
        with self.assertRaises(GraphError):
            parse_v1([example(a=[1, 2])], [("a", np.int64, (3,), np.zeros([0], np.int64))])

    def test_sparse_feature(self):
        ser = [example(t=[b"x", b"y"]), example(), example(t=[b"z"])]
        idx, val, shp = parse_v1(ser, [], [("t", bytes)])
        np.testing.assert_array_equal(idx, [[0, 0], [0, 1], [2, 0]])
        self.assertEqual(val.tolist(), [b"x", b"y", b"z"])
        np.testing.assert_array_equal(shp, [3, 2])

    def test_dense_and_sparse_together(self):
        ser = [example(x=[1.0], t=[b"a"]), example(t=[b"b", b"c"])]
        idx, val, shp, x = parse_v1(ser, [("x", np.float32, (1,), np.array([-1.0], np.float32))], [("t", bytes)])
        np.testing.assert_array_equal(x, [[1.0], [-1.0]])
        np.testing.assert_array_equal(idx, [[0, 0], [1, 0], [1, 1]])
        self.assertEqual(val.tolist(), [b"a", b"b", b"c"])
        np.testing.assert_array_equal(shp, [2, 2])

    def test_garbage_serialized_is_an_error(self):
        with self.assertRaises(GraphError) as e:
            parse_v1([b"\xff\xff\xff"], [("x", np.float32, (1,), np.zeros([1], np.float32))])
        self.assertIn("Could not parse example input", str(e.exception))

    def test_v2_dense_and_sparse(self):
        ser = [example(x=[1.5], t=[7, 8]), example(x=[2.5])]
        nodes = [const("serialized", np.array(ser, dtype=object)), const("names", np.array([], dtype=object)),
                 const("sparse_keys", np.array([b"t"], dtype=object)), const("dense_keys", np.array([b"x"], dtype=object)),
                 const("ragged_keys", np.array([], dtype=object)), const("d0", np.zeros([0], np.float32)),
                 node("p", "ParseExampleV2", ["serialized", "names", "sparse_keys", "dense_keys", "ragged_keys", "d0"],
                      Tdense=[np.float32], num_sparse=1, sparse_types=[np.int64], ragged_value_types=[],
                      ragged_split_types=[], dense_shapes=[shape(1)])]
        idx, val, shp, x = run(nodes, feeds={}, fetches=["p:0", "p:1", "p:2", "p:3"])
        np.testing.assert_array_equal(x, [[1.5], [2.5]])
        np.testing.assert_array_equal(idx, [[0, 0], [0, 1]])
        np.testing.assert_array_equal(val, [7, 8])
        np.testing.assert_array_equal(shp, [2, 2])


if __name__ == "__main__":
    unittest.main()
