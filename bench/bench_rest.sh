#!/usr/bin/env bash
# REST throughput and latency against baselines measured in the same run.
#
#  1. Small predict requests: plinth's REST :predict on half_plus_two against
#     nginx answering the same bytes from its config (no work at all), both
#     driven by wrk with the same connections, threads and duration on this
#     machine. Prints requests/s and p99 and plinth's share of nginx's rate.
#  2. MTCNN on the oracle's test image (432x768x3, set B), REST :predict with
#     the body make_request.py writes (~5 MB of JSON) against gRPC Predict with
#     the same tensor as packed bytes, on the same server: median and p90 of
#     each and the difference, which is what JSON costs.
#
#   bash bench/bench_rest.sh            (make bench runs it)
# Environment: PLINTH_BIN, PLINTH_BUILD, PLINTH_SHARED as bench/run.sh sets
# them; BENCH_SECONDS (default 8) per wrk run; BENCH_CONNECTIONS (default 64).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${PLINTH_BUILD:-$root/build}
bin=${PLINTH_BIN:-$build/plinth}
shared=${PLINTH_SHARED:-$(cd "$root/../shared" && pwd)}
seconds=${BENCH_SECONDS:-8}
conns=${BENCH_CONNECTIONS:-64}

for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "bench_rest: $tool is missing (make setup)"; exit 1; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

tmp=$(mktemp -d /tmp/plinth-bench-rest.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- servers ----
gport=$(free_port); rport=$(free_port); nport=$(free_port)
cat > "$tmp/models.config" <<EOF
model_config_list {
  config { name: "half" base_path: "$shared/models/tfs-testdata/saved_model_half_plus_two_cpu" model_platform: "tensorflow" }
  config { name: "mtcnn" base_path: "$shared/models/mtcnn" model_platform: "tensorflow" }
}
EOF
"$bin" --port="$gport" --rest_api_port="$rport" --model_config_file="$tmp/models.config" \
    --file_system_poll_wait_seconds=0 > "$tmp/plinth.log" 2>&1 &
pids+=($!)

small_body='{"instances": [1.0]}'
reply=$(printf '{\n    "predictions": [2.5\n    ]\n}')
# nginx's `return` takes the reply text from its config: escape it for that.
nginx_reply=$(printf '%s' "$reply" | /usr/bin/python3 -c 'import sys; print(sys.stdin.read().replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n"), end="")')
mkdir -p "$tmp/nginx"
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nport;
    location / { default_type application/json; return 200 "$nginx_reply"; }
  }
}
EOF
"$nginx_bin" -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" > "$tmp/nginx/stdout" 2>&1 &
pids+=($!)

for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$rport/v2/health/ready" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -sf "http://127.0.0.1:$rport/v2/health/ready" >/dev/null || { echo "plinth did not start:"; cat "$tmp/plinth.log"; exit 1; }
for _ in $(seq 1 50); do
    curl -sf "http://127.0.0.1:$nport/" >/dev/null 2>&1 && break
    sleep 0.1
done
got=$(curl -s -d "$small_body" "http://127.0.0.1:$rport/v1/models/half:predict")
want=$(curl -s -d "$small_body" "http://127.0.0.1:$nport/")
[ "$got" = "$reply" ] && [ "$want" = "$reply" ] || { echo "replies differ: plinth '$got' nginx '$want'"; exit 1; }

# ---- 1. small requests under wrk ----
cat > "$tmp/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$small_body'
wrk.headers["Content-Type"] = "application/json"
EOF
run_wrk() {  # URL -> "req/s p99_ms"
    wrk -t2 -c"$conns" -d"${seconds}s" --latency -s "${wrk_script:-$tmp/post.lua}" "$1" > "$tmp/wrk.out" 2>&1
    /usr/bin/python3 - "$tmp/wrk.out" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", t, re.M)
p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print("%.0f %.3f %s" % (rps, p99, errs.group(1) if errs else 0))
EOF
}
# Warm both, then measure nginx, plinth, nginx again (the machine is shared: the
# baseline is the mean of the runs around plinth's).
wrk -t2 -c"$conns" -d2s -s "$tmp/post.lua" "http://127.0.0.1:$rport/v1/models/half:predict" >/dev/null 2>&1
read -r n1_rps n1_p99 _ < <(run_wrk "http://127.0.0.1:$nport/")
read -r p_rps p_p99 p_err < <(run_wrk "http://127.0.0.1:$rport/v1/models/half:predict")
# The HTTP layer alone: a GET with a fixed reply and no model.
echo "wrk.method = 'GET'" > "$tmp/get.lua"
read -r l_rps l_p99 _ < <(wrk_script="$tmp/get.lua" run_wrk "http://127.0.0.1:$rport/v2/health/live")
read -r n2_rps n2_p99 _ < <(run_wrk "http://127.0.0.1:$nport/")
/usr/bin/python3 - "$n1_rps" "$n1_p99" "$n2_rps" "$n2_p99" "$p_rps" "$p_p99" "$p_err" "$conns" "$seconds" \
    "$l_rps" "$l_p99" <<'EOF'
