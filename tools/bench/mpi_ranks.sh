#!/usr/bin/env bash
# Data-parallel pruning over MPI: calibration-pass throughput with 1 and 2 ranks, and the share of
# a step spent exchanging (docs/benchmarks.md, "Data-parallel ranks"). Runs the prune CLI on the
# tiny model (8 batches of 8 windows x 128 tokens per step, 6 steps) as
#   1 rank x 1 thread | 1 rank x 2 threads | mpirun -np 2, 1 thread per rank
# and prints, per layout, the median over steps 2..6 (step 1 warms up) of: tokens/s of the
# gradient phase (tokens per step / gradient seconds), the post-pass wait (the slower rank) and
# the Gbar all-reduce, each as seconds and as a share of the step. Usage:
#   tools/bench/mpi_ranks.sh [repetitions]   (best-of runs; numbers into docs/benchmarks.md by hand)
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-3}
bazel build //tools:prune >/dev/null 2>&1
prune=bazel-bin/tools/prune
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
window=128 windows=64 batch=8 steps=6
tokens=$((windows * window))
args=(--model testdata/tiny/model --calib testdata/tiny/calib.txt --window "$window"
      --windows "$windows" --batch_size "$batch" --steps "$steps" --ratio 0.3 --targets= --eval=
      --export_models=false --fresh --verbose --out "$work/out")

# Reads rank 0's step lines on stdin; prints "tokens/s waiting_s reduce_s step_s" (medians).
summarize() {
  grep -E '(^|\] )\[info\] step [0-9]+/' | grep -vE '^\[rank [1-9]' | awk -v tokens="$tokens" '
    {
      match($0, /step [0-9]+\//); k = substr($0, RSTART + 5, RLENGTH - 6) + 0
      if (k == 1) next
      match($0, /[0-9.]+ s \(gradient [0-9.]+/); split(substr($0, RSTART, RLENGTH), a, " ")
      total[n] = a[1]; grad[n] = a[4]
      w = 0; r = 0
      if (match($0, /waiting [0-9.]+ s, Gbar all-reduce [0-9.]+/)) {
        split(substr($0, RSTART, RLENGTH), b, " "); w = b[2]; r = b[6]
      }
      wait_s[n] = w; red[n] = r; tps[n] = tokens / grad[n]; n++
    }
    function median(v, m, i, j, t) {
      for (i = 0; i < m; i++) for (j = i + 1; j < m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return v[int(m / 2)]
    }
    END { printf "%.0f %.4f %.4f %.3f\n", median(tps, n), median(wait_s, n), median(red, n), median(total, n) }'
}

run() {  # run LAYOUT -> the best (highest tokens/s) of $reps summaries
  local i
  for i in $(seq 1 "$reps"); do
    case "$1" in
      1x1) OMP_NUM_THREADS=1 "$prune" "${args[@]}" 2>&1 | summarize ;;
      1x2) OMP_NUM_THREADS=2 "$prune" "${args[@]}" 2>&1 | summarize ;;
      2x1) OMP_NUM_THREADS=1 mpirun --oversubscribe -np 2 "$prune" "${args[@]}" 2>&1 | summarize ;;
    esac
  done | sort -gr | head -n 1
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%d)"
echo "tokens per step: $tokens (8 batches of $batch x $window); median of steps 2..$steps, best of $reps runs"
printf '%-24s %10s %12s %12s %10s %8s\n' layout tokens/s waiting_s allreduce_s step_s exchange
for layout in 1x1 1x2 2x1; do
  read -r tps wait_s red step_s < <(run "$layout")
  case "$layout" in
    1x1) name="1 rank x 1 thread" ;;
    1x2) name="1 rank x 2 threads" ;;
    2x1) name="2 ranks x 1 thread" ;;
  esac
  printf '%-24s %10s %12s %12s %10s %7s%%\n' "$name" "$tps" "$wait_s" "$red" "$step_s" \
    "$(awk -v w="$wait_s" -v r="$red" -v s="$step_s" 'BEGIN { printf "%.1f", 100 * (w + r) / s }')"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
