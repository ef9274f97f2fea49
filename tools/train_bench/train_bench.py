#!/usr/bin/python3
"""Trains gisp's benchmark model: an 8-layer GQA Llama on the KJV plus a task (tools/tasks).

    LD_LIBRARY_PATH=<openblas dir> nice -n 19 /usr/bin/python3 tools/train_bench/train_bench.py \
        --out ~/.cache/gisp/bench-model --stop-by 2026-11-30T23:50:00Z

The recipe is tools/train_tiny's (same corpus, chapter split, tokenizer settings, optimizer,
evaluation protocol; that script's functions are reused), with three changes: a larger model,
a larger vocabulary trained on the training verses plus the task's lines, and a training stream
that interleaves the training chapters with the task's train examples (addition, tools/tasks/
arith.py, by default; the recorded model: the times table, --task times --task-format documents).
Held-out chapters and held-out task pairs never enter training.

`--stop-by` (UTC, ISO 8601) or `--time-budget` (seconds) stop training early and still save the
model and manifest; the manifest then records the step reached, and `--steps N --stop-at K`
reproduces the same weights on the same software. A checkpoint of the float32 state is written
every `--checkpoint-every` seconds so an interrupted run loses little.
"""

import argparse
import datetime
import importlib.util
import json
import math
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "train_tiny"))
sys.path.insert(0, os.path.join(REPO, "tools", "tasks"))
sys.path.insert(0, os.path.join(REPO, "tools", "reference"))

import arith  # noqa: E402
import corpus  # noqa: E402
import lookup  # noqa: E402
import qa  # noqa: E402
import times  # noqa: E402
import tokenizer as tok  # noqa: E402
import torch_llama as tl  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "train_tiny_train", os.path.join(REPO, "tools", "train_tiny", "train.py"))
tt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tt)

SEED = tt.SEED
TASK_PASSES = 3       # about a quarter of the training tokens are task examples
TASK_PER_BLOCK = 16   # examples per task document
TOKENIZER_TASK_LINES = 4000
TASK_EVAL_DURING = 100  # held-out pairs scored at each evaluation during training
LOOKUP_PER_BLOCK = 8    # lookup examples are about 2.5x longer than addition ones


def task_data(task, passes, per_block=0):
    """(train items, held-out items, training blocks) of a task, items as (question, answer).
    arith's blocks are built from its (a, b) pairs exactly as the first training phase did.
    `per_block` overrides the task's examples per block (1: one example per block, in the same
    order as any other block size, since the shuffles do not depend on it)."""
    if task == "arith":
        train_pairs, held_pairs = arith.split_pairs()
        blocks = arith.training_blocks(train_pairs, passes, per_block or TASK_PER_BLOCK)
        items = [[(arith.question(a, b), arith.answer(a, b)) for a, b in ps]
                 for ps in (train_pairs, held_pairs)]
        return items[0], items[1], blocks
    if task == "times":
        # Every fact is trained on; the "held" items are the evaluation side (tools/tasks/times.py).
        cal, ev = times.split()
        return cal + ev, ev, times.training_blocks(cal + ev, passes, per_block or TASK_PER_BLOCK)
    train, held = lookup.split()
    return train, held, lookup.training_blocks(train, passes, per_block or LOOKUP_PER_BLOCK)


def interleave_docs(train_ch, blocks):
    """Chapters and task blocks in stream order: task block j goes after training chapter
    floor(j * C / B), spreading the task evenly through the stream."""
    docs, j = [], 0
    for i, ch in enumerate(train_ch):
        docs.append(ch.text())
        while j < len(blocks) and j * len(train_ch) // len(blocks) <= i:
            docs.append(blocks[j])
            j += 1
    docs.extend(blocks[j:])
    return docs


def interleave(train_ch, blocks):
    """The `inline` training stream: one text, documents separated by a blank line."""
    return "\n\n".join(interleave_docs(train_ch, blocks)) + "\n"


# Why two stream formats. SentencePiece marks the start of an encoded text with "▁", so "Q: 7*8"
# is ▁Q : ... at the start of a document but Q : ... after a newline. In the `inline` stream
# every example follows a newline, while gisp's answer-only calibration and every exact-match
# prompt start a document ("<s>▁Q: 7*8\nA:"), a context the inline-trained model never saw: a
# times-table model trained inline scored 2.8% with document-start prompts and 15.3% with the
# same prompts after a newline (step 172, 72 evaluation facts). The `documents` stream tokenizes
# every example as its own document, "<s>" + "Q: 7*8\nA: 56\n" (the newline ends the answer, as
# the scorers expect), so training, calibration and scoring see the same tokens. Chapters are
# documents too.
STREAM_FORMATS = ("inline", "documents")
RECORD_SEPARATOR = "\x1e"  # joins a documents stream's texts for its sha256 (never in the data)


