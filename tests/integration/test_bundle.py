"""Checkpoint bundles read by plinth agree with an independent reader.

The reference here is written from the formats' descriptions: LevelDB's table
layout, TensorFlow's tensor_bundle.proto (through the generated Python
module), Google's libsnappy (through ctypes) for compressed blocks, and numpy
for the tensor bytes. Every SavedModel under shared/ is compared entry by
entry with what `bundle_dump` prints. A second part writes bundles whose
index blocks libsnappy compressed (long runs of copies, unlike the mostly
literal blocks TensorFlow wrote) and checks plinth decodes them."""
import ctypes
import ctypes.util
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np

SHARED = os.environ.get("PLINTH_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
BUILD = os.environ.get("PLINTH_BUILD", "build")
DUMP = os.path.join(BUILD, "bundle_dump")

from tensorflow.core.protobuf import tensor_bundle_pb2  # noqa: E402
from tensorflow.core.framework import types_pb2  # noqa: E402


def load_snappy():
    name = ctypes.util.find_library("snappy") or "libsnappy.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.snappy_uncompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_size_t)]
    lib.snappy_uncompressed_length.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    lib.snappy_compress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                    ctypes.POINTER(ctypes.c_size_t)]
    lib.snappy_max_compressed_length.argtypes = [ctypes.c_size_t]
    lib.snappy_max_compressed_length.restype = ctypes.c_size_t
    return lib


SNAPPY = load_snappy()


def snappy_uncompress(data):
    n = ctypes.c_size_t()
    assert SNAPPY.snappy_uncompressed_length(data, len(data), ctypes.byref(n)) == 0
    out = ctypes.create_string_buffer(n.value)
    assert SNAPPY.snappy_uncompress(data, len(data), out, ctypes.byref(n)) == 0
    return out.raw[:n.value]


def snappy_compress(data):
    n = ctypes.c_size_t(SNAPPY.snappy_max_compressed_length(len(data)))
    out = ctypes.create_string_buffer(n.value)
    assert SNAPPY.snappy_compress(data, len(data), out, ctypes.byref(n)) == 0
    return out.raw[:n.value]


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC_TABLE = _crc_table()


