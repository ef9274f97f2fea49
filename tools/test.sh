#!/usr/bin/env bash
# Runs every gisp test suite and prints one summary line at the end: "N passed, N failed".
#   C++ (gtest, through `bazel test //...`), and the C, Rust, Go and Python binding suites
#   when their directories exist. Installs what the tests need first (tools/setup.sh).
# Exit status: 0 when everything passed.
set -uo pipefail
cd "$(dirname "$0")/.."
# Each section ends with its wall time, to see where a CI run's minutes go.
# All of them again on one line before the summary.
times=""
took() {
  echo "-- $1 took $((SECONDS - $2)) s"
  times="${times:+$times, }$1 $((SECONDS - $2)) s"
}
t0=$SECONDS
tools/setup.sh --tests
took "setup" "$t0"
# The suites below run gisp processes side by side with Bazel's: passive OpenMP waiting shares the
# cores instead of spinning on them (no effect on results).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

t0=$SECONDS
echo "== C++ tests (bazel test //...)"
bazel test //... 2>&1 | tee "$results/bazel.log" | grep -E '^//|^Executed|ERROR' || true
bazel_rc=${PIPESTATUS[0]}

# Count test cases from the JUnit XML every test target writes (gtest and pytest alike).
/usr/bin/python3 tools/ci/count_junit.py bazel-testlogs > "$results/bazel.count" || echo "0 0 0" > "$results/bazel.count"
read -r passed failed skipped < "$results/bazel.count"
# A target that failed to build or timed out has no test cases: count it as one failure.
broken=$(grep -cE '^//\S+ .*(FAILED TO BUILD|NO STATUS|TIMEOUT)' "$results/bazel.log" || true)
failed=$((failed + broken))
if [ "$bazel_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
took "bazel" "$t0"

# The binding suites run against the built shared library and compare their records with the
# one the CLI writes for the same configuration.
export GISP_LIBRARY="$PWD/bazel-bin/c_api/libgisp.so.1"
export GISP_CLI_RECORD="$results/cli_record.pb"
if ! bazel build //c_api:shared_library //tools:prune >"$results/build.log" 2>&1; then
  tail -n 20 "$results/build.log"
  failed=$((failed + 1))
elif ! tools/ci/cli_reference_record.sh "$GISP_CLI_RECORD"; then
  echo "the CLI reference run failed"
  failed=$((failed + 1))
fi

for suite in tools/ci/suite_*.sh; do
  [ -e "$suite" ] || continue
  name=$(basename "$suite" .sh)
  echo "== ${name#suite_} tests"
  t0=$SECONDS
  if out=$("$suite" 2>&1); then :; fi
  echo "$out" | tail -n 40
  took "${name#suite_}" "$t0"
  counts=$(echo "$out" | grep -E '^SUITE-COUNT [0-9]+ [0-9]+$' | tail -n 1)
  if [ -n "$counts" ]; then
    set -- $counts
    passed=$((passed + $2))
    failed=$((failed + $3))
  else
    failed=$((failed + 1))
  fi
done

# The CUDA configuration: the whole tree builds with --config=cuda (nvcc + cuBLAS from the CUDA
# toolkit every project machine has), and the tests that run one body on every backend run again
# in that build. Without a GPU (or a driver) their CUDA cases report themselves as skipped, with
# the reason; with one they run. Last, because a --config=cuda command repoints bazel-bin.
echo "== CUDA build (bazel build --config=cuda //...) and backend-parameterized tests"
t0=$SECONDS
if [ ! -x /usr/local/cuda/bin/nvcc ]; then
  echo "skipped: no CUDA toolkit at /usr/local/cuda (nvcc not found)"
  skipped=$((skipped + 1))
elif ! bazel build --config=cuda //... >"$results/cuda_build.log" 2>&1; then
  grep -E 'error|ERROR' "$results/cuda_build.log" | head -n 20
  failed=$((failed + 1))
else
  cuda_tests=(//gisp/backend:kernel_test //gisp/model:model_test //gisp/integration:torch_parity_test
              //gisp/prune:torch_gisp_parity_test)
  bazel test --config=cuda "${cuda_tests[@]}" 2>&1 | tee "$results/cuda_test.log" | grep -E '^//|^Executed' || true
  cuda_rc=${PIPESTATUS[0]}
  cuda_logs=$(mktemp -d)
  for t in "${cuda_tests[@]}"; do
    path=${t#//}
    path=${path/://}
    mkdir -p "$cuda_logs/$path" && cp "bazel-testlogs/$path/test.xml" "$cuda_logs/$path/" 2>/dev/null
  done
  read -r cp cf cs < <(/usr/bin/python3 tools/ci/count_junit.py "$cuda_logs")
  rm -rf "$cuda_logs"
  echo "cuda configuration: ${cp} passed, ${cf} failed, ${cs} skipped"
  passed=$((passed + cp))
  failed=$((failed + cf))
  skipped=$((skipped + cs))
  if [ "$cuda_rc" -ne 0 ] && [ "$cf" -eq 0 ]; then failed=$((failed + 1)); fi
fi

took "cuda" "$t0"
echo "wall time: ${times}; total ${SECONDS} s"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