def stream_docs(train_ch, task, passes, fmt):
    """(train items, held items, the task's pieces of the stream: blocks for `inline`, example
    documents for `documents`, the stream as a list of documents: one text for `inline`, every
    chapter and example for `documents`)."""
    if fmt == "inline":
        train, held, blocks = task_data(task, passes)
        return train, held, blocks, [interleave(train_ch, blocks)]
    train, held, examples = task_data(task, passes, per_block=1)
    examples = [e + "\n" for e in examples]
    return train, held, examples, interleave_docs(train_ch, examples)


def encode_docs(sp, docs):
    """Token ids of a stream: each document tokenized on its own, "<s>" first (HF Llama-2)."""
    ids = []
    for d in docs:
        ids.extend(tok.encode_document(sp, d))
    return ids


def build_data(args):
    t0 = time.time()
    chapters = corpus.load_chapters()
    train_ch, held_ch = corpus.split(chapters)
    train_pairs, held_pairs, task_docs, docs = stream_docs(train_ch, args.task, args.task_passes,
                                                           args.task_format)
    if args.init_from:
        # Continued training keeps the first phase's tokenizer (and so its vocabulary).
        with open(os.path.join(args.init_from, "model", "tokenizer.model"), "rb") as f:
            sp_bytes = f.read()
    else:
        task_lines = []
        for q, a in train_pairs[:TOKENIZER_TASK_LINES]:
            task_lines.extend(qa.render(q, a).split("\n"))
        sp_bytes = tok.train_tokenizer([v for c in train_ch for v in c.verses] + task_lines,
                                       args.vocab)
    sp = tok.processor(sp_bytes)
    calib_ch = corpus.take_spread(train_ch, tt.CALIB_BYTES)
    eval_ch = corpus.take_spread(held_ch, tt.EVAL_BYTES)
    data = {
        "chapters": chapters, "train_ch": train_ch, "held_ch": held_ch,
        "calib_ch": calib_ch, "eval_ch": eval_ch,
        "train_docs": docs, "train_text": RECORD_SEPARATOR.join(docs),
        "held_text": corpus.join(held_ch),
        "calib_text": corpus.join(calib_ch), "eval_text": corpus.join(eval_ch),
        "sp_bytes": sp_bytes, "sp": sp,
        "train_pairs": train_pairs, "held_pairs": held_pairs, "task_blocks": len(task_docs),
    }
    data["train_ids"] = encode_docs(sp, docs)
    data["eval_ids"] = tok.encode_document(sp, data["eval_text"])
    data["held_ids"] = tok.encode_document(sp, data["held_text"])
    # + the "\n\n" separator's pieces (inline) or the document's <s> (documents)
    extra = 2 if args.task_format == "inline" else 1
    task_tokens = sum(len(sp.encode(d)) + extra for d in task_docs)
    data["task_tokens"] = task_tokens
    print(f"data: {len(train_ch)} train chapters + {len(task_docs)} task "
          f"{'blocks' if args.task_format == 'inline' else 'documents'} "
          f"({len(train_pairs)} train / {len(held_pairs)} held-out pairs), "
          f"{len(data['train_ids'])} train tokens (~{task_tokens} task), "
          f"{len(data['eval_ids'])} eval tokens, {time.time() - t0:.1f}s", flush=True)
    return data


@torch.no_grad()
def greedy_answer(model, sp, q, max_new=6):
    ids = tok.encode_document(sp, qa.prompt(q))
    out = []
    for _ in range(max_new):
        nxt = int(model(torch.tensor([ids]))[0, -1].argmax())
        if nxt == tok.EOS_ID:
            break
        ids.append(nxt)
        out.append(nxt)
        text = sp.decode(out)
        if "\n" in text:
            break
    return sp.decode(out)


def task_exact_match(model, sp, items):
    hits = sum(qa.score(greedy_answer(model, sp, q), a) for q, a in items)
    return hits / max(1, len(items))


