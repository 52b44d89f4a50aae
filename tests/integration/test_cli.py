"""plinth-cli against a real plinth server over gRPC: status, metadata,
predict and detect give what the server and independent references say,
and the errors a person meets (no server, unknown model, unreadable picture,
a model that is not a face detector) are one line with a non-zero exit."""
import json
import os
import shutil
import tempfile
import unittest

import cv2
import grpc
import numpy as np

import clilib
import tfs
from clilib import run, run_json
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.apis import predict_pb2

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")


def model_config(tmp, models):
    """A ModelServerConfig file serving {name: base_path}."""
    path = os.path.join(tmp, "models.config")
    with open(path, "w") as f:
        f.write("model_config_list {\n")
        for name, base in models.items():
            f.write('  config { name: "%s" base_path: "%s" model_platform: "tensorflow" }\n' % (name, base))
        f.write("}\n")
    return path


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-cli-")
        cls.server = tfs.Server(model_config_file=model_config(cls.tmp, {"mtcnn": clilib.MTCNN,
                                                                          "half_plus_two": HALF_PLUS_TWO}))
        cls.server.start()
        cls.addr = cls.server.address()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, "plinth exited %s:\n%s" % (code, cls.server.output())

    def cli(self, *args):
        return run("--server", self.addr, *args)

    def assert_one_line_error(self, code, out, err, *fragments):
        self.assertNotEqual(code, 0, out)
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith("plinth-cli: "), err)
        for f in fragments:
            self.assertIn(f, lines[0])

    # -- answers --

    def test_status_matches_get_model_status(self):
        doc = run_json("--server", self.addr, "status", "half_plus_two")
        req = get_model_status_pb2.GetModelStatusRequest()
        req.model_spec.name = "half_plus_two"
        res = self.server.model_stub().GetModelStatus(req, timeout=10)
        want = [(v.version, get_model_status_pb2.ModelVersionStatus.State.Name(v.state))
                for v in res.model_version_status]
        self.assertEqual([(v["version"], v["state"]) for v in doc["versions"]], want)
        self.assertEqual(want, [(123, "AVAILABLE")])
        code, out, _ = self.cli("status", "half_plus_two")
        self.assertEqual(code, 0)
        self.assertIn("version 123: AVAILABLE", out)

    def test_metadata_matches_get_model_metadata(self):
        doc = run_json("--server", self.addr, "metadata", "mtcnn")
        req = get_model_metadata_pb2.GetModelMetadataRequest()
        req.model_spec.name = "mtcnn"
        req.metadata_field.append("signature_def")
        res = self.server.predict_stub().GetModelMetadata(req, timeout=10)
        sigs = get_model_metadata_pb2.SignatureDefMap()
        res.metadata["signature_def"].Unpack(sigs)
        self.assertEqual(set(doc["signatures"]), set(sigs.signature_def))
        for key, sig in sigs.signature_def.items():
            got = doc["signatures"][key]
            self.assertEqual(got["method_name"], sig.method_name)
            for side in ("inputs", "outputs"):
                want = getattr(sig, side)
                self.assertEqual(set(got[side]), set(want))
                for alias, info in want.items():
                    g = got[side][alias]
                    self.assertEqual(g["name"], info.name)
                    self.assertEqual(g["dtype"], types_pb2.DataType.Name(info.dtype))
                    shape = None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]
                    self.assertEqual(g["shape"], shape)
        self.assertEqual(doc["version"], 1)

    def test_predict_json_input_against_half_plus_two(self):
        x = np.array([[1.0], [2.0], [-3.5]], dtype=np.float32)
        code, out, err = self.cli("predict", "half_plus_two", "--input", "x=" + json.dumps(x.tolist()))
        self.assertEqual(code, 0, err)
        y = np.array(json.loads(out)["outputs"], dtype=np.float32)
        np.testing.assert_array_equal(y, x * 0.5 + 2)

    def test_predict_npy_in_and_out(self):
        d = tempfile.mkdtemp(dir=self.tmp)
        x = np.linspace(-4, 4, 9, dtype=np.float32).reshape(9, 1)
        np.save(os.path.join(d, "x.npy"), x)
        code, out, err = self.cli("predict", "half_plus_two", "--input", "x=" + os.path.join(d, "x.npy"),
                                  "--save", d)
        self.assertEqual(code, 0, err)
        y = np.load(os.path.join(d, "y.npy"))
        self.assertEqual(y.dtype, np.float32)
        np.testing.assert_array_equal(y, x * 0.5 + 2)

    def test_predict_matches_grpcio_predict(self):
        """The CLI's request reaches the model as a grpcio client's does: same outputs, bit for bit."""
        code, out, err = self.cli("predict", "mtcnn", *clilib.MTCNN_INPUTS)
        self.assertEqual(code, 0, err)
        got = json.loads(out)["outputs"]
        req = predict_pb2.PredictRequest()
        req.model_spec.name = "mtcnn"
        img = cv2.imread(clilib.TEST_IMAGE).astype(np.float32)
        add_float(req, "input", img)
        add_float(req, "min_size", np.float32(40))
        add_float(req, "thresholds", np.array([0.6, 0.7, 0.7], np.float32))
        add_float(req, "factor", np.float32(0.709))
        res = self.server.predict_stub().Predict(req, timeout=60)
        for key in ("box", "prob", "landmarks"):
            t = res.outputs[key]
            want = np.frombuffer(t.tensor_content, np.float32) if t.tensor_content else np.array(t.float_val)
            np.testing.assert_array_equal(np.array(got[key], np.float32).ravel(), want.astype(np.float32))

    def test_detect_matches_the_oracle_and_draws_the_picture(self):
        out_png = os.path.join(self.tmp, "faces.png")
        doc = run_json("--server", self.addr, "detect", "mtcnn", clilib.TEST_IMAGE, "-o", out_png)
        faces = {"box": [f["box"] for f in doc["faces"]], "prob": [f["prob"] for f in doc["faces"]],
                 "landmarks": [f["landmarks"] for f in doc["faces"]]}
        code, summary = clilib.compare_with_oracle(self.tmp, faces)
        self.assertEqual(code, 0, summary)
        self.assertIn("6/6 matched", summary)
        drawn, orig = cv2.imread(out_png), cv2.imread(clilib.TEST_IMAGE)
        self.assertEqual(drawn.shape, orig.shape)
        # The boxes are drawn in green (BGR 0,220,0) along each face's top edge.
        for y1, x1, y2, x2 in faces["box"]:
            row = drawn[int(round(y1)), int(round(x1)) + 3:int(round(x2)) - 3]
            self.assertTrue(np.all(row == [0, 220, 0]), (y1, x1, y2, x2))
        # Away from the faces, the picture is the input, re-encoded losslessly.
        np.testing.assert_array_equal(drawn[-50:, -50:], orig[-50:, -50:])

    def test_detect_options_reach_the_model_and_jpeg_output(self):
        """--min-size, --thresholds and --factor are sent as the model's inputs: the faces equal a grpcio
        Predict with the same values. The picture is drawn as JPEG when OUT ends in .jpg."""
        out_jpg = os.path.join(self.tmp, "faces.jpg")
        doc = run_json("--server", self.addr, "detect", "mtcnn", clilib.TEST_IMAGE, "-o", out_jpg, "--min-size", "80",
                       "--thresholds", "0.7,0.8,0.9", "--factor", "0.6")
        req = predict_pb2.PredictRequest()
        req.model_spec.name = "mtcnn"
        add_float(req, "input", cv2.imread(clilib.TEST_IMAGE).astype(np.float32))
        add_float(req, "min_size", np.float32(80))
        add_float(req, "thresholds", np.array([0.7, 0.8, 0.9], np.float32))
        add_float(req, "factor", np.float32(0.6))
        res = self.server.predict_stub().Predict(req, timeout=60)
        want = {k: np.frombuffer(t.tensor_content, np.float32) if t.tensor_content
                else np.array(t.float_val, np.float32) for k, t in res.outputs.items()}
        self.assertEqual(len(doc["faces"]), len(want["prob"]))
        self.assertNotEqual(len(want["prob"]), 6)  # other values than the defaults give other faces
        for key in ("box", "prob", "landmarks"):
            got = np.array([f[key] for f in doc["faces"]], np.float32).ravel()
            np.testing.assert_array_equal(got, want[key], key)
        with open(out_jpg, "rb") as f:
            self.assertEqual(f.read(3), b"\xff\xd8\xff")
        self.assertEqual(cv2.imread(out_jpg).shape, cv2.imread(clilib.TEST_IMAGE).shape)

    def test_detect_draws_landmarks_and_scores(self):
        out_png = os.path.join(self.tmp, "marks.png")
        doc = run_json("--server", self.addr, "detect", "mtcnn", clilib.TEST_IMAGE, "-o", out_png)
        drawn = cv2.imread(out_png)
        for f in doc["faces"]:
            # The five landmarks (five y, then five x) are red dots.
            for y, x in zip(f["landmarks"][:5], f["landmarks"][5:]):
                self.assertEqual(list(drawn[int(round(y)), int(round(x))]), [0, 0, 255], (x, y))
            # The score is written in black on a green label just above the box.
            y1, x1 = int(round(f["box"][0])), int(round(f["box"][1]))
            label = drawn[max(y1 - 20, 0):max(y1 - 20, 0) + 18, x1:x1 + 5 * 12]
            colours = {tuple(int(c) for c in px) for row in label for px in row}
            self.assertIn((0, 220, 0), colours)
            self.assertIn((0, 0, 0), colours)

    def test_detect_text_output(self):
        out_png = os.path.join(self.tmp, "faces2.png")
        code, out, err = self.cli("detect", "mtcnn", clilib.TEST_IMAGE, "-o", out_png)
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("6 faces\n"), out)
        self.assertIn("wrote " + out_png, out)
        self.assertTrue(os.path.getsize(out_png) > 0)

    # -- errors --

    def test_no_server(self):
        code, out, err = run("--server", "localhost:%d" % tfs.free_port(), "--timeout", "5", "status", "mtcnn")
        self.assert_one_line_error(code, out, err, "cannot reach a server at localhost:", "is plinth running?")
        code, out, err = run("--server", "localhost:%d" % tfs.free_port(), "--timeout", "5", "detect", "mtcnn",
                             clilib.TEST_IMAGE, "-o", os.path.join(self.tmp, "never.png"))
        self.assert_one_line_error(code, out, err, "cannot reach a server")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "never.png")))

    def test_unknown_model(self):
        for cmd in (["status", "nope"], ["metadata", "nope"], ["predict", "nope", "--input", "x=[1.0]"],
                    ["detect", "nope", clilib.TEST_IMAGE]):
            code, out, err = self.cli(*cmd)
            self.assert_one_line_error(code, out, err, "model 'nope' is not served at " + self.addr)

    def test_unknown_version(self):
        code, out, err = run("--server", self.addr, "--version", "7", "status", "half_plus_two")
        self.assert_one_line_error(code, out, err, "model 'half_plus_two' version 7 is not served")

    def test_unreadable_picture(self):
        missing = os.path.join(self.tmp, "missing.jpg")
        code, out, err = self.cli("detect", "mtcnn", missing)
        self.assert_one_line_error(code, out, err, "cannot read picture " + missing, "No such file")
        not_a_picture = os.path.join(self.tmp, "text.jpg")
        with open(not_a_picture, "w") as f:
            f.write("hello\n")
        code, out, err = self.cli("detect", "mtcnn", not_a_picture)
        self.assert_one_line_error(code, out, err, not_a_picture + " is not a JPEG or PNG picture")
        truncated = os.path.join(self.tmp, "truncated.jpg")
        with open(clilib.TEST_IMAGE, "rb") as f, open(truncated, "wb") as g:
            g.write(f.read(300))
        code, out, err = self.cli("detect", "mtcnn", truncated)
        self.assert_one_line_error(code, out, err, truncated)
        garbage = os.path.join(self.tmp, "garbage.jpg")  # a JPEG start marker, then no image
        with open(garbage, "wb") as f:
            f.write(b"\xff\xd8\xff\xe0 this is not a picture")
        code, out, err = self.cli("detect", "mtcnn", garbage)
        self.assert_one_line_error(code, out, err, garbage + ": not a readable JPEG")
        code, out, err = self.cli("detect", "mtcnn", self.tmp)
        self.assert_one_line_error(code, out, err, "cannot read picture %s: Is a directory" % self.tmp)

    def test_a_jpeg_cut_short_is_used_as_decoded_without_chatter(self):
        """libjpeg decodes what is there (the rest grey), as cv2.imread does; its warning is not printed."""
        whole = os.path.join(self.tmp, "whole.jpg")
        cv2.imwrite(whole, cv2.imread(clilib.TEST_IMAGE))
        cut = os.path.join(self.tmp, "cut.jpg")
        with open(whole, "rb") as f, open(cut, "wb") as g:
            data = f.read()
            g.write(data[:len(data) * 2 // 3])
        code, out, err = self.cli("--json", "detect", "mtcnn", cut, "-o", os.path.join(self.tmp, "cut.png"))
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        self.assertTrue(json.loads(out)["faces"])

    def test_multi_line_server_errors_print_as_one_line(self):
        """TensorFlow's messages continue on a second line ("\\n\\t [[{{node ...}}]]"); the CLI joins them."""
        code, out, err = self.cli("predict", "mtcnn", "--input", "input=[1, 2]", "--input", "min_size=40",
                                  "--input", "thresholds=[0.6, 0.7, 0.7]", "--input", "factor=0.709")
        self.assert_one_line_error(code, out, err, " [[{{node ")
        self.assertNotIn("\t", err)

    def test_detect_with_a_model_that_is_not_a_face_detector(self):
        code, out, err = self.cli("detect", "half_plus_two", clilib.TEST_IMAGE, "-o", os.path.join(self.tmp, "x.png"))
        self.assert_one_line_error(code, out, err, "model 'half_plus_two' is not an MTCNN face detector",
                                   "has inputs x and outputs y")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.png")))

    def test_predict_errors_from_the_server_are_one_line(self):
        code, out, err = self.cli("predict", "half_plus_two", "--input", "nope=[1.0]")
        self.assert_one_line_error(code, out, err, "the signature has no input 'nope'")
        code, out, err = self.cli("predict", "half_plus_two", "--input", "x=[[1.0], [2.0")
        self.assert_one_line_error(code, out, err, "input 'x'")
        code, out, err = run("--server", self.addr, "--signature", "nope", "predict", "half_plus_two",
                             "--input", "x=[[1.0]]")
        self.assert_one_line_error(code, out, err, "no signature 'nope'", "'serving_default'")

    def test_usage_errors(self):
        code, out, err = run("frobnicate")
        self.assertEqual(code, 2)
        self.assertIn("unknown command 'frobnicate'", err)
        code, out, err = run("detect")
        self.assertEqual(code, 2)
        self.assertIn("usage: plinth-cli", err)
        code, out, _ = run("detect", "--help")
        self.assertEqual(code, 0)
        self.assertIn("--thresholds", out)
        # A bad detect option is named on the first line, before the usage text.
        for args, first in ((["--min-size", "abc"], "plinth-cli: --min-size: 'abc' is not a valid value"),
                            (["--factor", "1.5"], "plinth-cli: --factor: '1.5' is not a valid value"),
                            (["--thresholds", "0.6,0.7"], "plinth-cli: --thresholds: '0.6,0.7' is not a valid value"),
                            (["--thresholds", "0.6,0.7,0.7x"], "plinth-cli: --thresholds: '0.6,0.7,0.7x' is not"),
                            (["--frob"], "plinth-cli: detect: unknown option '--frob'"),
                            (["-o"], "plinth-cli: detect: no value after '-o'")):
            code, out, err = run("--server", self.addr, "detect", "mtcnn", clilib.TEST_IMAGE, *args)
            self.assertEqual(code, 2, args)
            self.assertTrue(err.startswith(first), err)
            self.assertIn("usage: plinth-cli", err)
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        for cmd in ("status", "metadata", "predict", "detect", "bench", "inspect", "convert", "--rest"):
            self.assertIn(cmd, out)


def add_float(req, name, value):
    t = req.inputs[name]
    t.dtype = 1
    for d in value.shape:
        t.tensor_shape.dim.add().size = d
    t.tensor_content = np.ascontiguousarray(value, np.float32).tobytes()


if __name__ == "__main__":
    unittest.main(verbosity=2)
