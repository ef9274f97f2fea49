#!/usr/bin/env bash
# Rust binding tests: `cargo test --offline` (the crates have no dependencies from a registry),
# plus three checks counted as one test each:
#  - the gisp-sys FFI declarations match c_api/gisp.h (gisp-sys/regenerate.sh --check: bindgen
#    regenerates them into a temporary file and the result is diffed with the checked-in file;
#    a missing or unpinned bindgen counts as a failure, with the reason printed);
#  - the crates are rustfmt clean (cargo fmt --check);
#  - the build prints no compiler warnings.
# libgisp comes from the SDK installed from this checkout (tools/ci/sdk_env.sh), found by
# gisp-sys through pkg-config as users' builds find it; $GISP_LIB_DIR, when set, overrides it.
# Prints "SUITE-COUNT <passed> <failed>" for tools/test.sh.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=tools/ci/sdk_env.sh
source "$root/tools/ci/sdk_env.sh" || { echo "SUITE-COUNT 0 1"; exit 0; }
cd "$root/bindings/rust"

checks_passed=0
checks_failed=0
pass() { echo "PASS $1"; checks_passed=$((checks_passed + 1)); }
fail() { echo "FAIL $1"; checks_failed=$((checks_failed + 1)); }

gen=$(gisp-sys/regenerate.sh --check 2>&1)
case $? in
  0) pass "gisp-sys bindings regenerated from c_api/gisp.h are identical to the checked-in ones" ;;
  1)
    echo "$gen" | head -n 40
    fail "gisp-sys/src/bindings.rs differs from what bindgen makes of c_api/gisp.h (run bindings/rust/gisp-sys/regenerate.sh)"
    ;;
  *) fail "gisp-sys bindings check not run: $gen" ;;
esac

if fmt=$(cargo fmt --all -- --check 2>&1); then
  pass "rustfmt clean"
else
  echo "$fmt" | head -n 40
  fail "cargo fmt --check: not rustfmt clean (or rustfmt missing)"
fi

out=$(cargo test --offline --quiet 2>&1)
rc=$?
echo "$out" | grep -vE '^\s*$' | tail -n 30
passed=$(echo "$out" | grep -oE 'test result: .* ([0-9]+) passed' | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(echo "$out" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

# Cargo replays the warnings of crates it does not rebuild, so this sees them on every run.
warnings=$(echo "$out" | grep -E '^warning' | grep -vE '^warning: build failed' || true)
if [ -z "$warnings" ]; then
  pass "no compiler warnings"
else
  echo "$warnings" | head -n 20
  fail "compiler warnings"
fi

echo "SUITE-COUNT $((passed + checks_passed)) $((failed + checks_failed))"
