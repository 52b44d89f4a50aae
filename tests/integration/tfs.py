"""Runs a plinth server for integration tests, the way TensorFlow Serving's own
test harness runs tensorflow_model_server (tensorflow_model_server_test_base.py):
free ports, the same base flags, readiness by asking for a model that does not
exist until the error names a "Servable", gRPC stubs, and a clean stop.

    from tfs import Server, testdata
    with Server(model_name="default",
                model_path=testdata("saved_model_half_plus_two_cpu")) as s:
        resp = s.predict_stub().Predict(request, timeout=10)

Environment: PLINTH_BIN (the server), PLINTH_SHARED (models), PYTHONPATH with
the generated protos (build/python). Slow sanitizer builds get longer waits.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import grpc

from tensorflow_serving.apis import model_service_pb2_grpc
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

SANITIZED = os.environ.get("PLINTH_SANITIZE", "").upper() in ("ON", "1", "TRUE", "YES")
# How long waits may take: sanitizer builds run several times slower.
SLOW = 4 if SANITIZED else 1


def shared_dir():
    return os.environ.get("PLINTH_SHARED") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared")


def testdata(name):
    """A model or file of TensorFlow Serving's test data (read in place)."""
    return os.path.abspath(os.path.join(shared_dir(), "models", "tfs-testdata", name))


def plinth_bin():
    b = os.environ.get("PLINTH_BIN")
    if not b:
        raise RuntimeError("PLINTH_BIN is not set (run through ctest)")
    return b


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerFailed(RuntimeError):
    """The server exited before it became ready."""


class Server:
    """One plinth process. Use as a context manager or call start()/stop()."""

    def __init__(self, model_name=None, model_path=None, model_config_file=None, args=(), rest=False,
                 grpc_socket=False, channel_args=None, wait=True, timeout=60, env=None):
        self.port = free_port()
        self.rest_port = free_port() if rest else None
        self.tmp = tempfile.mkdtemp(prefix="plinth-test-")
        self.socket_path = os.path.join(self.tmp, "tf-serving.sock") if grpc_socket else None
        cmd = [plinth_bin(), "--port=%d" % self.port]
        if self.rest_port:
            cmd += ["--rest_api_port=%d" % self.rest_port, "--rest_api_timeout_in_ms=5000"]
        if self.socket_path:
            cmd += ["--grpc_socket_path=%s" % self.socket_path]
        user_args = (channel_args + ",") if channel_args else ""
        cmd += ["--grpc_channel_arguments=%sgrpc.so_reuseaddr=1" % user_args]
        if model_config_file:
            cmd += ["--model_config_file=%s" % model_config_file]
        elif model_path:
            cmd += ["--model_name=%s" % (model_name or "default"), "--model_base_path=%s" % model_path]
        cmd += list(args)
        self.cmd = cmd
        self.env = dict(os.environ, **(env or {}))
        self.timeout = timeout * SLOW
        self.wait = wait
        self.proc = None
        self._channel = None

    # -- lifecycle --

    def start(self):
        self.stdout = open(os.path.join(self.tmp, "stdout"), "w+")
        self.stderr = open(os.path.join(self.tmp, "stderr"), "w+")
        self.proc = subprocess.Popen(self.cmd, stdout=self.stdout, stderr=self.stderr, env=self.env)
        if self.wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        """WaitForServerReady: Predict on a missing model until the error names a Servable."""
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "intentionally_missing_model"
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise ServerFailed("plinth exited with %d before it was ready:\n%s" %
                                   (self.proc.returncode, self.output()))
            # A gRPC channel that finds the port closed backs off for seconds;
            # probe only once something listens.
            if not self._listening():
                time.sleep(0.02)
                continue
            try:
                self.predict_stub().Predict(request, timeout=1)
            except grpc.RpcError as e:
                if e.details() and "Servable" in e.details():
                    return
            time.sleep(0.1)
        raise ServerFailed("plinth was not ready after %d s:\n%s" % (self.timeout, self.output()))

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM):
        """Stops the server with `sig` and returns its exit code."""
        if self._channel:
            self._channel.close()
            self._channel = None
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=60 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_logs()
        return self.proc.returncode

    def stop_and_check(self, tmp=None):
        """For a server shared by a test class: stops it, removes `tmp` and fails
        unless it exited 0 (a sanitizer report or a leak shows only there)."""
        code = self.stop()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        assert code == 0, "server exited with %s:\n%s" % (code, self.output())

    def _close_logs(self):
        for f in (getattr(self, "stdout", None), getattr(self, "stderr", None)):
            if f and not f.closed:
                f.close()

    def run_to_exit(self, timeout=60):
        """For servers expected to fail: waits for the exit, returns the code."""
        self.wait = False
        self.start()
        try:
            return self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self._close_logs()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def output(self):
        """Everything the server printed so far (stdout then stderr)."""
        out = []
        for f in (getattr(self, "stdout", None), getattr(self, "stderr", None)):
            if f:
                if not f.closed:
                    f.flush()
                with open(f.name) as r:
                    out.append(r.read())
        return "".join(out)

    def stderr_text(self):
        if not self.stderr.closed:
            self.stderr.flush()
        with open(self.stderr.name) as r:
            return r.read()

    # -- clients --

    def address(self):
        return "localhost:%d" % self.port

    def channel(self, address=None):
        if address:
            return grpc.insecure_channel(address)
        if self._channel is None:
            self._channel = grpc.insecure_channel(self.address())
        return self._channel

    def predict_stub(self, channel=None):
        return prediction_service_pb2_grpc.PredictionServiceStub(channel or self.channel())

    def model_stub(self, channel=None):
        return model_service_pb2_grpc.ModelServiceStub(channel or self.channel())

    def rest_url(self, path=""):
        return "http://localhost:%d%s" % (self.rest_port, path)
