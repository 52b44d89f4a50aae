"""SavedModel loading through run_signatures: tag-set matching and TensorFlow's
error texts, signatures against the saved_model.pb read by the Python
protobuf library, variables restored from the checkpoint, the init op
(signature, main op, legacy init op), asset paths, TF1 reference variables,
and state kept across calls (saved_model_counter)."""
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np
from graphlib import const, node, placeholder, tool, attr_value
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2, saver_pb2, tensor_bundle_pb2
from test_bundle import build_table, crc32c, mask

SHARED = os.environ.get("PLINTH_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
TESTDATA = os.path.join(SHARED, "models", "tfs-testdata")


class ModelError(Exception):
    pass


def run_signatures(model_dir, calls=(), tags=None, list_signatures=False):
    """calls: [(signature, {alias: array})]; returns (signature list, [{alias: array}] per call)."""
    with tempfile.TemporaryDirectory() as d:
        args = [tool("run_signatures"), model_dir, "--out", d]
        if tags is not None:
            args += ["--tags", tags]
        if list_signatures:
            args.append("--list")
        for i, (sig, inputs) in enumerate(calls):
            args += ["--call", sig]
            for alias, value in inputs.items():
                path = os.path.join(d, "in_%d_%s.npy" % (i, alias))
                np.save(path, np.asarray(value), allow_pickle=False)
                args += ["--input", "%s=%s" % (alias, path)]
        p = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=120)
        if p.returncode != 0:
            lines = [l for l in p.stderr.splitlines() if l.startswith("error:")]
            raise ModelError(lines[-1] if lines else p.stderr)
        lines = [json.loads(l) for l in p.stdout.splitlines()]
        sigs = [l for l in lines if "signature" in l and "call" not in l]
        results = []
        for l in lines:
            if "call" in l:
                results.append({a: np.load(os.path.join(d, "%d_%s.npy" % (l["call"], a))) for a in l["outputs"]})
        return sigs, results


def example(**features):
    """A serialized tf.Example with float features."""
    from tensorflow.core.example import example_pb2
    e = example_pb2.Example()
    for k, v in features.items():
        e.features.feature[k].float_list.value.extend(np.atleast_1d(v).tolist())
    return e.SerializeToString()


class HalfPlusTwo(unittest.TestCase):
    """TF Serving's test models: y = a*x + b with a = 0.5, b = 2 (three: b = 3); y3 = a*x2 + c with c = 3."""

    models = ["saved_model_half_plus_two_cpu/00000123", "saved_model_half_plus_two_2_versions/00000123",
              "saved_model_half_plus_two_2_versions/00000124", "saved_model_half_plus_two_cpu_with_saved_model_config/00000123",
              "saved_model_half_plus_two_cpu_with_empty_saved_model_config/00000123",
              "saved_model_half_plus_two_mlmd/00000123"]
    x = np.array([[1.0], [2.0], [5.0], [-3.5]], dtype=np.float32)

    def test_predict_and_regress_x2(self):
        for rel in self.models + ["../../zoo/tfs_half_plus_two_tf1/00000123"]:
            with self.subTest(model=rel):
                _, (p, r) = run_signatures(os.path.join(TESTDATA, rel), [("serving_default", {"x": self.x}),
                                                                         ("regress_x2_to_y3", {"inputs": self.x})])
                np.testing.assert_array_equal(p["y"], 0.5 * self.x + 2)
                np.testing.assert_array_equal(r["outputs"], 0.5 * self.x + 3)

    def test_tf_example_signatures(self):
        xs = [1.0, 4.0, -2.0]
        examples = np.array([example(x=v) for v in xs])
        _, (y, y2, c) = run_signatures(os.path.join(TESTDATA, self.models[0]),
                                       [("regress_x_to_y", {"inputs": examples}),
                                        ("regress_x_to_y2", {"inputs": examples}),
                                        ("classify_x_to_y", {"inputs": examples})])
        want = 0.5 * np.array(xs, dtype=np.float32).reshape(-1, 1)
        np.testing.assert_array_equal(y["outputs"], want + 2)
        np.testing.assert_array_equal(y2["outputs"], want + 3)
        np.testing.assert_array_equal(c["scores"], want + 2)

    def test_mkl_variant(self):
        """The MKL export adds conv2d layers on zeros to y (so y is unchanged) and re-initialises their kernels with
        RandomUniform in its main op; y3 adds a [1,10,10,1] conv output, so it takes one example at a time."""
        d = os.path.join(TESTDATA, "saved_model_half_plus_two_mkl/00000123")
        x1 = np.array([[3.0]], dtype=np.float32)
        _, (p, r) = run_signatures(d, [("serving_default", {"x": self.x}), ("regress_x2_to_y3", {"inputs": x1})])
        np.testing.assert_array_equal(p["y"], 0.5 * self.x + 2)
        np.testing.assert_array_equal(r["outputs"], np.full((1, 10, 10, 1), 0.5 * 3.0 + 3, np.float32))
        with self.assertRaises(ModelError) as e:  # as in TensorFlow: [1,10,10,1] and [3,1] do not broadcast
            run_signatures(d, [("regress_x2_to_y3", {"inputs": self.x[:3]})])
        self.assertIn("Incompatible shapes", str(e.exception))

    def test_half_plus_three(self):
        _, (p,) = run_signatures(os.path.join(TESTDATA, "saved_model_half_plus_three/00000123"),
                                 [("serving_default", {"x": self.x})])
        np.testing.assert_array_equal(p["y"], 0.5 * self.x + 3)

    def test_matrix(self):
        m = np.arange(-9, 27, dtype=np.float32).reshape(4, 3, 3) / 4
        _, (p,) = run_signatures(os.path.join(TESTDATA, "matrix_half_plus_two/1"), [("serving_default", {"x": m})])
        np.testing.assert_array_equal(p["y"], 0.5 * m + 2)


