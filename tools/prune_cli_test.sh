#!/usr/bin/env bash
# End-to-end tests of the prune CLI: bad input gets a clear error and writes nothing partial;
# a run killed at any point resumes to a record byte-identical to an uninterrupted run; a
# record from another calibration set is refused; relative paths resolve against the caller's
# directory; the plot is written as a PNG and an SVG that parse and show the run's points; a run
# with --stream_layers writes the same record; srun tasks without an MPI plugin are refused.
# Prints one line per check; exits non-zero on the first failure.
set -uo pipefail
prune="$PWD/tools/prune"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
small=(--windows 16 --window 64 --batch_size 8 --steps 6 --ratio 0.5 --targets 0.3
       --export_models=false)
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

expect_error() {  # name, expected exit code, message fragment, args...
  local name="$1" code="$2" fragment="$3"; shift 3
  local out="$tmp/$name.out"
  "$prune" "$@" >"$out" 2>&1
  local rc=$?
  [ "$rc" -eq "$code" ] || { cat "$out"; fail "$name: exit $rc, expected $code"; }
  grep -qF -- "$fragment" "$out" || { cat "$out"; fail "$name: message lacks '$fragment'"; }
  pass "$name"
}

expect_error ratio 2 "ratio must be in [0, 1)" --ratio 1.2 --out "$tmp/r"
[ ! -e "$tmp/r" ] || fail "ratio: output directory was created"
expect_error unreachable_target 2 "above the sparsity" --ratio 0.3 --targets 0.95 --out "$tmp/t"
[ ! -e "$tmp/t" ] || fail "unreachable_target: output directory was created"
expect_error bad_target 2 "is not a sparsity" --targets 0.2,abc --out "$tmp/t"
: > "$tmp/empty.txt"
expect_error empty_calibration 2 "calibration data is empty" --calib "$tmp/empty.txt" --out "$tmp/e"
echo "In the beginning." > "$tmp/short.txt"
expect_error short_calibration 2 "calibration data too short" --calib "$tmp/short.txt" --out "$tmp/s"
[ ! -e "$tmp/s/record.pb" ] || fail "short_calibration: a record was written"
expect_error missing_model 1 "/nonexistent/model" --model /nonexistent/model --calib "$tmp/short.txt"
expect_error unwritable_out 1 "/proc/gisp-out" "${small[@]}" --out /proc/gisp-out
expect_error bad_objective 2 "--objective" --objective bogus
expect_error bad_method 2 "method must be gisp, oneshot, wanda-sp" --method wanda --out "$tmp/m"
# srun -n 2 without an MPI plugin (no PMI variable): refused before MPI_Init, nothing written.
SLURM_STEP_NUM_TASKS=2 expect_error srun_without_mpi_plugin 1 \
  "srun started 2 tasks but MPI sees this one alone" "${small[@]}" --out "$tmp/alone"
[ ! -e "$tmp/alone/record.pb" ] || fail "srun_without_mpi_plugin: a record was written"

# A baseline method: one record step per target, at the measured sparsity nearest it.
"$prune" "${small[@]}" --method magnitude --targets 0.2,0.3 --eval_max_chunks 2 \
  --out "$tmp/magnitude" >"$tmp/magnitude.out" 2>&1 || { cat "$tmp/magnitude.out"; fail "magnitude run"; }
grep -qF -- "- method: magnitude, scored once, 2 target sparsities" "$tmp/magnitude/report.md" \
  || fail "magnitude: the report does not name the method"
grep -qE -- "^\| 30% \| 1 \| 29\.[5-9][0-9]%|^\| 30% \| 1 \| 30\.[0-4][0-9]%" "$tmp/magnitude/report.md" \
  || { cat "$tmp/magnitude/report.md"; fail "magnitude: target 30% not reached within 0.5%"; }
pass "method magnitude: one step per target, sparsity within 0.5% of 30%"
# FLAP: a global method that also records its bias compensation data.
"$prune" "${small[@]}" --method flap --targets 0.2,0.3 --eval_max_chunks 2 \
  --out "$tmp/flap" >"$tmp/flap.out" 2>&1 || { cat "$tmp/flap.out"; fail "flap run"; }
grep -qF -- "- method: flap, scored once, 2 target sparsities" "$tmp/flap/report.md" \
  || { cat "$tmp/flap/report.md"; fail "flap: the report does not name the method"; }
pass "method flap: runs, one step per target"

