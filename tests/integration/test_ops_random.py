"""Random ops against Random123's Philox4x32-10 known answers, TensorFlow's own documented
outputs (tf.random.experimental.stateless_split / stateless_fold_in / stateless_normal
doctests), and a numpy Philox written from the paper for the seeded stateful ops."""
import os
import subprocess
import tempfile
import unittest

import numpy as np
from graphlib import GraphError, const, dtype_attr, graph, node, run, tool
from tensorflow.core.framework import types_pb2

M32 = 0xFFFFFFFF


def philox_block(ctr, key):
    """Philox4x32-10 of one counter (4 words) under key (2 words), in Python integers."""
    c, k = list(ctr), list(key)
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k[0]) & M32, p1 & M32, ((p0 >> 32) ^ c[3] ^ k[1]) & M32, p0 & M32]
        k = [(k[0] + 0x9E3779B9) & M32, (k[1] + 0xBB67AE85) & M32]
    return c


def philox_stream(ctr, key, blocks):
    """`blocks` consecutive blocks from a 128-bit counter, as a flat uint32 array."""
    c = ctr[0] | ctr[1] << 32 | ctr[2] << 64 | ctr[3] << 96
    out = []
    for b in range(blocks):
        x = (c + b) % (1 << 128)
        out += philox_block([(x >> s) & M32 for s in (0, 32, 64, 96)], key)
    return np.array(out, np.uint32)


def seeded(seed, seed2):
    """PhiloxRandom(seed, seed2): counter (0, 0, seed2), key seed."""
    s, s2 = seed % (1 << 64), seed2 % (1 << 64)
    return [0, 0, s2 & M32, s2 >> 32], [s & M32, s >> 32]


def to_float(bits):
    return (((bits & 0x7FFFFF) | 0x3F800000).view(np.float32) - np.float32(1)).astype(np.float32)


def to_double(bits):
    hi = (bits[0::2] & 0xFFFFF).astype(np.uint64)
    v = (np.uint64(1023) << np.uint64(52)) | (hi << np.uint64(32)) | bits[1::2].astype(np.uint64)
    return v.view(np.float64) - 1.0


def i32(x):
    return np.array(x, np.int32)


