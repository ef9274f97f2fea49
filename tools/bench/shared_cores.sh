#!/usr/bin/env bash
# How a gisp calibration pass slows down when it shares the machine's cores with other work, and
# which setting keeps it from collapsing. Runs //tools/bench:calibration_pass (gisp only) on a
# model of the tiny model's shape (many small GEMMs and OpenMP regions per batch, where waiting
# threads matter most) under each combination of
#   load:        quiet | N busy processes (one per core: a fair share is half the machine)
#   wait policy: OpenMP's default (spin ~300k iterations, then sleep) | GOMP_SPINCOUNT=10000 (what
#                gisp's CLI and Python binding set when the environment sets neither) |
#                OMP_WAIT_POLICY=passive (sleep at once)
#   threads:     one per core | one fewer
# and prints tokens/s per combination and the slowdown against quiet. Usage:
#   tools/bench/shared_cores.sh [batches] [repetitions]   (medians; into docs/benchmarks.md by hand)
set -euo pipefail
cd "$(dirname "$0")/../.."
batches=${1:-30}
reps=${2:-5}
bazel build -c opt //tools/bench:calibration_pass >/dev/null 2>&1
bench=bazel-bin/tools/bench/calibration_pass
cores=$(nproc)
shape=(--layers 6 --hidden 192 --heads 6 --kv_heads 2 --ffn 512 --vocab 3072 --seq 64 --batch 2
       --batches "$batches" --torch=false)

busy_pids=()
start_busy() {
  for _ in $(seq 1 "$cores"); do
    ( while :; do :; done ) &
    busy_pids+=($!)
  done
}
stop_busy() {
  for p in "${busy_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  busy_pids=()
}
trap stop_busy EXIT

once() {  # once POLICY THREADS -> tokens/s of one run
  local env=(OMP_NUM_THREADS="$2")
  [ "$1" = passive ] && env+=(OMP_WAIT_POLICY=passive)
  [ "$1" = spin10k ] && env+=(GOMP_SPINCOUNT=10000)
  env "${env[@]}" "$bench" "${shape[@]}" | awk '/^gisp:/ {print $2}'
}
run() {  # run POLICY THREADS -> median tokens/s of $reps runs (runs under load vary a lot)
  for _ in $(seq 1 "$reps"); do once "$1" "$2"; done | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $cores cores"
echo "date: $(date -u +%Y-%m-%d)"
printf '%-8s %-8s %-10s %12s %12s %9s\n' policy threads load quiet_tok/s busy_tok/s slowdown
for policy in default spin10k passive; do
  for threads in "$cores" $((cores > 1 ? cores - 1 : 1)); do
    quiet=$(run "$policy" "$threads")
    start_busy
    busy=$(run "$policy" "$threads")
    stop_busy
    printf '%-8s %-8s %-10s %12s %12s %8sx\n' "$policy" "$threads" "$cores busy" "$quiet" "$busy" \
      "$(awk -v q="$quiet" -v b="$busy" 'BEGIN { printf "%.2f", q / b }')"
  done
done
