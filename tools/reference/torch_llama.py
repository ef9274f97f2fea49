#!/usr/bin/python3
"""An independent, readable PyTorch implementation of the HF Llama-family decoder.

This is the test oracle for gisp's C++ model (tools/fixtures/make_llama_fixtures.py) and the
PyTorch side of comparisons. It follows the conventions of HF transformers' LlamaForCausalLM,
MistralForCausalLM and Qwen2ForCausalLM (eager attention, no KV cache), and is cross-checked
against transformers itself by tools/fixtures/crosscheck_hf.py.

Runs on Debian's /usr/bin/python3 with torch 1.13 (CPU). Parameter names are the HF names, so
`state_dict()` round-trips with HF checkpoints:

    model.embed_tokens.weight                      [V, D]
    model.layers.{i}.input_layernorm.weight        [D]
    model.layers.{i}.self_attn.q_proj.weight       [H*Dh, D]   (+ .bias [H*Dh] with biases)
    model.layers.{i}.self_attn.k_proj.weight       [KV*Dh, D]  (+ .bias [KV*Dh])
    model.layers.{i}.self_attn.v_proj.weight       [KV*Dh, D]  (+ .bias [KV*Dh])
    model.layers.{i}.self_attn.o_proj.weight       [D, H*Dh]   (+ .bias [D], Llama attention_bias)
    model.layers.{i}.post_attention_layernorm.weight [D]
    model.layers.{i}.mlp.gate_proj.weight          [F, D]      (+ .bias [F], Llama mlp_bias)
    model.layers.{i}.mlp.up_proj.weight            [F, D]      (+ .bias [F], Llama mlp_bias)
    model.layers.{i}.mlp.down_proj.weight          [D, F]      (+ .bias [D], Llama mlp_bias)
    model.norm.weight                              [D]
    lm_head.weight                                 [V, D]      (absent when tie_word_embeddings)

Precision: every op runs in the model's dtype, except RMSNorm statistics, rotary cos/sin and the
attention softmax, which run in float32-or-better (float64 for a float64 model), as in HF. For
float16 on CPU, where torch 1.13 has no half GEMM or SiLU kernels, those ops compute in float32
and round the result to float16, i.e. what a GPU half GEMM with float32 accumulation returns.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

try:  # imported as tools.reference.torch_llama or with tools/reference on sys.path
    from . import safetensors_io
except ImportError:  # pragma: no cover - script-style import
    import safetensors_io

SUPPORTED_MODEL_TYPES = ("llama", "mistral", "qwen2")

_DTYPE_NAMES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
}
_SAFETENSORS_DTYPE = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.bfloat16: "BF16",
    torch.float16: "F16",
}


# ---------------------------------------------------------------------------------------------
# Config helpers
# ---------------------------------------------------------------------------------------------

def head_dim_of(config):
    """Explicit `head_dim` when present (Llama 3.x / Mistral-Nemo style), else hidden / heads."""
    hd = config.get("head_dim")
    if hd is None:
        hd = config["hidden_size"] // config["num_attention_heads"]
    return int(hd)


def num_kv_heads_of(config):
    kv = config.get("num_key_value_heads")
    return int(config["num_attention_heads"] if kv is None else kv)


def has_qkv_bias(config):
    """q/k/v projections carry biases for Qwen2 always, for Llama when attention_bias is set,
    for Mistral never (transformers hard-codes bias=False there)."""
    mt = config.get("model_type")
    return mt == "qwen2" or (mt == "llama" and bool(config.get("attention_bias", False)))


def has_o_bias(config):
    """transformers' LlamaAttention gives o_proj `bias=attention_bias` too; Qwen2's o_proj never
    has one (and Mistral has no biases)."""
    return config.get("model_type") == "llama" and bool(config.get("attention_bias", False))


def has_mlp_bias(config):
    """gate/up/down biases: Llama's mlp_bias (Qwen2 and Mistral MLPs never have biases)."""
    return config.get("model_type") == "llama" and bool(config.get("mlp_bias", False))


def is_tied(config):
    # HF's PretrainedConfig default is True; every Llama-family config states it explicitly.
    return bool(config.get("tie_word_embeddings", True))


def sliding_window_of(config):
    """Mistral restricts attention to the last `sliding_window` positions (None = unlimited)."""
    if config.get("model_type") == "mistral":
        w = config.get("sliding_window")
        return None if w is None else int(w)
    return None


