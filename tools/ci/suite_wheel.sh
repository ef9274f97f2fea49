#!/usr/bin/env bash
# The Python wheel as a user gets it: tools/python_wheel.sh builds it (libgisp.so.1 and its
# vendored libraries inside), a fresh venv installs it, and a script run from a scratch directory
# (no repository on sys.path, GISP_LIBRARY unset) imports gisp, checks that the library it loaded
# is the wheel's own, prunes the tiny model with the bindings' parity settings and compares the
# record with the CLI's byte for byte. Prints "SUITE-COUNT <passed> <failed>".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

reference="${GISP_CLI_RECORD:-}"
if [ -z "$reference" ] || [ ! -f "$reference" ]; then
  reference="$scratch/cli_record.pb"
  (cd "$root" && bazel build //tools:prune >/dev/null 2>&1 && tools/ci/cli_reference_record.sh "$reference") ||
    fail "the CLI reference record"
fi

if ! wheel=$("$root/tools/python_wheel.sh" "$scratch/dist" 2>"$scratch/wheel.log"); then
  tail -n 20 "$scratch/wheel.log"
  fail "tools/python_wheel.sh builds the wheel"
  echo "SUITE-COUNT $passed $failed"
  exit 0
fi
pass "tools/python_wheel.sh builds $(basename "$wheel")"
case "$(basename "$wheel")" in
  gisp-"$(tr -d "[:space:]" <"$root/VERSION")"-py3-none-manylinux_*_x86_64.whl) pass "the wheel is named for VERSION, with a manylinux tag" ;;
  *) fail "the wheel has a manylinux tag: $(basename "$wheel")" ;;
esac
listing=$(python3 -m zipfile -l "$wheel")
if echo "$listing" | grep -q "gisp/libgisp.so.1" && echo "$listing" | grep -q "gisp.libs/libdnnl-"; then
  pass "the wheel carries libgisp.so.1 and the libraries it needs (oneDNN, Abseil, ...)"
else
  echo "$listing" | head -n 20; fail "the wheel carries libgisp.so.1 and the libraries it needs"
fi

if ! (python3 -m venv "$scratch/venv" && "$scratch/venv/bin/pip" install -q "$wheel") >"$scratch/install.log" 2>&1; then
  tail -n 20 "$scratch/install.log"
  fail "a fresh venv installs the wheel"
  echo "SUITE-COUNT $passed $failed"
  exit 0
fi
pass "a fresh venv installs the wheel"

cat >"$scratch/use_wheel.py" <<'PY'
import pathlib
import sys

import gisp
from gisp import _lib

site = pathlib.Path(sys.argv[1]).resolve()
tiny = pathlib.Path(sys.argv[2])
reference = pathlib.Path(sys.argv[3])
package = pathlib.Path(gisp.__file__).resolve().parent
assert site in package.parents, f"gisp imported from {package}, not from the venv"
assert pathlib.Path(_lib.path).resolve().parent == package, f"loaded {_lib.path}"
maps = pathlib.Path("/proc/self/maps").read_text()
assert "gisp.libs/libdnnl-" in maps, "oneDNN was not loaded from the wheel"
with gisp.Model(tiny / "model") as model:
    data = gisp.Calibration.text_windows(model, tiny / "calib.txt", window_tokens=64, count=8, seed=0)
    with gisp.Pruner(model, data, gisp.PruneConfig(ratio=0.5, steps=3, batch_size=4)) as pruner:
        pruner.run()
        ours = pruner.record().to_bytes()
assert ours == reference.read_bytes(), "the wheel's record differs from the CLI's"
print(f"gisp {gisp.version()} from {package}: record identical to the CLI's ({len(ours)} bytes)")
PY
site="$("$scratch/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
if out=$(cd "$scratch" && env -u GISP_LIBRARY -u PYTHONPATH -u LD_LIBRARY_PATH \
           "$scratch/venv/bin/python" -I use_wheel.py "$site" "$root/testdata/tiny" "$reference" 2>&1); then
  echo "$out"
  pass "the installed wheel prunes the tiny model outside the repository; record identical to the CLI's"
else
  echo "$out" | tail -n 20
  fail "the installed wheel prunes the tiny model outside the repository; record identical to the CLI's"
fi
echo "SUITE-COUNT $passed $failed"
