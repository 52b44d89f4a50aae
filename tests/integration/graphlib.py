"""Build small TensorFlow graphs in Python and run them through plinth's runtime.

    from graphlib import node, const, placeholder, run, shape
    import numpy as np
    y, = run([placeholder("x", np.float32),
              const("two", np.float32(2)),
              node("y", "Mul", ["x", "two"], T=np.float32)],
             feeds={"x": np.arange(3, dtype=np.float32)}, fetches=["y"])

Attr values are inferred from Python values: int, float, bool, str/bytes,
a numpy dtype or scalar type (-> type), lists of ints / floats / types /
strings, shape(...) (-> shape; None or -1 is an unknown dimension,
shape(None) an unknown rank), np.ndarray (-> tensor; numpy scalars count as
Python numbers),
func("name", **attrs) (-> function). run() writes a GraphDef and .npy files to
a temporary directory and hands it to the run_graph tool from $PLINTH_BUILD
(one `run_graph --serve` process serves every run of a test process); an
error raises GraphError carrying the tool's one-line message.
"""
import atexit
import hashlib
import os
import subprocess
import sys
import tempfile

import numpy as np
from tensorflow.core.framework import attr_value_pb2, graph_pb2, node_def_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

_DTYPES = {
    np.dtype(np.float32): types_pb2.DT_FLOAT,
    np.dtype(np.float64): types_pb2.DT_DOUBLE,
    np.dtype(np.float16): types_pb2.DT_HALF,
    np.dtype(np.int32): types_pb2.DT_INT32,
    np.dtype(np.int64): types_pb2.DT_INT64,
    np.dtype(np.int16): types_pb2.DT_INT16,
    np.dtype(np.int8): types_pb2.DT_INT8,
    np.dtype(np.uint8): types_pb2.DT_UINT8,
    np.dtype(np.uint16): types_pb2.DT_UINT16,
    np.dtype(np.uint32): types_pb2.DT_UINT32,
    np.dtype(np.uint64): types_pb2.DT_UINT64,
    np.dtype(np.bool_): types_pb2.DT_BOOL,
    np.dtype(np.complex64): types_pb2.DT_COMPLEX64,
    np.dtype(np.complex128): types_pb2.DT_COMPLEX128,
}


class GraphError(Exception):
    """A graph failed to load or run; str(e) is run_graph's error line."""


class shape:
    """A shape attr: shape(2, None, 3); shape(None) is an unknown rank."""

    def __init__(self, *dims):
        self.unknown_rank = len(dims) == 1 and dims[0] is None
        self.dims = () if self.unknown_rank else tuple(-1 if d is None else int(d) for d in dims)


class func:
    """A function attr: func("name", T=np.float32)."""

    def __init__(self, name, **attrs):
        self.name = name
        self.attrs = attrs


class dtype_attr:
    """Forces a type attr from a TensorFlow DataType number (e.g. DT_RESOURCE = 20)."""

    def __init__(self, number):
        self.number = number


def dtype_enum(dt):
    if isinstance(dt, dtype_attr):
        return dt.number
    if dt is str or dt is bytes or (isinstance(dt, np.dtype) and dt.kind in "SUO"):
        return types_pb2.DT_STRING
    return _DTYPES[np.dtype(dt)]


def _is_type(v):
    if isinstance(v, (np.dtype, dtype_attr)):
        return True
    return isinstance(v, type) and (issubclass(v, np.generic) or v in (str, bytes))


def _shape_proto(s, out):
    out.SetInParent()  # a scalar shape has no fields but must still be present
    if s.unknown_rank:
        out.unknown_rank = True
    for d in s.dims:
        out.dim.add().size = d


def tensor_proto(value, dtype=None):
    """A TensorProto holding `value` (array-like) as dtype (default: its own)."""
    arr = np.asarray(value, dtype=dtype)
    p = tensor_pb2.TensorProto()
    for d in arr.shape:
        p.tensor_shape.dim.add().size = d
    if arr.dtype.kind in "SUO":
        p.dtype = types_pb2.DT_STRING
        for item in arr.reshape(-1):
            p.string_val.append(item.encode() if isinstance(item, str) else bytes(item))
        return p
    p.dtype = dtype_enum(arr.dtype)
    p.tensor_content = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
    return p


def attr_value(v):
    a = attr_value_pb2.AttrValue()
    if isinstance(v, attr_value_pb2.AttrValue):
        a.CopyFrom(v)
    elif isinstance(v, (bool, np.bool_)):
        a.b = bool(v)
    elif isinstance(v, (int, np.integer)):
        a.i = int(v)
    elif isinstance(v, (float, np.floating)):
        a.f = float(v)
    elif isinstance(v, str):
        a.s = v.encode()
    elif isinstance(v, bytes):
        a.s = v
    elif _is_type(v):
        a.type = dtype_enum(v)
    elif isinstance(v, shape):
        _shape_proto(v, a.shape)
    elif isinstance(v, func):
        a.func.name = v.name
        for k, x in v.attrs.items():
            a.func.attr[k].CopyFrom(attr_value(x))
    elif isinstance(v, np.ndarray):
        a.tensor.CopyFrom(tensor_proto(v))
    elif isinstance(v, tensor_pb2.TensorProto):
        a.tensor.CopyFrom(v)
    elif isinstance(v, (list, tuple)):
        a.list.SetInParent()
        for x in v:
            if isinstance(x, (bool, np.bool_)):
                a.list.b.append(bool(x))
            elif isinstance(x, (int, np.integer)):
                a.list.i.append(int(x))
            elif isinstance(x, (float, np.floating)):
                a.list.f.append(float(x))
            elif isinstance(x, str):
                a.list.s.append(x.encode())
            elif isinstance(x, bytes):
                a.list.s.append(x)
            elif _is_type(x):
                a.list.type.append(dtype_enum(x))
            elif isinstance(x, shape):
                _shape_proto(x, a.list.shape.add())
            elif isinstance(x, np.ndarray):
                a.list.tensor.add().CopyFrom(tensor_proto(x))
            else:
                raise TypeError("unsupported list attr element %r" % (x,))
    else:
        raise TypeError("unsupported attr value %r" % (v,))
    return a


