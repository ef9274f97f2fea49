#!/usr/bin/env bash
# ThreadSanitizer over the C ABI's threaded paths: //c_api:thread_safety_test (separate models
# pruned on separate threads equal sequential runs; cancellation from another thread) built and
# run with --config=tsan. See .bazelrc for why the jobs get one OpenMP thread each under TSan.
# No bazel-* symlinks are touched (--symlink_prefix=/), so the other suites keep reading the
# default build. Prints "SUITE-COUNT <passed> <failed>".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out=$(bazel test --config=tsan --symlink_prefix=/ //c_api:thread_safety_test 2>&1)
rc=$?
echo "$out" | grep -E '^//|Executed|ERROR' | tail -n 5
if [ "$rc" -ne 0 ]; then
  log=$(bazel info --config=tsan bazel-testlogs 2>/dev/null)/c_api/thread_safety_test/test.log
  [ -f "$log" ] && grep -E 'WARNING: ThreadSanitizer|SUMMARY|CHECK failed|failed:' "$log" | head -n 20
  echo "FAIL tsan thread_safety_test"
  echo "SUITE-COUNT 0 1"
else
  echo "PASS tsan thread_safety_test"
  echo "SUITE-COUNT 1 0"
fi
