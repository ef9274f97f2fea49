#!/usr/bin/env bash
# The `export` command: every format from one record, and bad input refused with a message
# naming what and why, with nothing left behind (no output directory, no partial files).
set -uo pipefail
export_bin="tools/export"
model="testdata/tiny/model"
record="tools/consumers/tiny_record.pb"
out="$TEST_TMPDIR/deploy"
fail() { echo "FAIL: $*"; exit 1; }

# Every format at 30 %.
"$export_bin" --model "$model" --record "$record" --targets 0.3 --export sliced,llama,gguf,decilm \
  --dtype f32 --out "$out" >"$TEST_TMPDIR/ok.log" 2>&1 || { cat "$TEST_TMPDIR/ok.log"; fail "export"; }
for f in sliced/config.json llama/config.json llama/model.safetensors gguf/model.gguf \
         decilm/config.json decilm/configuration_decilm.py decilm/tokenizer.model; do
  [ -s "$out/sparsity-0.30/$f" ] || fail "missing $f"
done
grep -q '"gisp_sliced"' "$out/sparsity-0.30/sliced/config.json" || fail "sliced model_type"
grep -q '"DeciLMForCausalLM"' "$out/sparsity-0.30/decilm/config.json" || fail "decilm arch"
grep -q '"AutoConfig": "configuration_decilm.DeciLMConfig"' "$out/sparsity-0.30/decilm/config.json" \
  || fail "decilm auto_map"
grep -q "llama, 3541440 parameters (exact 2816448)" "$TEST_TMPDIR/ok.log" || fail "counts"

# expect_error <exit code> <message part> <args...>: fails as told and leaves nothing new.
expect_error() {
  local code="$1" part="$2"; shift 2
  local before after
  before=$(find "$TEST_TMPDIR" | sort)
  "$export_bin" "$@" >"$TEST_TMPDIR/err.log" 2>&1
  local rc=$?
  [ "$rc" -eq "$code" ] || { cat "$TEST_TMPDIR/err.log"; fail "exit $rc, expected $code: $*"; }
  grep -q -- "$part" "$TEST_TMPDIR/err.log" || { cat "$TEST_TMPDIR/err.log"; fail "no '$part'"; }
  after=$(find "$TEST_TMPDIR" | grep -v err.log | sort)
  [ "$(echo "$before" | grep -v err.log)" = "$after" ] || fail "left files behind: $*"
}
# The same output again: non-empty directory.
expect_error 1 "not empty" --model "$model" --record "$record" --targets 0.3 --export llama \
  --out "$out"
# A record of another model (fingerprint).
expect_error 1 "another model" --model testdata/llama/llama3_gqa_headdim_f32 --record "$record" \
  --targets 0.3 --export llama --out "$TEST_TMPDIR/other"
# A record of format_version 1 (the former fingerprint hash): refused with what to do. The
# binary record starts with field 1 (format_version), tag 0x08, value 2.
[ "$(head -c 2 "$record" | od -An -tx1 | tr -d ' ')" = "0802" ] || fail "record: unexpected start"
{ printf '\010\001'; tail -c +3 "$record"; } >"$TEST_TMPDIR/v1.pb"
expect_error 1 "format_version 1 is no longer supported" --model "$model" \
  --record "$TEST_TMPDIR/v1.pb" --targets 0.3 --export llama --out "$TEST_TMPDIR/v1"
grep -q "Prune again" "$TEST_TMPDIR/err.log" || { cat "$TEST_TMPDIR/err.log"; fail "v1: no way forward"; }
# A sparsity the run never reached.
expect_error 1 "0.9" --model "$model" --record "$record" --targets 0.9 --export llama \
  --out "$TEST_TMPDIR/far"
# A step the record does not have, an unknown format, a missing flag.
expect_error 2 "not a completed step" --model "$model" --record "$record" --steps 99 \
  --export llama --out "$TEST_TMPDIR/step"
expect_error 2 "unknown format \"onnx\"" --model "$model" --record "$record" --targets 0.3 \
  --export onnx --out "$TEST_TMPDIR/onnx"
expect_error 2 "required" --record "$record" --targets 0.3 --out "$TEST_TMPDIR/none"
echo "PASS"
