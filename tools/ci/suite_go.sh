#!/usr/bin/env bash
# Go binding tests: `go test` with the module proxy off (the package has no dependencies),
# against the SDK installed from this checkout (tools/ci/sdk_env.sh: cgo finds it by pkg-config).
# Prints "SUITE-COUNT <passed> <failed>" for tools/test.sh.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tools/ci/sdk_env.sh
source "$root/tools/ci/sdk_env.sh" || { echo "SUITE-COUNT 0 1"; exit 0; }
cd "$root/bindings/go"
out=$(GOPROXY=off GOFLAGS=-mod=mod go test -v -count=1 ./... 2>&1)
rc=$?
echo "$out" | grep -E '^(--- |ok|FAIL|PASS)' | tail -n 30
passed=$(echo "$out" | grep -cE '^--- PASS' || true)
failed=$(echo "$out" | grep -cE '^--- FAIL' || true)
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "SUITE-COUNT ${passed} ${failed}"
