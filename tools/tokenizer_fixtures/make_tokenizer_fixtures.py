#!/usr/bin/env python3
"""Builds testdata/tokenizers: small tokenizers configured like the real ones, and the token ids
and decoded strings the reference Python libraries (PyPI `tokenizers` and `sentencepiece`)
produce for a set of multilingual and edge-case texts. gisp's C++ tokenizers
(gisp/io/tokenizer) must reproduce every one of them exactly.

Fixtures (each in testdata/tokenizers/<name>/):
  llama3_bpe     Llama-3 style: Split(Llama-3 regex) + ByteLevel(use_regex=false), ignore_merges,
                 <|begin_of_text|> BOS via TemplateProcessing, merges in the legacy "a b" form
  qwen2_bpe      Qwen2 style: NFC, Split(Qwen2 regex) + ByteLevel, no BOS, ChatML specials
  gpt2_bpe       GPT-2 style: ByteLevel(use_regex=true), <|endoftext|>
  added_flags_bpe  ByteLevel(add_prefix_space=true) + NFC, added tokens using lstrip, rstrip,
                 single_word and normalized (no real Llama-family model needs these)
  prefix_split_bpe  Split(Llama-3 regex) + ByteLevel(add_prefix_space=true): the prefix space
                 goes before every word
  llama2_sp      SentencePiece BPE like Llama-2 (byte_fallback, identity normalizer, dummy prefix),
                 with tokenizer_config.json
  sp_unk_unused  SentencePiece BPE without byte_fallback (runs of unknown characters become one
                 <unk>), remove_extra_whitespaces, and some pieces marked UNUSED (resegmented)
  tiny_sentencepiece  cases only, for the embedded model's testdata/tiny/model/tokenizer.model

The training corpus is the King James Version from Debian's bible-kjv package plus the
multilingual text below. Requires the `bible` program (apt-get install bible-kjv) and, in the
pyenv python on PATH, `pip install tokenizers sentencepiece`. Run from the repository root:
    python3 tools/tokenizer_fixtures/make_tokenizer_fixtures.py
"""
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unicodedata

import sentencepiece as spm
import tokenizers
from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors, trainers)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "testdata", "tokenizers")
BIBLE_COMMAND = ["bible", "-l1000", "Gen1:1-Rev22:21"]

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# Multilingual training text (written for this fixture), so that the small vocabularies also
# hold merges for scripts other than English.
TRAIN_EXTRA = """\
The library prunes large language models; it reads tokenizers, weights and configuration files.
Calibration text is tokenized once, then windows of tokens feed the forward and backward passes.
def encode(text, add_special_tokens=True):
    ids = [bos] if add_special_tokens else []
    for word in split(text):
        ids.extend(bpe(word))
    return ids
int main(int argc, char** argv) { std::vector<int32_t> ids; return ids.empty() ? 0 : 1; }
{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}}, "merges": ["a b"], "count": 12345}
Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000 2024 3.5 99.9% $19.99 #42 2^10=1024
自然语言处理是人工智能的一个重要领域。模型把文本切分成词元，然后计算每个词元的概率。
今天天气很好，我们去公园散步吧。这个问题需要仔细思考，才能找到正确的答案。
日本語の文章をトークンに分割します。ひらがな、カタカナ、漢字が混ざっています。
東京は日本の首都です。私は毎朝コーヒーを飲みます。
한국어는 한글로 씁니다. 오늘은 날씨가 좋습니다. 우리는 함께 공부합니다.
اللغة العربية جميلة. نحن نتعلم البرمجة كل يوم. الكتاب على الطاولة.
हिन्दी एक सुंदर भाषा है। हम हर दिन नई चीज़ें सीखते हैं। यह किताब मेरी है।
Русский текст для обучения токенизатора. Мы изучаем языковые модели каждый день.
Ελληνικά: η γλώσσα των αρχαίων φιλοσόφων. Καλημέρα σας!
עברית נכתבת מימין לשמאל. שלום לכולם.
ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ สวัสดีครับ
Tiếng Việt có nhiều dấu thanh: người, được, những, không.
Deutsch: Größe, Straße, Übung, schön. Français : élève, garçon, où, déjà. Español: niño, año.
Emoji 😀😂👍🎉❤️🔥✨🙏 and flags 🇺🇸🇯🇵, families 👨‍👩‍👧, skin tones 👋🏻👋🏿.
"""

