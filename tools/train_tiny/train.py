#!/usr/bin/python3
"""Trains gisp's embedded default model: a tiny Llama-architecture GQA model on the KJV Bible.

    /usr/bin/python3 tools/train_tiny/train.py --out testdata/tiny

Everything is derived here from Debian packages (bible-kjv for the text, python3-sentencepiece
for the tokenizer) with fixed seeds: corpus cleaning and the chapter split (corpus.py), the
SentencePiece BPE tokenizer (tokenizer.py), training with the shared PyTorch oracle
(tools/reference/torch_llama.py), bf16 export as an HF model directory, the calibration and
evaluation texts, and manifest.json with the held-out perplexity (paper protocol) against a
unigram baseline. `--measure N` only times N training steps. `--verify` re-checks an existing
output directory (hashes and the bf16 perplexity) without training.
"""

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time

# Torch's GEMMs go to whatever libblas.so.3 the loader finds; a single BLAS thread like torch's.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tools", "reference"))

import corpus  # noqa: E402
import tokenizer as tok  # noqa: E402
import torch_llama as tl  # noqa: E402

SEED = 1234
EVAL_CHUNK = 128  # paper protocol: non-overlapping 128-token chunks
CALIB_BYTES = 300_000
EVAL_BYTES = 130_000


def model_config(vocab_size, args):
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": vocab_size,
        "hidden_size": args.hidden,
        "intermediate_size": args.ffn,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "num_key_value_heads": args.kv_heads,
        "hidden_act": "silu",
        "max_position_embeddings": args.seq,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "tie_word_embeddings": False,
        "initializer_range": 0.02,
        "pretraining_tp": 1,
        "use_cache": True,
        "bos_token_id": tok.BOS_ID,
        "eos_token_id": tok.EOS_ID,
    }


