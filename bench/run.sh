#!/usr/bin/env bash
# Runs every benchmark: each bench/*.c program built in BUILD (no arguments;
# what they need comes from the environment below) and each bench/*.sh script
# other than this one. Each prints its figures as ratios to a baseline it
# measures in the same run.
#
#   bash bench/run.sh [BUILD]      (make bench)
#
# Environment given to them:
#   PLINTH_BIN, PLINTH_CLI, PLINTH_BUILD   the build's programs
#   PLINTH_SHARED                          models, images, oracle (../shared)
#   PLINTH_TFJS                            a writable copy of the oracle with its
#                                          npm packages installed (for the
#                                          TensorFlow.js comparison), kept in a
#                                          cache directory outside the repository;
#                                          empty when node/npm are missing
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
export PLINTH_BUILD="$build"
export PLINTH_BIN="$build/plinth"
export PLINTH_CLI="$build/plinth-cli"
export PLINTH_SHARED="${PLINTH_SHARED:-$(cd "$root/../shared" 2>/dev/null && pwd)}"

# TensorFlow.js needs the oracle's npm packages: install them once into a
# cache outside the repository (the oracle folder itself is read-only).
tfjs_setup() {
    local cache="${XDG_CACHE_HOME:-$HOME/.cache}/plinth-bench"
    local oracle="$PLINTH_SHARED/oracle"
    command -v node >/dev/null && command -v npm >/dev/null || return 1
    [ -f "$oracle/package-lock.json" ] || return 1
    mkdir -p "$cache" || return 1
    # bench.js finds the model and protos beside the oracle folder.
    ln -sfn "$PLINTH_SHARED/models" "$cache/models"
    ln -sfn "$PLINTH_SHARED/spec" "$cache/spec"
    if ! cmp -s "$oracle/package-lock.json" "$cache/oracle/package-lock.json" || [ ! -d "$cache/oracle/node_modules" ]; then
        rm -rf "$cache/oracle"
        cp -r "$oracle" "$cache/oracle" && chmod -R u+w "$cache/oracle" || return 1
        (cd "$cache/oracle" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
    else
        # Refresh the scripts and data, keep node_modules.
        (cd "$oracle" && find . -path ./node_modules -prune -o -type f -print) | while read -r f; do
            cp -f "$oracle/$f" "$cache/oracle/$f" 2>/dev/null
        done
        chmod -R u+w "$cache/oracle"
    fi
    echo "$cache/oracle"
}
PLINTH_TFJS=$(tfjs_setup) || PLINTH_TFJS=""
export PLINTH_TFJS
[ -n "$PLINTH_TFJS" ] || echo "bench: node/npm unavailable, TensorFlow.js comparisons are skipped"

status=0
for src in "$here"/*.c; do
    name=$(basename "$src" .c)
    prog="$build/$name"
    [ -x "$prog" ] || { echo "== $name: not built"; status=1; continue; }
    echo "== $name"
    "$prog" || { echo "== $name failed"; status=1; }
done
for script in "$here"/*.sh; do
    [ "$(basename "$script")" = run.sh ] && continue
    echo "== $(basename "$script")"
    bash "$script" || { echo "== $(basename "$script") failed"; status=1; }
done
exit $status