def task_scores(model, sp, task, train, held):
    """Exact match of the stored model on a task's scored items, labelled by what they are."""
    if task == "times":  # every fact was trained on; `held` is the evaluation side
        scored = set(held)
        cal = [it for it in train if it not in scored]
        return {"evaluation_side": task_exact_match(model, sp, held),
                "calibration_side": task_exact_match(model, sp, cal)}
    return {"held_out_first_500": task_exact_match(model, sp, held[:500]),
            "train_last_200": task_exact_match(model, sp, train[-200:])}


def deadline_of(args):
    ends = []
    if args.stop_by:
        ends.append(datetime.datetime.fromisoformat(args.stop_by.replace("Z", "+00:00"))
                    .timestamp())
    if args.time_budget:
        ends.append(time.time() + args.time_budget)
    return min(ends) if ends else None


def train(args, data, config):
    torch.manual_seed(SEED)
    if args.init_from:
        model, init_config = tl.load_hf_dir(os.path.join(args.init_from, "model"), torch.float32)
        for key in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                    "num_attention_heads", "num_key_value_heads"):
            if init_config[key] != config[key]:
                raise SystemExit(f"--init-from {args.init_from}: its {key} is {init_config[key]}, "
                                 f"these arguments give {config[key]}")
        model.config = config
    else:
        model = tl.TorchLlama(config, torch.float32)
        model.reset_parameters(generator=torch.Generator().manual_seed(SEED))
    opt = tt.make_optimizer(model, args)
    batches = tt.Batches(data["train_ids"], args.seq, args.batch, SEED)
    eval_t = tt.eval_chunks(data["eval_ids"])
    probe = data["held_pairs"][:TASK_EVAL_DURING]
    history, window = [], []
    t0 = time.time()
    deadline = deadline_of(args)
    last_ckpt = t0
    steps = args.measure or args.steps
    limit = min(steps, args.stop_at) if args.stop_at else steps
    stop_reason, step = "steps", 0
    for step in range(limit):
        if deadline is not None and time.time() >= deadline:
            stop_reason = "time"
            break
        loss, gnorm = tt.train_step(model, opt, batches.next(), tt.lr_at(step, args), args.clip)
        window.append(loss)
        if args.measure:
            print(f"step {step} loss {loss:.3f} {(time.time() - t0) / (step + 1):.3f}s/step",
                  flush=True)
            continue
        done = step + 1
        if done % args.log_every == 0 or done == limit:
            entry = {"step": done, "train_loss": round(sum(window) / len(window), 4),
                     "lr": tt.lr_at(step, args), "grad_norm": round(gnorm, 3),
                     "epoch": batches.epoch, "elapsed_s": round(time.time() - t0, 1)}
            if done % (args.log_every * 4) == 0 or done == limit:
                model.eval()
                entry["eval_ppl"] = round(tt.perplexity(model, eval_t)[0], 3)
                entry["task_em_heldout100"] = task_exact_match(model, data["sp"], probe)
            history.append(entry)
            window = []
            print(json.dumps(entry), flush=True)
        if args.checkpoint_every and time.time() - last_ckpt >= args.checkpoint_every:
            os.makedirs(args.out, exist_ok=True)
            torch.save({"step": done, "model": model.state_dict()},
                       os.path.join(args.out, "checkpoint.pt.tmp"))
            os.replace(os.path.join(args.out, "checkpoint.pt.tmp"),
                       os.path.join(args.out, "checkpoint.pt"))
            last_ckpt = time.time()
    else:
        step = limit
        if args.stop_at and args.stop_at < steps:
            stop_reason = "stop_at"
    steps_done = step if stop_reason == "time" else limit
    return model, history, time.time() - t0, steps_done, stop_reason


def stored_run(args, data):
    """(model, history, train_s, steps_done, stop reason) of a finished run, from the weights in
    --out/model and the step log in --finish-from-log."""
    import re
    with open(os.path.join(args.out, "model", "tokenizer.model"), "rb") as f:
        if f.read() != data["sp_bytes"]:
            raise SystemExit(f"{args.out}/model/tokenizer.model is not the tokenizer these "
                             "arguments train: not this run's output")
    with open(args.finish_from_log, encoding="utf-8") as f:
        lines = f.read().splitlines()
    history = [json.loads(line) for line in lines if line.startswith('{"step"')]
    done = [re.fullmatch(r"training: (\d+) of (\d+) steps in (\d+)s \(stopped: (\w+)\)", line)
            for line in lines]
    done = [m for m in done if m]
    if not done or int(done[-1].group(2)) != args.steps:
        raise SystemExit(f"{args.finish_from_log}: no 'training: K of {args.steps} steps' line")
    last = done[-1]
    steps_done, train_s, reason = int(last.group(1)), float(last.group(3)), last.group(4)
    model, _ = tl.load_hf_dir(os.path.join(args.out, "model"), torch.float32)
    print(f"finishing from {args.out}/model: {steps_done} steps, {len(history)} log entries",
          flush=True)
    return model, history, train_s, steps_done, reason


