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


def load(path=MANIFEST):
    with open(path) as f:
        return json.load(f)


# manifest.json is the current benchmark model (the times table); manifest_arith.json the addition
# model before it, kept because docs/quality.md's `bench` section was measured on it.
@pytest.mark.parametrize("name", ["manifest.json", "manifest_arith.json"])
def test_manifest_records_what_reproduces_the_run(name):
    m = load(os.path.join(REPO, "testdata", "bench", name))
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
    fmt = m["task"].get("stream_format", "inline")
    assert (f"--task-format {fmt}" in m["command"]) == (fmt != "inline")


@pytest.mark.skipif(not os.path.exists(os.path.join(CACHE, "manifest.json")),
                    reason=f"the benchmark weights are not in {CACHE} (tools/train_bench/README.md)")
def test_cached_weights_match_the_manifest():
    m = load()
    for name, digest in m["sha256"].items():
        with open(os.path.join(CACHE, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, name


def _train_bench():
    import sys
    sys.path.insert(0, HERE)
    import train_bench
    return train_bench


@pytest.mark.skipif(not os.path.exists("/usr/bin/bible"),
                    reason="Debian's bible-kjv is not installed (tools/setup.sh --tests)")
def test_documents_stream_has_every_example_as_its_own_document_in_the_inline_order():
    import re
    tb = _train_bench()
    docs = tb.stream_of("times", 2, "documents")
    examples = [d for d in docs if d.startswith("Q: ")]
    assert len(examples) == 2 * 144 and len(docs) == len(examples) + 1130
    assert all(re.fullmatch(r"Q: (\d+)\*(\d+)\nA: (\d+)\n", e) for e in examples)
    inline = tb.stream_of("times", 2, "inline")
    assert len(inline) == 1
    pattern = r"Q: \d+\*\d+\nA: \d+"
    assert [e.rstrip("\n") for e in examples] == re.findall(pattern, inline[0])


def test_documents_stream_tokenizes_examples_as_the_prompts_do():
    # What the format exists for: the exact-match prompt (and gisp's answer-only calibration) is
    # a token prefix of the example as the documents stream trains on it, and is not as the
    # inline stream does (there "Q" follows a newline and loses SentencePiece's word-start mark).
    import sys
    tb = _train_bench()
    sys.path.insert(0, os.path.join(REPO, "tools", "tasks"))
    import qa
    with open(os.path.join(REPO, "testdata", "tiny", "model", "tokenizer.model"), "rb") as f:
        sp = tb.tok.processor(f.read())
    example = qa.render("7*8", "56") + "\n"
    ids = tb.encode_docs(sp, ["In the beginning", example])
    prompt = tb.tok.encode_document(sp, qa.prompt("7*8"))
    start = ids.index(tb.tok.BOS_ID, 1)
    assert ids[start:start + len(prompt)] == prompt
    assert ids[start + len(prompt):] == sp.encode(example)[len(prompt) - 1:]
    inline = tb.tok.encode_document(sp, "In the beginning\n\n" + example)
    assert all(inline[i:i + len(prompt) - 1] != prompt[1:] for i in range(len(inline)))
