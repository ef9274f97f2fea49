#!/usr/bin/python3
"""Tests of the PyTorch oracle and the safetensors reader/writer.

    /usr/bin/pytest -q tools/reference
"""

import json
import math
import os
import struct
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import torch_llama  # noqa: E402


def tiny_config(**over):
    cfg = {
        "model_type": "llama", "vocab_size": 23, "hidden_size": 12, "intermediate_size": 20,
        "num_hidden_layers": 2, "num_attention_heads": 3, "num_key_value_heads": 1,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False,
    }
    cfg.update(over)
    return cfg


def test_safetensors_roundtrip_all_dtypes(tmp_path):
    rng = np.random.RandomState(0)
    f = rng.standard_normal((3, 5)).astype(np.float32)
    tensors = {"f32": f, "bf16": f, "f16": f, "i32": np.arange(7, dtype=np.int32) - 3,
               "f64": rng.standard_normal(4), "scalar_like": np.array([2.5], np.float32)}
    path = str(tmp_path / "x.safetensors")
    safetensors_io.save_file(tensors, path, dtypes={"bf16": "BF16", "f16": "F16"},
                             metadata={"format": "pt"})
    header, start = safetensors_io.read_header(path)
    assert start % 8 == 0
    assert header["__metadata__"] == {"format": "pt"}
    assert header["bf16"]["dtype"] == "BF16" and header["f16"]["dtype"] == "F16"
    back, dtypes = safetensors_io.load_file_with_dtypes(path)
    np.testing.assert_array_equal(back["f32"], f)
    np.testing.assert_array_equal(back["i32"], tensors["i32"])
    np.testing.assert_array_equal(back["f64"], tensors["f64"])
    np.testing.assert_array_equal(back["f16"], f.astype(np.float16))
    # bf16 agrees with torch's round-to-nearest-even conversion.
    np.testing.assert_array_equal(back["bf16"], torch.from_numpy(f).bfloat16().float().numpy())
    assert dtypes["i32"] == "I32"
    raw = safetensors_io.load_file(path, raw_bf16=True)["bf16"]
    assert raw.dtype == np.uint16


def test_bf16_rounding_ties_to_even():
    # 1 + 2^-8 is exactly halfway between bf16 1.0 and 1 + 2^-7: rounds to even (1.0).
    x = np.array([1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8, -0.0, np.inf], dtype=np.float32)
    bits = safetensors_io.f32_to_bf16_bits(x)
    np.testing.assert_array_equal(safetensors_io.bf16_bits_to_f32(bits),
                                  [1.0, 1.0 + 2.0 ** -6, -0.0, np.inf])


def test_safetensors_rejects_bad_offsets(tmp_path):
    header = json.dumps({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}).encode()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    with pytest.raises(ValueError, match="data_offsets"):
        safetensors_io.load_file(str(path))


def test_parameter_names_and_shapes():
    cfg = tiny_config(model_type="qwen2", head_dim=6, tie_word_embeddings=True)
    shapes = {k: tuple(v.shape) for k, v in torch_llama.TorchLlama(cfg).state_dict().items()}
    assert "lm_head.weight" not in shapes
    assert shapes["model.layers.1.self_attn.q_proj.weight"] == (18, 12)
    assert shapes["model.layers.1.self_attn.q_proj.bias"] == (18,)
    assert shapes["model.layers.1.self_attn.k_proj.bias"] == (6,)
    assert "model.layers.1.self_attn.o_proj.bias" not in shapes
    assert shapes["model.layers.1.self_attn.o_proj.weight"] == (12, 18)
    assert shapes["model.norm.weight"] == (12,)
    assert len(shapes) == 1 + 2 * 12 + 1  # per layer: 2 norms, 7 attention, 3 MLP


