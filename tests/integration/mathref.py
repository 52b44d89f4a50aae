"""TensorFlow's element-wise and reduction semantics written out in numpy and
plain Python, as references for the math kernel tests.

Where numpy and TensorFlow differ, the TensorFlow rule is encoded here with
the kernel it comes from:
  * integer Div / TruncateDiv truncate toward zero (C++ `/`, safe_div_or_mod_op);
    FloorDiv / FloorMod round toward -inf (google_floor_div / google_floor_mod);
    INT_MIN / -1 wraps to INT_MIN instead of trapping;
  * float FloorDiv is floor(x / y) (google_floor_div_real), not numpy's divmod;
  * integer Mean sums in 64 bits and divides with truncation toward zero;
  * Max/Min reductions of an empty set give -inf/+inf (floats) or the type's
    lowest/highest (Eigen's MaxReducer/MinReducer initial values);
  * float -> int Cast is static_cast on x86: truncation, and INT_MIN (the
    "integer indefinite" of cvttss2si) for NaN and out-of-range values,
    narrowed afterwards for types below 32 bits.
"""
import math

import numpy as np

FLOATS = [np.float32, np.float64, np.float16]
SIGNED = [np.int8, np.int16, np.int32, np.int64]
UNSIGNED = [np.uint8, np.uint16, np.uint32, np.uint64]
INTS = SIGNED + UNSIGNED


def wrap(values, dtype):
    """Python ints -> dtype with two's-complement wrap-around."""
    dt = np.dtype(dtype)
    bits = dt.itemsize * 8
    out = []
    for v in np.asarray(values, dtype=object).reshape(-1):
        v = int(v) % (1 << bits)
        if dt.kind == "i" and v >= 1 << (bits - 1):
            v -= 1 << bits
        out.append(v)
    return np.array(out, dtype=dt).reshape(np.shape(values))


def int_binary(fn, a, b, dtype):
    """Applies fn to Python ints element-wise (with numpy broadcasting), then wraps."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
    res = np.empty(a.shape, dtype=object)
    for idx in np.ndindex(a.shape):
        res[idx] = fn(int(a[idx]), int(b[idx]))
    return wrap(res, dtype)


def trunc_div(x, y):
    q = abs(x) // abs(y)
    return -q if (x < 0) != (y < 0) else q


def trunc_mod(x, y):
    return x - y * trunc_div(x, y)


INT_REFS = {
    "Add": lambda x, y: x + y,
    "AddV2": lambda x, y: x + y,
    "Sub": lambda x, y: x - y,
    "Mul": lambda x, y: x * y,
    "SquaredDifference": lambda x, y: (x - y) * (x - y),
    "Maximum": max,
    "Minimum": min,
    "Div": trunc_div,
    "TruncateDiv": trunc_div,
    "FloorDiv": lambda x, y: x // y,
    "FloorMod": lambda x, y: x % y,
    "TruncateMod": trunc_mod,
    "Mod": trunc_mod,
    "Pow": lambda x, y: x ** y,
}


def float_floormod(x, y):
    r = np.fmod(x, y)
    return np.where((r != 0) & ((y < 0) != (r < 0)), r + y, r)


FLOAT_REFS = {
    "Add": np.add,
    "AddV2": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "RealDiv": np.divide,
    "Div": np.divide,
    "SquaredDifference": lambda x, y: (x - y) * (x - y),
    "Maximum": np.maximum,  # propagates NaN, as TensorFlow >= 2.4
    "Minimum": np.minimum,
    "FloorDiv": lambda x, y: np.floor(x / y),
    "FloorMod": float_floormod,
    "TruncateDiv": lambda x, y: np.trunc(x / y),
    "TruncateMod": np.fmod,
    "Mod": np.fmod,
    "Pow": np.power,
    "DivNoNan": lambda x, y: np.where(y == 0, 0, x / np.where(y == 0, 1, y)).astype(np.result_type(x, y)),
    "MulNoNan": lambda x, y: np.where(y == 0, 0, x * y).astype(np.result_type(x, y)),
    "Atan2": np.arctan2,
}

COMPARE_REFS = {
    "Equal": np.equal,
    "NotEqual": np.not_equal,
    "Less": np.less,
    "LessEqual": np.less_equal,
    "Greater": np.greater,
    "GreaterEqual": np.greater_equal,
}


def f32_to_bf16_bits(x):
    """Round-to-nearest-even float32 -> bfloat16, as Eigen's bfloat16(float)."""
    b = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    nan = np.isnan(np.asarray(x, dtype=np.float32))
    r = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(nan, ((b >> 16) | 0x40).astype(np.uint16), r)


