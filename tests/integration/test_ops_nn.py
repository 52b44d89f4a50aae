"""nn kernels through the graph runtime against numpy references written from
TensorFlow's definitions: convolution (grouped, depthwise, dilated, strided,
SAME/VALID/EXPLICIT, NHWC/NCHW), transposed convolution, pooling, matmul,
softmax, batch norm, LRN."""
import unittest

import numpy as np
from graphlib import GraphError, const, node, placeholder, run

RNG = np.random.default_rng(1234)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---- references ----

def window(n, k, d, s, padding, explicit=(0, 0)):
    """TensorFlow's GetWindowedOutputSizeVerbose: (out, pad_before, pad_after)."""
    eff = (k - 1) * d + 1
    if padding == "VALID":
        return (n - eff + s) // s, 0, 0
    if padding == "EXPLICIT":
        return (n + explicit[0] + explicit[1] - eff + s) // s, explicit[0], explicit[1]
    out = (n + s - 1) // s
    need = max((out - 1) * s + eff - n, 0)
    return out, need // 2, need - need // 2


def conv_ref(x, f, strides=(1, 1), dil=(1, 1), padding="VALID", explicit=((0, 0), (0, 0)), depthwise=False):
    """NHWC direct convolution in float64; f is HWIO (depthwise: [kh, kw, c, m])."""
    n, h, w, c = x.shape
    kh, kw = f.shape[:2]
    if depthwise:
        groups, f = c, f.reshape(kh, kw, 1, c * f.shape[3])
    else:
        groups = c // f.shape[2]
    oc = f.shape[3]
    oh, pt, pb = window(h, kh, dil[0], strides[0], padding, explicit[0])
    ow, pl, pr = window(w, kw, dil[1], strides[1], padding, explicit[1])
    xp = np.zeros((n, h + pt + pb, w + pl + pr, c))
    xp[:, pt:pt + h, pl:pl + w, :] = x
    cin_g, cout_g = c // groups, oc // groups
    out = np.zeros((n, oh, ow, oc))
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dil[0], kx * dil[1]
            patch = xp[:, y0:y0 + (oh - 1) * strides[0] + 1:strides[0], x0:x0 + (ow - 1) * strides[1] + 1:strides[1], :]
            patch = patch[:, :oh, :ow, :].reshape(n, oh, ow, groups, cin_g)
            fk = f[ky, kx].astype(np.float64).reshape(cin_g, groups, cout_g)
            out += np.einsum("nhwgc,cgo->nhwgo", patch, fk).reshape(n, oh, ow, oc)
    return out


def pool_ref(x, k, s, padding, kind, explicit=((0, 0), (0, 0))):
    n, h, w, c = x.shape
    oh, pt, _ = window(h, k[0], 1, s[0], padding, explicit[0])
    ow, pl, _ = window(w, k[1], 1, s[1], padding, explicit[1])
    out = np.zeros((n, oh, ow, c), np.float64)
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * s[0] - pt, j * s[1] - pl
            win = x[:, max(y0, 0):max(min(y0 + k[0], h), 0), max(x0, 0):max(min(x0 + k[1], w), 0), :]
            out[:, i, j, :] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out


def nhwc_to_nchw(a):
    return np.ascontiguousarray(np.transpose(a, (0, 3, 1, 2)))


def nchw_to_nhwc(a):
    return np.ascontiguousarray(np.transpose(a, (0, 2, 3, 1)))


