"""Checks of the PyTorch GISP reference itself and of testdata/gisp.

    /usr/bin/pytest -q -p no:cacheprovider tools/reference
"""
import itertools
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import fixture_compare  # noqa: E402
import safetensors_io  # noqa: E402
import torch_gisp  # noqa: E402
import torch_llama  # noqa: E402


def _config(heads=4, kv=2, layers=3, bias=False):
    c = {"model_type": "qwen2" if bias else "llama", "vocab_size": 31, "hidden_size": 16,
         "intermediate_size": 10, "num_hidden_layers": layers, "num_attention_heads": heads,
         "num_key_value_heads": kv, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "max_position_embeddings": 64, "tie_word_embeddings": False}
    return c


def _model(config, seed=1):
    model = torch_llama.TorchLlama(config, dtype=torch.float64)
    model.reset_parameters(torch.Generator().manual_seed(seed))
    with torch.no_grad():  # non-trivial norms and biases
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or name.endswith(".bias"):
                p.add_(0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(7),
                                         dtype=torch.float64))
    return model


def _lm_batches(vocab, n=4, length=9, bs=2, seed=2):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n // bs):
        ids = torch.randint(0, vocab, (bs, length), generator=g)
        targets = torch_llama.shifted_targets(ids)
        labelled = int((targets >= 0).sum())
        out.append((ids, targets, (targets >= 0).double() * bs / (n * labelled)))
    return out


# --- ranking and schedule ------------------------------------------------------------------

