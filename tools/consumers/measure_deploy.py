"""Measures docs/deploy.md's table: the tiny model's record at 20/30/40/50% in every format,
loaded by its consumer: file size, parameters, logit error against gisp and perplexity in the
consumer against gisp's. Run through the consumers' venv:

  GISP_LIBRARY=bazel-bin/c_api/libgisp.so.1 PYTHONPATH=bindings/python:tools/consumers \\
      .consumers/venv/bin/python tools/consumers/measure_deploy.py
"""
import pathlib
import sys
import tempfile

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from conftest import RECORD, TARGETS, TINY  # noqa: E402

import gisp  # noqa: E402

CHUNK = 128


def size(path):
    p = pathlib.Path(path)
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and
               f.suffix in (".safetensors", ".gguf", ".json"))


def log_softmax(x):
    x = x.astype(np.float64) - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def chunks(ids):
    n = len(ids) // CHUNK
    return np.asarray(ids[: n * CHUNK]).reshape(n, CHUNK)


def ppl_from_logprobs(lp_rows):
    nll, count = 0.0, 0
    for lp, x in lp_rows:
        nll -= lp[np.arange(CHUNK - 1), x[1:]].sum()
        count += CHUNK - 1
    return float(np.exp(nll / count))


def transformers_eval(path, ids, want):
    import torch
    import transformers
    torch.set_num_threads(2)
    m = transformers.AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32).eval()
    rows = []
    with torch.no_grad():
        got = m(torch.tensor(np.asarray(ids[:CHUNK], np.int64)[None])).logits[0].numpy()
        xs = chunks(ids)
        for b in range(0, len(xs), 16):
            logits = m(torch.tensor(xs[b:b + 16].astype(np.int64))).logits
            lps = torch.log_softmax(logits.double(), -1)
            rows.extend((lp.numpy(), x) for lp, x in zip(lps, xs[b:b + 16]))
    return float(np.abs(got - want).max() / np.abs(want).max()), ppl_from_logprobs(rows)


def llama_cpp_eval(path, ids, want_lp):
    import llama_cpp
    llm = llama_cpp.Llama(str(path), n_ctx=256, logits_all=True, verbose=False, n_threads=2,
                          type_k=0, type_v=0)
    rows = []
    for k, x in enumerate(chunks(ids)):
        llm.reset()
        llm.eval([int(i) for i in x])
        lp = log_softmax(np.array(llm.scores[:CHUNK]))
        if k == 0:
            err = float(np.abs(lp - want_lp).max())
        rows.append((lp, x))
    return err, ppl_from_logprobs(rows)


def main(targets):
    out = pathlib.Path(tempfile.mkdtemp(prefix="gisp-deploy-"))
    eval_path = TINY / "eval.txt"
    print("| target | measured sparsity | format | consumer | file size | parameters "
          "(exact sliced) | logit error vs gisp | perplexity consumer / gisp |")
    print("|---:|---:|---|---|---:|---:|---:|---:|")
    with gisp.Model(str(TINY / "model")) as dense, gisp.Record.load(str(RECORD)) as record:
        ids = dense.tokenize(eval_path.read_text(encoding="utf-8"))
        sparsity = record.step_sparsity()
        print(f"| dense | 0 | bf16 checkpoint | gisp | {size(TINY / 'model') / 1e6:.2f} MB | "
              f"{dense.total_parameters:,} | - | {dense.perplexity(str(eval_path))[0]:.4f} |")
        for t in targets:
            step = record.nearest_step(t)
            with dense.materialize(record, step) as sub:
                ppl, _ = sub.perplexity(str(eval_path), CHUNK)
                want = sub.logits(ids[:CHUNK])
                want_lp = log_softmax(want)
                row = f"| {t:.0%} | {sparsity[step]:.2%} |"
                d = out / f"{t}"
                for fmt, dtype in (("sliced", gisp.DType.AUTO), ("llama", gisp.DType.F32),
                                   ("gguf", gisp.DType.F32), ("gguf", gisp.DType.F16),
                                   ("decilm", gisp.DType.F32)):
                    name = f"{fmt}-{int(dtype)}"
                    n, exact = sub.export_format(str(d / name), fmt, dtype)
                    label = {0: "f32", 2: "f16", 100: "bf16"}[int(dtype)]
                    if fmt == "llama":
                        err, cppl = transformers_eval(d / name, ids, want)
                        consumer, metric = "transformers 5.24", f"rel_inf {err:.1e}"
                    elif fmt == "gguf":
                        err, cppl = llama_cpp_eval(d / name / "model.gguf", ids, want_lp)
                        consumer = "llama.cpp (llama-cpp-python 0.3.36)"
                        metric = f"max dlogp {err:.1e}"
                    else:
                        with gisp.Model(str(d / name)) as back:
                            got = back.logits(ids[:CHUNK])
                            err = float(np.abs(got - want).max() / np.abs(want).max())
                            cppl, _ = back.perplexity(str(eval_path), CHUNK)
                        consumer = "gisp (reload)"
                        metric = f"rel_inf {err:.1e}"
                    print(f"{row} {fmt} {label} | {consumer} | {size(d / name) / 1e6:.2f} MB | "
                          f"{n:,} ({exact:,}) | {metric} | {cppl:.4f} / {ppl:.4f} |", flush=True)


if __name__ == "__main__":
    # Optional: the targets to measure (default 0.2 0.3 0.4 0.5).
    main([float(a) for a in sys.argv[1:]] or list(TARGETS))
