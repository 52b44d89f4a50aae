"""The tensor JSON codec against Python's json module and numpy.

tests/tools/json_codec decodes a predict request and encodes the decoded
tensors back as the response (an identity model). Expected bytes come from an
independent Python rendering of TF Serving's rules (util/json_tensor.cc:
WriteDecimal's "%.6g if it reads back, else %.9g / %.17g", rapidjson's
PrettyWriter layout and string escaping); expected values from json.loads,
float(), exact fractions and numpy."""
import base64
import json
import math
import os
import random
import struct
import subprocess
import unittest
from fractions import Fraction

import numpy as np

BUILD = os.environ.get("PLINTH_BUILD", "build")
SHARED = os.environ.get("PLINTH_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
TOOL = os.path.join(BUILD, "json_codec")


def run(args, data):
    if isinstance(data, str):
        data = data.encode()
    p = subprocess.run([TOOL] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return p.stdout


def f32_bits(v):
    return struct.unpack("<I", struct.pack("<f", v))[0]


def f64_bits(v):
    return struct.unpack("<Q", struct.pack("<d", v))[0]


def f32_nearest(text):
    """The float32 nearest to the decimal text (ties to even), exactly."""
    exact = Fraction(text)
    c = np.float32(float(text))
    best = None
    for cand in (np.nextafter(c, np.float32(-np.inf)), c, np.nextafter(c, np.float32(np.inf))):
        if not np.isfinite(cand):
            continue
        d = abs(Fraction(float(cand)) - exact)
        key = (d, f32_bits(cand) & 1)
        if best is None or key < best[0]:
            best = (key, cand)
    return best[1]


def tfs_float(v):
    """WriteDecimal<float>: six digits when they read back (absl::SimpleAtof, exact), else %.9g."""
    v = np.float32(v)
    if np.isnan(v):
        return "NaN"
    if np.isinf(v):
        return "-Infinity" if v < 0 else "Infinity"
    s = "%.6g" % float(v)
    if f32_nearest(s) != v or (v == 0 and math.copysign(1, v) != math.copysign(1, float(s))):
        s = "%.9g" % float(v)
    if "." not in s and "e" not in s:
        s += ".0"
    return s


def tfs_double(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "-Infinity" if v < 0 else "Infinity"
    s = "%.6g" % v
    if float(s) != v:
        s = "%.17g" % v
    if "." not in s and "e" not in s:
        s += ".0"
    return s


def rj_string(raw):
    """rapidjson Writer::String on UTF-8 bytes."""
    out = bytearray(b'"')
    for b in raw:
        if b == 0x22:
            out += b'\\"'
        elif b == 0x5C:
            out += b"\\\\"
        elif b < 0x20:
            out += {8: b"\\b", 9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r"}.get(b, b"\\u00%02X" % b)
        else:
            out.append(b)
    out += b'"'
    return bytes(out)


class Pretty:
    """rapidjson PrettyWriter (4-space indent) with its kFormatSingleLineArray switch."""

    def __init__(self):
        self.out = bytearray()
        self.stack = []
        self.single = False

    def prefix(self):
        if not self.stack:
            return
        lv = self.stack[-1]
        if lv[0]:
            if lv[1] > 0:
                self.out += b", " if self.single else b","
            if not self.single:
                self.out += b"\n" + b" " * (4 * len(self.stack))
        else:
            if lv[1] > 0:
                self.out += b",\n" if lv[1] % 2 == 0 else b": "
            else:
                self.out += b"\n"
            if lv[1] % 2 == 0:
                self.out += b" " * (4 * len(self.stack))
        lv[1] += 1

    def start(self, is_array):
        self.prefix()
        self.stack.append([is_array, 0])
        self.out += b"[" if is_array else b"{"

    def end(self):
        is_array, count = self.stack.pop()
        if count and not (is_array and self.single):
            self.out += b"\n" + b" " * (4 * len(self.stack))
        self.out += b"]" if is_array else b"}"

    def raw(self, text):
        self.prefix()
        self.out += text

    def key(self, k):
        self.raw(rj_string(k.encode()))


def scalar_text(w, arr, v, as_bytes):
    if arr.dtype == np.float32:
        w.raw(tfs_float(v).encode())
    elif arr.dtype == np.float64:
        w.raw(tfs_double(float(v)).encode())
    elif arr.dtype == np.bool_:
        w.raw(b"true" if v else b"false")
    elif arr.dtype == object:
        if as_bytes:
            w.start(False)
            w.key("b64")
            w.raw(b'"' + base64.b64encode(v) + b'"')
            w.end()
        else:
            w.raw(rj_string(v))
    else:
        w.raw(str(int(v)).encode())


def tensor_values(w, arr, as_bytes, dim, flat, pos):
    if dim > arr.ndim - 1:
        scalar_text(w, arr, flat[pos[0]], as_bytes)
        pos[0] += 1
        return
    w.start(True)
    for _ in range(arr.shape[dim]):
        tensor_values(w, arr, as_bytes, dim + 1, flat, pos)
    w.end()


def tfs_response(outputs, row):
    """MakeRowFormatJsonFromTensors / MakeColumnarFormatJsonFromTensors."""
    w = Pretty()
    names = sorted(outputs)
    objects = len(names) > 1
    flat = {k: outputs[k].reshape(-1) for k in names}
    pos = {k: [0] for k in names}
    w.start(False)
    if row:
        w.key("predictions")
        w.start(True)
        for _ in range(outputs[names[0]].shape[0]):
            if objects:
                w.start(False)
            w.single = True
            for k in names:
                if objects:
                    w.key(k)
                tensor_values(w, outputs[k], k.endswith("_bytes"), 1, flat[k], pos[k])
            w.single = False
            if objects:
                w.end()
        w.end()
    else:
        w.key("outputs")
        if objects:
            w.start(False)
        for k in names:
            if objects:
                w.key(k)
            tensor_values(w, outputs[k], k.endswith("_bytes"), 0, flat[k], pos[k])
        if objects:
            w.end()
    w.end()
    return bytes(w.out)


DTYPE_NAMES = {np.float32: "float", np.float64: "double", np.int32: "int32", np.int64: "int64", np.uint8: "uint8",
               np.bool_: "bool", object: "string"}


def json_value(arr, as_bytes):
    """The request JSON form of an array (nested lists), as a TF Serving client sends it."""
    if arr.dtype == object:
        conv = (lambda b: {"b64": base64.b64encode(b).decode()}) if as_bytes else (lambda b: b.decode("utf-8"))
        return np.vectorize(conv, otypes=[object])(arr).tolist() if arr.size else arr.tolist()
    return arr.tolist()


def random_array(rng, dtype, shape):
    if dtype == np.float32:
        a = (rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 9, shape)).astype(np.float32)
        special = rng.random(shape)
        a[special < 0.03] = np.nan
        a[(special >= 0.03) & (special < 0.05)] = np.inf
        a[(special >= 0.05) & (special < 0.07)] = -np.inf
        a[(special >= 0.07) & (special < 0.1)] = np.round(a[(special >= 0.07) & (special < 0.1)])
        return a
    if dtype == np.float64:
        return rng.standard_normal(shape) * 10.0 ** rng.integers(-30, 30, shape)
    if dtype == np.int32:
        return rng.integers(-2**31, 2**31, shape, dtype=np.int64).astype(np.int32)
    if dtype == np.int64:
        return rng.integers(-2**63, 2**63, shape, dtype=np.int64)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape).astype(np.uint8)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    alphabet = ["a", "Z", "0", " ", '"', "\\", "/", "\n", "\t", "\x01", "\x1f", "é", "€", "😀", "\u2028"]
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        out[idx] = "".join(rng.choice(alphabet, rng.integers(0, 6))).encode("utf-8")
    return out


def equal_arrays(a, b):
    if a.dtype == object:
        return a.shape == b.shape and all(x == y for x, y in zip(a.reshape(-1), b.reshape(-1)))
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def from_response(value, like, as_bytes):
    """json.loads output back to numpy, in the dtype of `like`."""
    if like.dtype == object:
        def conv(v):
            return base64.b64decode(v["b64"]) if as_bytes else v.encode("utf-8")
        flat = []

        def walk(v, depth):
            if depth == like.ndim:
                flat.append(conv(v))
            else:
                for e in v:
                    walk(e, depth + 1)
        walk(value, 0)
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(like.shape)
    return np.array(value, dtype=like.dtype).reshape(like.shape)


class Numbers(unittest.TestCase):
    def check_floats(self, values):
        lines = [repr(float(v)).replace("nan", "NaN").replace("inf", "Infinity") for v in values]
        out = run(["numbers", "float"], "\n".join(lines) + "\n").decode().splitlines()
        self.assertEqual(len(out), len(values))
        bad = []
        for v, line, got in zip(values, lines, out):
            bits, text = got.split(" ")
            want_bits = f32_bits(v)
            if int(bits, 16) != want_bits and not np.isnan(v):
                bad.append((line, bits, "%08x" % want_bits))
            elif text != tfs_float(v):
                bad.append((line, text, tfs_float(v)))
        self.assertEqual(bad[:10], [])

    def test_float_edges(self):
        edges = [0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 1 / 3, 2.5, 1e6, 1e7, 999999.0, 999999.5, 9e-7, 1e-5, 1e-4, 0.0001234,
                 123456.0, 1234567.0, 1234567.125, 16777216.0, 16777217.0, 3.14159265, 2.0 ** -149, 2.0 ** -126,
                 3.4028234663852886e38, 1e38, 1e-38, 0.709, 0.6, 0.7, 0.8, 40.0, 248.0, 100000.0, 1e10, 1e-10,
                 65504.0, 1e16, 1e-16, 5e-324 * 0, 7.0e-46, 1e-45]
        vals = [np.float32(v) for v in edges]
        with np.errstate(over="ignore"):
            vals += [np.nextafter(v, np.float32(np.inf)) for v in vals] + [np.nextafter(v, np.float32(-np.inf)) for v in vals]
        self.check_floats([v for v in vals if np.isfinite(v)])

    def test_float_random_bits(self):
        rng = np.random.default_rng(1)
        bits = rng.integers(0, 2**32, 20000, dtype=np.uint64).astype(np.uint32)
        vals = [v for v in bits.view(np.float32) if np.isfinite(v)]
        self.check_floats(vals)

    def test_float_short_decimals(self):
        # Values with few digits are where the six-digit form wins.
        rng = random.Random(2)
        vals = []
        for _ in range(20000):
            digits = rng.randint(1, 8)
            mant = rng.randint(1, 10 ** digits)
            with np.errstate(over="ignore"):
                vals.append(np.float32(float("%de%d" % (mant, rng.randint(-45, 38)))))
        self.check_floats([v for v in vals if np.isfinite(v)])

    def test_double_format_and_parse(self):
        rng = np.random.default_rng(3)
        vals = list(rng.integers(0, 2**63, 10000, dtype=np.int64).view(np.float64))
        vals += [float("%de%d" % (rng.integers(1, 10 ** 6), rng.integers(-320, 300))) for _ in range(5000)]
        vals += [0.1, 1 / 3, 1e23, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 9007199254740993.0, 0.3]
        vals = [v for v in vals if math.isfinite(v)]
        lines = [repr(float(v)) for v in vals]
        out = run(["numbers", "double"], "\n".join(lines) + "\n").decode().splitlines()
        bad = []
        for v, line, got in zip(vals, lines, out):
            bits, text = got.split(" ")
            if int(bits, 16) != f64_bits(v) or text != tfs_double(v):
                bad.append((line, got, "%016x" % f64_bits(v), tfs_double(v)))
        self.assertEqual(bad[:10], [])

    def test_parse_is_correctly_rounded(self):
        # Long and hard decimal strings: the value must be the correctly rounded double.
        rng = random.Random(4)
        texts = []
        for _ in range(20000):
            ndig = rng.choice([1, 5, 15, 16, 17, 18, 19, 20, 25, 40, 120])
            digits = "".join(rng.choice("0123456789") for _ in range(ndig)).lstrip("0") or "0"
            point = rng.randint(0, len(digits))
            mant = digits[:point] + "." + digits[point:] if point < len(digits) else digits
            if mant.startswith("."):
                mant = "0" + mant
            exp = rng.randint(-340, 280)
            if point + exp > 300:
                continue  # past DBL_MAX: rapidjson's "Number too big" (tested in C)
            texts.append("%s%se%d" % (rng.choice(["", "-"]), mant, exp))
        # Plain decimals (no exponent), the decoder's fast path for list elements.
        for _ in range(20000):
            ndig = rng.randint(1, 22)
            digits = "".join(rng.choice("0123456789") for _ in range(ndig))
            point = rng.randint(1, ndig)
            int_part = digits[:point].lstrip("0") or "0"
            texts.append(rng.choice(["", "-"]) + int_part + ("." + digits[point:] if point < ndig else ""))
        # Halfway cases between adjacent doubles, with and without a trailing digit.
        for _ in range(2000):
            d = float(rng.uniform(1, 2)) * 2.0 ** rng.randint(-1000, 1000)
            mid = (Fraction(d) + Fraction(np.nextafter(d, math.inf))) / 2
            s = "%.40e" % mid  # rounds; make it exact below
            num, den = mid.numerator, mid.denominator
            k = 0
            while den % 10 and den != 1 and k < 1100:
                num *= 10
                k += 1
                den_ok = (num % den == 0)
                if den_ok:
                    break
            if num % den == 0:
                # 0.<digits>e<n>: rapidjson refuses integer parts above ~1e308
                # whatever the exponent, but reads long fractions.
                digits = str(num // den)
                texts.append("0.%se%d" % (digits, len(digits) - k))
                texts.append("0.%s1e%d" % (digits, len(digits) - k))
            del s
        out = run(["numbers", "double"], "\n".join(texts) + "\n").decode().splitlines()
        bad = []
        for t, got in zip(texts, out):
            if got.startswith("ERROR"):
                bad.append((t, got))
                continue
            want = float(t)
            if t == "-0":
                want = 0.0  # an integer to rapidjson, so +0.0
            if int(got.split(" ")[0], 16) != f64_bits(want):
                bad.append((t, got, "%016x" % f64_bits(want)))
        self.assertEqual(bad[:10], [])

    def test_float_targets_round_through_double(self):
        # DT_FLOAT takes rapidjson's GetFloat(): the double, then float.
        rng = random.Random(5)
        texts = ["%.12e" % rng.uniform(-1e6, 1e6) for _ in range(5000)]
        out = run(["numbers", "float"], "\n".join(texts) + "\n").decode().splitlines()
        bad = [(t, g) for t, g in zip(texts, out) if int(g.split(" ")[0], 16) != f32_bits(np.float32(float(t)))]
        self.assertEqual(bad[:10], [])


class RoundTrip(unittest.TestCase):
    def roundtrip(self, arrays, row, signature=None):
        names = sorted(arrays)
        specs = ["%s:%s" % (k, DTYPE_NAMES[arrays[k].dtype.type if arrays[k].dtype != object else object]) for k in names]
        body = {}
        if signature:
            body["signature_name"] = signature
        if row:
            n = arrays[names[0]].shape[0]
            if len(names) == 1:
                body["instances"] = json_value(arrays[names[0]], names[0].endswith("_bytes"))
            else:
                cols = {k: json_value(arrays[k], k.endswith("_bytes")) for k in names}
                body["instances"] = [{k: cols[k][i] for k in names} for i in range(n)]
        else:
            if len(names) == 1 and arrays[names[0]].ndim > 0:
                body["inputs"] = json_value(arrays[names[0]], names[0].endswith("_bytes"))
            else:
                body["inputs"] = {k: json_value(arrays[k], k.endswith("_bytes")) for k in names}
        text = json.dumps(body, ensure_ascii=bool(random.Random(len(names)).getrandbits(1)))
        got = run(["predict"] + specs, text)
        self.assertFalse(got.startswith(b"ERROR"), got[:300])
        want = tfs_response(arrays, row)
        if got != want:
            # Show the first difference.
            i = next(i for i in range(min(len(got), len(want))) if got[i] != want[i]) if got[:len(want)] != want[:len(got)] else min(len(got), len(want))
            self.fail("response differs at byte %d:\n got  %r\n want %r" % (i, got[max(0, i - 80):i + 80], want[max(0, i - 80):i + 80]))
        parsed = json.loads(got)
        key = "predictions" if row else "outputs"
        for k in names:
            if row:
                items = parsed[key] if len(names) == 1 else [item[k] for item in parsed[key]]
                value = items
            else:
                value = parsed[key] if len(names) == 1 else parsed[key][k]
            back = from_response(value, arrays[k], k.endswith("_bytes"))
            self.assertTrue(equal_arrays(back, arrays[k]), k)

    def test_random_tensors(self):
        rng = np.random.default_rng(6)
        dtypes = [np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_, object]
        for trial in range(60):
            n_in = int(rng.integers(1, 4))
            batch = int(rng.integers(1, 4))
            arrays = {}
            for i in range(n_in):
                dt = dtypes[int(rng.integers(0, len(dtypes)))]
                rank = int(rng.integers(0, 4))
                shape = (batch,) + tuple(int(d) for d in rng.integers(1, 4, rank))
                name = "in%d" % i + ("_bytes" if dt is object and rng.random() < 0.5 else "")
                arrays[name] = random_array(rng, dt, shape)
            with self.subTest(trial=trial, row=True):
                self.roundtrip(arrays, row=True)
            with self.subTest(trial=trial, row=False):
                self.roundtrip(arrays, row=False, signature="serving_default")

    def test_columnar_scalars_and_empty(self):
        self.roundtrip({"a": np.array(np.float32(2.5)), "b": np.zeros((0, 3), np.float32)}, row=False)
        self.roundtrip({"x": np.array([], np.int64)}, row=False)

    def test_mtcnn_request(self):
        ref = os.path.join(SHARED, "oracle", "ref", "test_image.B.json")
        body = subprocess.run(["/usr/bin/python3", os.path.join(SHARED, "oracle", "make_request.py"), ref],
                              stdout=subprocess.PIPE, check=True).stdout
        got = run(["predict", "input:float", "min_size:float", "factor:float", "thresholds:float"], body)
        out = json.loads(got)["outputs"]
        x = np.load(os.path.join(SHARED, "oracle", "raw", "test_image.npy"))
        self.assertEqual(np.array(out["input"], np.float32).tobytes(), x.tobytes())
        self.assertEqual(out["factor"], 0.7)
        self.assertEqual(out["thresholds"], [0.6, 0.7, 0.8])
        self.assertEqual(out["min_size"], 40.0)


class Examples(unittest.TestCase):
    """classify/regress bodies become serialized tf.Example protos, read back with the protobuf library."""

    def decode(self, body):
        from tensorflow.core.example import example_pb2
        out = run(["examples"], body if isinstance(body, str) else json.dumps(body)).decode().splitlines()
        self.assertFalse(out[0].startswith("ERROR"), out)
        def parse(line):
            ex = example_pb2.Example()
            ex.ParseFromString(bytes.fromhex(line))
            return ex
        return out[0][len("signature "):], (None if out[1] == "-" else parse(out[1])), [parse(l) for l in out[2:]]

    def features(self, ex):
        out = {}
        for name, f in ex.features.feature.items():
            kind = f.WhichOneof("kind")
            out[name] = (kind, list(getattr(f, kind).value)) if kind else (None, [])
        return out

    def test_kinds_values_and_context(self):
        body = {"signature_name": "classify_x",
                "examples": [{"f": 1.5, "i": [1, -2, True], "s": "héllo", "b": {"b64": base64.b64encode(b"\x00\xff").decode()},
                              "l": [0.25, 2.0], "e": []},
                             {"i": -9223372036854775808, "j": 5},
                             {}],
                "context": {"c": ["a", "b"]}}
        # A repeated name, which a dict cannot hold: written into the text.
        text = json.dumps(body).replace('"j": 5', '"i": 5')
        name, ctx, exs = self.decode(text)
        self.assertEqual(name, "classify_x")
        self.assertEqual(self.features(ctx), {"c": ("bytes_list", [b"a", b"b"])})
        self.assertEqual(len(exs), 3)
        self.assertEqual(self.features(exs[0]), {
            "f": ("float_list", [1.5]), "i": ("int64_list", [1, -2, 1]), "s": ("bytes_list", ["héllo".encode()]),
            "b": ("bytes_list", [b"\x00\xff"]), "l": ("float_list", [0.25, 2.0]), "e": (None, [])})
        # A repeated feature name keeps its last value, as the proto map assignment does.
        self.assertEqual(self.features(exs[1]), {"i": ("int64_list", [5])})
        self.assertEqual(exs[2].ByteSize(), 0)

    def test_floats_are_float32(self):
        _, _, exs = self.decode({"examples": [{"x": [0.1, 1e-3, 3.4e38]}]})
        got = self.features(exs[0])["x"][1]
        self.assertEqual(got, [float(np.float32(v)) for v in (0.1, 1e-3, 3.4e38)])


if __name__ == "__main__":
    unittest.main()
