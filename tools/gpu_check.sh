#!/usr/bin/env bash
# The GPU check, in two halves (docs/benchmarks.md, "GPU calibration pass"):
#
#   tools/gpu_check.sh pack [--default]   here: builds with --config=cuda (--default: the plain
#                                          build, no CUDA) and packs the GPU test binaries, the
#                                          GPU benchmark, the data they read and the shared
#                                          libraries a bare GPU machine lacks into gpu_pack/
#                                          (git-ignored; pack.tar.xz + this script + MANIFEST).
#   tools/gpu_check.sh run                 on the GPU machine, from the repository root: unpacks
#                                          into /tmp/gisp_gpu and runs everything with a timeout
#                                          per step; results under $OUT (default ./gpu_check_out),
#                                          summary in $OUT/summary.txt. No Bazel, apt, pip or
#                                          tools/setup.sh there; the whole run stays under 8 min.
#
# With the device tool: run(command="tools/gpu_check.sh run", carry=["gpu_pack"], timeout_s=540).
#
# Environment: GISP_BAZEL_OUTPUT_BASE (pack; default /tmp/bazel_cuda, shared with the CUDA work),
# GISP_PACK (run; default <repo>/gpu_pack), GISP_GPU_SCRATCH (run; default /tmp/gisp_gpu),
# GISP_PYTHON (run; interpreter with torch + transformers, default python3),
# GISP_GPU_BUDGET_S (run; wall-clock budget from start to summary, default 455 s; a step that
# times out gets 10 s more to die, so the run ends within 8 minutes).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

# ------------------------------------------------------------------------------------------------
# pack (build machine)
# ------------------------------------------------------------------------------------------------

# Libraries every machine that can run our binaries has (glibc and the dynamic loader), and the
# ones the NVIDIA driver or the CUDA 13 installation there provides. Everything else that ldd
# resolves is shipped.
is_system_lib() {
  case "$1" in
    linux-vdso.so.*|ld-linux*|libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*) return 0 ;;
    libutil.so.*|libresolv.so.*|libmvec.so.*) return 0 ;;
  esac
  return 1
}
is_cuda_lib() {
  case "$1" in
    libcuda.so*|libnvidia-*|libcudart.so*|libcublas.so*|libcublasLt.so*|libnvrtc*|libnvJitLink*) return 0 ;;
    libcufft*|libcurand*|libcusolver*|libcusparse*|libcudnn*|libnccl*|libnvToolsExt*) return 0 ;;
  esac
  return 1
}

