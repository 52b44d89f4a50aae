"""plinth-cli's offline commands, with no server: `inspect` reports what a
model directory holds (checked against the GraphDef read with Python's
protobuf), and `convert` writes a SavedModel that Python's protobuf parses,
that carries the frozen graph unchanged with the signature plinth derives,
and that plinth serves with outputs identical to the frozen graph's."""
import collections
import os
import shutil
import tempfile
import threading
import unittest

import cv2
import numpy as np

import clilib
import tfs
from clilib import run, run_json
from graphlib import graph, node, placeholder
from tensorflow.core.framework import graph_pb2
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.framework import tensor_shape_pb2
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import predict_pb2


def read_graph(path):
    g = graph_pb2.GraphDef()
    with open(path, "rb") as f:
        g.ParseFromString(f.read())
    return g


class Inspect(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plinth-inspect-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_mtcnn_histogram_matches_the_graph(self):
        doc = run_json("inspect", clilib.MTCNN)
        self.assertEqual([v["version"] for v in doc["versions"]], [1])
        v = doc["versions"][0]
        self.assertEqual(v["format"], "tensorflow_graphdef")
        self.assertTrue(v["loads"], v["load_error"])
        g = read_graph(clilib.MTCNN_PB)
        self.assertEqual(v["nodes"], len(g.node))
        self.assertEqual(v["ops"], dict(collections.Counter(n.op for n in g.node)))
        self.assertEqual(v["unsupported"], {})
        sig = v["signatures"]["serving_default"]
        self.assertEqual(sorted(sig["inputs"]), ["factor", "input", "min_size", "thresholds"])
        self.assertEqual(sig["inputs"]["input"]["shape"], [-1, -1, 3])
        self.assertIsNone(sig["inputs"]["min_size"]["shape"])
        self.assertEqual(sorted(sig["outputs"]), ["box", "landmarks", "prob"])

    def test_text_report(self):
        code, out, err = run("inspect", clilib.MTCNN)
        self.assertEqual(code, 0, err)
        self.assertIn("1 version (1)", out)
        self.assertIn("frozen GraphDef (tensorflow_graphdef)", out)
        self.assertIn("loads       yes", out)
        self.assertIn("signature 'serving_default'", out)
        self.assertIn("unsupported none", out)

    def test_versions_keep_their_directory_names(self):
        doc = run_json("inspect", tfs.testdata("saved_model_half_plus_two_2_versions"))
        names = sorted(os.listdir(tfs.testdata("saved_model_half_plus_two_2_versions")))
        want = sorted(int(n) for n in names if n.isdigit())
        self.assertEqual([v["version"] for v in doc["versions"]], want)
        for v in doc["versions"]:
            self.assertEqual(v["format"], "tensorflow_savedmodel")
            self.assertTrue(v["loads"], v["load_error"])
            self.assertIn("serving_default", v["signatures"])

    def test_every_zoo_model_is_fully_supported(self):
        zoo = os.path.join(os.environ["PLINTH_SHARED"], "zoo")
        models = sorted(d for d in os.listdir(zoo) if os.path.isdir(os.path.join(zoo, d)))
        self.assertEqual(len(models), 20)
        for name in models:
            doc = run_json("inspect", os.path.join(zoo, name))
            self.assertTrue(doc["versions"], name)
            for v in doc["versions"]:
                self.assertEqual(v["unsupported"], {}, name)
                if name == "tfrust_regression_tf1":  # tagged {serve, train}: loads only with both tags, as in TFS
                    self.assertIn("matching supplied tags: { serve }", v["load_error"])
                    self.assertEqual(v["meta_graphs"], [["train", "serve"]])
                    tagged = run_json("inspect", os.path.join(zoo, name), "--tags", "serve,train")["versions"][0]
                    self.assertTrue(tagged["loads"], tagged["load_error"])
                    self.assertTrue(tagged["signatures"], name)
                    continue
                self.assertTrue(v["loads"], "%s: %s" % (name, v["load_error"]))
                self.assertTrue(v["signatures"], name)

    def test_unsupported_ops_are_listed_with_their_nodes(self):
        g = graph([placeholder("x", np.float32), node("a", "NoSuchOp", ["x"]), node("b", "NoSuchOp", ["a"]),
                   node("c", "Relu", ["b"], T=np.float32), node("d", "my_fn", ["c"])])
        fn = g.library.function.add()
        fn.signature.name = "my_fn"
        fn.node_def.add(name="inner", op="AlsoMissing")
        fn.node_def.add(name="fine", op="Identity")
        d = os.path.join(self.tmp, "m", "3")
        os.makedirs(d)
        with open(os.path.join(d, "model.pb"), "wb") as f:
            f.write(g.SerializeToString())
        doc = run_json("inspect", os.path.join(self.tmp, "m"))
        v = doc["versions"][0]
        self.assertEqual(v["version"], 3)
        self.assertFalse(v["loads"])
        self.assertIn("NoSuchOp", v["load_error"])
        self.assertEqual(v["unsupported"], {"NoSuchOp": ["a", "b"], "AlsoMissing": ["my_fn/inner"]})
        self.assertEqual(v["ops"], {"NoSuchOp": 2, "Placeholder": 1, "Relu": 1, "my_fn": 1, "AlsoMissing": 1,
                                    "Identity": 1})
        self.assertEqual(v["nodes"], 7)
        code, out, _ = run("inspect", os.path.join(self.tmp, "m"))
        self.assertEqual(code, 0)
        self.assertIn("NoSuchOp (2 nodes): a, b", out)
        self.assertIn("AlsoMissing (1 node): my_fn/inner", out)

    def test_errors(self):
        code, out, err = run("inspect", os.path.join(self.tmp, "nothing"))
        self.assertEqual(code, 1)
        self.assertEqual(err.strip(), "plinth-cli: %s does not exist" % os.path.join(self.tmp, "nothing"))
        os.makedirs(os.path.join(self.tmp, "empty", "1"))
        code, out, err = run("inspect", os.path.join(self.tmp, "empty"))
        self.assertEqual(code, 1)
        self.assertIn("holds no saved_model.pb", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        bad = os.path.join(self.tmp, "bad.pb")
        with open(bad, "wb") as f:
            f.write(b"\xff\xff\xff\xff not a graph")
        code, out, err = run("inspect", bad)
        self.assertEqual(code, 1)
        self.assertIn("is not a binary GraphDef", err)


class Convert(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plinth-convert-")
        cls.out = os.path.join(cls.tmp, "mtcnn_saved")
        code, out, err = run("convert", clilib.MTCNN_PB, cls.out)
        assert code == 0, err
        cls.stdout = out

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def saved_model(self):
        sm = saved_model_pb2.SavedModel()
        with open(os.path.join(self.out, "1", "saved_model.pb"), "rb") as f:
            sm.ParseFromString(f.read())
        return sm

    def test_layout_and_protobuf(self):
        # TensorFlow's SavedModelBuilder creates variables/ even for a graph with no variables (its Saver then
        # writes nothing into it), and assets/ only for assets.
        self.assertEqual(sorted(os.listdir(self.out)), ["1"])
        self.assertEqual(sorted(os.listdir(os.path.join(self.out, "1"))), ["saved_model.pb", "variables"])
        self.assertEqual(os.listdir(os.path.join(self.out, "1", "variables")), [])
        self.assertIn("wrote %s/1/saved_model.pb" % self.out, self.stdout)
        sm = self.saved_model()
        self.assertEqual(sm.saved_model_schema_version, 1)
        self.assertEqual(len(sm.meta_graphs), 1)
        mg = sm.meta_graphs[0]
        self.assertEqual(list(mg.meta_info_def.tags), ["serve"])
        self.assertEqual(mg.graph_def.SerializeToString(), read_graph(clilib.MTCNN_PB).SerializeToString())
        self.assertEqual(list(mg.signature_def), ["serving_default"])
        self.assertFalse(mg.HasField("saver_def"))

    def test_what_tensorflow_serving_reads(self):
        """The steps of TensorFlow's LoadSavedModel (tensorflow/cc/saved_model/reader.cc and loader.cc) and of
        TensorFlow Serving's Predict, replayed on the written file."""
        sm = self.saved_model()
        # ReadSavedModel, FindMetaGraphDef: one meta graph whose tag set is exactly {"serve"}.
        self.assertEqual(sm.saved_model_schema_version, 1)
        found = [mg for mg in sm.meta_graphs if set(mg.meta_info_def.tags) == {"serve"}]
        self.assertEqual(len(found), 1)
        mg = found[0]
        self.assertFalse(mg.HasField("object_graph_def"))  # a TF1 SavedModel: the graph goes into a session
        # ValidateSavedTensors: each "value" tensor has a fully defined shape, and no Const lacks one.
        for n in mg.graph_def.node:
            if "value" in n.attr and n.attr["value"].HasField("tensor"):
                shape = n.attr["value"].tensor.tensor_shape
                self.assertFalse(shape.unknown_rank, n.name)
                self.assertTrue(all(d.size >= 0 for d in shape.dim), n.name)
            else:
                self.assertNotEqual(n.op, "Const", n.name)
        # RunRestore: no saver_def and no variables/variables.index, so nothing is restored.
        self.assertFalse(mg.HasField("saver_def"))
        self.assertFalse(os.path.exists(os.path.join(self.out, "1", "variables", "variables.index")))
        # GetInitOp, GetAssetFileDefs: no init op (signature or collection) and no assets.
        self.assertNotIn("__saved_model_init_op", mg.signature_def)
        self.assertEqual(len(mg.collection_def), 0)
        self.assertEqual(len(mg.asset_file_def), 0)
        # stripped_default_attrs unset: the loader adds no default attributes beyond what Session::Create does.
        self.assertFalse(mg.meta_info_def.stripped_default_attrs)

        # Predict: serving_default with the predict method, and each TensorInfo as build_tensor_info gives it
        # after the graph is imported: the tensor's name and dtype, and for a Placeholder its shape attribute
        # (which a graph older than producer 22 reads as unknown when it has no dimensions).
        sig = mg.signature_def["serving_default"]
        self.assertEqual(sig.method_name, "tensorflow/serving/predict")
        nodes = {n.name: n for n in mg.graph_def.node}
        self.assertEqual(sorted(sig.inputs), sorted(n.name for n in mg.graph_def.node if n.op == "Placeholder"))
        self.assertEqual(sorted(sig.outputs), ["box", "landmarks", "prob"])
        producer = mg.graph_def.versions.producer
        for alias, info in list(sig.inputs.items()) + list(sig.outputs.items()):
            n = nodes[alias]
            self.assertEqual(info.WhichOneof("encoding"), "name")
            self.assertEqual(info.name, alias + ":0")
            self.assertEqual(info.dtype, n.attr["dtype" if n.op == "Placeholder" else "T"].type, alias)
        unknown = tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
        for alias, info in sig.inputs.items():
            shape = nodes[alias].attr["shape"].shape
            self.assertEqual(info.tensor_shape, unknown if producer <= 21 and not shape.dim else shape, alias)
        self.assertEqual(sig.inputs["input"].tensor_shape,
                         tensor_shape_pb2.TensorShapeProto(dim=[{"size": -1}, {"size": -1}, {"size": 3}]))
        self.assertEqual(sig.inputs["min_size"].tensor_shape, unknown)

    def test_signature_is_the_one_plinth_derives(self):
        with tfs.Server(model_name="mtcnn", model_path=clilib.MTCNN) as s:
            req = get_model_metadata_pb2.GetModelMetadataRequest()
            req.model_spec.name = "mtcnn"
            req.metadata_field.append("signature_def")
            res = s.predict_stub().GetModelMetadata(req, timeout=10)
        sigs = get_model_metadata_pb2.SignatureDefMap()
        res.metadata["signature_def"].Unpack(sigs)
        self.assertEqual(self.saved_model().meta_graphs[0].signature_def["serving_default"],
                         sigs.signature_def["serving_default"])

    def test_plinth_serves_it_with_identical_outputs(self):
        config = os.path.join(self.tmp, "two.config")
        with open(config, "w") as f:
            f.write('model_config_list { config { name: "frozen" base_path: "%s" model_platform: "tensorflow" }\n'
                    '  config { name: "converted" base_path: "%s" model_platform: "tensorflow" } }\n'
                    % (clilib.MTCNN, self.out))
        img = cv2.imread(clilib.TEST_IMAGE).astype(np.float32)
        outs, sigs = {}, {}
        with tfs.Server(model_config_file=config) as s:
            for name in ("frozen", "converted"):
                meta_req = get_model_metadata_pb2.GetModelMetadataRequest()
                meta_req.model_spec.name = name
                meta_req.metadata_field.append("signature_def")
                meta = s.predict_stub().GetModelMetadata(meta_req, timeout=10)
                self.assertEqual((meta.model_spec.name, meta.model_spec.version.value), (name, 1))
                sigs[name] = get_model_metadata_pb2.SignatureDefMap()
                meta.metadata["signature_def"].Unpack(sigs[name])
                req = predict_pb2.PredictRequest()
                req.model_spec.name = name
                for key, value in (("input", img), ("min_size", np.float32(40)),
                                   ("thresholds", np.array([0.6, 0.7, 0.7], np.float32)),
                                   ("factor", np.float32(0.709))):
                    t = req.inputs[key]
                    t.dtype = 1
                    for d in np.shape(value):
                        t.tensor_shape.dim.add().size = d
                    t.tensor_content = np.ascontiguousarray(value, np.float32).tobytes()
                res = s.predict_stub().Predict(req, timeout=60)
                self.assertEqual(res.model_spec.name, name)
                outs[name] = {k: v.SerializeToString() for k, v in res.outputs.items()}
        self.assertEqual(sorted(outs["converted"]), ["box", "landmarks", "prob"])
        self.assertEqual(outs["converted"], outs["frozen"])
        self.assertEqual(list(sigs["converted"].signature_def), ["serving_default"])
        self.assertEqual(sigs["converted"], sigs["frozen"])
        prob = tensor_pb2.TensorProto.FromString(outs["converted"]["prob"])
        self.assertEqual([d.size for d in prob.tensor_shape.dim], [6])  # the six faces of the test picture

    def test_refuses_to_overwrite_and_force_replaces(self):
        code, out, err = run("convert", clilib.MTCNN_PB, self.out)
        self.assertEqual(code, 1)
        self.assertIn("already exists (--force replaces it)", err)
        other = os.path.join(self.tmp, "other")
        code, out, err = run("convert", clilib.MTCNN_PB, other, "--version", "7")
        self.assertEqual(code, 0, err)
        before = os.stat(os.path.join(other, "7", "saved_model.pb")).st_ino
        # A server polling the directory meanwhile always finds version 7 whole: the old and the new
        # directories are swapped in one rename.
        pb, missing, done = os.path.join(other, "7", "saved_model.pb"), [], threading.Event()

        def poll():
            while not done.is_set():
                if not os.path.exists(pb):
                    missing.append(1)
        poller = threading.Thread(target=poll)
        poller.start()
        try:
            code, out, err = run("convert", clilib.MTCNN_PB, other, "--version", "7", "--force")
        finally:
            done.set()
            poller.join()
        self.assertEqual(code, 0, err)
        self.assertEqual(missing, [])
        self.assertNotEqual(os.stat(pb).st_ino, before)
        self.assertEqual(sorted(os.listdir(other)), ["7"])
        self.assertEqual(sorted(os.listdir(os.path.join(other, "7"))), ["saved_model.pb", "variables"])
        # A version directory holding more than convert wrote is not deleted.
        with open(os.path.join(other, "7", "variables", "variables.index"), "wb") as f:
            f.write(b"kept")
        code, out, err = run("convert", clilib.MTCNN_PB, other, "--version", "7", "--force")
        self.assertEqual(code, 1)
        self.assertEqual(err.strip(), "plinth-cli: cannot replace %s: it holds more than a converted frozen graph"
                         % os.path.join(other, "7"))
        self.assertEqual(sorted(os.listdir(os.path.join(other, "7"))), ["saved_model.pb", "variables"])
        self.assertEqual(os.listdir(os.path.join(other, "7", "variables")), ["variables.index"])
        self.assertEqual(sorted(os.listdir(other)), ["7"])  # the half-written version is gone

    def test_refuses_a_saved_model_and_bad_input(self):
        code, out, err = run("convert", os.path.join(self.out, "1"), os.path.join(self.tmp, "again"))
        self.assertEqual(code, 1)
        self.assertIn("is already a SavedModel", err)
        code, out, err = run("convert", clilib.MTCNN, os.path.join(self.tmp, "again"))
        self.assertEqual(code, 1)
        self.assertEqual(err, "plinth-cli: %s is a model base path; convert one version directory: plinth-cli convert "
                         "%s OUTDIR\n" % (clilib.MTCNN, os.path.join(clilib.MTCNN, "1")))
        code, out, err = run("convert", os.path.join(self.tmp, "missing.pb"), os.path.join(self.tmp, "again"))
        self.assertEqual(code, 1)
        self.assertIn("does not exist", err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "again")))
        g = graph([placeholder("x", np.float32), node("y", "NoSuchOp", ["x"])])
        bad = os.path.join(self.tmp, "unsupported.pb")
        with open(bad, "wb") as f:
            f.write(g.SerializeToString())
        code, out, err = run("convert", bad, os.path.join(self.tmp, "again"))
        self.assertEqual(code, 1)
        self.assertIn("Op type not registered 'NoSuchOp'", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_signature_file_signatures_are_all_written(self):
        """A frozen graph with a signature.pbtxt is served with the signatures it names (none need be
        serving_default); the SavedModel carries exactly those, so TensorFlow Serving shows the same ones."""
        frozen = os.path.join(self.tmp, "sidecar", "1")
        os.makedirs(frozen)
        g = graph([placeholder("x", np.float32, (-1, 2)), node("y", "Relu", ["x"], T=np.float32),
                   node("z", "Neg", ["x"], T=np.float32)], producer=27)
        with open(os.path.join(frozen, "g.pb"), "wb") as f:
            f.write(g.SerializeToString())
        with open(os.path.join(frozen, "signature.pbtxt"), "w") as f:
            f.write('signature_def { key: "relu" value { inputs { key: "a" value { name: "x:0" } }\n'
                    '  outputs { key: "b" value { name: "y:0" } } } }\n'
                    'signature_def { key: "both" value { method_name: "tensorflow/serving/predict"\n'
                    '  inputs { key: "in" value { name: "x:0" dtype: DT_FLOAT tensor_shape { dim { size: 4 }'
                    ' dim { size: 2 } } } }\n'
                    '  outputs { key: "relu" value { name: "y:0" } } outputs { key: "neg" value { name: "z:0" } } } }\n')
        out = os.path.join(self.tmp, "sidecar_saved")
        code, stdout, err = run("convert", frozen, out)
        self.assertEqual(code, 0, err)
        self.assertIn("signatures 'both' with 1 input and 2 outputs, 'relu' with 1 input and 1 output", stdout)
        sm = saved_model_pb2.SavedModel()
        with open(os.path.join(out, "1", "saved_model.pb"), "rb") as f:
            sm.ParseFromString(f.read())
        written = sm.meta_graphs[0].signature_def
        self.assertEqual(sorted(written), ["both", "relu"])
        self.assertEqual(written["both"].inputs["in"].tensor_shape,
                         tensor_shape_pb2.TensorShapeProto(dim=[{"size": 4}, {"size": 2}]))
        self.assertEqual(written["relu"].inputs["a"].tensor_shape,  # from the Placeholder, as TF would record
                         tensor_shape_pb2.TensorShapeProto(dim=[{"size": -1}, {"size": 2}]))
        self.assertEqual(written["relu"].method_name, "tensorflow/serving/predict")
        config = os.path.join(self.tmp, "sidecar.config")
        with open(config, "w") as f:
            f.write('model_config_list { config { name: "frozen" base_path: "%s" model_platform: "tensorflow" }\n'
                    '  config { name: "converted" base_path: "%s" model_platform: "tensorflow" } }\n'
                    % (os.path.dirname(frozen), out))
        served = {}
        with tfs.Server(model_config_file=config) as s:
            for name in ("frozen", "converted"):
                req = get_model_metadata_pb2.GetModelMetadataRequest()
                req.model_spec.name = name
                req.metadata_field.append("signature_def")
                res = s.predict_stub().GetModelMetadata(req, timeout=10)
                served[name] = get_model_metadata_pb2.SignatureDefMap()
                res.metadata["signature_def"].Unpack(served[name])
        self.assertEqual(served["converted"], served["frozen"])
        self.assertEqual(dict(served["converted"].signature_def), dict(written))

    def test_refuses_constants_tensorflow_would_refuse(self):
        """TensorFlow's loader (ValidateSavedTensors) rejects a Const without a value or with a partly known
        shape; convert does not write such a SavedModel."""
        no_value = graph([placeholder("x", np.float32), node("c", "Const", [], dtype=np.float32),
                          node("y", "Add", ["x", "c"], T=np.float32)])
        partial = graph([placeholder("x", np.float32), node("c", "Const", [], dtype=np.float32),
                         node("y", "Add", ["x", "c"], T=np.float32)])
        t = partial.node[1].attr["value"].tensor
        t.dtype = 1
        t.tensor_shape.dim.add().size = -1
        for name, g in (("no_value", no_value), ("partial", partial)):
            path = os.path.join(self.tmp, name + ".pb")
            with open(path, "wb") as f:
                f.write(g.SerializeToString())
            outdir = os.path.join(self.tmp, name)
            code, out, err = run("convert", path, outdir)
            self.assertEqual(code, 1, name)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertIn("[[{{node c}}]]", err)
            self.assertFalse(os.path.exists(os.path.join(outdir, "1")), name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
