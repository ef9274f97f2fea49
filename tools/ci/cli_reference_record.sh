#!/usr/bin/env bash
# Writes the record the CLI produces for the bindings' parity configuration to $1:
# the tiny model, 8 windows of 64 tokens (seed 0) from its calibration text, ratio 0.5,
# 3 steps, batch size 4, defaults otherwise. Every binding's tests prune with the same settings
# and require byte-identical records. Needs `bazel build //tools:prune`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cd "$root"
bazel-bin/tools/prune --model testdata/tiny/model --calib testdata/tiny/calib.txt \
  --objective lm --window 64 --windows 8 --seed 0 --ratio 0.5 --steps 3 --batch_size 4 \
  --targets "" --eval "" --export_models=false --out "$out" >/dev/null 2>"$out.log" \
  || { cat "$out.log" >&2; exit 1; }
cp "$out/record.pb" "$1"
