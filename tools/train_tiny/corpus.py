#!/usr/bin/python3
"""The King James Version from Debian's bible-kjv package, cleaned and split by chapter.

`bible -l1000 "Gen1:1-Rev22:21"` prints every chapter as a header line ("1 Kings 3"), a blank
line, then one line per verse ("  12 And the LORD said ..."), with blank lines between chapters.
We keep the verse text only (references dropped, punctuation and case kept), one verse per line,
chapters separated by an empty line (like the "\n\n" joins of WikiText-2).

Split: chapters are numbered 0..1188 in canonical order; chapter i is held out when
i % HOLDOUT_EVERY == HOLDOUT_PHASE, so evaluation text never appears in training and the held-out
chapters are spread over the whole book.
"""

import re
import subprocess

BIBLE_CMD = ["bible", "-l1000", "Gen1:1-Rev22:21"]
HOLDOUT_EVERY = 20
HOLDOUT_PHASE = 19
EXPECTED_CHAPTERS = 1189
EXPECTED_VERSES = 31102

_HEADER = re.compile(r"^(\S.*) (\d+)$")
_VERSE = re.compile(r"^ +(\d+) (.*\S)\s*$")


class Chapter:
    def __init__(self, index, book, number):
        self.index = index  # 0-based position in canonical order
        self.book = book
        self.number = number
        self.verses = []

    def text(self):
        return "\n".join(self.verses)


def package_version(name):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def load_chapters():
    """Runs `bible` and parses its output into Chapters; fails loudly on anything unexpected."""
    raw = subprocess.run(BIBLE_CMD, check=True, capture_output=True, text=True).stdout
    chapters = []
    for lineno, line in enumerate(raw.split("\n"), 1):
        if not line.strip():
            continue
        m = _HEADER.match(line)
        if m:
            chapters.append(Chapter(len(chapters), m.group(1), int(m.group(2))))
            continue
        m = _VERSE.match(line)
        if m and chapters:
            verse = re.sub(r"\s+", " ", m.group(2))
            chapters[-1].verses.append(verse)
            if int(m.group(1)) != len(chapters[-1].verses):
                raise ValueError(f"bible output line {lineno}: verse {m.group(1)} out of order")
            continue
        raise ValueError(f"bible output line {lineno}: unrecognised line {line[:80]!r}")
    nverses = sum(len(c.verses) for c in chapters)
    if len(chapters) != EXPECTED_CHAPTERS or nverses != EXPECTED_VERSES:
        raise ValueError(f"bible output: {len(chapters)} chapters / {nverses} verses, expected "
                         f"{EXPECTED_CHAPTERS} / {EXPECTED_VERSES}")
    return chapters


def is_held_out(chapter):
    return chapter.index % HOLDOUT_EVERY == HOLDOUT_PHASE


def split(chapters):
    train = [c for c in chapters if not is_held_out(c)]
    held = [c for c in chapters if is_held_out(c)]
    return train, held


def join(chapters):
    """Plain text: verses one per line, chapters separated by an empty line, final newline."""
    return "\n\n".join(c.text() for c in chapters) + "\n"


def take_spread(chapters, target_bytes):
    """A deterministic subset spread evenly over the whole list (order kept): the largest n such
    that the chapters at positions floor(j * len / n), j = 0..n-1, total at most target_bytes."""
    for n in range(len(chapters), 0, -1):
        pick = [chapters[j * len(chapters) // n] for j in range(n)]
        if len(join(pick).encode()) <= target_bytes:
            return pick
    raise ValueError(f"no chapter fits in {target_bytes} bytes")
