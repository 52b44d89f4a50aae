#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the demo need.
# Fast when everything is present: one dpkg query, no network.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libgrpc-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  libdnnl-dev libjpeg62-turbo-dev libspng-dev zlib1g-dev libmicrohttpd-dev libjansson-dev
  python3-grpcio python3-grpc-tools python3-protobuf python3-numpy python3-opencv
  curl openssl
  nginx wrk
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
