#!/usr/bin/env python3
"""Sets gisp's version everywhere: VERSION, c_api/gisp.h, Cargo, pyproject and the Go package.

    tools/release/set_version.py 0.2.0

The SONAME's full name, gisp.pc, the CMake package and gisp_version_string follow VERSION at
build and install time. Add the CHANGELOG entry yourself.
"""
import sys

import versions

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    versions.rewrite(sys.argv[1])
    problems = versions.check()
    if problems:
        sys.exit("\n".join(problems))
    print(f"gisp version set to {sys.argv[1]}")
