"""The REST API against a live server with a real HTTP client (spec 1c, 1h):
TF Serving's REST test cases with their exact bodies, every /v1 route with
versions and labels, the "Malformed request" and error cases with their
status codes, CORS, gzip bodies, b64 values and _bytes outputs, NaN and
Infinity, and plinth's additions (model listing, /v2 health).

Expected bodies are written out by hand from how TF Serving produces them:
rapidjson's PrettyWriter (4-space indent; kFormatSingleLineArray set around
each row of a row-format reply and for classify/regress lists, so such an
array closes on a new line unless the writer stayed in single-line mode) and
protobuf's MessageToJsonString with whitespace (1-space indent)."""
import base64
import gzip
import json
import os
import re
import tempfile
import unittest

import tfs
from resthttp import call, error_body, identity_model, model_config, np

from tensorflow.core.example import example_pb2

HALF = tfs.testdata("saved_model_half_plus_two_cpu")
TWO_VERSIONS = tfs.testdata("saved_model_half_plus_two_2_versions")
MONITORING = tfs.testdata("monitoring_config.txt")

STATUS_123 = (b'{\n "model_version_status": [\n  {\n   "version": "123",\n   "state": "AVAILABLE",\n'
              b'   "status": {\n    "error_code": "OK",\n    "error_message": ""\n   }\n  }\n ]\n}\n')


# Field numbers of the messages in a GetModelMetadata reply. protobuf's
# MessageToJsonString (json/internal/unparser.cc, the printer of the protobuf
# versions whose JsonPrintOptions have always_print_fields_with_no_presence,
# which ToJsonString sets) writes a message's fields sorted by number, a oneof
# member such as ModelSpec.version or TensorInfo.name among them.
PROTO_FIELDS = {
    "ModelSpec": {"name": 1, "version": 2, "signature_name": 3, "version_label": 4},
    "SignatureDefMap": {"signature_def": 1},
    "SignatureDef": {"inputs": 1, "outputs": 2, "method_name": 3, "defaults": 4},
    "TensorInfo": {"name": 1, "dtype": 2, "tensor_shape": 3, "coo_sparse": 4, "composite_tensor": 5},
    "TensorShapeProto": {"dim": 2, "unknown_rank": 3},
    "Dim": {"size": 1, "name": 2},
}
# The message type of each field's value (map fields: of each map value).
PROTO_TYPES = {("SignatureDefMap", "signature_def"): "SignatureDef", ("SignatureDef", "inputs"): "TensorInfo",
               ("SignatureDef", "outputs"): "TensorInfo", ("SignatureDef", "defaults"): "TensorProto",
               ("TensorInfo", "tensor_shape"): "TensorShapeProto", ("TensorShapeProto", "dim"): "Dim"}
PROTO_MAPS = {("SignatureDefMap", "signature_def"), ("SignatureDef", "inputs"), ("SignatureDef", "outputs"),
              ("SignatureDef", "defaults")}


def proto_json(value, msg, depth=0, is_map=False):
    """protobuf's JsonWriter with add_whitespace: a newline and one space per
    level before every member, ": " after keys, {} and [] when empty."""
    pad = "\n" + " " * (depth + 1)
    end = "\n" + " " * depth
    if isinstance(value, dict):
        if is_map:
            keys, types = list(value), [msg] * len(value)
        else:
            keys = sorted(value, key=lambda k: PROTO_FIELDS[msg][k])
            types = [PROTO_TYPES.get((msg, k)) for k in keys]
        if not keys:
            return "{}"
        parts = []
        for k, t in zip(keys, types):
            sub_map = not is_map and (msg, k) in PROTO_MAPS
            parts.append(pad + json.dumps(k) + ": " + proto_json(value[k], t, depth + 1, sub_map))
        return "{" + ",".join(parts) + end + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[" + ",".join(pad + proto_json(v, msg, depth + 1) for v in value) + end + "]"
    return json.dumps(value)


def metadata_body(golden, map_order):
    """ToJsonString(GetModelMetadataResponse) of http_rest_api_util.cc: the
    model spec and the SignatureDefMap printed apart (each ending in a
    newline) and joined by hand. `map_order` gives the order of the
    signature map, which protobuf leaves unspecified."""
    sigs = golden["metadata"]["signature_def"]["signature_def"]
    ordered = {"signature_def": {k: sigs[k] for k in map_order}}
    return ('{\n"model_spec":' + proto_json(golden["model_spec"], "ModelSpec") + "\n" +
            ',\n"metadata": {"signature_def": ' + proto_json(ordered, "SignatureDefMap") + "\n" + "}\n}\n").encode()


