#!/usr/bin/env bash
# Creates or updates the consumers' venv (.consumers/venv, git-ignored) from requirements.txt,
# with the pyenv/PATH python3 (it reaches PyPI), and builds llama-cpp-python once into
# .consumers/wheels so later runs reuse the wheel instead of compiling llama.cpp again.
# Idempotent and quiet when everything is present: a stamp holds the hash of what was installed.
# A failed install leaves no stamp; the consumer tests then skip with the reason
# (.consumers/install.log) instead of passing.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# .consumers is a link to a cache outside the checkout (default ~/.cache/gisp/consumers): the venv
# (several GB, PyPI's torch is the CUDA build) and the llama.cpp wheel are then built once per
# machine, not once per clone (CI tests a fresh clone every time).
cache="${GISP_CONSUMERS_CACHE:-$HOME/.cache/gisp/consumers}"
if [ ! -e "$root/.consumers" ]; then
  mkdir -p "$cache" && ln -s "$cache" "$root/.consumers"
fi
# The venv is made and used by its real path, so its scripts keep working from any clone.
dir="$(readlink -f "$root/.consumers")"
venv="$dir/venv"
wheels="$dir/wheels"
reqs="$root/tools/consumers/requirements.txt"
llama_pin="llama-cpp-python==0.3.36"
stamp="$venv/.gisp-stamp"
want="$(sha256sum "$reqs" | cut -c1-16)-$llama_pin"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

mkdir -p "$dir" "$wheels"
log="$dir/install.log"
echo "setup: installing the consumer runtimes into $venv (log: $log)" >&2
{
  set -e
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r "$reqs"
  # llama-cpp-python compiles llama.cpp (several minutes on two cores): keep the built wheel.
  if ! ls "$wheels"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
    CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
      "$venv/bin/pip" wheel -q --no-deps -w "$wheels" "$llama_pin"
  fi
  "$venv/bin/pip" install -q --no-deps "$wheels"/llama_cpp_python-0.3.36-*.whl
  # llama-cpp-python's own runtime dependencies (diskcache, jinja2, typing-extensions, numpy).
  "$venv/bin/pip" install -q diskcache jinja2 typing-extensions
} >"$log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  echo "setup: consumer runtimes not installed (exit $rc); see $log" >&2
  exit 0  # the consumer tests skip and say why; the rest of the setup goes on
fi
echo "$want" >"$stamp"
