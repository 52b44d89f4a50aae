"""String kernels against Python's own string formatting, re and hand-computed
values (TensorFlow's documented results where noted)."""
import unittest

import numpy as np
from graphlib import GraphError, const, node, run


def strings(*items):
    return np.array([s.encode() if isinstance(s, str) else s for s in items], dtype=object)


class StringOpsTest(unittest.TestCase):
    def test_string_join_broadcasts_scalars(self):
        out, = run([const("a", strings("x", "y")), const("b", np.array(b"-", dtype=object)), const("c", strings("1", "2")),
                    node("j", "StringJoin", ["a", "b", "c"], N=3, separator="/")], feeds={}, fetches=["j"])
        self.assertEqual(out.tolist(), [b"x/-/1", b"y/-/2"])

    def test_string_join_shape_mismatch(self):
        with self.assertRaises(GraphError):
            run([const("a", strings("x", "y")), const("b", strings("1", "2", "3")),
                 node("j", "StringJoin", ["a", "b"], N=2)], feeds={}, fetches=["j"])

    def test_static_regex_full_match(self):
        out, = run([const("s", strings("s3://bucket/x", "/tmp/x", "s3:/", "")),
                    node("m", "StaticRegexFullMatch", ["s"], pattern="^s3://.*")], feeds={}, fetches=["m"])
        self.assertEqual(out.tolist(), [True, False, False, False])

    def test_regex_replace(self):
        out, = run([const("s", strings("aaa bbb", "ab")),
                    node("r", "StaticRegexReplace", ["s"], pattern="a+", rewrite="<\\0>", replace_global=True)],
                   feeds={}, fetches=["r"])
        self.assertEqual(out.tolist(), [b"<aaa> bbb", b"<a>b"])

    def test_as_string_defaults_and_formats(self):
        f, i, b = run([const("f", np.array([1.5, -2.25], np.float32)), const("i", np.array([7, -12], np.int64)),
                       const("b", np.array([True, False])),
                       node("fs", "AsString", ["f"], T=np.float32), node("is", "AsString", ["i"], T=np.int64, width=4, fill="0"),
                       node("bs", "AsString", ["b"], T=np.bool_)], feeds={}, fetches=["fs", "is", "bs"])
        self.assertEqual(f.tolist(), [("%f" % 1.5).encode(), ("%f" % -2.25).encode()])
        self.assertEqual(i.tolist(), [("%04d" % 7).encode(), ("%04d" % -12).encode()])
        self.assertEqual(b.tolist(), [b"true", b"false"])

    def test_string_to_hash_bucket_fast_matches_tensorflow(self):
        # TensorFlow's own test: ['a','b','c','d'] into 10 buckets gives [9, 2, 2, 5].
        out, = run([const("s", strings("a", "b", "c", "d")),
                    node("h", "StringToHashBucketFast", ["s"], num_buckets=10)], feeds={}, fetches=["h"])
        np.testing.assert_array_equal(out, [9, 2, 2, 5])

    def test_string_length(self):
        out, = run([const("s", strings("", "abc", "héllo")), node("n", "StringLength", ["s"])], feeds={}, fetches=["n"])
        np.testing.assert_array_equal(out, [0, 3, len("héllo".encode())])


if __name__ == "__main__":
    unittest.main()