def tfs_float(v):
    """WriteDecimal<float> of json_tensor.cc: %g (absl::StrCat), or %.9g when
    that does not read back as the same float; ".0" on plain whole numbers."""
    v = np.float32(v)
    if not np.isfinite(v):
        return "NaN" if np.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    s = "%g" % float(v)
    if np.float32(float(s)) != v:
        s = "%.9g" % float(v)
    if "." not in s and "e" not in s:
        s += ".0"
    return s


def example(**features):
    ex = example_pb2.Example()
    for k, v in features.items():
        ex.features.feature[k].float_list.value.append(v)
    return ex.SerializeToString()


class HalfPlusTwo(unittest.TestCase):
    """tensorflow_model_server_test.py's REST cases, on the same model and flags."""

    @classmethod
    def setUpClass(cls):
        cls.server = tfs.Server(model_name="default", model_path=HALF, rest=True,
                                args=["--monitoring_config_file=" + MONITORING]).start()
        cls.port = cls.server.rest_port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check()

    def post(self, path, body, headers=None):
        return call(self.port, "POST", path, body if isinstance(body, (bytes, str)) else json.dumps(body), headers)

    def assert_reply(self, got, status, body):
        self.assertEqual((got[0], got[2]), (status, body))
        self.assertEqual(got[1].get("content-type"), "application/json")

    # -- testPredictREST, testPredictColumnarREST, testClassifyREST, testRegressREST --

    def test_predict_rest(self):
        r = self.post("/v1/models/default:predict", {"instances": [2.0, 3.0, 4.0]})
        self.assert_reply(r, 200, b'{\n    "predictions": [3.0, 3.5, 4.0\n    ]\n}')
        self.assertEqual(json.loads(r[2]), {"predictions": [3.0, 3.5, 4.0]})

    def test_predict_columnar_rest(self):
        r = self.post("/v1/models/default:predict", {"inputs": [2.0, 3.0, 4.0]})
        self.assert_reply(r, 200, b'{\n    "outputs": [\n        3.0,\n        3.5,\n        4.0\n    ]\n}')
        self.assertEqual(json.loads(r[2]), {"outputs": [3.0, 3.5, 4.0]})

    def test_classify_rest(self):
        r = self.post("/v1/models/default:classify", {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]})
        self.assert_reply(r, 200, b'{\n    "results": [[["", 3.0]]\n    ]\n}')
        self.assertEqual(json.loads(r[2]), {"results": [[["", 3.0]]]})

    def test_regress_rest(self):
        r = self.post("/v1/models/default:regress", {"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]})
        self.assert_reply(r, 200, b'{\n    "results": [3.0]\n}')
        # Several examples and a context merged into each.
        r = self.post("/v1/models/default:regress",
                      {"signature_name": "regress_x_to_y", "examples": [{"x": 0.0}, {"x": -4.0}, {"x": 1.5}]})
        self.assertEqual(json.loads(r[2]), {"results": [2.0, 0.0, 2.75]})
        r = self.post("/v1/models/default:regress",
                      {"signature_name": "regress_x_to_y", "context": {"x": 6.0}, "examples": [{}, {}]})
        self.assertEqual(json.loads(r[2]), {"results": [5.0, 5.0]})

    # -- testGetStatusREST, testGetModelMetadataREST, testPrometheusEndpoint --

    def test_get_status_rest(self):
        r = call(self.port, "GET", "/v1/models/default")
        self.assert_reply(r, 200, STATUS_123)
        self.assertEqual(json.loads(r[2]), {"model_version_status": [
            {"version": "123", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]})
        # A version, and a label (ignored by GetModelStatus: all versions).
        self.assert_reply(call(self.port, "GET", "/v1/models/default/versions/123"), 200, STATUS_123)
        self.assert_reply(call(self.port, "GET", "/v1/models/default/labels/anything"), 200, STATUS_123)

    def test_get_model_metadata_rest(self):
        r = call(self.port, "GET", "/v1/models/default/metadata")
        self.assertEqual(r[0], 200)
        with open(tfs.testdata("half_plus_two_model_metadata.json")) as f:
            golden = json.load(f)
        self.assertEqual(json.loads(r[2]), golden)
        # Byte for byte: the golden content as today's protobuf prints it
        # (fields by number, so "version" before "signature_name" and "name"
        # before "dtype", unlike the older printer that wrote the golden file),
        # joined as ToJsonString joins it.
        order = list(json.loads(r[2])["metadata"]["signature_def"]["signature_def"])
        self.assertEqual(sorted(order), sorted(golden["metadata"]["signature_def"]["signature_def"]))
        self.assertEqual(r[2], metadata_body(golden, order))
        self.assertTrue(r[2].startswith(b'{\n"model_spec":{\n "name": "default",\n "version": "123",\n'
                                        b' "signature_name": ""\n}\n,\n"metadata": {"signature_def": {\n'
                                        b' "signature_def": {\n'), r[2][:120])
        self.assertIn(b'\n     "name": "x:0",\n     "dtype": "DT_FLOAT",\n     "tensor_shape": {\n      "dim": [\n', r[2])
        self.assertIn(b'\n     "tensor_shape": {\n      "dim": [],\n      "unknown_rank": true\n     }\n', r[2])
        self.assertIn(b'\n   "method_name": "tensorflow/serving/predict",\n   "defaults": {}\n  }', r[2])
        self.assertTrue(r[2].endswith(b"\n  }\n }\n}\n}\n}\n"))
        self.assertEqual(json.loads(call(self.port, "GET", "/v1/models/default/versions/123/metadata")[2]), golden)

    def test_prometheus_endpoint(self):
        r = call(self.port, "GET", "/monitoring/prometheus/metrics")
        self.assertEqual(r[0], 200)
        self.assertEqual(r[1].get("content-type"), "text/plain")
        self.assertIn(b"# TYPE", r[2])

    # -- predict details --

    def test_predict_versions_and_formats(self):
        r = self.post("/v1/models/default/versions/123:predict", {"instances": [[1.0], [5.0]]})
        self.assert_reply(r, 200, b'{\n    "predictions": [[2.5], [4.5]\n    ]\n}')
        r = self.post("/v1/models/default:predict", {"signature_name": "serving_default", "inputs": {"x": [[1.0]]}})
        self.assert_reply(r, 200, b'{\n    "outputs": [\n        [\n            2.5\n        ]\n    ]\n}')
        # Keys other than the ones TF Serving reads are ignored.
        r = self.post("/v1/models/default:predict", {"meta": {"a": [1, 2]}, "instances": [0.0]})
        self.assertEqual(json.loads(r[2]), {"predictions": [2.0]})
        # Case-insensitive path, method names as written.
        r = self.post("/V1/Models/default/VERSIONS/123:predict", {"instances": [0.0]})
        self.assertEqual(json.loads(r[2]), {"predictions": [2.0]})

    def test_nan_and_infinity(self):
        xs = [float("nan"), float("inf"), float("-inf"), 1e38, 0.1, 1e-7, 123456789.0]
        r = self.post("/v1/models/default:predict", '{"instances": [NaN, Infinity, -Infinity, 1e38, 0.1, 1e-7, '
                                                    '123456789.0]}')
        ys = [np.float32(x) / np.float32(2) + np.float32(2) for x in xs]
        want = '{\n    "predictions": [' + ", ".join(tfs_float(y) for y in ys) + '\n    ]\n}'
        self.assert_reply(r, 200, want.encode())

    def test_b64_examples_through_predict(self):
        # The classify signature's input is serialized tf.Examples: {"b64": ...} values.
        b64 = base64.b64encode(example(x=10.0)).decode()
        r = self.post("/v1/models/default:predict", {"signature_name": "classify_x_to_y", "instances": [{"b64": b64}]})
        self.assert_reply(r, 200, b'{\n    "predictions": [[7.0]\n    ]\n}')
        r = self.post("/v1/models/default:predict",
                      {"signature_name": "classify_x_to_y", "inputs": {"inputs": [{"b64": b64}, {"b64": b64}]}})
        self.assertEqual(json.loads(r[2]), {"outputs": [[7.0], [7.0]]})
        r = self.post("/v1/models/default:predict",
                      {"signature_name": "classify_x_to_y", "instances": [{"b64": "not base64!"}]})
        self.assertEqual(r[0], 400)
        self.assertIn(b"Unable to base64 decode", r[2])
        # The web-safe alphabet is refused, as in TF Serving (issue #1141).
        r = self.post("/v1/models/default:predict",
                      {"signature_name": "classify_x_to_y", "instances": [{"b64": b64.replace("+", "-") + "-_"}]})
        self.assertEqual(r[0], 400)

    def test_gzip_body(self):
        body = gzip.compress(json.dumps({"instances": [2.0, 3.0, 4.0]}).encode())
        r = self.post("/v1/models/default:predict", body, {"Content-Encoding": "gzip"})
        self.assert_reply(r, 200, b'{\n    "predictions": [3.0, 3.5, 4.0\n    ]\n}')
        r = self.post("/v1/models/default:regress", gzip.compress(
            json.dumps({"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}).encode()),
            {"Content-Encoding": "x-gzip"})
        self.assert_reply(r, 200, b'{\n    "results": [3.0]\n}')
        r = self.post("/v1/models/default:predict", b"\x1f\x8b\x08\x00garbage", {"Content-Encoding": "gzip"})
        self.assertEqual(r[0], 400)
        self.assertIn(b"gzip", r[2])

    # -- errors: texts, bodies and status codes (ToHTTPStatusCode) --

    def test_malformed_requests(self):
        cases = [
            ("GET", "/v1/models/default:predict"),
            ("POST", "/v1/models/default"),
            ("GET", "/v1/models/default/version/123"),
            ("GET", "/v1/models/default/versions/x"),
            ("POST", "/v1/models/default:PREDICT"),
            ("POST", "/v1/models/default:explain"),
            ("POST", "/v1/models/default/versions/1/labels/a:predict"),
            ("DELETE", "/v1/models/default"),
            ("PUT", "/v1/models/default:predict"),
            ("GET", "/v1/models/"),
            ("GET", "/v1/models/default/metadata/x"),
            ("GET", "/v1/"),
        ]
        for method, path in cases:
            r = call(self.port, method, path, "{}" if method in ("POST", "PUT") else None)
            self.assert_reply(r, 400, error_body("Malformed request: %s %s" % (method, path)))

    def test_model_name_and_version_errors(self):
        self.assert_reply(call(self.port, "GET", "/v1/models"), 400, error_body("Missing model name in request."))
        self.assert_reply(call(self.port, "GET", "/v1/models/versions/123"), 400,
                          error_body("Missing model name in request."))
        self.assert_reply(call(self.port, "GET", "/v1/models/metadata"), 404,
                          error_body("Could not find any versions of model metadata"))
        self.assert_reply(call(self.port, "GET", "/v1/models/missing"), 404,
                          error_body("Could not find any versions of model missing"))
        self.assert_reply(call(self.port, "GET", "/v1/models/default/versions/7"), 404,
                          error_body("Could not find version 7 of model default"))
        self.assert_reply(call(self.port, "GET", "/v1/models/default/versions/7/metadata"), 404,
                          error_body("Servable not found for request: Specific(default, 7)"))
        self.assert_reply(self.post("/v1/models/missing:predict", {"instances": [1.0]}), 404,
                          error_body("Servable not found for request: Latest(missing)"))
        self.assert_reply(self.post("/v1/models/default/labels/nope:predict", {"instances": [1.0]}), 400,
                          error_body("Unrecognized servable version label: nope"))
        # A version past int64 ends the call before any handler: no body at all.
        r = call(self.port, "GET", "/v1/models/default/versions/99999999999999999999")
        self.assertEqual((r[0], r[2]), (400, b""))
        r = self.post("/v1/models/default/versions/9223372036854775808:predict", {"instances": [1.0]})
        self.assertEqual((r[0], r[2]), (400, b""))
        r = self.post("/v1/models/default/versions/9223372036854775807:predict", {"instances": [1.0]})
        self.assertEqual(r[0], 404)

    def test_json_errors(self):
        url = "/v1/models/default:predict"
        self.assert_reply(self.post(url, ""), 400, error_body("JSON Parse error: The document is empty"))
        self.assert_reply(self.post(url, "   "), 400,
                          error_body("JSON Parse error: The document is empty. at offset: 3"))
        r = self.post(url, '{"instances": [1.0')
        self.assertEqual(r[0], 400)
        self.assertTrue(json.loads(r[2])["error"].startswith("JSON Parse error: "), r[2])
        self.assert_reply(self.post(url, "{xyz"), 400,
                          error_body("JSON Parse error: Missing a name for object member. at offset: 1"))
        r = self.post(url, {"instances": ["a"]})
        self.assertEqual(r[0], 400)
        self.assertIn("not of expected type: float", json.loads(r[2])["error"])
        self.assert_reply(self.post(url, {"signature_name": "nope", "instances": [1.0]}), 400,
                          error_body('Serving signature name: "nope" not found in signature def'))
        r = self.post(url, {"instances": [1.0], "inputs": [1.0]})
        self.assertEqual(r[0], 400)
        r = self.post(url, {"signature_name": 5, "instances": [1.0]})
        self.assertEqual(r[0], 400)
        self.assertIn("'signature_name' key must be a string value.", json.loads(r[2])["error"])
        r = self.post("/v1/models/default:classify", {"signature_name": "nope", "examples": [{"x": 1.0}]})
        self.assertEqual(r[0], 400)
        r = self.post("/v1/models/default:regress", {"examples": "x"})
        self.assertEqual(r[0], 400)

    def test_unknown_paths_get_libevent_404(self):
        for path in ("/", "/v1", "/v2/nothing", "/statuspage", "/monitoring/prometheus/metric"):
            r = call(self.port, "GET", path)
            self.assertEqual(r[0], 404, path)
            self.assertEqual(r[2], b"<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n"
                                   b"</BODY></HTML>\n")

    def test_no_cors_headers_by_default(self):
        r = call(self.port, "GET", "/v1/models/default")
        self.assertNotIn("access-control-allow-origin", r[1])
        r = call(self.port, "OPTIONS", "/v1/models/default", headers={"Origin": "http://example.com"})
        self.assertEqual((r[0], r[2]), (200, b""))

    def test_keep_alive(self):
        # Many calls on one connection.
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30 * tfs.SLOW)
        for i in range(20):
            conn.request("POST", "/v1/models/default:predict", body=json.dumps({"instances": [float(i)]}))
            r = conn.getresponse()
            self.assertEqual(json.loads(r.read()), {"predictions": [i / 2 + 2]})
        conn.close()

    # -- plinth additions --

    def test_list_models(self):
        r = call(self.port, "GET", "/v1/models?list")
        self.assertEqual(r[0], 200)
        self.assertEqual(json.loads(r[2]), {"models": [{"name": "default", "model_version_status": [
            {"version": "123", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}]})

    def test_health(self):
        self.assertEqual(call(self.port, "GET", "/v2/health/live")[:3:2], (200, b'{"live": true}'))
        self.assertEqual(call(self.port, "GET", "/v2/health/ready")[:3:2], (200, b'{"ready": true}'))
        self.assertEqual(call(self.port, "GET", "/v2/models/default/ready")[:3:2],
                         (200, b'{"name": "default", "ready": true}'))
        self.assertEqual(call(self.port, "GET", "/v2/models/default/versions/123/ready")[:3:2],
                         (200, b'{"name": "default", "ready": true}'))
        r = call(self.port, "GET", "/v2/models/default/versions/5/ready")
        self.assertEqual((r[0], json.loads(r[2])), (503, {"name": "default", "ready": False}))
        r = call(self.port, "GET", "/v2/models/nope/ready")
        self.assertEqual(r[0], 404)
        self.assertEqual(call(self.port, "POST", "/v2/health/live", "")[0], 405)


class VersionsLabelsCors(unittest.TestCase):
    """A config file with two versions, labels and a name that needs URL
    escaping; CORS on."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-rest-")
        cfg = model_config([
            ("half", TWO_VERSIONS, '    model_version_policy { all {} }\n'
                                   '    version_labels { key: "stable" value: 123 }\n'
                                   '    version_labels { key: "canary" value: 124 }\n'),
            ("my model/x", HALF, ""),
        ])
        path = os.path.join(cls.tmp, "models.config")
        with open(path, "w") as f:
            f.write(cfg)
        # As in TF Serving, labels are assigned before the versions load, so
        # labels in the first config need this flag.
        cls.server = tfs.Server(model_config_file=path, rest=True, args=[
            "--rest_api_enable_cors_support", "--allow_version_labels_for_unavailable_models"]).start()
        cls.port = cls.server.rest_port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check(cls.tmp)

    def post(self, path, body):
        return call(self.port, "POST", path, body if isinstance(body, (bytes, str)) else json.dumps(body))

    def test_versions(self):
        r = call(self.port, "GET", "/v1/models/half")
        self.assertEqual([(s["version"], s["state"]) for s in json.loads(r[2])["model_version_status"]],
                         [("124", "AVAILABLE"), ("123", "AVAILABLE")])
        for v in ("123", "124"):
            r = self.post("/v1/models/half/versions/%s:predict" % v, {"instances": [[2.0]]})
            self.assertEqual((r[0], json.loads(r[2])), (200, {"predictions": [[3.0]]}))
            body = call(self.port, "GET", "/v1/models/half/versions/%s/metadata" % v)[2]
            meta = json.loads(body)
            self.assertEqual(meta["model_spec"], {"name": "half", "signature_name": "", "version": v})
            # TF Serving's golden reply for this model, byte for byte.
            with open(tfs.testdata("saved_model_half_plus_two_2_versions_metadata.json")) as f:
                golden = json.load(f)
            golden["model_spec"].update(name="half", version=v)
            self.assertEqual(meta, golden)
            self.assertEqual(body, metadata_body(golden, list(meta["metadata"]["signature_def"]["signature_def"])))
        r = self.post("/v1/models/half/versions/125:predict", {"instances": [[2.0]]})
        self.assertEqual((r[0], r[2]), (404, error_body("Servable not found for request: Specific(half, 125)")))

    def test_labels(self):
        for label, v in (("stable", "123"), ("canary", "124")):
            meta = json.loads(call(self.port, "GET", "/v1/models/half/labels/%s/metadata" % label)[2])
            self.assertEqual(meta["model_spec"]["version"], v)
            r = self.post("/v1/models/half/labels/%s:regress" % label,
                          {"signature_name": "regress_x_to_y", "examples": [{"x": 4.0}]})
            self.assertEqual(json.loads(r[2]), {"results": [4.0]})
        r = call(self.port, "GET", "/v1/models/half/labels/nope/metadata")
        self.assertEqual((r[0], r[2]), (400, error_body("Unrecognized servable version label: nope")))
        # Labels are percent-decoded too.
        r = call(self.port, "GET", "/v1/models/half/labels/st%61ble/metadata")
        self.assertEqual(json.loads(r[2])["model_spec"]["version"], "123")

    def test_escaped_model_name(self):
        r = self.post("/v1/models/my%20model%2Fx:predict", {"instances": [2.0]})
        self.assertEqual((r[0], json.loads(r[2])), (200, {"predictions": [3.0]}))
        self.assertEqual(call(self.port, "GET", "/v1/models/my%20model%2fx")[2], STATUS_123)
        r = call(self.port, "GET", "/v2/models/my%20model%2Fx/ready")
        self.assertEqual((r[0], json.loads(r[2])), (200, {"name": "my model/x", "ready": True}))

    def test_cors(self):
        cors = {"access-control-allow-origin": "*", "access-control-allow-methods": "POST, GET",
                "access-control-allow-headers": "Content-Type"}
        for r in (call(self.port, "GET", "/v1/models/half"), self.post("/v1/models/nope:predict", "{}"),
                  call(self.port, "GET", "/v1/bad")):
            for k, v in cors.items():
                self.assertEqual(r[1].get(k), v)
        r = call(self.port, "OPTIONS", "/v1/models/half:predict", headers={"Origin": "https://app.example"})
        self.assertEqual((r[0], r[2]), (200, b""))
        self.assertEqual(r[1].get("access-control-allow-origin"), "*")
        for origin in (None, "null", "ftp://x"):
            r = call(self.port, "OPTIONS", "/v1/models/half", headers={"Origin": origin} if origin else {})
            self.assertEqual((r[0], r[2]), (400, b""))

    def test_list_models(self):
        r = json.loads(call(self.port, "GET", "/v1/models?list")[2])
        self.assertEqual([m["name"] for m in r["models"]], ["half", "my model/x"])
        self.assertEqual([s["version"] for s in r["models"][0]["model_version_status"]], ["124", "123"])
        # TF Serving's answer without the query stays.
        self.assertEqual(call(self.port, "GET", "/v1/models")[2], error_body("Missing model name in request."))


class TypesRoundTrip(unittest.TestCase):
    """String, bytes and number outputs of every JSON-supported dtype."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-rest-")
        identity_model(os.path.join(cls.tmp, "strings"), [
            ("s", "s_out", np.dtype(object)), ("img", "img_bytes", np.dtype(object)),
            ("t_bytes", "t_out", np.dtype(object))])
        identity_model(os.path.join(cls.tmp, "half"), [("h", "h_out", np.float16)])
        identity_model(os.path.join(cls.tmp, "wide"), [
            ("i16", "i16_out", np.int16), ("u32", "u32_out", np.uint32), ("u64", "u64_out", np.uint64)])
        identity_model(os.path.join(cls.tmp, "u16"), [("w", "w_out", np.uint16)])
        identity_model(os.path.join(cls.tmp, "numbers"), [
            ("i8", "i8_out", np.int8), ("u8", "u8_out", np.uint8), ("f", "f_out", np.float32), ("i32", "i32_out", np.int32),
            ("d", "d_out", np.float64), ("b", "b_out", np.bool_), ("i64", "i64_out", np.int64)])
        path = os.path.join(cls.tmp, "models.config")
        with open(path, "w") as f:
            f.write(model_config([("strings", os.path.join(cls.tmp, "strings"), ""),
                                  ("numbers", os.path.join(cls.tmp, "numbers"), ""),
                                  ("half", os.path.join(cls.tmp, "half"), ""),
                                  ("wide", os.path.join(cls.tmp, "wide"), ""),
                                  ("u16", os.path.join(cls.tmp, "u16"), "")]))
        cls.server = tfs.Server(model_config_file=path, rest=True).start()
        cls.port = cls.server.rest_port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check(cls.tmp)

    def post(self, path, body):
        return call(self.port, "POST", path, body if isinstance(body, (bytes, str)) else json.dumps(body))

    def test_bytes_outputs(self):
        # Outputs whose alias ends in _bytes come back as {"b64": ...}; other
        # strings raw. Inputs take {"b64": ...} whatever their name.
        payload = bytes(range(256))
        b64 = base64.b64encode(payload).decode()
        r = self.post("/v1/models/strings:predict", {"inputs": {
            "s": ["h\u00e9llo \"q\" \\ \n"], "img": [{"b64": b64}], "t_bytes": [{"b64": "YWJj"}]}})
        self.assertEqual(r[0], 200, r[2])
        out = json.loads(r[2])["outputs"]
        self.assertEqual(out, {"s_out": ["h\u00e9llo \"q\" \\ \n"], "img_bytes": [{"b64": b64}], "t_out": ["abc"]})
        # Row format, several outputs: one object per row, keys in signature order.
        r = self.post("/v1/models/strings:predict", {"instances": [
            {"s": "a", "img": {"b64": "AQI="}, "t_bytes": "x"}, {"s": "b", "img": {"b64": "AwQ="}, "t_bytes": "y"}]})
        self.assertEqual(r[0], 200, r[2])
        self.assertEqual(r[2], b'{\n    "predictions": [\n        {\n            "img_bytes": {\n'
                               b'                "b64": "AQI="\n            },\n            "s_out": "a",\n'
                               b'            "t_out": "x"\n        },\n        {\n            "img_bytes": {\n'
                               b'                "b64": "AwQ="\n            },\n            "s_out": "b",\n'
                               b'            "t_out": "y"\n        }\n    ]\n}')

    def test_half_is_unimplemented(self):
        # JSON has no half: UNIMPLEMENTED (501) in columnar form; the row form
        # wraps every element error into INVALID_ARGUMENT (400).
        r = self.post("/v1/models/half:predict", {"inputs": [1.0]})
        self.assertEqual((r[0], r[2]), (501, error_body("Conversion of JSON Value: 1.0 to type: half")))
        r = self.post("/v1/models/half:predict", {"instances": [1.0]})
        self.assertEqual((r[0], r[2]), (400, error_body(
            "Failed to process element: 0 of 'instances' list. Error: UNIMPLEMENTED: Conversion of JSON Value: "
            "1.0 to type: half")))

    def test_number_round_trip(self):
        r = self.post("/v1/models/numbers:predict", {"inputs": {
            "i8": [-128, 127], "u8": [0, 255], "f": [0.1, -2.5], "d": [0.1, 1e300], "b": [True, False],
            "i32": [-2147483648, 2147483647],
            "i64": [-9223372036854775808, 9223372036854775807]}})
        self.assertEqual(r[0], 200, r[2])
        out = json.loads(r[2])["outputs"]
        self.assertEqual(out["i8_out"], [-128, 127])
        self.assertEqual(out["u8_out"], [0, 255])
        self.assertEqual(out["f_out"], [0.1, -2.5])  # float32 0.1 printed shortest: 0.1
        self.assertEqual(out["d_out"], [0.1, 1e300])
        self.assertEqual(out["b_out"], [True, False])
        self.assertEqual(out["i64_out"], [-9223372036854775808, 9223372036854775807])
        self.assertEqual(out["i32_out"], [-2147483648, 2147483647])

    def test_other_integer_dtypes(self):
        # int16 goes through int_val, uint32 and uint64 through their own
        # fields: full ranges round-trip; uint16 has no JSON conversion (501).
        r = self.post("/v1/models/wide:predict", {"inputs": {
            "i16": [-32768, 32767], "u32": [0, 4294967295], "u64": [0, 18446744073709551615]}})
        self.assertEqual(r[0], 200, r[2])
        self.assertEqual(json.loads(r[2])["outputs"], {
            "i16_out": [-32768, 32767], "u32_out": [0, 4294967295], "u64_out": [0, 18446744073709551615]})
        for name, value in (("u32", -1), ("u32", 4294967296), ("u64", -1), ("u64", 1.5)):
            body = {"i16": [0], "u32": [0], "u64": [0]}
            body[name] = [value]
            r = self.post("/v1/models/wide:predict", {"inputs": body})
            self.assertEqual(r[0], 400, (name, value, r[2]))
        r = self.post("/v1/models/u16:predict", {"inputs": [1]})
        self.assertEqual((r[0], r[2]), (501, error_body("Conversion of JSON Value: 1 to type: uint16")))

    def test_float_printing(self):
        # WriteDecimal of json_tensor.cc: absl::StrCat (six significant
        # digits), max_digits10 when that does not read back, ".0" only when
        # there is neither a '.' nor an exponent. Written out by hand (the
        # smallest double reads back from its six digits, so they are kept).
        floats = [9e-07, 1.0, 0.1, 100000.0, 1e16, 1.401298464324817e-45, 3.4028234663852886e38, -0.0, 16777216.0,
                  0.3]
        want_f = ["9e-07", "1.0", "0.1", "100000.0", "1e+16", "1.4013e-45", "3.40282347e+38", "-0.0",
                  "16777216.0", "0.3"]
        doubles = [9e-07, 1.0, 1 / 3, 123456789.0, 1e300, 5e-324, -2.5, 0.1 + 0.2]
        want_d = ["9e-07", "1.0", "0.33333333333333331", "123456789.0", "1e+300", "4.94066e-324",
                  "-2.5", "0.30000000000000004"]
        n = len(floats)
        r = self.post("/v1/models/numbers:predict", json.dumps({"inputs": {
            "i8": [0] * n, "u8": [0] * n, "f": floats, "d": doubles + [0.0] * (n - len(doubles)), "b": [False] * n,
            "i32": [0] * n, "i64": [0] * n}}))
        self.assertEqual(r[0], 200, r[2])

        def raw_list(alias):
            m = re.search(rb'"' + alias.encode() + rb'": \[([^\]]*)\]', r[2])
            return [t.decode() for t in re.split(rb"[,\s]+", m.group(1)) if t]

        self.assertEqual(raw_list("f_out"), want_f)
        self.assertEqual(raw_list("d_out")[:len(doubles)], want_d)
        # The same numbers read back as the values sent.
        out = json.loads(r[2])["outputs"]
        self.assertEqual([np.float32(v) for v in out["f_out"]], [np.float32(x) for x in floats])
        self.assertEqual(out["d_out"][:len(doubles)], doubles)

    def test_out_of_range_for_dtype(self):
        base = {"i8": [0], "u8": [0], "f": [0.0], "d": [0.0], "b": [False], "i64": [0], "i32": [0]}
        # What TF Serving's AddValueToTensor refuses (IsInt, IsInt64, IsBool, IsNumber).
        for name, value in (("i32", 2 ** 31), ("i32", -2 ** 31 - 1), ("i64", 2 ** 63), ("i64", -2 ** 63 - 1),
                            ("i64", 1e20), ("i8", 1.5), ("u8", True), ("b", 1), ("f", "1.0"), ("d", None)):
            body = dict(base)
            body[name] = [value]
            r = self.post("/v1/models/numbers:predict", {"inputs": body})
            self.assertEqual(r[0], 400, (name, value, r[2]))
            self.assertIn("error", json.loads(r[2]))
        # int8/uint8 values pass through an int32 field, so TF Serving wraps them; so does plinth.
        body = dict(base, i8=[128, -129], u8=[-1, 256])
        r = self.post("/v1/models/numbers:predict", {"inputs": body})
        out = json.loads(r[2])["outputs"]
        self.assertEqual((out["i8_out"], out["u8_out"]), ([-128, 127], [255, 0]))
        r = self.post("/v1/models/numbers:predict", {"inputs": base})
        self.assertEqual(r[0], 200)

if __name__ == "__main__":
    unittest.main(verbosity=2)
