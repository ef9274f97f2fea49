#!/usr/bin/python3
"""A test-only PyTorch implementation of the baseline pruning methods gisp offers next to GISP
(docs/baselines.md; method.md section 10), written from those descriptions independently of gisp's
C++ code. It is the oracle of //gisp/prune:baselines_parity_test through
tools/fixtures/make_baseline_fixtures.py.

Everything runs in float64 on a TorchLlama, on the dense model; units, protection and the
sparsity measure are torch_gisp's. Methods:

  oneshot     GISP's normalized |W * Gbar| scores of the dense model, one global ranking
  llm-pruner  the raw |W * Gbar| unit sums, the same share of units in every unprotected layer
  wanda-sp    sum over the unit's o_proj / down_proj input columns j of ||X_j||_2 * sum_i |W_ij|
  magnitude   the L2 norm of all the unit's weights
  random      SplitMix64(seed) draws in [0, 1), one per unit in unit order
  flap        FLAP (An et al., AAAI 2024) with the authors' defaults (metric WIFV, structure
              AL-AM): per o_proj / down_proj input column j, the sample variance of X_j times
              ||W_:,j||^2, squared for o_proj; standardized per layer and module (torch.std);
              a head unit the mean over its o_proj columns; one global ranking. Its bias
              compensation: per layer, W[:, pruned] @ mean(X)[pruned] for o_proj and down_proj
              (flap_deltas).

Activation statistics count, per sequence, the positions up to and including its last labelled
one (right padding excluded).
"""
import math

import torch

try:
    from . import torch_gisp
except ImportError:  # script-style import
    import torch_gisp

LOCAL = {"wanda-sp", "llm-pruner", "magnitude", "random"}


def _layer(model, l):
    return model.model.layers[l]


def activation_norms(model, batches):
    """Per layer: (||X_j|| over o_proj input columns [H*Dh], ||X_j|| over down_proj input columns
    [F]), float64, over the counted positions of every batch."""
    L = len(model.model.layers)
    sums = [[None, None] for _ in range(L)]
    counted = {}

    def hook(l, which):
        def fn(_module, inputs):
            x = inputs[0].detach().to(torch.float64)  # [B, T, C]
            sq = (x * x * counted["mask"].unsqueeze(-1)).sum(dim=(0, 1))
            sums[l][which] = sq if sums[l][which] is None else sums[l][which] + sq
        return fn

    handles = []
    for l in range(L):
        handles.append(_layer(model, l).self_attn.o_proj.register_forward_pre_hook(hook(l, 0)))
        handles.append(_layer(model, l).mlp.down_proj.register_forward_pre_hook(hook(l, 1)))
    try:
        with torch.no_grad():
            for ids, targets, _ in batches:
                B, T = ids.shape
                mask = torch.zeros(B, T, dtype=torch.float64)
                for b in range(B):
                    labelled = (targets[b] >= 0).nonzero()
                    if labelled.numel():
                        mask[b, :int(labelled.max()) + 1] = 1.0
                counted["mask"] = mask
                model(ids)
    finally:
        for h in handles:
            h.remove()
    return [(s[0].sqrt(), s[1].sqrt()) for s in sums]


def activation_rows(model, batches):
    """Per layer: (the counted rows of the o_proj input [n, H*Dh], of the down_proj input [n, F]),
    float64. Keeps every row, so mean and variance below are computed directly (not from running
    sums as gisp does)."""
    L = len(model.model.layers)
    rows = [[[], []] for _ in range(L)]
    counted = {}

    def hook(l, which):
        def fn(_module, inputs):
            x = inputs[0].detach().to(torch.float64)  # [B, T, C]
            rows[l][which].append(x[counted["mask"]])
        return fn

    handles = []
    for l in range(L):
        handles.append(_layer(model, l).self_attn.o_proj.register_forward_pre_hook(hook(l, 0)))
        handles.append(_layer(model, l).mlp.down_proj.register_forward_pre_hook(hook(l, 1)))
    try:
        with torch.no_grad():
            for ids, targets, _ in batches:
                B, T = ids.shape
                mask = torch.zeros(B, T, dtype=torch.bool)
                for b in range(B):
                    labelled = (targets[b] >= 0).nonzero()
                    if labelled.numel():
                        mask[b, :int(labelled.max()) + 1] = True
                counted["mask"] = mask
                model(ids)
    finally:
        for h in handles:
            h.remove()
    return [(torch.cat(r[0]), torch.cat(r[1])) for r in rows]


def _standardize(x):
    """(x - mean) / std over all of x, std unbiased; all-equal values give 0."""
    sd = x.std(unbiased=True)
    return torch.zeros_like(x) if float(sd) == 0.0 else (x - x.mean()) / sd


