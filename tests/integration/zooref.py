"""A small numpy interpreter for frozen TensorFlow graphs: an independent reference for the
zoo's frozen models, written from TensorFlow's op definitions (NHWC convolutions, SAME/VALID
padding, TensorFlow's Dequantize arithmetic, ...). It computes in float64, so the only error
it carries is the one of the float32 weights it reads.

    g = load_graph(path)
    probs, = run_graph(g, {"input": x}, ["MobilenetV1/Predictions/Reshape_1"])

Only the ops the zoo's frozen graphs use are known; any other raises NotImplementedError.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from tensorflow.core.framework import graph_pb2, types_pb2

_NP = {types_pb2.DT_FLOAT: np.float32, types_pb2.DT_DOUBLE: np.float64, types_pb2.DT_INT32: np.int32,
       types_pb2.DT_INT64: np.int64, types_pb2.DT_UINT8: np.uint8, types_pb2.DT_QUINT8: np.uint8,
       types_pb2.DT_QINT8: np.int8, types_pb2.DT_QINT32: np.int32, types_pb2.DT_BOOL: np.bool_,
       types_pb2.DT_INT8: np.int8, types_pb2.DT_INT16: np.int16}


def tensor_value(t):
    """TensorProto -> numpy array (the value fields TensorFlow's converter writes)."""
    dt = _NP[t.dtype]
    shape = [d.size for d in t.tensor_shape.dim]
    n = int(np.prod(shape)) if shape else 1
    if t.tensor_content:
        return np.frombuffer(t.tensor_content, dtype=np.dtype(dt).newbyteorder("<")).astype(dt).reshape(shape)
    vals = (t.float_val if t.dtype == types_pb2.DT_FLOAT else t.double_val if t.dtype == types_pb2.DT_DOUBLE
            else t.int64_val if t.dtype == types_pb2.DT_INT64 else t.bool_val if t.dtype == types_pb2.DT_BOOL
            else t.int_val)
    arr = np.array(list(vals), dtype=dt)
    if arr.size == n:
        return arr.reshape(shape)
    out = np.empty(n, dt)  # a short list repeats its last value
    out[:arr.size] = arr
    out[arr.size:] = arr[-1] if arr.size else 0
    return out.reshape(shape)


def resize_bilinear(a, oh, ow):
    """[H,W,C] -> [oh,ow,C] with half-pixel centres, edges clamped (for preparing pictures)."""
    ih, iw, _ = a.shape
    ys = np.clip((np.arange(oh) + 0.5) * ih / oh - 0.5, 0, ih - 1)
    xs = np.clip((np.arange(ow) + 0.5) * iw / ow - 0.5, 0, iw - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, ih - 1), np.minimum(x0 + 1, iw - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = a[y0][:, x0] * (1 - fx) + a[y0][:, x1] * fx
    bot = a[y1][:, x0] * (1 - fx) + a[y1][:, x1] * fx
    return top * (1 - fy) + bot * fy


def load_graph(path):
    g = graph_pb2.GraphDef()
    with open(path, "rb") as f:
        g.ParseFromString(f.read())
    return g


def _pads(size, k, stride, dilation, padding):
    eff = (k - 1) * dilation + 1
    if padding == b"VALID":
        return (size - eff) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + eff - size, 0)
    return out, total // 2, total - total // 2


def _windows(x, kh, kw, strides, dilations, padding, pad_value=0.0):
    """x [N,H,W,C] -> [N,OH,OW,C,kh,kw] views of each window."""
    sh, sw = strides
    dh, dw = dilations
    oh, pt, pb = _pads(x.shape[1], kh, sh, dh, padding)
    ow, pl, pr = _pads(x.shape[2], kw, sw, dw, padding)
    xp = np.pad(x, [(0, 0), (pt, pb), (pl, pr), (0, 0)], constant_values=pad_value)
    win = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
    return win[:, ::sh, ::sw][:, :oh, :ow, :, ::dh, ::dw]


def _hw(attr, name, default=(1, 1)):
    v = list(attr[name].list.i) if name in attr else []
    return (v[1], v[2]) if len(v) == 4 else default


def conv2d(x, w, attr):
    win = _windows(x, w.shape[0], w.shape[1], _hw(attr, "strides"), _hw(attr, "dilations"), attr["padding"].s)
    return np.tensordot(win, w, axes=([4, 5, 3], [0, 1, 2]))


def depthwise(x, w, attr):
    kh, kw, c, m = w.shape
    win = _windows(x, kh, kw, _hw(attr, "strides"), _hw(attr, "dilations"), attr["padding"].s)
    out = np.einsum("nhwcij,ijcm->nhwcm", win, w)
    return out.reshape(out.shape[:3] + (c * m,))


def pool(x, attr, kind):
    kh, kw = _hw(attr, "ksize")
    padding = attr["padding"].s
    if kind == "max":
        return _windows(x, kh, kw, _hw(attr, "strides"), (1, 1), padding, -np.inf).max(axis=(4, 5))
    s = _windows(x, kh, kw, _hw(attr, "strides"), (1, 1), padding).sum(axis=(4, 5))
    n = _windows(np.ones_like(x[:1, :, :, :1]), kh, kw, _hw(attr, "strides"), (1, 1), padding).sum(axis=(4, 5))
    return s / n  # TensorFlow's average leaves padding out of the count


def dequantize_min_first_quint8(q, lo, hi):
    """quantization_utils.h QuantizedToFloatStruct + DEQUANTIZE_WITH_EIGEN, in float32 steps."""
    lo, hi = np.float32(lo), np.float32(hi)
    scale = np.float32(float(hi - lo) / 255.0)
    if hi == lo:
        return np.full(q.shape, lo, np.float32)
    r = float(lo / scale)
    rounded = np.float32(np.sign(r) * np.floor(abs(r) + 0.5) * float(scale))
    return (rounded - np.float32(0) * scale) + q.astype(np.float32) * scale


def _strided_slice(x, begin, end, strides, attr):
    if attr["ellipsis_mask"].i or attr["new_axis_mask"].i:
        raise NotImplementedError("StridedSlice with ellipsis or new axes")
    idx = []
    for i in range(len(begin)):
        if attr["shrink_axis_mask"].i >> i & 1:
            idx.append(int(begin[i]))
            continue
        b = None if attr["begin_mask"].i >> i & 1 else int(begin[i])
        e = None if attr["end_mask"].i >> i & 1 else int(end[i])
        idx.append(slice(b, e, int(strides[i])))
    return np.asarray(x[tuple(idx)])


def _space_to_batch(x, block, pads):
    n = x.shape[0]
    x = np.pad(x, [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)] * (x.ndim - 1 - len(block)))
    m = len(block)
    spatial = x.shape[1:1 + m]
    shape = [n]
    for s, b in zip(spatial, block):
        shape += [s // b, b]
    x = x.reshape(shape + list(x.shape[1 + m:]))
    perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + list(range(1 + 2 * m, x.ndim))
    x = x.transpose(perm)
    return x.reshape([n * int(np.prod(block))] + [s // b for s, b in zip(spatial, block)] + list(x.shape[2 * m + 1:]))


def _batch_to_space(x, block, crops):
    m = len(block)
    nb = x.shape[0] // int(np.prod(block))
    x = x.reshape(list(block) + [nb] + list(x.shape[1:]))
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(2 * m + 1, x.ndim))
    x = x.transpose(perm)
    shape = [nb] + [x.shape[1 + 2 * i] * block[i] for i in range(m)] + list(x.shape[2 * m + 1:])
    x = x.reshape(shape)
    sl = [slice(None)] + [slice(c[0], x.shape[1 + i] - c[1]) for i, c in enumerate(crops)]
    return x[tuple(sl)]


def _f(x):
    return np.asarray(x, np.float64) if np.asarray(x).dtype.kind == "f" else np.asarray(x)


def _eval(n, ins, attr):
    op = n.op
    if op in ("Identity", "Snapshot"):
        return [ins[0]]
    if op == "Const":
        return [_f(tensor_value(attr["value"].tensor))]
    if op == "Conv2D":
        return [conv2d(ins[0], ins[1], attr)]
    if op == "DepthwiseConv2dNative":
        return [depthwise(ins[0], ins[1], attr)]
    if op == "BiasAdd":
        return [ins[0] + ins[1]]
    if op in ("Add", "AddV2"):
        return [ins[0] + ins[1]]
    if op == "Sub":
        return [ins[0] - ins[1]]
    if op == "Mul":
        return [ins[0] * ins[1]]
    if op == "RealDiv":
        return [ins[0] / ins[1]]
    if op == "Maximum":
        return [np.maximum(ins[0], ins[1])]
    if op == "Square":
        return [ins[0] * ins[0]]
    if op == "Rsqrt":
        return [1.0 / np.sqrt(ins[0])]
    if op == "Relu":
        return [np.maximum(ins[0], 0)]
    if op == "Relu6":
        return [np.clip(ins[0], 0, 6)]
    if op == "Sigmoid":
        return [1.0 / (1.0 + np.exp(-ins[0]))]
    if op == "Tanh":
        return [np.tanh(ins[0])]
    if op == "Floor":
        return [np.floor(ins[0])]
    if op == "Softmax":
        e = np.exp(ins[0] - ins[0].max(axis=-1, keepdims=True))
        return [e / e.sum(axis=-1, keepdims=True)]
    if op == "MatMul":
        a = ins[0].T if attr["transpose_a"].b else ins[0]
        b = ins[1].T if attr["transpose_b"].b else ins[1]
        return [a @ b]
    if op == "AvgPool":
        return [pool(ins[0], attr, "avg")]
    if op == "MaxPool":
        return [pool(ins[0], attr, "max")]
    if op == "FusedBatchNorm":
        if attr["is_training"].b:
            raise NotImplementedError("FusedBatchNorm in training mode")
        x, scale, offset, mean, var = ins
        return [(x - mean) / np.sqrt(var + attr["epsilon"].f) * scale + offset]
    if op == "Dequantize":
        if attr["mode"].s != b"MIN_FIRST" or attr["T"].type != types_pb2.DT_QUINT8:
            raise NotImplementedError("Dequantize other than quint8 MIN_FIRST")
        return [_f(dequantize_min_first_quint8(ins[0], ins[1], ins[2]))]
    if op == "Reshape":
        return [ins[0].reshape([int(d) for d in ins[1]])]
    if op == "Squeeze":
        dims = tuple(attr["squeeze_dims"].list.i)
        return [np.squeeze(ins[0], axis=dims if dims else None)]
    if op == "ExpandDims":
        return [np.expand_dims(ins[0], int(ins[1]))]
    if op == "ConcatV2":
        return [np.concatenate(ins[:-1], axis=int(ins[-1]))]
    if op == "Pack":
        return [np.stack(ins, axis=attr["axis"].i)]
    if op == "Unpack":
        return [np.take(ins[0], i, axis=attr["axis"].i) for i in range(ins[0].shape[attr["axis"].i])]
    if op == "Split":
        return np.split(ins[1], attr["num_split"].i, axis=int(ins[0]))
    if op == "Fill":
        return [np.full([int(d) for d in ins[0]], ins[1])]
    if op == "Shape":
        return [np.array(ins[0].shape, np.int32)]
    if op == "StridedSlice":
        return [_strided_slice(ins[0], ins[1], ins[2], ins[3], attr)]
    if op == "Gather":
        return [np.take(ins[0], ins[1], axis=0)]
    if op == "Sum":
        return [ins[0].sum(axis=tuple(np.atleast_1d(ins[1]).tolist()), keepdims=attr["keep_dims"].b)]
    if op == "Pad":
        return [np.pad(ins[0], [tuple(p) for p in ins[1]])]
    if op == "SpaceToBatchND":
        return [_space_to_batch(ins[0], [int(b) for b in ins[1]], ins[2].astype(int))]
    if op == "BatchToSpaceND":
        return [_batch_to_space(ins[0], [int(b) for b in ins[1]], ins[2].astype(int))]
    if op == "RandomUniform":
        # Any draw in [0, 1) does: the zoo feeds keep_prob = 1, where floor(keep_prob + u) is 1.
        return [np.full([int(d) for d in ins[0]], 0.5)]
    raise NotImplementedError(op)


def run_graph(g, feeds, fetches):
    """Evaluates `fetches` ("node" or "node:k") given feeds {placeholder name: array}."""
    nodes = {n.name: n for n in g.node}
    memo = {k: [_f(v)] for k, v in feeds.items()}

    def value(name):
        node_name, _, k = name.lstrip("^").partition(":")
        k = int(k or 0)
        if node_name not in memo:
            stack = [node_name]
            while stack:  # iterative post-order: the LSTM graphs are deep
                top = stack[-1]
                n = nodes[top]
                pending = [i.partition(":")[0] for i in n.input if not i.startswith("^")
                           and i.partition(":")[0] not in memo]
                if pending:
                    stack.extend(pending)
                    continue
                stack.pop()
                if top in memo:
                    continue
                if n.op == "Placeholder":
                    raise KeyError("placeholder %s is not fed" % top)
                ins = []
                for i in n.input:
                    if not i.startswith("^"):
                        src, _, kk = i.partition(":")
                        ins.append(memo[src][int(kk or 0)])
                memo[top] = _eval(n, ins, n.attr)
        return memo[node_name][k]

    return [value(f) for f in fetches]