class TF2Models(unittest.TestCase):
    """TF2 SavedModels: variables restored by the restore function the SaverDef names, signatures calling functions."""

    def test_half_plus_two_tf2(self):
        d = os.path.join(TESTDATA, "saved_model_half_plus_two_tf2_cpu", "00000123")
        x = np.array([1.0, 2.0, 5.0, -3.5], dtype=np.float32)  # declared [1]; TF Serving does not check feeds
        xs = [1.0, 4.0, -2.0]
        examples = np.array([example(x=v) for v in xs])
        sigs, (p, r, c) = run_signatures(d, [("serving_default", {"x": x}), ("regress_x2_to_y3", {"inputs": x}),
                                             ("regress_x_to_y", {"inputs": examples})], list_signatures=True)
        self.assertEqual(sigs[0]["signature"], "__saved_model_init_op")
        np.testing.assert_array_equal(p["y"], 0.5 * x + 2)
        np.testing.assert_array_equal(r["outputs"], 0.5 * x + 3)
        np.testing.assert_array_equal(c["outputs"].reshape(-1), 0.5 * np.array(xs, dtype=np.float32) + 2)

    def test_training_signature_updates_variables(self):
        """tfrust_regression_tf2: `train` takes one SGD step (learning rate 0.5) on mean squared error."""
        d = os.path.join(SHARED, "zoo", "tfrust_regression_tf2", "1")
        from test_bundle import reference_bundle
        ref = reference_bundle(os.path.join(d, "variables", "variables"))
        w = np.float64(ref["w/.ATTRIBUTES/VARIABLE_VALUE"][2][0])
        b = np.float64(ref["b/.ATTRIBUTES/VARIABLE_VALUE"][2][0])
        lr = ref["optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE"][2][0]
        x = np.array([1, 2, 3, 4], dtype=np.float32)
        y = np.array([3, 5, 7, 9], dtype=np.float32)
        calls = [("w", {}), ("b", {})]
        for _ in range(2):
            calls += [("train", {"x": x, "y": y}), ("w", {}), ("b", {})]
        _, out = run_signatures(d, calls)
        self.assertAlmostEqual(float(out[0]["output"][0]), w, places=6)
        self.assertAlmostEqual(float(out[1]["output"][0]), b, places=6)
        for step in range(2):
            err = w * x + b - y
            self.assertAlmostEqual(float(out[2 + 3 * step]["loss"]), np.mean(err ** 2), delta=1e-3 * np.mean(err ** 2))
            w, b = w - lr * np.mean(2 * err * x), b - lr * np.mean(2 * err)
            self.assertAlmostEqual(float(out[3 + 3 * step]["output"][0]), w, delta=1e-4 * max(1, abs(w)))
            self.assertAlmostEqual(float(out[4 + 3 * step]["output"][0]), b, delta=1e-4 * max(1, abs(b)))


