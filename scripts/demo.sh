#!/usr/bin/env bash
# The face-detection demo: serve MTCNN, read its metadata, detect faces in the
# test picture and draw them. Usage: demo.sh MODEL_DIR BUILD_DIR
set -euo pipefail

model_dir=${1:-../shared/models/mtcnn}
build=${2:-build}
image=../shared/images/test_image.jpg
out=out/faces.png

if [ ! -d "$model_dir" ] && [ ! -f "$model_dir" ]; then
  cat >&2 <<MSG
demo: no MTCNN model at '$model_dir'.
The MTCNN frozen graph (mtcnn.pb) comes from https://github.com/blaueck/tf-mtcnn (MIT licence).
Put it at <dir>/1/mtcnn.pb and run: make demo MODEL_DIR=<dir>
MSG
  exit 1
fi
[ -f "$image" ] || { echo "demo: test picture $image is missing" >&2; exit 1; }

mkdir -p out
port=${PLINTH_DEMO_PORT:-8500}
"$build/plinth" --port="$port" --model_name=mtcnn --model_base_path="$(realpath "$model_dir")" \
  > out/plinth.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT

cli=("$build/plinth-cli" --server "localhost:$port")
for _ in $(seq 1 100); do
  if "${cli[@]}" status mtcnn >/dev/null 2>&1; then break; fi
  if ! kill -0 $server 2>/dev/null; then echo "demo: the server stopped; see out/plinth.log" >&2; exit 1; fi
  sleep 0.1
done

echo "== model status =="
"${cli[@]}" status mtcnn
echo
echo "== model metadata =="
"${cli[@]}" metadata mtcnn
echo
echo "== face detection =="
"${cli[@]}" detect mtcnn "$image" -o "$out"
echo
echo "demo: the annotated picture is at $(realpath "$out")"
