#!/usr/bin/env bash
# The device check for sessions lent a GPU (see the device tool): builds with --config=cuda,
# runs every test, reports the GPU, and runs the CPU benchmark for comparison; results go to
# $OUT (or ./gpu_check_out). The CUDA backend is not implemented yet, so today this only proves
# that the CUDA build links and that CreateCudaBackend reports Unimplemented cleanly.
set -uo pipefail
out="${OUT:-gpu_check_out}"
mkdir -p "$out"
tools/setup.sh
{ nvidia-smi || echo "no nvidia-smi"; } > "$out/nvidia-smi.txt" 2>&1
bazel build --config=cuda //... > "$out/build.log" 2>&1 && echo "cuda build: ok" || echo "cuda build: FAILED"
bazel test --config=cuda //... > "$out/test.log" 2>&1 && echo "tests: ok" || echo "tests: FAILED"
tail -n 40 "$out/test.log"
bazel run --config=cuda //tools/bench:calibration_pass -- --torch=false > "$out/bench.txt" 2>&1
cat "$out/bench.txt"
