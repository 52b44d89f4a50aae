"""TensorList ops against numpy: lists built from tensors, element by element, pushed and
popped, stacked and gathered; a list changed by one consumer stays unchanged for the others;
TensorFlow's error messages for bad indices, dtypes and shapes."""
import unittest

import numpy as np
from graphlib import GraphError, const, node, run

F = np.float32


def i32(x):
    return np.array(x, np.int32)


def shape_const(name, dims):
    return const(name, i32(dims))


class TensorListTest(unittest.TestCase):
    def test_from_tensor_get_stack_length_shape(self):
        x = np.arange(24, dtype=F).reshape(4, 2, 3)
        nodes = [const("x", x), shape_const("es", [-1, 3]),
                 node("l", "TensorListFromTensor", ["x", "es"], element_dtype=F, shape_type=np.int32),
                 node("n", "TensorListLength", ["l"]),
                 node("s", "TensorListStack", ["l", "es"], element_dtype=F, num_elements=4),
                 node("shp", "TensorListElementShape", ["l"], shape_type=np.int32)]
        fetches = ["n", "s", "shp"]
        for i in range(4):
            nodes += [const("i%d" % i, np.int32(i)),
                      node("g%d" % i, "TensorListGetItem", ["l", "i%d" % i, "es"], element_dtype=F)]
            fetches.append("g%d" % i)
        out = run(nodes, fetches=fetches)
        self.assertEqual(int(out[0]), 4)
        np.testing.assert_array_equal(out[1], x)
        np.testing.assert_array_equal(out[2], [-1, 3])
        for i in range(4):
            np.testing.assert_array_equal(out[3 + i], x[i])

    def test_reserve_set_get_stack_with_unset_elements(self):
        a, b = np.full([2, 2], 1.5, F), np.arange(4, dtype=F).reshape(2, 2)
        s, g1, g2 = run([shape_const("es", [2, 2]), const("n", np.int32(3)),
                         node("l0", "TensorListReserve", ["es", "n"], element_dtype=F, shape_type=np.int32),
                         const("a", a), const("b", b), const("i0", np.int32(0)), const("i1", np.int32(1)),
                         const("i2", np.int32(2)),
                         node("l1", "TensorListSetItem", ["l0", "i0", "a"], element_dtype=F),
                         node("l2", "TensorListSetItem", ["l1", "i2", "b"], element_dtype=F),
                         node("s", "TensorListStack", ["l2", "es"], element_dtype=F),
                         node("g1", "TensorListGetItem", ["l2", "i1", "es"], element_dtype=F),
                         node("g2", "TensorListGetItem", ["l2", "i2", "es"], element_dtype=F)],
                        fetches=["s", "g1", "g2"])
        np.testing.assert_array_equal(s, np.stack([a, np.zeros([2, 2], F), b]))
        np.testing.assert_array_equal(g1, np.zeros([2, 2], F))
        np.testing.assert_array_equal(g2, b)

    def test_unset_element_shape_comes_from_other_elements(self):
        # unknown element shape: an unset element takes the shape of the set ones
        g, = run([const("es", np.int32(-1)), const("n", np.int32(2)),
                  node("l0", "TensorListReserve", ["es", "n"], element_dtype=F, shape_type=np.int32),
                  const("v", np.ones([3], F)), const("i0", np.int32(0)), const("i1", np.int32(1)),
                  node("l1", "TensorListSetItem", ["l0", "i0", "v"], element_dtype=F),
                  node("g", "TensorListGetItem", ["l1", "i1", "es"], element_dtype=F)], fetches=["g"])
        np.testing.assert_array_equal(g, np.zeros([3], F))

    def test_a_list_changed_by_one_consumer_is_unchanged_for_others(self):
        x = np.arange(6, dtype=F).reshape(3, 2)
        y, z = np.full([2], 7, F), np.full([2], 9, F)
        s, s1, s2, s3 = run([const("x", x), shape_const("es", [2]), const("y", y), const("z", z),
                             const("i0", np.int32(0)),
                             node("l", "TensorListFromTensor", ["x", "es"], element_dtype=F, shape_type=np.int32),
                             node("l1", "TensorListSetItem", ["l", "i0", "y"], element_dtype=F),
                             node("l2", "TensorListSetItem", ["l", "i0", "z"], element_dtype=F),
                             node("l3", "TensorListPushBack", ["l", "y"], element_dtype=F),
                             node("s", "TensorListStack", ["l", "es"], element_dtype=F),
                             node("s1", "TensorListStack", ["l1", "es"], element_dtype=F),
                             node("s2", "TensorListStack", ["l2", "es"], element_dtype=F),
                             node("s3", "TensorListStack", ["l3", "es"], element_dtype=F)],
                            fetches=["s", "s1", "s2", "s3"])
        np.testing.assert_array_equal(s, x)
        np.testing.assert_array_equal(s1, np.concatenate([[y], x[1:]]))
        np.testing.assert_array_equal(s2, np.concatenate([[z], x[1:]]))
        np.testing.assert_array_equal(s3, np.concatenate([x, [y]]))

    def test_chain_of_writes(self):
        # each list has one consumer, so every write may happen in place
        nodes = [shape_const("es", [3]), const("n", np.int32(8)),
                 node("l0", "TensorListReserve", ["es", "n"], element_dtype=np.int32, shape_type=np.int32)]
        for i in range(8):
            nodes += [const("i%d" % i, np.int32(i)), const("v%d" % i, i32([i, i * i, -i])),
                      node("l%d" % (i + 1), "TensorListSetItem", ["l%d" % i, "i%d" % i, "v%d" % i],
                           element_dtype=np.int32)]
        nodes.append(node("s", "TensorListStack", ["l8", "es"], element_dtype=np.int32))
        s, = run(nodes, fetches=["s"])
        np.testing.assert_array_equal(s, [[i, i * i, -i] for i in range(8)])

    def test_push_pop_and_empty_list(self):
        a, b = np.array([1, 2], F), np.array([3, 4], F)
        n, v, s = run([shape_const("es", [2]), const("max", np.int32(-1)),
                       node("e", "EmptyTensorList", ["es", "max"], element_dtype=F, shape_type=np.int32),
                       const("a", a), const("b", b),
                       node("p1", "TensorListPushBack", ["e", "a"], element_dtype=F),
                       node("p2", "TensorListPushBack", ["p1", "b"], element_dtype=F),
                       node("pop", "TensorListPopBack", ["p2", "es"], element_dtype=F),
                       node("n", "TensorListLength", ["pop"]),
                       node("s", "TensorListStack", ["pop", "es"], element_dtype=F)], fetches=["n", "pop:1", "s"])
        self.assertEqual(int(n), 1)
        np.testing.assert_array_equal(v, b)
        np.testing.assert_array_equal(s, [a])
        empty, = run([shape_const("es", [2]), const("max", np.int32(-1)),
                      node("e", "EmptyTensorList", ["es", "max"], element_dtype=F, shape_type=np.int32),
                      node("s", "TensorListStack", ["e", "es"], element_dtype=F)], fetches=["s"])
        self.assertEqual(empty.shape, (0, 2))

    def test_gather_resize_and_strings(self):
        words = np.array([b"alpha", b"", b"gamma", b"delta"], object)
        g, n, s = run([const("w", words), const("es", np.int32(-1)), const("idx", i32([3, 0, 3])),
                       const("size", np.int32(2)),
                       node("l", "TensorListFromTensor", ["w", "es"], element_dtype=str, shape_type=np.int32),
                       node("g", "TensorListGather", ["l", "idx", "es"], element_dtype=str),
                       node("r", "TensorListResize", ["l", "size"]),
                       node("n", "TensorListLength", ["r"]),
                       node("s", "TensorListStack", ["l", "es"], element_dtype=str)], fetches=["g", "n", "s"])
        self.assertEqual(list(g), [b"delta", b"alpha", b"delta"])
        self.assertEqual(int(n), 2)
        self.assertEqual(list(s), list(words))

    def test_errors(self):
        base = [const("x", np.zeros([2, 3], F)), shape_const("es", [3]), const("i", np.int32(2)),
                node("l", "TensorListFromTensor", ["x", "es"], element_dtype=F, shape_type=np.int32)]
        with self.assertRaisesRegex(GraphError, "Trying to access element 2 in a list with 2 elements."):
            run(base + [node("g", "TensorListGetItem", ["l", "i", "es"], element_dtype=F)], fetches=["g"])
        with self.assertRaisesRegex(GraphError, "Trying to modify element 2 in a list with 2 elements."):
            run(base + [const("v", np.zeros([3], F)),
                        node("s", "TensorListSetItem", ["l", "i", "v"], element_dtype=F),
                        node("n", "TensorListLength", ["s"])], fetches=["n"])
        with self.assertRaisesRegex(GraphError, "Invalid data types; op elements int32 but list elements float"):
            run(base + [node("g", "TensorListGetItem", ["l", "i", "es"], element_dtype=np.int32)], fetches=["g"])
        with self.assertRaisesRegex(GraphError, r"Specified a list with shape \[4\] from a tensor with shape \[3\]"):
            run([const("x", np.zeros([2, 3], F)), shape_const("es", [4]),
                 node("l", "TensorListFromTensor", ["x", "es"], element_dtype=F, shape_type=np.int32),
                 node("n", "TensorListLength", ["l"])], fetches=["n"])
        with self.assertRaisesRegex(GraphError, "Tried to stack elements of an empty list with non-fully-defined"):
            run([const("es", np.int32(-1)), const("max", np.int32(-1)),
                 node("e", "EmptyTensorList", ["es", "max"], element_dtype=F, shape_type=np.int32),
                 node("s", "TensorListStack", ["e", "es"], element_dtype=F)], fetches=["s"])
        with self.assertRaisesRegex(GraphError, "Trying to pop from an empty list."):
            run([const("es", np.int32(-1)), const("max", np.int32(-1)),
                 node("e", "EmptyTensorList", ["es", "max"], element_dtype=F, shape_type=np.int32),
                 node("p", "TensorListPopBack", ["e", "es"], element_dtype=F)], fetches=["p:1"])
        with self.assertRaisesRegex(GraphError, "The num_elements to reserve must be a non negative number"):
            run([const("es", np.int32(-1)), const("n", np.int32(-1)),
                 node("l", "TensorListReserve", ["es", "n"], element_dtype=F, shape_type=np.int32),
                 node("n2", "TensorListLength", ["l"])], fetches=["n2"])


if __name__ == "__main__":
    unittest.main()
