"""TLS on the gRPC port (--ssl_config_file, spec 1a): a text-format SSLConfig
holding PEM text. The test makes its own CA, server and client certificates
with openssl, then talks to the server with grpcio's ssl_channel_credentials:
TLS serves, a plaintext client is refused, and with client_verify only a
client with a certificate from custom_ca gets through (mutual TLS)."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import grpc
import numpy as np

import tfs
from test_grpc_predict import expected, request

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_certs(d):
    """A CA, a server certificate for localhost and a client certificate, both signed by the CA."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=plinth test CA", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, ext in (("server", ["-extfile", "san.ext"]), ("client", [])):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + ("localhost" if name == "server" else "plinth test client"), cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", *ext, cwd=d)
    pem = {}
    for n in ("ca.pem", "server.key", "server.pem", "client.key", "client.pem"):
        with open(os.path.join(d, n), "rb") as f:
            pem[n] = f.read()
    return pem


def text_string(b):
    """A text-format string literal of PEM bytes."""
    return '"%s"' % b.decode().replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-tls-")
        cls.pem = make_certs(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def server(self, client_verify):
        cfg = os.path.join(self.tmp, "ssl%d.txt" % client_verify)
        with open(cfg, "w") as f:
            f.write("server_key: %s\nserver_cert: %s\ncustom_ca: %s\nclient_verify: %s\n" % (
                text_string(self.pem["server.key"]), text_string(self.pem["server.pem"]),
                text_string(self.pem["ca.pem"]), "true" if client_verify else "false"))
        s = tfs.Server(model_path=HALF_PLUS_TWO, args=["--ssl_config_file=%s" % cfg], wait=False).start()
        self.addCleanup(s.stop)
        return s

    def channel(self, s, with_client_cert):
        kw = {"private_key": self.pem["client.key"], "certificate_chain": self.pem["client.pem"]} \
            if with_client_cert else {}
        creds = grpc.ssl_channel_credentials(root_certificates=self.pem["ca.pem"], **kw)
        ch = grpc.secure_channel("localhost:%d" % s.port, creds)
        self.addCleanup(ch.close)
        return ch

    def predict(self, s, ch, timeout=10):
        return s.predict_stub(ch).Predict(request(x=[3.0]), timeout=timeout).outputs["y"].float_val

    def wait_served(self, s, ch):
        """The harness's readiness probe speaks plaintext: wait for the port, then ask over TLS."""
        deadline = time.time() + 30 * tfs.SLOW
        while True:
            if s.proc.poll() is not None:
                self.fail("plinth exited:\n" + s.output())
            try:
                socket.create_connection(("localhost", s.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    self.fail("plinth did not listen:\n" + s.output())
                time.sleep(0.05)
        return self.predict(s, ch, timeout=10 * tfs.SLOW)

    def test_tls(self):
        s = self.server(False)
        np.testing.assert_array_equal(self.wait_served(s, self.channel(s, False)), expected([3.0]))
        self.assertIn("Using SSL credentials", s.output())
        with self.assertRaises(grpc.RpcError) as cm:
            s.predict_stub(s.channel()).Predict(request(x=[3.0]), timeout=3)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def test_mutual_tls(self):
        s = self.server(True)
        np.testing.assert_array_equal(self.wait_served(s, self.channel(s, True)), expected([3.0]))
        with self.assertRaises(grpc.RpcError) as cm:
            self.predict(s, self.channel(s, False), timeout=3)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def test_unparsable_config(self):
        cfg = os.path.join(self.tmp, "bad.txt")
        with open(cfg, "w") as f:
            f.write("server_key: 12 34")
        s = tfs.Server(model_path=HALF_PLUS_TWO, args=["--ssl_config_file=%s" % cfg])
        self.assertEqual(s.run_to_exit(), 255)
        self.assertIn("Failed to start server. Error: INVALID_ARGUMENT: Invalid protobuf file: '%s'" % cfg,
                      s.output())


if __name__ == "__main__":
    unittest.main()
