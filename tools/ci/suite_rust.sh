#!/usr/bin/env bash
# Rust binding tests: `cargo test --offline` (the crates have no dependencies from a registry).
# Prints "SUITE-COUNT <passed> <failed>" for tools/test.sh.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$root/bindings/rust"
export GISP_LIB_DIR="$root/bazel-bin/c_api"
out=$(cargo test --offline --quiet 2>&1)
rc=$?
echo "$out" | grep -vE '^\s*$' | tail -n 30
passed=$(echo "$out" | grep -oE 'test result: .* ([0-9]+) passed' | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(echo "$out" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "SUITE-COUNT ${passed} ${failed}"
