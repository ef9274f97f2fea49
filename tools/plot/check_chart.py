#!/usr/bin/python3
"""Checks a chart written by tools/plot: the SVG is well-formed XML (xml.etree) with the expected
size, text, series and data points; the PNG beside it has the expected size and its image data
inflates (Python's zlib, a decoder independent of libpng) to the expected number of bytes.

  check_chart.py CHART.svg CHART.png --size 800x500 [--text T]... [--series LABEL:MARKERS:RUNS]...
                 [--demo]

--text T: some <text> element reads exactly T. --series: the <g class="series"> with data-label
LABEL has MARKERS data circles and RUNS polylines. --demo: also checks every data point of
//tools/plot:chart_demo's series against the formulas that made them. Exits 1 on the first failure.
"""
import argparse
import math
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

NS = "{http://www.w3.org/2000/svg}"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check_png(path, width, height):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: no PNG signature")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            fail(f"{path}: bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if ihdr is None:
        fail(f"{path}: no IHDR")
    w, h, depth, color = ihdr[:4]
    if (w, h) != (width, height):
        fail(f"{path}: {w}x{h}, expected {width}x{height}")
    if (depth, color) != (8, 2):
        fail(f"{path}: bit depth {depth} colour type {color}, expected 8-bit RGB")
    raw = zlib.decompress(idat)
    if len(raw) != h * (1 + 3 * w):
        fail(f"{path}: {len(raw)} bytes of scanlines, expected {h * (1 + 3 * w)}")
    print(f"ok: {path} is a {w}x{h} RGB PNG whose IDAT inflates to {len(raw)} bytes")


def numbers(points):
    return [tuple(float(v) for v in p.split(",")) for p in points.split()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("svg")
    ap.add_argument("png")
    ap.add_argument("--size", required=True)
    ap.add_argument("--text", action="append", default=[])
    ap.add_argument("--series", action="append", default=[])
    ap.add_argument("--demo", action="store_true")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    check_png(args.png, width, height)

    try:
        root = ET.parse(args.svg).getroot()
    except ET.ParseError as e:
        fail(f"{args.svg} is not well-formed XML: {e}")
    if root.tag != NS + "svg":
        fail(f"root element is {root.tag}")
    if (root.get("width"), root.get("height")) != (str(width), str(height)):
        fail(f"svg size {root.get('width')}x{root.get('height')}")
    texts = ["".join(t.itertext()) for t in root.iter(NS + "text")]
    for want in args.text:
        if want not in texts:
            fail(f"no <text> reads {want!r}; texts: {texts}")
    groups = {g.get("data-label", ""): g for g in root.iter(NS + "g") if g.get("class") == "series"}
    for spec in args.series:
        label, markers, runs = spec.rsplit(":", 2)
        g = groups.get(label)
        if g is None:
            fail(f"no series group {label!r}; groups: {list(groups)}")
        circles = [c for c in g.iter(NS + "circle") if c.find(NS + "title") is not None]
        lines = list(g.iter(NS + "polyline"))
        if len(circles) != int(markers) or len(lines) != int(runs):
            fail(f"series {label!r}: {len(circles)} markers and {len(lines)} polylines, "
                 f"expected {markers} and {runs}")
        for c in circles:
            cx, cy = float(c.get("cx")), float(c.get("cy"))
            if not (0 <= cx <= width and 0 <= cy <= height):
                fail(f"series {label!r}: marker at {cx},{cy} is off the image")
        for line in lines:
            pts = numbers(line.get("points"))
            if any(b[0] < a[0] for a, b in zip(pts, pts[1:])):
                fail(f"series {label!r}: polyline x goes backwards")
    print(f"ok: {args.svg} parses; {len(texts)} texts, series {sorted(groups)}")

    if args.demo:  # tools/plot/chart_demo.cc's data
        for label, k in (("magnitude", 6.0), ("wanda", 3.5)):
            notes = [c.find(NS + "title").text for c in groups[label].iter(NS + "circle")
                     if c.find(NS + "title") is not None]
            for i, note in enumerate(notes):
                m = re.fullmatch(re.escape(label) + r": decoder sparsity (\S+), "
                                 r"WikiText-2 perplexity (\S+)", note)
                if not m:
                    fail(f"marker note {note!r}")
                x, y = float(m.group(1)), float(m.group(2))
                s = i * 0.05
                if abs(x - s) > 1e-9 or abs(y / (9.5 * math.exp(k * s ** 3)) - 1) > 1e-5:
                    fail(f"series {label!r} point {i}: ({x}, {y}) is not the demo's")
        # The line-only series breaks at its NaN (index 12): 12 points, then 4.
        runs = [len(numbers(p.get("points"))) for p in groups["gisp (ours)"].iter(NS + "polyline")]
        if runs != [12, 4]:
            fail(f"'gisp (ours)' polylines hold {runs} points, expected [12, 4]")
        print("ok: every demo data point is in the SVG")
    print("all chart checks passed")


if __name__ == "__main__":
    main()
