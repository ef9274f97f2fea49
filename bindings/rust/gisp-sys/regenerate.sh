#!/usr/bin/env bash
# Generates gisp-sys/src/bindings.rs from c_api/gisp.h with bindgen (pinned version and flags).
#
#   regenerate.sh           rewrite src/bindings.rs
#   regenerate.sh --check   regenerate into a temporary file and diff it against src/bindings.rs
#
# Exit status: 0 written / up to date; 1 the checked-in file differs from the header (the diff is
# printed); 2 the tools are missing or not the pinned version (the reason is printed). The CI
# suite (tools/ci/suite_rust.sh) runs --check and counts 2 as a failure, never as a pass.
#
# Output is deterministic: the flags below are explicit, bindgen's own rustfmt pass is off and the
# result is formatted by `rustfmt --edition 2021` with an empty configuration file. Enums become
# integer typedefs plus constants (gisp's enums are append-only, so a Rust enum could receive a
# value it does not declare); GISP_NODISCARD (warn_unused_result) becomes #[must_use].
set -euo pipefail

BINDGEN_VERSION="0.60.1" # Debian's `bindgen` package (tools/setup.sh --tests installs it)

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
header="$root/c_api/gisp.h"
target="$here/src/bindings.rs"

mode="write"
case "${1:-}" in
  "") ;;
  --check) mode="check" ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

bindgen="${BINDGEN:-bindgen}"
if ! command -v "$bindgen" >/dev/null 2>&1; then
  echo "bindgen not found (need bindgen $BINDGEN_VERSION: apt-get install bindgen, or tools/setup.sh --tests)" >&2
  exit 2
fi
found="$("$bindgen" --version 2>/dev/null | awk '{print $2}')"
if [ "$found" != "$BINDGEN_VERSION" ]; then
  echo "bindgen $found found; the checked-in bindings are generated with bindgen $BINDGEN_VERSION" >&2
  exit 2
fi
if ! command -v rustfmt >/dev/null 2>&1; then
  echo "rustfmt not found (rustup component add rustfmt)" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/rustfmt.toml"

"$bindgen" \
  --no-rustfmt-bindings \
  --rust-target 1.47 \
  --allowlist-function 'gisp_.*' \
  --allowlist-type 'gisp_.*' \
  --allowlist-var 'GISP_.*' \
  --blocklist-type '__.*' \
  --default-enum-style consts \
  --no-prepend-enum-name \
  --size_t-is-usize \
  --enable-function-attribute-detection \
  --no-layout-tests \
  --no-doc-comments \
  --no-derive-copy \
  --no-derive-debug \
  "$header" \
  -- -x c -std=c11 >"$tmp/bindings.rs"
rustfmt --edition 2021 --config-path "$tmp/rustfmt.toml" "$tmp/bindings.rs"

if [ "$mode" = "write" ]; then
  cp "$tmp/bindings.rs" "$target"
  echo "wrote $target"
  exit 0
fi
if diff -u "$target" "$tmp/bindings.rs" >"$tmp/diff"; then
  echo "gisp-sys bindings match c_api/gisp.h"
  exit 0
fi
echo "gisp-sys/src/bindings.rs is out of date with c_api/gisp.h; run bindings/rust/gisp-sys/regenerate.sh:" >&2
cat "$tmp/diff" >&2
exit 1