def flap_scores(model, units, batches):
    """(scores [N], means [(o [H*Dh], down [F]) per layer], rms [(o, down) per layer])."""
    acts = activation_rows(model, batches)
    scores = torch.zeros(units.N, dtype=torch.float64)
    for l in range(units.L):
        if units.protected[l]:
            scores[l * units.per_layer:(l + 1) * units.per_layer] = math.inf
            continue
        xo, xd = acts[l]
        wo = _layer(model, l).self_attn.o_proj.weight.detach().to(torch.float64)
        wd = _layer(model, l).mlp.down_proj.weight.detach().to(torch.float64)
        zo = _standardize((xo.var(dim=0, unbiased=True) * wo.pow(2).sum(dim=0)) ** 2)
        zd = _standardize(xd.var(dim=0, unbiased=True) * wd.pow(2).sum(dim=0))
        base = l * units.per_layer
        for h in range(units.heads):
            scores[base + h] = zo[torch.tensor(_head_columns(units, base + h))].mean()
        scores[base + units.heads:base + units.per_layer] = zd
    means = [(xo.mean(dim=0), xd.mean(dim=0)) for xo, xd in acts]
    rms = [(xo.pow(2).mean(dim=0).sqrt(), xd.pow(2).mean(dim=0).sqrt()) for xo, xd in acts]
    return scores, means, rms


def flap_deltas(model, units, means, pruned, rms=None):
    """FLAP's bias compensation for the pruned set `pruned` [N]: per layer (o_delta [D],
    down_delta [D]) = W[:, pruned columns] @ mean[pruned columns]; with `rms`, also the scale
    sum_j |W[:, j]| * rms_j over the same columns (for tolerances)."""
    out, scale = [], []
    for l in range(units.L):
        o_cols, d_cols = [], []
        for u in range(l * units.per_layer, (l + 1) * units.per_layer):
            if not pruned[u]:
                continue
            if units.is_head(u):
                o_cols += _head_columns(units, u)
            else:
                d_cols.append(u % units.per_layer - units.heads)
        wo = _layer(model, l).self_attn.o_proj.weight.detach().to(torch.float64)
        wd = _layer(model, l).mlp.down_proj.weight.detach().to(torch.float64)
        oc, dc = torch.tensor(o_cols, dtype=torch.long), torch.tensor(d_cols, dtype=torch.long)
        out.append((wo[:, oc] @ means[l][0][oc], wd[:, dc] @ means[l][1][dc]))
        if rms is not None:
            scale.append((wo[:, oc].abs() @ rms[l][0][oc], wd[:, dc].abs() @ rms[l][1][dc]))
    return (out, scale) if rms is not None else out


def _head_columns(units, u):
    """The o_proj input columns (= q rows) of head unit u."""
    return [idx for path, axis, idx in units.elements(u) if path == "self_attn.o_proj"][0]


def wanda_sp_scores(model, units, batches):
    norms = activation_norms(model, batches)
    scores = torch.zeros(units.N, dtype=torch.float64)
    for u in range(units.N):
        if units.is_protected(u):
            scores[u] = math.inf
            continue
        l = units.layer_of(u)
        xo, xd = norms[l]
        if units.is_head(u):
            w = _layer(model, l).self_attn.o_proj.weight.detach()
            cols = torch.tensor(_head_columns(units, u))
            scores[u] = float((w[:, cols].abs() * xo[cols]).sum())
        else:
            c = u % units.per_layer - units.heads
            w = _layer(model, l).mlp.down_proj.weight.detach()
            scores[u] = float(w[:, c].abs().sum() * xd[c])
    return scores


def magnitude_scores(model, units):
    scores = torch.zeros(units.N, dtype=torch.float64)
    for u in range(units.N):
        if units.is_protected(u):
            scores[u] = math.inf
            continue
        sq = 0.0
        for path, axis, idx in units.elements(u):
            w = torch_gisp._module(model, units.layer_of(u), path).weight.detach()
            sq += float(w.index_select(axis, torch.tensor(idx)).pow(2).sum())
        scores[u] = math.sqrt(sq)
    return scores


def splitmix64_uniform(seed, n):
    """n draws in [0, 1) of SplitMix64 seeded with `seed` (top 53 bits / 2^53)."""
    mask = (1 << 64) - 1
    state = seed & mask
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z = z ^ (z >> 31)
        out.append((z >> 11) * 2.0 ** -53)
    return out


def random_scores(units, seed):
    draws = splitmix64_uniform(seed, units.N)
    return torch.tensor([math.inf if units.is_protected(u) else draws[u] for u in range(units.N)],
                        dtype=torch.float64)


