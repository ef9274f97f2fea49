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

import random

from qa import PREFIX, SEPARATOR, prompt, read_jsonl, score, write_jsonl  # noqa: F401
import qa

SEED = 20261130
MAX_OPERAND = 99
HOLDOUT_EVERY = 5  # 20% of unordered pairs held out


def question(a, b):
    return f"{a}+{b}"


def answer(a, b):
    return str(a + b)


def render(a, b):
    """The training-text form, identical to gisp's QaPairs rendering."""
    return qa.render(question(a, b), answer(a, b))


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
    return qa.training_blocks(train_pairs, passes, per_block, seed, lambda p: render(*p))


def qa_records(pairs):
    return [{"question": question(a, b), "answer": answer(a, b)} for a, b in pairs]
