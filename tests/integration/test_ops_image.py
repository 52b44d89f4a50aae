"""image kernels through the graph runtime against numpy references written from
TensorFlow's kernels (resize_bilinear_op.cc, resize_nearest_neighbor_op.cc,
crop_and_resize_op.cc, non_max_suppression_op.cc), in float32 arithmetic so the
comparison can be exact."""
import heapq
import unittest

import numpy as np
from graphlib import GraphError, const, node, placeholder, run

RNG = np.random.default_rng(99)
F = np.float32


# ---- references ----

def roundf(v):
    """C's roundf for v >= 0: halves away from zero, without float32 rounding of v + 0.5."""
    fl = np.floor(v)
    return np.where(v - fl >= 0.5, fl + 1, fl)


def resize_scale(n_in, n_out, align):
    return F(n_in - 1) / F(n_out - 1) if align and n_out > 1 else F(n_in) / F(n_out)


def bilinear_ref(img, size, align=False, half=False):
    img = img.astype(np.float32)
    b, h, w, c = img.shape
    oh, ow = size
    if (oh, ow) == (h, w):
        return img.copy()

    def weights(n_out, n_in, s):
        i = np.arange(n_out, dtype=np.float32)
        v = (i + F(0.5)) * s - F(0.5) if half else i * s
        fl = np.floor(v)
        lo = np.maximum(fl, 0).astype(np.int64)
        up = np.minimum(np.ceil(v), n_in - 1).astype(np.int64)
        return lo, up, (v - fl).astype(np.float32)

    ylo, yup, yl = weights(oh, h, resize_scale(h, oh, align))
    xlo, xup, xl = weights(ow, w, resize_scale(w, ow, align))
    tl, tr = img[:, ylo][:, :, xlo], img[:, ylo][:, :, xup]
    bl, br = img[:, yup][:, :, xlo], img[:, yup][:, :, xup]
    xl, yl = xl[None, None, :, None], yl[None, :, None, None]
    top = tl + (tr - tl) * xl
    bot = bl + (br - bl) * xl
    return top + (bot - top) * yl


def nearest_ref(img, size, align=False, half=False):
    b, h, w, c = img.shape

    def idx(n_out, n_in):
        s = resize_scale(n_in, n_out, align)
        i = np.arange(n_out, dtype=np.float32)
        v = (i + F(0.5)) * s if half else i * s
        k = roundf(v) if align else np.floor(v)
        k = np.minimum(k.astype(np.int64), n_in - 1)
        return np.maximum(k, 0) if half else k

    return img[:, idx(size[0], h)][:, :, idx(size[1], w)]


def crop_ref(img, boxes, box_ind, crop, method="bilinear", extrap=0.0):
    img = img.astype(np.float32)
    _, ih, iw, d = img.shape
    ch, cw = crop
    out = np.zeros((len(boxes), ch, cw, d), np.float32)
    for b, (y1, x1, y2, x2) in enumerate(np.asarray(boxes, np.float32)):
        im = img[box_ind[b]]
        hs = (y2 - y1) * F(ih - 1) / F(ch - 1) if ch > 1 else F(0)
        ws = (x2 - x1) * F(iw - 1) / F(cw - 1) if cw > 1 else F(0)
        for y in range(ch):
            in_y = y1 * F(ih - 1) + F(y) * hs if ch > 1 else F(0.5 * float(y1 + y2) * (ih - 1))
            if in_y < 0 or in_y > ih - 1:
                out[b, y] = extrap
                continue
            top, bot = int(np.floor(in_y)), int(np.ceil(in_y))
            yl = in_y - F(top)
            for x in range(cw):
                in_x = x1 * F(iw - 1) + F(x) * ws if cw > 1 else F(0.5 * float(x1 + x2) * (iw - 1))
                if in_x < 0 or in_x > iw - 1:
                    out[b, y, x] = extrap
                    continue
                if method == "nearest":
                    out[b, y, x] = im[int(roundf(in_y)), int(roundf(in_x))]
                    continue
                left, right = int(np.floor(in_x)), int(np.ceil(in_x))
                xl = in_x - F(left)
                t = im[top, left] + (im[top, right] - im[top, left]) * xl
                bt = im[bot, left] + (im[bot, right] - im[bot, left]) * xl
                out[b, y, x] = t + (bt - t) * yl
    return out