def dtype_from_name(name):
    if isinstance(name, torch.dtype):
        return name
    if name not in _DTYPE_NAMES:
        raise ValueError(f"unknown dtype name {name!r}; expected one of {sorted(_DTYPE_NAMES)}")
    return _DTYPE_NAMES[name]


def dtype_name(dtype):
    for k, v in _DTYPE_NAMES.items():
        if v == dtype:
            return k
    raise ValueError(f"unsupported dtype {dtype}")


def validate_config(config):
    """Rejects configs whose semantics this oracle does not implement (rather than guessing)."""
    mt = config.get("model_type")
    if mt not in SUPPORTED_MODEL_TYPES:
        raise ValueError(f"config.json: model_type {mt!r} not in {SUPPORTED_MODEL_TYPES}")
    act = config.get("hidden_act", "silu")
    if act != "silu":
        raise ValueError(f"config.json: hidden_act {act!r} unsupported (only 'silu')")
    for key in ("attention_bias", "mlp_bias"):
        if not isinstance(config.get(key, False), bool):
            raise ValueError(f"config.json: {key} must be true or false, got {config[key]!r}")
    if mt == "qwen2" and config.get("use_sliding_window", False):
        raise ValueError("config.json: qwen2 use_sliding_window=true is unsupported")
    H, KV = int(config["num_attention_heads"]), num_kv_heads_of(config)
    if H % KV != 0:
        raise ValueError(f"config.json: num_attention_heads {H} not a multiple of "
                         f"num_key_value_heads {KV}")
    if head_dim_of(config) % 2 != 0:
        raise ValueError(f"config.json: head_dim {head_dim_of(config)} must be even for RoPE")
    rope_inv_freq(config)  # validates rope_scaling


# ---------------------------------------------------------------------------------------------
# Rotary embeddings
# ---------------------------------------------------------------------------------------------

def rope_inv_freq(config):
    """Inverse frequencies [Dh/2] in float64, with HF's rope_scaling applied.

    default:  inv_freq[i] = 1 / theta^(2i/Dh)
    linear:   inv_freq / factor              (positions are divided by factor)
    llama3:   Llama 3.1 frequency-dependent scaling: wavelengths shorter than
              original_max_position_embeddings / high_freq_factor are kept, longer than
              original_max_position_embeddings / low_freq_factor are divided by factor, and in
              between interpolated with smooth = (orig / wavelen - low) / (high - low):
              (1 - smooth) * inv_freq / factor + smooth * inv_freq.
    """
    dh = head_dim_of(config)
    theta = float(config.get("rope_theta", 10000.0))
    inv_freq = 1.0 / (theta ** (torch.arange(0, dh, 2, dtype=torch.float64) / dh))
    scaling = config.get("rope_scaling")
    if not scaling:
        return inv_freq
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind in (None, "default"):
        return inv_freq
    if kind == "linear":
        return inv_freq / float(scaling["factor"])
    if kind == "llama3":
        factor = float(scaling["factor"])
        low = float(scaling["low_freq_factor"])
        high = float(scaling["high_freq_factor"])
        orig = float(scaling["original_max_position_embeddings"])
        low_freq_wavelen = orig / low
        high_freq_wavelen = orig / high
        wavelen = 2.0 * math.pi / inv_freq
        smooth = (orig / wavelen - low) / (high - low)
        out = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen)
        return torch.where(medium, (1.0 - smooth) * inv_freq / factor + smooth * inv_freq, out)
    raise ValueError(f"config.json: rope_scaling type {kind!r} unsupported "
                     "(supported: default, linear, llama3)")


def rope_cos_sin(config, seq_len, dtype):
    """cos, sin [T, Dh] for positions 0..T-1, computed in float64, cast to `dtype`.

    Rotate-half layout: the frequency table is repeated, cos[t, j] = cos(t * inv_freq[j % Dh/2]).
    """
    inv_freq = rope_inv_freq(config)
    pos = torch.arange(seq_len, dtype=torch.float64)
    freqs = torch.outer(pos, inv_freq)  # [T, Dh/2]
    emb = torch.cat([freqs, freqs], dim=-1)  # [T, Dh]
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    """[..., Dh] -> [-x2, x1] where x1, x2 are the two halves of the last dimension."""
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(x, cos, sin):
    """x [B, heads, T, Dh]; cos/sin [T, Dh] (broadcast over batch and heads)."""
    return x * cos + rotate_half(x) * sin


# ---------------------------------------------------------------------------------------------
# Ops with a float16-on-CPU fallback
# ---------------------------------------------------------------------------------------------

