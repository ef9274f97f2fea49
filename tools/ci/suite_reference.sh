#!/usr/bin/env bash
# The PyTorch oracle's own tests: the reference Llama (tools/reference/test_torch_llama.py), the
# reference GISP (test_torch_gisp.py: threshold rule, normalization, masks, and that the checked-in
# fixtures regenerate within tolerances), the fixture generator and the tiny model's training
# checks, and a tiny-shape smoke run of the benchmark's PyTorch half. Needs python3-torch (tools/setup.sh --tests).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
exec tools/ci/run_pytest.sh tools/reference tools/fixtures tools/train_tiny tools/bench
