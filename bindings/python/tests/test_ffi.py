"""The generated ctypes declarations (gisp/_ffi.py) against c_api/gisp.h and the loaded library.

Regenerating needs pycparser (Debian: python3-pycparser for /usr/bin/python3, which
tools/setup.sh --tests installs; pip: pycparser) and a C preprocessor (gcc, clang or cpp)."""
import importlib.util
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import gisp
from gisp import _ffi, _lib

PYROOT = pathlib.Path(__file__).resolve().parents[1]
GEN = PYROOT / "tools" / "gen_ffi.py"
HEADER = PYROOT.parents[1] / "c_api" / "gisp.h"

# gisp_* functions the package deliberately does not call, with the reason. Empty: every function
# of the header has a Python counterpart.
OMITTED = {}


def _gen_module():
    spec = importlib.util.spec_from_file_location("gen_ffi", GEN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _require_generator():
    try:
        import pycparser  # noqa: F401
    except ImportError:
        pytest.skip(f"pycparser is not installed for {sys.executable}: run the tests with "
                    "/usr/bin/python3 after `apt-get install python3-pycparser` (tools/setup.sh "
                    "--tests does), or `pip install pycparser`")
    if not any(shutil.which(c) for c in ("gcc", "clang", "cpp")):
        pytest.skip("no C preprocessor (gcc, clang or cpp) on PATH; install gcc")


def test_generated_ffi_is_current(tmp_path):
    _require_generator()
    out = tmp_path / "_ffi.py"
    r = subprocess.run([sys.executable, str(GEN), "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    checked_in = (PYROOT / "gisp" / "_ffi.py").read_text()
    assert out.read_text() == checked_in, (
        "gisp/_ffi.py is stale: run /usr/bin/python3 bindings/python/tools/gen_ffi.py")


def test_generator_declares_every_header_function():
    # Independent of pycparser: a plain scan of the header for declared gisp_ functions.
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    declared = re.findall(r"\b(gisp_[a-z0-9_]+)\s*\(", text)
    typedef_fns = set(re.findall(r"\(\*(gisp_[a-z0-9_]+)\)", text))
    names = [n for n in dict.fromkeys(declared) if n not in typedef_fns]
    assert names == list(_ffi.FUNCTIONS)


def test_generator_refuses_what_it_does_not_understand(tmp_path):
    _require_generator()
    gen = _gen_module()
    header = tmp_path / "bad.h"
    header.write_text("struct gisp_x { int a; };\ntypedef struct gisp_x gisp_x;\n"
                      "gisp_x* gisp_make(void);\n")
    src, macros = gen.preprocess(header)
    with pytest.raises(gen.GenError):
        gen.parse(src, macros)
    header.write_text("typedef struct gisp_y gisp_y;\nvoid gisp_f(long double v);\n")
    src, macros = gen.preprocess(header)
    with pytest.raises(gen.GenError, match="unknown type"):
        gen.parse(src, macros)


def test_signatures_are_applied_from_the_generated_module():
    fn = _lib.lib.gisp_model_load
    restype, argtypes, names = _ffi.FUNCTIONS["gisp_model_load"]
    assert fn.restype is restype and fn.argtypes == argtypes
    assert names == ("model_dir", "device", "device_index", "out")
    # Typed handles: a record is not accepted where a model is expected.
    import ctypes
    with pytest.raises(ctypes.ArgumentError):
        _lib.lib.gisp_model_free(ctypes.POINTER(_ffi.gisp_record)())
    assert _lib.ABI_VERSION == _ffi.GISP_ABI_VERSION == gisp.abi_version()
    assert gisp.code_name(gisp.Code.INVALID_ARGUMENT) == "invalid_argument"


def test_every_header_function_has_a_python_counterpart():
    source = (PYROOT / "gisp" / "__init__.py").read_text()
    uncalled = [n for n in _ffi.FUNCTIONS
                if n not in OMITTED and not re.search(rf"\blib\.{n}\b", source)]
    assert uncalled == []


def test_the_library_exports_every_header_function():
    assert _lib.MISSING == (), (
        f"{_lib.path} lacks {len(_lib.MISSING)} functions of c_api/gisp.h: "
        + ", ".join(_lib.MISSING))


def test_enums_match_the_header():
    assert {c.name: c.value for c in gisp.Code} == {
        k[len("GISP_"):]: v for k, v in _ffi.ENUMS["gisp_code"].items()}
    assert gisp.DType.AUTO == 100 and gisp.LogLevel.WARNING == 2
