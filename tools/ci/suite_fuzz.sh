#!/usr/bin/env bash
# CI smoke run of every libFuzzer target (tools/fuzz.sh): the regression seeds first, then
# mutation for a share of a fixed budget (default 90 s in all, about 10 s a target, to keep CI
# within its time; GISP_FUZZ_SMOKE_BUDGET), so the
# whole suite stays within a few minutes on two cores once the objects are built.
# Prints "SUITE-COUNT <passed> <failed>" for tools/test.sh: one case per target, failed when it
# found anything (crash, leak, hang, > 2 GB, UBSan, GISP_INTERNAL).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
budget="${GISP_FUZZ_SMOKE_BUDGET:-90}"
n=$(ls tools/fuzz/*_fuzzer.cc | wc -l)
per=$(( budget / n ))
[ "$per" -lt 5 ] && per=5
out=$(tools/fuzz.sh "$per" 2>&1)
rc=$?
echo "$out" | tail -n $(( n + 3 ))
# Columns: target, executions, seconds, corpus, findings (then the first report, when any).
passed=$(echo "$out" | awk '$1 ~ /_fuzzer$/ && $5 == "0" && NF == 5' | wc -l)
failed=$(( n - passed ))
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "SUITE-COUNT ${passed} ${failed}"
