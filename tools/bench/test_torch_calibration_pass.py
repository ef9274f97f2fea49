#!/usr/bin/python3
"""Smoke run of the benchmark's PyTorch half on a tiny shape, so the script cannot rot between
benchmark runs (it once crashed on its own argument parsing). Timings are not asserted: only that
it runs to the end and prints the result line //tools/bench:calibration_pass parses.

    /usr/bin/pytest -q tools/bench
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def test_tiny_shape_runs_and_reports_tokens_per_second():
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "torch_calibration_pass.py"), "--layers", "2",
         "--hidden", "32", "--heads", "4", "--kv_heads", "2", "--ffn", "48", "--vocab", "97",
         "--seq", "16", "--batch", "2", "--batches", "2", "--threads", "1"],
        check=True, capture_output=True, text=True, timeout=300).stdout
    match = re.search(r"^tokens_per_s=([0-9.]+)$", out, re.MULTILINE)
    assert match, out
    assert float(match.group(1)) > 0
    assert "torch sgemm 1024^3:" in out
