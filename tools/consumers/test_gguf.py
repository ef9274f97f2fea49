"""The `gguf` export: the PyPI gguf reader sees exactly the metadata and tensor shapes gisp meant
to write, per layer; llama.cpp (llama-cpp-python) loads it, tokenizes the evaluation text to
gisp's ids, reproduces gisp's next-token log-probabilities (f32 and f16 exports; tolerances in
docs/numerics.md) and, from the f32 export, gisp's greedy generation."""
import numpy as np
import pytest

from conftest import TARGETS, TINY, require

CHUNK = 128
# Max |log p_llama.cpp - log p_gisp| over 128 positions x 3072 tokens (docs/numerics.md):
# f32 weights and f32 KV cache: summation order only; f16 weights: f16 rounding of every weight.
LOGPROB_TOL = {"f32": 1e-4, "f16": 2e-2, "bf16": 1e-1}


def plan(layer, first):
    """(heads, kv_heads, ffn) llama.cpp gets for one sliced layer: the GQA group size with the
    fewest K/V + query slots (ties: the larger group), one zero head in layer 0 if it has none,
    one zero channel for a layer that keeps attention but no MLP."""
    counts = np.bincount(layer["kv_map"], minlength=layer["num_key_value_heads"])
    if layer["num_attention_heads"] == 0:
        heads = kv = 1 if first else 0
    else:
        best = None
        for g in range(1, int(counts.max()) + 1):
            slots = int(sum((c + g - 1) // g for c in counts))
            if best is None or slots * (1 + g) <= best[0]:
                best = (slots * (1 + g), slots, g)
        kv, heads = best[1], best[1] * best[2]
    ffn = layer["intermediate_size"] or (1 if heads else 0)
    return heads, kv, ffn


def export(sub, tmp_path, dtype_name, gisp_mod):
    out = tmp_path / f"gguf-{dtype_name}"
    dtype = {"f32": gisp_mod.DType.F32, "f16": gisp_mod.DType.F16, "bf16": gisp_mod.DType.BF16}
    written, exact = sub.export_format(str(out), "gguf", dtype[dtype_name])
    return out / "model.gguf", written, exact


@pytest.mark.parametrize("target,dtype_name",
                         [(t, "f32") for t in TARGETS] + [(0.3, "f16"), (0.3, "bf16")])
def test_gguf_reader_sees_what_gisp_wrote(target, dtype_name, gisp_mod, dense, record, tmp_path):
    gguf = require("gguf")
    with dense.materialize(record, record.nearest_step(target)) as sub:
        path, written, exact = export(sub, tmp_path, dtype_name, gisp_mod)
        layers = sub.config()["gisp_per_layer_config"]
    r = gguf.GGUFReader(str(path))
    f = {k: v.contents() for k, v in r.fields.items()}
    plans = [plan(l, i == 0) for i, l in enumerate(layers)]
    uniform = len(set(plans)) == 1 and all(h and n for h, _, n in plans)
    arch = "llama" if uniform else "deci"
    assert f["general.architecture"] == arch
    assert f[f"{arch}.block_count"] == len(layers)
    assert f[f"{arch}.embedding_length"] == dense.hidden_size
    assert f[f"{arch}.attention.key_length"] == dense.head_dim
    assert f[f"{arch}.rope.dimension_count"] == dense.head_dim
    if not uniform:
        assert f["deci.attention.head_count"] == [p[0] for p in plans]
        assert f["deci.attention.head_count_kv"] == [p[1] for p in plans]
        assert f["deci.feed_forward_length"] == [p[2] for p in plans]
    assert f["tokenizer.ggml.model"] == "llama"
    assert len(f["tokenizer.ggml.tokens"]) == dense.vocab_size
    assert f["tokenizer.ggml.bos_token_id"] == 1 and f["tokenizer.ggml.add_bos_token"] is True

    want_type = {"f32": "F32", "f16": "F16", "bf16": "BF16"}[dtype_name]
    tensors = {t.name: t for t in r.tensors}
    d, dh = dense.hidden_size, dense.head_dim
    expect = {"token_embd.weight": [d, dense.vocab_size], "output.weight": [d, dense.vocab_size],
              "output_norm.weight": [d]}
    for i, (h, kv, ffn) in enumerate(plans):
        if h:
            expect.update({f"blk.{i}.attn_norm.weight": [d], f"blk.{i}.attn_q.weight": [d, h * dh],
                           f"blk.{i}.attn_k.weight": [d, kv * dh],
                           f"blk.{i}.attn_v.weight": [d, kv * dh],
                           f"blk.{i}.attn_output.weight": [h * dh, d]})
        if ffn:
            expect.update({f"blk.{i}.ffn_norm.weight": [d],
                           f"blk.{i}.ffn_gate.weight": [d, ffn],
                           f"blk.{i}.ffn_up.weight": [d, ffn],
                           f"blk.{i}.ffn_down.weight": [ffn, d]})
    assert sorted(tensors) == sorted(expect)
    for name, shape in expect.items():
        assert list(tensors[name].shape) == shape, name
        assert tensors[name].tensor_type.name == ("F32" if len(shape) == 1 else want_type), name
    assert sum(int(np.prod(s)) for s in expect.values()) == written
    print(f"target {target} {dtype_name}: {arch}, {written} parameters (exact {exact}), "
          f"{path.stat().st_size} bytes")


def log_softmax(x):
    x = x.astype(np.float64)
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def load_llama(llama_cpp, path):
    # f32 KV cache (GGML_TYPE_F32 = 0): the comparison then measures the weights' dtype only.
    return llama_cpp.Llama(str(path), n_ctx=256, logits_all=True, verbose=False, n_threads=2,
                           type_k=0, type_v=0)


@pytest.mark.parametrize("target,dtype_name",
                         [(t, "f32") for t in TARGETS] + [(0.3, "f16"), (0.3, "bf16")])
def test_llama_cpp_matches_gisp(target, dtype_name, gisp_mod, dense, record, eval_ids, tmp_path):
    llama_cpp = require("llama_cpp")
    text = (TINY / "eval.txt").read_text(encoding="utf-8")
    with dense.materialize(record, record.nearest_step(target)) as sub:
        path, _, _ = export(sub, tmp_path, dtype_name, gisp_mod)
        llm = load_llama(llama_cpp, path)
        assert llm.tokenize(text.encode("utf-8"), add_bos=True, special=False) == list(eval_ids)

        worst = 0.0
        for start in (0, 5000, 20000):
            seq = [1] + list(eval_ids[start:start + CHUNK - 1])
            want = log_softmax(sub.logits(seq))
            llm.reset()
            llm.eval(seq)
            got = log_softmax(np.array(llm.scores[:len(seq)]))
            worst = max(worst, float(np.abs(got - want).max()))
        print(f"target {target} {dtype_name}: max |dlogp| {worst:.3e}")
        assert worst <= LOGPROB_TOL[dtype_name]


@pytest.mark.parametrize("target", TARGETS)
def test_llama_cpp_greedy_generation_equals_gisp(target, gisp_mod, dense, record, tmp_path):
    llama_cpp = require("llama_cpp")
    with dense.materialize(record, record.nearest_step(target)) as sub:
        path, _, _ = export(sub, tmp_path, "f32", gisp_mod)
        prompt = list(sub.tokenize("And God said unto Moses,"))
        ours = list(prompt)
        for _ in range(32):
            ours.append(int(sub.logits(ours)[-1].argmax()))
        llm = load_llama(llama_cpp, path)
        theirs = list(prompt)
        llm.reset()
        llm.eval(prompt)
        for _ in range(32):
            nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            theirs.append(nxt)
            llm.eval([nxt])
        assert theirs == ours
