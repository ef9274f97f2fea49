"""The `decilm` export against the rules vLLM's DeciLM / Nemotron-NAS loader applies
(vllm/model_executor/models/nemotron_nas.py, encoded below; vLLM itself needs a GPU and is not
installed here), and gisp reloading the export with identical logits at 20/30/40/50%."""
import json

import numpy as np
import pytest

from conftest import TARGETS, require


def vllm_intermediate_size(ffn_mult, hidden):
    """vLLM's _ffn_mult_to_intermediate_size: int(2 m D / 3) rounded up to a multiple of 256."""
    n = int(2 * ffn_mult * hidden / 3)
    return n if n % 256 == 0 else n + 256 - n % 256


def expected_tensors(config):
    """Every tensor vLLM's DeciLMForCausalLM loads for `config`, with its HF shape."""
    d, h = config["hidden_size"], config["num_attention_heads"]
    dh = config.get("head_dim") or d // h
    want = {"model.embed_tokens.weight": [config["vocab_size"], d], "model.norm.weight": [d]}
    if not config.get("tie_word_embeddings", False):
        want["lm_head.weight"] = [config["vocab_size"], d]
    assert len(config["block_configs"]) == config["num_hidden_layers"]
    for i, block in enumerate(config["block_configs"]):
        p = f"model.layers.{i}."
        att, ffn = block["attention"], block["ffn"]
        assert not att.get("replace_with_linear") and not ffn.get("replace_with_linear")
        if not att["no_op"]:
            g = att["n_heads_in_group"]
            assert isinstance(g, int) and g >= 1 and h % g == 0, (i, g, h)
            kv = h // g  # vLLM: num_kv_heads = num_attention_heads // n_heads_in_group
            want.update({p + "input_layernorm.weight": [d],
                         p + "self_attn.q_proj.weight": [h * dh, d],
                         p + "self_attn.k_proj.weight": [kv * dh, d],
                         p + "self_attn.v_proj.weight": [kv * dh, d],
                         p + "self_attn.o_proj.weight": [d, h * dh]})
        if not ffn["no_op"]:
            # vLLM prefers ffn_mult when the block has one, else intermediate_size.
            f = (vllm_intermediate_size(ffn["ffn_mult"], d) if "ffn_mult" in ffn
                 else ffn["intermediate_size"])
            if "ffn_mult" in ffn and "intermediate_size" in ffn:
                assert f == ffn["intermediate_size"], (i, ffn)
            want.update({p + "post_attention_layernorm.weight": [d],
                         p + "mlp.gate_proj.weight": [f, d], p + "mlp.up_proj.weight": [f, d],
                         p + "mlp.down_proj.weight": [d, f]})
    return want


@pytest.mark.parametrize("target", TARGETS)
def test_decilm_export_follows_vllm_and_reloads_exactly(target, gisp_mod, dense, record,
                                                        eval_ids, tmp_path):
    safe_open = require("safetensors").safe_open
    with dense.materialize(record, record.nearest_step(target)) as sub:
        out = tmp_path / "decilm"
        written, exact = sub.export_format(str(out), "decilm", gisp_mod.DType.F32)
        config = json.loads((out / "config.json").read_text())
        assert config["architectures"] == ["DeciLMForCausalLM"]
        assert config["model_type"] == "nemotron-nas"
        assert config["hidden_act"] == "silu" and not config.get("attention_bias")
        want = expected_tensors(config)
        with safe_open(str(out / "model.safetensors"), "np") as f:
            got = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
        assert got == want  # nothing missing, nothing unexpected, every shape as vLLM builds it
        assert sum(int(np.prod(s)) for s in got.values()) == written
        assert (out / "tokenizer.model").exists()

        with gisp_mod.Model(str(out)) as back:
            ids = eval_ids[:128]
            a, b = sub.logits(ids), back.logits(ids)
            rel_inf = float(np.abs(a - b).max() / np.abs(a).max())
        print(f"target {target}: decilm {written} parameters (exact {exact}), "
              f"reload rel_inf {rel_inf:.1e}")
        # Zero heads and channels add exact zeros; only GEMM blocking may reorder sums.
        assert rel_inf <= 1e-5