class RustRegression(unittest.TestCase):
    def test_regress_with_restored_weights(self):
        """tfrust_regression_tf1 (tags {serve, train}): y_hat = w*x + b, w and b read by the independent reader."""
        d = os.path.join(SHARED, "zoo", "tfrust_regression_tf1", "1")
        from test_bundle import reference_bundle
        ref = reference_bundle(os.path.join(d, "variables", "variables"))
        w, b = np.float32(ref["w"][2][0]), np.float32(ref["b"][2][0])
        x = np.array([0.0, 1.0, 2.5, -4.0], dtype=np.float32)
        _, (out,) = run_signatures(d, [("tensorflow/serving/regress", {"x": x, "y": np.zeros_like(x)})],
                                   tags="serve,train")
        np.testing.assert_allclose(out["out"], w * x + b, rtol=1e-6)


class Counter(unittest.TestCase):
    def test_state_persists_across_calls(self):
        d = os.path.join(TESTDATA, "saved_model_counter", "00000123")
        calls = [("get_counter", {}), ("incr_counter", {}), ("incr_counter", {}),
                 ("incr_counter_by", {"delta": np.float32(2.5)}), ("get_counter", {}), ("reset_counter", {}),
                 ("get_counter", {}), ("incr_counter", {})]
        _, out = run_signatures(d, calls)
        self.assertEqual([float(o["output"]) for o in out], [0, 1, 2, 4.5, 4.5, 0, 0, 1])


class TagsAndErrors(unittest.TestCase):
    def test_exact_tag_set(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "1")
            os.makedirs(d)
            sm, mg = tf1_model(d)
            del mg.meta_info_def.tags[:]
            mg.meta_info_def.tags.extend(["train", "serve"])
            gpu = sm.meta_graphs.add()
            gpu.CopyFrom(mg)
            del gpu.meta_info_def.tags[:]
            gpu.meta_info_def.tags.extend(["serve", "gpu"])
            gpu.signature_def["gpu_only"].method_name = "tensorflow/serving/predict"
            save(d, sm)
            with self.assertRaises(ModelError) as e:
                run_signatures(d, list_signatures=True)
            self.assertEqual(str(e.exception),
                             "error: NOT_FOUND: Could not find meta graph def matching supplied tags: { serve }. To "
                             "inspect available tag-sets in the SavedModel, please use the SavedModel CLI: "
                             "`saved_model_cli`")
            with self.assertRaises(ModelError) as e:
                run_signatures(d, tags="train", list_signatures=True)
            self.assertIn("{ train }", str(e.exception))
            with self.assertRaises(ModelError) as e:
                run_signatures(d, tags="serve,train,gpu", list_signatures=True)
            self.assertIn("{ gpu serve train }", str(e.exception))
            for tags in ("serve,train", "train,serve", "serve,train,serve"):
                sigs, _ = run_signatures(d, tags=tags, list_signatures=True)
                self.assertEqual([s["signature"] for s in sigs], ["lookup", "read"])
            sigs, _ = run_signatures(d, tags="gpu,serve", list_signatures=True)
            self.assertEqual([s["signature"] for s in sigs], ["gpu_only", "lookup", "read"])

    def test_not_a_saved_model(self):
        d = os.path.join(TESTDATA, "bad_half_plus_two", "00000123")
        with self.assertRaises(ModelError) as e:
            run_signatures(d, list_signatures=True)
        self.assertTrue(str(e.exception).startswith("error: NOT_FOUND: Could not find SavedModel .pb or .pbtxt at "
                                                    "supplied export directory path: " + d), str(e.exception))


def proto_signatures(model_dir, tags=("serve",)):
    sm = saved_model_pb2.SavedModel()
    with open(os.path.join(model_dir, "saved_model.pb"), "rb") as f:
        sm.ParseFromString(f.read())
    mg = next(m for m in sm.meta_graphs if set(m.meta_info_def.tags) == set(tags))
    return mg.signature_def


