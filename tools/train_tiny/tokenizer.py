#!/usr/bin/python3
"""SentencePiece BPE tokenizer trained like Llama-2's (Debian's python3-sentencepiece).

Settings copied from the trainer/normalizer spec stored in Llama-2's tokenizer.model: BPE,
identity normalization, add_dummy_prefix, no whitespace squeezing, digits split, byte_fallback,
ids 0 <unk> / 1 <s> / 2 </s>, no pad. Two deliberate differences for a small corpus:
character_coverage 1.0 (every character of the training text gets a piece; rarer ones such as
'-' would otherwise go to byte fallback) and a small vocabulary.
"""

import io
import json

import sentencepiece as spm

UNK_ID, BOS_ID, EOS_ID = 0, 1, 2

TRAINER_SETTINGS = dict(
    model_type="bpe",
    character_coverage=1.0,
    byte_fallback=True,
    add_dummy_prefix=True,
    remove_extra_whitespaces=False,
    normalization_rule_name="identity",
    split_digits=True,
    split_by_unicode_script=True,
    split_by_number=True,
    split_by_whitespace=True,
    allow_whitespace_only_pieces=True,
    max_sentence_length=4192,
    unk_id=UNK_ID,
    bos_id=BOS_ID,
    eos_id=EOS_ID,
    pad_id=-1,
    unk_surface=" \u2047 ",
    input_sentence_size=0,  # use every sentence: no sampling, deterministic
    shuffle_input_sentence=False,
    num_threads=1,
    hard_vocab_limit=True,
    vocabulary_output_piece_score=True,
)


def train_tokenizer(lines, vocab_size):
    """lines: iterable of training sentences (verses). Returns the serialized model bytes."""
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=buf,
                                   vocab_size=vocab_size, minloglevel=2, **TRAINER_SETTINGS)
    return buf.getvalue()


def processor(model_bytes):
    sp = spm.SentencePieceProcessor()
    sp.LoadFromSerializedProto(model_bytes)
    if (sp.unk_id(), sp.bos_id(), sp.eos_id()) != (UNK_ID, BOS_ID, EOS_ID):
        raise ValueError("tokenizer: special ids differ from Llama-2's 0/1/2")
    return sp


def encode_document(sp, text):
    """Llama-2 HF convention (add_bos_token true, add_eos_token false): [<s>] + pieces of the
    whole text tokenized once (newlines become byte-fallback pieces <0x0A>)."""
    return [BOS_ID] + sp.encode(text)


def _added_token(content):
    return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": False,
            "rstrip": False, "single_word": False}


def tokenizer_config(model_max_length):
    """tokenizer_config.json in the layout of meta-llama/Llama-2-7b-hf's (model_max_length is the
    trained context instead of HF's 'unlimited' sentinel 1e30, which is not a sane integer)."""
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": _added_token("<s>"),
        "clean_up_tokenization_spaces": False,
        "eos_token": _added_token("</s>"),
        "legacy": False,
        "model_max_length": int(model_max_length),
        "pad_token": None,
        "padding_side": "right",
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": _added_token("<unk>"),
    }


def dump_json(obj):
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"
