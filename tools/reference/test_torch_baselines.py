"""Checks of the PyTorch baseline reference (torch_baselines.py) and of testdata/baselines.

    /usr/bin/pytest -q -p no:cacheprovider tools/reference/test_torch_baselines.py
"""
import json
import math
import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import fixture_compare  # noqa: E402
import torch_baselines  # noqa: E402
import torch_gisp  # noqa: E402
import torch_llama  # noqa: E402


def _model(heads=4, kv=2, layers=3, seed=1):
    config = {"model_type": "llama", "vocab_size": 31, "hidden_size": 16,
              "intermediate_size": 10, "num_hidden_layers": layers,
              "num_attention_heads": heads, "num_key_value_heads": kv, "rms_norm_eps": 1e-5,
              "rope_theta": 10000.0, "max_position_embeddings": 64,
              "tie_word_embeddings": False}
    model = torch_llama.TorchLlama(config, dtype=torch.float64)
    model.reset_parameters(torch.Generator().manual_seed(seed))
    return model, config


def _batches(vocab=31, n=4, length=9, seed=2):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n // 2):
        ids = torch.randint(0, vocab, (2, length), generator=gen)
        targets = torch_llama.shifted_targets(ids)
        weights = (targets >= 0).double() / (n * (length - 1)) * 2
        out.append((ids, targets, weights))
    return out


def test_splitmix64_matches_the_published_sequence():
    # SplitMix64 seeded with 0: first output 0xE220A8397B1DCDAF (Vigna's reference generator).
    draws = torch_baselines.splitmix64_uniform(0, 1)
    assert draws[0] == (0xE220A8397B1DCDAF >> 11) * 2.0 ** -53


def test_activation_norms_equal_a_direct_computation():
    model, _ = _model()
    batches = _batches()
    norms = torch_baselines.activation_norms(model, batches)
    # Direct: rerun layer 1's attention by hand on the captured input of its o_proj.
    captured = []
    h = model.model.layers[1].mlp.down_proj.register_forward_pre_hook(
        lambda _m, inp: captured.append(inp[0].detach()))
    for ids, _, _ in batches:
        model(ids)
    h.remove()
    # Counted positions: all but the last of each sequence (its target is -1).
    sq = sum((x[:, :-1, :] ** 2).sum(dim=(0, 1)) for x in captured)
    assert torch.allclose(norms[1][1], sq.sqrt(), rtol=1e-12, atol=0)


def test_wanda_sp_pools_columns_of_a_head():
    model, config = _model()
    units = torch_gisp.Units(config, protect_first_fraction=0.0, protect_last=False)
    batches = _batches()
    scores = torch_baselines.wanda_sp_scores(model, units, batches)
    xo, _ = torch_baselines.activation_norms(model, batches)[0]
    w = model.model.layers[0].self_attn.o_proj.weight.detach()
    dh = units.Dh
    head1 = sum(float(w[:, j].abs().sum() * xo[j]) for j in range(dh, 2 * dh))
    assert math.isclose(float(scores[1]), head1, rel_tol=1e-12)


def test_local_selection_prunes_the_same_share_per_layer_and_nests():
    model, config = _model(layers=4)
    units = torch_gisp.Units(config)  # layer 3 protected
    scores = torch_baselines.magnitude_scores(model, units)
    weights = torch_baselines.unit_weights(model, units)
    pruned_at, sparsities = torch_baselines.select_targets(units, scores, True,
                                                           [0.1, 0.2, 0.3], weights)
    assert sparsities == sorted(sparsities)
    for k in range(3):
        counts = set()
        for l in range(units.L):
            base = l * units.per_layer
            heads = sum(0 <= pruned_at[u] <= k for u in range(base, base + units.heads))
            chans = sum(0 <= pruned_at[u] <= k
                        for u in range(base + units.heads, base + units.per_layer))
            if units.protected[l]:
                assert heads == chans == 0
            else:
                counts.add((heads, chans))
        assert len(counts) == 1