def test_threshold_rule_matches_brute_force():
    """The pruned set {s <= tau} equals the brute-force answer: the smallest value v among the
    scores with at least k scores <= v, k = N - floor(N (1 - r)) + 1, clamped to [1, N]."""
    g = torch.Generator().manual_seed(0)
    for n in (1, 2, 5, 17, 100):
        for trial in range(5):
            s = torch.randint(0, 6, (n,), generator=g).double() / 5  # many ties
            if trial % 2:
                s = torch.rand(n, generator=g, dtype=torch.float64)
            s[: n // 4] = 0.0  # already-pruned units
            s[n - n // 5:] = math.inf  # protected units
            for r in (0.0, 0.1, 0.37, 0.5, 0.55, 0.7, 0.99):
                tau, k = torch_gisp.threshold(s, r)
                want_k = min(max(n - math.floor(n * (1 - r)) + 1, 1), n)
                vals = s.tolist()
                brute = min(v for v in vals if sum(x <= v for x in vals) >= want_k)
                assert k == want_k and tau == brute
                assert (s <= tau).sum() >= k and (s < tau).sum() < k


def test_threshold_examples():
    s = torch.tensor([0.0, 0.0, 3.0, 1.0, 2.0, 2.0, math.inf, math.inf], dtype=torch.float64)
    assert torch_gisp.threshold(s, 0.0) == (0.0, 1)  # r = 0 still takes the smallest score
    assert torch_gisp.threshold(s, 0.2) == (1.0, 3)  # 8 - floor(6.4) + 1 = 3
    assert torch_gisp.threshold(s, 0.5) == (2.0, 5)  # ties at 2 both pruned
    assert torch_gisp.threshold(s, 0.7) == (math.inf, 7)


def test_schedule():
    assert torch_gisp.schedule(0.7, 1) == [0.7]
    s = torch_gisp.schedule(0.6, 4)
    assert len(s) == 4 and s[0] == 0 and abs(s[1] - 0.2) < 1e-15 and abs(s[-1] - 0.6) < 1e-15


# --- units ---------------------------------------------------------------------------------

def test_units_order_protection_and_partition():
    for heads, kv, kv_group, kind, n_heads in ((4, 4, False, "mha", 4),
                                               (4, 2, False, "query-head", 4),
                                               (4, 2, True, "kv-group", 2),
                                               (4, 1, True, "kv-group", 1)):
        cfg = _config(heads, kv, layers=3)
        u = torch_gisp.Units(cfg, kv_group, 0.1, True)
        assert u.kind == kind and u.heads == n_heads and u.N == 3 * (n_heads + 10)
        assert u.protected == [False, False, True]
        assert torch_gisp.Units(cfg, kv_group, 0.34, False).protected == [True, False, False]
        assert torch_gisp.Units(cfg, kv_group, 0.0, False).protected == [False] * 3
        # Layer 1: the units' elements tile each owned matrix exactly once.
        owned = {}
        for unit in range(u.per_layer, 2 * u.per_layer):
            assert u.layer_of(unit) == 1 and u.is_head(unit) == (unit - u.per_layer < n_heads)
            for path, axis, idx in u.elements(unit):
                owned.setdefault((path, axis), []).extend(idx)
        width = {"self_attn.q_proj": heads * 4, "self_attn.o_proj": heads * 4,
                 "self_attn.k_proj": kv * 4, "self_attn.v_proj": kv * 4,
                 "mlp.gate_proj": 10, "mlp.up_proj": 10, "mlp.down_proj": 10}
        expected = {"self_attn.q_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
                    "mlp.down_proj"}
        if kind != "query-head":
            expected |= {"self_attn.k_proj", "self_attn.v_proj"}
        assert {p for p, _ in owned} == expected
        for (path, axis), idx in owned.items():
            assert axis == (1 if path.endswith(("o_proj", "down_proj")) else 0)
            assert sorted(idx) == list(range(width[path])), (kind, path)
    # kv-group unit j owns the query heads that read KV head j (HF: head h reads h // G).
    u = torch_gisp.Units(_config(4, 2), True)
    q = dict((p, i) for p, _, i in u.elements(1))["self_attn.q_proj"]
    assert q == list(range(8, 16))


def test_normalization_divisors():
    cfg = _config(4, 2)  # D 16, F 10, Dh 4, G 2
    qh = torch_gisp.Units(cfg, False)
    kg = torch_gisp.Units(cfg, True)
    assert qh.divisor(0, "reference") == 4 * 4 * 16 and qh.divisor(4, "reference") == 3 * 10
    assert qh.divisor(0, "paper") == 4 * 4 * 16 and qh.divisor(4, "paper") == 3 * 16
    assert kg.divisor(0, "reference") == (2 * 2 + 2) * 4 * 16 and kg.divisor(2, "paper") == 48
    assert qh.divisor(0, "none") == qh.divisor(4, "none") == 1.0


# --- gradient, scores, masks ---------------------------------------------------------------

def test_gbar_is_the_mean_of_batch_size_times_mean_loss():
    cfg = _config(4, 2, layers=2)
    model = _model(cfg)
    batches = _lm_batches(31, n=6, bs=2) + _lm_batches(31, n=6, bs=3, seed=5)[:1]
    loss = torch_gisp.gradient_pass(model, batches)
    got = {n: p.grad.clone() for n, p in model.named_parameters()}
    # Independently: (1/n) sum_b grad(bs_b * mean loss_b) with the weights' n per batch.
    model.zero_grad()
    num = den = 0.0
    for ids, targets, w in batches:
        n = ids.shape[0] / float(w[targets >= 0][0] * (targets >= 0).sum())
        mean = torch_llama.loss_fn(model(ids), targets)
        (ids.shape[0] * mean / n).backward()
        num += ids.shape[0] * float(mean)
        den += ids.shape[0]
    for name, p in model.named_parameters():
        torch.testing.assert_close(got[name], p.grad, rtol=1e-12, atol=1e-15)
    assert abs(loss - num / den) < 1e-12


def test_margin_loss_counts_positive_batches_only():
    model = _model(_config(2, 2, layers=1))
    (a, t, w), (b, u, v) = _lm_batches(31, n=4, bs=2)
    loss = torch_gisp.gradient_pass(model, [(a, t, w), (b, u, -v)])
    with torch.no_grad():
        want = float(torch_llama.loss_fn(model(a), t))
    assert abs(loss - want) < 1e-12


def test_scores_sum_to_total_importance_and_are_zero_for_pruned_units():
    for heads, kv, kv_group in ((4, 4, False), (4, 2, False), (4, 2, True)):
        cfg = _config(heads, kv, layers=2, bias=True)
        model = _model(cfg)
        units = torch_gisp.Units(cfg, kv_group, 0.0, True)
        torch_gisp.gradient_pass(model, _lm_batches(31))
        pruned = [u == 3 or u == units.heads + 2 for u in range(units.N)]
        raw, norm = torch_gisp.unit_scores(model, units, pruned, "reference")
        assert raw[3] == 0 and raw[units.heads + 2] == 0
        assert all(math.isinf(x) for x in raw[units.per_layer:].tolist())
        attn, mlp = model.model.layers[0].self_attn, model.model.layers[0].mlp
        mats = [attn.q_proj, attn.o_proj, mlp.gate_proj, mlp.up_proj, mlp.down_proj]
        if units.kind != "query-head":
            mats += [attn.k_proj, attn.v_proj]
        total = sum(float((m.weight * m.weight.grad).abs().sum()) for m in mats)
        unpruned = torch_gisp.unit_scores(model, units, [False] * units.N, "none")[0]
        assert abs(float(unpruned[: units.per_layer].sum()) - total) < 1e-12 * total
        for u in range(units.per_layer):
            if not pruned[u]:
                assert norm[u] == raw[u] / units.divisor(u, "reference")


def test_query_head_mask_keeps_kv_and_zeroes_its_biases():
    cfg = _config(4, 2, layers=1, bias=True)
    model = _model(cfg)
    units = torch_gisp.Units(cfg, False, 0.0, False)
    torch_gisp.apply_masks(model, units, [u == 1 for u in range(units.N)])
    a = model.model.layers[0].self_attn
    assert (a.q_proj.weight[4:8] == 0).all() and (a.q_proj.bias[4:8] == 0).all()
    assert (a.o_proj.weight[:, 4:8] == 0).all() and (a.q_proj.weight[:4] != 0).all()
    assert (a.k_proj.weight != 0).all() and (a.v_proj.bias != 0).all()
    units = torch_gisp.Units(cfg, True, 0.0, False)  # kv-group unit 1: KV head 1, q heads 2, 3
    torch_gisp.apply_masks(model, units, [u == 1 for u in range(units.N)])
    assert (a.k_proj.weight[4:8] == 0).all() and (a.v_proj.bias[4:8] == 0).all()
    assert (a.q_proj.weight[8:16] == 0).all() and (a.k_proj.weight[:4] != 0).all()


def test_sparsity_formula_on_a_hand_model():
    cfg = _config(4, 2, layers=3, bias=True)
    model = torch_llama.TorchLlama(cfg, dtype=torch.float64)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    D, F, Dh = 16, 10, 4
    linear = 2 * 16 * D + 2 * 8 * D + 3 * F * D  # q, o, k, v, gate, up, down
    per_layer = linear + 2 * D + 16 + 2 * 8  # + 2 RMSNorms + q/k/v biases
    assert torch_gisp.decoder_sparsity(model) == 1 - 3 * linear / (3 * per_layer)
    units = torch_gisp.Units(cfg, False, 0.0, False)
    torch_gisp.apply_masks(model, units, [u in (0, 4 + 3) for u in range(units.N)])
    zeroed = 2 * Dh * D + 3 * D  # a query head (q rows + o cols; K/V kept) and a channel
    want = 1 - (3 * linear - zeroed) / (3 * per_layer)
    assert abs(torch_gisp.decoder_sparsity(model) - want) < 1e-15
    mha = _config(4, 4, layers=1)
    model = torch_llama.TorchLlama(mha, dtype=torch.float64)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    torch_gisp.apply_masks(model, torch_gisp.Units(mha, False, 0.0, False), [u == 2 for u in range(14)])
    total = 4 * 16 * D + 3 * F * D + 2 * D
    assert abs(torch_gisp.decoder_sparsity(model) - (4 * Dh * D + 2 * D) / total) < 1e-15


# --- the schedule end to end ---------------------------------------------------------------

def test_run_masks_nest_protection_holds_and_counts_follow_the_rule():
    cfg = _config(4, 2, layers=3)
    model = _model(cfg)
    batches = _lm_batches(31)
    units, hist = torch_gisp.run(model, cfg, batches, 0.5, 4, kv_group=False)
    assert units.protected == [False, False, True]
    prev = [-1] * units.N
    for k, h in enumerate(hist):
        now = h["pruned_at_step"]
        assert all(p == n for p, n in zip(prev, now) if p >= 0)  # never un-pruned
        assert all(n in (-1, k) for p, n in zip(prev, now) if p < 0)
        for u in range(units.N):  # pruned so far exactly the unprotected units <= tau
            if prev[u] < 0 and not units.is_protected(u):
                assert (now[u] == k) == (float(h["scores"][u]) <= h["tau"])
            if prev[u] >= 0:
                assert h["scores"][u] == 0 and h["raw"][u] == 0
        assert h["pruned"] >= h["k"]
        prev = now
    assert all(hist[-1]["pruned_at_step"][u] == -1 for u in range(2 * units.per_layer, units.N))
    assert [h["sparsity"] for h in hist] == sorted(h["sparsity"] for h in hist)


def test_run_rejects_a_ratio_that_reaches_protected_units():
    cfg = _config(4, 4, layers=2)
    try:
        torch_gisp.run(_model(cfg), cfg, _lm_batches(31), 0.6, 1)
    except ValueError as e:
        assert "protected" in str(e)
    else:
        raise AssertionError("expected ValueError")


# --- the checked-in fixtures -----------------------------------------------------------------

FIXTURES = os.path.join(ROOT, "testdata", "gisp")


def _manifest():
    with open(os.path.join(FIXTURES, "manifest.json")) as f:
        return json.load(f)


def test_fixtures_are_consistent():
    for name, entry in _manifest()["cases"].items():
        d = os.path.join(FIXTURES, name)
        with open(os.path.join(d, "options.json")) as f:
            opts = json.load(f)
        assert opts == entry["options"]
        exp = safetensors_io.load_file(os.path.join(d, "expected.safetensors"))
        units = torch_gisp.Units(json.load(open(os.path.join(ROOT, opts["model"], "config.json"))),
                                 opts["kv_group"], opts["protect_first_fraction"],
                                 opts["protect_last"])
        assert units.N == opts["units"]
        prev = np.full(units.N, -1)
        for k, s in enumerate(entry["steps"]):
            p = f"step_{k}."
            rec, sc, tau = exp[p + "pruned_at_step"], exp[p + "scores"], exp[p + "tau"][0]
            assert np.isfinite(tau) and int((rec >= 0).sum()) == s["pruned"] == exp[
                p + "pruned_units"][0]
            assert (sc[prev >= 0] == 0).all() and ((rec >= 0) == ((prev >= 0) | (
                (sc <= tau) & np.isfinite(sc)))).all()
            assert s["tau_gap_relative"] > 1e-4  # no near-tie within the C++ test's tolerance
            prev = rec


def test_fixtures_regenerate_within_tolerance(tmp_path):
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "fixtures",
                                                 "make_gisp_fixtures.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    with open(tmp_path / "manifest.json") as f:
        fresh = json.load(f)
    checked_in = _manifest()
    assert set(fresh["cases"]) == set(checked_in["cases"])
    problems = []
    for name in checked_in["cases"]:
        problems += fixture_compare.compare_dirs(str(tmp_path / name),
                                                 os.path.join(ROOT, "testdata", "gisp", name))
    assert not problems, "\n".join(problems)
