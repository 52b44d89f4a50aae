"""MTCNN through the runtime on inputs the reference image does not cover:
tiny (12x12, 1x1), huge (4000x3000, the reference scaled up), grayscale
replicated to 3 channels, and pictures with no face. Every run must succeed
with consistent output shapes; detections must agree with the oracle's
reference boxes (scaled to the input) where faces are expected, and be absent
where there are none. The giant size is skipped in sanitizer builds (3-5x
slower)."""
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np
from graphlib import tool

SHARED = os.environ.get("PLINTH_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared"))
MODEL = os.path.join(SHARED, "models/mtcnn/1/mtcnn.pb")
ORACLE = os.path.join(SHARED, "oracle")
SANITIZED = os.environ.get("PLINTH_SANITIZE", "").upper() in ("ON", "1", "TRUE", "YES")


def detect(img, params=(40, 0.7, (0.6, 0.7, 0.8))):
    """Runs the graph on img (float32 HxWx3); returns (box, prob, landmarks)."""
    with tempfile.TemporaryDirectory() as d:
        feeds = {"input": np.ascontiguousarray(img, np.float32), "min_size": np.float32(params[0]),
                 "factor": np.float32(params[1]), "thresholds": np.asarray(params[2], np.float32)}
        args = [tool("run_graph"), MODEL]
        for name, value in feeds.items():
            np.save(os.path.join(d, name + ".npy"), value)
            args += ["--feed", "%s:0=%s" % (name, os.path.join(d, name + ".npy"))]
        for name in ("box", "prob", "landmarks"):
            args += ["--fetch", "%s:0=%s" % (name, os.path.join(d, name + ".out.npy"))]
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode != 0:
            raise AssertionError("run_graph failed: " + p.stderr)
        return tuple(np.load(os.path.join(d, n + ".out.npy")) for n in ("box", "prob", "landmarks"))


def iou(a, b):
    y1, x1 = max(a[0], b[0]), max(a[1], b[1])
    y2, x2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, y2 - y1) * max(0.0, x2 - x1)
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])
    return inter / (area(a) + area(b) - inter)


def reference():
    with open(os.path.join(ORACLE, "ref", "test_image.B.json")) as f:
        ref = json.load(f)
    return np.load(os.path.join(ORACLE, "raw", "test_image.npy")), np.asarray(ref["box"], np.float64)


def resize(img, h, w):
    """Bilinear resize with half-pixel centres (numpy only)."""
    sh, sw = img.shape[:2]
    ys = np.clip((np.arange(h) + 0.5) * sh / h - 0.5, 0, sh - 1)
    xs = np.clip((np.arange(w) + 0.5) * sw / w - 0.5, 0, sw - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, sh - 1), np.minimum(x0 + 1, sw - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    return (top * (1 - wy) + bottom * wy).astype(np.float32)


@unittest.skipUnless(os.path.exists(MODEL), "MTCNN model not present")
class Sizes(unittest.TestCase):
    def check_shapes(self, out):
        box, prob, landmarks = out
        n = prob.shape[0]
        self.assertEqual(box.shape, (n, 4))
        self.assertEqual(landmarks.shape, (n, 10))
        self.assertTrue(np.all(np.isfinite(box)) and np.all(np.isfinite(prob)) and np.all(np.isfinite(landmarks)))
        self.assertTrue(np.all((prob >= 0) & (prob <= 1)))
        return n

    def check_faces_match(self, out, ref_boxes, scale_y, scale_x, min_iou, missed=0):
        """Every detection is a reference face; at most `missed` references go unfound."""
        box, prob, _ = out
        scaled = ref_boxes * np.array([scale_y, scale_x, scale_y, scale_x])
        for b in box:
            self.assertGreater(max(iou(r, b) for r in scaled), min_iou, "detection %s is no reference face" % b)
        found = sum(1 for r in scaled if len(box) and max(iou(r, b) for b in box) > min_iou)
        self.assertGreaterEqual(found, len(scaled) - missed, "found %d of %d faces" % (found, len(scaled)))
        self.assertTrue(np.all(prob > 0.8))

    def test_tiny_inputs_find_nothing(self):
        rng = np.random.default_rng(1)
        for h, w in ((1, 1), (12, 12), (11, 40), (40, 11)):
            with self.subTest(size=(h, w)):
                n = self.check_shapes(detect(rng.uniform(0, 255, (h, w, 3)).astype(np.float32)))
                self.assertEqual(n, 0)

    def test_no_faces(self):
        h, w = 300, 500
        gradient = np.broadcast_to(np.linspace(0, 255, w, dtype=np.float32)[None, :, None], (h, w, 3))
        for name, img in (("black", np.zeros((h, w, 3), np.float32)), ("gray", np.full((h, w, 3), 128, np.float32)),
                          ("gradient", gradient)):
            with self.subTest(image=name):
                self.assertEqual(self.check_shapes(detect(img)), 0)

    def test_grayscale_replicated(self):
        img, ref = reference()
        gray = img @ np.array([0.114, 0.587, 0.299], np.float32)  # BGR luminance
        out = detect(np.repeat(gray[:, :, None], 3, axis=2))
        self.check_shapes(out)
        # Colour helps the networks: one of the six faces drops below the thresholds in gray.
        self.check_faces_match(out, ref, 1.0, 1.0, 0.6, missed=1)

    def test_mirrored_and_rescaled(self):
        img, ref = reference()
        h, w = img.shape[:2]
        out = detect(img[:, ::-1])
        self.check_shapes(out)
        mirrored = ref.copy()
        mirrored[:, 1], mirrored[:, 3] = w - ref[:, 3], w - ref[:, 1]
        self.check_faces_match(out, mirrored, 1.0, 1.0, 0.6)

    @unittest.skipIf(SANITIZED, "4000x3000 is too slow under sanitizers")
    def test_4000x3000(self):
        img, ref = reference()
        h, w = img.shape[:2]
        out = detect(resize(img, 3000, 4000))
        self.check_shapes(out)
        self.check_faces_match(out, ref, 3000 / h, 4000 / w, 0.5)


if __name__ == "__main__":
    unittest.main()
