#!/usr/bin/env bash
# The consumer tests (tools/consumers): gisp's exports loaded by the runtimes they are meant for
# (transformers, the gguf reader, llama.cpp), pinned in tools/consumers/requirements.txt and
# installed into .consumers/venv by tools/setup.sh --tests. A runtime that is not installed makes
# its tests skip with the reason (printed by pytest -rs), never pass. Needs GISP_LIBRARY (set by
# tools/test.sh). Ends with "SUITE-COUNT <passed> <failed>".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
py="$root/.consumers/venv/bin/python"
if [ ! -x "$py" ] || ! "$py" -c "import pytest, numpy" >/dev/null 2>&1; then
  echo "SKIPPED: the consumer runtimes are not installed in .consumers/venv;" \
       "run tools/setup.sh --tests (log: .consumers/install.log)"
  echo "SUITE-COUNT 0 0"
  exit 0
fi
export GISP_LIBRARY="${GISP_LIBRARY:-$root/bazel-bin/c_api/libgisp.so.1}"
out=$(PYTHONPATH="$root/bindings/python:$root/tools/consumers" \
  "$py" -m pytest -q -rs -p no:cacheprovider tools/consumers "$@" 2>&1)
rc=$?
echo "$out" | tail -n 40
passed=$(echo "$out" | grep -oE '[0-9]+ passed' | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(echo "$out" | grep -oE '[0-9]+ (failed|error)' | awk '{s+=$1} END {print s+0}')
# pytest exits 5 when everything was skipped or deselected: not a failure, nothing passed.
if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "SUITE-COUNT ${passed:-0} ${failed:-0}"
