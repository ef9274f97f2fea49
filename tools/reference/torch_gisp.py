#!/usr/bin/python3
"""A test-only PyTorch implementation of GISP's scoring, normalization, ranking and schedule,
written from /work/shared/docs/method.md (sections 1-5) independently of gisp's C++ code. It is the
oracle of //gisp/prune:torch_gisp_parity_test through tools/fixtures/make_gisp_fixtures.py.

Everything runs in float64 on a TorchLlama (tools/reference/torch_llama.py). Masks are applied by
zeroing weights, as the authors' released code does: a pruned unit's rows/columns (and the q/k/v
bias entries of its rows) are zero during every later gradient pass.

Calibration data is a list of batches (input_ids [B,T] int64, targets [B,T] with -1 = not scored,
weights [B,T] float64). The weights already hold the objective's factors (lm: bs/(n * labelled
tokens of the batch); margin: +bs/(n+ * labelled) or -bs/(n- * labelled)), so
Gbar = grad of sum_b sum_t weights[b,t] * CE(logits[b,t], targets[b,t]).
"""
import math

import torch

try:
    from . import torch_llama
except ImportError:  # script-style import
    import torch_llama


class Units:
    """The unit pool, in gisp's record order: for each layer, its head units, then its channels.

    kind: "mha" (KV == H), "query-head" (GQA default) or "kv-group" (GQA option).
    """

    def __init__(self, config, kv_group=False, protect_first_fraction=0.1, protect_last=True):
        self.L = config["num_hidden_layers"]
        self.H = config["num_attention_heads"]
        self.KV = torch_llama.num_kv_heads_of(config)
        self.Dh = torch_llama.head_dim_of(config)
        self.D = config["hidden_size"]
        self.F = config["intermediate_size"]
        self.G = self.H // self.KV
        if self.H == self.KV:
            self.kind = "mha"
        else:
            self.kind = "kv-group" if kv_group else "query-head"
        self.heads = self.KV if self.kind == "kv-group" else self.H
        self.per_layer = self.heads + self.F
        self.N = self.L * self.per_layer
        first = math.floor(protect_first_fraction * self.L)
        self.protected = [l < first or (protect_last and l == self.L - 1) for l in range(self.L)]

    def layer_of(self, u):
        return u // self.per_layer

    def is_head(self, u):
        return u % self.per_layer < self.heads

    def is_protected(self, u):
        return self.protected[self.layer_of(u)]

    def elements(self, u):
        """The unit's weights as (module path in the layer, axis, indices); axis 0 = rows of the
        weight (and entries of its bias), axis 1 = columns."""
        i = u % self.per_layer
        if not self.is_head(u):
            c = [i - self.heads]
            return [("mlp.gate_proj", 0, c), ("mlp.up_proj", 0, c), ("mlp.down_proj", 1, c)]
        rows = lambda head: list(range(head * self.Dh, (head + 1) * self.Dh))
        if self.kind == "kv-group":  # KV head i and its query heads i*G .. i*G+G-1
            q = [r for h in range(i * self.G, (i + 1) * self.G) for r in rows(h)]
            kv = rows(i)
        else:
            q = rows(i)
            kv = rows(i) if self.kind == "mha" else []  # query-head units never touch K/V
        out = [("self_attn.q_proj", 0, q), ("self_attn.o_proj", 1, q)]
        if kv:
            out += [("self_attn.k_proj", 0, kv), ("self_attn.v_proj", 0, kv)]
        return out

    def divisor(self, u, normalization):
        """method.md 2.4: Dh for heads, Dc for channels."""
        if normalization == "none":
            return 1.0
        if self.is_head(u):
            blocks = 2 * self.G + 2 if self.kind == "kv-group" else 4
            return blocks * self.Dh * self.D
        if normalization == "paper":
            return 3 * self.D
        if normalization == "reference":
            return 3 * self.F
        raise ValueError(f"unknown normalization {normalization!r}")


def _module(model, l, path):
    m = model.model.layers[l]
    for part in path.split("."):
        m = getattr(m, part)
    return m


def apply_masks(model, units, pruned):
    """Zeroes the weights (and q/k/v bias entries) of every unit with pruned[u] true."""
    with torch.no_grad():
        for u in range(units.N):
            if not pruned[u]:
                continue
            for path, axis, idx in units.elements(u):
                lin = _module(model, units.layer_of(u), path)
                lin.weight.index_fill_(axis, torch.tensor(idx), 0.0)
                if axis == 0 and lin.bias is not None:
                    lin.bias.index_fill_(0, torch.tensor(idx), 0.0)


