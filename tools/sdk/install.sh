#!/usr/bin/env bash
# Installs the gisp SDK into a standard prefix, or packs the same tree as a release archive.
#
#   bazel run //:install -- --prefix DIR     include/, lib/ (libgisp.so.1.M.P, pkg-config,
#                                            CMake package), share/doc/gisp, share/gisp/tiny
#   bazel run //:release -- [--out DIR]      DIR/gisp-<version>-linux-<arch>.tar.gz (default: .)
#
# Relative paths are taken from the directory bazel was run in. docs/sdk.md describes the layout.
set -euo pipefail

die() { echo "install: $*" >&2; exit 2; }

mode=install
prefix=""
out="."
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --release) mode=release; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

# The files come from Bazel's runfiles tree (bazel run starts us inside it).
runfiles="${RUNFILES_DIR:-}"
if [ -z "$runfiles" ]; then
  if [ -d "$0.runfiles" ]; then runfiles="$0.runfiles"; else runfiles="$(dirname "$PWD")"; fi
fi
src="$runfiles/gisp"
[ -f "$src/VERSION" ] || die "cannot find the runfiles (run it with bazel run //:install)"
user_dir="${BUILD_WORKING_DIRECTORY:-$PWD}"
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$user_dir/$1" ;; esac; }

version="$(tr -d '[:space:]' <"$src/VERSION")"
[[ "$version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || die "VERSION '$version' is not MAJOR.MINOR.PATCH"
major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}" patch="${BASH_REMATCH[3]}"
abi="$(sed -n 's/^#define GISP_ABI_VERSION \([0-9]*\).*/\1/p' "$src/c_api/gisp.h")"
[ -n "$abi" ] || die "c_api/gisp.h has no GISP_ABI_VERSION"
# libgisp.so.<ABI>.<minor>.<patch>: the SONAME (libgisp.so.<ABI>) changes only with the ABI.
soversion_full="$abi.$minor.$patch"

fill() {  # template output
  sed -e "s/@VERSION@/$version/g" -e "s/@VERSION_MAJOR@/$major/g" -e "s/@ABI_VERSION@/$abi/g" \
    -e "s/@SOVERSION_FULL@/$soversion_full/g" "$1" >"$2"
}

install_tree() {  # destination prefix (created)
  local d="$1"
  mkdir -p "$d/include/gisp" "$d/lib/pkgconfig" "$d/lib/cmake/gisp" "$d/share/doc/gisp/docs" \
    "$d/share/gisp/tiny/model" "$d/share/gisp/examples"
  install -m 0644 "$src/c_api/gisp.h" "$d/include/gisp/gisp.h"
  install -m 0644 "$src/c_api/gisp_mpi.h" "$d/include/gisp/gisp_mpi.h"
  install -m 0755 "$src/c_api/libgisp.so" "$d/lib/libgisp.so.$soversion_full"
  ln -sfn "libgisp.so.$soversion_full" "$d/lib/libgisp.so.$abi"
  ln -sfn "libgisp.so.$abi" "$d/lib/libgisp.so"
  fill "$src/tools/sdk/gisp.pc.in" "$d/lib/pkgconfig/gisp.pc"
  fill "$src/tools/sdk/gispConfig.cmake.in" "$d/lib/cmake/gisp/gispConfig.cmake"
  fill "$src/tools/sdk/gispConfigVersion.cmake.in" "$d/lib/cmake/gisp/gispConfigVersion.cmake"
  install -m 0644 "$src/LICENSE" "$src/CHANGELOG.md" "$src/README.md" "$d/share/doc/gisp/"
  install -m 0644 "$src/tools/sdk/THIRD_PARTY.md" "$d/share/doc/gisp/THIRD_PARTY.md"
  install -m 0644 "$runfiles/com_google_protobuf/LICENSE" "$d/share/doc/gisp/LICENSE.protobuf"
  install -m 0644 "$src"/docs/*.md "$d/share/doc/gisp/docs/"
  # The embedded tiny model (testdata/tiny), so a consumer can prune something at once.
  install -m 0644 "$src"/testdata/tiny/*.txt "$src"/testdata/tiny/manifest.json "$d/share/gisp/tiny/"
  install -m 0644 "$src"/testdata/tiny/model/* "$d/share/gisp/tiny/model/"
  install -m 0644 "$src/tools/sdk/consumers/prune_tiny.c" "$d/share/gisp/examples/prune_tiny.c"
}

if [ "$mode" = install ]; then
  [ -n "$prefix" ] || die "--prefix DIR is required (for example --prefix \$HOME/.local)"
  prefix="$(absolute "$prefix")"
  install_tree "$prefix"
  echo "installed gisp $version into $prefix"
  echo "  pkg-config: PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs gisp"
  echo "  CMake:      -DCMAKE_PREFIX_PATH=$prefix, then find_package(gisp) and gisp::gisp"
  exit 0
fi

arch="$(uname -m)"
name="gisp-$version-linux-$arch"
out="$(absolute "$out")"
mkdir -p "$out"
stage="$(mktemp -d "$out/.$name.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
install_tree "$stage/$name"
# Reproducible archive: fixed owner, order and times.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00Z' \
  -C "$stage" -czf "$stage/$name.tar.gz" "$name"
mv -f "$stage/$name.tar.gz" "$out/$name.tar.gz"  # atomic: the archive appears complete or not at all
echo "wrote $out/$name.tar.gz"
