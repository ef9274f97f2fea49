"""Loads libgisp.so and applies the C ABI's signatures (generated into _ffi.py from c_api/gisp.h).

The library is found, in order, at $GISP_LIBRARY, next to this package (an installed wheel may
ship it), in the repository's bazel-bin/c_api (a source checkout), or by the dynamic loader.
The ABI version is checked at load time.

Every function of the header gets its restype and argtypes from _ffi.FUNCTIONS; none is declared
by hand. A function the loaded library does not export (an older build than the header) is
replaced by a stub that raises MissingFunctionError when called, so the rest keeps working;
MISSING lists them.
"""
import ctypes
import os
import pathlib

from . import _ffi

ABI_VERSION = _ffi.GISP_ABI_VERSION


class MissingFunctionError(NotImplementedError):
    """The loaded libgisp is older than the header these bindings were generated from."""


def _candidates():
    env = os.environ.get("GISP_LIBRARY")
    if env:
        yield env
    here = pathlib.Path(__file__).resolve().parent
    yield str(here / "libgisp.so.1")
    for parent in here.parents:
        lib = parent / "bazel-bin" / "c_api" / "libgisp.so.1"
        if lib.exists():
            yield str(lib)
            break
    yield "libgisp.so.1"


def _openmp_loaded():
    try:
        with open("/proc/self/maps") as maps:
            return "libgomp" in maps.read()
    except OSError:
        return True  # cannot tell: leave OpenMP alone


def _shared_core_openmp_defaults():
    """A short OpenMP spin when the user chose no wait policy.

    libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, when it is loaded (with libgisp, unless
    something loaded it earlier). Its default spin lets idle threads burn the time slices that the
    working ones need when the machine's cores are shared; 10k iterations keeps the quiet speed and
    most of the speed under load (docs/benchmarks.md, "Sharing the cores"). The user's setting wins.
    """
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ or _openmp_loaded():
        return
    os.environ["GOMP_SPINCOUNT"] = "10000"


def _load():
    _shared_core_openmp_defaults()
    errors = []
    for path in _candidates():
        try:
            return path, ctypes.CDLL(path)  # CDLL: the GIL is released during every call
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("cannot load libgisp.so.1 (build it with `bazel build //c_api:shared_library` "
                      "or set GISP_LIBRARY):\n  " + "\n  ".join(errors))


path, lib = _load()


def _missing(name):
    def stub(*args, **kwargs):
        raise MissingFunctionError(f"{name} is not in the loaded libgisp ({path}); it is older "
                                   "than c_api/gisp.h: rebuild it (bazel build "
                                   "//c_api:shared_library) or point GISP_LIBRARY at a newer one")
    stub.__name__ = name
    return stub


def _apply():
    missing = []
    for name, (restype, argtypes, _) in _ffi.FUNCTIONS.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            setattr(lib, name, _missing(name))
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    return tuple(missing)


MISSING = _apply()


def has(name):
    """Whether the loaded library exports `name`."""
    return name in _ffi.FUNCTIONS and name not in MISSING


if lib.gisp_abi_version() != ABI_VERSION:
    raise ImportError(f"libgisp ABI {lib.gisp_abi_version()} ({path}) does not match this "
                      f"package ({ABI_VERSION})")
