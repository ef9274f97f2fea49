#!/usr/bin/env bash
# ThreadSanitizer over gisp's OpenMP kernels, with a runtime TSan can see into: the library and
# its tests compiled by Debian's clang with -fsanitize=thread -fopenmp, so the parallel loops run
# on LLVM's libomp, and libomp loads Archer (libarcher.so, from libomp-14-dev), which tells TSan
# about OpenMP's barriers, tasks and reductions. Without Archer every parallel region would be
# reported; with it only real races are.
#
#   tools/tsan_openmp.sh            build what changed, run every test, exit 1 on a report
#
# Tests, each with several OpenMP threads (OMP_NUM_THREADS, default 4, more than this machine's
# cores so the threads interleave):
#   kernel_test          every CPU kernel against the double-precision reference backend
#   signal_shield_test   the GEMM signal shield (its OpenMP worker shielding included)
#   thread_safety_test   the C ABI: two models pruned on two threads at once, each job with its
#                        own OpenMP team, against sequential runs; cancellation from a thread
#
# The Bazel --config=tsan run (tools/ci/suite_tsan.sh) cannot do this: Debian's libgomp is not
# instrumented, so there each job gets one OpenMP thread. Here the kernels are the portable copy
# (gisp/backend/cpu/isa.h: one compile of every source, as in tools/fuzz.sh) auto-vectorized for
# AVX2; their OpenMP structure, which is what TSan checks, is the same source as the AVX2 and
# AVX-512 copies'. oneDNN's GEMMs run on the same libomp (libomp provides the GOMP_* entry points
# Debian's libdnnl calls) but oneDNN itself is not instrumented: TSan sees its synchronization,
# not its memory accesses.
#
# Three controls first (tools/tsan_openmp/control.cc) show the set-up can fail: a planted race is
# reported, and correct code synchronized by an OpenMP barrier is reported without Archer and
# clean with it.
#
# Prints one line per check and "SUITE-COUNT <passed> <failed>". Objects are kept in
# $GISP_TSAN_OUT (default /tmp/gisp-tsan-omp-<hash of the checkout's path>).
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${GISP_TSAN_OUT:-/tmp/gisp-tsan-omp-$(printf '%s' "$root" | sha1sum | cut -c1-10)}"
jobs="${GISP_TSAN_JOBS:-$(nproc)}"
cd "$root"

for tool in clang clang++ protoc pkg-config; do
  command -v "$tool" >/dev/null || { echo "tsan_openmp: $tool is missing (tools/setup.sh --tests)" >&2; exit 2; }
done
llvm_lib="$(dirname "$(readlink -f "$(command -v clang)")")/../lib"
archer="$llvm_lib/libarcher.so"
if [ ! -f "$archer" ] || [ ! -f "$llvm_lib/libomp.so" ]; then
  echo "tsan_openmp: LLVM's libomp or Archer is missing under $llvm_lib (apt-get install libomp-14-dev)" >&2
  exit 2
fi

flags=(-O1 -g -fno-omit-frame-pointer -mavx2 -mfma -mf16c -mbmi2 -fsanitize=thread -fopenmp
  -Wno-unknown-pragmas -I. -I"$out/gen" $(pkg-config --cflags eigen3 protobuf))
cxxflags=(-std=c++17 "${flags[@]}")
libs=($(pkg-config --libs absl_status absl_statusor absl_str_format absl_strings absl_flags \
  absl_flags_parse absl_synchronization absl_time absl_hash absl_raw_hash_set absl_random_random \
  protobuf) -ldnnl -lxxhash -lpthread -Wl,-rpath,"$llvm_lib")

. tools/lib/clang_library.sh
gisp_clang_library "$out" "$jobs" "${cxxflags[@]}" || { echo "tsan_openmp: compile failed" >&2; exit 2; }

