"""Pictures given to plinth-cli (`predict --input NAME=PICTURE`, `detect`)
reach the model exactly as cv2.imread(path).astype(np.float32) gives them:
PNG of every colour type and depth, baseline, progressive and grey JPEG, and
the EXIF orientation that cv2.imread applies (JPEG APP1 and PNG eXIf, both
byte orders, all eight values). A served Identity graph hands the pixels back;
cv2.imread of the same file is the reference."""
import os
import shutil
import struct
import tempfile
import unittest
import zlib

import cv2
import numpy as np

import clilib
import tfs
from clilib import run
from graphlib import graph, node, placeholder


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def exif_tiff(orientation, big_endian=True):
    """A TIFF block whose first IFD holds one entry: Orientation (0x0112), SHORT, 1 value."""
    if big_endian:
        return b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">HHHIHH", 1, 0x0112, 3, 1, orientation, 0) + \
            struct.pack(">I", 0)
    return b"II\x2a\x00" + struct.pack("<I", 8) + struct.pack("<HHHIHH", 1, 0x0112, 3, 1, orientation, 0) + \
        struct.pack("<I", 0)


def with_app1(jpeg, payload):
    """The JPEG with an APP1 segment holding `payload` right after its start marker."""
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def with_exif_chunk(png, tiff):
    """The PNG with an eXIf chunk right after IHDR (8-byte signature, 25-byte IHDR chunk)."""
    return png[:33] + png_chunk(b"eXIf", tiff) + png[33:]