class Signatures(unittest.TestCase):
    def test_signatures_match_the_proto(self):
        models = ["saved_model_half_plus_two_cpu/00000123", "saved_model_counter/00000123",
                  "saved_model_half_plus_three/00000123", "matrix_half_plus_two/1"]
        for rel in models:
            with self.subTest(model=rel):
                d = os.path.join(TESTDATA, rel)
                sigs, _ = run_signatures(d, list_signatures=True)
                ref = proto_signatures(d)
                self.assertEqual([s["signature"] for s in sigs], sorted(ref))
                for s in sigs:
                    r = ref[s["signature"]]
                    self.assertEqual(s["method"], r.method_name)
                    for kind in ("inputs", "outputs"):
                        mine, theirs = s[kind], getattr(r, kind)
                        self.assertEqual(sorted(mine), sorted(theirs))
                        self.assertEqual(list(mine), sorted(mine))  # aliases come sorted
                        for alias, info in mine.items():
                            t = theirs[alias]
                            self.assertEqual(info["name"], t.name)
                            dt = t.dtype - 100 if t.dtype > 100 else t.dtype  # reference dtypes fold to values
                            self.assertEqual(info["dtype"], types_pb2.DataType.Name(dt))
                            # An absent TensorShapeProto says nothing: unknown, like unknown_rank.
                            known = t.HasField("tensor_shape") and not t.tensor_shape.unknown_rank
                            want = [x.size for x in t.tensor_shape.dim] if known else None
                            self.assertEqual(info["shape"], want)


# ---- SavedModels written here ----

def write_checkpoint(prefix, tensors):
    """A tensor bundle holding float32 tensors {name: array}."""
    data, items = bytearray(), [(b"", tensor_bundle_pb2.BundleHeaderProto(num_shards=1).SerializeToString())]
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name], dtype="<f4")
        e = tensor_bundle_pb2.BundleEntryProto(dtype=types_pb2.DT_FLOAT, offset=len(data), size=arr.nbytes,
                                               crc32c=mask(crc32c(arr.tobytes())))
        for n in arr.shape:
            e.shape.dim.add().size = n
        data += arr.tobytes()
        items.append((name.encode(), e.SerializeToString()))
    with open(prefix + ".index", "wb") as f:
        f.write(build_table(items, compress=False))
    with open(prefix + ".data-00000-of-00001", "wb") as f:
        f.write(bytes(data))


def tensor_info(name, dtype):
    return meta_graph_pb2.TensorInfo(name=name, dtype=dtype_enum_of(dtype))


def dtype_enum_of(dtype):
    from graphlib import dtype_enum
    return dtype_enum(dtype)


def signature(inputs, outputs, method="tensorflow/serving/predict"):
    s = meta_graph_pb2.SignatureDef(method_name=method)
    for alias, (name, dt) in inputs.items():
        s.inputs[alias].CopyFrom(tensor_info(name, dt))
    for alias, (name, dt) in outputs.items():
        s.outputs[alias].CopyFrom(tensor_info(name, dt))
    return s


def variable(name, dtype=np.float32, dims=(3,), shared_name=""):
    from tensorflow.core.framework import attr_value_pb2
    shp = attr_value_pb2.AttrValue()
    shp.shape.SetInParent()
    for d in dims:
        shp.shape.dim.add().size = d
    return node(name, "VariableV2", dtype=dtype, shape=shp, container="", shared_name=shared_name)


