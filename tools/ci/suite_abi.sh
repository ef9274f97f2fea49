#!/usr/bin/env bash
# The C ABI's cross-binding table (docs/bindings.md) is complete and true: one row per exported
# gisp_* function, every function called by the Rust, Go and Python bindings, every counterpart
# the table names defined. Prints "SUITE-COUNT <passed> <failed>".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out=$(/usr/bin/python3 "$root/tools/abi/check_binding_table.py" "$root" 2>&1)
echo "$out"
passed=$(echo "$out" | grep -c '^PASS' || true)
failed=$(echo "$out" | grep -c '^FAIL' || true)
[ "$passed" -eq 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "SUITE-COUNT ${passed} ${failed}"