NOT_OUTPUTS = ("train.log", "checkpoint.pt", "checkpoint.pt.tmp")


def finish_manifest(out, manifest, repo_copy):
    """sha256 of the output files only (train_tiny's listing also picks up a log or checkpoint
    kept in --out), then the manifest into --out and its copy into the repository."""
    manifest["sha256"] = {f: tt.sha256_file(os.path.join(out, f)) for f in tt.output_files(out)
                          if os.path.basename(f) not in NOT_OUTPUTS}
    text = json.dumps(manifest, indent=2) + "\n"
    for path in (os.path.join(out, "manifest.json"), repo_copy):
        if path:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tt.write_text(path, text)


def task_of(manifest):
    """The --task a manifest's model was trained with (its task generator's file name)."""
    return os.path.basename(manifest["task"]["generator"])[:-len(".py")]


def stream_of(task="arith", passes=TASK_PASSES, fmt="inline"):
    """The training stream's documents exactly as build_data makes them (no tokenizer needed)."""
    train_ch, _ = corpus.split(corpus.load_chapters())
    return stream_docs(train_ch, task, passes, fmt)[3]


def format_of(manifest):
    """The --task-format a manifest's model was trained with (`inline` before the flag)."""
    return manifest["task"].get("stream_format", "inline")


def data_hashes(docs, sp):
    """sha256 of the training stream's text (an inline stream's one text; a documents stream's
    texts joined by U+001E) and of its token ids (int32 little-endian)."""
    import hashlib
    import numpy as np
    text = RECORD_SEPARATOR.join(docs)
    ids = np.asarray(encode_docs(sp, docs), dtype="<i4")
    return {"stream_text_utf8": hashlib.sha256(text.encode()).hexdigest(),
            "stream_token_ids_int32le": hashlib.sha256(ids.tobytes()).hexdigest(),
            "stream_tokens": int(ids.size)}