def iou_ref(a, b):
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    ay0, ay1 = min(a[0], a[2]), max(a[0], a[2])
    ax0, ax1 = min(a[1], a[3]), max(a[1], a[3])
    by0, by1 = min(b[0], b[2]), max(b[0], b[2])
    bx0, bx1 = min(b[1], b[3]), max(b[1], b[3])
    area_a, area_b = (ay1 - ay0) * (ax1 - ax0), (by1 - by0) * (bx1 - bx0)
    if area_a <= 0 or area_b <= 0:
        return F(0)
    inter = max(min(ay1, by1) - max(ay0, by0), F(0)) * max(min(ax1, bx1) - max(ax0, bx0), F(0))
    return inter / (area_a + area_b - inter)


def nms_ref(boxes, scores, max_out, iou_thr, score_thr=-np.inf, sigma=0.0):
    """TensorFlow's DoNonMaxSuppressionOp: (indices, scores)."""
    scores = np.asarray(scores, np.float32)
    heap = [(-s, i, 0) for i, s in enumerate(scores) if s > score_thr]
    heapq.heapify(heap)
    scale = F(-0.5 / sigma) if sigma > 0 else F(0)
    sel, sel_scores = [], []
    while len(sel) < max_out and heap:
        neg, idx, begin = heapq.heappop(heap)
        score = orig = F(-neg)
        hard = False
        for j in range(len(sel) - 1, begin - 1, -1):
            sim = iou_ref(boxes[idx], boxes[sel[j]])
            w = np.exp(scale * sim * sim).astype(np.float32)
            score = F(score * (w if (sigma > 0 or sim <= iou_thr) else F(0)))
            if sigma <= 0 and sim > iou_thr:
                hard = True
                break
            if score <= score_thr:
                break
        if hard:
            continue
        if score == orig:
            sel.append(idx)
            sel_scores.append(score)
        elif score > score_thr:
            heapq.heappush(heap, (-score, idx, len(sel)))
    return np.array(sel, np.int32), np.array(sel_scores, np.float32)


