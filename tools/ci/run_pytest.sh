#!/usr/bin/env bash
# Runs pytest on Debian's /usr/bin/python3 (the interpreter that sees python3-torch, numpy and
# pytest) with the given arguments, shows the tail of its output and ends with the line
# "SUITE-COUNT <passed> <failed>" that tools/test.sh adds up. A pytest that fails without
# reporting a count (a collection error, a crash) counts as one failure.
set -uo pipefail
out=$(/usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" 2>&1)
rc=$?
echo "$out" | tail -n 30
passed=$(echo "$out" | grep -oE '[0-9]+ passed' | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(echo "$out" | grep -oE '[0-9]+ (failed|error)' | awk '{s+=$1} END {print s+0}')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "SUITE-COUNT ${passed:-0} ${failed:-0}"