def _needs_upcast(t):
    # torch 1.13 CPU has no float16 GEMM / SiLU kernels.
    return t.dtype == torch.float16 and t.device.type == "cpu"


def linear(x, weight, bias=None):
    """y = x W^T (+ b). x [..., in], weight [out, in], bias [out]."""
    if _needs_upcast(x):
        b = None if bias is None else bias.float()
        return F.linear(x.float(), weight.float(), b).to(x.dtype)
    return F.linear(x, weight, bias)


def matmul(a, b):
    if _needs_upcast(a):
        return torch.matmul(a.float(), b.float()).to(a.dtype)
    return torch.matmul(a, b)


def silu(x):
    if _needs_upcast(x):
        return F.silu(x.float()).to(x.dtype)
    return F.silu(x)


def _stat_dtype(dtype):
    """float32-or-better: the dtype for norms, softmax and the loss."""
    return torch.float64 if dtype == torch.float64 else torch.float32


# ---------------------------------------------------------------------------------------------
# Modules (attribute names give the HF parameter names)
# ---------------------------------------------------------------------------------------------

class RMSNorm(torch.nn.Module):
    def __init__(self, dim, eps, dtype):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dim, dtype=dtype))
        self.eps = float(eps)

    def forward(self, x):  # x [..., D]
        # Statistics in float32-or-better; the normalized value is cast back to the activation
        # dtype before the weight multiply, as HF's LlamaRMSNorm does.
        xs = x.to(_stat_dtype(x.dtype))
        xs = xs * torch.rsqrt(xs.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xs.to(x.dtype)


class _Linear(torch.nn.Module):
    """nn.Linear without its own init (weights come from TorchLlama.reset_parameters/loads)."""

    def __init__(self, in_features, out_features, bias, dtype):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = torch.nn.Parameter(torch.empty(out_features, dtype=dtype))
        else:
            self.bias = None

    def forward(self, x):
        return linear(x, self.weight, self.bias)


class Attention(torch.nn.Module):
    def __init__(self, config, dtype):
        super().__init__()
        d = int(config["hidden_size"])
        self.num_heads = int(config["num_attention_heads"])
        self.num_kv_heads = num_kv_heads_of(config)
        self.head_dim = head_dim_of(config)
        self.sliding_window = sliding_window_of(config)
        bias = has_qkv_bias(config)
        self.q_proj = _Linear(d, self.num_heads * self.head_dim, bias, dtype)
        self.k_proj = _Linear(d, self.num_kv_heads * self.head_dim, bias, dtype)
        self.v_proj = _Linear(d, self.num_kv_heads * self.head_dim, bias, dtype)
        self.o_proj = _Linear(self.num_heads * self.head_dim, d, has_o_bias(config), dtype)

    def forward(self, x, cos, sin):  # x [B, T, D]; cos/sin [T, Dh]
        B, T, _ = x.shape
        H, KV, Dh = self.num_heads, self.num_kv_heads, self.head_dim
        q = self.q_proj(x).view(B, T, H, Dh).transpose(1, 2)  # [B, H, T, Dh]
        k = self.k_proj(x).view(B, T, KV, Dh).transpose(1, 2)  # [B, KV, T, Dh]
        v = self.v_proj(x).view(B, T, KV, Dh).transpose(1, 2)  # [B, KV, T, Dh]
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        # GQA: query head h reads KV head h // (H / KV).
        rep = H // KV
        k = k.repeat_interleave(rep, dim=1)  # [B, H, T, Dh]
        v = v.repeat_interleave(rep, dim=1)
        scores = matmul(q, k.transpose(2, 3)) / math.sqrt(Dh)  # [B, H, T, T], model dtype
        scores = scores.to(_stat_dtype(x.dtype))
        i = torch.arange(T).view(T, 1)
        j = torch.arange(T).view(1, T)
        hidden = j > i  # causal: position i sees j <= i
        if self.sliding_window is not None:
            hidden = hidden | (j <= i - self.sliding_window)
        scores = scores.masked_fill(hidden, float("-inf"))
        probs = torch.softmax(scores, dim=-1).to(x.dtype)
        out = matmul(probs, v)  # [B, H, T, Dh]
        out = out.transpose(1, 2).reshape(B, T, H * Dh)
        return self.o_proj(out)


class MLP(torch.nn.Module):
    def __init__(self, config, dtype):
        super().__init__()
        d, f = int(config["hidden_size"]), int(config["intermediate_size"])
        bias = has_mlp_bias(config)
        self.gate_proj = _Linear(d, f, bias, dtype)
        self.up_proj = _Linear(d, f, bias, dtype)
        self.down_proj = _Linear(f, d, bias, dtype)

    def forward(self, x):  # SwiGLU: down(silu(gate(x)) * up(x))
        return self.down_proj(silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(torch.nn.Module):
    def __init__(self, config, dtype):
        super().__init__()
        d, eps = int(config["hidden_size"]), float(config.get("rms_norm_eps", 1e-6))
        self.input_layernorm = RMSNorm(d, eps, dtype)
        self.self_attn = Attention(config, dtype)
        self.post_attention_layernorm = RMSNorm(d, eps, dtype)
        self.mlp = MLP(config, dtype)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class _Backbone(torch.nn.Module):
    def __init__(self, config, dtype):
        super().__init__()
        d = int(config["hidden_size"])
        self.embed_tokens = torch.nn.Embedding(int(config["vocab_size"]), d, dtype=dtype)
        self.layers = torch.nn.ModuleList(
            [DecoderLayer(config, dtype) for _ in range(int(config["num_hidden_layers"]))])
        self.norm = RMSNorm(d, float(config.get("rms_norm_eps", 1e-6)), dtype)


class TorchLlama(torch.nn.Module):
    """Llama / Mistral / Qwen2 causal LM. `config` is an HF config.json dict."""

    def __init__(self, config, dtype=torch.float32):
        super().__init__()
        validate_config(config)
        self.config = dict(config)
        self.dtype = dtype
        self.tied = is_tied(config)
        self.model = _Backbone(config, dtype)
        if not self.tied:
            self.lm_head = _Linear(int(config["hidden_size"]), int(config["vocab_size"]), False,
                                   dtype)
        else:
            self.lm_head = None
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, generator=None):
        """HF-style init: N(0, initializer_range) for matrices, zero biases, unit norms."""
        std = float(self.config.get("initializer_range", 0.02))
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            elif name.endswith(".bias"):
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64) * std)

    def output_weight(self):
        """[V, D]: lm_head.weight, or the embedding matrix when tied."""
        return self.model.embed_tokens.weight if self.tied else self.lm_head.weight

    def hidden_states(self, input_ids):
        """input_ids [B, T] -> final-normed hidden states [B, T, D]."""
        _, T = input_ids.shape
        cos, sin = rope_cos_sin(self.config, T, self.dtype)
        x = self.model.embed_tokens(input_ids)
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        return self.model.norm(x)

    def forward(self, input_ids):
        """input_ids LongTensor [B, T] -> logits [B, T, V] in the model dtype."""
        return linear(self.hidden_states(input_ids), self.output_weight())


