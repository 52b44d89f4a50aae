"""Fusions made at preparation (src/runtime/rewrite_fuse.c): Conv2D/depthwise
+ BiasAdd (+ PReLU) and PReLU patterns become single nodes. Each case checks
the plan (exec_plan tool) and that the fused result is bit-identical to the
same graph run unfused (fetching an intermediate keeps every node), and close
to a float64 numpy reference."""
import os
import subprocess
import tempfile
import unittest

import numpy as np
from graphlib import GraphError, const, graph, node, placeholder, run, tool

F = np.float32


def plan(nodes, feeds, fetches):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "g.pb")
        with open(path, "wb") as f:
            f.write(graph(nodes).SerializeToString())
        args = [tool("exec_plan"), path]
        for x in feeds:
            args += ["--feed", x]
        for x in fetches:
            args += ["--fetch", x]
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode:
            raise GraphError(p.stderr.strip())
        pairs = (line.split(" ", 1) for line in p.stdout.splitlines())
        return {name: op for name, op in pairs if op not in ("_Feed", "_Fetch")}


def conv_ref(x, w, stride=1, depthwise=False):
    """VALID NHWC convolution in float64."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    n, h, wd, c = x.shape
    kh, kw = w.shape[:2]
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    if depthwise:
        m = w.shape[3]
        y = np.zeros((n, oh, ow, c * m))
        for i in range(kh):
            for j in range(kw):
                patch = x[:, i:i + stride * oh:stride, j:j + stride * ow:stride, :]
                y += (patch[..., :, None] * w[i, j][None, None, None]).reshape(n, oh, ow, c * m)
        return y
    y = np.zeros((n, oh, ow, w.shape[3]))
    for i in range(kh):
        for j in range(kw):
            y += x[:, i:i + stride * oh:stride, j:j + stride * ow:stride, :] @ w[i, j]
    return y


def prelu_ref(v, alpha):
    return np.where(v > 0, v, v * alpha)


def select_prelu(prefix, x, alpha):
    return [const(prefix + "/zero", F(0)),
            node(prefix + "/Greater", "Greater", [x, prefix + "/zero"], T=F),
            node(prefix + "/mul", "Mul", [x, alpha], T=F),
            node(prefix, "Select", [prefix + "/Greater", x, prefix + "/mul"], T=F)]


def keras_prelu(prefix, x, alpha):
    return [node(prefix + "/Relu", "Relu", [x], T=F),
            node(prefix + "/Abs", "Abs", [x], T=F),
            node(prefix + "/sub", "Sub", [x, prefix + "/Abs"], T=F),
            node(prefix + "/mul", "Mul", [alpha, prefix + "/sub"], T=F),
            const(prefix + "/half", F(0.5)),
            node(prefix + "/mul_1", "Mul", [prefix + "/mul", prefix + "/half"], T=F),
            node(prefix, "AddV2", [prefix + "/Relu", prefix + "/mul_1"], T=F)]


def conv_layer(x_shape, c_out, alpha_value, form=select_prelu, depthwise=False, rng=None):
    rng = rng or np.random.default_rng(1)
    c_in = x_shape[-1]
    w = rng.standard_normal((3, 3, c_in, 2 if depthwise else c_out)).astype(F)
    oc = c_in * 2 if depthwise else c_out
    b = rng.standard_normal(oc).astype(F)
    op = "DepthwiseConv2dNative" if depthwise else "Conv2D"
    nodes = [placeholder("x", F), const("w", w), const("b", b), const("alpha", np.asarray(alpha_value, F)),
             node("conv", op, ["x", "w"], T=F, strides=[1, 1, 1, 1], padding="VALID"),
             node("bias", "BiasAdd", ["conv", "b"], T=F)]
    nodes += form("act", "bias", "alpha") if form else []
    return nodes, w, b


class Fusion(unittest.TestCase):
    def check_fused(self, nodes, x, fetch, fused_op, intermediates, ref):
        """Fetching the intermediates as well must keep every node unfused."""
        ops = plan(nodes, ["x"], [fetch])
        self.assertEqual(ops[fetch], fused_op, ops)
        for i in intermediates:
            self.assertNotIn(i, ops)
        fused, = run(nodes, feeds={"x": x}, fetches=[fetch])
        unfused = run(nodes, feeds={"x": x}, fetches=[fetch] + intermediates)[0]
        self.assertEqual(plan(nodes, ["x"], [fetch] + intermediates)[fetch],
                         next(n.op for n in nodes if n.name == fetch))
        np.testing.assert_array_equal(fused.view(np.uint32), unfused.view(np.uint32))
        np.testing.assert_allclose(fused, ref, rtol=1e-4, atol=1e-4)
        return fused

    def test_conv_bias_select_prelu(self):
        rng = np.random.default_rng(2)
        x = rng.standard_normal((2, 9, 11, 3)).astype(F)
        alpha = rng.uniform(0.05, 0.5, 10).astype(F)
        nodes, w, b = conv_layer(x.shape, 10, alpha)
        ref = prelu_ref(conv_ref(x, w) + b, alpha)
        self.check_fused(nodes, x, "act", "_PlFusedConv2D", ["bias", "act/mul"], ref)

    def test_conv_bias_keras_prelu(self):
        rng = np.random.default_rng(3)
        x = rng.standard_normal((1, 12, 7, 4)).astype(F)
        alpha = rng.uniform(0.05, 0.5, (1, 1, 16)).astype(F)
        nodes, w, b = conv_layer(x.shape, 16, alpha, form=keras_prelu)
        ref = prelu_ref(conv_ref(x, w) + b, alpha)
        self.check_fused(nodes, x, "act", "_PlFusedConv2D", ["conv", "act/Relu"], ref)

    def test_alpha_shapes(self):
        rng = np.random.default_rng(4)
        x = rng.standard_normal((2, 8, 6, 3)).astype(F)
        # scalar, per channel, and varying along rows (the general broadcast)
        for alpha in (F(0.25), rng.uniform(0.1, 0.3, 5).astype(F), rng.uniform(0.1, 0.3, (6, 1, 1)).astype(F)):
            with self.subTest(alpha_shape=np.shape(alpha)):
                nodes, w, b = conv_layer(x.shape, 5, alpha, rng=rng)
                ref = prelu_ref(conv_ref(x, w) + b, alpha)
                self.check_fused(nodes, x, "act", "_PlFusedConv2D", ["bias", "act/mul"], ref)

    def test_conv_bias_only(self):
        rng = np.random.default_rng(5)
        x = rng.standard_normal((1, 20, 33, 6)).astype(F)
        nodes, w, b = conv_layer(x.shape, 7, F(0.1), form=None, rng=rng)
        self.check_fused(nodes, x, "bias", "_PlFusedConv2D", ["conv"], conv_ref(x, w) + b)

    def test_depthwise(self):
        rng = np.random.default_rng(6)
        x = rng.standard_normal((1, 10, 10, 4)).astype(F)
        alpha = rng.uniform(0.1, 0.3, 8).astype(F)
        nodes, w, b = conv_layer(x.shape, 0, alpha, depthwise=True, rng=rng)
        ref = prelu_ref(conv_ref(x, w, depthwise=True) + b, alpha)
        self.check_fused(nodes, x, "act", "_PlFusedDepthwiseConv2dNative", ["bias", "act/mul"], ref)

    def test_standalone_prelu_special_values(self):
        x = np.array([[0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 3e38, -3e38]] * 3, F)
        alpha = np.array([0.25], F)
        nodes = [placeholder("x", F), const("alpha", alpha)] + select_prelu("act", "x", "alpha")
        with np.errstate(invalid="ignore"):
            ref = prelu_ref(x.astype(np.float64), 0.25)
        ops = plan(nodes, ["x"], ["act"])
        self.assertEqual(ops["act"], "_PlPReLU")
        fused, = run(nodes, feeds={"x": x}, fetches=["act"])
        unfused, _ = run(nodes, feeds={"x": x}, fetches=["act", "act/mul"])
        np.testing.assert_array_equal(fused.view(np.uint32), unfused.view(np.uint32))
        np.testing.assert_allclose(fused, ref.astype(F), rtol=1e-6)

    def test_large_parallel_pass(self):
        rng = np.random.default_rng(7)
        x = rng.standard_normal((1, 130, 230, 3)).astype(F)
        alpha = rng.uniform(0.05, 0.5, 10).astype(F)
        nodes, w, b = conv_layer(x.shape, 10, alpha, rng=rng)
        ref = prelu_ref(conv_ref(x, w) + b, alpha)
        self.check_fused(nodes, x, "act", "_PlFusedConv2D", ["bias", "act/mul"], ref)


class ConvPool(unittest.TestCase):
    """MaxPool over a fused convolution joins it; batches run in chunks of 64 with
    the rest padded to a power of two (results must not depend on it)."""

    def nodes(self, padding="SAME"):
        nodes, w, b = conv_layer((1, 24, 24, 3), 28, np.linspace(0.1, 0.4, 28, dtype=F), rng=np.random.default_rng(9))
        return nodes + [node("pool", "MaxPool", ["act"], T=F, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
                             padding=padding)], w, b

    def ref(self, x, w, b, padding):
        v = prelu_ref(conv_ref(x, w) + b, np.linspace(0.1, 0.4, 28, dtype=F))
        n, h, wd, c = v.shape
        if padding == "SAME":
            oh, ow = -(-h // 2), -(-wd // 2)
            ph, pw = max((oh - 1) * 2 + 3 - h, 0), max((ow - 1) * 2 + 3 - wd, 0)
            v = np.pad(v, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)), constant_values=-np.inf)
        else:
            oh, ow = (h - 3) // 2 + 1, (wd - 3) // 2 + 1
        out = np.full((n, oh, ow, c), -np.inf)
        for i in range(3):
            for j in range(3):
                out = np.maximum(out, v[:, i:i + 2 * oh:2, j:j + 2 * ow:2, :])
        return out

    def test_batches(self):
        rng = np.random.default_rng(10)
        for padding in ("SAME", "VALID"):
            nodes, w, b = self.nodes(padding)
            ops = plan(nodes, ["x"], ["pool"])
            self.assertEqual(ops["pool"], "_PlFusedConv2D")
            self.assertNotIn("act", ops)
            for n in (1, 5, 64, 70, 131):
                with self.subTest(padding=padding, batch=n):
                    x = rng.standard_normal((n, 24, 24, 3)).astype(F)
                    fused, = run(nodes, feeds={"x": x}, fetches=["pool"])
                    unfused = run(nodes, feeds={"x": x}, fetches=["pool", "conv", "act/mul"])[0]
                    self.assertEqual(fused.shape, unfused.shape)
                    np.testing.assert_allclose(fused, unfused, rtol=1e-5, atol=1e-5)
                    np.testing.assert_allclose(fused, self.ref(x, w, b, padding), rtol=1e-4, atol=1e-4)


class ScalarChain(unittest.TestCase):
    def chain_nodes(self):
        # ((x - 127.5) / 128) * 3 -> 1000 - that -> 2 / that -> + 1, constants on both sides
        return [placeholder("x", F), const("c0", F(127.5)), const("c1", F(128)), const("c2", F(3)),
                const("c3", F(1000)), const("c4", F(2)), const("c5", F(1)),
                node("s0", "Sub", ["x", "c0"], T=F), node("s1", "RealDiv", ["s0", "c1"], T=F),
                node("s2", "Mul", ["c2", "s1"], T=F), node("s3", "Sub", ["c3", "s2"], T=F),
                node("s4", "RealDiv", ["c4", "s3"], T=F), node("s5", "AddV2", ["s4", "c5"], T=F)]

    def test_chain_is_one_pass_and_exact(self):
        nodes = self.chain_nodes()
        x = np.random.default_rng(8).uniform(0, 255, (3, 50, 70, 3)).astype(F)
        x[0, 0, 0, :] = [np.nan, np.inf, 127.5]
        ops = plan(nodes, ["x"], ["s5"])
        self.assertEqual(ops["s5"], "_PlScalarChain")
        for n in ("s0", "s1", "s2", "s3", "s4"):
            self.assertNotIn(n, ops)
        fused, = run(nodes, feeds={"x": x}, fetches=["s5"])
        unfused = run(nodes, feeds={"x": x}, fetches=["s5", "s0", "s1", "s2", "s3", "s4"])[0]
        np.testing.assert_array_equal(fused.view(np.uint32), unfused.view(np.uint32))
        with np.errstate(all="ignore"):
            ref = 2 / (1000 - 3 * ((x.astype(np.float64) - 127.5) / 128)) + 1
        np.testing.assert_allclose(fused, ref, rtol=1e-5)

    def test_chain_stops_at_shared_or_non_scalar(self):
        nodes = self.chain_nodes() + [const("v", np.ones(3, F)), node("t", "Mul", ["s5", "v"], T=F),
                                      node("u", "Neg", ["s2"], T=F)]
        ops = plan(nodes, ["x"], ["t", "u"])
        self.assertEqual(ops["t"], "Mul")             # a vector constant is not a scalar step
        self.assertEqual(ops["s5"], "_PlScalarChain")  # s5 <- s4 <- s3, stopping at s2 (used by u)
        self.assertEqual(ops["s2"], "_PlScalarChain")  # s2 <- s1 <- s0
        self.assertNotIn("s3", ops)
        x = np.linspace(0, 255, 30, dtype=F).reshape(10, 3)
        got = run(nodes, feeds={"x": x}, fetches=["t", "u"])
        ref = run(nodes, feeds={"x": x}, fetches=["t", "u", "s0", "s1", "s3", "s4", "s5"])
        for a, b in zip(got, ref):
            np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))

    def test_single_step_is_left_alone(self):
        nodes = [placeholder("x", F), const("c", F(2)), node("y", "Mul", ["x", "c"], T=F)]
        self.assertEqual(plan(nodes, ["x"], ["y"])["y"], "Mul")


class NoFusion(unittest.TestCase):
    def setUp(self):
        self.nodes, _, _ = conv_layer((1, 6, 6, 3), 4, np.full(4, 0.2, F))

    def test_extra_consumer(self):
        nodes = self.nodes + [node("other", "Neg", ["conv"], T=F)]
        ops = plan(nodes, ["x"], ["act", "other"])
        self.assertEqual(ops["conv"], "Conv2D")
        self.assertEqual(ops["act"], "_PlPReLU")  # the PReLU still fuses on its own
        self.assertEqual(ops["bias"], "BiasAdd")

    def test_fed_intermediate(self):
        x = np.ones((1, 6, 6, 3), F)
        fed = np.linspace(-2, 2, 4 * 4 * 4, dtype=F).reshape(1, 4, 4, 4)
        ops = plan(self.nodes, ["x", "bias"], ["act"])
        self.assertNotEqual(ops["act"], "_PlFusedConv2D")
        self.assertNotIn("conv", ops)
        got, = run(self.nodes, feeds={"x": x, "bias": fed}, fetches=["act"])
        np.testing.assert_array_equal(got, prelu_ref(fed, F(0.2)))

    def test_nchw(self):
        nodes = [n for n in self.nodes]
        for n in nodes:
            if n.name in ("conv", "bias"):
                n.attr["data_format"].s = b"NCHW"
        ops = plan(nodes, ["x"], ["act"])
        self.assertEqual(ops["conv"], "Conv2D")

    def test_nonzero_threshold(self):
        nodes = [n for n in self.nodes]
        for n in nodes:
            if n.name == "act/zero":
                n.attr["value"].tensor.tensor_content = np.float32(0.5).tobytes()
        ops = plan(nodes, ["x"], ["act"])
        self.assertEqual(ops["act"], "Select")

    def test_alpha_that_does_not_broadcast(self):
        nodes, _, _ = conv_layer((1, 6, 6, 3), 4, np.full(3, 0.2, F))
        x = np.ones((1, 6, 6, 3), F)
        with self.assertRaises(GraphError):
            run(nodes, feeds={"x": x}, fetches=["act"])
        with self.assertRaises(GraphError):
            run(nodes, feeds={"x": x}, fetches=["act", "bias"])


if __name__ == "__main__":
    unittest.main()