class PhiloxKnownAnswers(unittest.TestCase):
    # Random123 kat_vectors: counter, key -> output
    KAT = [([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
           ([M32] * 4, [M32, M32], [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
           ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
            [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1])]

    def test_numpy_reference_matches_kat(self):
        for ctr, key, want in self.KAT:
            self.assertEqual(philox_block(ctr, key), want)

    def test_full_int_v2_gives_raw_blocks(self):
        for ctr, key, want in self.KAT:
            k = np.array([key[0] | key[1] << 32], np.uint64)
            c = np.array([ctr[0] | ctr[1] << 32, ctr[2] | ctr[3] << 32], np.uint64)
            got, = run([const("shape", i32([4])), const("k", k), const("c", c), const("alg", np.int32(1)),
                        node("r", "StatelessRandomUniformFullIntV2", ["shape", "k", "c", "alg"], dtype=np.uint32,
                             Tshape=np.int32)], fetches=["r"])
            np.testing.assert_array_equal(got, np.array(want, np.uint32))


class TensorFlowDocumentedOutputs(unittest.TestCase):
    SPLIT = [[1105988140, 1738052849], [-335576002, 370444179], [10670227, -246211131]]

    def test_stateless_split(self):
        # tf.random.experimental.stateless_split([1, 2], num=3): full-range int32 draws
        seed = const("seed", i32([1, 2]))
        v1, = run([seed, const("shape", i32([3, 2])),
                   node("r", "StatelessRandomUniformFullInt", ["shape", "seed"], dtype=np.int32, Tseed=np.int32,
                        T=np.int32)], fetches=["r"])
        np.testing.assert_array_equal(v1, self.SPLIT)
        v2, key, ctr, alg = run([seed, const("shape", i32([3, 2])),
                                 node("kc", "StatelessRandomGetKeyCounterAlg", ["seed"], Tseed=np.int32),
                                 node("r", "StatelessRandomUniformFullIntV2", ["shape", "kc", "kc:1", "kc:2"],
                                      dtype=np.int32, Tshape=np.int32)], fetches=["r", "kc", "kc:1", "kc:2"])
        np.testing.assert_array_equal(v2, self.SPLIT)
        self.assertEqual(key.shape, (1,))
        self.assertEqual(ctr.shape, (2,))
        self.assertEqual(ctr[0], 0)
        self.assertEqual(int(alg), 1)

    def test_stateless_fold_in_and_normal(self):
        # stateless_fold_in([1, 2], 3) = [first draw of the split, 3]; stateless_normal from two seeds
        cases = [([1105988140, 1738052849], [-0.59835213, -0.9578608, 0.9002807]),
                 ([1105988140, 3], [0.03197195, 0.8979765, 0.13253039])]
        for seed, want in cases:
            a, b = run([const("seed", i32(seed)), const("shape", i32([3])),
                        node("n1", "StatelessRandomNormal", ["shape", "seed"], dtype=np.float32, Tseed=np.int32,
                             T=np.int32),
                        node("kc", "StatelessRandomGetKeyCounter", ["seed"], Tseed=np.int32),
                        node("alg", "StatelessRandomGetAlg", []),
                        node("n2", "StatelessRandomNormalV2", ["shape", "kc", "kc:1", "alg"], dtype=np.float32,
                             Tshape=np.int32)], fetches=["n1", "n2"])
            np.testing.assert_allclose(a, want, rtol=2e-7, atol=1e-7)
            np.testing.assert_array_equal(a, b)


class SeededStreams(unittest.TestCase):
    def test_random_uniform_float_double_half_bfloat16(self):
        ctr, key = seeded(87654321, 42)
        bits = philox_stream(ctr, key, 4)  # 13 floats take 4 blocks; 5 doubles take 3
        f, d, h, b = run([const("shape", i32([13])),
                          node("f", "RandomUniform", ["shape"], dtype=np.float32, T=np.int32, seed=87654321, seed2=42),
                          node("d", "RandomUniform", ["shape5"], dtype=np.float64, T=np.int32, seed=87654321,
                               seed2=42),
                          const("shape5", i32([5])),
                          node("h", "RandomUniform", ["shape"], dtype=np.float16, T=np.int32, seed=87654321, seed2=42),
                          node("b16", "RandomUniform", ["shape"], dtype=dtype_attr(types_pb2.DT_BFLOAT16), T=np.int32,
                               seed=87654321, seed2=42),
                          node("b", "Cast", ["b16"], SrcT=dtype_attr(types_pb2.DT_BFLOAT16), DstT=np.float32)],
                         fetches=["f", "d", "h", "b"])
        np.testing.assert_array_equal(f, to_float(bits[:13]))
        np.testing.assert_array_equal(d, to_double(bits[:10]))
        np.testing.assert_array_equal(h, ((bits[:13] & 0x3FF) / 1024.0).astype(np.float16))
        np.testing.assert_array_equal(b, (bits[:13] & 0x7F) / np.float32(128))
        self.assertTrue(np.all((f >= 0) & (f < 1)))

    def test_shape_int64_and_nd(self):
        ctr, key = seeded(-5, 7)  # negative seeds are taken as uint64
        got, = run([const("shape", np.array([2, 3, 2], np.int64)),
                    node("r", "RandomUniform", ["shape"], dtype=np.float32, T=np.int64, seed=-5, seed2=7)],
                   fetches=["r"])
        np.testing.assert_array_equal(got, to_float(philox_stream(ctr, key, 3)).reshape(2, 3, 2))

    def test_random_uniform_int(self):
        ctr, key = seeded(3, 4)
        bits = philox_stream(ctr, key, 5)  # 9 int32s take 3 blocks, 9 int64s 5
        a, b = run([const("shape", i32([9])), const("lo", np.int32(-7)), const("hi", np.int32(20)),
                    const("lo64", np.int64(-(1 << 40))), const("hi64", np.int64(1 << 41)),
                    node("a", "RandomUniformInt", ["shape", "lo", "hi"], Tout=np.int32, T=np.int32, seed=3, seed2=4),
                    node("b", "RandomUniformInt", ["shape", "lo64", "hi64"], Tout=np.int64, T=np.int32, seed=3,
                         seed2=4)], fetches=["a", "b"])
        np.testing.assert_array_equal(a, (bits[:9] % 27).astype(np.int64) - 7)
        wide = bits[0:18:2].astype(np.uint64) | (bits[1:18:2].astype(np.uint64) << np.uint64(32))
        np.testing.assert_array_equal(b, (wide % np.uint64(3 << 40)).astype(np.int64) - (1 << 40))

    def test_second_run_skips_256_blocks_per_element(self):
        ctr, key = seeded(11, 12)
        g = graph([const("shape", i32([6])),
                   node("r", "RandomUniform", ["shape"], dtype=np.float32, T=np.int32, seed=11, seed2=12)])
        with tempfile.TemporaryDirectory() as d:
            pb, out = os.path.join(d, "g.pb"), os.path.join(d, "r.npy")
            with open(pb, "wb") as f:
                f.write(g.SerializeToString())
            subprocess.run([tool("run_model"), pb, "--fetch", "r:0=" + out, "--repeat", "2"], check=True,
                           capture_output=True)
            second = np.load(out)
        skipped = philox_stream([ctr[0] + 6 * 256, ctr[1], ctr[2], ctr[3]], key, 2)
        np.testing.assert_array_equal(second, to_float(skipped[:6]))

    def test_unseeded_runs_differ(self):
        r = node("r", "RandomUniform", ["shape"], dtype=np.float32, T=np.int32)
        a, = run([const("shape", i32([64])), r], fetches=["r"])
        b, = run([const("shape", i32([64])), r], fetches=["r"])
        self.assertFalse(np.array_equal(a, b))
        self.assertTrue(np.all((a >= 0) & (a < 1)))

    def test_stateless_uniform_matches_stateful_after_scrambling(self):
        # The stateless seed goes through one Philox block under a fixed key first.
        mix = philox_block([9, 0, 10, 0], [0x3EC8F720, 0x02461E29])
        bits = philox_stream([0, 0, mix[2], mix[3]], mix[:2], 2)
        got, = run([const("shape", i32([7])), const("seed", np.array([9, 10], np.int64)),
                    node("r", "StatelessRandomUniform", ["shape", "seed"], dtype=np.float32, T=np.int32,
                         Tseed=np.int64)], fetches=["r"])
        np.testing.assert_array_equal(got, to_float(bits[:7]))

    def test_errors(self):
        with self.assertRaisesRegex(GraphError, r"seed must have shape \[2\], not \[3\]"):
            run([const("shape", i32([2])), const("seed", i32([1, 2, 3])),
                 node("r", "StatelessRandomUniform", ["shape", "seed"], dtype=np.float32)], fetches=["r"])
        with self.assertRaisesRegex(GraphError, "Need minval < maxval, got 5 >= 5"):
            run([const("shape", i32([2])), const("lo", np.int32(5)),
                 node("r", "RandomUniformInt", ["shape", "lo", "lo"], Tout=np.int32, seed=1)], fetches=["r"])
        with self.assertRaisesRegex(GraphError, "Dimension -2 must be >= 0"):
            run([const("shape", i32([-2])), node("r", "RandomUniform", ["shape"], dtype=np.float32)], fetches=["r"])
        with self.assertRaisesRegex(GraphError, "Unsupported algorithm id: 2"):
            run([const("shape", i32([2])), const("k", np.array([1], np.uint64)), const("c", np.array([0, 0], np.uint64)),
                 const("alg", np.int32(2)),
                 node("r", "StatelessRandomUniformV2", ["shape", "k", "c", "alg"], dtype=np.float32)], fetches=["r"])


if __name__ == "__main__":
    unittest.main()
