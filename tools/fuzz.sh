#!/usr/bin/env bash
# Builds gisp's libFuzzer targets (tools/fuzz/*_fuzzer.cc) with Debian's clang, ASan and UBSan,
# and runs each for SECONDS (default 60) on a corpus seeded from testdata and tools/fuzz/seeds.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]     e.g. tools/fuzz.sh 30, tools/fuzz.sh 600 json_fuzzer
#
# Prints one line per target: executions, corpus size and findings. A finding (crash, leak,
# timeout, out-of-memory, UBSan report) leaves its input under $GISP_FUZZ_OUT/findings/<target>/;
# fix the bug, then keep the input in tools/fuzz/seeds/<target>/ as a regression seed (every seed
# is run again on each invocation, before any mutation). Exit status 1 when anything was found.
#
# Outside Bazel on purpose: Bazel 4.2.3 here drives gcc, and libFuzzer is clang's. The gisp
# sources are compiled once into $GISP_FUZZ_OUT (default /tmp/gisp-fuzz-<hash of the checkout's
# path>) by tools/lib/clang_library.sh and recompiled when they change. gisp.pb.cc and spm_model.pb.cc come from protoc; Abseil, protobuf, Eigen (headers)
# and oneDNN from the system.
# A long run (issue 9 asks for >= 10^6 executions per target): GISP_FUZZ_RUNS stops each target
# after that many executions (SECONDS still caps it), e.g.
#   GISP_FUZZ_JOBS=1 GISP_FUZZ_RUNS=1000000 nice -n 10 tools/fuzz.sh 3600
# The targets write each input to a file (most gisp parsers take a path); the scratch directory
# is on tmpfs (/dev/shm) when there is one, which made the file-reading targets about 4x faster
# than a disk-backed /tmp (calibration_jsonl_fuzzer: 112 -> 446 executions/s, 2026-11-30).
set -euo pipefail

seconds="${1:-60}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
# One directory per checkout: objects are reused by modification time, so two checkouts on one
# machine (a clone and a worktree) must never share them.
out="${GISP_FUZZ_OUT:-/tmp/gisp-fuzz-$(printf '%s' "$root" | sha1sum | cut -c1-10)}"
jobs="${GISP_FUZZ_JOBS:-$(nproc)}"
cd "$root"

for tool in clang++ protoc pkg-config; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool is missing (tools/setup.sh --tests)" >&2; exit 2; }
done
fuzzer_rt="$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true)"
if [ ! -f "$fuzzer_rt" ] && ! ls "$(clang++ -print-resource-dir)"/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz: clang's libFuzzer runtime is missing (apt-get install libclang-rt-14-dev)" >&2
  exit 2
fi

mkdir -p "$out/bin"

# -mavx2 etc.: clang ignores the "#pragma GCC target" that gisp/base/cpu_features.h uses for the
# x86-64-v3 kernels, so they are enabled for the whole build (the fuzzers run on this project's
# machines, which all have AVX2). OpenMP pragmas are ignored: the parsers are single-threaded.
cxxflags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -mavx2 -mfma -mf16c -mbmi2
  -fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link
  -Wno-unknown-pragmas -I. -I"$out/gen" $(pkg-config --cflags eigen3 protobuf))
libs=($(pkg-config --libs absl_status absl_statusor absl_str_format absl_strings absl_flags \
  absl_flags_parse absl_synchronization absl_time absl_hash absl_raw_hash_set absl_random_random \
  protobuf) -ldnnl -lxxhash -l:libgomp.so.1 -lpthread)

# The library, compiled where it changed (tools/lib/clang_library.sh).
. tools/lib/clang_library.sh
gisp_clang_library "$out" "$jobs" "${cxxflags[@]}" || { echo "fuzz: compile failed" >&2; exit 2; }

