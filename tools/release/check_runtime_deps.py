#!/usr/bin/env python3
"""Checks what a built libgisp.so needs and shows at run time against docs/abi_policy.md.

    tools/release/check_runtime_deps.py LIBGISP_SO docs/abi_policy.md

- every DT_NEEDED library matches a row of the policy's run-time dependency table (between the
  `runtime-dependencies` markers; `*` matches any text);
- the only global symbols it defines are gisp_* functions (hidden visibility + version script);
- it neither needs libprotobuf nor refers to any protobuf symbol: protobuf is linked in, private.
Prints one line per problem and exits 1, or prints the NEEDED list and exits 0.
"""
import fnmatch
import re
import subprocess
import sys


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def allowed_libraries(policy_path):
    text = open(policy_path).read()
    m = re.search(r"<!-- runtime-dependencies:begin -->(.*?)<!-- runtime-dependencies:end -->", text, re.S)
    if not m:
        sys.exit(f"{policy_path}: no runtime-dependencies table between its markers")
    return re.findall(r"^\|\s*`([^`]+)`", m.group(1), re.M)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    lib, policy = sys.argv[1], sys.argv[2]
    allowed = allowed_libraries(policy)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run("readelf", "-d", lib))
    problems = [f"{lib} needs {n}, which {policy} does not list"
                for n in needed if not any(fnmatch.fnmatchcase(n, a) for a in allowed)]
    problems += [f"{lib} needs {n}: protobuf must be linked in" for n in needed if "protobuf" in n]
    for line in run("nm", "-D", "--defined-only", lib).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isupper() and not parts[2].startswith("gisp_"):
            problems.append(f"{lib} exports {parts[2]} (only gisp_* may be exported)")
    for line in run("nm", "-D", "--undefined-only", lib).splitlines():
        if "_ZN6google8protobuf" in line:
            problems.append(f"{lib} refers to protobuf from outside: {line.split()[-1]}")
    for p in problems:
        print(p)
    if problems:
        return 1
    print("NEEDED: " + " ".join(needed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
