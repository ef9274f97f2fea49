#!/usr/bin/env bash
# Portability: gisp is compiled for baseline x86-64 and its CPU kernels once per ISA (AVX2+FMA,
# AVX-512, chosen at run time), so a host process on an older CPU, or one forcing an ISA its CPU
# lacks (GISP_CPU_ISA), must get a clear error, never SIGILL. Runs the CPU-support test and the
# prune CLI under qemu-user emulating a CPU without AVX2 (Nehalem) and one with AVX2 but without
# AVX-512 (Haswell). No emulated AVX-512 CPU: qemu 7.2's TCG has no AVX-512 (-cpu Skylake-Server
# or Icelake-Server warn "TCG doesn't support requested feature: avx512f" and hide it from CPUID),
# so the AVX-512 kernels run natively in kernel_test on an AVX-512 host only.
# Needs qemu-user (tools/setup.sh --tests). Prints "SUITE-COUNT <passed> <failed>".
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
if ! command -v qemu-x86_64 >/dev/null 2>&1; then
  echo "FAIL qemu-x86_64 not found: install qemu-user (tools/setup.sh --tests)"
  echo "SUITE-COUNT 0 1"
  exit 1
fi
if ! bazel build //gisp/backend:cpu_support_test //tools:prune >/tmp/gisp_portable_build.log 2>&1; then
  tail -n 20 /tmp/gisp_portable_build.log
  echo "SUITE-COUNT 0 1"
  exit 1
fi
bin="$(bazel info bazel-bin 2>/dev/null)"
for cpu in Nehalem Haswell; do
  out=$(timeout 300 qemu-x86_64 -cpu "$cpu" "$bin/gisp/backend/cpu_support_test" 2>&1)
  rc=$?
  echo "$out" | grep -E 'cpu features|refused|ISAs this CPU' | sed "s/^/  [$cpu] /"
  check "cpu_support_test on an emulated $cpu (rc $rc)" "$rc"
  if [ "$cpu" = Haswell ]; then
    ok=1
    echo "$out" | grep -q "avx512 refused as expected" && ok=0
    check "forcing the AVX-512 kernels on an emulated Haswell is a Status" "$ok"
  fi
done
# The CLI on a CPU without AVX2: a clear error and a failing exit status, not a signal.
# GOMP_SPINCOUNT given: otherwise the CLI re-executes itself to set it (tools/cli/openmp_env.h),
# and qemu-user runs that new process natively, on the real CPU.
tmp=$(mktemp -d)
out=$(cd "$tmp" && GOMP_SPINCOUNT=10000 timeout 300 qemu-x86_64 -cpu Nehalem "$bin/tools/prune" --model "$root/testdata/tiny/model" \
  --calib "$root/testdata/tiny/calib.txt" --out "$tmp/out" --steps 2 2>&1)
rc=$?
rm -rf "$tmp"
echo "$out" | grep -m1 -E 'x86-64-v3' | sed 's/^/  [Nehalem] prune: /'
ok=1
if [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && echo "$out" | grep -q 'x86-64-v3'; then ok=0; fi
check "prune CLI on an emulated Nehalem exits with an error naming x86-64-v3 (rc $rc)" "$ok"
# The CLI forced onto AVX-512 kernels on a CPU without them: an error naming GISP_CPU_ISA.
tmp=$(mktemp -d)
out=$(cd "$tmp" && GISP_CPU_ISA=avx512 GOMP_SPINCOUNT=10000 timeout 300 qemu-x86_64 -cpu Haswell "$bin/tools/prune" \
  --model "$root/testdata/tiny/model" --calib "$root/testdata/tiny/calib.txt" --out "$tmp/out" --steps 2 2>&1)
rc=$?
rm -rf "$tmp"
echo "$out" | grep -m1 -E 'GISP_CPU_ISA' | sed 's/^/  [Haswell] prune: /'
ok=1
if [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && echo "$out" | grep -q 'GISP_CPU_ISA=avx512'; then ok=0; fi
check "prune CLI with GISP_CPU_ISA=avx512 on an emulated Haswell exits with an error (rc $rc)" "$ok"
echo "SUITE-COUNT ${passed} ${failed}"
[ "$failed" -eq 0 ]
