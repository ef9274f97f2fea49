#!/usr/bin/env python3
"""Builds testdata/tokenizers: small tokenizers configured like the real ones, and the token
ids the reference Python libraries (PyPI `tokenizers` and `sentencepiece`) produce for a set of
multilingual and edge-case texts. gisp's C++ tokenizers must reproduce them exactly.

Run with the pyenv python after `pip install tokenizers sentencepiece`:
    python3 tools/tokenizer_fixtures/make_tokenizer_fixtures.py
"""
import hashlib
import json
import os
import sys

import sentencepiece as spm
import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "testdata", "tokenizers")

LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+"
          r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+"
         r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

MULTILINGUAL = [
    "The quick brown fox jumps over the lazy dog.",
    "Tokenizers split text into pieces; each piece maps to an id.",
    "数学是研究数量、结构以及空间等概念的一门学科。",
    "日本語のテキストも正しく扱えるべきです。カタカナとひらがな。",
    "한국어 문장도 토큰화할 수 있어야 합니다.",
    "اللغة العربية تكتب من اليمين إلى اليسار.",
    "हिन्दी भारत की एक प्रमुख भाषा है।",
    "Русский язык использует кириллицу.",
    "Emoji: 😀👍🏽👨‍👩‍👧‍👦 🇫🇷 and ✨stars✨",
    "Numbers 1 12 123 1234 1234567 3.14159 -42 1e10",
    "Contractions: don't, I'M, we'll, they've, she'd, it's, YOU'RE",
    "def f(x):\n    return x**2  # square\n\tprint(f(3))",
    "café vs cafe\u0301 and Å vs A\u030a, ﬁ ligature, Ｆｕｌｌｗｉｄｔｈ",
    "multiple   spaces\tand\ttabs\r\nand CRLF\n\n\nblank lines   ",
    "   leading and trailing spaces   ",
]

CASES = [
    "",
    " ",
    "\n",
    "Hello",
    " Hello world",
    "Hello world!!! ???",
    "a" * 5000,
    "x" + "\u0301" * 10,
] + MULTILINGUAL


def train_corpus():
    # English from the embedded model's calibration text (checked in, so reruns are identical).
    with open(os.path.join(ROOT, "testdata", "tiny", "calib.txt"), encoding="utf-8") as f:
        text = f.read()
    lines = [l for l in text.split("\n") if l.strip()][:20000]
    return lines + MULTILINGUAL * 50


def byte_level_tokenizer(pattern, nfc, specials, bos, template):
    tok = Tokenizer(models.BPE(ignore_merges=pattern is not None))
    if nfc:
        tok.normalizer = normalizers.NFC()
    if pattern is None:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=3000, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(train_corpus(), trainer)
    if template:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
            special_tokens=[(bos, tok.token_to_id(bos))])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def write_cases(name, encode, decode, extra_texts=()):
    cases = []
    for text in CASES + list(extra_texts):
        with_special = encode(text, True)
        without = encode(text, False)
        cases.append({"text": text, "ids": with_special, "ids_no_special": without,
                      "decoded": decode(without, False)})
    with open(os.path.join(OUT, name, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=0)


def main():
    os.makedirs(OUT, exist_ok=True)
    configs = {
        "llama3_bpe": (LLAMA3, False, ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"],
                       "<|begin_of_text|>", True),
        "qwen2_bpe": (QWEN2, True, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], None, False),
        "gpt2_bpe": (None, False, ["<|endoftext|>"], None, False),
    }
    for name, (pattern, nfc, specials, bos, template) in configs.items():
        os.makedirs(os.path.join(OUT, name), exist_ok=True)
        tok = byte_level_tokenizer(pattern, nfc, specials, bos, template)
        tok.save(os.path.join(OUT, name, "tokenizer.json"))
        extra = [f"{specials[-1]}inside{specials[0]} text", f"a {specials[-1]} b"]
        write_cases(name, lambda t, s: tok.encode(t, add_special_tokens=s).ids,
                    lambda ids, skip: tok.decode(ids, skip_special_tokens=skip), extra)
    # SentencePiece: the embedded tiny model's tokenizer (Llama-2 style).
    sp_dir = os.path.join(OUT, "tiny_sentencepiece")
    os.makedirs(sp_dir, exist_ok=True)
    src = os.path.join(ROOT, "testdata", "tiny", "model", "tokenizer.model")
    sp = spm.SentencePieceProcessor(model_file=src)
    write_cases("tiny_sentencepiece",
                lambda t, s: ([sp.bos_id()] if s else []) + sp.encode(t),
                lambda ids, skip: sp.decode(ids))
    files = {}
    for dirpath, _, names in os.walk(OUT):
        for n in sorted(names):
            if n in ("manifest.json", "BUILD.bazel"):
                continue
            p = os.path.join(dirpath, n)
            files[os.path.relpath(p, OUT)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    manifest = {
        "command": "python3 tools/tokenizer_fixtures/make_tokenizer_fixtures.py",
        "tokenizers": tokenizers.__version__,
        "sentencepiece": spm.__version__,
        "python": sys.version.split()[0],
        "tiny_sentencepiece": "cases for testdata/tiny/model/tokenizer.model",
        "files": dict(sorted(files.items())),
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    with open(os.path.join(OUT, "BUILD.bazel"), "w") as f:
        f.write('filegroup(\n    name = "tokenizers",\n    srcs = glob(["**"], exclude = ["BUILD.bazel"]),\n'
                '    visibility = ["//visibility:public"],\n)\n')


if __name__ == "__main__":
    main()
