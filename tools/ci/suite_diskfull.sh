#!/usr/bin/env bash
# A full disk: the prune CLI writes into a 3 MB tmpfs that holds the record but not the exported
# model. It must fail with an error that says the disk is full and names the file, leave the
# complete record (and no temporary or partial files) behind, and a rerun with room must resume
# from that record and finish. Needs root to mount the tmpfs; elsewhere it says so and counts
# nothing. Prints "SUITE-COUNT <passed> <failed>".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
passed=0
failed=0
check() {  # check NAME STATUS (0 = pass)
  if [ "$2" -eq 0 ]; then echo "PASS $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi
}
small=$(mktemp -d)
roomy=$(mktemp -d)
cleanup() { umount "$small" 2>/dev/null; rm -rf "$small" "$roomy"; }
trap cleanup EXIT
if ! mount -t tmpfs -o size=3m tmpfs "$small" 2>/dev/null; then
  echo "SKIPPED: cannot mount a small tmpfs here (needs root); the disk-full checks did not run"
  echo "SUITE-COUNT 0 0"
  exit 0
fi
if ! bazel build //tools:prune >/tmp/gisp_diskfull_build.log 2>&1; then
  tail -n 20 /tmp/gisp_diskfull_build.log
  echo "SUITE-COUNT 0 1"
  exit 1
fi
prune="$(bazel info bazel-bin 2>/dev/null)/tools/prune"
args=(--model "$root/testdata/tiny/model" --calib "$root/testdata/tiny/calib.txt" --steps 3
      --ratio 0.3 --windows 8 --window 64 --targets 0.1)
out=$("$prune" "${args[@]}" --out "$small/run" 2>&1)
rc=$?
echo "$out" | grep -m1 -iE 'error' | cut -c1-200
[ "$rc" -ne 0 ]; check "the CLI fails when the disk fills (rc $rc)" $?
echo "$out" | grep -qiE 'disk is full|no space left'; check "the error says the disk is full" $?
echo "$out" | grep -qE "$small/run/models"; check "the error names the file being written" $?
[ -s "$small/run/record.pb" ]; check "the complete record is kept" $?
leftovers=$(find "$small" -name '*gisp-tmp*' -o -name '*gisp-partial*' | wc -l)
[ "$leftovers" -eq 0 ]; check "no temporary or partial files are left ($leftovers)" $?
# With room: the same command resumes from the kept record and completes.
cp -r "$small/run" "$roomy/run"
out=$("$prune" "${args[@]}" --out "$roomy/run" 2>&1)
rc=$?
[ "$rc" -eq 0 ]; check "a rerun with room completes (rc $rc)" $?
echo "$out" | grep -qiE 'resum'; check "the rerun resumes from the kept record" $?
echo "SUITE-COUNT ${passed} ${failed}"
[ "$failed" -eq 0 ]
