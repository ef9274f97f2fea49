#!/usr/bin/env python3
"""Checks that one version, the repository's VERSION file, is the version everywhere.

    tools/release/check_version.py [--prefix INSTALLED_SDK]

With --prefix it also checks what the install wrote from VERSION: the name libgisp.so.<ABI>.M.P,
gisp.pc's Version, the CMake package's PACKAGE_VERSION, and gisp_version_string() of the
installed library (loaded with ctypes). Exit status 1 and one line per disagreement otherwise.
"""
import argparse
import ctypes
import pathlib
import re
import sys

import versions


def check_prefix(prefix, version):
    problems = []
    major, minor, patch = version.split(".")
    header = (prefix / "include/gisp/gisp.h").read_text()
    abi = re.search(r"#define GISP_ABI_VERSION (\d+)", header).group(1)
    lib = prefix / "lib" / f"libgisp.so.{abi}.{minor}.{patch}"
    if not lib.is_file():
        problems.append(f"{lib} is missing (the library's file name follows VERSION)")
    pc = (prefix / "lib/pkgconfig/gisp.pc").read_text()
    found = re.findall(r"(?m)^Version: (\S+)$", pc)
    if found != [version]:
        problems.append(f"gisp.pc: Version {found}, VERSION {version}")
    cmake = (prefix / "lib/cmake/gisp/gispConfigVersion.cmake").read_text()
    found = re.findall(r'(?m)^set\(PACKAGE_VERSION "([^"$]+)"\)', cmake)
    if found != [version]:
        problems.append(f"gispConfigVersion.cmake: PACKAGE_VERSION {found}, VERSION {version}")
    if lib.is_file():
        so = ctypes.CDLL(str(lib))
        so.gisp_version_string.restype = ctypes.c_char_p
        loaded = so.gisp_version_string().decode()
        if loaded != version:
            problems.append(f"gisp_version_string() of {lib.name} is {loaded}, VERSION {version}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", type=pathlib.Path, help="an installed SDK to check as well")
    args = parser.parse_args()
    version = versions.read_version()
    problems = versions.check()
    if args.prefix:
        problems += check_prefix(args.prefix, version)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"version {version}: VERSION, gisp.h, Cargo, pyproject, Go"
          + (", gisp.pc, CMake, the library" if args.prefix else "") + " agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