import sys
n1, n1p, n2, n2p, p, pp, perr, conns, secs, l, lp = sys.argv[1:]
n, npp = (float(n1) + float(n2)) / 2, (float(n1p) + float(n2p)) / 2
print("small REST predict, wrk -t2 -c%s -d%ss, %s CPUs shared with wrk:" % (conns, secs, __import__("os").cpu_count()))
print("  nginx fixed reply   %9.0f req/s  p99 %7.2f ms" % (n, npp))
print("  plinth :predict     %9.0f req/s  p99 %7.2f ms  (%s errors)" % (float(p), float(pp), perr))
print("  plinth / nginx      %9.2f x rate, %.2f x p99 (target >= 0.70 x rate)" % (float(p) / n, float(pp) / npp))
print("  plinth GET /v2/health/live (HTTP layer alone) %.0f req/s = %.2f x nginx" % (float(l), float(l) / n))
EOF

# ---- 2. MTCNN: REST vs gRPC ----
PYTHONPATH="$build/python${PYTHONPATH:+:$PYTHONPATH}" /usr/bin/python3 - "$rport" "$gport" "$shared" <<'EOF'
import json, os, socket, statistics, subprocess, sys, time
import grpc, numpy as np
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

rport, gport, shared = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
oracle = os.path.join(shared, "oracle")
body = subprocess.run(["/usr/bin/python3", os.path.join(oracle, "make_request.py"),
                       os.path.join(oracle, "ref", "test_image.B.json")], capture_output=True, check=True).stdout
ref = json.load(open(os.path.join(oracle, "ref", "test_image.B.json")))
x = np.load(os.path.join(oracle, ref["input_raw"]))
p = ref["params"]

def tensor(a):
    a = np.asarray(a, np.float32)
    t = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=a.tobytes())
    for d in a.shape:
        t.tensor_shape.dim.add().size = d
    return t

req = predict_pb2.PredictRequest()
req.model_spec.name = "mtcnn"
for k, v in (("input", x), ("min_size", np.float32(p["min_size"])), ("factor", np.float32(p["factor"])),
             ("thresholds", np.array(p["thresholds"], np.float32))):
    req.inputs[k].CopyFrom(tensor(v))
stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(
    "127.0.0.1:%d" % gport, options=[("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]))
# The REST request bytes are made once, as the gRPC request is, and sent in
# one write on a fresh connection: what is timed is the server, not a client
# library's buffering.
head = (b"POST /v1/models/mtcnn:predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body))
request_bytes = head + body

def rest():
    s = socket.create_connection(("127.0.0.1", rport), timeout=120)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(request_bytes)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(1 << 16)
    head, _, rest_ = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(rest_) < n:
        rest_ += s.recv(1 << 16)
    s.close()
    return rest_

def grpc_call():
    return stub.Predict(req, timeout=120)

faces_rest = len(json.loads(rest())["outputs"]["prob"])
faces_grpc = len(grpc_call().outputs["prob"].float_val)
for _ in range(2):
    rest(), grpc_call()
times = {"rest": [], "grpc": []}
for _ in range(12):
    for name, f in (("rest", rest), ("grpc", grpc_call)):
        t = time.perf_counter()
        f()
        times[name].append((time.perf_counter() - t) * 1e3)
med = {k: statistics.median(v) for k, v in times.items()}
p90 = {k: sorted(v)[int(0.9 * (len(v) - 1))] for k, v in times.items()}
print("MTCNN test image (%d faces by REST, %d by gRPC), %d calls each, alternating:" % (faces_rest, faces_grpc, 12))
print("  REST :predict (%.1f MB JSON)  median %7.1f ms  p90 %7.1f ms" % (len(body) / 1e6, med["rest"], p90["rest"]))
print("  gRPC Predict (%.1f MB proto)  median %7.1f ms  p90 %7.1f ms" % (req.ByteSize() / 1e6, med["grpc"], p90["grpc"]))
print("  REST - gRPC                  median %+7.1f ms  (target <= ~10 ms)" % (med["rest"] - med["grpc"]))
EOF
