#!/usr/bin/env bash
# ThreadSanitizer, two ways. Prints "SUITE-COUNT <passed> <failed>" over both.
#  1. Bazel --config=tsan over the C ABI's threaded paths: //c_api:thread_safety_test (separate
#     models pruned on separate threads equal sequential runs; cancellation from another thread).
#     Debian's libgomp is not instrumented, so there the jobs get one OpenMP thread each (.bazelrc).
#     No bazel-* symlinks are touched (--symlink_prefix=/), so the other suites keep reading the
#     default build.
#  2. tools/tsan_openmp.sh: the OpenMP kernels themselves, the kernel tests and the same C ABI
#     test with four OpenMP threads, on LLVM's libomp with Archer (clang build), after three
#     controls that show a race would be reported.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
passed=0
failed=0
out=$(bazel test --config=tsan --symlink_prefix=/ //c_api:thread_safety_test 2>&1)
rc=$?
echo "$out" | grep -E '^//|Executed|ERROR' | tail -n 5
if [ "$rc" -ne 0 ]; then
  log=$(bazel info --config=tsan bazel-testlogs 2>/dev/null)/c_api/thread_safety_test/test.log
  [ -f "$log" ] && grep -E 'WARNING: ThreadSanitizer|SUMMARY|CHECK failed|failed:' "$log" | head -n 20
  echo "FAIL tsan thread_safety_test"
  failed=$((failed + 1))
else
  echo "PASS tsan thread_safety_test"
  passed=$((passed + 1))
fi
omp=$(tools/tsan_openmp.sh 2>&1)
echo "$omp" | grep -v '^SUITE-COUNT'
counts=$(echo "$omp" | grep '^SUITE-COUNT' | tail -n 1)
if [ -n "$counts" ]; then
  passed=$((passed + $(echo "$counts" | awk '{print $2}')))
  failed=$((failed + $(echo "$counts" | awk '{print $3}')))
else
  echo "FAIL tsan-openmp: tools/tsan_openmp.sh did not run (see above)"
  failed=$((failed + 1))
fi
echo "SUITE-COUNT $passed $failed"
