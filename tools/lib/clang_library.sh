# Sourced by tools/fuzz.sh and tools/tsan_openmp.sh: compiles gisp's library sources (CPU only,
# as libgisp.so builds them, without tests and tools) with Debian's clang and the caller's flags
# into an archive, outside Bazel (Bazel 4.2.3 here drives gcc; the sanitizer runtimes that need
# clang are libFuzzer and an OpenMP runtime Archer can see, LLVM's libomp).
#
#   gisp_clang_library OUT JOBS FLAG...   -> OUT/libgisp.a (objects in OUT/obj, generated in OUT/gen)
#
# The flags must include -I"$OUT/gen". An object is recompiled when its source, any gisp header
# or any .proto is newer, so OUT must belong to one checkout and one set of flags.

gisp_clang_library() {
  local out="$1" jobs="$2"
  shift 2
  local flags=("$@")
  mkdir -p "$out/obj" "$out/gen"
  local sources
  # Every package under gisp/ counts, so a new one is picked up without editing this list.
  mapfile -t sources < <(
    find gisp c_api -name '*.cc' | sort |
      grep -v -e '_test\.cc$' -e '/test_util\.cc$' -e 'smoke' -e '_bench' -e '/cpu_features\.cc$' \
        -e '^gisp/testing/' -e '^gisp/integration/' -e '^gisp/backend/cuda/' -e '^c_api/examples/')
  # clang ignores the "#pragma GCC target" of gisp/base/cpu_features.h: its replacement.
  sources+=(tools/fuzz/cpu_features_clang.cc)

  # Generated protobuf code: gisp's formats and the fields of tokenizer.model that gisp reads.
  local proto generated
  for proto in gisp/proto/gisp.proto gisp/io/tokenizer/spm_model.proto; do
    generated="$out/gen/${proto%.proto}.pb.cc"
    if [ ! -f "$generated" ] || [ "$proto" -nt "$generated" ]; then
      protoc --proto_path=. --proto_path=/usr/include --cpp_out="$out/gen" "$proto" || return 1
    fi
    sources+=("$generated")
  done

  # The version string from VERSION (gisp/base:version_inc under Bazel).
  local version_inc="$out/gen/gisp/base/version.inc"
  mkdir -p "$(dirname "$version_inc")"
  printf '"%s"\n' "$(tr -d '[:space:]' < VERSION)" > "$version_inc.new"
  if cmp -s "$version_inc.new" "$version_inc"; then rm -f "$version_inc.new"
  else mv -f "$version_inc.new" "$version_inc"; fi

  # The Python configuration the decilm export embeds (a genrule under Bazel).
  local embedded="$out/gen/gisp/export/configuration_decilm_py.h"
  if [ ! -f "$embedded" ] || [ gisp/export/configuration_decilm.py -nt "$embedded" ]; then
    mkdir -p "$(dirname "$embedded")"
    gisp/export/embed_python.sh gisp/export/configuration_decilm.py "$embedded" || return 1
  fi

  # Compile what changed, JOBS at a time.
  local newest_header
  newest_header="$(ls -t $(git ls-files '*.h' '*.proto') gisp/base/*.h 2>/dev/null | head -1)"
  local pids=() objects=() src obj
  for src in "${sources[@]}"; do
    obj="$out/obj/$(echo "$src" | tr '/' '_').o"
    objects+=("$obj")
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then
      clang++ "${flags[@]}" -c "$src" -o "$obj" &
      pids+=($!)
    fi
    if [ ${#pids[@]} -ge "$jobs" ]; then
      wait "${pids[0]}" || { echo "clang build: compiling failed" >&2; return 1; }
      pids=("${pids[@]:1}")
    fi
  done
  local p
  for p in "${pids[@]}"; do wait "$p" || { echo "clang build: compiling failed" >&2; return 1; }; done
  rm -f "$out/libgisp.a"
  ar rcs "$out/libgisp.a" "${objects[@]}"
}
