#!/bin/bash
# The scaling projections must not rot: tools/bench/project_scaling.py passes its self-checks
# (parameter counts, the CPU benchmark's rate reproduced by the FLOP model) and docs/scaling.md
# holds exactly what the script prints between its markers. After changing the script or its
# inputs, regenerate the block:
#   /usr/bin/python3 tools/bench/project_scaling.py   # paste between the markers in docs/scaling.md
set -euo pipefail
script="$1"
doc="$2"
/usr/bin/python3 "$script" --check
/usr/bin/python3 "$script" > "$TEST_TMPDIR/generated.md"
sed -n '/^<!-- project_scaling.py: begin -->$/,/^<!-- project_scaling.py: end -->$/p' "$doc" |
  sed '1d;$d' > "$TEST_TMPDIR/doc.md"
if [[ ! -s $TEST_TMPDIR/doc.md ]]; then
  echo "FAIL: $doc has no block between <!-- project_scaling.py: begin --> and <!-- project_scaling.py: end -->"
  exit 1
fi
if ! diff -u "$TEST_TMPDIR/doc.md" "$TEST_TMPDIR/generated.md"; then
  echo "FAIL: $doc's projections differ from what $script prints (diff above: - doc, + script)"
  exit 1
fi
echo "PASS: $doc's projections are the script's output"
