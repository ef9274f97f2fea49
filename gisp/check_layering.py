"""Checks every dependency edge of the build against the layer table (gisp/layers.txt).

Usage: check_layering.py LAYERS_TXT DEPS_GRAPH
DEPS_GRAPH is the output of //gisp:layering_deps (a genquery, --output=graph, unfactored):
lines `"//a:b" -> "//c:d"`. Exit 0 when every edge between layered packages points to the same
layer or a lower one (a *_test target may also use the test support layer), 1 otherwise.
"""

import re
import sys

TEST_SUPPORT = "testing"
# Packages under these roots must be in the table; others (third_party, testdata, external
# repositories) are not layered.
LAYERED_ROOTS = ("gisp", "c_api", "tools", "bindings")
EDGE = re.compile(r'^\s*"([^"]+)"\s*->\s*"([^"]+)"\s*$')


def read_layers(path):
    """Returns [(rank, layer, pattern)]."""
    entries = []
    rank = 0
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            layer, patterns = line[0], line[1:]
            if not patterns:
                sys.exit("%s: layer %s lists no package" % (path, layer))
            for p in patterns:
                entries.append((rank, layer, p))
            rank += 1
    return entries


def package_of(label):
    if not label.startswith("//"):
        return None  # external repository
    return label[2:].split(":", 1)[0]


def layer_of(package, entries):
    """(rank, layer) of the most specific matching pattern, or None."""
    best = None
    best_len = -1
    for rank, layer, pattern in entries:
        if pattern.endswith("/..."):
            root = pattern[: -len("/...")]
            ok = package == root or package.startswith(root + "/")
        else:
            root = pattern
            ok = package == root
        if ok and len(root) > best_len:
            best, best_len = (rank, layer), len(root)
    return best


def is_layered(package):
    return package.split("/", 1)[0] in LAYERED_ROOTS


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    entries = read_layers(argv[1])
    edges = []
    with open(argv[2]) as f:
        for line in f:
            m = EDGE.match(line)
            if m:
                edges.append((m.group(1), m.group(2)))
    if not edges:
        sys.exit("%s: no dependency edges found" % argv[2])

    errors = []
    unmapped = set()
    checked = 0
    packages = set()
    for src, dst in edges:
        ps, pd = package_of(src), package_of(dst)
        if ps is None or pd is None or not is_layered(ps) or not is_layered(pd):
            continue
        ls, ld = layer_of(ps, entries), layer_of(pd, entries)
        for p, l in ((ps, ls), (pd, ld)):
            if l is None:
                unmapped.add(p)
        if ls is None or ld is None:
            continue
        packages.update((ps, pd))
        checked += 1
        if ld[0] <= ls[0]:
            continue
        if ld[1] == TEST_SUPPORT and src.endswith("_test"):
            continue
        errors.append("upward dependency: %s (layer %s) -> %s (layer %s)" %
                      (src, ls[1], dst, ld[1]))

    for p in sorted(unmapped):
        errors.append("package //%s is in no layer of %s" % (p, argv[1]))
    # Every layer of the table must occur in the graph, so a stale table or a graph that
    # lost its roots does not pass silently.
    # (The top layer is exempt: nothing may depend on it, so the roots need not reach it.)
    seen = {layer_of(p, entries)[1] for p in packages}
    top = entries[-1][1]
    for layer in sorted({e[1] for e in entries} - seen - {top}):
        errors.append("layer %s has no target in the dependency graph" % layer)

    for e in errors:
        print(e)
    print("%d dependency edges between %d layered packages checked, %d problems" %
          (checked, len(packages), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