def test_llama_bias_flags_follow_transformers():
    """Llama's attention_bias gives q/k/v and o_proj a bias, mlp_bias gate/up/down; Mistral
    ignores both; a non-boolean flag is refused."""
    cfg = tiny_config(attention_bias=True, mlp_bias=True)
    shapes = {k: tuple(v.shape) for k, v in torch_llama.TorchLlama(cfg).state_dict().items()}
    p = "model.layers.1."
    assert shapes[p + "self_attn.q_proj.bias"] == (12,)
    assert shapes[p + "self_attn.k_proj.bias"] == (4,)
    assert shapes[p + "self_attn.o_proj.bias"] == (12,)
    assert shapes[p + "mlp.gate_proj.bias"] == (20,)
    assert shapes[p + "mlp.up_proj.bias"] == (20,)
    assert shapes[p + "mlp.down_proj.bias"] == (12,)
    mistral = tiny_config(model_type="mistral", attention_bias=True, mlp_bias=True)
    names = torch_llama.TorchLlama(mistral).state_dict()
    assert not [n for n in names if n.endswith(".bias")]
    with pytest.raises(ValueError, match="mlp_bias"):
        torch_llama.validate_config(tiny_config(mlp_bias="yes"))


def test_biases_enter_the_forward_pass():
    """A down_proj bias in the last layer shifts the final hidden state by exactly that bias
    before the norm (the residual adds it)."""
    cfg = tiny_config(mlp_bias=True)
    model = torch_llama.TorchLlama(cfg, dtype=torch.float64)
    model.reset_parameters(torch.Generator().manual_seed(1))
    ids = torch.tensor([[1, 5, 7, 2]])
    cos, sin = torch_llama.rope_cos_sin(cfg, 4, torch.float64)

    def residual_stream():  # the last layer's output, before the final norm
        x = model.model.embed_tokens(ids)
        for layer in model.model.layers:
            x = layer(x, cos, sin)
        return x

    with torch.no_grad():
        model.model.layers[-1].mlp.down_proj.bias.zero_()
        base = residual_stream()
        shift = torch.linspace(-1, 1, 12, dtype=torch.float64)
        model.model.layers[-1].mlp.down_proj.bias.copy_(shift)
        moved = residual_stream()
    assert torch.allclose(moved - base, shift.expand_as(base), atol=1e-12)


def test_shifted_targets_and_loss_by_hand():
    ids = torch.tensor([[5, 6, 7, 8]])
    mask = torch.tensor([[True, False, True, True]])
    t = torch_llama.shifted_targets(ids, mask)
    assert t.tolist() == [[6, -1, 8, -1]]
    logits = torch.randn(1, 4, 10, dtype=torch.float64)
    logp = torch.log_softmax(logits, -1)
    expect = -(logp[0, 0, 6] + logp[0, 2, 8]) / 2
    assert torch.allclose(torch_llama.loss_fn(logits, t), expect)
    nll = torch_llama.token_nll(logits, t)
    assert nll[0, 1] == 0 and nll[0, 3] == 0
    assert torch.allclose(nll[0, 2], -logp[0, 2, 8])


def test_causality_and_gqa_head_mapping():
    torch.manual_seed(0)
    cfg = tiny_config(hidden_size=16, num_attention_heads=4, num_key_value_heads=2)  # Dh 4
    m = torch_llama.TorchLlama(cfg, torch.float64)
    m.reset_parameters(torch.Generator().manual_seed(1))
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    ids2 = ids.clone()
    ids2[0, 3] = 9
    a, b = m(ids), m(ids2)
    assert torch.equal(a[0, :3], b[0, :3])  # earlier positions do not see later tokens
    assert not torch.allclose(a[0, 3:], b[0, 3:])
    # Zeroing the second KV head's value rows must change only query heads 2 and 3's outputs.
    attn = m.model.layers[0].self_attn
    x = torch.randn(1, 5, 16, dtype=torch.float64)
    cos, sin = torch_llama.rope_cos_sin(m.config, 5, torch.float64)
    with torch.no_grad():
        attn.o_proj.weight.copy_(torch.eye(16, dtype=torch.float64))  # output = head outputs
        y0 = attn(x, cos, sin)
        attn.v_proj.weight[4:8] = 0  # KV head 1
        y1 = attn(x, cos, sin)
    assert torch.equal(y0[..., :8], y1[..., :8])  # query heads 0, 1 read KV head 0
    assert not torch.allclose(y0[..., 8:], y1[..., 8:])