def gradient_pass(model, batches):
    """Accumulates Gbar into .grad of every parameter. Returns the calibration loss
    sum_b bs_b * meanNLL_b / sum_b bs_b over the batches whose weights are positive (all batches
    for lm; the correct candidates for margin)."""
    model.zero_grad(set_to_none=True)
    num = den = 0.0
    for ids, targets, weights in batches:
        logits = model(ids)
        nll = torch_llama.token_nll(logits, targets)  # [B, T], 0 where targets == -1
        (nll * weights).sum().backward()
        labelled = targets >= 0
        if (weights[labelled] > 0).all():
            bs = ids.shape[0]
            num += bs * float(nll.detach()[labelled].mean())
            den += bs
    return num / den if den else 0.0


def unit_scores(model, units, pruned, normalization):
    """(raw, normalized) scores [N] f64: sum over the unit's elements of |W * Gbar|, divided by
    the block constant. Pruned units score exactly 0, protected ones +inf."""
    raw = torch.zeros(units.N, dtype=torch.float64)
    norm = torch.zeros(units.N, dtype=torch.float64)
    for u in range(units.N):
        if units.is_protected(u):
            raw[u] = norm[u] = math.inf
            continue
        if pruned[u]:
            continue
        s = 0.0
        for path, axis, idx in units.elements(u):
            lin = _module(model, units.layer_of(u), path)
            importance = (lin.weight * lin.weight.grad).abs()  # after accumulating, per element
            s += float(importance.index_select(axis, torch.tensor(idx)).sum())
        raw[u] = s
        norm[u] = s / units.divisor(u, normalization)
    return raw, norm


def schedule(rho, n):
    """r_k = rho * k / (n - 1), k = 0..n-1; n = 1 is one-shot at rho."""
    return [rho] if n == 1 else [rho * k / (n - 1) for k in range(n)]


def threshold(scores, ratio):
    """(tau, k): k = N - floor(N (1 - r)) + 1 clamped to [1, N]; tau = k-th smallest score."""
    n = scores.numel()
    k = min(max(n - math.floor(n * (1 - ratio)) + 1, 1), n)
    return float(torch.kthvalue(scores, k).values), k


def decoder_sparsity(model):
    """1 - nonzero decoder-linear weights / all decoder-layer parameters (RMSNorm weights and
    biases only in the denominator). K/V of query-head units are never zeroed: they count as kept."""
    total = nonzero = 0
    for layer in model.model.layers:
        for name, p in layer.named_parameters():
            total += p.numel()
            if name.endswith("_proj.weight"):
                nonzero += int((p != 0).sum())
    return 1.0 - nonzero / total


def gap_above(scores, tau):
    """(absolute, relative) distance from tau to the next larger score; inf if there is none.
    A unit can only flip between two implementations when this gap is within their error."""
    above = scores[scores > tau]
    if above.numel() == 0 or not math.isfinite(float(above.min())):
        return math.inf, math.inf
    gap = float(above.min()) - tau
    return gap, gap / max(abs(tau), 1e-300)


def run(model, config, batches, rho, steps, normalization="reference", kv_group=False,
        protect_first_fraction=0.1, protect_last=True):
    """Runs the iterative schedule on `model` (modified in place). Returns (units, history):
    one dict per step with the pass's raw and normalized scores, tau, k, the record after the
    step (pruned_at_step, -1 = never), pruned count, sparsity, calibration loss and tau gaps."""
    units = Units(config, kv_group, protect_first_fraction, protect_last)
    pruned_at = [-1] * units.N
    history = []
    for k, r in enumerate(schedule(rho, steps)):
        pruned = [s >= 0 for s in pruned_at]
        apply_masks(model, units, pruned)
        loss = gradient_pass(model, batches)
        raw, norm = unit_scores(model, units, pruned, normalization)
        tau, kth = threshold(norm, r)
        if not math.isfinite(tau):
            raise ValueError(f"step {k}: ratio {r} reaches the protected units (tau = {tau})")
        for u in range(units.N):
            if pruned_at[u] < 0 and not units.is_protected(u) and float(norm[u]) <= tau:
                pruned_at[u] = k
        apply_masks(model, units, [s >= 0 for s in pruned_at])
        gap, rel_gap = gap_above(norm, tau)
        history.append({"ratio": r, "raw": raw, "scores": norm, "tau": tau, "k": kth,
                        "loss": loss, "pruned_at_step": list(pruned_at),
                        "pruned": sum(s >= 0 for s in pruned_at),
                        "sparsity": decoder_sparsity(model), "tau_gap": gap,
                        "tau_gap_relative": rel_gap})
    return units, history
