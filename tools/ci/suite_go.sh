#!/usr/bin/env bash
# Go binding tests: `go test` with the module proxy off (the package has no dependencies).
# Prints "SUITE-COUNT <passed> <failed>" for tools/test.sh.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root/bindings/go"
out=$(GOPROXY=off GOFLAGS=-mod=mod go test -v -count=1 ./... 2>&1)
rc=$?
echo "$out" | grep -E '^(--- |ok|FAIL|PASS)' | tail -n 30
passed=$(echo "$out" | grep -cE '^--- PASS' || true)
failed=$(echo "$out" | grep -cE '^--- FAIL' || true)
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "SUITE-COUNT ${passed} ${failed}"
