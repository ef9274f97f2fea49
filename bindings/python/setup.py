"""Builds gisp's Python wheel with libgisp.so.1 inside the package.

The metadata is in pyproject.toml; this file only puts the library into the wheel and marks the
wheel as platform-specific (it carries a native library, though no extension module). The library
comes from $GISP_LIBRARY, else from the repository's bazel-bin/c_api. tools/python_wheel.sh
builds the wheel and vendors the library's own dependencies with auditwheel.
"""
import os
import pathlib
import shutil

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = pathlib.Path(__file__).resolve().parent


def _library():
    env = os.environ.get("GISP_LIBRARY")
    lib = pathlib.Path(env) if env else HERE.parents[1] / "bazel-bin" / "c_api" / "libgisp.so.1"
    if not lib.is_file():
        raise SystemExit(f"gisp wheel: {lib} not found: build it with `bazel build "
                         "//c_api:shared_library` or set GISP_LIBRARY to a libgisp.so.1")
    return lib


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        target = pathlib.Path(self.build_lib) / "gisp" / "libgisp.so.1"
        shutil.copyfile(_library(), target)
        target.chmod(0o755)


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        # Any Python 3 (ctypes, no extension module), one platform: py3-none-linux_x86_64, which
        # auditwheel turns into the manylinux tag the bundled libraries allow.
        _, _, platform = super().get_tag()
        return "py3", "none", platform


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True  # a platform wheel: libgisp.so.1 is native code


setup(cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel},
      distclass=BinaryDistribution)