def test_rope_scaling_inv_freq():
    cfg = tiny_config(hidden_size=20, num_attention_heads=2, num_key_value_heads=2)  # Dh 10
    base = torch_llama.rope_inv_freq(cfg)
    assert torch.allclose(base, 1.0 / 10000.0 ** (torch.arange(0, 10, 2).double() / 10))
    lin = torch_llama.rope_inv_freq(dict(cfg, rope_scaling={"type": "linear", "factor": 4.0}))
    assert torch.allclose(lin, base / 4)
    l3 = torch_llama.rope_inv_freq(dict(cfg, rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 512}))
    wavelen = 2 * math.pi / base
    for i in range(5):
        if wavelen[i] < 128:
            assert l3[i] == base[i]
        elif wavelen[i] > 512:
            assert torch.isclose(l3[i], base[i] / 8)
        else:
            s = (512 / wavelen[i] - 1) / 3
            assert torch.isclose(l3[i], (1 - s) * base[i] / 8 + s * base[i])
    with pytest.raises(ValueError, match="yarn"):
        torch_llama.rope_inv_freq(dict(cfg, rope_scaling={"rope_type": "yarn", "factor": 2.0}))


@pytest.mark.parametrize("storage", ["float32", "bfloat16", "float16"])
def test_save_load_roundtrip_sharded(tmp_path, storage):
    m = torch_llama.TorchLlama(tiny_config(), torch.float32)
    m.reset_parameters(torch.Generator().manual_seed(2))
    files = torch_llama.save_hf_dir(m, tiny_config(), str(tmp_path), storage,
                                    max_shard_bytes=2000)
    shards = [f for f in files if f.startswith("model-")]
    assert len(shards) > 2
    with open(tmp_path / "model.safetensors.index.json") as f:
        index = json.load(f)
    elt = torch.tensor([], dtype=torch_llama.dtype_from_name(storage)).element_size()
    assert index["metadata"]["total_size"] == sum(p.numel() for p in m.parameters()) * elt
    assert set(index["weight_map"]) == set(dict(m.named_parameters()))
    back, cfg = torch_llama.load_hf_dir(str(tmp_path), torch.float32)
    assert cfg["torch_dtype"] == storage
    dt = torch_llama.dtype_from_name(storage)
    for (n, p), (_, q) in zip(m.named_parameters(), back.named_parameters()):
        assert torch.equal(p.detach().to(dt).float(), q.detach()), n


def test_native_half_runs_and_is_close():
    m = torch_llama.TorchLlama(tiny_config(), torch.float64)
    m.reset_parameters(torch.Generator().manual_seed(3))
    ids = torch.tensor([[1, 4, 9, 16, 3]])
    ref = m(ids)
    for dt, tol in ((torch.bfloat16, 0.05), (torch.float16, 0.01)):
        half = torch_llama.TorchLlama(tiny_config(), dt)
        half.load_state_dict({k: v.to(dt) for k, v in m.state_dict().items()})
        out = half(ids)
        assert out.dtype == dt
        assert (out.double() - ref).abs().max() < tol


def test_load_rejects_missing_tensor(tmp_path):
    m = torch_llama.TorchLlama(tiny_config())
    torch_llama.save_hf_dir(m, tiny_config(), str(tmp_path), "float32")
    cfg = tiny_config(num_hidden_layers=3)
    with open(tmp_path / "config.json", "w") as f:
        json.dump(cfg, f)
    with pytest.raises(ValueError, match="model.layers.2"):
        torch_llama.load_hf_dir(str(tmp_path))
