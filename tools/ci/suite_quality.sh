#!/usr/bin/env bash
# The benchmark model's manifest (tools/train_bench), its data generators (tools/tasks: task
# split, multiple-choice set, byte-identical regeneration) and a smoke run of tools/quality on the
# tiny model (two methods, three steps, a few items; about 40 s). Needs the prune CLI, libgisp and
# quality_chart built (tools/test.sh builds the first two; this suite builds the chart tool),
# python3-numpy, python3-torch and bible-kjv (tools/setup.sh --tests).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! bazel build //tools/quality:quality_chart >/dev/null 2>&1; then
  echo "FAIL: bazel build //tools/quality:quality_chart"
  echo "SUITE-COUNT 0 1"
  exit 0
fi
exec tools/ci/run_pytest.sh tools/tasks tools/quality tools/train_bench
