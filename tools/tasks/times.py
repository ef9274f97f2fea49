#!/usr/bin/python3
"""Multiplication facts as templated question answering: the benchmark model's task.

One example renders as "Q: 7*8\\nA: 56" (tools/tasks/qa.py's template, the layout gisp's
answer-only calibration builds from {"question": "7*8", "answer": "56"}). The facts are a*b for
a, b in 1..MAX_FACTOR: a table a model learns by heart, as people learn theirs.

Why a table and not a rule: the 22M-parameter benchmark model, in the training a background run
on this project's 2-core machines allows, learned neither two-digit addition (tools/tasks/arith.py:
exact match 1% after its 400 steps) nor looking a name's number up in the question
(tools/tasks/lookup.py: 0% after 160 further steps), so a held-out-question version of the
experiment would compare pruned models that all score zero. (Those two scores were taken with
prompts tokenized unlike the training text; tools/train_bench/README.md, "Why every example is its
own document", so they understate what was learned.) A table seen often is what a small model
does learn: trained with every example its own document (tools/train_bench --task times
--task-format documents, 800 passes, 273 steps), the benchmark model answers 87.5% of the
evaluation side and 90.3% of the calibration side exactly (2026-12-02, testdata/bench/
manifest.json). What pruning can take away is that memory.

Split (deterministic, by SEED): unordered pairs {a, b} are shuffled and alternately assigned to
two sides, both orders with each pair. Every fact is in the training text. Answer-only
calibration uses the CALIBRATION side; exact match is measured on the EVALUATION side only, so no
scored question is a calibration example (the analogue of calibrating on a benchmark's train
split and scoring its test split, for a task the model has learned).
"""

import random

from qa import PREFIX, SEPARATOR, prompt, read_jsonl, render, score, write_jsonl  # noqa: F401
import qa

SEED = 20261201
MAX_FACTOR = 12


def split(seed=SEED, max_factor=MAX_FACTOR):
    """Returns (calibration side, evaluation side): lists of (question, answer), each in a seeded
    random order; together every fact a*b, a and b in 1..max_factor."""
    unordered = [(a, b) for a in range(1, max_factor + 1) for b in range(a, max_factor + 1)]
    rng = random.Random(seed)
    rng.shuffle(unordered)
    sides = ([], [])
    for i, (a, b) in enumerate(unordered):
        for x, y in {(a, b), (b, a)}:
            sides[i % 2].append((f"{x}*{y}", str(x * y)))
    for side in sides:
        side.sort()
        rng.shuffle(side)
    return sides


def training_blocks(items, passes, per_block, seed=SEED):
    """Task documents for the training stream: `passes` shuffled passes over the facts, cut into
    blocks of `per_block` examples, one example per line."""
    return qa.training_blocks(items, passes, per_block, seed, lambda it: render(*it))


def qa_records(items):
    return [{"question": q, "answer": a} for q, a in items]
