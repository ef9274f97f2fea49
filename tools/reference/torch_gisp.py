#!/usr/bin/python3
"""A test-only PyTorch implementation of GISP's scoring, normalization, ranking and schedule,
written from ../shared/docs/method.md (sections 1-5) independently of gisp's C++ code. It is the
oracle of //gisp/prune:torch_gisp_parity_test through tools/fixtures/make_gisp_fixtures.py.

Everything runs in float64 on a TorchLlama (tools/reference/torch_llama.py). Masks are applied
by zeroing weights, as the authors' released code does.
"""
import math

import torch

try:
    from . import torch_llama
except ImportError:  # script-style import
    import torch_llama


class Units:
    """The unit pool: per layer, head units then channel units (gisp's record order)."""

    def __init__(self, config, kv_group, protect_first_fraction, protect_last):
        self.L = config["num_hidden_layers"]
        self.H = config["num_attention_heads"]
        self.KV = torch_llama.num_kv_heads_of(config)
        self.Dh = torch_llama.head_dim_of(config)
        self.D = config["hidden_size"]
        self.F = config["intermediate_size"]
        self.mha = self.H == self.KV
        self.kv_group = kv_group and not self.mha
        self.G = self.H // self.KV
        self.heads = self.KV if self.kv_group else self.H
        self.per_layer = self.heads + self.F
        self.N = self.L * self.per_layer
        first = math.floor(protect_first_fraction * self.L)
        self.protected = [l < first or (protect_last and l == self.L - 1) for l in range(self.L)]

    def layer_of(self, u):
        return u // self.per_layer

    def is_head(self, u):
        return u % self.per_layer < self.heads

    # Row/column index sets of a unit: which rows of q/k/v (and o columns) it owns.
    def head_rows(self, h):
        """(q rows, kv rows) of head unit h."""
        dh = self.Dh
        if self.mha:
            rows = list(range(h * dh, (h + 1) * dh))
            return rows, rows
        if self.kv_group:
            q = [r for g in range(self.G) for r in range((h * self.G + g) * dh, (h * self.G + g + 1) * dh)]
            return q, list(range(h * dh, (h + 1) * dh))
        return list(range(h * dh, (h + 1) * dh)), []  # query head: K/V never pruned


def layer_modules(model, l):
    layer = model.model.layers[l]
    return layer.self_attn, layer.mlp


def apply_masks(model, units, pruned):
    """Zeroes every pruned unit's rows and columns (method.md section 3)."""
    with torch.no_grad():
        for u in range(units.N):
            if not pruned[u]:
                continue
            attn, mlp = layer_modules(model, units.layer_of(u))
            idx = u % units.per_layer
            if units.is_head(u):
                q, kv = units.head_rows(idx)
                attn.q_proj.weight[q] = 0
                attn.o_proj.weight[:, q] = 0
                if attn.q_proj.bias is not None:
                    attn.q_proj.bias[q] = 0
                for proj in (attn.k_proj, attn.v_proj):
                    if kv:
                        proj.weight[kv] = 0
                        if proj.bias is not None:
                            proj.bias[kv] = 0
            else:
                c = idx - units.heads
                mlp.gate_proj.weight[c] = 0
                mlp.up_proj.weight[c] = 0
                mlp.down_proj.weight[:, c] = 0


def gradient_pass(model, batches):
    """Gbar: gradient of sum_b sum_t w[b,t] * CE_t (weights hold the 1/n factors) and the
    calibration loss sum_b bs_b * meanNLL_b / sum_b bs_b over batches with positive weights."""
    model.zero_grad()
    num = den = 0.0
    for ids, targets, weights in batches:
        logits = model(ids)
        mask = targets >= 0
        nll = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.clamp(min=0).reshape(-1),
            reduction="none").reshape(targets.shape)
        (nll * weights * mask).sum().backward()
        if (weights[mask] > 0).all():
            bs = ids.shape[0]
            num += bs * float(nll[mask].mean())
            den += bs
    return num / den if den else 0.0


def unit_scores(model, units, pruned, normalization):
    """(raw, normalized) |W * Gbar| sums per unit; pruned units 0, protected +inf."""
    raw = torch.zeros(units.N, dtype=torch.float64)
    for u in range(units.N):
        l = units.layer_of(u)
        if units.protected[l]:
            raw[u] = math.inf
            continue
        if pruned[u]:
            continue
        attn, mlp = layer_modules(model, l)
        imp = lambda p: (p.weight * p.weight.grad).abs()
        idx = u % units.per_layer
        if units.is_head(u):
            q, kv = units.head_rows(idx)
            s = imp(attn.q_proj)[q].sum() + imp(attn.o_proj)[:, q].sum()
            if kv:
                s = s + imp(attn.k_proj)[kv].sum() + imp(attn.v_proj)[kv].sum()
        else:
            c = idx - units.heads
            s = imp(mlp.gate_proj)[c].sum() + imp(mlp.up_proj)[c].sum() + imp(mlp.down_proj)[:, c].sum()
        raw[u] = float(s)
    head_div = channel_div = 1.0
    if normalization != "none":
        head_div = ((2 * units.G + 2) if units.kv_group else 4) * units.Dh * units.D
        channel_div = 3 * (units.D if normalization == "paper" else units.F)
    norm = raw.clone()
    for u in range(units.N):
        if math.isfinite(float(raw[u])):
            norm[u] = raw[u] / (head_div if units.is_head(u) else channel_div)
    return raw, norm


def schedule(rho, n):
    return [rho] if n == 1 else [rho * k / (n - 1) for k in range(n)]


def threshold(scores, ratio):
    """k = N - floor(N (1 - r)) + 1; tau = the k-th smallest score (1-based)."""
    n = scores.numel()
    k = min(max(n - math.floor(n * (1 - ratio)) + 1, 1), n)
    return float(torch.kthvalue(scores, k).values), k


def decoder_sparsity(model, units, config):
    """1 - nonzero decoder-linear weights / all decoder-layer parameters (method.md 5); K/V of
    query-head units are never zeroed, so they count as kept."""
    total = nonzero = 0
    for layer in model.model.layers:
        for name, p in layer.named_parameters():
            total += p.numel()
            if name.endswith("proj.weight"):
                nonzero += int((p != 0).sum())
    return 1.0 - nonzero / total


def run(model, config, batches, rho, steps, normalization="reference", kv_group=False,
        protect_first_fraction=0.1, protect_last=True):
    """Runs GISP; returns per-step dicts and the final pruned_at_step list."""
    units = Units(config, kv_group, protect_first_fraction, protect_last)
    pruned_at = [-1] * units.N
    history = []
    for k, r in enumerate(schedule(rho, steps)):
        pruned = [s >= 0 for s in pruned_at]
        apply_masks(model, units, pruned)
        loss = gradient_pass(model, batches)
        raw, norm = unit_scores(model, units, pruned, normalization)
        tau, kth = threshold(norm, r)
        for u in range(units.N):
            if pruned_at[u] < 0 and not units.protected[units.layer_of(u)] and float(norm[u]) <= tau:
                pruned_at[u] = k
        apply_masks(model, units, [s >= 0 for s in pruned_at])
        finite = norm[torch.isfinite(norm)]
        above = finite[finite > tau]
        gap = (float(above.min()) - tau) / max(abs(tau), 1e-30) if above.numel() else math.inf
        history.append({"raw": raw, "scores": norm, "tau": tau, "k": kth, "loss": loss,
                        "pruned_at_step": list(pruned_at),
                        "sparsity": decoder_sparsity(model, units, config), "tau_gap": gap})
    return units, history
