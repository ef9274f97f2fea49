"""GGUF with byte-level BPE vocabularies (tokenizer.json: Llama-3 and Qwen2 split patterns) and
the uniform architectures: a small random model per tokenizer fixture, exported by gisp, loaded
by llama.cpp, which must tokenize every fixture case to gisp's ids and reproduce gisp's logits
(`llama` with permuted Q/K for Llama, `qwen2` with q/k/v biases in HF's RoPE layout)."""
import json
import shutil
import unicodedata

import numpy as np
import pytest

from conftest import ROOT, require

FIXTURES = ROOT / "testdata" / "tokenizers"


def make_model(tmp_path, fixture, model_type):
    """An HF directory: random f32 weights, 2 layers, GQA 4/2, head_dim 8, the fixture's
    tokenizer files."""
    safetensors_numpy = require("safetensors.numpy")
    spec = json.loads((FIXTURES / fixture / "tokenizer.json").read_text())
    vocab = 1 + max([*spec["model"]["vocab"].values(), *[t["id"] for t in spec["added_tokens"]]])
    d, h, kv, dh, f, layers = 32, 4, 2, 8, 48, 2
    rng = np.random.default_rng(7)
    w = lambda *s: (rng.standard_normal(s) / np.sqrt(s[-1])).astype(np.float32)
    t = {"model.embed_tokens.weight": w(vocab, d), "model.norm.weight": 1 + w(d) * 0.1,
         "lm_head.weight": w(vocab, d)}
    for i in range(layers):
        p = f"model.layers.{i}."
        t.update({p + "input_layernorm.weight": 1 + w(d) * 0.1,
                  p + "post_attention_layernorm.weight": 1 + w(d) * 0.1,
                  p + "self_attn.q_proj.weight": w(h * dh, d),
                  p + "self_attn.k_proj.weight": w(kv * dh, d),
                  p + "self_attn.v_proj.weight": w(kv * dh, d),
                  p + "self_attn.o_proj.weight": w(d, h * dh),
                  p + "mlp.gate_proj.weight": w(f, d), p + "mlp.up_proj.weight": w(f, d),
                  p + "mlp.down_proj.weight": w(d, f)})
        if model_type == "qwen2":
            t.update({p + "self_attn.q_proj.bias": w(h * dh) * 0.5,
                      p + "self_attn.k_proj.bias": w(kv * dh) * 0.5,
                      p + "self_attn.v_proj.bias": w(kv * dh) * 0.5})
    out = tmp_path / fixture
    out.mkdir()
    safetensors_numpy.save_file(t, str(out / "model.safetensors"), metadata={"format": "pt"})
    arch = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM"}[model_type]
    (out / "config.json").write_text(json.dumps({
        "architectures": [arch], "model_type": model_type, "vocab_size": vocab,
        "hidden_size": d, "intermediate_size": f, "num_hidden_layers": layers,
        "num_attention_heads": h, "num_key_value_heads": kv, "head_dim": dh,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
        "tie_word_embeddings": False, "torch_dtype": "float32"}))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if (FIXTURES / fixture / name).exists():
            shutil.copy(FIXTURES / fixture / name, out / name)
    return out


@pytest.mark.parametrize("fixture,model_type,pre", [("llama3_bpe", "llama", "llama-bpe"),
                                                     ("qwen2_bpe", "qwen2", "qwen2")])
def test_bpe_gguf_tokenizes_and_computes_like_gisp(fixture, model_type, pre, gisp_mod, tmp_path):
    gguf = require("gguf")
    llama_cpp = require("llama_cpp")
    src = make_model(tmp_path, fixture, model_type)
    cases = json.loads((FIXTURES / fixture / "cases.json").read_text())["cases"]
    with gisp_mod.Model(str(src)) as m:
        out = tmp_path / "gguf"
        m.export_format(str(out), "gguf", gisp_mod.DType.F32)
        reader = gguf.GGUFReader(str(out / "model.gguf"))
        fields = {k: v.contents() for k, v in reader.fields.items()}
        assert fields["general.architecture"] == model_type  # uniform: the family's own arch
        assert fields["tokenizer.ggml.model"] == "gpt2"
        assert fields["tokenizer.ggml.pre"] == pre

        llm = llama_cpp.Llama(str(out / "model.gguf"), n_ctx=128, logits_all=True, verbose=False,
                              n_threads=2, type_k=0, type_v=0)
        add_bos = bool(fields.get("tokenizer.ggml.add_bos_token", False))
        mismatches, nfc_only = [], 0
        for case in cases:
            ours = [int(i) for i in m.tokenize(case["text"])]
            assert ours == case["ids"]  # gisp itself against the fixture (HF tokenizers)
            theirs = llm.tokenize(case["text"].encode("utf-8"), add_bos=add_bos, special=True)
            if theirs == ours:
                continue
            # llama.cpp applies no NFC normalizer (Qwen2's tokenizer.json has one), so only text
            # already in NFC is required to tokenize alike (docs/deploy.md).
            if unicodedata.normalize("NFC", case["text"]) != case["text"]:
                nfc_only += 1
                continue
            mismatches.append((case["text"], ours, theirs))
        assert not mismatches, mismatches[:3]

        seq = [i for c in cases for i in c["ids_no_special"]][:60]
        want = m.logits(seq)
        llm.reset()
        llm.eval(seq)
        got = np.array(llm.scores[:len(seq)])
        rel_inf = np.abs(got - want).max() / np.abs(want).max()
        print(f"{fixture}: {len(cases) - nfc_only} of {len(cases)} cases tokenized alike, "
              f"{nfc_only} non-NFC texts differ; logits rel_inf {rel_inf:.2e}")
        assert rel_inf <= 1e-4
