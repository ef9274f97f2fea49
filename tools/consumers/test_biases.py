"""A model with linear biases (transformers' Llama `attention_bias`: q/k/v/o, `mlp_bias`:
gate/up/down; what FLAP's bias compensation needs) goes through gisp and its exports: the tiny
model with random biases added is pruned (magnitude, one step), the uniform `llama` export loads
in transformers with every bias and no missing or unexpected weight and computes gisp's logits,
the `gguf` export reproduces gisp's log-probabilities in llama.cpp, the `sliced` export loads
back in gisp with the same logits, and the `decilm` export is refused (TensorRT-LLM's
Nemotron-NAS has no biases). Tolerances as for the bias-free exports (docs/numerics.md)."""
import json
import shutil

import numpy as np
import pytest

from conftest import TINY, require

CHUNK = 128
LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


@pytest.fixture(scope="module")
def biased_dir(tmp_path_factory):
    """The tiny model (bf16) with N(0, 0.05^2) biases on every linear, stored in bf16."""
    require("torch")
    st = require("safetensors.torch")
    import torch
    out = tmp_path_factory.mktemp("biased") / "model"
    shutil.copytree(TINY / "model", out)
    config = json.loads((out / "config.json").read_text())
    config["attention_bias"] = True
    config["mlp_bias"] = True
    (out / "config.json").write_text(json.dumps(config, indent=2))
    tensors = st.load_file(str(out / "model.safetensors"))
    gen = torch.Generator().manual_seed(13)
    for layer in range(config["num_hidden_layers"]):
        for linear in LINEARS:
            weight = tensors[f"model.layers.{layer}.{linear}.weight"]
            bias = 0.05 * torch.randn(weight.shape[0], generator=gen, dtype=torch.float32)
            tensors[f"model.layers.{layer}.{linear}.bias"] = bias.to(weight.dtype)
    st.save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    return out


@pytest.fixture(scope="module")
def pruned(gisp_mod, biased_dir):
    """(model, record): one magnitude step to 30% on the biased tiny model."""
    with gisp_mod.Model(str(biased_dir)) as model:
        config = gisp_mod.PruneConfig(method="magnitude", target_sparsities=[0.3],
                                      protect_first_fraction=0.0, protect_last=False)
        data = gisp_mod.Calibration.from_tokens(
            [[(i * 37 + t * 11) % model.vocab_size for t in range(12)] for i in range(4)])
        with gisp_mod.Pruner(model, data, config) as pruner:
            pruner.run()
            record = pruner.record()
        yield model, record


def eval_seq(model):
    ids = model.tokenize((TINY / "eval.txt").read_text(encoding="utf-8"))
    return list(ids[:CHUNK])


def test_transformers_loads_the_biases_and_matches_gisp(gisp_mod, pruned, tmp_path):
    transformers = require("transformers")
    import torch
    torch.set_num_threads(2)
    model, record = pruned
    with model.materialize(record, record.num_steps - 1) as sub:
        out = tmp_path / "llama"
        sub.export_format(str(out), "llama", gisp_mod.DType.F32)
        config = json.loads((out / "config.json").read_text())
        assert config["attention_bias"] is True and config["mlp_bias"] is True
        hf, info = transformers.AutoModelForCausalLM.from_pretrained(
            str(out), dtype=torch.float32, output_loading_info=True)
        hf.eval()
        assert not info["missing_keys"], info
        assert not info["unexpected_keys"], info
        assert not info["mismatched_keys"], info
        names = {n for n, _ in hf.named_parameters()}
        for linear in LINEARS:
            assert f"model.layers.0.{linear}.bias" in names, linear
        ids = eval_seq(model)
        want = sub.logits(ids)
        with torch.no_grad():
            got = hf(torch.tensor(np.asarray(ids, np.int64)[None])).logits[0].numpy()
        rel_inf = np.abs(got - want).max() / np.abs(want).max()
        print(f"biased llama export: logits rel_inf {rel_inf:.3e}")
        assert rel_inf <= 1e-4


def test_llama_cpp_loads_the_biases_and_matches_gisp(gisp_mod, pruned, tmp_path):
    llama_cpp = require("llama_cpp")
    gguf = require("gguf")
    model, record = pruned
    with model.materialize(record, record.num_steps - 1) as sub:
        out = tmp_path / "gguf"
        sub.export_format(str(out), "gguf", gisp_mod.DType.F32)
        path = out / "model.gguf"
        names = {t.name for t in gguf.GGUFReader(str(path)).tensors}
        for name in ("attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.bias",
                     "ffn_gate.bias", "ffn_up.bias", "ffn_down.bias"):
            assert f"blk.0.{name}" in names, name
        llm = llama_cpp.Llama(str(path), n_ctx=256, logits_all=True, verbose=False,
                              n_threads=2, type_k=0, type_v=0)
        seq = [1] + eval_seq(model)[1:]
        want = log_softmax(sub.logits(seq))
        llm.reset()
        llm.eval(seq)
        got = log_softmax(np.array(llm.scores[:len(seq)]))
        worst = float(np.abs(got - want).max())
        print(f"biased gguf export: max |dlogp| {worst:.3e}")
        assert worst <= 1e-4  # f32 weights and KV cache, as test_gguf.LOGPROB_TOL["f32"]


