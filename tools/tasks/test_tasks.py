"""The benchmark's task and multiple-choice data: splits are disjoint, formats match what gisp
reads, and the checked-in files regenerate byte-identically (`/usr/bin/pytest -q tools/tasks`)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import arith  # noqa: E402
import lookup  # noqa: E402
import mc  # noqa: E402
import times  # noqa: E402

BENCH = os.path.join(REPO, "testdata", "bench")


def test_split_is_disjoint_in_both_orders():
    train, held = arith.split_pairs()
    assert len(train) + len(held) == 100 * 100
    key = {frozenset(p) if p[0] != p[1] else frozenset([p[0], -1]) for p in held}
    for p in train:
        k = frozenset(p) if p[0] != p[1] else frozenset([p[0], -1])
        assert k not in key, p
    assert 0.15 < len(held) / 10000 < 0.25


def test_split_is_deterministic():
    assert arith.split_pairs() == arith.split_pairs()
    assert arith.split_pairs(seed=1) != arith.split_pairs()


def test_rendering_matches_gisp_answer_only_layout():
    # gisp/data/calibration_sources.h: "Q: " + question + "\nA: " + answer
    assert arith.render(37, 58) == "Q: 37+58\nA: 95"
    assert arith.prompt("37+58") + " 95" == arith.render(37, 58)
    assert arith.score(" 95\nQ: 1+1", "95")
    assert not arith.score(" 96", "95")


def test_checked_in_task_files_use_the_right_split():
    train, held = arith.split_pairs()
    held_q = {arith.question(a, b) for a, b in held}
    train_q = {arith.question(a, b) for a, b in train}
    calib = arith.read_jsonl(os.path.join(BENCH, "task_calib.jsonl"))
    probe = arith.read_jsonl(os.path.join(BENCH, "task_train_probe.jsonl"))
    ev = arith.read_jsonl(os.path.join(BENCH, "task_eval.jsonl"))
    assert all(r["question"] in train_q for r in calib + probe)
    assert all(r["question"] in held_q for r in ev)
    assert not {r["question"] for r in calib} & {r["question"] for r in probe}
    for r in calib + probe + ev:
        a, b = map(int, r["question"].split("+"))
        assert r["answer"] == str(a + b)


def test_lookup_split_is_disjoint_and_deterministic():
    train, held = lookup.split()
    assert (len(train), len(held)) == (lookup.N_TRAIN, lookup.N_HELD)
    held_q = {q for q, _ in held}
    assert len(held_q) == len(held)
    assert not held_q & {q for q, _ in train}
    assert lookup.split() == (train, held)
    assert lookup.split(seed=1) != (train, held)


def test_lookup_answer_is_the_queried_name_and_its_number():
    for q, a in lookup.split(n_train=200, n_held=50)[0]:
        listing, name = q[:-1].split("; ")
        values = dict(item.split(" ") for item in listing.split(", "))
        assert len(values) == lookup.PAIRS_PER_QUESTION
        assert a == f"{name} {values[name]}"
        assert all(n in lookup.NAMES and 10 <= int(v) <= 99 for n, v in values.items())
    q, a = lookup.split(n_train=1, n_held=1)[0][0]
    assert lookup.render(q, a) == f"Q: {q}\nA: {a}"
    assert lookup.prompt(q) + " " + a == lookup.render(q, a)
    assert lookup.score(f" {a}\nQ: x", a)
    assert not lookup.score(" " + a + "0", a)


def test_checked_in_lookup_files_use_the_right_split():
    train, held = lookup.split()
    held_q, train_q = {q for q, _ in held}, {q for q, _ in train}
    calib = lookup.read_jsonl(os.path.join(BENCH, "lookup_calib.jsonl"))
    probe = lookup.read_jsonl(os.path.join(BENCH, "lookup_train_probe.jsonl"))
    ev = lookup.read_jsonl(os.path.join(BENCH, "lookup_eval.jsonl"))
    assert calib and probe and ev
    assert all(r["question"] in train_q for r in calib + probe)
    assert all(r["question"] in held_q for r in ev)
    assert not {r["question"] for r in calib} & {r["question"] for r in probe}


def test_times_sides_cover_the_table_and_share_no_fact():
    cal, ev = times.split()
    n = times.MAX_FACTOR
    assert sorted(q for q, _ in cal + ev) == sorted(f"{a}*{b}" for a in range(1, n + 1)
                                                  for b in range(1, n + 1))
    # a*b and b*a always land on the same side, so no scored fact is calibrated on in either order
    assert not {frozenset(q.split("*")) for q, _ in cal} & {frozenset(q.split("*")) for q, _ in ev}
    assert all(a == str(int(q.split("*")[0]) * int(q.split("*")[1])) for q, a in cal + ev)
    assert times.split() == (cal, ev) and times.split(seed=1) != (cal, ev)
    assert times.render("7*8", "56") == "Q: 7*8\nA: 56"


def test_checked_in_times_files_are_the_two_sides():
    cal, ev = times.split()
    assert times.read_jsonl(os.path.join(BENCH, "times_calib.jsonl")) == times.qa_records(cal)
    assert times.read_jsonl(os.path.join(BENCH, "times_eval.jsonl")) == times.qa_records(ev)


def test_checked_in_mc_files_have_the_jsonl_form():
    for name in ("mc_calib.jsonl", "mc_eval.jsonl"):
        items = arith.read_jsonl(os.path.join(BENCH, name))
        assert items
        for it in items:
            assert set(it) == {"context", "choices", "label"}
            assert len(it["choices"]) == mc.CHOICES
            assert 0 <= it["label"] < mc.CHOICES
            assert all(c.startswith(" ") for c in it["choices"])
            true = it["choices"][it["label"]]
            assert it["choices"].count(true) == 1


@pytest.mark.skipif(shutil.which("bible") is None,
                    reason="Debian's bible-kjv is not installed (tools/setup.sh --tests)")
def test_data_regenerates_identically(tmp_path):
    subprocess.run([sys.executable, os.path.join(HERE, "make_data.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    for name in sorted(os.listdir(tmp_path)):
        with open(tmp_path / name, "rb") as a, open(os.path.join(BENCH, name), "rb") as b:
            assert a.read() == b.read(), name


@pytest.mark.skipif(shutil.which("bible") is None,
                    reason="Debian's bible-kjv is not installed (tools/setup.sh --tests)")
def test_mc_eval_items_come_from_held_out_chapters_only():
    sys.path.insert(0, os.path.join(REPO, "tools", "train_tiny"))
    import corpus
    train_ch, held_ch = corpus.split(corpus.load_chapters())
    train_text = corpus.join(train_ch)
    held_text = corpus.join(held_ch)
    for it in arith.read_jsonl(os.path.join(BENCH, "mc_eval.jsonl"))[:50]:
        sentence = it["context"].split("\n")[-1] + it["choices"][it["label"]]
        assert sentence in held_text
    for it in arith.read_jsonl(os.path.join(BENCH, "mc_calib.jsonl"))[:50]:
        sentence = it["context"].split("\n")[-1] + it["choices"][it["label"]]
        assert sentence in train_text
    json.dumps(it)
