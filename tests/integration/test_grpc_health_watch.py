"""grpc.health.v1.Health/Watch (--enable_grpc_healthcheck_service): the
stream sends the current status at once and stays open; an unknown service
gets SERVICE_UNKNOWN rather than an error; streams the client cancels free
their slot for the next one; and a shutdown ends open streams as gRPC C++'s
default health service does, without holding up the exit."""
import threading
import time
import unittest

import grpc

import tfs
from test_grpc_services import health_pb2 as load_health_pb2

health_pb2 = load_health_pb2()

HALF_PLUS_TWO = tfs.testdata("saved_model_half_plus_two_cpu")
SERVING = health_pb2.HealthCheckResponse.SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


class HealthStub:
    """Check and Watch on a channel (grpcio's own health stubs are not installed)."""

    def __init__(self, channel):
        self.Check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                         request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                         response_deserializer=health_pb2.HealthCheckResponse.FromString)
        self.Watch = channel.unary_stream("/grpc.health.v1.Health/Watch",
                                          request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                          response_deserializer=health_pb2.HealthCheckResponse.FromString)


class Watch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tfs.Server(model_path=HALF_PLUS_TWO, args=["--enable_grpc_healthcheck_service"]).start()
        cls.stub = HealthStub(cls.server.channel())

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check()

    def first(self, service):
        stream = self.stub.Watch(health_pb2.HealthCheckRequest(service=service), timeout=30 * tfs.SLOW)
        status = next(stream).status
        return stream, status

    def test_statuses(self):
        for service, want in (("", SERVING), ("ModelService", SERVING), ("PredictionService", SERVING),
                              ("tensorflow.serving.Nope", SERVICE_UNKNOWN)):
            stream, status = self.first(service)
            self.assertEqual(status, want, service)
            stream.cancel()

    def test_stream_stays_open(self):
        stream, status = self.first("")
        self.assertEqual(status, SERVING)
        # Nothing changes, so nothing more arrives: the stream is still open
        # when the client gives up waiting.
        got = []
        t = threading.Thread(target=lambda: got.extend(stream))
        t.start()
        time.sleep(0.5)
        self.assertTrue(t.is_alive())
        self.assertEqual(got, [])
        stream.cancel()
        t.join(10)
        self.assertFalse(t.is_alive())

    def test_cancelled_streams_free_their_slots(self):
        # Far more streams, one after another, than the server keeps slots for.
        for i in range(40):
            stream, status = self.first("")
            self.assertEqual(status, SERVING, i)
            stream.cancel()
        # Several open at once, while Check keeps answering.
        streams = [self.first("")[0] for _ in range(4)]
        self.assertEqual(self.stub.Check(health_pb2.HealthCheckRequest(), timeout=10).status, SERVING)
        for s in streams:
            s.cancel()


class Shutdown(unittest.TestCase):
    def test_open_stream_ends_at_shutdown(self):
        s = tfs.Server(model_path=HALF_PLUS_TWO, args=["--enable_grpc_healthcheck_service"]).start()
        stub = HealthStub(s.channel())
        stream = stub.Watch(health_pb2.HealthCheckRequest(), timeout=60 * tfs.SLOW)
        self.assertEqual(next(stream).status, SERVING)
        errors = []

        def drain():
            try:
                for _ in stream:
                    pass
            except grpc.RpcError as e:
                errors.append((e.code(), e.details()))
        t = threading.Thread(target=drain)
        t.start()
        start = time.time()
        s.proc.terminate()
        self.assertEqual(s.proc.wait(timeout=60 * tfs.SLOW), 0)
        self.assertLess(time.time() - start, 20 * tfs.SLOW)  # not the 30 s grace period
        t.join(10)
        self.assertEqual(errors, [(grpc.StatusCode.CANCELLED, "not writing due to shutdown")])
        s.stop()

    def test_without_the_flag(self):
        with tfs.Server(model_path=HALF_PLUS_TWO) as s:
            stream = HealthStub(s.channel()).Watch(health_pb2.HealthCheckRequest(), timeout=10)
            with self.assertRaises(grpc.RpcError) as cm:
                next(stream)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)


if __name__ == "__main__":
    unittest.main()
