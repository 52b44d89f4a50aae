"""plinth-cli's HTTP/1.1 client against a small REST endpoint written here
with Python's http.server: replies with Content-Length, chunked bodies,
bodies that end with the connection, keep-alive reuse after the server
closed an idle connection, and TensorFlow Serving's {"error": ...} bodies."""
import http.server
import json
import re
import threading
import unittest

from clilib import run, run_json

STATUS = {"model_version_status": [{"version": "7", "state": "AVAILABLE",
                                    "status": {"error_code": "OK", "error_message": ""}}]}
METADATA = {"model_spec": {"name": "m", "version": "7", "signature_name": ""},
            "metadata": {"signature_def": {"signature_def": {"serving_default": {
                "inputs": {"x": {"name": "x:0", "dtype": "DT_FLOAT",
                                 "tensor_shape": {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False}}},
                "outputs": {"y": {"name": "y:0", "dtype": "DT_FLOAT",
                                  "tensor_shape": {"dim": [], "unknown_rank": True}}},
                "method_name": "tensorflow/serving/predict"}}}}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "length"          # how the next reply is framed: length, chunked or close
    requests = []
    raw_bodies = []

    def log_message(self, *args):
        pass

    def reply(self, code, doc):
        body = json.dumps(doc, indent=1).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        if Handler.mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 7):  # small chunks, split anywhere
                piece = body[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif Handler.mode == "close":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_GET(self):
        Handler.requests.append(("GET", self.path))
        path = re.sub(r"/versions/\d+", "", self.path)
        if path == "/v1/models/m":
            self.reply(200, STATUS)
        elif path == "/v1/models/m/metadata":
            self.reply(200, METADATA)
        elif self.path.startswith("/v1/models/a%2Fb%20c"):
            self.reply(404, {"error": "Servable not found for request: Latest(a/b c)"})
        else:
            self.reply(404, {"error": "Could not find any versions of model " + self.path.split("/")[3]})

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        raw = self.rfile.read(length)
        Handler.raw_bodies.append(raw)
        body = json.loads(raw)
        Handler.requests.append(("POST", self.path, body))
        x = body["inputs"]["x"]
        self.reply(200, {"outputs": [v * 2 for v in x]})


class HttpClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cls.thread = threading.Thread(target=cls.httpd.serve_forever, daemon=True)
        cls.thread.start()
        cls.rest = ["--rest", "127.0.0.1:%d" % cls.httpd.server_address[1]]

    @classmethod
    def tearDownClass(cls):
        cls.httpd.shutdown()
        cls.httpd.server_close()

    def test_framings(self):
        for mode in ("length", "chunked", "close"):
            Handler.mode = mode
            self.assertEqual(run_json(*self.rest, "status", "m"),
                             {"model": "m", "versions": [{"version": 7, "state": "AVAILABLE", "error": ""}]}, mode)
            doc = run_json(*self.rest, "metadata", "m")
            sig = doc["signatures"]["serving_default"]
            self.assertEqual(doc["version"], 7)
            self.assertEqual(sig["inputs"]["x"], {"dtype": "DT_FLOAT", "shape": [-1], "name": "x:0"})
            self.assertIsNone(sig["outputs"]["y"]["shape"])
            # Predict after metadata on the same connection (or a new one after "close").
            code, out, err = run(*self.rest, "predict", "m", "--input", "x=[1.5, -2.0]")
            self.assertEqual(code, 0, err)
            self.assertEqual(json.loads(out), {"outputs": [3.0, -4.0]})
        Handler.mode = "length"

    def test_request_body_names_the_signature_and_inputs(self):
        Handler.requests.clear()
        code, _, err = run(*self.rest, "--version", "7", "predict", "m", "--input", "x=[1.0]")
        self.assertEqual(code, 0, err)
        self.assertEqual(Handler.requests[0][:2], ("GET", "/v1/models/m/versions/7/metadata"))
        self.assertEqual(Handler.requests[1], ("POST", "/v1/models/m/versions/7:predict",
                                               {"signature_name": "serving_default", "inputs": {"x": [1.0]}}))
        # Compact: no layout whitespace outside strings.
        code, _, err = run(*self.rest, "predict", "m", "--input", 'x=[[1.5, 2.5], [3.5, 4.5]]')
        self.assertEqual(code, 0, err)
        self.assertEqual(Handler.raw_bodies[-1],
                         b'{"signature_name": "serving_default", "inputs": {"x": [[1.5,2.5],[3.5,4.5]]}}')

    def test_bench_keeps_connections_alive(self):
        Handler.requests.clear()
        doc = run_json(*self.rest, "bench", "m", "--input", "x=[1.0]", "-c", "2", "-n", "20")
        self.assertEqual(doc["requests"], 20)
        self.assertEqual(doc["errors"], 0)
        self.assertEqual(len([r for r in Handler.requests if r[0] == "POST"]), 21)  # with the warm-up

    def test_errors_and_escaped_names(self):
        code, _, err = run(*self.rest, "status", "nope")
        self.assertEqual(code, 1)
        self.assertEqual(err, "plinth-cli: model 'nope' is not served at %s: Could not find any versions of "
                              "model nope\n" % self.rest[1])
        code, _, err = run(*self.rest, "status", "a/b c")
        self.assertEqual(code, 1)
        self.assertIn("Servable not found for request: Latest(a/b c)", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