def test_oneshot_selection_is_a_global_threshold():
    model, config = _model()
    batches = _batches()
    units, scores, pruned_at, sparsities = torch_baselines.run("oneshot", model, config, batches,
                                                               [0.25])
    tau = max(float(scores[u]) for u in range(units.N) if pruned_at[u] == 0)
    for u in range(units.N):
        if not units.is_protected(u):
            assert (pruned_at[u] == 0) == (float(scores[u]) <= tau)


def test_flap_scores_follow_the_definition():
    model, config = _model()
    units = torch_gisp.Units(config, protect_first_fraction=0.0, protect_last=True)
    batches = _batches()
    scores, means, _ = torch_baselines.flap_scores(model, units, batches)
    # Direct: running sums over the captured inputs (the reference itself keeps every row).
    captured = []
    h = model.model.layers[1].self_attn.o_proj.register_forward_pre_hook(
        lambda _m, inp: captured.append(inp[0].detach()[:, :-1, :].reshape(-1, inp[0].shape[-1])))
    for ids, _, _ in batches:
        model(ids)
    h.remove()
    x = torch.cat(captured)
    n = x.shape[0]
    mean = x.sum(dim=0) / n
    var = ((x - mean) ** 2).sum(dim=0) / (n - 1)
    w = model.model.layers[1].self_attn.o_proj.weight.detach()
    m = (var * (w ** 2).sum(dim=0)) ** 2
    z = (m - m.mean()) / m.std()
    base = units.per_layer
    for head in range(units.heads):
        want = float(z[head * units.Dh:(head + 1) * units.Dh].mean())
        assert math.isclose(float(scores[base + head]), want, rel_tol=1e-9, abs_tol=1e-12)
    assert torch.allclose(means[1][0], mean, rtol=1e-12, atol=1e-15)
    # Standardized per layer and module: each unprotected layer's channel scores, mean 0, std 1.
    for l in range(units.L - 1):
        c = scores[l * units.per_layer + units.heads:(l + 1) * units.per_layer]
        assert abs(float(c.mean())) < 1e-12 and math.isclose(float(c.std()), 1.0, rel_tol=1e-12)
    assert math.isinf(float(scores[(units.L - 1) * units.per_layer]))


def test_flap_deltas_hold_pruned_inputs_at_their_means():
    model, config = _model()
    units = torch_gisp.Units(config, protect_first_fraction=0.0, protect_last=False)
    batches = _batches()
    _, means, _ = torch_baselines.flap_scores(model, units, batches)
    pruned = [False] * units.N
    pruned[1] = pruned[units.heads + 3] = True  # layer 0: head 1, channel 3
    deltas = torch_baselines.flap_deltas(model, units, means, pruned)
    wo = model.model.layers[0].self_attn.o_proj.weight.detach()
    wd = model.model.layers[0].mlp.down_proj.weight.detach()
    cols = list(range(units.Dh, 2 * units.Dh))
    assert torch.allclose(deltas[0][0], sum(wo[:, j] * means[0][0][j] for j in cols),
                          rtol=1e-12, atol=1e-15)
    assert torch.allclose(deltas[0][1], wd[:, 3] * means[0][1][3], rtol=1e-12, atol=1e-15)
    assert float(deltas[1][0].abs().sum()) == 0.0 and float(deltas[1][1].abs().sum()) == 0.0


def _manifest():
    with open(os.path.join(ROOT, "testdata", "baselines", "manifest.json")) as f:
        return json.load(f)


def test_fixtures_regenerate_within_tolerance(tmp_path):
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "fixtures",
                                                 "make_baseline_fixtures.py"),
                    "--out", str(tmp_path)], check=True, capture_output=True)
    checked_in = _manifest()
    problems = []
    for name in checked_in["cases"]:
        problems += fixture_compare.compare_dirs(str(tmp_path / name),
                                                 os.path.join(ROOT, "testdata", "baselines", name))
    assert not problems, "\n".join(problems)
