"""HTTP helpers for the REST tests: one request over a fresh connection with
http.client (what TF Serving's own tests do with urllib), the exact error body
TF Serving writes, and small frozen-graph models written to a directory.

    status, headers, body = call(server.rest_port, "POST", "/v1/models/m:predict", '{"instances": [1]}')
"""
import http.client
import json
import os

import numpy as np

import tfs
from graphlib import graph, node, placeholder


def call(port, method, path, body=None, headers=None, timeout=60):
    """Returns (status, headers with lower-case names, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout * tfs.SLOW)
    try:
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def error_body(message):
    """MakeJsonFromStatus: rapidjson's PrettyWriter with one "error" key (4-space indent)."""
    return ('{\n    "error": ' + json.dumps(message, ensure_ascii=False) + '\n}').encode()


def write_frozen_model(base, nodes, version=1):
    """A frozen GraphDef served from base/<version>/model.pb; returns base."""
    d = os.path.join(base, str(version))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.pb"), "wb") as f:
        f.write(graph(nodes).SerializeToString())
    return base


def identity_model(base, pairs):
    """One Placeholder -> Identity per (input name, output name, dtype)."""
    nodes = []
    for inp, out, dt in pairs:
        nodes.append(placeholder(inp, dt))
        nodes.append(node(out, "Identity", [inp], T=dt))
    return write_frozen_model(base, nodes)


def model_config(models):
    """Text ModelServerConfig for [(name, base_path, extra text), ...]."""
    parts = []
    for name, path, extra in models:
        parts.append('  config {\n    name: "%s"\n    base_path: "%s"\n    model_platform: "tensorflow"\n%s  }\n'
                     % (name, path, extra))
    return "model_config_list {\n" + "".join(parts) + "}\n"


__all__ = ["call", "error_body", "write_frozen_model", "identity_model", "model_config", "np"]