# ---------------------------------------------------------------------------------------------
# Loss
# ---------------------------------------------------------------------------------------------

def shifted_targets(input_ids, mask=None):
    """Next-token labels: targets[b, t] = input_ids[b, t+1]; the last position is -1.

    mask: optional bool [B, T] aligned with the *targets*: targets[b, t] becomes -1 wherever
    mask[b, t] is False, i.e. mask[b, t] says whether the prediction made at position t is
    scored. (For an answer-only loss over answer tokens a[b, t], pass mask[b, t] = a[b, t+1].)
    """
    targets = torch.full_like(input_ids, -1)
    targets[:, :-1] = input_ids[:, 1:]
    if mask is not None:
        targets = torch.where(mask.to(torch.bool), targets, torch.full_like(targets, -1))
    return targets


def token_nll(logits, targets):
    """Per-token negative log-likelihood [B, T] in float32-or-better, 0 where targets == -1."""
    lf = logits.to(_stat_dtype(logits.dtype))
    logp = torch.log_softmax(lf, dim=-1)
    valid = targets != -1
    safe = torch.where(valid, targets, torch.zeros_like(targets))
    nll = -logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return torch.where(valid, nll, torch.zeros_like(nll))


def loss_fn(logits, targets):
    """Mean cross-entropy over positions with targets != -1 (targets already shifted).

    Computed in float32-or-better. All positions ignored gives NaN (0/0), as torch does.
    """
    V = logits.shape[-1]
    lf = logits.to(_stat_dtype(logits.dtype)).reshape(-1, V)
    return F.cross_entropy(lf, targets.reshape(-1).long(), ignore_index=-1, reduction="mean")


# ---------------------------------------------------------------------------------------------
# HF directory I/O
# ---------------------------------------------------------------------------------------------

