#!/usr/bin/env bash
# Installs what gisp needs to build and test on a fresh Debian 12 machine (idempotent; prints
# nothing when everything is present). Bazel 4.2.3 and every library come from Debian's archive,
# see ../shared/docs/toolchain.md for why each one is needed.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-rules-java pkg-config
  libabsl-dev libeigen3-dev libdnnl-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev
  golang-go python3-numpy python3-pytest
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
  missing+=(cargo)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
