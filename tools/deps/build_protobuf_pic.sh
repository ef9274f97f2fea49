#!/usr/bin/env bash
# Builds the protobuf C++ runtime that libgisp.so links statically: Debian 12's own protobuf
# source package (the same 3.21.12 release and Debian patches as protoc and libprotobuf-dev),
# compiled as position-independent code.
#
#   tools/deps/build_protobuf_pic.sh     # installs into $GISP_DEPS_DIR (default ~/.cache/gisp-deps)
#
# Why: protobuf 3.21 has no versioned namespace, so a libgisp.so that took its protobuf from
# libprotobuf.so.32 shared it with every other protobuf in the host process. A host that had
# already loaded another copy (libsentencepiece bundles one; so do many runtimes) made gisp's
# calls land in that copy and crash in protobuf's static initializers (docs/abi_policy.md).
# Debian ships libprotobuf.a, but it is compiled for executables (initial-exec TLS), so it cannot
# go into a shared object. This archive can; libgisp.so's version script keeps it private.
#
# Idempotent: does nothing when the archive for this exact source is already installed. The
# sources come from Debian's archive (the only network this project's machines have) and are
# checked against the SHA-256 sums below, copied from the signed .dsc of 3.21.12-3+deb12u1.
set -euo pipefail

version="3.21.12"
debian_revision="3+deb12u1"
orig_sha256="930c2c3b5ecc6c9c12615cf5ad93f1cd6e12d0aba862b572e076259970ac3a53"
debian_sha256="49cdad49801545cb797355af19fbd6b3627084c6549f629512faaa4e25dd5647"
mirror="${GISP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
deps="${GISP_DEPS_DIR:-$HOME/.cache/gisp-deps}"
prefix="$deps/protobuf-$version-$debian_revision-pic"
stamp="$prefix/.complete"

# What the archive is built with; a different value rebuilds it.
flavour="pic, default visibility, -O2, runtime only"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$flavour" ]; then
  exit 0
fi
for tool in curl cmake make g++ sha256sum tar xz; do
  command -v "$tool" >/dev/null || { echo "build_protobuf_pic: $tool is missing" >&2; exit 2; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/gisp-protobuf.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fetch() {  # file sha256
  local url="$mirror/pool/main/p/protobuf/$1"
  curl -fsSL --retry 3 -o "$work/$1" "$url" || { echo "build_protobuf_pic: cannot download $url" >&2; exit 1; }
  echo "$2  $work/$1" | sha256sum -c --quiet - || {
    echo "build_protobuf_pic: $1 does not match its SHA-256 from the Debian .dsc" >&2; exit 1; }
}
echo "build_protobuf_pic: protobuf $version-$debian_revision from $mirror (a few minutes, once)"
fetch "protobuf_$version.orig.tar.gz" "$orig_sha256"
fetch "protobuf_$version-$debian_revision.debian.tar.xz" "$debian_sha256"

src="$work/protobuf-$version"
tar -xzf "$work/protobuf_$version.orig.tar.gz" -C "$work"
tar -xJf "$work/protobuf_$version-$debian_revision.debian.tar.xz" -C "$src"
# Debian's patches, in its series order (quilt format 3.0).
if [ -f "$src/debian/patches/series" ]; then
  while read -r patch _; do
    case "$patch" in ''|'#'*) continue ;; esac
    patch -d "$src" -p1 --quiet --forward <"$src/debian/patches/$patch"
  done <"$src/debian/patches/series"
fi

# Only the runtime (no protoc, no tests); -O2 like Debian's build. Default visibility: Bazel links
# tests against per-target shared objects that must see protobuf's symbols. libgisp.so is what
# must not show them, and its version script (c_api/exports.lds) makes every one of them local.
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="-O2 -g0" \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF -Dprotobuf_BUILD_TESTS=OFF \
  -Dprotobuf_BUILD_PROTOC_BINARIES=OFF -Dprotobuf_BUILD_LIBPROTOC=OFF -Dprotobuf_WITH_ZLIB=OFF \
  -Dprotobuf_INSTALL=OFF >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; exit 1; }
make -C "$work/build" -j"$(nproc)" libprotobuf >"$work/make.log" 2>&1 || {
  tail -40 "$work/make.log" >&2; exit 1; }

rm -rf "$prefix"
mkdir -p "$prefix/lib"
cp "$work/build/libprotobuf.a" "$prefix/lib/libprotobuf_pic.a"
# The headers of this exact source, so generated code and runtime always agree.
(cd "$src/src" && find google -name '*.h' -o -name '*.inc' -o -name '*.proto' | tar -cf - -T -) |
  tar -xf - -C "$prefix" --one-top-level=include 2>/dev/null ||
  { mkdir -p "$prefix/include" && (cd "$src/src" && find google \( -name '*.h' -o -name '*.inc' -o -name '*.proto' \) -exec cp --parents {} "$prefix/include" \;); }
cp "$src/LICENSE" "$prefix/LICENSE"
echo "$flavour" >"$stamp"
echo "build_protobuf_pic: installed $prefix"
