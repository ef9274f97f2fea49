"""The benchmark model's manifest (testdata/bench/manifest.json): complete enough to reproduce the
run, and, when the weights are in ~/.cache/gisp/bench-model, matching them byte for byte."""

import hashlib
import json
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MANIFEST = os.path.join(REPO, "testdata", "bench", "manifest.json")
CACHE = os.path.expanduser("~/.cache/gisp/bench-model")


def load():
    with open(MANIFEST) as f:
        return json.load(f)


def test_manifest_records_what_reproduces_the_run():
    m = load()
    t = m["training"]
    assert t["seed"] == 1234 and 0 < t["steps_done"] <= t["scheduled_steps"]
    assert t["tokens_seen"] == t["steps_done"] * t["batch"] * t["seq_len"]
    if t["steps_done"] < t["scheduled_steps"]:
        assert f"--stop-at {t['steps_done']}" in m["command"]
    assert f"--steps {t['scheduled_steps']}" in m["command"]
    for flag in ("--ffn", "--lr", "--warmup", "--layers", "--hidden", "--kv-heads"):
        assert flag in m["command"]
    assert any("openblas" in p for p in m["environment"]["blas"])
    assert len(m["training_data_sha256"]["stream_text_utf8"]) == 64
    assert m["evaluation"]["ppl_bf16_stored_weights"] < m["evaluation"]["ppl_unigram_add_one"]
    assert 20e6 <= m["model"]["parameters"] <= 60e6


@pytest.mark.skipif(not os.path.exists(os.path.join(CACHE, "manifest.json")),
                    reason=f"the benchmark weights are not in {CACHE} (tools/train_bench/README.md)")
def test_cached_weights_match_the_manifest():
    m = load()
    for name, digest in m["sha256"].items():
        with open(os.path.join(CACHE, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, name