def tf1_model(d, init_collection="legacy_init_op", extra_nodes=(), vocab=b"alpha\nbeta\ngamma\n", restore=True,
              assets_in_collection=True):
    """A TF1-style SavedModel: a reference variable v restored from the checkpoint, an uninitialised w,
    a vocabulary table filled from an asset by the init op, and a node already called v/_handle."""
    nodes = [
        variable("v"), variable("w", dims=()), const("v/_handle", np.float32(42)),
        node("v/read", "Identity", ["v"], T=np.float32, _class=["loc:@v"]),
        node("w_ready", "IsVariableInitialized", ["w"], dtype=np.float32),
        node("after_w", "Identity", ["v/_handle", "^w"], T=np.float32),
        const("save/Const", np.array("model", dtype=object)),
        const("save/RestoreV2/tensor_names", np.array(["v"], dtype=object)),
        const("save/RestoreV2/shape_and_slices", np.array([""], dtype=object)),
        node("save/RestoreV2", "RestoreV2",
             ["save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"], dtypes=[np.float32]),
        node("save/Assign", "Assign", ["v", "save/RestoreV2"], T=np.float32, validate_shape=True),
        node("save/restore_all", "NoOp", ["^save/Assign"]),
        node("table", "HashTableV2", key_dtype=str, value_dtype=np.int64, shared_name="", container=""),
        const("asset_path", np.array("not fed", dtype=object)),
        node("table_init", "InitializeTableFromTextFileV2", ["table", "asset_path"], key_index=-2, value_index=-1,
             vocab_size=-1, delimiter="\t"),
        node("init_all", "NoOp", ["^table_init"]),
        placeholder("words", str),
        const("unknown", np.int64(-1)),
        node("ids", "LookupTableFindV2", ["table", "words", "unknown"], Tin=str, Tout=np.int64),
    ] + list(extra_nodes)
    mg = meta_graph_pb2.MetaGraphDef()
    mg.meta_info_def.tags.append("serve")
    mg.graph_def.node.extend(nodes)
    mg.saver_def.CopyFrom(saver_pb2.SaverDef(filename_tensor_name="save/Const:0", restore_op_name="save/restore_all",
                                             save_tensor_name="save/Identity:0", version=saver_pb2.SaverDef.V2))
    if init_collection:
        mg.collection_def[init_collection].node_list.value.append("init_all")
    a = meta_graph_pb2.AssetFileDef(filename="vocab.txt")
    a.tensor_info.name = "asset_path:0"
    if assets_in_collection:  # TF1 style; TF2 lists them in the MetaGraphDef
        mg.collection_def["saved_model_assets"].any_list.value.add().Pack(a)
    else:
        mg.asset_file_def.append(a)
    mg.signature_def["lookup"].CopyFrom(signature({"words": ("words:0", str)}, {"ids": ("ids:0", np.int64)}))
    mg.signature_def["read"].CopyFrom(signature({}, {"v": ("v:0", np.float32), "v_read": ("v/read:0", np.float32),
                                                     "handle": ("v/_handle:0", np.float32),
                                                     "w_ready": ("w_ready:0", np.bool_),
                                                     "after_w": ("after_w:0", np.float32)}))
    sm = saved_model_pb2.SavedModel(saved_model_schema_version=1)
    sm.meta_graphs.append(mg)
    os.makedirs(os.path.join(d, "assets"))
    with open(os.path.join(d, "assets", "vocab.txt"), "wb") as f:
        f.write(vocab)
    if restore:
        os.makedirs(os.path.join(d, "variables"))
        write_checkpoint(os.path.join(d, "variables", "variables"), {"v": np.array([1.5, -2, 8], np.float32)})
    return sm, sm.meta_graphs[0]  # append() copied mg: edits must go to the stored one


def save(d, sm):
    with open(os.path.join(d, "saved_model.pb"), "wb") as f:
        f.write(sm.SerializeToString())