def taylor_scores(model, units, batches, normalization):
    """(raw, normalized) |W * Gbar| unit sums of the dense model, and the calibration loss."""
    loss = torch_gisp.gradient_pass(model, batches)
    raw, norm = torch_gisp.unit_scores(model, units, [False] * units.N, normalization)
    return raw, norm, loss


def scores_of(method, model, config, units, batches, normalization="reference", seed=0):
    """The method's unit scores [N] (float64; protected +inf)."""
    if method in ("oneshot", "llm-pruner"):
        raw, norm, _ = taylor_scores(model, units, batches, normalization)
        return norm if method == "oneshot" else raw
    if method == "wanda-sp":
        return wanda_sp_scores(model, units, batches)
    if method == "magnitude":
        return magnitude_scores(model, units)
    if method == "random":
        return random_scores(units, seed)
    if method == "flap":
        return flap_scores(model, units, batches)[0]
    raise ValueError(f"unknown method {method!r}")


def unit_weights(model, units):
    """Nonzero decoder-linear weights per unit, the weights always kept (K/V under query-head
    units) and all decoder-layer parameters: the terms of torch_gisp.decoder_sparsity."""
    per_unit = []
    for u in range(units.N):
        n = 0
        for path, axis, idx in units.elements(u):
            w = torch_gisp._module(model, units.layer_of(u), path).weight.detach()
            n += int((w.index_select(axis, torch.tensor(idx)) != 0).sum())
        per_unit.append(n)
    total = kept = 0
    for layer in model.model.layers:
        for name, p in layer.named_parameters():
            total += p.numel()
            if units.kind == "query-head" and name in ("self_attn.k_proj.weight",
                                                       "self_attn.v_proj.weight"):
                kept += int((p != 0).sum())
    return per_unit, kept, total


def sparsity_of(pruned, per_unit, kept, total):
    nonzero = kept + sum(n for n, p in zip(per_unit, pruned) if not p)
    return 1.0 - nonzero / total


def candidate_sets(units, scores, local):
    """Every selectable pruned set, in order of growing size (each contains the previous)."""
    sets = []
    if local:
        # One ratio q per layer: floor(q * n + 1e-9) lowest of each kind, q over a / heads, b / F.
        qs = sorted({0.0} | {a / units.heads for a in range(1, units.heads + 1)}
                    | {b / units.F for b in range(1, units.F + 1)})
        for q in qs:
            pruned = [False] * units.N
            for l in range(units.L):
                if units.protected[l]:
                    continue
                base = l * units.per_layer
                for first, n in ((base, units.heads), (base + units.heads, units.F)):
                    ids = sorted(range(first, first + n), key=lambda u: (float(scores[u]), u))
                    for u in ids[:min(n, math.floor(q * n + 1e-9))]:
                        pruned[u] = True
            sets.append((q, pruned))
        return sets
    open_units = sorted((u for u in range(units.N) if not units.is_protected(u)),
                        key=lambda u: (float(scores[u]), u))
    sets.append((0.0, [False] * units.N))
    for k in range(1, len(open_units) + 1):
        tau = float(scores[open_units[k - 1]])
        sets.append((tau, [(not units.is_protected(u)) and float(scores[u]) <= tau
                           for u in range(units.N)]))
    return sets


def select_targets(units, scores, local, targets, weights):
    """For each target (ascending), the selectable set whose sparsity is nearest (the smaller on
    a tie), never below the previous choice. Returns (pruned_at_step [N], sparsities)."""
    per_unit, kept, total = weights
    sets = [(p, pr, sparsity_of(pr, per_unit, kept, total))
            for p, pr in candidate_sets(units, scores, local)]
    pruned_at = [-1] * units.N
    sparsities = []
    first = 0
    for k, t in enumerate(targets):
        best = None
        for i in range(first, len(sets)):
            if best is None or abs(sets[i][2] - t) < abs(sets[best][2] - t):
                best = i
        first = best
        for u, p in enumerate(sets[best][1]):
            if p and pruned_at[u] < 0:
                pruned_at[u] = k
        sparsities.append(sets[best][2])
    return pruned_at, sparsities


def run(method, model, config, batches, targets, normalization="reference", kv_group=False,
        protect_first_fraction=0.1, protect_last=True, seed=0):
    """Scores the dense `model` with `method` and selects every target. Returns (units, scores,
    pruned_at_step, sparsities)."""
    units = torch_gisp.Units(config, kv_group, protect_first_fraction, protect_last)
    scores = scores_of(method, model, config, units, batches, normalization, seed)
    weights = unit_weights(model, units)
    pruned_at, sparsities = select_targets(units, scores, method in LOCAL, sorted(set(targets)),
                                           weights)
    return units, scores, pruned_at, sparsities