pack() {
  local config="cuda"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --default) config="default" ;;
      *) echo "unknown pack option $1" >&2; usage ;;
    esac
    shift
  done
  cd "$repo" || exit 1
  local output_base="${GISP_BAZEL_OUTPUT_BASE:-/tmp/bazel_cuda}"
  # --symlink_prefix=/: leave the workspace's bazel-bin/bazel-out links alone (other builds of
  # this checkout use the default output base).
  local bazel=(bazel "--output_base=$output_base")
  local flags=(--symlink_prefix=/)
  [[ $config == cuda ]] && flags+=(--config=cuda)

  local tests=(//gisp/backend:kernel_test //gisp/integration:torch_parity_test
               //gisp/prune:torch_gisp_parity_test)
  # NCCL's device all-reduce (docs/scaling.md, "NCCL"), when this checkout has it.
  if grep -q 'name = "device_all_reduce_test"' gisp/backend/BUILD.bazel 2>/dev/null; then
    tests+=(//gisp/backend:device_all_reduce_test)
  fi
  # model_test only when it runs on every backend (testing::TestBackendNames); CPU-only tests
  # are covered by tools/test.sh here.
  if grep -qE 'TestBackendNames|CreateTestBackend|CreateCudaBackend' gisp/model/model_test.cc; then
    tests+=(//gisp/model:model_test)
  else
    echo "pack: //gisp/model:model_test is not parameterized by backend (CPU only): not packed"
  fi
  local bins=(//tools/bench:calibration_pass_cuda)
  # The CUDA engineer's smoke binary (CUDA vs reference backend), when it exists.
  if [[ $config == cuda && -f gisp/backend/cuda/cuda_smoke.cc ]] &&
     grep -q 'name = "cuda_smoke"' gisp/backend/cuda/BUILD.bazel 2>/dev/null; then
    bins+=(//gisp/backend/cuda:cuda_smoke)
  fi

  echo "pack: building (${config}) ${tests[*]} ${bins[*]}"
  local t0=$SECONDS
  if ! "${bazel[@]}" build "${flags[@]}" "${tests[@]}" "${bins[@]}" > /tmp/gisp_pack_build.log 2>&1; then
    tail -n 40 /tmp/gisp_pack_build.log
    echo "pack: FAILED: the ${config} build did not complete (full log: /tmp/gisp_pack_build.log)."
    [[ $config == cuda ]] && echo "pack: \`tools/gpu_check.sh pack --default\` packs the build without CUDA."
    exit 1
  fi
  echo "pack: build ok in $((SECONDS - t0)) s"
  local bin_dir
  bin_dir="$("${bazel[@]}" info "${flags[@]}" bazel-bin 2>/dev/null)" || { echo "pack: bazel info failed"; exit 1; }

  local stage
  stage="$(mktemp -d /tmp/gisp_gpu_stage.XXXXXX)"
  # shellcheck disable=SC2064  # expand now: $stage is local
  trap "rm -rf '$stage'" EXIT
  local root="$stage/runfiles/gisp"
  mkdir -p "$root" "$stage/lib" "$stage/lib/fallback"
  local names=() label pkg name paths=()
  for label in "${tests[@]}" "${bins[@]}"; do
    pkg="${label#//}"; pkg="${pkg%%:*}"; name="${label##*:}"
    local exe="$bin_dir/$pkg/$name"
    [[ -x $exe ]] || { echo "pack: missing $exe"; exit 1; }
    # The runfiles tree (data files, at the paths the binary opens relative to the workspace),
    # with every symlink resolved; Bazel's _solib_* links are replaced by lib/ below.
    if [[ -d $exe.runfiles/gisp ]]; then
      (cd "$exe.runfiles/gisp" && find . -path './_solib_*' -prune -o \( -type f -o -type l \) -print0 |
        while IFS= read -r -d '' f; do
          mkdir -p "$root/$(dirname "$f")" && cp -L --preserve=mode "$f" "$root/$f"
        done)
    fi
    mkdir -p "$root/$pkg"
    cp -L --preserve=mode "$exe" "$root/$pkg/$name"
    chmod u+w "$root/$pkg/$name"
    names+=("$name")
    paths+=("$pkg/$name")
  done

  # Shared libraries: what ldd resolves, less glibc and the CUDA libraries the GPU machine has.
  # libstdc++/libgcc_s go to lib/fallback (used there only if the system's are too old).
  local cuda_needed=() lib path f
  for f in "${paths[@]}"; do
    while read -r lib path; do
      [[ -z $lib ]] && continue
      lib="$(basename "$lib")"
      if is_system_lib "$lib"; then continue; fi
      if is_cuda_lib "$lib"; then cuda_needed+=("$lib"); continue; fi
      if [[ $path == "not" || ! -e $path ]]; then
        echo "pack: FAILED: $f needs $lib, which is not found here"; exit 1
      fi
      case "$lib" in
        libstdc++.so.*|libgcc_s.so.*) cp -L "$path" "$stage/lib/fallback/$lib" ;;
        *) cp -L "$path" "$stage/lib/$lib" ;;
      esac
    done < <(ldd "$bin_dir/$f" | awk '/=>/ {print $1, $3; next} {print $1, "-"}')
  done
  # NCCL is loaded with dlopen (gisp/backend/cuda/nccl_ops.cu), so ldd does not list it: ask the
  # GPU machine for it explicitly, so that run() puts its directory on LD_LIBRARY_PATH.
  if [[ $config == cuda && " ${tests[*]} " == *" //gisp/backend:device_all_reduce_test "* ]]; then
    cuda_needed+=(libnccl.so.2)
  fi
  # (ldd lists the whole closure, so the shipped libraries' own needs are covered.) The newest
  # glibc symbol version anything packed needs, for the record.
  local glibc
  glibc="$( (for f in "${paths[@]}"; do objdump -T "$root/$f"; done; objdump -T "$stage"/lib/*.so* 2>/dev/null) |
            grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)"
  cp "$repo/tools/gpu_check.sh" "$stage/gpu_check.sh"

  local commit dirty
  commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  dirty="$(git -C "$repo" status --porcelain 2>/dev/null | wc -l)"
  {
    echo "config=$config"
    echo "commit=$commit (+$dirty uncommitted changes)"
    echo "packed=$(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
    echo "tests=${tests[*]}"
    echo "binaries=${bins[*]}"
    echo "paths=${paths[*]}"
    echo "cuda_libs_from_machine=$(printf '%s\n' "${cuda_needed[@]}" | sort -u | tr '\n' ' ')"
    echo "shipped_libs=$(find "$stage/lib" -maxdepth 1 -type f -printf '%f\n' | sort | tr '\n' ' ')"
    echo "fallback_libs=$(find "$stage/lib/fallback" -maxdepth 1 -type f -printf '%f\n' | sort | tr '\n' ' ')"
    echo "needs_glibc=$glibc"
    echo "march=$(grep -o 'march=[^ ]*' "$repo/.bazelrc" | head -n 1)"
  } > "$stage/MANIFEST"

  local pack_dir="$repo/gpu_pack"
  mkdir -p "$pack_dir"
  rm -f "$pack_dir/pack.tar.xz" "$pack_dir/gpu_check.sh" "$pack_dir/MANIFEST"
  local raw
  raw="$(du -sb "$stage" | cut -f1)"
  echo "pack: compressing $((raw / 1048576)) MiB (xz)"
  XZ_OPT="-6 -T0" tar -C "$stage" -cJf "$pack_dir/pack.tar.xz" . || { echo "pack: tar failed"; exit 1; }
  cp "$repo/tools/gpu_check.sh" "$pack_dir/gpu_check.sh"
  cp "$stage/MANIFEST" "$pack_dir/MANIFEST"
  rm -rf "$stage"
  local total
  total="$(du -sb "$pack_dir" | cut -f1)"
  sed 's/^/  /' "$pack_dir/MANIFEST"
  echo "pack: $pack_dir: $(stat -c %s "$pack_dir/pack.tar.xz") bytes compressed," \
       "$total bytes in all ($(awk -v b="$total" 'BEGIN {printf "%.1f", b / 1048576}') MiB of the 64 MiB limit)"
  if (( total > 60 * 1048576 )); then
    echo "pack: FAILED: over 60 MiB, too close to the 64 MiB the device tool carries"; exit 1
  fi
  [[ $config == default ]] && echo "pack: NOTE: default build (no CUDA): CUDA cases will skip on the GPU machine"
  echo "pack: next, on the GPU machine: run(command=\"tools/gpu_check.sh run\", carry=[\"gpu_pack\"], timeout_s=540)"
}

# ------------------------------------------------------------------------------------------------
# run (GPU machine)
# ------------------------------------------------------------------------------------------------

now() { date +%s.%N; }

run() {
  local t_start
  t_start="$(now)"
  local budget="${GISP_GPU_BUDGET_S:-455}"
  local out="${OUT:-gpu_check_out}"
  mkdir -p "$out" && out="$(cd "$out" && pwd)"
  local pack_dir="${GISP_PACK:-$repo/gpu_pack}"
  local scratch="${GISP_GPU_SCRATCH:-/tmp/gisp_gpu}"
  local python="${GISP_PYTHON:-python3}"
  local summary="$out/summary.txt"
  : > "$summary"
  FAILED_STEPS=0

  say() { echo "$*" | tee -a "$summary"; }
  # Seconds left before the budget ends (integer).
  left() { awk -v s="$t_start" -v n="$(now)" -v b="$budget" 'BEGIN {printf "%d", b - (n - s)}'; }

  # step NAME TIMEOUT LOG KIND CMD...: runs CMD under `timeout` (capped by the budget left), its
  # output to LOG, and appends "STATUS NAME SECONDS note" to the summary. KIND says how exit
  # codes map: test (0 pass), bench (77 = backend unavailable), smoke (2 = no GPU). Sets
  # STEP_STATUS. `timeout` signals its whole process group, so a hung benchmark's PyTorch child
  # goes too.
  step() {
    local name="$1" limit="$2" log="$3" kind="$4"
    shift 4
    local rem
    rem="$(left)"
    if (( rem - 5 < limit )); then limit=$((rem - 5)); fi
    STEP_STATUS=SKIP
    if (( limit < 10 )); then
      printf '%-5s %-28s %7s  %s\n' SKIP "$name" "0.0s" "no time left in the ${budget}s budget" | tee -a "$summary"
      return
    fi
    local t0 rc status note=""
    t0="$(now)"
    (cd "$scratch/runfiles/gisp" && timeout -k 10 "$limit" "$@") > "$log" 2>&1
    rc=$?
    local secs
    secs="$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}')"
    if (( rc == 0 )); then
      status=PASS
    elif (( rc == 124 )); then
      status=FAIL; note="timed out after ${limit}s"
    elif (( rc == 137 )); then
      status=FAIL; note="killed (SIGKILL: timeout's -k after ${limit}s, or out of memory)"
    elif [[ $kind == bench && $rc == 77 ]] || [[ $kind == smoke && $rc == 2 ]]; then
      if [[ $config != cuda ]]; then status=SKIP; note="build without CUDA"
      elif (( HAS_GPU )); then status=FAIL; note="GPU present but the CUDA backend is unavailable"
      else status=SKIP; note="no GPU here"; fi
      note="$note: $(grep -m1 -iE 'unavailable|unimplemented|no gpu|error' "$log" | cut -c1-160)"
    else
      status=FAIL; note="exit $rc"
    fi
    STEP_STATUS=$status
    [[ $status == FAIL ]] && FAILED_STEPS=$((FAILED_STEPS + 1))
    printf '%-5s %-28s %7s  %s\n' "$status" "$name" "${secs}s" "$note" | tee -a "$summary"
  }

  say "gisp GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname), budget ${budget}s, results in $out"
  if [[ ! -f $pack_dir/pack.tar.xz ]]; then
    say "FAIL  unpack: no $pack_dir/pack.tar.xz (run \`tools/gpu_check.sh pack\` on the build machine and carry gpu_pack)"
    say "0 passed, 1 failed, 0 skipped"
    return 1
  fi
  rm -rf "$scratch" && mkdir -p "$scratch/tmp"
  if ! tar -C "$scratch" -xJf "$pack_dir/pack.tar.xz"; then
    say "FAIL  unpack: tar failed"; say "0 passed, 1 failed, 0 skipped"; return 1
  fi
  cp "$scratch/MANIFEST" "$out/MANIFEST.txt"
  local config
  config="$(sed -n 's/^config=//p' "$scratch/MANIFEST")"
  say "pack: $(sed -n 's/^commit=//p' "$scratch/MANIFEST"), build config: $config$([[ $config == default ]] && echo ' (NO CUDA: CUDA cases skip)')"

  # ---- the machine --------------------------------------------------------------------------
  {
    echo "== uname"; uname -a
    echo "== cpu"; grep -m1 'model name' /proc/cpuinfo; nproc
    echo "== glibc"; ldd --version 2>&1 | head -n 1
    echo "== pack needs"; sed -n 's/^needs_glibc=//p' "$scratch/MANIFEST"
    echo "== python"; "$python" --version 2>&1
  } > "$out/machine.txt" 2>&1
  HAS_GPU=0
  if command -v nvidia-smi > /dev/null 2>&1; then
    timeout 20 nvidia-smi > "$out/nvidia-smi.txt" 2>&1
    timeout 10 nvidia-smi -L >> "$out/nvidia-smi.txt" 2>&1
    grep -q '^GPU [0-9]' "$out/nvidia-smi.txt" && HAS_GPU=1
  else
    echo "no nvidia-smi on PATH" > "$out/nvidia-smi.txt"
  fi
  say "gpu: $( (grep -m1 '^GPU 0' "$out/nvidia-smi.txt" || echo none) | cut -c1-100); driver: $( (grep -o 'Driver Version: [0-9.]*' "$out/nvidia-smi.txt" || echo '- - none') | head -n 1 | cut -d' ' -f3)"

  # ---- libraries ------------------------------------------------------------------------------
  # The CUDA runtime libraries the binaries need, from this machine: ldconfig, the usual toolkit
  # directories, then the pip nvidia-* wheels next to torch.
  local cuda_libs dirs=() lib d found
  cuda_libs="$(sed -n 's/^cuda_libs_from_machine=//p' "$scratch/MANIFEST")"
  local candidates=()
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda-13*/lib64 \
           /usr/local/cuda-13*/targets/x86_64-linux/lib /usr/local/cuda/targets/x86_64-linux/lib \
           /usr/lib/x86_64-linux-gnu; do
    [[ -d $d ]] && candidates+=("$d")
  done
  local site
  while IFS= read -r site; do
    for d in "$site"/nvidia/*/lib "$site"/torch/lib; do [[ -d $d ]] && candidates+=("$d"); done
  done < <(timeout 20 "$python" -c 'import site; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
  : > "$out/cuda_libs.txt"
  for lib in $cuda_libs; do
    found=""
    local via_ldconfig
    via_ldconfig="$(ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l {print $NF; exit}')"
    if [[ -n $via_ldconfig ]]; then
      found="$(dirname "$via_ldconfig")"; echo "$lib: $via_ldconfig (ldconfig)" >> "$out/cuda_libs.txt"
    else
      for d in "${candidates[@]}"; do
        if [[ -e $d/$lib ]]; then found="$d"; echo "$lib: $d/$lib" >> "$out/cuda_libs.txt"; break; fi
      done
    fi
    if [[ -z $found ]]; then
      echo "$lib: NOT FOUND (looked in ldconfig and ${candidates[*]})" >> "$out/cuda_libs.txt"
    elif [[ " ${dirs[*]} " != *" $found "* ]]; then
      dirs+=("$found")
    fi
  done
  local ldpath="$scratch/lib"
  for d in "${dirs[@]}"; do ldpath="$ldpath:$d"; done
  # Our libstdc++/libgcc_s only where the machine's are missing or too old for the binaries.
  local paths
  paths="$(sed -n 's/^paths=//p' "$scratch/MANIFEST")"
  local f
  if (for f in $paths; do LD_LIBRARY_PATH="$ldpath" ldd "$scratch/runfiles/gisp/$f"; done) 2>&1 |
       grep -qE "(libstdc\+\+|libgcc_s)[^ ]* => not found|(GLIBCXX|CXXABI|GCC)_[0-9.]*' not found"; then
    ldpath="$ldpath:$scratch/lib/fallback"
    echo "libstdc++/libgcc_s: the packed ones (the machine's are missing or too old)" >> "$out/cuda_libs.txt"
  else
    echo "libstdc++/libgcc_s: the machine's" >> "$out/cuda_libs.txt"
  fi
  # PyTorch (the benchmark's baseline, run from inside the benchmark) must see the machine's
  # libraries, not ours: it gets a wrapper that restores the original LD_LIBRARY_PATH.
  {
    echo '#!/bin/sh'
    if [[ -n ${LD_LIBRARY_PATH:-} ]]; then
      printf "export LD_LIBRARY_PATH='%s'\n" "$LD_LIBRARY_PATH"
    else
      echo 'unset LD_LIBRARY_PATH'
    fi
    printf 'exec %s "$@"\n' "$python"
  } > "$scratch/python.sh"
  chmod +x "$scratch/python.sh"
  export LD_LIBRARY_PATH="$ldpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >> "$out/cuda_libs.txt"
  say "cuda libs: $( (grep -v '^LD_LIBRARY_PATH' "$out/cuda_libs.txt" | tr '\n' ';') | cut -c1-400)"
  {
    for f in $paths; do echo "== $f"; ldd "$scratch/runfiles/gisp/$f" 2>&1; done
  } > "$out/ldd.txt"
  if grep -q 'not found' "$out/ldd.txt"; then
    say "FAIL  ldd: missing libraries:"; grep 'not found' "$out/ldd.txt" | sort -u | tee -a "$summary"
    FAILED_STEPS=$((FAILED_STEPS + 1))
  else
    say "PASS  ldd: every library resolves ($out/ldd.txt)"
  fi

  export TEST_SRCDIR="$scratch/runfiles" RUNFILES_DIR="$scratch/runfiles" TEST_WORKSPACE=gisp
  export TEST_TMPDIR="$scratch/tmp"

  # ---- steps ----------------------------------------------------------------------------------
  local tests_run=()
  has() { [[ " $paths " == *" $1 "* ]]; }
  if has gisp/backend/cuda/cuda_smoke; then
    step cuda_smoke 60 "$out/cuda_smoke.log" smoke ./gisp/backend/cuda/cuda_smoke
  fi
  local t
  for t in gisp/backend/kernel_test:120 gisp/model/model_test:90 gisp/integration/torch_parity_test:60 \
           gisp/prune/torch_gisp_parity_test:60 gisp/backend/device_all_reduce_test:60; do
    f="${t%%:*}"
    has "$f" || continue
    local n
    n="$(basename "$f")"
    rm -f "$out/$n.xml"
    step "$n" "${t##*:}" "$out/$n.log" test "./$f" "--gtest_output=xml:$out/$n.xml"
    [[ $STEP_STATUS != SKIP ]] && tests_run+=("$n")
  done
  local bench=./tools/bench/calibration_pass_cuda
  step bench_small_cuda 60 "$out/bench_small_cuda.txt" bench "$bench" --shape=small --device=cuda
  step bench_llama3_8b_cuda_torch 200 "$out/bench_llama3_8b.txt" bench "$bench" \
    --shape=llama3-8b --device=cuda --torch "--python=$scratch/python.sh"
  # compute-sanitizer memcheck on the CUDA kernel cases, if the tool is here.
  local sanitizer=""
  for d in "$(command -v compute-sanitizer 2>/dev/null)" /usr/local/cuda/bin/compute-sanitizer \
           /usr/local/cuda/compute-sanitizer/compute-sanitizer /usr/local/cuda-13*/bin/compute-sanitizer; do
    [[ -n $d && -x $d ]] && { sanitizer="$d"; break; }
  done
  if [[ -z $sanitizer ]]; then
    printf '%-5s %-28s %7s  %s\n' SKIP memcheck_kernel_test "0.0s" "compute-sanitizer not found" | tee -a "$summary"
  elif [[ $config != cuda ]] || (( ! HAS_GPU )); then
    printf '%-5s %-28s %7s  %s\n' SKIP memcheck_kernel_test "0.0s" "no GPU or no CUDA build" | tee -a "$summary"
  else
    step memcheck_kernel_test 90 "$out/memcheck_kernel_test.log" test "$sanitizer" --tool memcheck \
      --error-exitcode 1 ./gisp/backend/kernel_test '--gtest_filter=*/cuda'
  fi
  step bench_llama2_7b_cuda 100 "$out/bench_llama2_7b.txt" bench "$bench" --shape=llama2-7b --device=cuda

  # ---- counts from the gtest XML ----------------------------------------------------------------
  local counts
  counts="$("$scratch/python.sh" - "$out" "${tests_run[@]}" <<'EOF' 2>&1 || echo "0 0 0 XML parse failed"
import os, sys
import xml.etree.ElementTree as ET
out, names = sys.argv[1], sys.argv[2:]
passed = failed = skipped = 0
notes = []
for n in names:
    path = os.path.join(out, n + ".xml")
    if not os.path.exists(path):
        failed += 1
        notes.append(n + ": no XML (crashed or timed out), counted as 1 failure")
        continue
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif (case.get("result") == "skipped" or case.find("skipped") is not None
              or case.get("status") == "notrun"):
            skipped += 1
        else:
            passed += 1
print(passed, failed, skipped, "; ".join(notes))
EOF
)"
  local np nf ns rest
  read -r np nf ns rest <<< "$counts"
  [[ -n $rest ]] && say "note: $rest"
  say "steps: $(grep -c '^PASS' "$summary") PASS, $(grep -c '^FAIL' "$summary") FAIL, $(grep -c '^SKIP' "$summary") SKIP; total $(awk -v s="$t_start" -v n="$(now)" 'BEGIN {printf "%.0f", n - s}') s"
  say "$np passed, $nf failed, $ns skipped"
  (( FAILED_STEPS == 0 && nf == 0 ))
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  run) shift; run "$@" ;;
  *) usage ;;
esac
