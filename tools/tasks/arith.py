#!/usr/bin/python3
"""Two-number addition as templated question answering: the benchmark model's task.

One example renders as "Q: 37+58\nA: 95", the exact layout gisp's answer-only calibration builds
from the JSONL {"question": "37+58", "answer": "95"} (prefix "Q: ", separator "\nA: ";
gisp/data/calibration_sources.h), so training text, calibration and scoring agree token for
token. Operands are 0..MAX_OPERAND.

Split (deterministic, by SEED): unordered pairs {a, b} are shuffled and every HOLDOUT_EVERY-th one
is held out, both orders with it, so a held-out question is never seen in training in either
order. Training text and answer-only calibration draw from the train pairs only; exact-match
evaluation uses held-out pairs only (and, separately reported, train pairs never used for
calibration, to tell memorisation from generalisation).

Scoring: greedy generation after the prompt "Q: 37+58\nA:" (no trailing space: the space before
the answer is the model's first generated piece, as in the training text), cut at the first
newline, stripped; exact match against the answer string.
"""

import json
import random

SEED = 20261130
MAX_OPERAND = 99
HOLDOUT_EVERY = 5  # 20% of unordered pairs held out
PREFIX, SEPARATOR = "Q: ", "\nA: "


def question(a, b):
    return f"{a}+{b}"


def answer(a, b):
    return str(a + b)


def render(a, b):
    """The training-text form, identical to gisp's QaPairs rendering."""
    return f"{PREFIX}{question(a, b)}{SEPARATOR}{answer(a, b)}"


def prompt(q):
    """The generation prompt for exact match: the rendering up to 'A:' (no trailing space)."""
    return f"{PREFIX}{q}{SEPARATOR.rstrip(' ')}"


def split_pairs(seed=SEED, max_operand=MAX_OPERAND):
    """Returns (train, held): lists of ordered pairs (a, b), each in a seeded random order."""
    unordered = [(a, b) for a in range(max_operand + 1) for b in range(a, max_operand + 1)]
    rng = random.Random(seed)
    rng.shuffle(unordered)
    train, held = [], []
    for i, (a, b) in enumerate(unordered):
        dest = held if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1 else train
        dest.append((a, b))
        if a != b:
            dest.append((b, a))
    rng.shuffle(train)
    rng.shuffle(held)
    return train, held


def training_blocks(train_pairs, passes, per_block, seed=SEED):
    """Task documents for the training stream: `passes` shuffled passes over the train pairs,
    cut into blocks of `per_block` examples, one example per line."""
    rng = random.Random(seed + 1)
    blocks = []
    for _ in range(passes):
        order = list(train_pairs)
        rng.shuffle(order)
        for i in range(0, len(order), per_block):
            blocks.append("\n".join(render(a, b) for a, b in order[i:i + per_block]))
    return blocks


def qa_records(pairs):
    return [{"question": question(a, b), "answer": answer(a, b)} for a, b in pairs]


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(generated, want):
    """Exact match: the generation up to its first newline, stripped, equals the answer."""
    return generated.split("\n", 1)[0].strip() == want.strip()
