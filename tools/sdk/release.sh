#!/usr/bin/env bash
# `bazel run //:release -- [--out DIR]`: the installed tree as gisp-<version>-linux-<arch>.tar.gz.
set -euo pipefail
export RUNFILES_DIR="${RUNFILES_DIR:-$0.runfiles}"
exec "$RUNFILES_DIR/gisp/tools/sdk/install.sh" --release "$@"
