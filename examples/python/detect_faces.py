#!/usr/bin/env python3
"""Face detection with an MTCNN model served by TensorFlow Serving — or by
plinth, which answers the same gRPC API — written the way a TensorFlow
Serving client is written: a PredictionService stub, a PredictRequest with
TensorProtos, cv2 to read the picture and draw the boxes.

    python3 detect_faces.py --server localhost:8500 --model mtcnn picture.jpg -o faces.jpg

Needs grpcio, numpy, opencv-python and the tensorflow_serving.apis modules
(`pip install tensorflow-serving-api`, or plinth's generated build/python on
PYTHONPATH). TensorFlow itself is not needed: make_tensor_proto and
make_ndarray below do what tf.make_tensor_proto / tf.make_ndarray do for
float32 arrays.
"""
import argparse
import json
import sys

import cv2
import grpc
import numpy as np
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc


def make_tensor_proto(values):
    """tf.make_tensor_proto(values, dtype=tf.float32): shape plus the raw bytes in tensor_content."""
    array = np.asarray(values, dtype=np.float32)
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in array.shape])
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape, tensor_content=array.tobytes())


def make_ndarray(proto):
    """tf.make_ndarray for a DT_FLOAT TensorProto, whichever field the server filled."""
    shape = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_content:
        values = np.frombuffer(proto.tensor_content, dtype=np.float32)
    else:
        values = np.array(proto.float_val, dtype=np.float32)
        if values.size == 1 and int(np.prod(shape)) > 1:  # one value fills the whole shape
            values = np.full(int(np.prod(shape)), values[0], np.float32)
    return values.reshape(shape)


def detect(stub, model, image, min_size=40.0, thresholds=(0.6, 0.7, 0.7), factor=0.709, timeout=30.0):
    """Sends the BGR picture to the model; returns boxes [N,4] (y1,x1,y2,x2), probs [N], landmarks [N,10]."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = "serving_default"
    request.inputs["input"].CopyFrom(make_tensor_proto(image.astype(np.float32)))
    request.inputs["min_size"].CopyFrom(make_tensor_proto(min_size))
    request.inputs["thresholds"].CopyFrom(make_tensor_proto(thresholds))
    request.inputs["factor"].CopyFrom(make_tensor_proto(factor))
    response = stub.Predict(request, timeout=timeout)
    return (make_ndarray(response.outputs["box"]).reshape(-1, 4), make_ndarray(response.outputs["prob"]).reshape(-1),
            make_ndarray(response.outputs["landmarks"]).reshape(-1, 10))


def draw(image, boxes, probs, landmarks):
    for (y1, x1, y2, x2), prob, marks in zip(boxes, probs, landmarks):
        cv2.rectangle(image, (int(x1), int(y1)), (int(x2), int(y2)), (0, 255, 0), 2)
        cv2.putText(image, "%.3f" % prob, (int(x1), int(y1) - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 0), 1)
        for y, x in zip(marks[:5], marks[5:]):
            cv2.circle(image, (int(x), int(y)), 2, (0, 0, 255), -1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image", help="a picture cv2 can read")
    parser.add_argument("--server", default="localhost:8500", help="gRPC address (default localhost:8500)")
    parser.add_argument("--model", default="mtcnn", help="model name (default mtcnn)")
    parser.add_argument("-o", "--output", default="faces.jpg", help="where to write the annotated picture")
    parser.add_argument("--json", action="store_true", help="print {box, prob, landmarks} as JSON")
    args = parser.parse_args()

    image = cv2.imread(args.image)
    if image is None:
        sys.exit("cannot read picture %s" % args.image)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(args.server))
    try:
        boxes, probs, landmarks = detect(stub, args.model, image)
    except grpc.RpcError as e:
        sys.exit("%s: %s" % (e.code().name, e.details()))

    if args.json:
        print(json.dumps({"box": boxes.tolist(), "prob": probs.tolist(), "landmarks": landmarks.tolist()}))
    else:
        for (y1, x1, y2, x2), prob in zip(boxes, probs):
            print("face %.3f at x=%.0f..%.0f y=%.0f..%.0f" % (prob, x1, x2, y1, y2))
    draw(image, boxes, probs, landmarks)
    cv2.imwrite(args.output, image)
    if not args.json:
        print("%d faces; wrote %s" % (len(probs), args.output))


if __name__ == "__main__":
    main()
