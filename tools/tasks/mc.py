#!/usr/bin/python3
"""A multiple-choice set from KJV text: which ending completes this verse?

Each item takes one verse of at least MIN_WORDS words, cuts it at a word boundary near its middle,
and asks for the true second half among CHOICES endings; the distractors are second halves of
verses from other chapters of the same split, of similar byte length (within LENGTH_SLACK of the
true ending, so length alone gives little away and acc/acc_norm differ only by the model's
per-byte preferences). The context is the previous verse of the chapter (when there is one), a
newline, and the first half; every ending starts with a space, as lm-eval's continuations do.

Items from held-out chapters are for evaluation only; items from training chapters are for
calibration (margin objective, or lm on the true endings). Deterministic by seed.
"""

import random

CHOICES = 4
MIN_WORDS = 12
LENGTH_SLACK = 0.3


def _halves(verse):
    words = verse.split(" ")
    cut = len(words) // 2
    return " ".join(words[:cut]), " " + " ".join(words[cut:])


def make_items(chapters, count, seed):
    """chapters: corpus.Chapter list of one split. Returns up to `count` items
    {"context", "choices", "label"} (a list of dicts)."""
    rng = random.Random(seed)
    cands = []  # (chapter index, verse index)
    for ci, ch in enumerate(chapters):
        for vi, v in enumerate(ch.verses):
            if len(v.split(" ")) >= MIN_WORDS:
                cands.append((ci, vi))
    rng.shuffle(cands)
    endings = [(ci, _halves(chapters[ci].verses[vi])[1]) for ci, vi in cands]
    items = []
    for ci, vi in cands:
        if len(items) >= count:
            break
        verse = chapters[ci].verses[vi]
        first, true_end = _halves(verse)
        n = len(true_end.encode())
        pool = [e for cj, e in endings
                if cj != ci and abs(len(e.encode()) - n) <= LENGTH_SLACK * n and e != true_end]
        if len(pool) < CHOICES - 1:
            continue
        distractors = rng.sample(pool, CHOICES - 1)
        label = rng.randrange(CHOICES)
        choices = distractors[:label] + [true_end] + distractors[label:]
        prev = chapters[ci].verses[vi - 1] + "\n" if vi > 0 else ""
        items.append({"context": prev + first, "choices": choices, "label": label})
    return items


def lm_text(items):
    """The calibration items' contexts with their true endings, as plain text for the lm
    objective on the same data the margin objective sees."""
    return "\n\n".join(it["context"] + it["choices"][it["label"]] for it in items) + "\n"
