"""The `decilm` export against the rules vLLM's DeciLM / Nemotron-NAS loader applies
(vllm/model_executor/models/nemotron_nas.py) and those of TensorRT-LLM's
(tensorrt_llm/models/nemotron_nas/{config,convert,model}.py, the engine flow of
examples/models/core/nemotron_nas, and tensorrt_llm/_torch/models/modeling_nemotron_nas.py, the
PyTorch flow), encoded below and marked by loader; neither runtime is installed here (both need
a GPU), and gisp reloading the export with identical logits at 20/30/40/50%."""
import json

import numpy as np
import pytest

from conftest import TARGETS, require


def vllm_intermediate_size(ffn_mult, hidden):
    """vLLM's _ffn_mult_to_intermediate_size: int(2 m D / 3) rounded up to a multiple of 256
    (TensorRT-LLM's _ffn_mult_to_intermediate_size, in both flows, is the same formula)."""
    n = int(2 * ffn_mult * hidden / 3)
    return n if n % 256 == 0 else n + 256 - n % 256


def expected_tensors(config):
    """Every tensor vLLM's and TensorRT-LLM's DeciLMForCausalLM load for `config`, with its HF
    shape."""
    d, h = config["hidden_size"], config["num_attention_heads"]
    dh = config.get("head_dim") or d // h
    # TensorRT-LLM engine flow: DeciConfig.from_hugging_face passes no head_size, so
    # PretrainedConfig takes hidden_size // num_attention_heads and head_dim is ignored (vLLM and
    # the PyTorch flow read head_dim): the two must agree.
    assert d % h == 0 and d // h == dh, (d, h, dh)
    # vLLM loads lm_head.weight unless tie_word_embeddings (then it skips lm_head.*);
    # TensorRT-LLM's engine flow (load_model_weights) loads it unconditionally.
    want = {"model.embed_tokens.weight": [config["vocab_size"], d], "model.norm.weight": [d],
            "lm_head.weight": [config["vocab_size"], d]}
    assert len(config["block_configs"]) == config["num_hidden_layers"]
    for i, block in enumerate(config["block_configs"]):
        p = f"model.layers.{i}."
        att, ffn = block["attention"], block["ffn"]
        # TensorRT-LLM's engine flow indexes attn["no_op"], attn["replace_with_linear"],
        # ffn["no_op"], ffn["replace_with_linear"] (a missing key is a KeyError).
        for sub in (att, ffn):
            assert isinstance(sub["no_op"], bool) and sub["replace_with_linear"] is False, (i, sub)
            assert not sub.get("sparsify"), (i, sub)  # TensorRT-LLM: NotImplementedError
        if not att["no_op"]:
            g = att["n_heads_in_group"]
            assert isinstance(g, int) and g >= 1 and h % g == 0, (i, g, h)
            kv = h // g  # vLLM and TensorRT-LLM: num_attention_heads // n_heads_in_group
            want.update({p + "input_layernorm.weight": [d],
                         p + "self_attn.q_proj.weight": [h * dh, d],
                         p + "self_attn.k_proj.weight": [kv * dh, d],
                         p + "self_attn.v_proj.weight": [kv * dh, d],
                         p + "self_attn.o_proj.weight": [d, h * dh]})
        if not ffn["no_op"]:
            # vLLM prefers ffn_mult when the block has one, else intermediate_size; TensorRT-LLM
            # (both flows) reads only ffn_mult, so it must be there.
            assert "ffn_mult" in ffn, (i, ffn)
            f = vllm_intermediate_size(ffn["ffn_mult"], d)
            if "intermediate_size" in ffn:
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
        # TensorRT-LLM's DeciConfig.from_hugging_face asserts model_type in (deci, nemotron-nas).
        assert config["model_type"] == "nemotron-nas"
        assert config["hidden_act"] == "silu" and not config.get("attention_bias")
        # Read by TensorRT-LLM's DeciConfig.from_hugging_face from the HF config.
        for key in ("vocab_size", "max_position_embeddings", "rms_norm_eps", "rope_theta"):
            assert config.get(key) is not None, key
        want = expected_tensors(config)
        with safe_open(str(out / "model.safetensors"), "np") as f:
            got = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
        assert got == want  # nothing missing, nothing unexpected, every shape as built there
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
