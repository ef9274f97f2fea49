#!/usr/bin/env bash
# What tools/ci/suite_aarch64.sh needs (idempotent, quiet when present; tools/setup.sh --tests
# runs it): Debian's aarch64 cross compiler, the arm64 multiarch absl, gtest and oneDNN runtime,
# and oneDNN's arm64 headers unpacked into the cache (libdnnl-dev:arm64 cannot be installed beside
# libdnnl-dev:amd64: their dnnl_config.h differ in the GPU runtime).
set -euo pipefail
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
update=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
  update=1
fi
packages=(g++-aarch64-linux-gnu qemu-user libabsl-dev:arm64 libgtest-dev:arm64 libdnnl2:arm64)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq >/dev/null
  # --no-remove: never let apt make room for arm64 packages by removing host ones.
  $SUDO apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}" >/dev/null
elif [ "$update" -eq 1 ]; then
  $SUDO apt-get update -qq >/dev/null
fi
dest="${XDG_CACHE_HOME:-$HOME/.cache}/gisp/aarch64/dnnl-dev-arm64"
if [ ! -e "$dest/usr/include/oneapi/dnnl/dnnl.hpp" ]; then
  echo "setup: unpacking libdnnl-dev:arm64 headers into $dest" >&2
  tmp="$(mktemp -d)"
  chmod 777 "$tmp"  # apt-get download drops to the _apt user
  (cd "$tmp" && apt-get download -qq libdnnl-dev:arm64 >/dev/null 2>&1)
  rm -rf "$dest.tmp"
  mkdir -p "$(dirname "$dest")"  # a fresh machine has no ~/.cache/gisp/aarch64; dpkg -x makes one level only
  dpkg -x "$tmp"/libdnnl-dev_*_arm64.deb "$dest.tmp"
  rm -rf "$dest" "$tmp"
  mv "$dest.tmp" "$dest"
fi
