"""SavedModels through the real server over gRPC: the counter keeps its
variable across Predict calls (TF1 reference variables, restore, init), a
training-time MetaGraph is served only with --saved_model_tags naming its
exact tag set (the loader tests cover the error for other sets), and a TF2 model's variables are restored by its restore
function."""
import os
import unittest

import grpc
import numpy as np

import tfs
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import predict_pb2


def predict(stub, model, signature, inputs=None):
    r = predict_pb2.PredictRequest()
    r.model_spec.name = model
    r.model_spec.signature_name = signature
    for alias, value in (inputs or {}).items():
        arr = np.asarray(value, dtype=np.float32)
        t = r.inputs[alias]
        t.dtype = types_pb2.DT_FLOAT
        for d in arr.shape:
            t.tensor_shape.dim.add().size = d
        t.float_val.extend(arr.ravel().tolist())
    resp = stub.Predict(r, timeout=30)
    return {k: np.array(v.float_val, dtype=np.float32) for k, v in resp.outputs.items()}


class Counter(unittest.TestCase):
    def test_state_across_requests(self):
        with tfs.Server(model_name="counter", model_path=tfs.testdata("saved_model_counter")) as s:
            stub = s.predict_stub()
            got = [predict(stub, "counter", "get_counter")["output"][0]]
            for _ in range(3):
                got.append(predict(stub, "counter", "incr_counter")["output"][0])
            got.append(predict(stub, "counter", "incr_counter_by", {"delta": 2.5})["output"][0])
            got.append(predict(stub, "counter", "reset_counter")["output"][0])
            got.append(predict(stub, "counter", "get_counter")["output"][0])
            self.assertEqual(got, [0, 1, 2, 3, 5.5, 0, 0])


class Tags(unittest.TestCase):
    model = os.path.join(tfs.shared_dir(), "zoo", "tfrust_regression_tf1")

    def test_exact_tag_set(self):
        with tfs.Server(model_name="rust", model_path=self.model, args=["--saved_model_tags=serve,train"]) as s:
            out = predict(s.predict_stub(), "rust", "tensorflow/serving/regress", {"x": [1.0, 2.0], "y": [0.0, 0.0]})
            self.assertEqual(out["out"].shape, (2,))
            self.assertAlmostEqual(float(out["out"][1] - out["out"][0]), -0.857862234, places=5)  # w, restored


class TF2(unittest.TestCase):
    def test_half_plus_two_tf2(self):
        with tfs.Server(model_name="m", model_path=tfs.testdata("saved_model_half_plus_two_tf2_cpu")) as s:
            out = predict(s.predict_stub(), "m", "serving_default", {"x": [1.0, 2.0, 5.0]})
            np.testing.assert_array_equal(out["y"], np.array([2.5, 3.0, 4.5], dtype=np.float32))


if __name__ == "__main__":
    unittest.main(verbosity=2)
