"""Sparse kernels against numpy computations of the same sparse tensors."""
import unittest

import numpy as np
from graphlib import GraphError, const, node, run


def i64(x):
    return np.array(x, np.int64)


class SparseOpsTest(unittest.TestCase):
    def test_sparse_reshape_matches_dense_reshape(self):
        dense = np.zeros([2, 3, 4], np.int64)
        idx = i64([[0, 0, 1], [0, 2, 3], [1, 1, 0], [1, 2, 2]])
        for k, (a, b, c) in enumerate(idx):
            dense[a, b, c] = k + 1
        oi, osh = run([const("i", idx), const("s", i64([2, 3, 4])), const("t", i64([4, -1])),
                       node("r", "SparseReshape", ["i", "s", "t"])], feeds={}, fetches=["r:0", "r:1"])
        np.testing.assert_array_equal(osh, [4, 6])
        want = dense.reshape(4, 6)
        for k, (a, b) in enumerate(oi):
            self.assertEqual(want[a, b], k + 1)

    def test_sparse_reshape_size_mismatch(self):
        with self.assertRaises(GraphError):
            run([const("i", i64([[0, 0]])), const("s", i64([2, 3])), const("t", i64([4, -1])),
                 node("r", "SparseReshape", ["i", "s", "t"])], feeds={}, fetches=["r:0"])

    def test_sparse_reshape_index_out_of_bounds(self):
        # An index past its dimension (or one large enough to overflow the linear index) is refused.
        for bad in ([[0, 3]], [[0, -1]], [[7299772046014152705, 0]]):
            with self.assertRaises(GraphError) as e:
                run([const("i", i64(bad)), const("s", i64([2, 3])), const("t", i64([3, 2])),
                     node("r", "SparseReshape", ["i", "s", "t"])], feeds={}, fetches=["r:0"])
            self.assertIn("out of bounds", str(e.exception))

    def test_fill_empty_rows(self):
        idx = i64([[1, 0], [1, 2], [3, 1]])
        vals = np.array([10.0, 20.0, 30.0], np.float32)
        oi, ov, empty, rmap = run([const("i", idx), const("v", vals), const("s", i64([5, 4])),
                                   const("d", np.float32(-1)), node("f", "SparseFillEmptyRows", ["i", "v", "s", "d"], T=np.float32)],
                                  feeds={}, fetches=["f:0", "f:1", "f:2", "f:3"])
        np.testing.assert_array_equal(oi, [[0, 0], [1, 0], [1, 2], [2, 0], [3, 1], [4, 0]])
        np.testing.assert_array_equal(ov, [-1, 10, 20, -1, 30, -1])
        np.testing.assert_array_equal(empty, [True, False, True, False, True])
        np.testing.assert_array_equal(rmap, [1, 2, 4])

    def test_sparse_segment_sum_and_mean(self):
        data = np.arange(12, dtype=np.float32).reshape(4, 3)
        ind = np.array([0, 2, 1, 3, 3], np.int32)
        seg = np.array([0, 0, 1, 3, 3], np.int32)
        s, m = run([const("x", data), const("i", ind), const("g", seg),
                    node("s", "SparseSegmentSum", ["x", "i", "g"], T=np.float32, Tidx=np.int32, Tsegmentids=np.int32),
                    node("m", "SparseSegmentMean", ["x", "i", "g"], T=np.float32, Tidx=np.int32, Tsegmentids=np.int32)],
                   feeds={}, fetches=["s", "m"])
        want = np.zeros([4, 3], np.float32)
        counts = np.zeros(4)
        for i, g in zip(ind, seg):
            want[g] += data[i]
            counts[g] += 1
        np.testing.assert_allclose(s, want)
        np.testing.assert_allclose(m, want / np.maximum(counts, 1)[:, None])

    def test_sparse_to_dense(self):
        out, = run([const("i", i64([[0, 1], [2, 3]])), const("s", i64([3, 4])), const("v", np.array([5, 6], np.int32)),
                    const("d", np.int32(-1)), node("t", "SparseToDense", ["i", "s", "v", "d"], T=np.int32, Tindices=np.int64)],
                   feeds={}, fetches=["t"])
        want = np.full([3, 4], -1, np.int32)
        want[0, 1], want[2, 3] = 5, 6
        np.testing.assert_array_equal(out, want)

    def test_sparse_to_dense_unsorted_and_out_of_bounds(self):
        for idx in ([[2, 3], [0, 1]], [[0, 9]]):
            with self.assertRaises(GraphError):
                run([const("i", i64(idx)), const("s", i64([3, 4])), const("v", np.array([5] * len(idx), np.int32)),
                     const("d", np.int32(0)), node("t", "SparseToDense", ["i", "s", "v", "d"], T=np.int32, Tindices=np.int64)],
                    feeds={}, fetches=["t"])


if __name__ == "__main__":
    unittest.main()