def test_sliced_export_round_trips_and_decilm_is_refused(gisp_mod, pruned, tmp_path):
    model, record = pruned
    with model.materialize(record, record.num_steps - 1) as sub:
        ids = eval_seq(model)
        want = sub.logits(ids)
        sub.export_format(str(tmp_path / "sliced"), "sliced")
        with pytest.raises(gisp_mod.Error) as e:
            sub.export_format(str(tmp_path / "decilm"), "decilm")
        assert "biases" in e.value.message and "TensorRT-LLM" in e.value.message
    with gisp_mod.Model(str(tmp_path / "sliced")) as back:
        got = back.logits(ids)
    assert np.abs(got - want).max() <= 1e-6 * np.abs(want).max()


def log_softmax(x):
    x = np.asarray(x, np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


@pytest.fixture(scope="module")
def emptied_dir(biased_dir, tmp_path_factory):
    """A gisp_sliced directory made by hand from the biased model: layer 1 keeps no head and
    layer 2 no MLP channel, but both keep their o_proj and down_proj biases, which gisp still
    adds; the other layers are dense."""
    st = require("safetensors.torch")
    out = tmp_path_factory.mktemp("emptied") / "model"
    shutil.copytree(biased_dir, out)
    config = json.loads((out / "config.json").read_text())
    h, kv, f = (config["num_attention_heads"], config["num_key_value_heads"],
                config["intermediate_size"])
    dense = {"num_attention_heads": h, "num_key_value_heads": kv,
             "kv_map": [i // (h // kv) for i in range(h)], "intermediate_size": f}
    layers = [dict(dense) for _ in range(config["num_hidden_layers"])]
    layers[1].update(num_attention_heads=0, num_key_value_heads=0, kv_map=[])
    layers[2].update(intermediate_size=0)
    config.update(model_type="gisp_sliced", architectures=["GispSlicedForCausalLM"],
                  gisp_base_model_type="llama", gisp_per_layer_config=layers)
    (out / "config.json").write_text(json.dumps(config, indent=2))
    tensors = st.load_file(str(out / "model.safetensors"))
    for name in list(tensors):
        # Zero-size tensors (and the unused norm of an empty block) may be left out.
        attn = name.startswith("model.layers.1.") and (
            "_proj.weight" in name and "self_attn" in name or
            name.endswith(("q_proj.bias", "k_proj.bias", "v_proj.bias", "input_layernorm.weight")))
        mlp = name.startswith("model.layers.2.") and (
            "mlp." in name and name.endswith(".weight") or
            name.endswith(("gate_proj.bias", "up_proj.bias", "post_attention_layernorm.weight")))
        if attn or mlp:
            del tensors[name]
    st.save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    return out


def test_empty_blocks_keep_their_output_biases_in_every_runtime(gisp_mod, emptied_dir, tmp_path):
    llama_cpp = require("llama_cpp")
    gguf = require("gguf")
    transformers = require("transformers")
    import torch
    torch.set_num_threads(2)
    with gisp_mod.Model(str(emptied_dir)) as model:
        ids = eval_seq(model)
        want = model.logits(ids)
        # GGUF: the empty blocks are written with one zero head / one zero channel so that
        # llama.cpp does not skip them and drop the biases.
        model.export_format(str(tmp_path / "gguf"), "gguf", gisp_mod.DType.F32)
        path = tmp_path / "gguf" / "model.gguf"
        reader = gguf.GGUFReader(str(path))
        names = {t.name for t in reader.tensors}
        assert "blk.1.attn_output.bias" in names and "blk.2.ffn_down.bias" in names
        llm = llama_cpp.Llama(str(path), n_ctx=256, logits_all=True, verbose=False,
                              n_threads=2, type_k=0, type_v=0)
        seq = [1] + ids[1:]
        llm.reset()
        llm.eval(seq)
        got = log_softmax(np.array(llm.scores[:len(seq)]))
        worst = float(np.abs(got - log_softmax(model.logits(seq))).max())
        print(f"empty blocks, gguf: max |dlogp| {worst:.3e}")
        assert worst <= 1e-4
        # Uniform llama export in transformers: zero heads / channels padded in, biases kept.
        model.export_format(str(tmp_path / "llama"), "llama", gisp_mod.DType.F32)
        hf = transformers.AutoModelForCausalLM.from_pretrained(str(tmp_path / "llama"),
                                                               dtype=torch.float32)
        hf.eval()
        with torch.no_grad():
            got = hf(torch.tensor(np.asarray(ids, np.int64)[None])).logits[0].numpy()
        rel_inf = np.abs(got - want).max() / np.abs(want).max()
        print(f"empty blocks, llama: logits rel_inf {rel_inf:.3e}")
        assert rel_inf <= 1e-4
    # The biases matter: dropping layer 1's o_proj bias changes gisp's own logits.
    st = require("safetensors.torch")
    tensors = st.load_file(str(emptied_dir / "model.safetensors"))
    tensors["model.layers.1.self_attn.o_proj.bias"].zero_()
    changed = tmp_path / "changed"
    shutil.copytree(emptied_dir, changed)
    st.save_file(tensors, str(changed / "model.safetensors"), metadata={"format": "pt"})
    with gisp_mod.Model(str(changed)) as other:
        assert np.abs(other.logits(ids) - want).max() > 1e-3 * np.abs(want).max()
