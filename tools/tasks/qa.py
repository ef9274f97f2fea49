#!/usr/bin/python3
"""What the benchmark's question-answering tasks share (tools/tasks/arith.py, lookup.py): the
Q:/A: template, the training documents, the JSONL files and exact-match scoring.

The template is the layout gisp's answer-only calibration builds from a JSONL record
{"question": q, "answer": a}: prefix "Q: ", separator "\\nA: " (gisp/data/calibration_sources.h),
so training text, calibration and scoring agree token for token.
"""

import json
import random

PREFIX, SEPARATOR = "Q: ", "\nA: "


def render(q, a):
    """The training-text form of one example, identical to gisp's QaPairs rendering."""
    return f"{PREFIX}{q}{SEPARATOR}{a}"


def prompt(q):
    """The generation prompt for exact match: the rendering up to 'A:' (no trailing space: the
    space before the answer is the model's first generated piece, as in the training text)."""
    return f"{PREFIX}{q}{SEPARATOR.rstrip(' ')}"


def training_blocks(items, passes, per_block, seed, render_item):
    """Task documents for a training stream: `passes` passes over `items`, each shuffled by a
    generator seeded with seed + 1, cut into blocks of `per_block` examples, one per line;
    render_item(item) is an example's text."""
    rng = random.Random(seed + 1)
    blocks = []
    for _ in range(passes):
        order = list(items)
        rng.shuffle(order)
        for i in range(0, len(order), per_block):
            blocks.append("\n".join(render_item(it) for it in order[i:i + per_block]))
    return blocks


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