def lr_at(step, args):
    """Linear warmup to lr, then cosine decay to lr * min_lr_ratio at the last step."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    cos = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return args.lr * (args.min_lr_ratio + (1.0 - args.min_lr_ratio) * cos)


class Batches:
    """Epochs of non-overlapping seq-token windows of the training stream, shuffled, each epoch
    starting at a random offset so window boundaries move between epochs."""

    def __init__(self, ids, seq, batch, seed):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.seq, self.batch = seq, batch
        self.rng = np.random.default_rng(seed)
        self.epoch = 0
        self.queue = []

    def _refill(self):
        offset = int(self.rng.integers(self.seq))
        n = (len(self.ids) - offset) // self.seq
        starts = offset + self.seq * self.rng.permutation(n)
        self.queue.extend(int(s) for s in starts)
        self.epoch += 1

    def next(self):
        while len(self.queue) < self.batch:
            self._refill()
        starts, self.queue = self.queue[:self.batch], self.queue[self.batch:]
        rows = np.stack([self.ids[s:s + self.seq] for s in starts])
        return torch.from_numpy(rows)


def make_optimizer(model, args):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=args.lr, betas=(0.9, 0.95), eps=1e-8)


def train_step(model, opt, x, lr, clip):
    for g in opt.param_groups:
        g["lr"] = lr
    loss = tl.loss_fn(model(x), tl.shifted_targets(x))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return float(loss), float(gnorm)


def eval_chunks(ids):
    """Paper protocol: the text tokenized once, cut into non-overlapping EVAL_CHUNK-token chunks
    (a final partial chunk is dropped); each chunk is scored on its own, so a chunk's first token
    is context only. Returns LongTensor [n_chunks, EVAL_CHUNK]."""
    n = len(ids) // EVAL_CHUNK
    return torch.tensor(ids[:n * EVAL_CHUNK], dtype=torch.int64).view(n, EVAL_CHUNK)


@torch.no_grad()
def perplexity(model, chunks, batch=16):
    total, count = 0.0, 0
    for i in range(0, chunks.shape[0], batch):
        x = chunks[i:i + batch]
        targets = tl.shifted_targets(x)
        nll = tl.token_nll(model(x), targets).double()
        total += float(nll.sum())
        count += int((targets != -1).sum())
    return math.exp(total / count), count


def unigram_perplexity(train_ids, chunks, vocab_size):
    """Add-one smoothed unigram model estimated on the training token stream, scored on exactly
    the tokens the LM predicts (every chunk position but the first)."""
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size).astype(np.float64)
    logp = np.log((counts + 1.0) / (counts.sum() + vocab_size))
    targets = chunks[:, 1:].numpy().reshape(-1)
    return math.exp(-float(logp[targets].mean())), int(targets.size)


@torch.no_grad()
def greedy(model, sp, prompt, new_tokens):
    ids = tok.encode_document(sp, prompt)
    for _ in range(new_tokens):
        ctx = ids[-model.config["max_position_embeddings"]:]
        ids.append(int(model(torch.tensor([ctx]))[0, -1].argmax()))
    return sp.decode(ids[1:])


def loaded_blas():
    """Paths of the BLAS libraries mapped into this process (which libblas.so.3 torch got)."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]}
    return sorted(os.path.realpath(p) for p in paths)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_bytes(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_text(path, text):
    write_bytes(path, text.encode("utf-8"))


def output_files(out):
    """Every file the script writes, relative to out (manifest.json itself excluded)."""
    files = []
    for root, _, names in os.walk(out):
        for name in names:
            rel = os.path.relpath(os.path.join(root, name), out)
            if rel not in ("manifest.json", "BUILD.bazel"):
                files.append(rel)
    return sorted(files)


def build_data(args):
    t0 = time.time()
    chapters = corpus.load_chapters()
    train_ch, held_ch = corpus.split(chapters)
    train_text, held_text = corpus.join(train_ch), corpus.join(held_ch)
    calib_ch = corpus.take_spread(train_ch, CALIB_BYTES)
    eval_ch = corpus.take_spread(held_ch, EVAL_BYTES)
    model_bytes = tok.train_tokenizer([v for c in train_ch for v in c.verses], args.vocab)
    sp = tok.processor(model_bytes)
    data = {
        "chapters": chapters, "train_ch": train_ch, "held_ch": held_ch,
        "calib_ch": calib_ch, "eval_ch": eval_ch,
        "train_text": train_text, "held_text": held_text,
        "calib_text": corpus.join(calib_ch), "eval_text": corpus.join(eval_ch),
        "sp_bytes": model_bytes, "sp": sp,
    }
    data["train_ids"] = tok.encode_document(sp, train_text)
    data["eval_ids"] = tok.encode_document(sp, data["eval_text"])
    data["held_ids"] = tok.encode_document(sp, held_text)
    print(f"data: {len(train_ch)} train / {len(held_ch)} held-out chapters, "
          f"{len(data['train_ids'])} train tokens, {len(data['eval_ids'])} eval tokens, "
          f"{time.time() - t0:.1f}s", flush=True)
    return data


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def train(args, data, config):
    torch.manual_seed(SEED)
    model = tl.TorchLlama(config, torch.float32)
    model.reset_parameters(generator=torch.Generator().manual_seed(SEED))
    opt = make_optimizer(model, args)
    batches = Batches(data["train_ids"], args.seq, args.batch, SEED)
    eval_chunks_t = eval_chunks(data["eval_ids"])
    history, window = [], []
    t0 = time.time()
    steps = args.measure if args.measure else args.steps
    for step in range(steps):
        loss, gnorm = train_step(model, opt, batches.next(), lr_at(step, args), args.clip)
        window.append(loss)
        if args.measure:
            print(f"step {step} loss {loss:.3f} {(time.time() - t0) / (step + 1):.3f}s/step",
                  flush=True)
            continue
        last = step + 1 == steps
        if (step + 1) % args.log_every == 0 or last:
            entry = {"step": step + 1, "train_loss": round(sum(window) / len(window), 4),
                     "lr": lr_at(step, args), "grad_norm": round(gnorm, 3),
                     "epoch": batches.epoch, "elapsed_s": round(time.time() - t0, 1)}
            if (step + 1) % (args.log_every * 5) == 0 or last:
                entry["eval_ppl"] = round(perplexity(model, eval_chunks_t)[0], 3)
            history.append(entry)
            window = []
            print(json.dumps(entry), flush=True)
    return model, history, time.time() - t0


def write_outputs(args, data, config, model, history, train_s):
    out = args.out
    mdir = os.path.join(out, "model")
    os.makedirs(mdir, exist_ok=True)
    tl.save_hf_dir(model, config, mdir, "bfloat16")
    write_bytes(os.path.join(mdir, "tokenizer.model"), data["sp_bytes"])
    write_text(os.path.join(mdir, "tokenizer_config.json"),
               tok.dump_json(tok.tokenizer_config(args.seq)))
    write_text(os.path.join(mdir, "generation_config.json"),
               tok.dump_json({"bos_token_id": tok.BOS_ID, "eos_token_id": tok.EOS_ID,
                              "do_sample": False, "max_length": args.seq}))
    write_text(os.path.join(out, "calib.txt"), data["calib_text"])
    write_text(os.path.join(out, "eval.txt"), data["eval_text"])

    vocab = data["sp"].get_piece_size()
    chunks = eval_chunks(data["eval_ids"])
    held_chunks = eval_chunks(data["held_ids"])
    ppl_f32, ntok = perplexity(model, chunks)
    stored, _ = tl.load_hf_dir(mdir, torch.float32)
    ppl_bf16, _ = perplexity(stored, chunks)
    ppl_bf16_held, nheld = perplexity(stored, held_chunks)
    uni, uni_n = unigram_perplexity(data["train_ids"], chunks, vocab)
    uni_held, _ = unigram_perplexity(data["train_ids"], held_chunks, vocab)
    assert uni_n == ntok
    sample = greedy(stored, data["sp"], "In the beginning", 40)
    print(f"eval.txt PPL f32 {ppl_f32:.3f}  bf16-stored {ppl_bf16:.3f}  unigram {uni:.3f} "
          f"({ntok} tokens); all held-out bf16 {ppl_bf16_held:.3f} unigram {uni_held:.3f}",
          flush=True)
    print("greedy sample:", repr(sample), flush=True)

    cfg = model.config
    manifest = {
        "description": "gisp's embedded default model: a tiny Llama-architecture GQA model "
                       "trained by tools/train_tiny/train.py on the King James Version.",
        "command": "/usr/bin/python3 tools/train_tiny/train.py --out testdata/tiny",
        "corpus": {
            "debian_packages": {p: corpus.package_version(p)
                                for p in ("bible-kjv", "bible-kjv-text")},
            "extract_command": " ".join(corpus.BIBLE_CMD[:2]) + f' "{corpus.BIBLE_CMD[2]}"',
            "licence": "King James Version (1611): public domain (copyright expired) in most "
                       "jurisdictions, per /usr/share/doc/bible-kjv/copyright; in the United "
                       "Kingdom the text remains under Crown letters patent. The package's "
                       "text file carries Chip Chapin's notice: 'This file is provided for "
                       "unrestricted use provided that this legend is included on all tape "
                       "media and as a part of the software program in whole or part. Users may "
                       "copy, modify or distribute this file at will.' (Bible Retrieval System, "
                       "Chip Chapin, Hewlett Packard Company, 1989). The bible program itself "
                       "is GPL-2+ and is not redistributed here.",
            "cleaning": "verse references and chapter headers dropped; verse text kept "
                        "verbatim (case, punctuation); one verse per line, chapters separated "
                        "by an empty line",
            "chapters": len(data["chapters"]),
            "split_rule": f"chapters numbered 0..{len(data['chapters']) - 1} in canonical order; "
                          f"chapter i is held out iff i % {corpus.HOLDOUT_EVERY} == "
                          f"{corpus.HOLDOUT_PHASE}",
            "train": {"chapters": len(data["train_ch"]),
                      "bytes": len(data["train_text"].encode()),
                      "tokens": len(data["train_ids"])},
            "held_out": {"chapters": len(data["held_ch"]),
                         "bytes": len(data["held_text"].encode()),
                         "tokens": len(data["held_ids"])},
            "calib.txt": {"source": "train split",
                          "rule": "the largest n such that train chapters floor(j*N/n), "
                                  f"j<n, total <= {CALIB_BYTES} bytes",
                          "chapters": len(data["calib_ch"]),
                          "bytes": len(data["calib_text"].encode())},
            "eval.txt": {"source": "held-out split",
                         "rule": "the largest n such that held-out chapters floor(j*N/n), "
                                 f"j<n, total <= {EVAL_BYTES} bytes",
                         "chapters": len(data["eval_ch"]),
                         "bytes": len(data["eval_text"].encode()),
                         "tokens_with_bos": len(data["eval_ids"])},
        },
        "tokenizer": {
            "library": "sentencepiece " + tok.spm.__version__ + (
                " (Debian python3-sentencepiece " + corpus.package_version("python3-sentencepiece")
                + ")" if tok.spm.__file__.startswith("/usr/lib/python3/") else " (PyPI)"),
            "trained_on": "train split, one verse per sentence",
            "vocab_size": vocab,
            "settings": tok.TRAINER_SETTINGS,
            "encoding": "[<s>] + encode(text) over the whole text (add_bos_token true, "
                        "add_eos_token false); newlines map to byte piece <0x0A>",
        },
        "model": {
            "architecture": "LlamaForCausalLM",
            "layers": cfg["num_hidden_layers"], "hidden": cfg["hidden_size"],
            "heads": cfg["num_attention_heads"], "kv_heads": cfg["num_key_value_heads"],
            "head_dim": tl.head_dim_of(cfg), "ffn": cfg["intermediate_size"],
            "vocab": cfg["vocab_size"], "tied_embeddings": False,
            "rope_theta": cfg["rope_theta"], "rms_norm_eps": cfg["rms_norm_eps"],
            "context": cfg["max_position_embeddings"],
            "parameters": param_count(model),
            "storage_dtype": "bfloat16",
        },
        "training": {
            "implementation": "tools/reference/torch_llama.py (float32)",
            "seed": SEED, "steps": args.steps, "batch": args.batch, "seq_len": args.seq,
            "tokens_seen": args.steps * args.batch * args.seq,
            "epochs_started": history[-1]["epoch"] if history else 0,
            "optimizer": {"name": "AdamW", "lr": args.lr, "betas": [0.9, 0.95], "eps": 1e-8,
                          "weight_decay": args.weight_decay,
                          "weight_decay_on": "matrices only (not norms)",
                          "grad_clip_norm": args.clip},
            "schedule": {"warmup_steps": args.warmup, "decay": "cosine",
                         "min_lr": args.lr * args.min_lr_ratio},
            "init": "N(0, 0.02) for matrices, ones for norms (TorchLlama.reset_parameters)",
            "torch_threads": torch.get_num_threads(),
            "wall_time_s": round(train_s, 1),
            "history": history,
        },
        "evaluation": {
            "protocol": "eval.txt tokenized once as [<s>] + encode(text), cut into "
                        f"non-overlapping {EVAL_CHUNK}-token chunks (partial tail dropped), each "
                        "chunk scored alone on positions 1..127; PPL = exp(mean token NLL)",
            "chunks": int(chunks.shape[0]), "scored_tokens": ntok,
            "ppl_float32_weights": round(ppl_f32, 4),
            "ppl_bf16_stored_weights": round(ppl_bf16, 4),
            "ppl_unigram_add_one": round(uni, 4),
            "unigram": "token frequencies of the whole train split stream, add-one smoothing "
                       "over the full vocabulary",
            "all_held_out": {"chunks": int(held_chunks.shape[0]), "scored_tokens": nheld,
                             "ppl_bf16_stored_weights": round(ppl_bf16_held, 4),
                             "ppl_unigram_add_one": round(uni_held, 4)},
            "greedy_sample": sample,
        },
        "environment": {"python": platform.python_version(), "torch": torch.__version__,
                        "numpy": np.__version__, "blas": loaded_blas(),
                        "cpu": platform.processor() or platform.machine()},
    }
    manifest["sha256"] = {f: sha256_file(os.path.join(out, f)) for f in output_files(out)}
    write_text(os.path.join(out, "manifest.json"), json.dumps(manifest, indent=2) + "\n")
    return manifest


def verify(out):
    """Re-checks an output directory: file hashes and the bf16 perplexity in the manifest."""
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    ok = True
    listed = set(manifest["sha256"])
    present = set(output_files(out))
    if listed != present:
        print(f"files differ from manifest: extra {sorted(present - listed)}, "
              f"missing {sorted(listed - present)}")
        ok = False
    for name in sorted(listed & present):
        if sha256_file(os.path.join(out, name)) != manifest["sha256"][name]:
            print(f"sha256 mismatch: {name}")
            ok = False
    sp = tok.processor(open(os.path.join(out, "model", "tokenizer.model"), "rb").read())
    with open(os.path.join(out, "eval.txt"), encoding="utf-8") as f:
        chunks = eval_chunks(tok.encode_document(sp, f.read()))
    model, _ = tl.load_hf_dir(os.path.join(out, "model"), torch.float32)
    ppl, n = perplexity(model, chunks)
    want = manifest["evaluation"]["ppl_bf16_stored_weights"]
    print(f"bf16 PPL {ppl:.4f} over {n} tokens (manifest {want})")
    ok = ok and abs(ppl - want) < 1e-3
    print("verify:", "OK" if ok else "FAILED")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "testdata", "tiny"))
    ap.add_argument("--measure", type=int, default=0, help="only time this many steps")
    ap.add_argument("--verify", action="store_true", help="re-check --out, no training")
    ap.add_argument("--vocab", type=int, default=3072)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--hidden", type=int, default=192)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=512)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=1400)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--log-every", type=int, default=50)
    args = ap.parse_args()

    torch.set_num_threads(1)  # the build machine has 2 cores shared with compilers
    torch.set_num_interop_threads(1)
    if args.verify:
        return 0 if verify(args.out) else 1
    blas = loaded_blas()
    print("BLAS:", blas, flush=True)
    if not any("openblas" in p for p in blas):
        print("warning: torch is using the reference BLAS (about 20x slower than OpenBLAS); "
              "see tools/train_tiny/README.md", flush=True)
    data = build_data(args)
    config = model_config(data["sp"].get_piece_size(), args)
    model, history, train_s = train(args, data, config)
    if args.measure:
        print(f"parameters: {param_count(model)}")
        return 0
    print(f"training: {args.steps} steps in {train_s:.0f}s", flush=True)
    write_outputs(args, data, config, model, history, train_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