# An uninterrupted run, then the same run killed with SIGKILL at several points and resumed.
"$prune" "${small[@]}" --out "$tmp/whole" >/dev/null 2>"$tmp/whole.log" || { cat "$tmp/whole.log"; fail "uninterrupted run"; }
# The plot: dense and 30% perplexity as two markers on one line, in the PNG and the SVG.
/usr/bin/python3 "$PWD/tools/plot/check_chart.py" "$tmp/whole/sparsity_ppl.svg" \
  "$tmp/whole/sparsity_ppl.png" --size 800x500 --series "perplexity at target:2:1" \
  --text "GISP: held-out perplexity vs decoder sparsity" --text "perplexity at target" \
  --text "decoder parameter sparsity (%)" --text "perplexity" >"$tmp/plot.out" 2>&1 \
  || { cat "$tmp/plot.out"; fail "plot files"; }
pass "plot: sparsity_ppl.png and sparsity_ppl.svg"
# Layer streaming (--stream_layers): the resident run's record, byte for byte.
"$prune" "${small[@]}" --stream_layers --out "$tmp/streamed" >/dev/null 2>"$tmp/streamed.log" \
  || { cat "$tmp/streamed.log"; fail "streamed run"; }
cmp -s "$tmp/whole/record.pb" "$tmp/streamed/record.pb" || fail "streamed record differs"
pass "--stream_layers: identical record"
for delay in 1.5 3 5; do
  out="$tmp/killed-$delay"
  "$prune" "${small[@]}" --out "$out" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  "$prune" "${small[@]}" --out "$out" >/dev/null 2>"$out.log" || { cat "$out.log"; fail "resume after $delay s"; }
  cmp -s "$tmp/whole/record.pb" "$out/record.pb" || fail "resumed record differs (killed after $delay s)"
  pass "killed after ${delay}s and resumed: identical record ($(grep -c resuming "$out.log") resume)"
done

# A record from another calibration set (different seed) is refused, and left untouched.
cp "$tmp/whole/record.pb" "$tmp/before.pb"
expect_error fingerprint_mismatch 1 "different calibration set" "${small[@]}" --seed 7 --out "$tmp/whole"
cmp -s "$tmp/before.pb" "$tmp/whole/record.pb" || fail "fingerprint_mismatch: record was modified"

# A record of format_version 1 (fingerprints of the former hash, 16 hex digits) is refused with
# what to do and left untouched; --fresh then starts over and gives the uninterrupted record.
mkdir -p "$tmp/v1"
sed -e 's/"format_version": 2,/"format_version": 1,/' \
    -e 's/"fingerprint": "\([0-9a-f]\{16\}\)[0-9a-f]\{16\}"/"fingerprint": "\1"/' \
    "$tmp/whole/record.json" >"$tmp/v1/record.pb"
grep -q '"format_version": 1,' "$tmp/v1/record.pb" || fail "v1 record: format_version not set"
cp "$tmp/v1/record.pb" "$tmp/v1.before"
expect_error old_format 1 "format_version 1 is no longer supported" "${small[@]}" --out "$tmp/v1"
grep -qF -- "--fresh" "$tmp/old_format.out" || { cat "$tmp/old_format.out"; fail "old_format: no way forward"; }
cmp -s "$tmp/v1.before" "$tmp/v1/record.pb" || fail "old_format: record was modified"
"$prune" "${small[@]}" --fresh --out "$tmp/v1" >/dev/null 2>"$tmp/v1.log" || { cat "$tmp/v1.log"; fail "--fresh over a v1 record"; }
cmp -s "$tmp/whole/record.pb" "$tmp/v1/record.pb" || fail "--fresh over a v1 record: record differs"
pass "format_version 1 refused with the way forward; --fresh starts over"

# Relative paths resolve against the directory bazel was run from, and are reported as given: the
# export table and report.json name rel/models/..., never an absolute directory. A model given
# without --eval has no evaluation text: no perplexity is reported (absent from report.json).
mkdir -p "$tmp/caller"
tiny="$PWD/testdata/tiny"
(cd / && BUILD_WORKING_DIRECTORY="$tmp/caller" "$prune" "${small[@]}" --steps 2 --out rel \
  --model "$tiny/model" --calib "$tiny/calib.txt" \
  --export_models=true --export sliced >/dev/null 2>&1) || fail "relative --out"
[ -f "$tmp/caller/rel/record.pb" ] && [ -f "$tmp/caller/rel/report.md" ] && [ -f "$tmp/caller/rel/sparsity_ppl.png" ] \
  && [ -f "$tmp/caller/rel/sparsity_ppl.svg" ] && [ -f "$tmp/caller/rel/models/sparsity-0.30/sliced/config.json" ] \
  || fail "relative --out: files not under the caller's directory"
grep -qF '| `rel/models/sparsity-0.30/sliced` |' "$tmp/caller/rel/report.md" \
  || { cat "$tmp/caller/rel/report.md"; fail "relative --out: export directory not as given"; }