def bf16_round(x):
    """float32 values rounded to the nearest bfloat16, as float32."""
    return (f32_to_bf16_bits(x).astype(np.uint32) << 16).view(np.float32)


def x86_float_to_int(x, dtype):
    """static_cast<dtype>(float) as compiled for x86 (see the module doc)."""
    dt = np.dtype(dtype)
    out = []
    for v in np.asarray(x, dtype=np.float64).reshape(-1):
        if dt == np.uint64:
            if not math.isnan(v) and v >= 2.0 ** 63:
                w = v - 2.0 ** 63
                i = int(w) if w < 2.0 ** 63 else -(1 << 63)
                out.append((i % (1 << 64)) ^ (1 << 63))
                continue
            out.append(int(v) if -2.0 ** 63 <= v < 2.0 ** 63 else -(1 << 63))
        elif dt.itemsize == 8 or dt == np.uint32:
            out.append(int(v) if -2.0 ** 63 <= v < 2.0 ** 63 else -(1 << 63))
        else:
            out.append(int(v) if -2.0 ** 31 - 1 < v < 2.0 ** 31 else -(1 << 31))
    return wrap(np.array(out, dtype=object).reshape(np.shape(x)), dt)


def lowest(dtype):
    dt = np.dtype(dtype)
    return -np.inf if dt.kind == "f" else np.iinfo(dt).min


def highest(dtype):
    dt = np.dtype(dtype)
    return np.inf if dt.kind == "f" else np.iinfo(dt).max


def reduce_ref(op, x, axes, keep_dims):
    """TensorFlow's Sum/Mean/Prod/Max/Min/All/Any over `axes` (a tuple of normalised dims)."""
    dt = x.dtype
    axes = tuple(axes)
    if op == "Sum":
        if dt.kind in "iu":
            r = np.sum(x.astype(object), axis=axes, keepdims=keep_dims)
            return wrap(r, dt)
        return np.sum(x, axis=axes, keepdims=keep_dims, dtype=dt)
    if op == "Prod":
        if dt.kind in "iu":
            r = np.prod(x.astype(object), axis=axes, keepdims=keep_dims) if x.size else \
                np.ones(np.sum(x, axis=axes, keepdims=keep_dims).shape, dtype=object)
            return wrap(r, dt)
        with np.errstate(over="ignore"):
            return np.prod(x, axis=axes, keepdims=keep_dims, dtype=dt)
    if op == "Mean":
        n = 1
        for a in axes:
            n *= x.shape[a]
        if dt.kind in "iu":
            s = np.sum(x.astype(object), axis=axes, keepdims=keep_dims)
            s = np.asarray(s, dtype=object)
            if n == 0:
                return np.zeros(s.shape, dtype=dt)
            res = np.empty(s.shape, dtype=object)
            for idx in np.ndindex(s.shape):
                res[idx] = trunc_div(int(s[idx]), n)
            return wrap(res, dt)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.sum(x, axis=axes, keepdims=keep_dims, dtype=np.float64) / n).astype(dt)
    if op in ("Max", "Min"):
        shape = np.sum(np.zeros(x.shape), axis=axes, keepdims=keep_dims).shape
        if x.size == 0:
            return np.full(shape, lowest(dt) if op == "Max" else highest(dt), dtype=dt)
        return (np.max if op == "Max" else np.min)(x, axis=axes, keepdims=keep_dims)
    if op == "All":
        return np.all(x, axis=axes, keepdims=keep_dims)
    if op == "Any":
        return np.any(x, axis=axes, keepdims=keep_dims)
    raise ValueError(op)
