"""The project's .proto files describe the same wire format as TensorFlow's and
TensorFlow Serving's: the generated Python modules parse files that TensorFlow
wrote without leaving anything in unknown fields, and the gRPC services have
stubs."""
import glob
import os
import sys
import unittest

from google.protobuf import unknown_fields

SHARED = os.environ.get("PLINTH_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
BUILD = os.environ.get("PLINTH_BUILD", "")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def unknown_field_paths(msg, path=""):
    """Every place below msg where the parser met a field our protos do not declare."""
    found = [f"{path}#{f.field_number}" for f in unknown_fields.UnknownFieldSet(msg)]
    for fd, value in msg.ListFields():
        if fd.type != fd.TYPE_MESSAGE:
            continue
        name = f"{path}.{fd.name}"
        if fd.label == fd.LABEL_REPEATED:
            if fd.message_type.GetOptions().map_entry:
                if fd.message_type.fields_by_name["value"].type != fd.TYPE_MESSAGE:
                    continue
                value = value.values()
            for item in value:
                found += unknown_field_paths(item, name)
        else:
            found += unknown_field_paths(value, name)
    return found


class FrameworkProtos(unittest.TestCase):
    def test_frozen_graph(self):
        from tensorflow.core.framework import graph_pb2, types_pb2

        data = read(os.path.join(SHARED, "models", "mtcnn", "1", "mtcnn.pb"))
        g = graph_pb2.GraphDef()
        g.ParseFromString(data)
        self.assertGreater(len(g.node), 100)
        self.assertEqual(unknown_field_paths(g), [])
        self.assertIn("Conv2D", {n.op for n in g.node})
        const = next(n for n in g.node if n.op == "Const")
        self.assertEqual(const.attr["dtype"].type, const.attr["value"].tensor.dtype)
        self.assertNotEqual(const.attr["dtype"].type, types_pb2.DT_INVALID)


class SavedModelProtos(unittest.TestCase):
    def saved_models(self):
        paths = sorted(glob.glob(os.path.join(SHARED, "models", "tfs-testdata", "*", "*", "saved_model.pb")))
        self.assertGreater(len(paths), 5)
        return paths

    def test_every_saved_model_parses_completely(self):
        from tensorflow.core.protobuf import saved_model_pb2

        for path in self.saved_models():
            with self.subTest(path=path):
                m = saved_model_pb2.SavedModel()
                m.ParseFromString(read(path))
                self.assertEqual(len(m.meta_graphs), 1)
                self.assertIn("serve", m.meta_graphs[0].meta_info_def.tags)
                self.assertEqual(unknown_field_paths(m), [])

    def test_half_plus_two_signature(self):
        from tensorflow.core.framework import types_pb2
        from tensorflow.core.protobuf import saved_model_pb2

        path = os.path.join(SHARED, "models", "tfs-testdata", "saved_model_half_plus_two_cpu", "00000123",
                            "saved_model.pb")
        m = saved_model_pb2.SavedModel()
        m.ParseFromString(read(path))
        sig = m.meta_graphs[0].signature_def["serving_default"]
        self.assertEqual(sig.method_name, "tensorflow/serving/predict")
        self.assertEqual(sig.inputs["x"].name, "x:0")
        self.assertEqual(sig.inputs["x"].dtype, types_pb2.DT_FLOAT)
        self.assertEqual([d.size for d in sig.inputs["x"].tensor_shape.dim], [-1, 1])
        self.assertEqual(sig.outputs["y"].name, "y:0")
        classify = m.meta_graphs[0].signature_def["classify_x_to_y"]
        self.assertTrue(classify.inputs["inputs"].tensor_shape.unknown_rank)
        self.assertEqual(classify.inputs["inputs"].dtype, types_pb2.DT_STRING)


class ServingProtos(unittest.TestCase):
    def test_services_have_stubs(self):
        from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc
        import grpc_predict_v2_pb2_grpc

        for name in ("Predict", "Classify", "Regress", "MultiInference", "GetModelMetadata"):
            self.assertIn(name, prediction_service_pb2_grpc.PredictionServiceServicer.__dict__)
        for name in ("GetModelStatus", "HandleReloadConfigRequest"):
            self.assertIn(name, model_service_pb2_grpc.ModelServiceServicer.__dict__)
        for name in ("ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata", "ModelInfer"):
            self.assertIn(name, grpc_predict_v2_pb2_grpc.GRPCInferenceServiceServicer.__dict__)

    def test_health_service(self):
        # grpcio owns the Python package "grpc", so the generated health module
        # is reached by adding its directory to that package's path.
        import grpc

        health_dir = os.path.join(BUILD, "python", "grpc")
        self.assertTrue(os.path.isdir(health_dir), health_dir)
        if health_dir not in grpc.__path__:
            grpc.__path__.append(health_dir)
        from grpc.health.v1 import health_pb2, health_pb2_grpc

        self.assertIn("Check", health_pb2_grpc.HealthServicer.__dict__)
        self.assertIn("Watch", health_pb2_grpc.HealthServicer.__dict__)
        self.assertEqual(health_pb2.HealthCheckResponse.SERVING, 1)
        self.assertEqual(health_pb2.DESCRIPTOR.package, "grpc.health.v1")

    def test_wire_numbers_match_upstream(self):
        """A few field numbers that clients depend on, checked on the wire."""
        from google.protobuf import wrappers_pb2
        from tensorflow_serving.apis import get_model_status_pb2, model_pb2, predict_pb2
        from tensorflow_serving.servables.tensorflow import session_bundle_config_pb2

        spec = model_pb2.ModelSpec(name="m", version=wrappers_pb2.Int64Value(value=7), signature_name="s")
        self.assertEqual(spec.SerializeToString(), b"\x0a\x01m\x12\x02\x08\x07\x1a\x01s")
        spec = model_pb2.ModelSpec(version_label="l")
        self.assertEqual(spec.SerializeToString(), b"\x22\x01l")
        req = predict_pb2.PredictRequest(output_filter=["y"])
        self.assertEqual(req.SerializeToString(), b"\x1a\x01y")
        req = predict_pb2.PredictRequest(client_id=b"")
        self.assertTrue(req.HasField("client_id"))
        self.assertEqual(req.SerializeToString(), b"\x32\x00")
        st = get_model_status_pb2.ModelVersionStatus(version=123, state=30)
        self.assertEqual(st.SerializeToString(), b"\x08\x7b\x10\x1e")
        bp = session_bundle_config_pb2.BatchingParameters()
        bp.max_execution_batch_size.value = 5
        bp.enable_large_batch_splitting.value = True
        self.assertEqual(bp.SerializeToString(), b"\x42\x02\x08\x01\x4a\x02\x08\x05")

    def test_tensor_bundle(self):
        from tensorflow.core.protobuf import tensor_bundle_pb2

        e = tensor_bundle_pb2.BundleEntryProto(dtype=1, shard_id=0, offset=8, size=4, crc32c=0xDEADBEEF)
        e.shape.dim.add(size=1)
        self.assertEqual(e.SerializeToString(), b"\x08\x01\x12\x04\x12\x02\x08\x01\x20\x08\x28\x04\x35\xef\xbe\xad\xde")


if __name__ == "__main__":
    unittest.main(verbosity=2)