# The tests, relinked when their sources or the library change.
mkdir -p "$out/bin"
newer() {  # newer BIN SRC...: whether BIN is missing or older than a source or the library
  local bin="$1" f
  shift
  [ -x "$bin" ] || return 0
  for f in "$@" "$out/libgisp.a"; do [ "$f" -nt "$bin" ] && return 0; done
  return 1
}
testing=(gisp/testing/backends.cc gisp/testing/compare.cc gisp/testing/random_model.cc)
build() {  # build NAME SRC...
  local name="$1"
  shift
  newer "$out/bin/$name" "$@" || return 0
  local srcs=() objs=() s
  for s in "$@"; do
    case "$s" in
      *.c) clang -std=c11 "${flags[@]}" -c "$s" -o "$out/bin/$name.$(basename "$s").o" || return 1
           objs+=("$out/bin/$name.$(basename "$s").o") ;;
      *) srcs+=("$s") ;;
    esac
  done
  clang++ "${cxxflags[@]}" "${srcs[@]}" "${objs[@]}" "$out/libgisp.a" -lgtest_main -lgtest \
    "${libs[@]}" -o "$out/bin/$name"
}
build kernel_test gisp/backend/kernel_test.cc "${testing[@]}" || exit 2
build signal_shield_test gisp/backend/cpu/signal_shield_test.cc || exit 2
build thread_safety_test c_api/thread_safety_test.c || exit 2
for racy in 0 1; do
  if newer "$out/bin/control$racy" tools/tsan_openmp/control.cc; then
    clang++ "${cxxflags[@]}" -DRACY=$racy tools/tsan_openmp/control.cc -Wl,-rpath,"$llvm_lib" \
      -o "$out/bin/control$racy" || exit 2
  fi
done

threads="${OMP_NUM_THREADS:-4}"
passed=0
failed=0
tsan_options="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1"

# The controls (tools/tsan_openmp/control.cc): a race is reported; correct code synchronized by
# an OpenMP barrier is reported without Archer (OMP_TOOL=disabled) and clean with it.
control() {  # control WHAT BIN WANT_REPORT ENV...
  local what="$1" bin="$2" want="$3"
  shift 3
  env "$@" TSAN_OPTIONS="$tsan_options" "$out/bin/$bin" >"$out/$bin.log" 2>&1
  local got=0
  grep -q "WARNING: ThreadSanitizer: data race" "$out/$bin.log" && got=1
  if [ "$got" = "$want" ]; then
    echo "PASS tsan-openmp control: $what"
    passed=$((passed + 1))
  else
    echo "FAIL tsan-openmp control: $what (a race was$([ "$got" = 1 ] || echo " not") reported; $out/$bin.log)"
    failed=$((failed + 1))
  fi
}
control "a data race in a parallel region is reported" control1 1 OMP_TOOL_LIBRARIES="$archer"
control "an OpenMP barrier is invisible to TSan without Archer" control0 1 OMP_TOOL=disabled
control "Archer makes the same barrier visible (no report)" control0 0 OMP_TOOL_LIBRARIES="$archer"
for t in kernel_test signal_shield_test thread_safety_test; do
  log="$out/$t.log"
  started=$(date +%s)
  # verbose=1: Archer says on stderr that it is active, which is checked below.
  OMP_NUM_THREADS="$threads" OMP_TOOL_LIBRARIES="$archer" ARCHER_OPTIONS="verbose=1" \
    TSAN_OPTIONS="$tsan_options" "$out/bin/$t" >"$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - started ))
  if ! grep -q "Archer detected OpenMP application with TSan" "$log"; then
    echo "FAIL tsan-openmp $t: Archer did not load (OMP_TOOL_LIBRARIES=$archer), see $log"
    failed=$((failed + 1))
  elif [ "$rc" -ne 0 ]; then
    echo "FAIL tsan-openmp $t (exit $rc, ${took} s):"
    grep -a -E 'WARNING: ThreadSanitizer|SUMMARY|#[0-3] |Failure|FAILED|not ok' "$log" | head -n 24
    failed=$((failed + 1))
  else
    echo "PASS tsan-openmp $t (${took} s, $threads OpenMP threads; $(grep -a -E '^\[  PASSED  \]|^ok|passed' "$log" | tail -n 1))"
    passed=$((passed + 1))
  fi
done
echo "logs: $out"
echo "SUITE-COUNT $passed $failed"
[ "$failed" -eq 0 ]
