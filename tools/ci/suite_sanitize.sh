#!/usr/bin/env bash
# AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer over the core C++ tests, in
# one build: `bazel test --config=asan_ubsan` (.bazelrc; every UBSan check fatal) on every C++ test
# target under //gisp and //c_api (docs/reliability.md has the time this takes).
#
# A test fails when it fails, and also when its log holds a sanitizer report at all (a report in a
# child process whose exit status the test does not look at still fails the suite).
# No bazel-* symlinks are touched (--symlink_prefix=/), so the other suites keep reading the
# default build. Prints one line per failed target and "SUITE-COUNT <passed> <failed>" (test
# cases, as tools/test.sh counts the default run).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# C++ tests only: the sh_/py_ tests (the layering check, the exported-symbol list of libgisp.so)
# check the build, not the code, and the symbol list differs on purpose under ASan.
targets=$(bazel query --noshow_progress \
  'kind("cc_test", tests(//gisp/... + //c_api/...))' \
  2>/dev/null)
if [ -z "$targets" ]; then
  echo "FAIL sanitize: bazel query found no test targets"
  echo "SUITE-COUNT 0 1"
  exit 1
fi
out=$(bazel test --config=asan_ubsan --symlink_prefix=/ $targets 2>&1)
rc=$?
echo "$out" | grep -E '^//|Executed|ERROR' | tail -n 40

testlogs=$(bazel info --config=asan_ubsan bazel-testlogs 2>/dev/null)
# Only this run's targets: the testlogs directory may hold results of other asan_ubsan runs.
mine=$(mktemp -d)
trap 'rm -rf "$mine"' EXIT
for t in $targets; do
  path=${t#//}
  path=${path/://}
  [ -f "$testlogs/$path/test.xml" ] && mkdir -p "$mine/$path" && cp "$testlogs/$path/test.xml" "$mine/$path/"
done
read -r passed failed skipped < <(/usr/bin/python3 tools/ci/count_junit.py "$mine")
: "${passed:=0}" "${failed:=0}"
# Targets that did not run to the end (failed to build, timed out) have no test cases.
broken=$(echo "$out" | grep -cE '^//\S+ .*(FAILED TO BUILD|NO STATUS|TIMEOUT)' || true)
failed=$((failed + broken))
# Any sanitizer report counts, even in a test that passed (a failed test is counted already).
reports=0
for t in $targets; do
  grep -qE "^$t +.*PASSED" <<<"$out" || continue
  path=${t#//}
  log="$testlogs/${path/://}/test.log"
  [ -f "$log" ] || continue
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
    echo "FAIL $t: sanitizer report in $log"
    grep -m 5 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY:' "$log"
    reports=$((reports + 1))
  fi
done
failed=$((failed + reports))
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "SUITE-COUNT ${passed} ${failed}"
