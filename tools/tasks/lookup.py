#!/usr/bin/python3
"""Templated question answering by lookup in the question: the benchmark model's task.

One example renders as "Q: Aaron 37, Levi 58, Noah 12, Eli 90; Levi?\nA: 58": four names from
the King James text, each with a two-digit number, then one of the names again; the answer is
that name's number. It is the layout gisp's answer-only calibration builds from the JSONL
{"question": "Aaron 37, ...; Levi?", "answer": "58"} (prefix "Q: ", separator "\nA: ";
gisp/data/calibration_sources.h), so training text, calibration and scoring agree token for token.

Why it was tried: the 22M-parameter benchmark model did not learn two-digit addition
(tools/tasks/arith.py) in the training a background run on this project's 2-core machines allows
(exact match 1% after 400 steps, still 1% after 40 more steps with half of each batch addition).
Answering here needs the model to find the queried name earlier in the line and copy the number
after it, the "induction" pattern attention heads also use on repeated text, so it was expected
to be learned faster. It was not: continued from the 400-step model with half of each batch this
task, exact match stayed at 0-3% after 80 steps (answer the number only) and 0% after 160 steps
(answer the name and the number; the model learned the format, not the copying), 2026-12-01.
tools/tasks/times.py is the next candidate.

Split (deterministic, by SEED): instances are drawn from one seeded stream; the first
N_HELD distinct questions are held out and every later instance whose question equals a held-out
one is dropped, so no held-out question is seen in training. Training text and answer-only
calibration draw from the train instances only; exact-match evaluation uses held-out instances
only (and, separately reported, train instances never used for calibration).

Scoring: greedy generation after the prompt "Q: ...; Levi?\nA:" (no trailing space: the space
before the answer is the model's first generated piece, as in the training text), cut at the
first newline, stripped; exact match against the answer string.
"""

import random

from qa import PREFIX, SEPARATOR, prompt, read_jsonl, render, score, write_jsonl  # noqa: F401
import qa

SEED = 20261201
# Names that are one piece each in the benchmark tokenizer (4096-piece BPE on the KJV).
NAMES = ("Aaron Adam Abraham Isaac Jacob Esau Joseph Moses Joshua Gideon Samson Samuel Saul "
         "David Solomon Nathan Elijah Elisha Daniel Esther Job Noah Lot Sarah Rachel Leah Laban "
         "Judah Levi Simeon Reuben Dan Gad Asher Benjamin Ephraim Manasseh Jesse Absalom Joab "
         "Abner Eli Pharaoh Peter Paul John James Philip Mary Herod Pilate").split()
PAIRS_PER_QUESTION = 4
N_TRAIN = 24000
N_HELD = 2000


def make_instance(rng):
    """(question, answer): PAIRS_PER_QUESTION distinct names with numbers 10..99, one queried."""
    names = rng.sample(NAMES, PAIRS_PER_QUESTION)
    values = [rng.randint(10, 99) for _ in names]
    k = rng.randrange(PAIRS_PER_QUESTION)
    listing = ", ".join(f"{n} {v}" for n, v in zip(names, values))
    return f"{listing}; {names[k]}?", f"{names[k]} {values[k]}"


def split(seed=SEED, n_train=N_TRAIN, n_held=N_HELD):
    """Returns (train, held): lists of (question, answer), disjoint in questions."""
    rng = random.Random(seed)
    held, held_q = [], set()
    while len(held) < n_held:
        q, a = make_instance(rng)
        if q not in held_q:
            held_q.add(q)
            held.append((q, a))
    train = []
    while len(train) < n_train:
        q, a = make_instance(rng)
        if q not in held_q:
            train.append((q, a))
    return train, held


def training_blocks(items, passes, per_block, seed=SEED):
    """Task documents for the training stream: `passes` shuffled passes over the train items,
    cut into blocks of `per_block` examples, one example per line."""
    return qa.training_blocks(items, passes, per_block, seed, lambda it: render(*it))


def qa_records(items):
    return [{"question": q, "answer": a} for q, a in items]