/usr/bin/python3 - "$tmp/caller/rel/report.json" <<'PY' || fail "relative --out: report.json paths or perplexity"
import json, sys
report = json.load(open(sys.argv[1]))
(target,) = report["targets"]
assert target["model_dir"] == "rel/models/sparsity-0.30", target["model_dir"]
assert [e["dir"] for e in target["exports"]] == ["rel/models/sparsity-0.30/sliced"], target
assert "perplexity" not in target and "dense_perplexity" not in report, sorted(report)
PY
pass "relative paths, reported as given"

# --help succeeds and lists the tool's own flags.
"$prune" --help >"$tmp/help.out" 2>&1 || fail "--help exits $?, expected 0"
grep -q -- "--ratio" "$tmp/help.out" && grep -q -- "--threads" "$tmp/help.out" || { cat "$tmp/help.out"; fail "--help lacks the flags"; }
pass "--help exits 0"

# What is printed and reported names the paths as given, never Bazel's runfiles; each progress
# line reports the step just completed with that step's own sparsity and loss (from the record).
grep -q "runfiles" "$tmp/whole.log" "$tmp/whole/report.md" "$tmp/whole/report.json" \
  && { grep -n "runfiles" "$tmp/whole.log" "$tmp/whole/report.md" | head -3; fail "runfiles path printed"; }
grep -q "embedded tiny model (testdata/tiny/model)" "$tmp/whole/report.md" || fail "report.md lacks the model as given"
/usr/bin/python3 - "$tmp/whole.log" "$tmp/whole/record.json" <<'PY' || fail "progress lines disagree with the record"
import json, re, sys
steps = json.load(open(sys.argv[2]))["steps"]
lines = [l for l in open(sys.argv[1]) if re.match(r"step \d+/\d+  sparsity", l)]
assert len(lines) == len(steps), (len(lines), len(steps))
for line, step in zip(lines, steps):
    k, n, sparsity, loss = re.match(r"step (\d+)/(\d+)  sparsity ([\d.]+)%  loss ([\d.]+)", line).groups()
    index = step.get("index", 0)
    assert int(k) == index + 1, (line, index)
    assert abs(float(sparsity) - 100 * step["sparsity"]) < 0.051, (line, step["sparsity"])
    assert abs(float(loss) - step["calibrationLoss" if "calibrationLoss" in step else "calibration_loss"]) < 5.1e-5, line
PY
pass "progress lines report each completed step's own numbers"

# report.json is gisp.proto's RunReport (protobuf's JSON mapping, snake_case names): it carries the
# record exactly as record.json has it, the timings of every step run here, and the dense row
# the record's sparsity definition gives (norm weights count, so above 0), as report.md prints it.
/usr/bin/python3 - "$tmp/whole/report.json" "$tmp/whole/record.json" "$tmp/whole/report.md" <<'PY' || fail "report.json disagrees with the record or report.md"
import json, sys
report, record = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
markdown = open(sys.argv[3]).read()
assert report["record"] == record
assert [t["step"] for t in report["timings"]] == list(range(6)), report["timings"]
assert all(t["seconds"] >= t["gradient_seconds"] > 0 for t in report["timings"])
dense = report["dense_sparsity"]
assert 0 < dense < record["steps"][0]["sparsity"], (dense, record["steps"][0])
assert "| dense | - | %.2f%% |" % (100 * dense) in markdown, markdown
assert report["dense_perplexity"] > 1 and int(report["dense_eval_tokens"]) > 0
(target,) = report["targets"]
assert target["sparsity"] == record["steps"][target["step"]]["sparsity"] and target["perplexity"] > 1
assert report["resumed_at_step"] == 0 and report["model"].startswith("embedded tiny model")
PY
pass "report.json: the RunReport of the run, dense row as the record defines it"

# SIGINT stops the run within a batch through the cancel token, keeps the completed steps and
# exits 130; the rerun resumes to the uninterrupted record.
out="$tmp/interrupted"
"$prune" "${small[@]}" --out "$out" >/dev/null 2>"$out.log" &
pid=$!
for _ in $(seq 1 300); do grep -q "^step 2/" "$out.log" 2>/dev/null && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || { cat "$out.log"; fail "SIGINT: exit $rc, expected 130"; }
grep -q "interrupted after step" "$out.log" || { cat "$out.log"; fail "SIGINT: no message"; }
"$prune" "${small[@]}" --out "$out" >/dev/null 2>"$out.resume.log" || { cat "$out.resume.log"; fail "resume after SIGINT"; }
cmp -s "$tmp/whole/record.pb" "$out/record.pb" || fail "record after SIGINT and resume differs"
pass "SIGINT: exit 130, resumed to an identical record"
echo "all CLI checks passed"
