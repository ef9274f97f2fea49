#!/usr/bin/env bash
# Python binding tests against the built libgisp.so (GISP_LIBRARY, set by tools/test.sh).
# Includes the check that bindings/python/gisp/_ffi.py is what bindings/python/tools/gen_ffi.py
# generates from c_api/gisp.h (needs Debian's python3-pycparser, installed by
# tools/setup.sh --tests; skipped with that advice otherwise). A test stuck in a native call
# dumps every thread's Python stack after 300 s.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
PYTHONPATH="$root/bindings/python" exec tools/ci/run_pytest.sh -o faulthandler_timeout=300 \
  bindings/python/tests
