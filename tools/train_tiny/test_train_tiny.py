#!/usr/bin/python3
"""Checks the checked-in default model testdata/tiny against its manifest and its recipe.

    /usr/bin/pytest -q tools/train_tiny

Checks (about 2 min on one core with the reference BLAS, mostly the perplexity): file hashes,
config and tokenizer settings, that eval.txt is held-out text and calib.txt training text, that
the tokenizer retrains byte-identically from the corpus, and that the stored bf16 model
reproduces the manifest's perplexity and beats the unigram baseline by far.
Training itself is not rerun (about 50 minutes).
"""

import json
import os
import shutil
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TINY = os.path.join(REPO, "testdata", "tiny")
sys.path.insert(0, HERE)

import corpus  # noqa: E402
import tokenizer as tok  # noqa: E402
import train  # noqa: E402

needs_bible = pytest.mark.skipif(shutil.which("bible") is None,
                                 reason="Debian package bible-kjv not installed")


@pytest.fixture(scope="module")
def manifest():
    with open(os.path.join(TINY, "manifest.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def sp():
    with open(os.path.join(TINY, "model", "tokenizer.model"), "rb") as f:
        return tok.processor(f.read())


def read(name):
    with open(os.path.join(TINY, name), encoding="utf-8") as f:
        return f.read()


def test_hashes_cover_every_file(manifest):
    assert set(manifest["sha256"]) == set(train.output_files(TINY))
    for name, digest in manifest["sha256"].items():
        assert train.sha256_file(os.path.join(TINY, name)) == digest, name


def test_config_is_llama_gqa(manifest):
    with open(os.path.join(TINY, "model", "config.json")) as f:
        cfg = json.load(f)
    assert cfg["model_type"] == "llama" and cfg["torch_dtype"] == "bfloat16"
    assert cfg["num_key_value_heads"] < cfg["num_attention_heads"]
    assert cfg["num_attention_heads"] % cfg["num_key_value_heads"] == 0
    assert cfg["tie_word_embeddings"] is False
    assert cfg["rope_theta"] == 10000.0 and cfg["rms_norm_eps"] == 1e-5
    model, _ = train.tl.load_hf_dir(os.path.join(TINY, "model"))
    assert train.param_count(model) == manifest["model"]["parameters"]
    assert 2_000_000 <= manifest["model"]["parameters"] <= 4_000_000


def test_tokenizer_is_llama2_style(sp):
    cfg = json.loads(read(os.path.join("model", "tokenizer_config.json")))
    assert cfg["add_bos_token"] is True and cfg["add_eos_token"] is False
    assert [sp.id_to_piece(i) for i in range(3)] == ["<unk>", "<s>", "</s>"]
    assert sp.id_to_piece(3) == "<0x00>" and sp.is_byte(3)  # byte_fallback pieces follow
    assert sp.encode("\n", out_type=str)[-1] == "<0x0A>"
    assert sp.encode("In the", out_type=str)[0].startswith("\u2581")  # add_dummy_prefix
    text = read("eval.txt")
    assert sp.decode(sp.encode(text)) == text


@needs_bible
def test_texts_come_from_the_right_split():
    train_ch, held_ch = corpus.split(corpus.load_chapters())
    held = {c.text() for c in held_ch}
    trained = {c.text() for c in train_ch}
    eval_chapters = read("eval.txt").rstrip("\n").split("\n\n")
    calib_chapters = read("calib.txt").rstrip("\n").split("\n\n")
    assert all(c in held and c not in trained for c in eval_chapters)
    assert all(c in trained for c in calib_chapters)
    assert read("eval.txt") == corpus.join(corpus.take_spread(held_ch, train.EVAL_BYTES))
    assert read("calib.txt") == corpus.join(corpus.take_spread(train_ch, train.CALIB_BYTES))


@needs_bible
def test_tokenizer_retrains_identically(manifest):
    train_ch, _ = corpus.split(corpus.load_chapters())
    model_bytes = tok.train_tokenizer([v for c in train_ch for v in c.verses],
                                      manifest["tokenizer"]["vocab_size"])
    with open(os.path.join(TINY, "model", "tokenizer.model"), "rb") as f:
        assert model_bytes == f.read()


def test_stored_model_perplexity(manifest, sp):
    torch.set_num_threads(1)
    chunks = train.eval_chunks(tok.encode_document(sp, read("eval.txt")))
    model, _ = train.tl.load_hf_dir(os.path.join(TINY, "model"))
    ppl, n = train.perplexity(model, chunks)
    ev = manifest["evaluation"]
    assert n == ev["scored_tokens"]
    assert ppl == pytest.approx(ev["ppl_bf16_stored_weights"], rel=1e-4)
    assert ppl < 0.5 * ev["ppl_unigram_add_one"]
    assert ppl < 1.02 * ev["ppl_float32_weights"]  # bf16 storage costs (almost) nothing


@needs_bible
def test_unigram_baseline_recomputes(manifest, sp):
    train_ch, _ = corpus.split(corpus.load_chapters())
    train_ids = tok.encode_document(sp, corpus.join(train_ch))
    chunks = train.eval_chunks(tok.encode_document(sp, read("eval.txt")))
    uni, _ = train.unigram_perplexity(train_ids, chunks, sp.get_piece_size())
    assert uni == pytest.approx(manifest["evaluation"]["ppl_unigram_add_one"], rel=1e-5)