class Pictures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-pictures-")
        model = os.path.join(cls.tmp, "echo", "1")
        os.makedirs(model)
        with open(os.path.join(model, "echo.pb"), "wb") as f:
            f.write(graph([placeholder("x", np.float32), node("y", "Identity", ["x"], T=np.float32)])
                    .SerializeToString())
        cls.server = tfs.Server(model_name="echo", model_path=os.path.dirname(model))
        cls.server.start()
        rgba = cv2.imread(clilib.TEST_IMAGE, cv2.IMREAD_UNCHANGED)
        cls.bgr = np.ascontiguousarray(rgba[:, :, :3])
        cls.rgba = rgba
        cls.count = 0

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, "plinth exited %s:\n%s" % (code, cls.server.output())

    def path(self, name):
        Pictures.count += 1
        return os.path.join(self.tmp, "%03d_%s" % (self.count, name))

    def write(self, name, data):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def encoded(self, ext, image, params=()):
        ok, buf = cv2.imencode(ext, image, list(params))
        self.assertTrue(ok)
        return buf.tobytes()

    def assert_read_as_cv2_reads(self, path):
        want = cv2.imread(path)
        self.assertIsNotNone(want, path)
        out = path + ".out"
        os.makedirs(out)
        code, _, err = run("--server", self.server.address(), "predict", "echo", "--input", "x=" + path, "--save", out)
        self.assertEqual(code, 0, err)
        got = np.load(os.path.join(out, "y.npy"))
        self.assertEqual(got.dtype, np.float32)
        self.assertEqual(got.shape, want.shape, path)
        np.testing.assert_array_equal(got, want.astype(np.float32), path)
        return want

    def test_png_colour_types_and_depths(self):
        grey = cv2.cvtColor(self.bgr, cv2.COLOR_BGR2GRAY)
        for name, image in (("rgba.png", self.rgba), ("rgb.png", self.bgr), ("grey.png", grey),
                            ("rgb16.png", self.bgr.astype(np.uint16) * 257 + 3),
                            ("grey16.png", grey.astype(np.uint16) * 257 + 100), ("one.png", self.bgr[:1, :1])):
            self.assert_read_as_cv2_reads(self.write(name, self.encoded(".png", image)))

    def test_png_with_a_palette(self):
        h, w = 20, 30
        palette = bytes(range(0, 255, 3))[:3 * 16]  # 16 colours
        rows = b"".join(b"\x00" + bytes((x + y) % 16 for x in range(w)) for y in range(h))
        png = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0)) +
               png_chunk(b"PLTE", palette) + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))
        self.assert_read_as_cv2_reads(self.write("palette.png", png))

    def test_jpeg_kinds(self):
        grey = cv2.cvtColor(self.bgr, cv2.COLOR_BGR2GRAY)
        for name, image, params in (("base.jpg", self.bgr, ()), ("grey.jpg", grey, ()),
                                    ("progressive.jpg", self.bgr, (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)),
                                    ("q100.jpg", self.bgr, (cv2.IMWRITE_JPEG_QUALITY, 100))):
            self.assert_read_as_cv2_reads(self.write(name, self.encoded(".jpg", image, params)))

    def test_exif_orientation_in_jpeg(self):
        jpeg = self.encoded(".jpg", self.bgr)
        shapes = {}
        for big in (True, False):
            for o in range(1, 9):
                path = self.write("o%d%s.jpg" % (o, "mm" if big else "ii"),
                                  with_app1(jpeg, b"Exif\x00\x00" + exif_tiff(o, big)))
                shapes[o] = self.assert_read_as_cv2_reads(path).shape
        # Orientations 5 to 8 turn the picture on its side.
        h, w = self.bgr.shape[:2]
        self.assertEqual([shapes[o][:2] for o in range(1, 9)], [(h, w)] * 4 + [(w, h)] * 4)

    def test_exif_orientation_in_png(self):
        png = self.encoded(".png", self.bgr)
        for o in (2, 3, 6, 8):
            self.assert_read_as_cv2_reads(self.write("o%d.png" % o, with_exif_chunk(png, exif_tiff(o))))

    def test_other_app1_segments_and_broken_exif(self):
        jpeg = self.encoded(".jpg", self.bgr)
        xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"
        cases = {
            "exif_then_xmp.jpg": with_app1(with_app1(jpeg, xmp), b"Exif\x00\x00" + exif_tiff(6)),
            "xmp_then_exif.jpg": with_app1(with_app1(jpeg, b"Exif\x00\x00" + exif_tiff(6)), xmp),
            "no_orientation.jpg": with_app1(jpeg, b"Exif\x00\x00MM\x00\x2a" + struct.pack(">IH", 8, 0)),
            "ifd_past_the_end.jpg": with_app1(jpeg, b"Exif\x00\x00MM\x00\x2a" + struct.pack(">I", 4000)),
            "entries_cut_short.jpg": with_app1(jpeg, b"Exif\x00\x00" + exif_tiff(6)[:16]),
            "not_tiff.jpg": with_app1(jpeg, b"Exif\x00\x00XX\x00\x2a\x00\x00\x00\x08"),
            "orientation_9.jpg": with_app1(jpeg, b"Exif\x00\x00" + exif_tiff(9)),
        }
        for name, data in cases.items():
            want = self.assert_read_as_cv2_reads(self.write(name, data))
            # EXIF counts only as the first APP1 segment, where the standard puts it.
            turned = name == "exif_then_xmp.jpg"
            self.assertEqual(want.shape[:2], self.bgr.shape[1::-1] if turned else self.bgr.shape[:2], name)

    def test_detect_turns_the_photo_upright(self):
        """A photo stored on its side with Orientation 6 gives the faces of the upright picture."""
        with tfs.Server(model_name="mtcnn", model_path=clilib.MTCNN) as s:
            sideways = np.ascontiguousarray(np.rot90(self.bgr, 1))  # what a camera held on its side stores
            path = self.write("sideways.jpg", with_app1(self.encoded(".jpg", sideways),
                                                        b"Exif\x00\x00" + exif_tiff(6)))
            out = self.path("faces.png")
            doc = clilib.run_json("--server", s.address(), "detect", "mtcnn", path, "-o", out)
            self.assertEqual(len(doc["faces"]), 6)
            self.assertEqual(cv2.imread(out).shape, self.bgr.shape)


if __name__ == "__main__":
    unittest.main(verbosity=2)
