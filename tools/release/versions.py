"""The places outside Bazel that carry gisp's version, read and written in one module.

VERSION (repository root) is the one source. Bazel reads it directly (gisp/base:version_inc,
tools/sdk/install.sh); these files cannot, so set_version.py rewrites them and check_version.py
(run by tools/ci/suite_sdk.sh) fails when one of them disagrees.
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def read_version(root=ROOT):
    text = (root / "VERSION").read_text().strip()
    if not re.fullmatch(r"\d+\.\d+\.\d+", text):
        raise ValueError(f"{root / 'VERSION'}: '{text}' is not MAJOR.MINOR.PATCH")
    return text


# (file, pattern with one group around the version or its part, how the part derives from the
# version). Each pattern must match exactly once.
def _places(version):
    major, minor, patch = version.split(".")
    return [
        ("c_api/gisp.h", r"#define GISP_VERSION_MAJOR (\d+)", major),
        ("c_api/gisp.h", r"#define GISP_VERSION_MINOR (\d+)", minor),
        ("c_api/gisp.h", r"#define GISP_VERSION_PATCH (\d+)", patch),
        ("bindings/rust/gisp-sys/Cargo.toml", r'(?m)^version = "([^"]+)"', version),
        ("bindings/rust/gisp/Cargo.toml", r'(?m)^version = "([^"]+)"', version),
        ("bindings/rust/gisp/Cargo.toml", r'gisp-sys = \{[^}]*version = "([^"]+)"', version),
        ("bindings/rust/Cargo.lock", r'name = "gisp"\nversion = "([^"]+)"', version),
        ("bindings/rust/Cargo.lock", r'name = "gisp-sys"\nversion = "([^"]+)"', version),
        ("bindings/python/pyproject.toml", r'(?m)^version = "([^"]+)"', version),
        ("bindings/go/gisp.go", r'const PackageVersion = "([^"]+)"', version),
    ]


def check(root=ROOT):
    """Returns a list of "file: found X, VERSION says Y" problems."""
    version = read_version(root)
    problems = []
    for rel, pattern, want in _places(version):
        text = (root / rel).read_text()
        found = re.findall(pattern, text)
        if len(found) != 1:
            problems.append(f"{rel}: expected one match of {pattern!r}, found {len(found)}")
        elif found[0] != want:
            problems.append(f"{rel}: has {found[0]} where VERSION {version} gives {want}")
    return problems


def rewrite(new_version, root=ROOT):
    if not re.fullmatch(r"\d+\.\d+\.\d+", new_version):
        raise ValueError(f"'{new_version}' is not MAJOR.MINOR.PATCH")
    for rel, pattern, want in _places(new_version):
        path = root / rel
        text = path.read_text()

        def put(m, want=want):
            return m.group(0)[: m.start(1) - m.start(0)] + want + m.group(0)[m.end(1) - m.start(0):]

        text, n = re.subn(pattern, put, text)
        if n != 1:
            raise ValueError(f"{rel}: expected one match of {pattern!r}, found {n}")
        path.write_text(text)
    (root / "VERSION").write_text(new_version + "\n")