class WrittenModels(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = os.path.join(self.tmp.name, "1")
        os.makedirs(self.d)

    def tearDown(self):
        self.tmp.cleanup()

    def test_restore_assets_and_reference_variables(self):
        sm, _ = tf1_model(self.d)
        save(self.d, sm)
        words = np.array([b"gamma", b"delta", b"alpha"])
        _, (read, lookup) = run_signatures(self.d, [("read", {}), ("lookup", {"words": words})])
        np.testing.assert_array_equal(read["v"], [1.5, -2, 8])
        np.testing.assert_array_equal(read["v_read"], [1.5, -2, 8])
        self.assertEqual(read["handle"], 42)            # the existing node keeps its name
        self.assertFalse(read["w_ready"])               # w was never assigned
        self.assertEqual(read["after_w"], 42)           # a control edge on w does not read it
        np.testing.assert_array_equal(lookup["ids"], [2, -1, 0])

    def test_init_op_sources(self):
        for collection in ("saved_model_main_op", "legacy_init_op"):
            with self.subTest(collection=collection):
                d = os.path.join(self.d, collection)
                os.makedirs(d)
                sm, _ = tf1_model(d, init_collection=collection)
                save(d, sm)
                _, (out,) = run_signatures(d, [("lookup", {"words": np.array([b"beta"])})])
                self.assertEqual(out["ids"].tolist(), [1])
        # The __saved_model_init_op signature wins over the collections.
        d = os.path.join(self.d, "sig")
        os.makedirs(d)
        sm, mg = tf1_model(d, init_collection="legacy_init_op", extra_nodes=[node("nothing", "NoOp")])
        mg.collection_def["legacy_init_op"].node_list.value[0] = "nothing"
        mg.signature_def["__saved_model_init_op"].outputs["__saved_model_init_op"].name = "init_all"
        save(d, sm)
        sigs, (out,) = run_signatures(d, [("lookup", {"words": np.array([b"gamma"])})], list_signatures=True)
        self.assertEqual(out["ids"].tolist(), [2])
        self.assertIn("__saved_model_init_op", [s["signature"] for s in sigs])

    def test_no_init_op_leaves_the_table_empty(self):
        sm, _ = tf1_model(self.d, init_collection=None)
        save(self.d, sm)
        with self.assertRaises(ModelError) as e:
            run_signatures(self.d, [("lookup", {"words": np.array([b"beta"])})])
        self.assertIn("Table not initialized.", str(e.exception))

    def test_two_main_ops(self):
        sm, mg = tf1_model(self.d, init_collection="saved_model_main_op")
        mg.collection_def["saved_model_main_op"].node_list.value.append("init_all")
        save(self.d, sm)
        with self.assertRaises(ModelError) as e:
            run_signatures(self.d, list_signatures=True)
        self.assertIn("FAILED_PRECONDITION: Expected exactly one main op in : " + self.d, str(e.exception))

    def test_without_variables_restore_is_skipped(self):
        sm, _ = tf1_model(self.d, restore=False)
        save(self.d, sm)
        _, (lookup,) = run_signatures(self.d, [("lookup", {"words": np.array([b"alpha"])})])
        self.assertEqual(lookup["ids"].tolist(), [0])
        with self.assertRaises(ModelError) as e:
            run_signatures(self.d, [("read", {})])
        self.assertIn("Attempting to use uninitialized value v", str(e.exception))

    def test_restore_failures(self):
        sm, mg = tf1_model(self.d)
        for n in mg.graph_def.node:
            if n.name == "save/RestoreV2/tensor_names":
                n.attr["value"].CopyFrom(attr_value(np.array(["missing"], dtype=object)))
        save(self.d, sm)
        with self.assertRaises(ModelError) as e:
            run_signatures(self.d, list_signatures=True)
        self.assertIn("NOT_FOUND: restoring variables: Key missing not found in checkpoint", str(e.exception))

    def test_text_format_and_asset_file_defs(self):
        from google.protobuf import text_format
        sm, _ = tf1_model(self.d, assets_in_collection=False)
        with open(os.path.join(self.d, "saved_model.pbtxt"), "w") as f:
            f.write(text_format.MessageToString(sm))
        _, (read, lookup) = run_signatures(self.d, [("read", {}), ("lookup", {"words": np.array([b"beta"])})])
        np.testing.assert_array_equal(read["v"], [1.5, -2, 8])
        self.assertEqual(lookup["ids"].tolist(), [1])
        # The binary file wins when both exist.
        sm.meta_graphs[0].signature_def["only_in_binary"].method_name = "tensorflow/serving/predict"
        save(self.d, sm)
        sigs, _ = run_signatures(self.d, list_signatures=True)
        self.assertIn("only_in_binary", [s["signature"] for s in sigs])
        os.unlink(os.path.join(self.d, "saved_model.pb"))
        with open(os.path.join(self.d, "saved_model.pbtxt"), "w") as f:
            f.write("meta_graphs { bogus_field: 1 }")
        with self.assertRaises(ModelError) as e:
            run_signatures(self.d, list_signatures=True)
        self.assertIn("INVALID_ARGUMENT", str(e.exception))
        self.assertIn("saved_model.pbtxt", str(e.exception))

    def test_corrupt_saved_model_pb(self):
        with open(os.path.join(self.d, "saved_model.pb"), "wb") as f:
            f.write(b"\xff\xff\xff\xff garbage")
        with self.assertRaises(ModelError) as e:
            run_signatures(self.d, list_signatures=True)
        self.assertIn("DATA_LOSS", str(e.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