@torch.no_grad()
def measure_losses(out, task, passes, fmt, windows=32, seq=256):
    """Mean next-token loss of the stored (bf16) model on `windows` training-stream windows
    drawn with the training seed, and on the held-out eval chunks (ln of the manifest's PPL
    protocol): the final train / held-out loss when the log has no entry for the last steps."""
    with open(os.path.join(out, "model", "tokenizer.model"), "rb") as f:
        sp = tok.processor(f.read())
    ids = encode_docs(sp, stream_of(task, passes, fmt))
    batches = tt.Batches(ids, seq, windows, SEED + 99)
    model, _ = tl.load_hf_dir(os.path.join(out, "model"), torch.float32)
    model.eval()
    x = batches.next()
    train_loss = float(tl.loss_fn(model(x), tl.shifted_targets(x)))
    with open(os.path.join(out, "eval.txt"), encoding="utf-8") as f:
        ppl, _ = tt.perplexity(model, tt.eval_chunks(tok.encode_document(sp, f.read())))
    return {"train_windows": windows, "train_loss_bf16": round(train_loss, 4),
            "held_out_loss_bf16": round(math.log(ppl), 4), "windows_seed": SEED + 99}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/gisp/bench-model"))
    ap.add_argument("--manifest", default=os.path.join(REPO, "testdata", "bench",
                                                       "manifest.json"),
                    help="where the manifest is copied (in the repository)")
    ap.add_argument("--measure", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--stop-at", type=int, default=0, help="stop after this step (reproduces a "
                    "run that --stop-by cut short, with the same --steps schedule)")
    ap.add_argument("--stop-by", default="", help="UTC time to stop and save, ISO 8601")
    ap.add_argument("--time-budget", type=float, default=0, help="seconds of training")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--task", choices=("arith", "lookup", "times"), default="arith",
                    help="the task interleaved with the text (tools/tasks)")
    ap.add_argument("--task-passes", type=int, default=TASK_PASSES,
                    help="passes over the task's train items in the training stream")
    ap.add_argument("--task-format", choices=STREAM_FORMATS, default="inline",
                    help="inline: task blocks inside one text stream (the recorded arith run); "
                         "documents: every chapter and task example its own <s> document, as "
                         "gisp's calibration and the exact-match prompts tokenize them")
    ap.add_argument("--init-from", default="",
                    help="continue from this output directory's model (and tokenizer) instead "
                         "of a fresh initialisation: a second training phase")
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--checkpoint-every", type=float, default=600)
    ap.add_argument("--losses", action="store_true",
                    help="only measure the stored model's train / held-out loss into the "
                         "manifest (and rehash)")
    ap.add_argument("--finish-from-log", default="",
                    help="a run whose training ended but whose output step failed: take the "
                         "weights stored in --out/model and the step log of this file (the "
                         "run's stdout), and write what the run would have written after "
                         "training; the other arguments must be the run's own")
    ap.add_argument("--rehash", action="store_true",
                    help="only recompute the manifest's sha256 list of --out and copy it")
    args = ap.parse_args()
    if args.rehash or args.losses:
        with open(os.path.join(args.out, "manifest.json")) as f:
            manifest = json.load(f)
        if args.losses:
            task = task_of(manifest)
            passes = manifest["task"]["training_passes"]
            fmt = format_of(manifest)
            manifest["training"]["final_losses_measured"] = measure_losses(args.out, task, passes,
                                                                           fmt)
            with open(os.path.join(args.out, "model", "tokenizer.model"), "rb") as f:
                manifest["training_data_sha256"] = data_hashes(stream_of(task, passes, fmt),
                                                               tok.processor(f.read()))
            print(json.dumps(manifest["training"]["final_losses_measured"]), flush=True)
        finish_manifest(args.out, manifest, args.manifest)
        return 0

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    blas = tt.loaded_blas()
    print("BLAS:", blas, flush=True)
    if not any("openblas" in p for p in blas) and not torch.backends.mkl.is_available():
        print("warning: torch is using the reference BLAS; see tools/train_tiny/README.md",
              flush=True)
    data = build_data(args)
    config = tt.model_config(data["sp"].get_piece_size(), args)
    if args.finish_from_log:
        model, history, train_s, steps_done, reason = stored_run(args, data)
    else:
        model, history, train_s, steps_done, reason = train(args, data, config)
    print(f"parameters: {tt.param_count(model)}", flush=True)
    if args.measure:
        return 0
    print(f"training: {steps_done} of {args.steps} steps in {train_s:.0f}s (stopped: {reason})",
          flush=True)
    model.eval()
    # write_outputs records args.steps as the steps run; give it the steps actually done.
    scheduled = args.steps
    args.steps = steps_done
    manifest = tt.write_outputs(args, data, config, model, history, train_s)
    args.steps = scheduled
    stored, _ = tl.load_hf_dir(os.path.join(args.out, "model"), torch.float32)
    stored.eval()
    # Both phases' tasks on the stored model (the first phase's too, when this one continues it).
    other = {}
    if args.init_from:
        first = json.load(open(os.path.join(args.init_from, "manifest.json")))
        first_task = task_of(first)
        if first_task != args.task:
            tr, he, _ = task_data(first_task, 1)
            other = {first_task: task_scores(stored, data["sp"], first_task, tr, he)}
            print(f"{first_task} exact match after this phase: {other[first_task]}", flush=True)
    em = task_scores(stored, data["sp"], args.task, data["train_pairs"], data["held_pairs"])
    print(f"task exact match (bf16 stored): {em}", flush=True)
    if "consumers" in sys.prefix:  # the project venv: PyPI's torch with its own MKL
        runner = "nice -n 19 .consumers/venv/bin/python "
    else:
        runner = "LD_LIBRARY_PATH=<dir of Debian libopenblas0-pthread> nice -n 19 /usr/bin/python3 "
    cmd = (runner + f"tools/train_bench/train_bench.py --out ~/.cache/gisp/bench-model --vocab {args.vocab} "
           f"--layers {args.layers} --hidden {args.hidden} --heads {args.heads} --kv-heads "
           f"{args.kv_heads} --ffn {args.ffn} --seq {args.seq} --batch {args.batch} --steps "
           f"{scheduled} --warmup {args.warmup} --lr {args.lr} --min-lr-ratio "
           f"{args.min_lr_ratio} --weight-decay {args.weight_decay} --clip {args.clip}"
           + (f" --stop-at {steps_done}" if steps_done < scheduled else "")
           + f" --threads {args.threads}"
           + (f" --task {args.task}" if args.task != "arith" else "")
           + (f" --task-passes {args.task_passes}" if args.task_passes != TASK_PASSES else "")
           + (f" --task-format {args.task_format}" if args.task_format != "inline" else ""))
    task_what = {"arith": "addition examples (tools/tasks/arith.py)",
                 "lookup": "lookup question-answering examples (tools/tasks/lookup.py)",
                 "times": "multiplication-table facts (tools/tasks/times.py)"}
    manifest["description"] = ("gisp's benchmark model: an 8-layer GQA Llama trained by "
                               "tools/train_bench/train_bench.py on the KJV train chapters "
                               f"interleaved with {task_what[args.task]}.")
    if args.init_from:
        cmd = cmd.replace("--out ~/.cache/gisp/bench-model ",
                          "--out ~/.cache/gisp/bench-model-phase2 --init-from "
                          "~/.cache/gisp/bench-model ")
        manifest["description"] = (
            "gisp's benchmark model, in two phases: an 8-layer GQA Llama trained by "
            "tools/train_bench/train_bench.py on the KJV train chapters interleaved with "
            f"{task_what[first_task]}, then trained further from those weights on the same "
            f"chapters interleaved with {task_what[args.task]}.")
        manifest["first_phase"] = {k: first[k] for k in ("command", "training", "task",
                                                         "evaluation", "training_data_sha256")
                                   if k in first}
        manifest["first_phase"]["model_safetensors_sha256"] = first["sha256"][
            "model/model.safetensors"]
        manifest["training"]["init"] = (
            "the first phase's stored (bf16) weights, read as float32 (first_phase below); "
            "AdamW state starts empty")
    manifest["command"] = cmd
    if args.finish_from_log:
        manifest["training"]["outputs_written_by"] = (
            "--finish-from-log: training ended and stored the weights, then the output step "
            "failed (a KeyError since fixed); the manifest was written from the stored weights "
            "and the run's step log, so ppl_f32 is the stored bf16 weights' perplexity")
    manifest["training"]["scheduled_steps"] = scheduled
    manifest["training"]["steps_done"] = steps_done
    manifest["training"]["stopped_by"] = reason
    manifest["training"]["tokens_seen"] = steps_done * args.batch * args.seq
    manifest["training"]["torch_threads"] = args.threads
    manifest["training"]["final_train_loss"] = history[-1]["train_loss"] if history else None
    if args.task == "arith":
        task_info = {
            "generator": "tools/tasks/arith.py", "seed": arith.SEED,
            "operands": f"0..{arith.MAX_OPERAND}", "format": arith.render(37, 58),
            "split": f"unordered pairs shuffled, every {arith.HOLDOUT_EVERY}th held out "
                     "(both orders)", "examples_per_block": TASK_PER_BLOCK}
    elif args.task == "times":
        cal, ev = times.split()
        task_info = {
            "generator": "tools/tasks/times.py", "seed": times.SEED,
            "factors": f"1..{times.MAX_FACTOR}", "format": qa.render(*ev[0]),
            "split": "unordered pairs shuffled and alternately assigned to a calibration and an "
                     "evaluation side (both orders); every fact is in the training stream",
            "calibration_side": len(cal), "evaluation_side": len(ev),
            "examples_per_block": TASK_PER_BLOCK if args.task_format == "inline" else 1}
    else:
        task_info = {
            "generator": "tools/tasks/lookup.py", "seed": lookup.SEED,
            "names": len(lookup.NAMES), "pairs_per_question": lookup.PAIRS_PER_QUESTION,
            "format": qa.render(*data["train_pairs"][0]),
            "split": "instances drawn from one seeded stream; the first "
                     f"{lookup.N_HELD} distinct questions held out, later instances with a "
                     "held-out question dropped", "examples_per_block": LOOKUP_PER_BLOCK}
    manifest["task"] = {
        **task_info,
        "train_pairs": len(data["train_pairs"]), "held_out_pairs": len(data["held_pairs"]),
        "training_passes": args.task_passes, "stream_format": args.task_format,
        "blocks": data["task_blocks"], "approx_task_tokens": data["task_tokens"],
        "stream_tokens": len(data["train_ids"]),
        "exact_match_bf16": em,
    }
    if other:
        manifest["task"]["other_task_exact_match_bf16"] = other
    manifest["training_data_sha256"] = data_hashes(data["train_docs"], data["sp"])
    ck = os.path.join(args.out, "checkpoint.pt")
    if os.path.exists(ck):
        os.remove(ck)
    finish_manifest(args.out, manifest, args.manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