# Texts whose ids the C++ tokenizers must reproduce. Several are deliberately unlike the
# training text.
CASES = [
    "",
    " ",
    "  ",
    "\n",
    "\t",
    "\r\n",
    "Hello",
    " Hello world",
    "Hello world!!! ???",
    "In the beginning God created the heaven and the earth.",
    "And God said, Let there be light: and there was light. And the LORD spake unto Moses.",
    "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.",
    "Tokenizers split text into pieces, and each piece maps to an integer id.",
    # Code.
    "def f(x):\n    return x**2  # square\n\tprint(f(3))\n",
    "for (int i = 0; i < n; ++i) {\n  sum += a[i] * b[i];\n}\n",
    "    if (x) {\n        y();\n    }\n\n\n",
    '{"key": [1, 2, 3], "nested": {"a": null, "b": true}}',
    "https://example.com/path?query=1&x=y#frag user@example.org",
    # Numbers.
    "1 12 123 1234 12345 123456 1234567",
    "1234567890123 3.14159 -42 1e10 0x1F 2024-11-28 $1,234.56 50%",
    "x1y22z333w4444 abc123def",
    "½ ² ³ ⅔ Ⅻ ٣٤٥ ०१२ 一二三 ①②",
    # Contractions (the Llama-3/Qwen2 patterns ignore case, GPT-2's does not).
    "don't, I'M, we'll, they've, she'd, it's, YOU'RE, I'd've",
    "'tis o'clock rock'n'roll 's 'S 'LL 'Ll x'ſ x'ſt",
    "Don'T WE'LL THEY'VE",
    # Whitespace.
    "multiple   spaces\tand\ttabs\r\nand CRLF\n\n\nblank lines   ",
    "   leading and trailing spaces   ",
    "a  b   c    d     e",
    " \n \n  x\n\n y \t\n",
    "trailing newline\n",
    "\r\n\r\n\r\n",
    "x \u00a0 y\u3000z\u2028w\u0085v\u001cu\u000bt\u000cs\u2003r",
    # Scripts.
    "数学是研究数量、结构以及空间等概念的一门学科。",
    "日本語のテキストも正しく扱えるべきです。カタカナとひらがな。",
    "한국어 문장도 토큰화할 수 있어야 합니다.",
    "اللغة العربية تكتب من اليمين إلى اليسار.",
    "हिन्दी भारत की एक प्रमुख भाषा है।",
    "Русский язык использует кириллицу.",
    "Ελληνικά και עברית και ไทย",
    # Emoji, ZWJ sequences, flags, keycaps, variation selectors.
    "Emoji: 😀👍🏽👨‍👩‍👧‍👦 🇫🇷 and ✨stars✨",
    "👩🏽‍💻 1️⃣ ❤️ ☺︎ 🏳️‍🌈",
    # Combining marks, NFC versus NFD input.
    "café vs cafe\u0301 and Å vs A\u030a vs \u212b",
    "Vie\u0302\u0323t Nam vs Việt Nam",
    "\u1100\u1161\u11a8 vs 각, e\u0323\u0302 vs e\u0302\u0323",
    "x" + "\u0301" * 10,
    # Marks newer than HF's Unicode 9.0 normalization tables are starters there.
    "a\u1df8\u0f75 b\u0f75\u1df8\u0334 c\u08ca\u0301 d\U00011935\U00011930 e\u1ac1\u0323",
    "e\u0346\u0301 (blocked) vs e\u0301\u0346 and a\u0328\u0301",
    "\ufb01 ligature, Ｆｕｌｌｗｉｄｔｈ, \uf900\uf901 compatibility ideographs",
    # Punctuation.
    "Hello world!!! ??? ... ,,, ;;; --==>> (x)[y]{z} '''",
    "‘curly’ “quotes” «guillemets» — dashes – and … ellipsis",
    "a.b,c;d:e!f?g",
    # Long inputs.
    "a" * 5000,
    "supercalifragilistic" * 250,
    "1" * 500,
    " " * 300 + "x",
]


def sweep_texts(count=12, length=80, seed=1234):
    """Random strings over every Unicode general category (assigned code points only), mixed
    with ASCII letters, digits, spaces, newlines and apostrophes, so the hand-written split
    patterns meet every character class."""
    by_cat = {}
    for cp in range(0x110000):
        cat = unicodedata.category(chr(cp))
        if cat in ("Cn", "Cs", "Co"):
            continue
        by_cat.setdefault(cat, []).append(cp)
    cats = sorted(by_cat)
    common = list("aZ7 \n\t'") + ["\r\n", "  ", "'s", "'LL"]
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts = []
        for _ in range(length):
            if rng.random() < 0.35:
                parts.append(rng.choice(common))
            else:
                parts.append(chr(rng.choice(by_cat[rng.choice(cats)])))
        out.append("".join(parts))
    return out


