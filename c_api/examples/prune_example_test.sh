#!/usr/bin/env bash
# Runs the C example of docs/c_api.md on the embedded model and checks its export loads (has a
# config.json with gisp_per_layer_config and weights).
set -euo pipefail
out="${TEST_TMPDIR:-$(mktemp -d)}/exported"
c_api/examples/prune_example testdata/tiny/model testdata/tiny/calib.txt "$out" 0.3
grep -q "\"gisp_per_layer_config\"" "$out/config.json"
[ -s "$out/model.safetensors" ]
[ -s "$out/tokenizer.model" ]
echo "example ran and exported a loadable directory"