def crc32c(data, crc=0):
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def mask(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def put_varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


# ---- the reference reader ----

def read_block(f, offset, size):
    contents, kind = f[offset:offset + size], f[offset + size]
    if kind == 1:
        if SNAPPY is None:
            raise unittest.SkipTest("libsnappy is not installed")
        return snappy_uncompress(contents)
    assert kind == 0, kind
    return contents


def block_entries(block):
    n_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * n_restarts
    pos, key = 0, b""
    while pos < end:
        shared, pos = varint(block, pos)
        non_shared, pos = varint(block, pos)
        vlen, pos = varint(block, pos)
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        yield key, block[pos:pos + vlen]
        pos += vlen


def read_file(path):
    with open(path, "rb") as fh:
        return fh.read()


def write_file(path, data):
    with open(path, "wb") as fh:
        fh.write(data)


def read_table(path):
    f = read_file(path)
    footer = f[-48:]
    assert struct.unpack("<Q", footer[40:]) == (0xDB4775248B80FB57,)
    _, p = varint(footer, 0)
    _, p = varint(footer, p)
    ioff, p = varint(footer, p)
    isize, p = varint(footer, p)
    out = []
    for _, handle in block_entries(read_block(f, ioff, isize)):
        off, p = varint(handle, 0)
        size, _ = varint(handle, p)
        out += list(block_entries(read_block(f, off, size)))
    return out


NP_DTYPES = {types_pb2.DT_FLOAT: "<f4", types_pb2.DT_DOUBLE: "<f8", types_pb2.DT_INT32: "<i4",
             types_pb2.DT_INT64: "<i8", types_pb2.DT_UINT8: "u1", types_pb2.DT_INT8: "i1",
             types_pb2.DT_INT16: "<i2", types_pb2.DT_BOOL: "u1", types_pb2.DT_UINT16: "<u2"}


def reference_bundle(prefix):
    """{key: (dtype name, shape, values as a flat list)}"""
    entries = read_table(prefix + ".index")
    assert entries[0][0] == b""
    header = tensor_bundle_pb2.BundleHeaderProto.FromString(entries[0][1])
    shards = [read_file(f"{prefix}.data-{i:05d}-of-{header.num_shards:05d}") for i in range(header.num_shards)]
    out = {}
    for key, value in entries[1:]:
        e = tensor_bundle_pb2.BundleEntryProto.FromString(value)
        shape = [d.size for d in e.shape.dim]
        raw = shards[e.shard_id][e.offset:e.offset + e.size]
        n = int(np.prod(shape)) if shape else 1
        if e.dtype == types_pb2.DT_STRING:
            lens, pos = [], 0
            for _ in range(n):
                ln, pos = varint(raw, pos)
                lens.append(ln)
            pos += 4
            vals = []
            for ln in lens:
                vals.append(raw[pos:pos + ln])
                pos += ln
        else:
            vals = np.frombuffer(raw, dtype=NP_DTYPES[e.dtype]).tolist()
        out[key.decode()] = (types_pb2.DataType.Name(e.dtype), shape, vals)
    return out


def plinth_bundle(prefix):
    res = subprocess.run([DUMP, prefix], capture_output=True, timeout=120)
    lines = [json.loads(l) for l in res.stdout.decode().splitlines()]
    return res.returncode, lines


def checkpoints():
    found = sorted(glob.glob(os.path.join(SHARED, "models", "tfs-testdata", "*", "*", "variables", "variables.index")) +
                   glob.glob(os.path.join(SHARED, "zoo", "*", "*", "variables", "variables.index")))
    return [p[:-len(".index")] for p in found]


class SharedCheckpoints(unittest.TestCase):
    def test_every_checkpoint_matches_the_reference(self):
        prefixes = checkpoints()
        self.assertGreaterEqual(len(prefixes), 20)
        for prefix in prefixes:
            with self.subTest(prefix=os.path.relpath(prefix, SHARED)):
                ref = reference_bundle(prefix)
                rc, lines = plinth_bundle(prefix)
                self.assertEqual(rc, 0, lines)
                self.assertEqual([l["key"] for l in lines], sorted(ref))
                for line in lines:
                    dtype, shape, vals = ref[line["key"]]
                    self.assertNotIn("error", line)
                    self.assertEqual(line["dtype"], dtype)
                    self.assertEqual(line["shape"], shape)
                    if dtype == "DT_STRING":
                        self.assertEqual([s.encode("latin-1") for s in line["values"]], vals)
                    elif dtype in ("DT_FLOAT", "DT_DOUBLE"):
                        np.testing.assert_allclose(line["values"], vals, rtol=1e-8, atol=0)
                    else:
                        self.assertEqual(line["values"], vals)

    def test_known_values(self):
        """Values documented by the models' sources: y = a*x + b."""
        def values(rel):
            return {l["key"]: l["values"] for l in plinth_bundle(os.path.join(SHARED, rel, "variables", "variables"))[1]}

        v = values("models/tfs-testdata/saved_model_half_plus_two_cpu/00000123")
        self.assertEqual((v["a"], v["b"]), ([0.5], [2.0]))
        v = values("models/tfs-testdata/saved_model_half_plus_three/00000123")
        self.assertEqual((v["a"], v["b"]), ([0.5], [3.0]))
        v = values("models/tfs-testdata/saved_model_counter/00000123")
        self.assertEqual(v["counter"], [0.0])
        v = values("models/tfs-testdata/saved_model_half_plus_two_tf2_cpu/00000123")
        self.assertEqual((v["a/.ATTRIBUTES/VARIABLE_VALUE"], v["b/.ATTRIBUTES/VARIABLE_VALUE"]), ([0.5], [2.0]))


def build_table(items, compress):
    """A one-data-block table of sorted (key, value) pairs with prefix compression."""
    block, prev = bytearray(), b""
    for key, value in items:
        shared = 0
        while shared < min(len(prev), len(key)) and prev[shared] == key[shared]:
            shared += 1
        block += put_varint(shared) + put_varint(len(key) - shared) + put_varint(len(value))
        block += key[shared:] + value
        prev = key
    block += struct.pack("<II", 0, 1)
    f = bytearray()

    def emit(contents, kind):
        off = len(f)
        f.extend(contents)
        f.append(kind)
        f.extend(struct.pack("<I", mask(crc32c(bytes(contents) + bytes([kind])))))
        return off, len(contents)

    data = snappy_compress(bytes(block)) if compress else bytes(block)
    doff, dsize = emit(data, 1 if compress else 0)
    moff, msize = emit(struct.pack("<II", 0, 1), 0)
    index = bytearray(put_varint(0) + put_varint(1) + put_varint(len(put_varint(doff) + put_varint(dsize))))
    index += b"\xff" + put_varint(doff) + put_varint(dsize) + struct.pack("<II", 0, 1)
    ioff, isize = emit(bytes(index), 0)
    footer = put_varint(moff) + put_varint(msize) + put_varint(ioff) + put_varint(isize)
    f += footer + b"\0" * (40 - len(footer)) + struct.pack("<Q", 0xDB4775248B80FB57)
    return bytes(f)


@unittest.skipIf(SNAPPY is None, "libsnappy is not installed")
class SnappyIndexes(unittest.TestCase):
    def test_compressed_index_with_many_entries(self):
        rng = np.random.default_rng(7)
        data, items = bytearray(), []
        header = tensor_bundle_pb2.BundleHeaderProto(num_shards=1)
        items.append((b"", header.SerializeToString()))
        expect = {}
        for i in range(300):
            key = f"layer_{i // 10:03d}/sublayer/kernel_{i % 10}".encode()
            n = int(rng.integers(0, 5))
            arr = rng.standard_normal(n).astype("<f4")
            e = tensor_bundle_pb2.BundleEntryProto(dtype=types_pb2.DT_FLOAT, offset=len(data), size=arr.nbytes,
                                                   crc32c=mask(crc32c(arr.tobytes())))
            e.shape.dim.add().size = n
            data += arr.tobytes()
            items.append((key, e.SerializeToString()))
            expect[key.decode()] = arr.tolist()
        table = build_table(items, compress=True)
        self.assertLess(len(table), sum(len(k) + len(v) for k, v in items))  # copies were used
        with tempfile.TemporaryDirectory() as d:
            prefix = os.path.join(d, "ckpt")
            write_file(prefix + ".index", table)
            write_file(prefix + ".data-00000-of-00001", bytes(data))
            rc, lines = plinth_bundle(prefix)
            self.assertEqual(rc, 0, lines)
            self.assertEqual(len(lines), 300)
            for line in lines:
                np.testing.assert_array_equal(np.array(line["values"], dtype="<f4"), expect[line["key"]])
            # The same table uncompressed gives the same answer.
            write_file(prefix + ".index", build_table(items, compress=False))
            self.assertEqual(plinth_bundle(prefix), (rc, lines))


if __name__ == "__main__":
    unittest.main(verbosity=2)
