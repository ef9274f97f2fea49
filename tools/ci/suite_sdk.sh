#!/usr/bin/env bash
# The installed SDK, used as people outside the repository use it (issue 14). In a scratch
# directory, against `bazel run //:install -- --prefix` and against the release archive unpacked
# elsewhere:
#  - the layout: header, libgisp.so.1.M.P with its SONAME links, gisp.pc, the CMake package,
#    license and docs; one version everywhere (tools/release/check_version.py);
#  - what libgisp.so needs at run time: only gisp_* exported, no libprotobuf (linked in,
#    hidden), every DT_NEEDED library on the list docs/abi_policy.md documents;
#  - a CMake project (find_package(gisp)), a Makefile (pkg-config), a Rust project depending on
#    the crates by path (pkg-config) and a Go program under a real module path (#cgo pkg-config)
#    each prune the SDK's tiny model; every record equals the CLI's byte for byte;
#  - a host that has already loaded another protobuf (LD_PRELOAD of Debian's libsentencepiece,
#    which bundles one) still prunes correctly.
# Prints "SUITE-COUNT <passed> <failed>" for tools/test.sh.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
check() {  # description command...
  local what="$1"; shift
  local out
  if out=$("$@" 2>&1); then pass "$what"; else echo "$out" | tail -n 25; fail "$what"; fi
}

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
prefix="$scratch/prefix"
cd "$root"
if ! out=$(bazel run //:install -- --prefix "$prefix" 2>&1); then
  echo "$out" | tail -n 20
  fail "bazel run //:install"
  echo "SUITE-COUNT $passed $failed"
  exit 0
fi
pass "bazel run //:install -- --prefix DIR"
version="$(tr -d '[:space:]' <VERSION)"
abi="$(sed -n 's/^#define GISP_ABI_VERSION \([0-9]*\).*/\1/p' c_api/gisp.h)"
sofull="$abi.${version#*.}"

layout() {
  local d="$1"
  for f in include/gisp/gisp.h include/gisp/gisp_mpi.h "lib/libgisp.so.$sofull" lib/pkgconfig/gisp.pc \
           lib/cmake/gisp/gispConfig.cmake lib/cmake/gisp/gispConfigVersion.cmake \
           share/doc/gisp/LICENSE share/doc/gisp/LICENSE.protobuf share/doc/gisp/CHANGELOG.md \
           share/doc/gisp/docs/sdk.md share/gisp/tiny/model/config.json share/gisp/examples/prune_tiny.c; do
    [ -f "$d/$f" ] || { echo "missing $f"; return 1; }
  done
  [ "$(readlink "$d/lib/libgisp.so.$abi")" = "libgisp.so.$sofull" ] || { echo "bad libgisp.so.$abi link"; return 1; }
  [ "$(readlink "$d/lib/libgisp.so")" = "libgisp.so.$abi" ] || { echo "bad libgisp.so link"; return 1; }
  readelf -d "$d/lib/libgisp.so.$sofull" | grep -q "SONAME.*\[libgisp.so.$abi\]" || { echo "SONAME is not libgisp.so.$abi"; return 1; }
}
check "SDK layout: header, libgisp.so.$sofull with SONAME links, gisp.pc, CMake package, docs" layout "$prefix"
check "one version in VERSION, gisp.h, the .pc and CMake files, Cargo, Go, Python and the library" \
  /usr/bin/python3 tools/release/check_version.py --prefix "$prefix"
check "libgisp.so: only gisp_* exported, protobuf linked in, run-time libraries as documented" \
  /usr/bin/python3 tools/release/check_runtime_deps.py "$prefix/lib/libgisp.so.$sofull" docs/abi_policy.md

# The reference: the record the CLI writes for the bindings' parity configuration.
reference="${GISP_CLI_RECORD:-}"
if [ -z "$reference" ] || [ ! -f "$reference" ]; then
  reference="$scratch/cli_record.pb"
  bazel build //tools:prune >/dev/null 2>&1 && tools/ci/cli_reference_record.sh "$reference" ||
    fail "the CLI reference record"
fi
tiny="$prefix/share/gisp/tiny"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
same_record() {  # what record
  if [ ! -f "$2" ]; then fail "$1: no record written"; return; fi
  if cmp -s "$2" "$reference"; then pass "$1: record identical to the CLI's"; else fail "$1: record differs from the CLI's"; fi
}
consumers="$root/tools/sdk/consumers"

# CMake: find_package(gisp) with CMAKE_PREFIX_PATH.
cp -r "$consumers" "$scratch/consumers"
if out=$(cmake -S "$scratch/consumers/cmake" -B "$scratch/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" 2>&1 &&
         cmake --build "$scratch/cmake-build" 2>&1 &&
         "$scratch/cmake-build/prune_tiny" "$tiny/model" "$tiny/calib.txt" "$scratch/cmake.pb" 2>&1); then
  echo "$out" | grep -E "gisp .*ABI|^gisp " | head -n 3
  pass "CMake project: find_package(gisp), gisp::gisp, prune"
  same_record "CMake project" "$scratch/cmake.pb"
else
  echo "$out" | tail -n 25; fail "CMake project: find_package(gisp), gisp::gisp, prune"
fi
# CMake refuses a newer version than installed, naming it.
mkdir -p "$scratch/cmake-newer"
printf 'cmake_minimum_required(VERSION 3.16)\nproject(p C)\nfind_package(gisp %s.99 REQUIRED CONFIG)\n' "${version%%.*}" \
  >"$scratch/cmake-newer/CMakeLists.txt"
if out=$(cmake -S "$scratch/cmake-newer" -B "$scratch/cmake-newer/b" -DCMAKE_PREFIX_PATH="$prefix" 2>&1); then
  fail "CMake refuses a request for a newer gisp"
elif echo "$out" | grep -q "$version"; then
  pass "CMake refuses a request for a newer gisp, naming the installed $version"
else
  echo "$out" | tail -n 10; fail "CMake refuses a request for a newer gisp, naming the installed $version"
fi

# Make + pkg-config.
if out=$(make -C "$scratch/consumers/make" 2>&1 &&
         "$scratch/consumers/make/prune_tiny" "$tiny/model" "$tiny/calib.txt" "$scratch/make.pb" 2>&1); then
  pass "Makefile with pkg-config --cflags --libs gisp, prune"
  same_record "Makefile project" "$scratch/make.pb"
else
  echo "$out" | tail -n 25; fail "Makefile with pkg-config --cflags --libs gisp, prune"
fi

# Rust: a project depending on the crates by path; gisp-sys finds libgisp.so with pkg-config.
rust="$scratch/consumers/rust"
sed -i "s#GISP_CRATES_DIR#$root/bindings/rust#" "$rust/Cargo.toml"
if ! command -v cargo >/dev/null; then
  fail "Rust project: cargo is missing (tools/setup.sh installs it)"
elif out=$(cd "$rust" && env -u GISP_LIB_DIR CARGO_TARGET_DIR="$scratch/rust-target" \
             cargo build --offline --quiet 2>&1 &&
           LD_LIBRARY_PATH="$prefix/lib" "$scratch/rust-target/debug/gisp-rust-consumer" \
             "$tiny/model" "$tiny/calib.txt" "$scratch/rust.pb" 2>&1); then
  pass "Rust project depending on the crates by path (pkg-config), prune"
  same_record "Rust project" "$scratch/rust.pb"
else
  echo "$out" | tail -n 25; fail "Rust project depending on the crates by path (pkg-config), prune"
fi
# Without pkg-config's help gisp-sys says what to do.
if out=$(cd "$rust" && env -u GISP_LIB_DIR PKG_CONFIG_PATH=/nonexistent CARGO_TARGET_DIR="$scratch/rust-target2" \
           cargo build --offline --quiet 2>&1); then
  fail "gisp-sys without the SDK fails the build"
elif echo "$out" | grep -q "PKG_CONFIG_PATH=DIR/lib/pkgconfig"; then
  pass "gisp-sys without the SDK fails the build and says how to point it at one"
else
  echo "$out" | tail -n 10; fail "gisp-sys without the SDK fails the build and says how to point it at one"
fi

# Go: a module of its own requiring the binding by its module path (replaced by the checkout,
# as a vendored or proxied copy would be), cgo finding the SDK with pkg-config.
go_dir="$scratch/consumers/go"
if ! command -v go >/dev/null; then
  fail "Go program: go is missing (tools/setup.sh installs golang-go)"
elif out=$(cd "$go_dir" && go mod edit -replace "github.com/gisp-project/gisp/bindings/go=$root/bindings/go" &&
             GOPROXY=off GOFLAGS=-mod=mod GOCACHE="${GOCACHE:-$scratch/gocache}" go build -o prune_tiny . 2>&1 &&
             LD_LIBRARY_PATH="$prefix/lib" ./prune_tiny "$tiny/model" "$tiny/calib.txt" "$scratch/go.pb" 2>&1); then
  pass "Go program under module path github.com/gisp-project/gisp/bindings/go (#cgo pkg-config), prune"
  same_record "Go program" "$scratch/go.pb"
else
  echo "$out" | tail -n 25; fail "Go program under module path github.com/gisp-project/gisp/bindings/go (#cgo pkg-config), prune"
fi

# Another protobuf already in the process: Debian's libsentencepiece exports its own copy.
spm=/usr/lib/x86_64-linux-gnu/libsentencepiece.so.0
make_bin="$scratch/consumers/make/prune_tiny"
if [ ! -f "$spm" ]; then
  fail "protobuf clash: $spm is missing (tools/setup.sh --tests installs python3-sentencepiece)"
elif [ "$(nm -D --defined-only "$spm" | grep -c ' _ZN6google8protobuf')" -eq 0 ]; then
  fail "protobuf clash: $spm no longer exports protobuf symbols; pick another library for this test"
elif [ ! -x "$make_bin" ]; then
  fail "protobuf clash: the Makefile consumer was not built"
elif out=$(LD_PRELOAD="$spm" "$make_bin" "$tiny/model" "$tiny/calib.txt" "$scratch/clash.pb" 2>&1); then
  pass "a host that already loaded another protobuf (libsentencepiece) prunes"
  same_record "the host with another protobuf" "$scratch/clash.pb"
else
  echo "$out" | tail -n 10; fail "a host that already loaded another protobuf (libsentencepiece) prunes (exit $?)"
fi

# The release archive: the same tree, relocatable.
if out=$(bazel run //:release -- --out "$scratch/dist" 2>&1); then
  archive="$scratch/dist/gisp-$version-linux-$(uname -m).tar.gz"
  if [ -f "$archive" ] && mkdir -p "$scratch/unpacked/elsewhere" &&
     tar -xzf "$archive" -C "$scratch/unpacked/elsewhere" && layout "$scratch/unpacked/elsewhere/gisp-$version-linux-$(uname -m)"; then
    pass "bazel run //:release writes gisp-$version-linux-$(uname -m).tar.gz with the installed layout"
    moved="$scratch/unpacked/elsewhere/gisp-$version-linux-$(uname -m)"
    if out=$(make -C "$scratch/consumers/make" clean >/dev/null &&
             PKG_CONFIG_PATH="$moved/lib/pkgconfig" make -C "$scratch/consumers/make" 2>&1 &&
             readelf -d "$scratch/consumers/make/prune_tiny" | grep -q "$moved/lib" &&
             "$scratch/consumers/make/prune_tiny" "$moved/share/gisp/tiny/model" "$moved/share/gisp/tiny/calib.txt" "$scratch/moved.pb" 2>&1); then
      pass "the unpacked archive works where it lands (relocatable gisp.pc)"
      same_record "the unpacked archive" "$scratch/moved.pb"
    else
      echo "$out" | tail -n 20; fail "the unpacked archive works where it lands (relocatable gisp.pc)"
    fi
  else
    fail "bazel run //:release writes gisp-$version-linux-$(uname -m).tar.gz with the installed layout"
  fi
else
  echo "$out" | tail -n 20; fail "bazel run //:release"
fi

echo "SUITE-COUNT $passed $failed"