def _read_checkpoint(path):
    """All tensors of an HF dir (single file or sharded) as {name: float numpy array}."""
    index = os.path.join(path, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        tensors = {}
        for shard in sorted(set(weight_map.values())):
            part = safetensors_io.load_file(os.path.join(path, shard))
            for name, arr in part.items():
                if weight_map.get(name) != shard:
                    raise ValueError(f"{path}/{shard}: tensor {name!r} not mapped to this shard "
                                     "in model.safetensors.index.json")
                tensors[name] = arr
        missing = set(weight_map) - set(tensors)
        if missing:
            raise ValueError(f"{index}: tensors {sorted(missing)} listed but not in any shard")
        return tensors
    single = os.path.join(path, "model.safetensors")
    if not os.path.exists(single):
        raise FileNotFoundError(f"{path}: neither model.safetensors nor "
                                "model.safetensors.index.json")
    return safetensors_io.load_file(single)


def load_hf_dir(path, dtype=torch.float32):
    """Loads config.json + weights from an HF model directory.

    Weights are widened exactly from their stored dtype (bf16/f16/f32) to float64 and then
    converted to `dtype`. Returns (model, config).
    """
    dtype = dtype_from_name(dtype)
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    model = TorchLlama(config, dtype=dtype)
    tensors = _read_checkpoint(path)
    if model.tied:
        tensors.pop("lm_head.weight", None)  # some tied checkpoints store a copy
    own = dict(model.named_parameters())
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing or unexpected:
        raise ValueError(f"{path}: missing tensors {missing}, unexpected tensors {unexpected}")
    with torch.no_grad():
        for name, p in own.items():
            arr = tensors[name]
            if tuple(arr.shape) != tuple(p.shape):
                raise ValueError(f"{path}: tensor {name!r} has shape {list(arr.shape)}, config "
                                 f"implies {list(p.shape)}")
            p.copy_(torch.from_numpy(np.asarray(arr, dtype=np.float64)).to(dtype))
    return model, config


def _storage_arrays(model, storage_dtype):
    """{name: numpy array in the stored representation} and {name: safetensors dtype}."""
    st = _SAFETENSORS_DTYPE[storage_dtype]
    arrays, dtypes = {}, {}
    for name, p in model.named_parameters():
        t = p.detach().to(storage_dtype).contiguous()
        if storage_dtype == torch.bfloat16:
            arr = t.view(torch.int16).numpy().view(np.uint16)  # raw bits, torch rounded (RNE)
        else:
            arr = t.numpy()
        arrays[name] = arr
        dtypes[name] = st
    return arrays, dtypes


def save_hf_dir(model, config, path, storage_dtype, max_shard_bytes=None):
    """Writes config.json and model.safetensors (or shards + model.safetensors.index.json).

    storage_dtype: torch dtype or name ("float32", "bfloat16", "float16"). config.json's
    torch_dtype is set to it. With max_shard_bytes, tensors are packed greedily in parameter order
    into files model-0000i-of-0000n.safetensors of at most that many data bytes (a tensor larger
    than the limit gets a shard of its own). Returns the list of files written.
    """
    storage_dtype = dtype_from_name(storage_dtype)
    os.makedirs(path, exist_ok=True)
    config = dict(config)
    config["torch_dtype"] = dtype_name(storage_dtype)
    arrays, dtypes = _storage_arrays(model, storage_dtype)
    written = []

    def write_json(name, obj):
        tmp = os.path.join(path, name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, os.path.join(path, name))
        written.append(name)

    write_json("config.json", config)
    names = list(arrays)  # parameter order
    sizes = {n: arrays[n].nbytes for n in names}
    if max_shard_bytes is None:
        safetensors_io.save_file(arrays, os.path.join(path, "model.safetensors"), dtypes=dtypes,
                                 metadata={"format": "pt"})
        written.append("model.safetensors")
        return written
    groups, current, current_size = [], [], 0
    for n in names:
        if current and current_size + sizes[n] > max_shard_bytes:
            groups.append(current)
            current, current_size = [], 0
        current.append(n)
        current_size += sizes[n]
    if current:
        groups.append(current)
    weight_map = {}
    for i, group in enumerate(groups):
        fname = f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors"
        safetensors_io.save_file({n: arrays[n] for n in group}, os.path.join(path, fname),
                                 dtypes={n: dtypes[n] for n in group}, metadata={"format": "pt"})
        written.append(fname)
        for n in group:
            weight_map[n] = fname
    write_json("model.safetensors.index.json",
               {"metadata": {"total_size": int(sum(sizes.values()))}, "weight_map": weight_map})
    return written
