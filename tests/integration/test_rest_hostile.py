"""Hostile input to the REST server: truncated JSON, a Content-Length of 1 GB
that never comes, bodies over the limit, a million nested arrays, invalid
UTF-8, bad base64, gzip bombs, garbage HTTP, many connections, and a body over
100 MB. Each gets a clear 4xx (or is served), and the server keeps serving:
a normal request right after each one works."""
import gzip
import json
import socket
import threading
import unittest
import zlib

import tfs
from resthttp import call

HALF = tfs.testdata("saved_model_half_plus_two_cpu")
PREDICT = "/v1/models/default:predict"
GOOD = json.dumps({"instances": [2.0, 3.0, 4.0]})
GOOD_REPLY = b'{\n    "predictions": [3.0, 3.5, 4.0\n    ]\n}'


def raw_connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30 * tfs.SLOW)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_reply(s):
    """Reads one HTTP reply (Content-Length framed) from a raw socket: (status, head, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None, data, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, head, body


def closed_by_peer(s, timeout=10):
    s.settimeout(timeout * tfs.SLOW)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        return False


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tfs.Server(model_name="default", model_path=HALF, rest=True,
                                args=["--rest_api_num_threads=4"]).start()
        cls.port = cls.server.rest_port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check()

    def assert_alive(self):
        r = call(self.port, "POST", PREDICT, GOOD)
        self.assertEqual((r[0], r[2]), (200, GOOD_REPLY))

    def assert_4xx(self, r, text=None):
        self.assertTrue(400 <= r[0] < 500, (r[0], r[2][:300]))
        if text is not None:
            self.assertIn(text, json.loads(r[2])["error"])

    def test_truncated_json(self):
        body = json.dumps({"signature_name": "serving_default", "instances": [[1.5], [2.5e3], [-3]]})
        for n in range(1, len(body)):
            r = call(self.port, "POST", PREDICT, body[:n])
            self.assert_4xx(r, "JSON Parse error")
        self.assert_alive()

    def test_declared_gigabyte_that_never_comes(self):
        # The server must not wait on this connection with a thread, nor
        # reserve the declared size: others are served meanwhile.
        liars = []
        for _ in range(8):
            s = raw_connect(self.port)
            s.sendall(b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
                      b'{"instances": [')
            liars.append(s)
        self.assert_alive()
        for s in liars:
            s.close()
        self.assert_alive()

    def test_million_nested_arrays(self):
        deep = "[" * 1000000 + "]" * 1000000
        for body in ('{"instances": ' + deep + "}", '{"inputs": ' + deep + "}", "[" * 1000000,
                     '{"instances": [' + '{"a": ' * 200000 + "1" + "}" * 200000 + "]}"):
            r = call(self.port, "POST", PREDICT, body)
            self.assert_4xx(r)
        r = call(self.port, "POST", "/v1/models/default:classify", '{"examples": ' + deep + "}")
        self.assert_4xx(r)
        r = call(self.port, "POST", "/v1/models/default:regress",
                 '{"examples": [{"x": ' + "[" * 1000000 + "}]}")
        self.assert_4xx(r)
        self.assert_alive()

    def test_invalid_utf8(self):
        bad = b"\xff\xfe\xc3\x28\xed\xa0\x80"
        for body in (b'{"instances": ["' + bad + b'"]}', b'{"instances": [' + bad + b"]}",
                     b'{"' + bad + b'": 1, "instances": "x"}', b'{"signature_name": "' + bad + b'", "instances": [1]}',
                     bad):
            self.assert_4xx(call(self.port, "POST", PREDICT, body))
        self.assert_4xx(call(self.port, "POST", "/v1/models/default:regress",
                             b'{"examples": [{"x": "' + bad + b'"}]}'))
        r = call(self.port, "GET", "/v1/models/%FF%FE")
        self.assertEqual(r[0], 404)
        self.assert_alive()

    def test_bad_base64(self):
        for b64 in ("!!!!", "abc", "a===", "YWJj\n", "YW Jj", "-_-_"):
            body = json.dumps({"signature_name": "classify_x_to_y", "instances": [{"b64": b64}]})
            self.assert_4xx(call(self.port, "POST", PREDICT, body))
        self.assert_4xx(call(self.port, "POST", "/v1/models/default:regress",
                             json.dumps({"examples": [{"x": {"b64": "%%%"}}]})))
        self.assert_alive()

    def test_numbers_out_of_range(self):
        for v in ("1e400", "-1e400", "1" * 400):
            r = call(self.port, "POST", PREDICT, '{"instances": [' + v + "]}")
            self.assert_4xx(r, "Number too big")
        self.assert_alive()

    def test_gzip_bomb_and_garbage(self):
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = b"\0" * (1 << 20)
        bomb = b"".join(c.compress(zeros) for _ in range(200)) + c.flush()  # 200 MiB of zeros
        self.assertLess(len(bomb), 1 << 20)
        r = call(self.port, "POST", PREDICT, bomb, {"Content-Encoding": "gzip"})
        self.assert_4xx(r, "inflates to more than 104857600 bytes")
        r = call(self.port, "POST", PREDICT, gzip.compress(GOOD.encode())[:20], {"Content-Encoding": "gzip"})
        self.assert_4xx(r)
        self.assert_alive()

    def test_garbage_http(self):
        for raw in (b"GARBAGE\r\n\r\n", b"GET /v1/models/default HTTP/9.9\r\n\r\n",
                    b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                    b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                    b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 200000 + b"\r\n\r\n"):
            s = raw_connect(self.port)
            try:
                s.sendall(raw)
                status, _, _ = read_reply(s)
                self.assertTrue(status is None or 400 <= status < 600, (raw[:40], status))
            except (ConnectionResetError, BrokenPipeError):
                pass
            finally:
                s.close()
        self.assert_alive()

    def test_many_connections(self):
        # 200 clients at once, each with a keep-alive connection.
        errors = []

        def client(i):
            try:
                import http.client
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60 * tfs.SLOW)
                for k in range(3):
                    conn.request("POST", PREDICT, body=json.dumps({"instances": [float(i + k)]}))
                    r = conn.getresponse()
                    got = json.loads(r.read())
                    if got != {"predictions": [(i + k) / 2 + 2]}:
                        errors.append(got)
                conn.close()
            except Exception as e:  # noqa: BLE001 - any failure is the test's result
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assert_alive()

    def test_body_over_100_mb(self):
        # Other top-level keys are skipped: 110 MB of padding around one instance.
        pad = "x" * (110 << 20)
        body = '{"pad": "' + pad + '", "instances": [2.0]}'
        r = call(self.port, "POST", PREDICT, body, timeout=300)
        self.assertEqual((r[0], json.loads(r[2])), (200, {"predictions": [3.0]}))
        self.assert_alive()


class BodyLimit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tfs.Server(model_name="default", model_path=HALF, rest=True,
                                args=["--rest_api_max_body_bytes=100000"]).start()
        cls.port = cls.server.rest_port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check()

    def test_declared_too_large_gets_413_at_once(self):
        s = raw_connect(self.port)
        s.sendall(b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n")
        status, head, body = read_reply(s)
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body), {
            "error": "Request body of 1073741824 bytes is larger than the limit of 100000 bytes"})
        self.assertTrue(closed_by_peer(s))
        s.close()
        # A client that waits for 100-continue is told before it sends anything.
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30 * tfs.SLOW)
        conn.putrequest("POST", PREDICT)
        conn.putheader("Content-Length", "200000")
        conn.putheader("Expect", "100-continue")
        conn.endheaders()
        self.assertEqual(conn.getresponse().status, 413)
        conn.close()

    def test_chunked_over_the_limit(self):
        s = raw_connect(self.port)
        s.sendall(b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"a" * 30000
        for _ in range(5):
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        status, _, _ = read_reply(s)
        self.assertEqual(status, 413)
        s.close()

    def test_at_the_limit_is_served(self):
        body = GOOD + " " * (100000 - len(GOOD))
        r = call(self.port, "POST", PREDICT, body)
        self.assertEqual((r[0], r[2]), (200, GOOD_REPLY))
        s = raw_connect(self.port)
        s.sendall(b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100001\r\n\r\n")
        self.assertEqual(read_reply(s)[0], 413)
        s.close()
        r = call(self.port, "POST", PREDICT, GOOD)
        self.assertEqual(r[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