def node(name, op, inputs=(), **attrs):
    """A NodeDef. inputs: "n", "n:1", "^ctrl"."""
    n = node_def_pb2.NodeDef(name=name, op=op)
    n.input.extend(inputs)
    for k, v in attrs.items():
        n.attr[k].CopyFrom(attr_value(v))
    return n


def const(name, value, dtype=None):
    arr = np.asarray(value, dtype=dtype)
    p = tensor_proto(arr)
    return node(name, "Const", value=p, dtype=dtype_attr(p.dtype))


def placeholder(name, dtype, shp=None):
    attrs = {"dtype": dtype}
    if shp is not None:
        attrs["shape"] = shp if isinstance(shp, shape) else shape(*shp)
    return node(name, "Placeholder", **attrs)


def graph(nodes, producer=None):
    g = graph_pb2.GraphDef()
    g.node.extend(nodes)
    if producer is not None:
        g.versions.producer = producer
    return g


def tool(name):
    build = os.environ.get("PLINTH_BUILD")
    if not build:
        raise RuntimeError("PLINTH_BUILD is not set")
    return os.path.join(build, name)


def _fname(name):
    return name.replace("/", "_").replace(":", "_")


class _Server:
    """One `run_graph --serve` process, started on first use and again after
    it dies (a crash fails only the run that caused it)."""

    def __init__(self):
        self.proc = None
        self.err = None

    def start(self):
        self.err = tempfile.TemporaryFile()
        # Passive: OpenMP workers spinning between runs would take the CPU the test itself needs.
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
        self.proc = subprocess.Popen([tool("run_graph"), "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, errors="replace", env=env)

    def stop(self):
        """At exit: a leak found by LeakSanitizer, or any failure, shows only in
        the exit status, so the test process fails with it."""
        if self.proc is None:
            return
        self.proc.stdin.close()
        rc = self.proc.wait()
        self.proc = None
        if rc != 0:
            self.err.seek(0)
            sys.stderr.write(self.err.read().decode(errors="replace"))
            sys.stderr.write("run_graph --serve exited with %d\n" % rc)
            sys.stderr.flush()
            os._exit(1)
        self.err.close()

    def run(self, args):
        if self.proc is None:
            self.start()
        try:
            self.proc.stdin.write("\t".join(args) + "\n")
            self.proc.stdin.flush()
            reply = self.proc.stdout.readline()
        except BrokenPipeError:
            reply = ""
        if reply.endswith("\n"):
            return reply.rstrip("\n")
        # The process died in this run: report what it said last, as a one-shot run would.
        rc = self.proc.wait()
        self.err.seek(0)
        lines = [l for l in self.err.read().decode(errors="replace").splitlines() if l.strip()]
        self.proc = None
        self.err.close()
        return lines[-1] if lines else "run_graph exited with %d" % rc


_SERVER = _Server()
atexit.register(_SERVER.stop)


def _save_to_corpus(data):
    """PLINTH_GRAPH_CORPUS=DIR keeps every graph run, named by its hash: the
    seeds of the model-loading fuzz target (tests/fuzz/fuzz_model_load.c)."""
    corpus = os.environ.get("PLINTH_GRAPH_CORPUS")
    if corpus:
        os.makedirs(corpus, exist_ok=True)
        with open(os.path.join(corpus, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)


def run_graphdef(g, feeds=None, fetches=(), targets=(), extra_args=()):
    """Runs a GraphDef (or its serialized bytes); returns the fetched arrays."""
    feeds = feeds or {}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "graph.pb")
        data = g if isinstance(g, bytes) else g.SerializeToString()
        with open(path, "wb") as f:
            f.write(data)
        _save_to_corpus(data)
        args = [path]
        for i, (name, value) in enumerate(feeds.items()):
            fp = os.path.join(d, "in%d_%s.npy" % (i, _fname(name)))
            np.save(fp, np.asarray(value), allow_pickle=False)
            args += ["--feed", "%s=%s" % (name, fp)]
        outs = []
        for i, name in enumerate(fetches):
            fp = os.path.join(d, "out%d_%s.npy" % (i, _fname(name)))
            outs.append(fp)
            args += ["--fetch", "%s=%s" % (name, fp)]
        for t in targets:
            args += ["--target", t]
        args += list(extra_args)
        if extra_args or any(c in a for a in args for c in "\t\n\r"):
            p = subprocess.run([tool("run_graph")] + args, capture_output=True, text=True, errors="replace")
            if p.returncode != 0:
                lines = [l for l in p.stderr.splitlines() if l.strip()]
                raise GraphError(lines[-1] if lines else "run_graph exited with %d" % p.returncode)
        else:
            reply = _SERVER.run(args)
            if reply != "ok":
                raise GraphError(reply)
        return [np.load(fp, allow_pickle=False) for fp in outs]


def run(nodes, feeds=None, fetches=(), targets=(), producer=None):
    """Runs the graph made of `nodes`; returns the fetched arrays in order."""
    return run_graphdef(graph(nodes, producer), feeds, fetches, targets)
