#!/usr/bin/env bash
# Python binding tests against the built libgisp.so (GISP_LIBRARY, set by tools/test.sh).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
PYTHONPATH="$root/bindings/python" exec tools/ci/run_pytest.sh bindings/python/tests