# The targets.
if [ $# -gt 0 ]; then targets=("$@"); else
  mapfile -t targets < <(ls tools/fuzz/*_fuzzer.cc | xargs -n1 basename | sed 's/\.cc$//')
fi
for t in "${targets[@]}"; do
  if [ ! -x "$out/bin/$t" ] || [ "tools/fuzz/$t.cc" -nt "$out/bin/$t" ] || [ "$out/libgisp.a" -nt "$out/bin/$t" ]; then
    clang++ "${cxxflags[@]}" -fsanitize=fuzzer "tools/fuzz/$t.cc" "$out/libgisp.a" "${libs[@]}" \
      -o "$out/bin/$t"
  fi
done
# The record seed: a real record of the tiny model (the seed generator is not a fuzz target).
if [ ! -f "$out/seeds/record_fuzzer/tiny_record.pb" ] || [ "$out/libgisp.a" -nt "$out/seeds/record_fuzzer/tiny_record.pb" ]; then
  clang++ "${cxxflags[@]}" tools/fuzz/make_record_seed.cc "$out/libgisp.a" "${libs[@]}" \
    -fsanitize=fuzzer-no-link -o "$out/bin/make_record_seed"
  mkdir -p "$out/seeds/record_fuzzer"
  ASAN_OPTIONS=detect_leaks=0 "$out/bin/make_record_seed" "$out/seeds/record_fuzzer/tiny_record.pb"
fi
# The resume target continues that record with the calibration set and configuration it came from.
mkdir -p "$out/seeds/resume_fuzzer"
cp "$out/seeds/record_fuzzer/tiny_record.pb" "$out/seeds/resume_fuzzer/"

# Seeds from testdata (copied, so a corpus directory never points into the repository).
seed() {  # seed TARGET FILE...
  mkdir -p "$out/seeds/$1"
  local t="$1"; shift
  for f in "$@"; do cp "$f" "$out/seeds/$t/$(echo "$f" | tr '/' '_')"; done
}
seed json_fuzzer testdata/llama/*/config.json testdata/tokenizers/*/tokenizer_config.json
seed config_fuzzer testdata/llama/*/config.json testdata/tiny/model/config.json
seed shard_index_fuzzer testdata/llama/llama_sharded_gqa_f32/model.safetensors.index.json
# tokenizer.json: not testdata's files (28-190 KB: every execution parsed that much, about 500
# executions/s) but the same files cut to their first 320 tokens and the merges among them, in
# tools/fuzz/seeds/tokenizer_json_fuzzer/small_*.json (4-5 KB), with -max_len below.
seed tokenizer_config_fuzzer testdata/tokenizers/*/tokenizer_config.json testdata/tiny/model/tokenizer_config.json
# tokenizer.model: testdata's models (8-48 KB, about 270 executions/s) cut to their first 300
# pieces plus every non-normal piece (tools/fuzz/seeds/sentencepiece_fuzzer/small_*.model, 5 KB).
# Small safetensors files: the first KiB of each fixture (header intact, data cut short) and
# the tiny ones whole.
mkdir -p "$out/seeds/safetensors_fuzzer"
for f in testdata/llama/*/model*.safetensors; do
  head -c 4096 "$f" > "$out/seeds/safetensors_fuzzer/$(echo "$f" | tr '/' '_').head"
done

# Run.
runs=()
[ -n "${GISP_FUZZ_RUNS:-}" ] && runs=(-runs="$GISP_FUZZ_RUNS")
scratch="${TMPDIR:-/tmp}"
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then scratch=/dev/shm; fi
# Each fuzzer process makes its own directory in there; all of them go when this script ends.
scratch="$(mktemp -d "$scratch/gisp-fuzz-run.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
status=0
printf '%-26s %12s %8s %8s %s\n' target executions seconds corpus findings
for t in "${targets[@]}"; do
  corpus="$out/corpus/$t"
  findings="$out/findings/$t"
  mkdir -p "$corpus" "$findings" "$out/seeds/$t"
  dirs=("$corpus" "$out/seeds/$t")
  [ -d "tools/fuzz/seeds/$t" ] && dirs+=("tools/fuzz/seeds/$t")
  dict=()
  [ -f "tools/fuzz/dicts/$t.dict" ] && dict=(-dict="tools/fuzz/dicts/$t.dict")
  # Inputs larger than the seeds buy no coverage, only time per execution.
  case "$t" in
    tokenizer_json_fuzzer) dict+=(-max_len=16384) ;;
    sentencepiece_fuzzer) dict+=(-max_len=8192) ;;
  esac
  log="$out/$t.log"
  # Findings of earlier runs stay for inspection, in findings/<target>/old/, and do not count.
  mkdir -p "$findings/old"
  find "$findings" -maxdepth 1 -type f -exec mv -f {} "$findings/old/" \;
  # -rss_limit_mb: an input that makes gisp allocate gigabytes is a finding (issue 9's
  # "unbounded allocation"); -timeout: one input taking 10 s is a hang.
  set +e
  started=$(date +%s)
  TMPDIR="$scratch" ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$out/bin/$t" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 "${runs[@]}" -artifact_prefix="$findings/" "${dirs[@]}" \
    >"$log" 2>&1
  rc=$?
  set -e
  took=$(( $(date +%s) - started ))
  execs="$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)"
  found="$(find "$findings" -maxdepth 1 -type f | wc -l)"
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    what="$(grep -a -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|property failed|GISP_INTERNAL' "$log" || echo "exit $rc")"
    printf '%-26s %12s %8s %8s %s (%s)\n' "$t" "${execs:-?}" "$took" "$(ls "$corpus" | wc -l)" \
      "$found" "$what"
  else
    printf '%-26s %12s %8s %8s %s\n' "$t" "${execs:-?}" "$took" "$(ls "$corpus" | wc -l)" "0"
  fi
done
echo "logs and findings: $out"
exit "$status"