def random_boxes(n, clustered=True):
    centres = RNG.uniform(0, 1, (n, 2))
    if clustered:
        centres = np.repeat(centres[: (n + 3) // 4], 4, axis=0)[:n] + RNG.normal(0, 0.02, (n, 2))
    sizes = RNG.uniform(0.05, 0.3, (n, 2))
    b = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1).astype(np.float32)
    return b


# ---- tests ----

class ResizeBilinear(unittest.TestCase):
    def test_hand_computed_align_corners(self):
        img = np.array([0, 1, 2, 3], np.float32).reshape(1, 2, 2, 1)
        got, = run([const("i", img), const("s", np.array([3, 3], np.int32)),
                    node("r", "ResizeBilinear", ["i", "s"], T=np.float32, align_corners=True)], fetches=["r"])
        np.testing.assert_array_equal(got[0, :, :, 0], [[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]])

    def test_modes_and_sizes_exact(self):
        cases = []
        for src in [(1, 5, 7, 3), (2, 4, 4, 1), (1, 1, 1, 2), (1, 9, 6, 4)]:
            for size in [(10, 13), (3, 2), (1, 1), (src[1], src[2]), (2, 11)]:
                for align, half in [(False, False), (True, False), (False, True)]:
                    cases.append((src, size, align, half))
        nodes, feeds, fetches, want = [], {}, [], []
        for k, (src, size, align, half) in enumerate(cases):
            img = RNG.uniform(-10, 10, src).astype(np.float32)
            n = "r%d" % k
            nodes += [placeholder("i" + n, np.float32), const("s" + n, np.array(size, np.int32)),
                      node(n, "ResizeBilinear", ["i" + n, "s" + n], T=np.float32, align_corners=align,
                           half_pixel_centers=half)]
            feeds["i" + n] = img
            fetches.append(n)
            want.append(bilinear_ref(img, size, align, half))
        got = run(nodes, feeds, fetches)
        for case, g, w in zip(cases, got, want):
            with self.subTest(case):
                self.assertEqual(g.dtype, np.float32)
                np.testing.assert_array_equal(g, w)

    def test_uint8_input_gives_float(self):
        img = RNG.integers(0, 256, (1, 6, 5, 3)).astype(np.uint8)
        got, = run([const("i", img), const("s", np.array([9, 4], np.int32)),
                    node("r", "ResizeBilinear", ["i", "s"], T=np.uint8, half_pixel_centers=True)], fetches=["r"])
        self.assertEqual(got.dtype, np.float32)
        np.testing.assert_array_equal(got, bilinear_ref(img, (9, 4), half=True))

    def test_errors(self):
        img = np.zeros((1, 2, 2, 1), np.float32)
        with self.assertRaisesRegex(GraphError, "half_pixel_centers"):
            run([const("i", img), const("s", np.array([3, 3], np.int32)),
                 node("r", "ResizeBilinear", ["i", "s"], T=np.float32, align_corners=True, half_pixel_centers=True)],
                fetches=["r"])
        with self.assertRaisesRegex(GraphError, "positive"):
            run([const("i", img), const("s", np.array([0, 3], np.int32)),
                 node("r", "ResizeBilinear", ["i", "s"], T=np.float32)], fetches=["r"])


class ResizeNearest(unittest.TestCase):
    def test_modes_exact_and_dtype_kept(self):
        cases = [((1, 5, 7, 3), (10, 13)), ((1, 5, 7, 3), (2, 3)), ((2, 1, 1, 2), (3, 4)), ((1, 6, 6, 1), (4, 9))]
        nodes, fetches, want = [], [], []
        k = 0
        for src, size in cases:
            for align, half in [(False, False), (True, False), (False, True)]:
                img = RNG.integers(0, 256, src).astype(np.uint8)
                n = "n%d" % k
                k += 1
                nodes += [const("i" + n, img), const("s" + n, np.array(size, np.int32)),
                          node(n, "ResizeNearestNeighbor", ["i" + n, "s" + n], T=np.uint8, align_corners=align,
                               half_pixel_centers=half)]
                fetches.append(n)
                want.append(nearest_ref(img, size, align, half))
        got = run(nodes, fetches=fetches)
        for g, w in zip(got, want):
            self.assertEqual(g.dtype, np.uint8)
            np.testing.assert_array_equal(g, w)


class CropAndResize(unittest.TestCase):
    BOXES = np.array([[0.1, 0.2, 0.8, 0.9],      # inside
                      [0.8, 0.9, 0.1, 0.2],      # flipped
                      [-0.5, -0.3, 0.6, 1.4],    # partly outside
                      [1.2, 1.1, 1.9, 1.5],      # wholly outside
                      [0.0, 0.0, 1.0, 1.0],      # exactly the image
                      [0.3, 0.3, 0.3, 0.3],      # a point
                      [0.25, 0.5, 0.75, 0.5]],   # zero width
                     np.float32)

    def check(self, img, crops, method, extrap, dtype=np.float32):
        nodes, fetches, want = [const("img", img)], [], []
        ind = np.array([i % img.shape[0] for i in range(len(self.BOXES))], np.int32)
        nodes += [const("boxes", self.BOXES), const("ind", ind)]
        for k, crop in enumerate(crops):
            n = "c%d" % k
            nodes += [const("s" + n, np.array(crop, np.int32)),
                      node(n, "CropAndResize", ["img", "boxes", "ind", "s" + n], T=dtype, method=method,
                           extrapolation_value=extrap)]
            fetches.append(n)
            want.append(crop_ref(img, self.BOXES, ind, crop, method, extrap))
        got = run(nodes, fetches=fetches)
        for crop, g, w in zip(crops, got, want):
            with self.subTest(crop=crop):
                self.assertEqual(g.dtype, np.float32)
                np.testing.assert_array_equal(g, w)

    def test_bilinear(self):
        img = RNG.uniform(0, 255, (2, 9, 11, 3)).astype(np.float32)
        self.check(img, [(5, 4), (1, 1), (1, 6), (24, 24), (7, 1)], "bilinear", 0.0)

    def test_nearest_with_extrapolation(self):
        img = RNG.uniform(0, 255, (1, 8, 6, 2)).astype(np.float32)
        self.check(img, [(5, 4), (1, 1), (12, 9)], "nearest", 7.5)

    def test_uint8_image(self):
        img = RNG.integers(0, 256, (2, 7, 7, 3)).astype(np.uint8)
        self.check(img, [(4, 4), (1, 1)], "bilinear", -1.0, np.uint8)

    def test_one_pixel_image(self):
        img = np.array([[[[5.0, 6.0]]]], np.float32)
        self.check(img, [(3, 2), (1, 1)], "bilinear", 9.0)

    def test_zero_boxes(self):
        got, = run([const("img", np.ones((1, 4, 4, 3), np.float32)), const("b", np.zeros((0, 4), np.float32)),
                    const("i", np.zeros(0, np.int32)), const("s", np.array([5, 6], np.int32)),
                    node("c", "CropAndResize", ["img", "b", "i", "s"], T=np.float32)], fetches=["c"])
        self.assertEqual(got.shape, (0, 5, 6, 3))

    def test_huge_finite_boxes_extrapolate(self):
        # (y2 - y1) overflows to inf, and the sample positions become NaN: every one lies outside the image.
        got, = run([const("img", np.ones((1, 4, 4, 1), np.float32)),
                    const("b", np.array([[-3e38, -3e38, 3e38, 3e38]], np.float32)),
                    const("i", np.zeros(1, np.int32)), const("s", np.array([3, 2], np.int32)),
                    node("c", "CropAndResize", ["img", "b", "i", "s"], T=np.float32, extrapolation_value=9.0)],
                   fetches=["c"])
        np.testing.assert_array_equal(got, np.full((1, 3, 2, 1), 9.0, np.float32))

    def test_errors(self):
        def crop(boxes, ind, size):
            return run([const("img", np.ones((2, 4, 4, 1), np.float32)), const("b", np.array(boxes, np.float32)),
                        const("i", np.array(ind, np.int32)), const("s", np.array(size, np.int32)),
                        node("c", "CropAndResize", ["img", "b", "i", "s"], T=np.float32)], fetches=["c"])
        with self.assertRaisesRegex(GraphError, "outside"):
            crop([[0, 0, 1, 1]], [2], [2, 2])
        with self.assertRaisesRegex(GraphError, "crop dimensions must be positive"):
            crop([[0, 0, 1, 1]], [0], [0, 2])
        with self.assertRaisesRegex(GraphError, "not finite"):
            crop([[0, 0, np.nan, 1]], [0], [2, 2])
        with self.assertRaisesRegex(GraphError, "incompatible"):
            crop([[0, 0, 1, 1]], [0, 1], [2, 2])


class NonMaxSuppression(unittest.TestCase):
    def nms_nodes(self, n, boxes, scores, max_out, iou, score_thr=None, sigma=None, version=2, pad=False):
        nodes = [const(n + "b", boxes), const(n + "s", scores), const(n + "m", np.int32(max_out))]
        if version == 1:
            return nodes + [node(n, "NonMaxSuppression", [n + "b", n + "s", n + "m"], iou_threshold=float(iou))]
        nodes.append(const(n + "i", np.float32(iou)))
        ins = [n + "b", n + "s", n + "m", n + "i"]
        if version >= 3:
            nodes.append(const(n + "t", np.float32(score_thr)))
            ins.append(n + "t")
        if version == 5:
            nodes.append(const(n + "g", np.float32(sigma)))
            ins.append(n + "g")
        op = "NonMaxSuppressionV%d" % version
        attrs = dict(T=np.float32)
        if version >= 3:
            attrs["T_threshold"] = np.float32
        if version >= 4:
            attrs["pad_to_max_output_size"] = pad
        return nodes + [node(n, op, ins, **attrs)]

    def test_random_against_reference(self):
        nodes, fetches, want = [], [], []
        k = 0
        for nb in (1, 7, 40, 200):
            for max_out in (0, 1, 5, 1000):
                for iou in (0.0, 0.3, 0.7, 1.0):
                    boxes = random_boxes(nb)
                    # Coarse scores make ties common; ties go to the lower index.
                    scores = np.round(RNG.uniform(0, 1, nb) * 8).astype(np.float32) / 8
                    n = "n%d" % k
                    k += 1
                    nodes += self.nms_nodes(n, boxes, scores, max_out, iou)
                    fetches.append(n)
                    want.append(nms_ref(boxes, scores, max_out, F(iou))[0])
        got = run(nodes, fetches=fetches)
        for g, w in zip(got, want):
            self.assertEqual(g.dtype, np.int32)
            np.testing.assert_array_equal(g, w)

    def test_equal_scores_keep_lower_index(self):
        boxes = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1], [5, 5, 6, 6]], np.float32)
        scores = np.array([1.0, 1.0, 1.0, 1.0], np.float32)
        got, = run(self.nms_nodes("n", boxes, scores, 10, 0.5), fetches=["n"])
        np.testing.assert_array_equal(got, [0, 3])

    def test_threshold_is_strict(self):
        # IoU of these two is exactly 0.5: suppressed only when the threshold is below it.
        boxes = np.array([[0, 0, 1, 1], [0, 0, 1, 2]], np.float32)
        scores = np.array([0.9, 0.8], np.float32)
        got = run(self.nms_nodes("a", boxes, scores, 10, 0.5) + self.nms_nodes("b", boxes, scores, 10, 0.49),
                  fetches=["a", "b"])
        np.testing.assert_array_equal(got[0], [0, 1])
        np.testing.assert_array_equal(got[1], [0])

    def test_flipped_and_empty_boxes(self):
        boxes = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [0.5, 0.5, 0.5, 0.9], [0.5, 0.5, 0.5, 0.9]], np.float32)
        scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
        got, = run(self.nms_nodes("n", boxes, scores, 10, 0.5), fetches=["n"])
        # The flipped box equals box 1; zero-area boxes never overlap anything.
        np.testing.assert_array_equal(got, [0, 2, 3])

    def test_zero_boxes(self):
        got, = run(self.nms_nodes("n", np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 5, 0.5),
                   fetches=["n"])
        self.assertEqual(got.shape, (0,))

    def test_v1_v3_v4_v5(self):
        boxes = random_boxes(60)
        scores = RNG.uniform(0, 1, 60).astype(np.float32)
        nodes = (self.nms_nodes("v1", boxes, scores, 20, 0.4, version=1) +
                 self.nms_nodes("v3", boxes, scores, 20, 0.4, 0.7, version=3) +
                 self.nms_nodes("v4", boxes, scores, 20, 0.4, 0.7, version=4, pad=True) +
                 self.nms_nodes("v4n", boxes, scores, 20, 0.4, 0.7, version=4, pad=False) +
                 self.nms_nodes("v5", boxes, scores, 20, 0.4, 0.3, sigma=0.0, version=5, pad=True) +
                 self.nms_nodes("soft", boxes, scores, 20, 0.4, 0.3, sigma=0.5, version=5))
        got = run(nodes, fetches=["v1", "v3", "v4", "v4:1", "v4n", "v4n:1", "v5", "v5:1", "v5:2",
                                  "soft", "soft:1", "soft:2"])
        np.testing.assert_array_equal(got[0], nms_ref(boxes, scores, 20, F(0.4))[0])
        sel3 = nms_ref(boxes, scores, 20, F(0.4), F(0.7))[0]
        np.testing.assert_array_equal(got[1], sel3)
        self.assertLess(len(sel3), 20)
        np.testing.assert_array_equal(got[2], np.concatenate([sel3, np.zeros(20 - len(sel3), np.int32)]))
        self.assertEqual(int(got[3]), len(sel3))
        np.testing.assert_array_equal(got[4], sel3)
        self.assertEqual(int(got[5]), len(sel3))
        sel5, sc5 = nms_ref(boxes, scores, 20, F(0.4), F(0.3))
        np.testing.assert_array_equal(got[6][:len(sel5)], sel5)
        np.testing.assert_array_equal(got[7][:len(sel5)], sc5)
        self.assertEqual(int(got[8]), len(sel5))
        self.assertEqual(got[6].shape, (20,))
        soft, soft_scores = nms_ref(boxes, scores, 20, F(0.4), F(0.3), sigma=0.5)
        np.testing.assert_array_equal(got[9], soft)
        np.testing.assert_allclose(got[10], soft_scores, rtol=1e-6)
        self.assertEqual(int(got[11]), len(soft))

    def test_errors(self):
        boxes, scores = random_boxes(4), np.ones(4, np.float32)
        with self.assertRaisesRegex(GraphError, r"iou_threshold must be in \[0, 1\]"):
            run(self.nms_nodes("n", boxes, scores, 3, 1.5), fetches=["n"])
        with self.assertRaisesRegex(GraphError, "non-negative"):
            run(self.nms_nodes("n", boxes, scores, -1, 0.5), fetches=["n"])
        with self.assertRaisesRegex(GraphError, "incompatible"):
            run(self.nms_nodes("n", boxes, np.ones(3, np.float32), 3, 0.5), fetches=["n"])


if __name__ == "__main__":
    unittest.main()
