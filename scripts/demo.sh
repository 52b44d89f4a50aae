#!/usr/bin/env bash
# The face-detection demo: serve MTCNN with plinth, wait until it is
# AVAILABLE, show its metadata, detect the faces in the test picture, draw
# them, say where the picture is, and stop the server.
#
# Usage: demo.sh [MODEL_DIR] [BUILD_DIR]   (make demo [MODEL_DIR=...])
#        demo.sh --check-model [MODEL_DIR]  only checks that the model is there
#        (make demo runs this first, so a missing model is reported before any
#        setup or build work).
# Environment: PLINTH_DEMO_PORT (gRPC port, default 8500), PLINTH_DEMO_OUT
# (output directory, default out/), PLINTH_SHARED (test pictures, default
# ../shared next to the repository).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
check_only=false
if [ "${1:-}" = "--check-model" ]; then check_only=true; shift; fi
model_dir=${1:-$root/../shared/models/mtcnn}
build=${2:-$root/build}
shared=${PLINTH_SHARED:-$root/../shared}
out_dir=${PLINTH_DEMO_OUT:-$root/out}
port=${PLINTH_DEMO_PORT:-8500}

# A model directory holds numbered versions, each with the frozen graph (or a SavedModel).
if ! compgen -G "$model_dir/[0-9]*/*.pb" >/dev/null; then
  cat >&2 <<MSG
demo: no MTCNN model in '$model_dir' (expected $model_dir/1/mtcnn.pb).
  The demo serves the MTCNN frozen graph mtcnn.pb of https://github.com/blaueck/tf-mtcnn (MIT licence).
  Download it and put it at $model_dir/1/mtcnn.pb,
  or put it at <dir>/1/mtcnn.pb and run: make demo MODEL_DIR=<dir>
MSG
  exit 1
fi
$check_only && exit 0
image=$shared/images/test_image.jpg
[ -f "$image" ] || { echo "demo: the test picture $image is missing" >&2; exit 1; }
image=$(cd "$(dirname "$image")" && pwd)/test_image.jpg
for bin in "$build/plinth" "$build/plinth-cli"; do
  [ -x "$bin" ] || { echo "demo: $bin is not built; run: make" >&2; exit 1; }
done

# gRPC servers share a port (SO_REUSEPORT): a server already on it would answer
# some of the demo's calls, so the demo wants the port to itself.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "demo: port $port is already in use (another plinth or TensorFlow Serving?); stop that server or choose" \
       "another port: PLINTH_DEMO_PORT=<port> make demo" >&2
  exit 1
fi

mkdir -p "$out_dir"
out_png=$out_dir/faces.png
log=$out_dir/plinth.log
model_dir=$(cd "$model_dir" && pwd)
cli=("$build/plinth-cli" --server "localhost:$port")

echo "== starting plinth on port $port with $model_dir =="
"$build/plinth" --port="$port" --model_name=mtcnn --model_base_path="$model_dir" >"$log" 2>&1 &
server=$!
stop_server() {
  if kill -0 "$server" 2>/dev/null; then
    kill "$server"
    wait "$server" 2>/dev/null || true
    echo "== plinth stopped =="
  fi
}
trap stop_server EXIT

# Wait until the model is AVAILABLE (not just until the port answers): up to 60 s.
for _ in $(seq 1 600); do
  if "${cli[@]}" --timeout 2 status mtcnn 2>/dev/null | grep -q ': AVAILABLE'; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "demo: plinth exited before the model was available; its log ($log) ends with:" >&2
    tail -n 5 "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! "${cli[@]}" status mtcnn 2>/dev/null | grep -q ': AVAILABLE'; then
  echo "demo: the model did not become AVAILABLE within 60 s; see $log" >&2
  exit 1
fi

echo
echo "== plinth-cli status mtcnn =="
"${cli[@]}" status mtcnn
echo
echo "== plinth-cli metadata mtcnn =="
"${cli[@]}" metadata mtcnn
echo
echo "== plinth-cli detect mtcnn $image =="
"${cli[@]}" detect mtcnn "$image" -o "$out_png"
echo
echo "demo: the annotated picture is at $out_png"
