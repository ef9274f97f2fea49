# Sourced by the Go and Rust binding suites: installs the SDK of this checkout into $root/.sdk
# (git-ignored) and points pkg-config and the dynamic loader at it, so the bindings are built the
# way their users build them (`#cgo pkg-config: gisp`, gisp-sys's pkg-config lookup).
# Needs $root; returns 1 (after printing why) when the install fails.
gisp_sdk_prefix="$root/.sdk"
if ! gisp_sdk_out=$(cd "$root" && bazel run //:install -- --prefix "$gisp_sdk_prefix" 2>&1); then
  echo "$gisp_sdk_out" | tail -n 20
  echo "bazel run //:install failed"
  return 1
fi
export PKG_CONFIG_PATH="$gisp_sdk_prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$gisp_sdk_prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