def close(test, got, want, tol=2e-5):
    test.assertEqual(got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    err = float(np.max(np.abs(got - want))) if want.size else 0.0
    test.assertLessEqual(err, tol * scale, "max error %g" % err)


# ---- convolution ----

CONV_CASES = [
    # name, x shape, filter shape, strides, dilations, padding, explicit
    ("valid3", (1, 9, 11, 3), (3, 3, 3, 10), (1, 1), (1, 1), "VALID", None),
    ("same3_s2", (2, 10, 9, 4), (3, 3, 4, 5), (2, 2), (1, 1), "SAME", None),
    ("same_even_kernel", (1, 7, 8, 2), (2, 4, 2, 3), (1, 1), (1, 1), "SAME", None),
    ("same_even_s2", (1, 8, 7, 3), (4, 2, 3, 2), (2, 3), (1, 1), "SAME", None),
    ("stride_gt_kernel", (1, 10, 10, 3), (1, 1, 3, 4), (3, 3), (1, 1), "VALID", None),
    ("stride_gt_kernel_same", (1, 11, 10, 2), (2, 2, 2, 3), (4, 3), (1, 1), "SAME", None),
    ("dilated_same", (1, 12, 11, 3), (3, 3, 3, 4), (1, 1), (2, 3), "SAME", None),
    ("dilated_valid_s2", (1, 13, 12, 2), (3, 2, 2, 3), (2, 1), (2, 2), "VALID", None),
    ("explicit", (1, 6, 7, 3), (3, 3, 3, 2), (1, 2), (1, 1), "EXPLICIT", ((1, 2), (0, 3))),
    ("one_pixel_same", (1, 1, 1, 3), (3, 3, 3, 4), (1, 1), (1, 1), "SAME", None),
    ("one_pixel_valid", (2, 1, 1, 5), (1, 1, 5, 2), (1, 1), (1, 1), "VALID", None),
    ("grouped", (1, 6, 6, 4), (3, 3, 2, 6), (1, 1), (1, 1), "SAME", None),
    ("pnet1", (1, 24, 31, 3), (3, 3, 3, 10), (1, 1), (1, 1), "VALID", None),
    ("wide", (1, 5, 5, 32), (3, 3, 32, 64), (1, 1), (1, 1), "SAME", None),
]


def conv_attrs(strides, dil, padding, explicit, fmt="NHWC"):
    if fmt == "NHWC":
        attrs = dict(strides=[1, strides[0], strides[1], 1], dilations=[1, dil[0], dil[1], 1])
    else:
        attrs = dict(strides=[1, 1, strides[0], strides[1]], dilations=[1, 1, dil[0], dil[1]])
    attrs.update(T=np.float32, padding=padding, data_format=fmt)
    if explicit:
        (t, b), (l, r) = explicit
        attrs["explicit_paddings"] = [0, 0, t, b, l, r, 0, 0] if fmt == "NHWC" else [0, 0, 0, 0, t, b, l, r]
    return attrs


class Conv2D(unittest.TestCase):
    def test_cases_nhwc(self):
        nodes, feeds, fetches, want = [], {}, [], []
        for name, xs, fs, st, dl, pad, ex in CONV_CASES:
            x, f = rand(*xs), rand(*fs)
            nodes += [placeholder("x_" + name, np.float32), const("f_" + name, f),
                      node(name, "Conv2D", ["x_" + name, "f_" + name], **conv_attrs(st, dl, pad, ex))]
            feeds["x_" + name] = x
            fetches.append(name)
            want.append(conv_ref(x, f, st, dl, pad, ex or ((0, 0), (0, 0))))
        got = run(nodes, feeds, fetches)
        for name, g, w in zip(fetches, got, want):
            with self.subTest(name):
                self.assertEqual(g.dtype, np.float32)
                close(self, g, w)

    def test_nchw(self):
        nodes, feeds, fetches, want = [], {}, [], []
        for name, xs, fs, st, dl, pad, ex in CONV_CASES[:10]:
            x, f = rand(*xs), rand(*fs)
            nodes += [placeholder("x_" + name, np.float32), const("f_" + name, f),
                      node(name, "Conv2D", ["x_" + name, "f_" + name], **conv_attrs(st, dl, pad, ex, "NCHW"))]
            feeds["x_" + name] = nhwc_to_nchw(x)
            fetches.append(name)
            want.append(nhwc_to_nchw(conv_ref(x, f, st, dl, pad, ex or ((0, 0), (0, 0)))))
        got = run(nodes, feeds, fetches)
        for name, g, w in zip(fetches, got, want):
            with self.subTest(name):
                close(self, g, w)

    def test_absent_dilations_mean_one(self):
        x, f = rand(1, 5, 5, 2), rand(3, 3, 2, 2)
        got, = run([const("x", x), const("f", f),
                    node("y", "Conv2D", ["x", "f"], T=np.float32, strides=[1, 1, 1, 1], padding="SAME")],
                   fetches=["y"])
        close(self, got, conv_ref(x, f, padding="SAME"))

    def test_filter_fed_not_constant(self):
        # A weight that is an input, not a Const, must still be read every run.
        x, f = rand(1, 6, 6, 3), rand(3, 3, 3, 4)
        got, = run([placeholder("x", np.float32), placeholder("f", np.float32),
                    node("y", "Conv2D", ["x", "f"], **conv_attrs((1, 1), (1, 1), "VALID", None))],
                   {"x": x, "f": f}, ["y"])
        close(self, got, conv_ref(x, f))

    def test_empty_batch_and_empty_output(self):
        got = run([const("x", np.zeros((0, 5, 5, 3), np.float32)), const("f", rand(3, 3, 3, 2)),
                   const("x2", rand(1, 2, 2, 3)),
                   node("y", "Conv2D", ["x", "f"], **conv_attrs((1, 1), (1, 1), "SAME", None)),
                   node("z", "Conv2D", ["x2", "f"], **conv_attrs((1, 1), (1, 1), "VALID", None))],
                  fetches=["y", "z"])
        self.assertEqual(got[0].shape, (0, 5, 5, 2))
        self.assertEqual(got[1].shape, (1, 0, 0, 2))

    def test_errors(self):
        def conv(xs, fs, **kw):
            attrs = conv_attrs((1, 1), (1, 1), "VALID", None)
            attrs.update(kw)
            return run([const("x", rand(*xs)), const("f", rand(*fs)), node("y", "Conv2D", ["x", "f"], **attrs)],
                       fetches=["y"])
        with self.assertRaisesRegex(GraphError, "evenly divisible"):
            conv((1, 5, 5, 3), (3, 3, 2, 4))
        with self.assertRaisesRegex(GraphError, "negative"):
            conv((1, 1, 1, 3), (3, 3, 3, 4))
        with self.assertRaisesRegex(GraphError, "4-dimensional"):
            conv((5, 5, 3), (3, 3, 3, 4))
        with self.assertRaisesRegex(GraphError, "batch and depth"):
            conv((1, 5, 5, 3), (3, 3, 3, 4), strides=[2, 1, 1, 1])
        with self.assertRaisesRegex(GraphError, "32 bits"):
            conv((1, 5, 5, 3), (3, 3, 3, 4), strides=[1, 2 ** 40, 1, 1])
        with self.assertRaisesRegex(GraphError, "32 bits"):
            conv((1, 5, 5, 3), (3, 3, 3, 4), dilations=[1, 1, 2 ** 62, 1])


def conv_transpose_ref(dy, f, in_shape, strides=(1, 1), dil=(1, 1), padding="VALID", explicit=((0, 0), (0, 0))):
    """The gradient of conv_ref with respect to its input, scattered in float64."""
    n, h, w, c = in_shape
    kh, kw = f.shape[:2]
    _, pt, pb = window(h, kh, dil[0], strides[0], padding, explicit[0])
    _, pl, pr = window(w, kw, dil[1], strides[1], padding, explicit[1])
    oh, ow = dy.shape[1:3]
    dxp = np.zeros((n, h + pt + pb + kh * dil[0], w + pl + pr + kw * dil[1], c))
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dil[0], kx * dil[1]
            contrib = np.einsum("nhwo,co->nhwc", dy.astype(np.float64), f[ky, kx].astype(np.float64))
            dxp[:, y0:y0 + (oh - 1) * strides[0] + 1:strides[0], x0:x0 + (ow - 1) * strides[1] + 1:strides[1], :] += contrib
    return dxp[:, pt:pt + h, pl:pl + w, :]


class ConvTranspose(unittest.TestCase):
    CASES = [("k3s2_valid", (1, 9, 11, 3), (3, 3, 3, 5), (2, 2), (1, 1), "VALID", None),
             ("k4s2_same", (2, 8, 8, 4), (4, 4, 4, 6), (2, 2), (1, 1), "SAME", None),
             ("k3s1_same", (1, 5, 7, 2), (3, 3, 2, 3), (1, 1), (1, 1), "SAME", None),
             ("odd_s2_same", (1, 7, 9, 2), (3, 3, 2, 4), (2, 2), (1, 1), "SAME", None),
             ("even_s2_same", (1, 8, 10, 3), (3, 3, 3, 2), (2, 2), (1, 1), "SAME", None),
             ("dilated", (1, 10, 9, 3), (3, 3, 3, 2), (1, 1), (2, 2), "SAME", None),
             ("explicit", (1, 6, 7, 2), (3, 2, 2, 3), (2, 1), (1, 1), "EXPLICIT", ((1, 2), (0, 1))),
             ("stride_gt_kernel", (1, 10, 10, 2), (1, 1, 2, 3), (3, 3), (1, 1), "VALID", None)]

    def test_cases(self):
        for fmt in ("NHWC", "NCHW"):
            nodes, feeds, fetches, want = [], {}, [], []
            for name, xs, fs, st, dl, pad, ex in self.CASES:
                f = rand(*fs)
                ref_dims = conv_ref(np.zeros(xs, np.float32), f, st, dl, pad, ex or ((0, 0), (0, 0))).shape
                dy = rand(*ref_dims)
                sizes = xs if fmt == "NHWC" else (xs[0], xs[3], xs[1], xs[2])
                nodes += [const("s_" + name, np.array(sizes, np.int32)), const("f_" + name, f),
                          placeholder("dy_" + name, np.float32),
                          node(name, "Conv2DBackpropInput", ["s_" + name, "f_" + name, "dy_" + name],
                               **conv_attrs(st, dl, pad, ex, fmt))]
                feeds["dy_" + name] = dy if fmt == "NHWC" else nhwc_to_nchw(dy)
                fetches.append(name)
                w = conv_transpose_ref(dy, f, xs, st, dl, pad, ex or ((0, 0), (0, 0)))
                want.append(w if fmt == "NHWC" else nhwc_to_nchw(w))
            got = run(nodes, feeds, fetches)
            for name, g, w in zip(fetches, got, want):
                with self.subTest(name=name, fmt=fmt):
                    close(self, g, w)

    def test_adjoint_of_conv2d_and_v2(self):
        # <conv(x), dy> == <x, conv_transpose(dy)>: an identity that needs no reference kernel.
        x, f = rand(1, 9, 8, 3), rand(3, 3, 3, 4)
        dy = rand(1, 5, 4, 4)
        attrs = conv_attrs((2, 2), (1, 1), "SAME", None)
        got = run([const("x", x), const("f", f), const("dy", dy), node("y", "Conv2D", ["x", "f"], **attrs),
                   node("dx", "Conv2DBackpropInputV2", ["x", "f", "dy"], **attrs)], fetches=["y", "dx"])
        lhs = float(np.sum(got[0].astype(np.float64) * dy))
        rhs = float(np.sum(x.astype(np.float64) * got[1]))
        self.assertAlmostEqual(lhs, rhs, delta=1e-4 * max(1.0, abs(lhs)))

    def test_mismatched_out_backprop(self):
        with self.assertRaisesRegex(GraphError, "out_backprop"):
            run([const("s", np.array([1, 8, 8, 3], np.int32)), const("f", rand(3, 3, 3, 2)),
                 const("dy", rand(1, 5, 5, 2)),
                 node("dx", "Conv2DBackpropInput", ["s", "f", "dy"], **conv_attrs((2, 2), (1, 1), "SAME", None))],
                fetches=["dx"])


class DepthwiseConv(unittest.TestCase):
    def test_multipliers_strides_padding(self):
        cases = [("m1", (1, 9, 9, 8), (3, 3, 8, 1), (1, 1), (1, 1), "SAME"),
                 ("m2_s2", (2, 10, 11, 3), (3, 3, 3, 2), (2, 2), (1, 1), "SAME"),
                 ("m3_valid", (1, 7, 6, 4), (2, 3, 4, 3), (1, 2), (1, 1), "VALID"),
                 ("dilated", (1, 11, 12, 5), (3, 3, 5, 1), (1, 1), (2, 2), "SAME"),
                 ("big_c", (1, 8, 8, 32), (3, 3, 32, 1), (2, 2), (1, 1), "SAME"),
                 ("one_pixel", (1, 1, 1, 2), (3, 3, 2, 2), (1, 1), (1, 1), "SAME")]
        nodes, feeds, fetches, want = [], {}, [], []
        for name, xs, fs, st, dl, pad in cases:
            x, f = rand(*xs), rand(*fs)
            nodes += [placeholder("x_" + name, np.float32), const("f_" + name, f),
                      node(name, "DepthwiseConv2dNative", ["x_" + name, "f_" + name],
                           **conv_attrs(st, dl, pad, None))]
            feeds["x_" + name] = x
            fetches.append(name)
            want.append(conv_ref(x, f, st, dl, pad, depthwise=True))
        got = run(nodes, feeds, fetches)
        for name, g, w in zip(fetches, got, want):
            with self.subTest(name):
                close(self, g, w)

    def test_depth_mismatch(self):
        with self.assertRaisesRegex(GraphError, "same depth"):
            run([const("x", rand(1, 4, 4, 3)), const("f", rand(3, 3, 2, 1)),
                 node("y", "DepthwiseConv2dNative", ["x", "f"], **conv_attrs((1, 1), (1, 1), "SAME", None))],
                fetches=["y"])


# ---- pooling ----

class Pooling(unittest.TestCase):
    CASES = [("k2s2_same", (1, 7, 9, 3), (2, 2), (2, 2), "SAME"),
             ("k3s2_same", (2, 10, 11, 4), (3, 3), (2, 2), "SAME"),
             ("k3s1_valid", (1, 6, 5, 2), (3, 3), (1, 1), "VALID"),
             ("stride_gt_kernel", (1, 10, 10, 2), (2, 2), (3, 3), "VALID"),
             ("stride_gt_kernel_same", (1, 10, 11, 2), (1, 2), (3, 4), "SAME"),
             ("one_pixel", (1, 1, 1, 3), (3, 3), (2, 2), "SAME"),
             ("rect", (1, 9, 12, 16), (2, 3), (1, 2), "SAME")]

    def run_cases(self, op, kind, fmt="NHWC"):
        nodes, feeds, fetches, want = [], {}, [], []
        for name, xs, k, s, pad in self.CASES:
            x = rand(*xs)
            if fmt == "NHWC":
                attrs = dict(ksize=[1, k[0], k[1], 1], strides=[1, s[0], s[1], 1])
            else:
                attrs = dict(ksize=[1, 1, k[0], k[1]], strides=[1, 1, s[0], s[1]])
            nodes += [placeholder("x_" + name, np.float32),
                      node(name, op, ["x_" + name], T=np.float32, padding=pad, data_format=fmt, **attrs)]
            feeds["x_" + name] = x if fmt == "NHWC" else nhwc_to_nchw(x)
            fetches.append(name)
            w = pool_ref(x, k, s, pad, kind)
            want.append(w if fmt == "NHWC" else nhwc_to_nchw(w))
        got = run(nodes, feeds, fetches)
        for name, g, w in zip(fetches, got, want):
            with self.subTest(name):
                close(self, g, w, 1e-6)

    def test_max(self):
        self.run_cases("MaxPool", "max")

    def test_max_nchw(self):
        self.run_cases("MaxPool", "max", "NCHW")

    def test_avg_excludes_padding(self):
        self.run_cases("AvgPool", "avg")

    def test_avg_nchw(self):
        self.run_cases("AvgPool", "avg", "NCHW")

    def test_max_v2_and_explicit(self):
        x = rand(1, 7, 8, 3)
        got = run([const("x", x), const("k", np.array([1, 3, 2, 1], np.int32)),
                   const("s", np.array([1, 2, 2, 1], np.int32)),
                   node("v2", "MaxPoolV2", ["x", "k", "s"], T=np.float32, padding="SAME"),
                   node("ex", "MaxPool", ["x"], T=np.float32, padding="EXPLICIT", ksize=[1, 3, 3, 1],
                        strides=[1, 2, 1, 1], explicit_paddings=[0, 0, 1, 2, 2, 1, 0, 0])],
                  fetches=["v2", "ex"])
        close(self, got[0], pool_ref(x, (3, 2), (2, 2), "SAME", "max"), 1e-6)
        close(self, got[1], pool_ref(x, (3, 3), (2, 1), "EXPLICIT", "max", ((1, 2), (2, 1))), 1e-6)

    def test_all_negative_same_padding_is_not_zero(self):
        # Padding must not take part in the max: all-negative windows stay negative.
        x = -1 - np.abs(rand(1, 3, 3, 1))
        got, = run([const("x", x), node("y", "MaxPool", ["x"], T=np.float32, padding="SAME",
                                        ksize=[1, 3, 3, 1], strides=[1, 1, 1, 1])], fetches=["y"])
        self.assertTrue((got < 0).all())
        close(self, got, pool_ref(x, (3, 3), (1, 1), "SAME", "max"), 1e-6)


# ---- matmul ----

class MatMul(unittest.TestCase):
    def test_transposes(self):
        a, b = rand(5, 7), rand(7, 3)
        nodes = [const("a", a), const("b", b), const("at", a.T.copy()), const("bt", b.T.copy())]
        fetches = []
        for ta in (False, True):
            for tb in (False, True):
                name = "mm_%d%d" % (ta, tb)
                nodes.append(node(name, "MatMul", ["at" if ta else "a", "bt" if tb else "b"], T=np.float32,
                                  transpose_a=ta, transpose_b=tb))
                fetches.append(name)
        for g in run(nodes, fetches=fetches):
            close(self, g, a.astype(np.float64) @ b, 1e-5)

    def test_dense_layer_shape_and_other_dtypes(self):
        a, b = rand(1, 576), rand(576, 128)
        ai, bi = RNG.integers(-50, 50, (4, 6)).astype(np.int32), RNG.integers(-50, 50, (6, 2)).astype(np.int32)
        ad, bd = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))
        got = run([const("a", a), const("b", b), node("y", "MatMul", ["a", "b"], T=np.float32),
                   const("ai", ai), const("bi", bi), node("yi", "MatMul", ["ai", "bi"], T=np.int32),
                   const("ad", ad), const("bd", bd), node("yd", "MatMul", ["ad", "bd"], T=np.float64)],
                  fetches=["y", "yi", "yd"])
        close(self, got[0], a.astype(np.float64) @ b, 1e-5)
        np.testing.assert_array_equal(got[1], ai @ bi)
        np.testing.assert_allclose(got[2], ad @ bd, rtol=1e-12)

    def test_batch_matmul_broadcast_and_adjoint(self):
        cases = [("same", (2, 3, 4), (2, 4, 5), False, False),
                 ("bcast_a", (1, 3, 4), (6, 4, 2), False, False),
                 ("bcast_b_rank", (2, 3, 3, 4), (4, 5), False, False),
                 ("bcast_both", (2, 1, 3, 4), (1, 5, 4, 2), False, False),
                 ("adj", (2, 4, 3), (2, 5, 4), True, True),
                 ("adj_x", (3, 4, 3), (3, 4, 2), True, False)]
        nodes, fetches, want = [], [], []
        for name, sa, sb, ax, ay in cases:
            a, b = rand(*sa), rand(*sb)
            nodes += [const("a_" + name, a), const("b_" + name, b),
                      node(name, "BatchMatMulV2", ["a_" + name, "b_" + name], T=np.float32, adj_x=ax, adj_y=ay)]
            fetches.append(name)
            aa = np.swapaxes(a, -1, -2) if ax else a
            bb = np.swapaxes(b, -1, -2) if ay else b
            want.append(np.matmul(aa.astype(np.float64), bb))
        a, b = rand(3, 2, 4), rand(3, 4, 2)
        nodes += [const("a1", a), const("b1", b), node("v1", "BatchMatMul", ["a1", "b1"], T=np.float32),
                  node("v3", "BatchMatMulV3", ["a1", "b1"], Ta=np.float32, Tb=np.float32, Tout=np.float32)]
        fetches += ["v1", "v3"]
        want += [np.matmul(a.astype(np.float64), b)] * 2
        got = run(nodes, fetches=fetches)
        for name, g, w in zip(fetches, got, want):
            with self.subTest(name):
                close(self, g, w, 1e-5)

    def test_empty_inner_dimension_gives_zeros(self):
        got, = run([const("a", np.zeros((3, 0), np.float32)), const("b", np.zeros((0, 2), np.float32)),
                    node("y", "MatMul", ["a", "b"], T=np.float32)], fetches=["y"])
        np.testing.assert_array_equal(got, np.zeros((3, 2), np.float32))

    def test_errors(self):
        with self.assertRaisesRegex(GraphError, "size-incompatible"):
            run([const("a", rand(2, 3)), const("b", rand(4, 2)), node("y", "MatMul", ["a", "b"], T=np.float32)],
                fetches=["y"])
        with self.assertRaisesRegex(GraphError, "compatible batch"):
            run([const("a", rand(2, 2, 3)), const("b", rand(3, 3, 2)),
                 node("y", "BatchMatMulV2", ["a", "b"], T=np.float32)], fetches=["y"])


