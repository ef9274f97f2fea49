#!/usr/bin/python3
"""Smoke run of the benchmark's PyTorch half on a tiny shape, so the script cannot rot between
benchmark runs (it once crashed on its own argument parsing). Timings are not asserted: only that
it runs to the end and prints the result line //tools/bench:calibration_pass parses.

The lean reference model runs on this interpreter (Debian's python3-torch); the HF transformers
baseline runs in the project venv (.consumers/venv, made by tools/setup.sh --tests), the same one
the benchmark uses, and skips saying why when that venv is absent.

    /usr/bin/pytest -q tools/bench
"""
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_PYTHON = os.path.join(HERE, "..", "..", ".consumers", "venv", "bin", "python")


def run_tiny(python, model):
    out = subprocess.run(
        [python, os.path.join(HERE, "torch_calibration_pass.py"), "--model", model,
         "--layers", "2", "--hidden", "32", "--heads", "4", "--kv_heads", "2", "--ffn", "48",
         "--vocab", "97", "--seq", "16", "--batch", "2", "--batches", "2", "--threads", "1"],
        check=True, capture_output=True, text=True, timeout=300).stdout
    match = re.search(r"^tokens_per_s=([0-9.]+)$", out, re.MULTILINE)
    assert match, out
    assert float(match.group(1)) > 0
    assert "torch sgemm 1024^3:" in out
    return out


def test_reference_model_runs_and_reports_tokens_per_second():
    out = run_tiny(sys.executable, "reference")
    assert "model: project reference Llama" in out


def test_hf_transformers_model_runs_and_reports_tokens_per_second():
    if not os.access(VENV_PYTHON, os.X_OK):
        pytest.skip("no project venv at .consumers/venv (tools/setup.sh --tests makes it): the HF "
                    "transformers baseline needs its torch and transformers")
    out = run_tiny(VENV_PYTHON, "hf")
    assert "model: transformers " in out and "LlamaForCausalLM" in out