def check_hf_nfc_tables():
    """gen_unicode_tables.py lists where HF tokenizers' NFC (Unicode 9.0 tables) departs from
    Python's unicodedata; confirm the lists against the installed tokenizers package."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gen_unicode_tables as tables
    nfd = normalizers.NFD()
    starters = set()
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000 or unicodedata.combining(chr(cp)) == 0:
            continue
        # A non-starter swaps with a mark of another class on the right side of it.
        low, high = "\u0334", "\u0345"  # classes 1 and 240
        probe = [chr(cp) + low, high + chr(cp)]
        if unicodedata.combining(chr(cp)) in (1, 240):
            probe = [chr(cp) + "\u0301"] if unicodedata.combining(chr(cp)) == 240 else [
                "\u0301" + chr(cp)]
        if all(nfd.normalize_str(p) == p for p in probe):
            starters.add(cp)
    assert starters == tables.hf_starter_set(), sorted(starters ^ tables.hf_starter_set())
    missing = [cp for cp in range(0x110000) if not 0xD800 <= cp < 0xE000 and
               nfd.normalize_str(chr(cp)) != unicodedata.normalize("NFD", chr(cp))]
    assert missing == tables.HF_NFC_NO_DECOMPOSITION, missing


def bible_lines():
    text = subprocess.run(BIBLE_COMMAND, check=True, capture_output=True, text=True).stdout
    return [l.strip() for l in text.split("\n") if l.strip()], hashlib.sha256(
        text.encode()).hexdigest()


def train_lines(bible):
    extra = TRAIN_EXTRA.split("\n")
    return bible + extra * 40


def train_documents(bible):
    """Multi-line documents for the byte-level trainers, so that their vocabularies hold merges
    with newlines and indentation, which the split patterns treat specially."""
    docs = ["\n".join(bible[i:i + 8]) + "\n\n" for i in range(0, len(bible), 8)]
    return docs + [TRAIN_EXTRA] * 40


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def write_cases(path, meta, cases):
    """One case per line: small enough to review, easy to diff."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n")
        for k, v in meta.items():
            f.write(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},\n")
        f.write('  "cases": [\n')
        f.write(",\n".join("    " + json.dumps(c, ensure_ascii=False, separators=(",", ":"))
                           for c in cases))
        f.write("\n  ]\n}\n")


def prefix_decodes(decode, ids, limit=48):
    """Decodings of every prefix of `ids`: cuts through multi-byte characters exercise the
    decoders' handling of incomplete UTF-8."""
    return [decode(ids[:k]) for k in range(1, min(len(ids), limit) + 1)]


def wants_prefixes(text):
    return any(ord(c) > 0x7F for c in text) and len(text) < 200


# ---------------------------------------------------------------------------------------------
# HF tokenizers (byte-level BPE).

def train_byte_level(docs, vocab_size, pattern, nfc, specials, add_prefix_space=False,
                     ignore_merges=False):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    if nfc:
        tok.normalizer = normalizers.NFC()
    if pattern is None:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space,
                                                     use_regex=True)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space, trim_offsets=True,
                                     use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(docs, trainer)
    return tok


def save_legacy_merges(path):
    """Rewrites merges as "a b" strings, the form older files (Meta's Llama-3 release) use."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    data["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m
                               for m in data["model"]["merges"]]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)


def drop_merges_producing(path, tokens):
    """Removes the merges that build `tokens` (which stay in the vocabulary): with ignore_merges
    a whole-word match still finds them, without it BPE cannot, so the fixture shows whether an
    implementation honours ignore_merges."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    merges = data["model"]["merges"]
    keep = [m for m in merges
            if "".join(m.split(" ") if isinstance(m, str) else m) not in tokens]
    assert len(merges) - len(keep) == len(tokens), "a dropped token had no merge"
    data["model"]["merges"] = keep
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)


