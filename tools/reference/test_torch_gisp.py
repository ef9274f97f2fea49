"""Checks of the PyTorch GISP reference itself (run: /usr/bin/pytest -q tools/reference)."""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_gisp  # noqa: E402
import torch_llama  # noqa: E402


def test_threshold_rule_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    for n in (1, 5, 17, 100):
        s = torch.rand(n, generator=g, dtype=torch.float64)
        s[: n // 3] = 0.0  # ties at zero, like already-pruned units
        for r in (0.0, 0.1, 0.37, 0.5, 0.9):
            tau, k = torch_gisp.threshold(s, r)
            assert k == min(max(n - math.floor(n * (1 - r)) + 1, 1), n)
            assert tau == sorted(s.tolist())[k - 1]
            assert (s <= tau).sum() >= k  # ties at tau are all pruned


def test_schedule():
    assert torch_gisp.schedule(0.7, 1) == [0.7]
    s = torch_gisp.schedule(0.6, 4)
    assert s[0] == 0 and abs(s[-1] - 0.6) < 1e-15 and len(s) == 4


def _tiny_config():
    return {"model_type": "llama", "vocab_size": 31, "hidden_size": 16, "intermediate_size": 10,
            "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 64}


def test_masks_nest_and_sparsity_grows():
    config = _tiny_config()
    torch.manual_seed(0)
    model = torch_llama.TorchLlama(config, dtype=torch.float64)
    model.reset_parameters(torch.Generator().manual_seed(1))
    ids = torch.randint(0, 31, (2, 9), generator=torch.Generator().manual_seed(2))
    targets = torch_llama.shifted_targets(ids)
    weights = (targets >= 0).double() / (targets >= 0).sum()
    units, hist = torch_gisp.run(model, config, [(ids, targets, weights)], 0.5, 4,
                                 protect_first_fraction=0.0, protect_last=True)
    prev = None
    for h in hist:
        now = h["pruned_at_step"]
        if prev is not None:
            assert all(p < 0 or n == p for p, n in zip(prev, now))  # never un-pruned
        prev = now
    assert [h["sparsity"] for h in hist] == sorted(h["sparsity"] for h in hist)
    last_layer = range(2 * units.per_layer, 3 * units.per_layer)
    assert all(hist[-1]["pruned_at_step"][u] == -1 for u in last_layer)


def test_sparsity_formula_on_a_hand_model():
    config = _tiny_config()
    model = torch_llama.TorchLlama(config, dtype=torch.float64)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    units = torch_gisp.Units(config, False, 0.0, False)
    per_layer = sum(p.numel() for p in model.model.layers[0].parameters())
    norms = 2 * 16
    assert torch_gisp.decoder_sparsity(model, units, config) == 1 - (per_layer - norms) / per_layer
    torch_gisp.apply_masks(model, units, [u == 0 for u in range(units.N)])  # one query head
    zeroed = 2 * 4 * 16  # 4 q rows and 4 o columns of width 16 (head_dim 4)
    expected = 1 - (3 * (per_layer - norms) - zeroed) / (3 * per_layer)
    assert abs(torch_gisp.decoder_sparsity(model, units, config) - expected) < 1e-15
