#!/usr/bin/env bash
# Python binding tests (pytest on Debian's /usr/bin/python3, which has numpy and pytest).
# Prints "SUITE-COUNT <passed> <failed>" for tools/test.sh.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out=$(PYTHONPATH="$root/bindings/python" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  bindings/python/tests 2>&1)
rc=$?
echo "$out" | tail -n 30
passed=$(echo "$out" | grep -oE '[0-9]+ passed' | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(echo "$out" | grep -oE '[0-9]+ (failed|error)' | awk '{s+=$1} END {print s+0}')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "SUITE-COUNT ${passed:-0} ${failed:-0}"
