"""The project's .proto files describe the same wire format as TensorFlow's:
the generated Python modules parse models that TensorFlow wrote."""
import os
import sys
import unittest

SHARED = os.environ.get("PLINTH_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))


def read(*parts):
    with open(os.path.join(SHARED, *parts), "rb") as f:
        return f.read()


class FrameworkProtos(unittest.TestCase):
    def test_frozen_graph_parses_and_reserializes(self):
        from tensorflow.core.framework import graph_pb2, types_pb2

        data = read("models", "mtcnn", "1", "mtcnn.pb")
        g = graph_pb2.GraphDef()
        g.ParseFromString(data)
        self.assertGreater(len(g.node), 100)
        # Nothing of the file may land in unknown fields: every field it uses is declared.
        self.assertEqual(g.SerializeToString(), data)
        ops = {n.op for n in g.node}
        self.assertIn("Conv2D", ops)
        consts = [n for n in g.node if n.op == "Const"]
        self.assertTrue(consts)
        t = consts[0].attr["value"].tensor
        self.assertEqual(consts[0].attr["dtype"].type, t.dtype)
        self.assertIn(t.dtype, (types_pb2.DT_FLOAT, types_pb2.DT_INT32, types_pb2.DT_STRING, types_pb2.DT_INT64))

    def test_unknown_fields_absent_in_frozen_graph(self):
        from tensorflow.core.framework import graph_pb2

        g = graph_pb2.GraphDef()
        g.ParseFromString(read("models", "mtcnn", "1", "mtcnn.pb"))
        stack = [g]
        while stack:
            m = stack.pop()
            self.assertFalse(m.UnknownFields() if hasattr(m, "UnknownFields") else [], type(m).__name__)
            for fd, v in m.ListFields():
                if fd.type != fd.TYPE_MESSAGE:
                    continue
                if fd.label == fd.LABEL_REPEATED:
                    if fd.message_type.GetOptions().map_entry:
                        if fd.message_type.fields_by_name["value"].type == fd.TYPE_MESSAGE:
                            stack.extend(v.values())
                    else:
                        stack.extend(v)
                else:
                    stack.append(v)


if __name__ == "__main__":
    unittest.main(verbosity=2)
