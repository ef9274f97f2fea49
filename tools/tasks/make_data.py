#!/usr/bin/python3
"""Writes the benchmark's task and multiple-choice data into testdata/bench (deterministic).

    /usr/bin/python3 tools/tasks/make_data.py [--out testdata/bench]

Needs Debian's bible-kjv (the corpus, tools/train_tiny/corpus.py). Files:

  task_calib.jsonl      answer-only calibration: addition examples from the TRAIN pairs
  task_eval.jsonl       exact-match evaluation: HELD-OUT pairs (never trained or calibrated on)
  task_train_probe.jsonl  exact match on train pairs not in task_calib.jsonl (memorisation)
  lookup_calib.jsonl, lookup_eval.jsonl, lookup_train_probe.jsonl
                        the same three for the lookup task (tools/tasks/lookup.py), which the
                        benchmark model's second training phase learns
  times_calib.jsonl     answer-only calibration: the CALIBRATION side of the multiplication
                        table (tools/tasks/times.py; every fact of both sides is trained on)
  times_eval.jsonl      exact-match evaluation: the EVALUATION side (no fact in times_calib)
  mc_calib.jsonl        margin calibration: items from TRAIN chapters
  mc_eval.jsonl         multiple-choice evaluation: items from HELD-OUT chapters

Generic text calibration and held-out perplexity use testdata/tiny/calib.txt and eval.txt: the
benchmark model has the same corpus and chapter split (this script checks that they match it).
"""

import argparse
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tools", "train_tiny"))

import arith  # noqa: E402
import corpus  # noqa: E402
import lookup  # noqa: E402
import mc  # noqa: E402
import qa  # noqa: E402
import times  # noqa: E402

TASK_CALIB = 256
TASK_EVAL = 300
TASK_PROBE = 200
MC_CALIB = 128
MC_EVAL = 200
MC_SEED = 7


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "testdata", "bench"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    train_pairs, held_pairs = arith.split_pairs()
    lookup_train, lookup_held = lookup.split()
    for prefix, records, train, held in (
            ("task", arith.qa_records, train_pairs, held_pairs),
            ("lookup", lookup.qa_records, lookup_train, lookup_held)):
        qa.write_jsonl(os.path.join(args.out, f"{prefix}_calib.jsonl"), records(train[:TASK_CALIB]))
        qa.write_jsonl(os.path.join(args.out, f"{prefix}_train_probe.jsonl"),
                       records(train[TASK_CALIB:TASK_CALIB + TASK_PROBE]))
        qa.write_jsonl(os.path.join(args.out, f"{prefix}_eval.jsonl"), records(held[:TASK_EVAL]))
    times_cal, times_ev = times.split()
    qa.write_jsonl(os.path.join(args.out, "times_calib.jsonl"), times.qa_records(times_cal))
    qa.write_jsonl(os.path.join(args.out, "times_eval.jsonl"), times.qa_records(times_ev))
    train_ch, held_ch = corpus.split(corpus.load_chapters())
    calib_items = mc.make_items(train_ch, MC_CALIB, MC_SEED)
    eval_items = mc.make_items(held_ch, MC_EVAL, MC_SEED + 1)
    qa.write_jsonl(os.path.join(args.out, "mc_calib.jsonl"), calib_items)
    qa.write_jsonl(os.path.join(args.out, "mc_eval.jsonl"), eval_items)
    tiny = os.path.join(REPO, "testdata", "tiny")
    for name in ("calib.txt", "eval.txt"):
        want = corpus.join(corpus.take_spread(train_ch if name == "calib.txt" else held_ch,
                                              300_000 if name == "calib.txt" else 130_000))
        with open(os.path.join(tiny, name), encoding="utf-8") as f:
            if f.read() != want:
                raise SystemExit(f"{tiny}/{name} differs from the corpus split")
    for name in sorted(os.listdir(args.out)):
        if name.endswith((".jsonl", ".txt")):
            print(f"{sha256(os.path.join(args.out, name))}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