# ---- softmax, batch norm, LRN ----

class Elementwise(unittest.TestCase):
    def test_softmax_any_rank(self):
        xs = {"r1": rand(7) * 5, "r2": rand(3, 4) * 5, "r4": rand(2, 3, 2, 5) * 5,
              "big": np.array([[1000.0, 1001.0, 999.0]], np.float32)}
        nodes, fetches = [], []
        for k, v in xs.items():
            nodes += [const(k, v), node("s_" + k, "Softmax", [k], T=np.float32),
                      node("l_" + k, "LogSoftmax", [k], T=np.float32)]
            fetches += ["s_" + k, "l_" + k]
        got = run(nodes, fetches=fetches)
        for i, v in enumerate(xs.values()):
            v64 = v.astype(np.float64)
            e = np.exp(v64 - v64.max(-1, keepdims=True))
            close(self, got[2 * i], e / e.sum(-1, keepdims=True), 1e-6)
            close(self, got[2 * i + 1], np.log(e / e.sum(-1, keepdims=True)), 1e-5)

    def test_softmax_rank0_is_an_error(self):
        with self.assertRaisesRegex(GraphError, "1 dimension"):
            run([const("x", np.float32(1)), node("s", "Softmax", ["x"], T=np.float32)], fetches=["s"])

    def test_fused_batch_norm_inference(self):
        x, scale, offset = rand(2, 4, 3, 6), rand(6), rand(6)
        mean, var = rand(6), np.abs(rand(6)) + 0.1
        eps = 0.001
        want = (x.astype(np.float64) - mean) / np.sqrt(var.astype(np.float64) + eps) * scale + offset
        nodes = [const("x", x), const("s", scale), const("o", offset), const("m", mean), const("v", var),
                 const("xc", nhwc_to_nchw(x))]
        for op in ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"):
            extra = {} if op == "FusedBatchNorm" else {"U": np.float32}
            nodes.append(node(op, op, ["x", "s", "o", "m", "v"], T=np.float32, epsilon=eps, is_training=False, **extra))
        nodes.append(node("nchw", "FusedBatchNormV3", ["xc", "s", "o", "m", "v"], T=np.float32, U=np.float32,
                          epsilon=eps, is_training=False, data_format="NCHW"))
        got = run(nodes, fetches=["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "FusedBatchNormV3:1",
                                  "FusedBatchNormV3:2", "nchw"])
        for g in got[:3]:
            close(self, g, want, 1e-5)
        np.testing.assert_array_equal(got[3], mean)
        np.testing.assert_array_equal(got[4], var)
        close(self, got[5], nhwc_to_nchw(want), 1e-5)

    def test_fused_batch_norm_training(self):
        x, scale, offset = rand(2, 3, 4, 5), rand(5), rand(5)
        eps = 0.01
        got = run([const("x", x), const("s", scale), const("o", offset),
                   const("e", np.zeros(0, np.float32)),
                   node("bn", "FusedBatchNormV3", ["x", "s", "o", "e", "e"], T=np.float32, U=np.float32,
                        epsilon=eps, is_training=True)], fetches=["bn", "bn:1", "bn:2"])
        x64 = x.astype(np.float64).reshape(-1, 5)
        m, v = x64.mean(0), x64.var(0)
        close(self, got[0], ((x64 - m) / np.sqrt(v + eps) * scale + offset).reshape(x.shape), 1e-5)
        close(self, got[1], m, 1e-6)
        close(self, got[2], v * 24 / 23, 1e-5)

    def test_lrn_radius_beyond_depth(self):
        x = rand(1, 2, 2, 4)
        got, = run([const("x", x), node("y", "LRN", ["x"], T=np.float32, depth_radius=2 ** 40)], fetches=["y"])
        x64 = x.astype(np.float64)
        close(self, got, x64 / (1 + (x64 ** 2).sum(-1, keepdims=True)) ** 0.5, 1e-5)

    def test_lrn(self):
        x = rand(1, 3, 4, 9)
        r, bias, alpha, beta = 2, 1.5, 0.3, 0.75
        got, = run([const("x", x), node("y", "LRN", ["x"], T=np.float32, depth_radius=r, bias=bias, alpha=alpha,
                                        beta=beta)], fetches=["y"])
        x64 = x.astype(np.float64)
        sq = np.zeros_like(x64)
        for d in range(9):
            sq[..., d] = (x64[..., max(0, d - r):d + r + 1] ** 2).sum(-1)
        close(self, got, x64 / (bias + alpha * sq) ** beta, 1e-5)


if __name__ == "__main__":
    unittest.main()