def add_merges(path, pairs):
    """Appends merges (and their tokens) the trainer did not make: digit pairs for Qwen2, whose
    pattern splits numbers into single digits, so these merges must never apply."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    vocab = data["model"]["vocab"]
    for left, right in pairs:
        vocab[left + right] = len(vocab)
        data["model"]["merges"].append([left, right])
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)


def hf_cases(tok, texts):
    cases = []
    for text in texts:
        ids = tok.encode(text, add_special_tokens=True).ids
        plain = tok.encode(text, add_special_tokens=False).ids
        case = {"text": text, "ids": ids, "ids_no_special": plain,
                "decoded": tok.decode(plain, skip_special_tokens=False),
                "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
                "decoded_with_special": tok.decode(ids, skip_special_tokens=False)}
        if wants_prefixes(text):
            case["prefix_decodes"] = prefix_decodes(
                lambda p: tok.decode(p, skip_special_tokens=False), plain)
        cases.append(case)
    return cases


def make_hf_fixture(name, tok, texts, config, bos, eos, legacy_merges=False, drop=(),
                    extra_merges=()):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "tokenizer.json")
    tok.save(path)
    if drop:
        drop_merges_producing(path, drop)
    if extra_merges:
        add_merges(path, extra_merges)
    if legacy_merges:
        save_legacy_merges(path)
    if config is not None:
        write_json(os.path.join(d, "tokenizer_config.json"), config)
    # The oracle is always the file as saved.
    tok = Tokenizer.from_file(path)
    meta = {"kind": "hf-bpe", "vocab_size": tok.get_vocab_size(with_added_tokens=True),
            "bos_id": tok.token_to_id(bos) if bos else -1,
            "eos_id": tok.token_to_id(eos) if eos else -1}
    write_cases(os.path.join(d, "cases.json"), meta, hf_cases(tok, texts))
    return tok


def special_texts(specials):
    first, last = specials[0], specials[-1]
    return [
        f"{last}inside{first} text",
        f"a {last} b",
        f"{first}{first}{last}",
        f"  {last}  \n{last}\n",
        f"partial {last[:-2]} and {last[1:]}",
        f"{specials[1]}user\nHello there!{last}\n{specials[1]}assistant\n",
    ]


def make_byte_level_fixtures(docs):
    llama3_specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                       "<|end_header_id|>", "<|reserved_special_token_0|>", "<|eot_id|>"]
    tok = train_byte_level(docs, 3000, LLAMA3_REGEX, False, llama3_specials,
                           ignore_merges=True)
    bos = "<|begin_of_text|>"
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 {bos}:1 $B:1",
                                      special_tokens=[(bos, tok.token_to_id(bos))])])
    config = {"bos_token": bos, "eos_token": "<|end_of_text|>",
              "clean_up_tokenization_spaces": True, "model_max_length": 131072,
              "tokenizer_class": "PreTrainedTokenizerFast"}
    texts = CASES + special_texts(llama3_specials) + [
        "the theme of the LORD: the LORD said the thing", "Bethlehem the"] + sweep_texts()
    make_hf_fixture("llama3_bpe", tok, texts, config, bos, "<|end_of_text|>",
                    legacy_merges=True, drop=("Ġthe", "ĠLORD"))

    qwen_specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = train_byte_level(docs, 3000, QWEN2_REGEX, True, qwen_specials)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    config = {"add_bos_token": False, "add_prefix_space": False, "bos_token": None,
              "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "errors": "replace",
              "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer",
              "unk_token": None}
    texts = CASES + special_texts(qwen_specials) + sweep_texts(seed=99)
    make_hf_fixture("qwen2_bpe", tok, texts, config, None, "<|endoftext|>",
                    extra_merges=[("1", "2"), ("2", "3"), ("12", "3")])

    tok = train_byte_level(docs, 3000, None, False, ["<|endoftext|>"])
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    texts = CASES + special_texts(["<|endoftext|>"] * 2) + sweep_texts(seed=7)
    make_hf_fixture("gpt2_bpe", tok, texts, None, None, "<|endoftext|>")

    # Added-token flags, add_prefix_space and the NFC-normalized matching of added tokens.
    tok = train_byte_level(docs[:600] + [TRAIN_EXTRA] * 5, 600, None, True,
                           ["<|endoftext|>"], add_prefix_space=True)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False),
                            AddedToken("<sep>", rstrip=True, special=True, normalized=False),
                            AddedToken("<both>", lstrip=True, rstrip=True, special=True,
                                       normalized=False)])
    tok.add_tokens([AddedToken("[WORD]", single_word=True, normalized=False),
                    AddedToken("café", normalized=True),
                    AddedToken("Ω-token", normalized=False),
                    AddedToken("  spaced", normalized=True)])
    texts = CASES[:40] + [
        "hello<mask>world  <mask> z<sep>   q [WORD] a[WORD]b [WORD]. ([WORD])",
        "x <both>  y\t<both>\nz",
        "café cafe\u0301 CAFÉ caféine",
        "Ω-token \u2126-token",
        "two  spaced  words   spaced",
        "<|endoftext|><mask><sep><both>[WORD]",
        "é[WORD] 1[WORD] _[WORD] [WORD]_ \u0301[WORD]",
        "<mask><mask>  <mask>",
    ]
    make_hf_fixture("added_flags_bpe", tok, texts, None, None, "<|endoftext|>")

    tok = train_byte_level(docs[:600] + [TRAIN_EXTRA] * 5, 600, LLAMA3_REGEX, False,
                           ["<|endoftext|>"], add_prefix_space=True)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    make_hf_fixture("prefix_split_bpe", tok, CASES[:45] + ["a<|endoftext|>b c"], None, None,
                    "<|endoftext|>")


# ---------------------------------------------------------------------------------------------
# SentencePiece.

def sp_cases(sp, texts, add_bos, add_eos, byte_cases=()):
    def encode(t, special):
        return (([sp.bos_id()] if special and add_bos else []) + sp.encode(t) +
                ([sp.eos_id()] if special and add_eos else []))

    cases = []
    for text in texts:
        ids = encode(text, True)
        plain = encode(text, False)
        case = {"text": text, "ids": ids, "ids_no_special": plain,
                "decoded": sp.decode(plain), "decoded_skip_special": sp.decode(ids)}
        if wants_prefixes(text):
            case["prefix_decodes"] = prefix_decodes(sp.decode, plain)
        cases.append(case)
    for raw in byte_cases:  # invalid UTF-8: one U+FFFD per bad byte
        ids = encode(raw, True)
        plain = encode(raw, False)
        cases.append({"text_hex": raw.hex(), "ids": ids, "ids_no_special": plain,
                      "decoded": sp.decode(plain), "decoded_skip_special": sp.decode(ids)})
    return cases


BYTE_CASES = [b"a\xffb", b"\xe2\x82", b"ok \xc3\x28 \xed\xa0\x80 \xf0\x9f\x98", b"\xc0\x80x"]


def make_sentencepiece_fixtures(lines, tmp):
    corpus = os.path.join(tmp, "sp_corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    d = os.path.join(OUT, "llama2_sp")
    os.makedirs(d, exist_ok=True)
    prefix = os.path.join(tmp, "llama2_sp")
    # Llama-2's trainer settings, scaled down; one user-defined symbol to cover that piece type.
    # Relative paths: the model records them, and a temporary directory's name would make every
    # run's file differ.
    cwd = os.getcwd()
    os.chdir(tmp)
    spm.SentencePieceTrainer.train(
        input="sp_corpus.txt", model_prefix="llama2_sp", model_type="bpe", vocab_size=2500,
        character_coverage=0.9995, byte_fallback=True, split_digits=True,
        allow_whitespace_only_pieces=True, normalization_rule_name="identity",
        remove_extra_whitespaces=False, add_dummy_prefix=True, split_by_unicode_script=True,
        split_by_whitespace=True, max_sentencepiece_length=16, unk_id=0, bos_id=1, eos_id=2,
        pad_id=-1, user_defined_symbols=["<tool>"], num_threads=2, shuffle_input_sentence=False,
        minloglevel=2)
    os.chdir(cwd)
    shutil.copy(prefix + ".model", os.path.join(d, "tokenizer.model"))
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>",
              "eos_token": "</s>", "unk_token": "<unk>", "legacy": True,
              "clean_up_tokenization_spaces": False, "tokenizer_class": "LlamaTokenizer"}
    write_json(os.path.join(d, "tokenizer_config.json"), config)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(d, "tokenizer.model"))
    texts = CASES + ["<s>text</s> and <unk> stay text", "use <tool>x<tool> here <too",
                     "x<tool><tool>y"] + sweep_texts(seed=5)
    meta = {"kind": "sentencepiece", "vocab_size": sp.get_piece_size(), "bos_id": sp.bos_id(),
            "eos_id": sp.eos_id()}
    write_cases(os.path.join(d, "cases.json"), meta, sp_cases(sp, texts, True, False,
                                                               BYTE_CASES))

    # No byte fallback, extra whitespace removed, UNUSED pieces.
    os.chdir(tmp)
    spm.SentencePieceTrainer.train(
        input="sp_corpus.txt", model_prefix="sp_unk_unused", model_type="bpe", vocab_size=600,
        character_coverage=0.98, byte_fallback=False, normalization_rule_name="identity",
        remove_extra_whitespaces=True, add_dummy_prefix=True, unk_id=0, bos_id=1, eos_id=2,
        pad_id=-1, num_threads=2, shuffle_input_sentence=False, minloglevel=2)
    os.chdir(cwd)
    from sentencepiece import sentencepiece_model_pb2
    proto = sentencepiece_model_pb2.ModelProto()
    with open(os.path.join(tmp, "sp_unk_unused.model"), "rb") as f:
        proto.ParseFromString(f.read())
    # Every 7th multi-character piece becomes UNUSED: encoding may still merge through it but
    # must split it back into the pieces it was made from.
    unused = 0
    for i, piece in enumerate(proto.pieces):
        if piece.type == piece.NORMAL and len(piece.piece) > 1 and i % 7 == 0:
            piece.type = piece.UNUSED
            unused += 1
    assert unused > 20
    d = os.path.join(OUT, "sp_unk_unused")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tokenizer.model"), "wb") as f:
        f.write(proto.SerializeToString())
    sp = spm.SentencePieceProcessor(model_file=os.path.join(d, "tokenizer.model"))
    meta = {"kind": "sentencepiece", "vocab_size": sp.get_piece_size(), "bos_id": sp.bos_id(),
            "eos_id": sp.eos_id()}
    write_cases(os.path.join(d, "cases.json"), meta,
                sp_cases(sp, CASES[:45] + sweep_texts(seed=3, count=3), True, False, BYTE_CASES))

    # The embedded model's tokenizer (testdata/tiny), checked against the same library.
    d = os.path.join(OUT, "tiny_sentencepiece")
    os.makedirs(d, exist_ok=True)
    sp = spm.SentencePieceProcessor(
        model_file=os.path.join(ROOT, "testdata", "tiny", "model", "tokenizer.model"))
    meta = {"kind": "sentencepiece", "model": "testdata/tiny/model",
            "vocab_size": sp.get_piece_size(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id()}
    write_cases(os.path.join(d, "cases.json"), meta,
                sp_cases(sp, CASES + sweep_texts(seed=11, count=4), True, False, BYTE_CASES))


def main():
    check_hf_nfc_tables()
    bible, bible_sha = bible_lines()
    lines = train_lines(bible)
    if os.path.isdir(OUT):
        for name in os.listdir(OUT):
            if os.path.isdir(os.path.join(OUT, name)):
                shutil.rmtree(os.path.join(OUT, name))
    os.makedirs(OUT, exist_ok=True)
    make_byte_level_fixtures(train_documents(bible))
    with tempfile.TemporaryDirectory() as tmp:
        make_sentencepiece_fixtures(lines, tmp)
    files = {}
    for dirpath, _, names in os.walk(OUT):
        for n in sorted(names):
            if n in ("manifest.json", "BUILD.bazel"):
                continue
            p = os.path.join(dirpath, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, OUT)] = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        "description": "Small tokenizers configured like Llama-3, Qwen2, GPT-2 and Llama-2, and "
                       "the ids the reference Python libraries give for edge-case texts.",
        "command": "python3 tools/tokenizer_fixtures/make_tokenizer_fixtures.py "
                   "(pyenv python with PyPI tokenizers and sentencepiece)",
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "tokenizers": tokenizers.__version__,
        "sentencepiece": spm.__version__,
        "corpus": {"command": " ".join(BIBLE_COMMAND[:2]) + ' "' + BIBLE_COMMAND[2] + '"',
                   "debian_package": "bible-kjv", "sha256": bible_sha,
                   "extra": "the multilingual TRAIN_EXTRA text in the generator, 40 times"},
        "files": dict(sorted(files.items())),
    }
    write_json(os.path.join(OUT, "manifest.json"), manifest)
    with open(os.path.join(OUT, "BUILD.bazel"), "w") as f:
        f.write('# Tokenizer fixtures made by tools/tokenizer_fixtures/make_tokenizer_fixtures.py '
                '(see manifest.json).\nfilegroup(\n    name = "tokenizers",\n'
                '    srcs = glob(["**"], exclude = ["BUILD.bazel"]),\n'
                '    visibility = ["//visibility:public"],\n)\n')


if __name__ == "__main__":
    main()
