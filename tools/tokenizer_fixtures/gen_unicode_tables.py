#!/usr/bin/python3
"""Generates gisp/io/tokenizer/unicode_tables.cc from Python's unicodedata.

Tables (code point ranges or sorted pairs):
  letters   \\p{L} (general category L*)
  numbers   \\p{N} (N*)
  spaces    \\s as Oniguruma (HF tokenizers' regex engine) and Rust read it: the White_Space
            property. Python's str.isspace() also accepts U+001C..U+001F, which White_Space does
            not, so they are removed (checked against the `tokenizers` package when the fixtures
            were made).
  word      \\w as Rust's regex crate reads it (added tokens' single_word): Alphabetic, M*, Nd,
            Pc and Join_Control. unicodedata has no Alphabetic property; L*, Nl and the marks
            cover it except for the Other_Alphabetic symbols listed in OTHER_ALPHABETIC_SO.
  nfc_unsafe  code points that may change under NFC or combine with a neighbour: not
            NFC-normalized on their own, a non-zero combining class, or the second member of a
            canonical composition. Text without them is already NFC.
  combining classes, canonical decompositions and primary compositions for NFC itself.

NFC follows HF tokenizers' NFC normalizer rather than Python's: tokenizers normalizes with the
unicode-normalization-alignments crate, whose tables are Unicode 9.0, so the combining marks
Unicode added later are starters there (HF_NFC_STARTERS) and U+11938 neither decomposes nor
composes. make_tokenizer_fixtures.py checks both lists against the `tokenizers` package.

Run: /usr/bin/python3 tools/tokenizer_fixtures/gen_unicode_tables.py
(writes gisp/io/tokenizer/unicode_tables.cc; the Unicode version goes into its header comment).
"""
import os
import sys
import unicodedata

MAX = 0x110000
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Other_Alphabetic code points of category So (circled and squared Latin letters), from the
# Unicode Character Database's PropList.txt; stable since Unicode 6.1.
OTHER_ALPHABETIC_SO = [(0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169),
                       (0x1F170, 0x1F189)]


# Combining marks (non-zero class in Python's Unicode 14.0 data) that HF tokenizers' NFC treats
# as class 0, found by probing every such code point with the tokenizers package.
HF_NFC_STARTERS = [
    (0x7FD, 0x7FD), (0x898, 0x89F), (0x8CA, 0x8D3), (0x9FE, 0x9FE), (0xC3C, 0xC3C),
    (0xD3B, 0xD3C), (0xEBA, 0xEBA), (0x1715, 0x1715), (0x1ABF, 0x1ACE), (0x1DF6, 0x1DFA),
    (0xA82C, 0xA82C), (0x10D24, 0x10D27), (0x10EAB, 0x10EAC), (0x10F46, 0x10F50),
    (0x10F82, 0x10F85), (0x11070, 0x11070), (0x1133B, 0x1133B), (0x1145E, 0x1145E),
    (0x11839, 0x1183A), (0x1193D, 0x1193E), (0x11943, 0x11943), (0x119E0, 0x119E0),
    (0x11A34, 0x11A34), (0x11A47, 0x11A47), (0x11A99, 0x11A99), (0x11D42, 0x11D42),
    (0x11D44, 0x11D45), (0x11D97, 0x11D97), (0x16FF0, 0x16FF1), (0x1E130, 0x1E136),
    (0x1E2AE, 0x1E2AE), (0x1E2EC, 0x1E2EF),
]
# Canonical decompositions HF tokenizers' NFC does not know.
HF_NFC_NO_DECOMPOSITION = [0x11938]


def hf_starter_set():
    out = set()
    for lo, hi in HF_NFC_STARTERS:
        out.update(range(lo, hi + 1))
    return out


def hf_combining(cp):
    """The canonical combining class HF tokenizers' NFC uses."""
    return 0 if cp in hf_starter_set_cached else unicodedata.combining(chr(cp))


hf_starter_set_cached = hf_starter_set()


def ranges(pred):
    out, start = [], None
    for cp in range(MAX):
        if pred(cp):
            if start is None:
                start = cp
        elif start is not None:
            out.append((start, cp - 1))
            start = None
    if start is not None:
        out.append((start, MAX - 1))
    return out


def cat(cp):
    return unicodedata.category(chr(cp))


def main(path):
    other_alpha = set()
    for lo, hi in OTHER_ALPHABETIC_SO:
        other_alpha.update(range(lo, hi + 1))
    decomp, compose = [], []
    seconds = set()
    for c in range(MAX):
        d = unicodedata.decomposition(chr(c))
        if not d or d.startswith("<") or c in HF_NFC_NO_DECOMPOSITION:
            continue
        parts = [int(x, 16) for x in d.split()]
        decomp.append((c, parts[0], parts[1] if len(parts) > 1 else 0))
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == chr(c):
            compose.append((parts[0], parts[1], c))
            seconds.add(parts[1])
    compose.sort()
    # Hangul: vowels and trailing consonants compose algorithmically.
    seconds.update(range(0x1161, 0x1176))
    seconds.update(range(0x11A8, 0x11C3))

    def nfc_unsafe(c):
        ch = chr(c)
        if 0xD800 <= c < 0xE000:
            return False
        return (hf_combining(c) != 0 or c in seconds or
                (not unicodedata.is_normalized("NFC", ch) and c not in HF_NFC_NO_DECOMPOSITION))

    tables = [
        ("kLetterRanges", "Range", ranges(lambda c: cat(c).startswith("L"))),
        ("kNumberRanges", "Range", ranges(lambda c: cat(c).startswith("N"))),
        ("kSpaceRanges", "Range",
         ranges(lambda c: chr(c).isspace() and not 0x1C <= c <= 0x1F)),
        ("kWordRanges", "Range",
         ranges(lambda c: cat(c)[0] in "LM" or cat(c) in ("Nd", "Nl", "Pc") or
                c in (0x200C, 0x200D) or c in other_alpha)),
        ("kNfcUnsafeRanges", "Range", ranges(nfc_unsafe)),
        ("kCombiningClasses", "Pair",
         [(c, hf_combining(c)) for c in range(MAX) if hf_combining(c)]),
        ("kDecompositions", "Triple", decomp),
        ("kCompositions", "Triple", compose),
    ]
    with open(path, "w") as f:
        f.write("// Generated by tools/tokenizer_fixtures/gen_unicode_tables.py from Python "
                f"{sys.version.split()[0]}'s unicodedata\n// (Unicode "
                f"{unicodedata.unidata_version}). Do not edit.\n"
                "#include \"gisp/io/tokenizer/unicode.h\"\n\nnamespace gisp {\n"
                "namespace unicode {\n\n")
        for name, kind, rows in tables:
            f.write(f"const {kind} {name}[] = {{\n")
            for i in range(0, len(rows), 4):
                f.write("    " + " ".join("{" + ", ".join(f"0x{v:x}" for v in r) + "},"
                                         for r in rows[i:i + 4]) + "\n")
            f.write("};\n")
            f.write(f"const int {name}Size = {len(rows)};\n\n")
        f.write("}  // namespace unicode\n}  // namespace gisp\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         os.path.join(ROOT, "gisp", "io", "tokenizer", "unicode_tables.cc"))
