#!/usr/bin/env bash
# aarch64: cross-compiles the CPU backend (its portable kernel copy: no AVX, plain C++ that GCC
# vectorizes with NEON), oneDNN's GEMM, the reference backend and the kernel and CPU-support tests
# with Debian's g++-aarch64-linux-gnu (tools/ci/aarch64.mk, outside Bazel), and runs them under
# qemu-aarch64. Needs tools/setup.sh --tests (the cross compiler, qemu-user, arm64 multiarch
# absl/gtest/oneDNN runtime). Objects are kept per checkout, so a rerun rebuilds what changed.
# Prints "SUITE-COUNT <passed> <failed>".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
passed=0
failed=0
check() {  # check NAME CONDITION-RESULT
  if [ "$2" -eq 0 ]; then
    echo "PASS $1"
    passed=$((passed + 1))
  else
    echo "FAIL $1"
    failed=$((failed + 1))
  fi
}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gisp/aarch64"
out="$cache/$(printf '%s' "$root" | md5sum | cut -c1-12)"
# oneDNN's arm64 headers: libdnnl-dev:arm64 cannot be installed beside the amd64 one (their
# dnnl_config.h differ in the GPU runtime), so setup.sh unpacks it here.
dnnl_inc="$cache/dnnl-dev-arm64/usr/include"
missing=""
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=" g++-aarch64-linux-gnu"
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=" qemu-user"
[ -e /usr/lib/aarch64-linux-gnu/libdnnl.so.2 ] || missing+=" libdnnl2:arm64"
[ -e /usr/lib/aarch64-linux-gnu/libgtest.a ] || missing+=" libgtest-dev:arm64"
[ -e /usr/lib/aarch64-linux-gnu/pkgconfig/absl_status.pc ] || missing+=" libabsl-dev:arm64"
[ -e "$dnnl_inc/oneapi/dnnl/dnnl.hpp" ] || missing+=" $dnnl_inc (libdnnl-dev:arm64 unpacked)"
if [ -n "$missing" ]; then
  echo "FAIL missing:$missing (run tools/setup.sh --tests)"
  echo "SUITE-COUNT 0 1"
  exit 1
fi
jobs=$(nproc)
start=$(date +%s)
if make -s -j"$jobs" -f tools/ci/aarch64.mk ROOT="$root" OUT="$out" DNNL_INC="$dnnl_inc" \
  >/tmp/gisp_aarch64_build.log 2>&1; then
  check "cross build for aarch64 ($(($(date +%s) - start)) s)" 0
else
  tail -n 30 /tmp/gisp_aarch64_build.log
  check "cross build for aarch64" 1
  echo "SUITE-COUNT ${passed} ${failed}"
  exit 1
fi
aarch64-linux-gnu-readelf -h "$out/kernel_test" | grep -q 'Machine: *AArch64' ||
  check "kernel_test is an aarch64 binary" 1
for t in kernel_test cpu_support_test; do
  start=$(date +%s)
  log="/tmp/gisp_aarch64_$t.log"
  # Two OpenMP threads whatever the host has: emulated threads are slow to spin up.
  OMP_NUM_THREADS=2 timeout 600 qemu-aarch64 "$out/$t" >"$log" 2>&1
  rc=$?
  grep -E '^\[  (PASSED|FAILED|SKIPPED) |ISAs this CPU|cpu features' "$log" | grep -v '/cuda' | sed 's/^/  /'
  check "$t under qemu-aarch64 (rc $rc, $(($(date +%s) - start)) s)" "$rc"
done
echo "SUITE-COUNT ${passed} ${failed}"
[ "$failed" -eq 0 ]
