"""plinth's text-format parser and proto3 JSON printer (src/pb) against Python's
protobuf: a file parsed by plinth and printed as JSON must parse back, with
google.protobuf.json_format, into the message Python's own text_format (or
binary) parser makes of the same file. Also the TensorFlow Serving REST
layouts of GetModelStatus and the metadata golden file."""
import glob
import json
import math
import os
import random
import subprocess
import tempfile
import unittest

from google.protobuf import json_format, text_format

SHARED = os.environ.get("PLINTH_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
BUILD = os.environ.get("PLINTH_BUILD", "build")
TOOL = os.path.join(BUILD, "pb_json")
TESTDATA = os.path.join(SHARED, "models", "tfs-testdata")


def run_tool(type_name, path, *flags):
    p = subprocess.run([TOOL, *flags, type_name, path], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def text_file(content, binary=False):
    f = tempfile.NamedTemporaryFile("wb" if binary else "w", suffix=".pb", delete=False)
    f.write(content)
    f.close()
    return f.name


class Configs(unittest.TestCase):
    def check_file(self, cls, path):
        with open(path) as f:
            want = text_format.Parse(f.read(), cls())
        for flags in ((), ("--camel",), ("--compact", "--no-defaults"), ("--camel", "--compact")):
            with self.subTest(path=os.path.basename(path), flags=flags):
                rc, out, err = run_tool(cls.DESCRIPTOR.full_name, path, *flags)
                self.assertEqual(rc, 0, err)
                got = json_format.Parse(out, cls())
                self.assertEqual(got, want)
        return want

    def test_good_model_config(self):
        from tensorflow_serving.config import model_server_config_pb2

        m = self.check_file(model_server_config_pb2.ModelServerConfig, os.path.join(TESTDATA, "good_model_config.txt"))
        self.assertEqual([c.name for c in m.model_config_list.config], ["half_plus_two", "half_plus_three"])

    def test_batching_config(self):
        from tensorflow_serving.servables.tensorflow import session_bundle_config_pb2

        m = self.check_file(session_bundle_config_pb2.BatchingParameters, os.path.join(TESTDATA, "batching_config.txt"))
        self.assertEqual(m.max_batch_size.value, 128)
        self.assertTrue(m.HasField("batch_timeout_micros"))

    def test_monitoring_config(self):
        from tensorflow_serving.config import monitoring_config_pb2

        m = self.check_file(monitoring_config_pb2.MonitoringConfig, os.path.join(TESTDATA, "monitoring_config.txt"))
        self.assertTrue(m.prometheus_config.enable)

    def test_bad_model_config(self):
        rc, out, err = run_tool("tensorflow.serving.ModelServerConfig", os.path.join(TESTDATA, "bad_model_config.txt"))
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        # protobuf's C++ parser reports an unknown field at the token after its name.
        self.assertEqual(err.strip(), 'Error parsing text-format tensorflow.serving.ModelServerConfig: 1:12: '
                                      'Message type "tensorflow.serving.ModelServerConfig" has no field named '
                                      '"improperly".')

    def test_every_config_feature(self):
        from tensorflow_serving.config import model_server_config_pb2

        text = """
          # every way to write the same kind of thing
          model_config_list <
            config: { name: 'a' "b" base_path: "/m/\\x41\\101\\303\\251\\t" model_platform: "tensorflow"
                      model_version_policy { specific { versions: [1, 0x10, 010] versions: -2 } }
                      version_labels { key: "stable" value: 9223372036854775807 }
                      version_labels [{ key: "canary" value: -9223372036854775808 }]
                      logging_config { sampling_config { sampling_rate: 1e-3 attributes: 3 } }
                      model_type: 1 } ;
            config [{ name: "c", model_version_policy < latest < num_versions: 4294967295 > > }, {}]
          >
        """
        path = text_file(text)
        self.check_file(model_server_config_pb2.ModelServerConfig, path)
        os.unlink(path)


def random_string(rng, n):
    alphabet = "abc xyz\"'\\\n\t\x01\u00e9\u4e2d\U0001F600"
    return "".join(rng.choice(alphabet) for _ in range(n))


class RandomMessages(unittest.TestCase):
    """Messages Python prints in text format, read by plinth, printed as JSON."""

    def roundtrip(self, msg, *flags):
        for as_utf8 in (False, True):
            path = text_file(text_format.MessageToString(msg, as_utf8=as_utf8))
            rc, out, err = run_tool(msg.DESCRIPTOR.full_name, path, *flags)
            os.unlink(path)
            self.assertEqual(rc, 0, err)
            self.assertEqual(json_format.Parse(out, type(msg)()), msg)

    def test_model_server_configs(self):
        from tensorflow_serving.config import model_server_config_pb2

        rng = random.Random(7)
        for _ in range(20):
            m = model_server_config_pb2.ModelServerConfig()
            for _ in range(rng.randrange(4)):
                c = m.model_config_list.config.add(name=random_string(rng, 5), base_path=random_string(rng, 9),
                                                   model_platform="tensorflow")
                choice = rng.randrange(3)
                if choice == 0:
                    c.model_version_policy.latest.num_versions = rng.randrange(1 << 32)
                elif choice == 1:
                    c.model_version_policy.all.SetInParent()
                else:
                    c.model_version_policy.specific.versions.extend(rng.randrange(-2**63, 2**63) for _ in range(3))
                for _ in range(rng.randrange(3)):
                    c.version_labels[random_string(rng, 4)] = rng.randrange(-2**63, 2**63)
                c.logging_config.sampling_config.sampling_rate = rng.random()
            self.roundtrip(m, "--compact")

    def test_predict_requests(self):
        from tensorflow.core.framework import tensor_pb2
        from tensorflow_serving.apis import predict_pb2

        rng = random.Random(11)
        # Not FLT_MAX: its shortest float form 3.40282347e+38 exceeds FLT_MAX as a
        # double, which Python's JSON parser turns into infinity.
        specials = [0.0, -0.0, 1e-45, 3.4028e38, float("inf"), float("-inf"), 0.1, 1 / 3]
        for _ in range(20):
            r = predict_pb2.PredictRequest()
            r.model_spec.name = random_string(rng, 6)
            if rng.randrange(2):
                r.model_spec.version.value = rng.randrange(-2**63, 2**63)
            else:
                r.model_spec.version_label = random_string(rng, 3)
            t = r.inputs[random_string(rng, 3)]
            t.dtype = rng.randrange(1, 24)
            t.tensor_shape.dim.add(size=rng.randrange(-1, 1 << 40))
            t.float_val.extend(rng.choice(specials + [rng.uniform(-1e30, 1e30)]) for _ in range(5))
            t.double_val.extend(rng.choice(specials + [rng.uniform(-1e300, 1e300)]) for _ in range(5))
            t.int64_val.extend(rng.randrange(-2**63, 2**63) for _ in range(3))
            t.uint64_val.extend(rng.randrange(2**64) for _ in range(3))
            t.half_val.extend(rng.randrange(1 << 16) for _ in range(2))
            t.string_val.extend(bytes(rng.randrange(256) for _ in range(rng.randrange(8))) for _ in range(3))
            t.bool_val.extend([True, False])
            t.tensor_content = bytes(rng.randrange(256) for _ in range(rng.randrange(20)))
            r.output_filter.extend(random_string(rng, 2) for _ in range(2))
            if rng.randrange(2):
                r.client_id = b""  # a oneof member set to its default still counts
            self.roundtrip(r)

    def test_nan_and_float_layout(self):
        from tensorflow.core.framework import tensor_pb2

        t = tensor_pb2.TensorProto(float_val=[float("nan"), 1.0, 0.1, 16777216.0, 1e-45],
                                   double_val=[float("nan"), 0.1, 1e300, 5e-324])
        path = text_file(text_format.MessageToString(t))
        rc, out, err = run_tool("tensorflow.TensorProto", path, "--compact", "--no-defaults", "--camel")
        os.unlink(path)
        self.assertEqual(rc, 0, err)
        # %.6g / %.15g when that reads back exactly, else %.9g / %.17g (SimpleFtoa, SimpleDtoa).
        self.assertEqual(out, '{"floatVal":["NaN",1,0.1,16777216,1.4013e-45],'
                              '"doubleVal":["NaN",0.1,1e+300,4.94065645841247e-324]}')
        back = json_format.Parse(out, tensor_pb2.TensorProto())
        self.assertTrue(math.isnan(back.float_val[0]) and math.isnan(back.double_val[0]))


class BinaryFiles(unittest.TestCase):
    """protobuf-c's unpacking of files TensorFlow wrote, printed as JSON."""

    def check_binary(self, cls, path):
        with open(path, "rb") as f:
            want = cls.FromString(f.read())
        rc, out, err = run_tool(cls.DESCRIPTOR.full_name, path, "--binary", "--compact")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json_format.Parse(out, cls()), want)

    def test_saved_models(self):
        from tensorflow.core.protobuf import saved_model_pb2

        paths = sorted(glob.glob(os.path.join(TESTDATA, "*", "*", "saved_model.pb")))
        self.assertGreater(len(paths), 5)
        for path in paths:
            with self.subTest(path=path):
                self.check_binary(saved_model_pb2.SavedModel, path)

    def test_frozen_graph(self):
        from tensorflow.core.framework import graph_pb2

        self.check_binary(graph_pb2.GraphDef, os.path.join(SHARED, "models", "mtcnn", "1", "mtcnn.pb"))


class ServingLayouts(unittest.TestCase):
    def test_get_model_status_rest_layout(self):
        from tensorflow_serving.apis import get_model_status_pb2

        r = get_model_status_pb2.GetModelStatusResponse()
        r.model_version_status.add(version=123, state=get_model_status_pb2.ModelVersionStatus.AVAILABLE).status.SetInParent()
        path = text_file(text_format.MessageToString(r))
        # TensorFlow Serving prints it with add_whitespace and default values,
        # and the json_name options keep snake_case names.
        for flags in ((), ("--camel",)):
            rc, out, err = run_tool("tensorflow.serving.GetModelStatusResponse", path, *flags)
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, '{\n'
                                  ' "model_version_status": [\n'
                                  '  {\n'
                                  '   "version": "123",\n'
                                  '   "state": "AVAILABLE",\n'
                                  '   "status": {\n'
                                  '    "error_code": "OK",\n'
                                  '    "error_message": ""\n'
                                  '   }\n'
                                  '  }\n'
                                  ' ]\n'
                                  '}\n')
        os.unlink(path)

    def signature_def_map(self):
        from tensorflow.core.protobuf import saved_model_pb2
        from tensorflow_serving.apis import get_model_metadata_pb2

        with open(os.path.join(TESTDATA, "saved_model_half_plus_two_cpu", "00000123", "saved_model.pb"), "rb") as f:
            sm = saved_model_pb2.SavedModel.FromString(f.read())
        m = get_model_metadata_pb2.SignatureDefMap()
        for k, v in sm.meta_graphs[0].signature_def.items():
            m.signature_def[k].CopyFrom(v)
        return m

    def test_signature_def_map_matches_golden(self):
        with open(os.path.join(TESTDATA, "half_plus_two_model_metadata.json")) as f:
            golden = json.load(f)
        path = text_file(text_format.MessageToString(self.signature_def_map()))
        rc, out, err = run_tool("tensorflow.serving.SignatureDefMap", path)
        os.unlink(path)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), golden["metadata"]["signature_def"])

    def test_metadata_response_with_any(self):
        from tensorflow_serving.apis import get_model_metadata_pb2

        r = get_model_metadata_pb2.GetModelMetadataResponse()
        r.model_spec.name = "default"
        r.model_spec.version.value = 123
        r.metadata["signature_def"].Pack(self.signature_def_map())
        path = text_file(r.SerializeToString(), binary=True)
        rc, out, err = run_tool("tensorflow.serving.GetModelMetadataResponse", path, "--binary")
        os.unlink(path)
        self.assertEqual(rc, 0, err)
        back = json_format.Parse(out, get_model_metadata_pb2.GetModelMetadataResponse())
        self.assertEqual(back.model_spec, r.model_spec)
        got = get_model_metadata_pb2.SignatureDefMap()
        self.assertTrue(back.metadata["signature_def"].Unpack(got))
        self.assertEqual(got, self.signature_def_map())
        doc = json.loads(out)
        self.assertEqual(doc["model_spec"], {"name": "default", "signature_name": "", "version": "123"})
        self.assertEqual(doc["metadata"]["signature_def"]["@type"],
                         "type.googleapis.com/tensorflow.serving.SignatureDefMap")


if __name__ == "__main__":
    unittest.main(verbosity=2)
