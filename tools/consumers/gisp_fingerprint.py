"""Recomputes gisp's model fingerprint (record format_version 2) without gisp: XXH3-128 (PyPI
xxhash) over the byte stream docs/formats.md defines ("Fingerprints"), read from a Hugging Face
Llama-family checkpoint directory (config.json and model.safetensors, or a sharded
model.safetensors.index.json). Written from the documentation, not from gisp's code, so it checks
that the documentation is enough.

    .consumers/venv/bin/python tools/consumers/gisp_fingerprint.py MODEL_DIR

prints the 32 hex digits a gisp record of that model carries in model.fingerprint.
Covers the config.json fields a Llama/Mistral/Qwen2 checkpoint uses (docs/formats.md lists them
with their defaults)."""
import json
import pathlib
import struct
import sys

import numpy as np
import xxhash

MODEL_TAG = b"gisp.model.v2"
LAYER_SLOTS = (  # (suffix, bias group: None, "qkv", "o" or "mlp"), each bias after its weight
    ("input_layernorm.weight", None),
    ("self_attn.q_proj.weight", None),
    ("self_attn.q_proj.bias", "qkv"),
    ("self_attn.k_proj.weight", None),
    ("self_attn.k_proj.bias", "qkv"),
    ("self_attn.v_proj.weight", None),
    ("self_attn.v_proj.bias", "qkv"),
    ("self_attn.o_proj.weight", None),
    ("self_attn.o_proj.bias", "o"),
    ("post_attention_layernorm.weight", None),
    ("mlp.gate_proj.weight", None),
    ("mlp.gate_proj.bias", "mlp"),
    ("mlp.up_proj.weight", None),
    ("mlp.up_proj.bias", "mlp"),
    ("mlp.down_proj.weight", None),
    ("mlp.down_proj.bias", "mlp"),
)


def i64(v):
    return struct.pack("<q", int(v))


def f64(v):
    return struct.pack("<d", float(v))


def text(s):
    b = s.encode("utf-8")
    return i64(len(b)) + b


def config_fields(cfg):
    """The config part of the stream, with gisp's defaults for absent fields."""
    heads = cfg["num_attention_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // heads
    params = cfg.get("rope_parameters") if isinstance(cfg.get("rope_parameters"), dict) else None
    theta = cfg.get("rope_theta", 10000.0)
    scaling = cfg.get("rope_scaling")
    if scaling is None and params is not None:
        theta = params.get("rope_theta", theta)
        scaling = params
    rope = {"type": "none", "factor": 1.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192}
    if scaling is not None:
        kind = scaling.get("rope_type") or scaling.get("type")
        if kind in ("linear", "llama3"):
            rope["type"] = kind
            rope["factor"] = scaling["factor"]
        if kind == "llama3":
            for key in ("low_freq_factor", "high_freq_factor", "original_max_position_embeddings"):
                rope[key] = scaling[key]
    model_type = cfg.get("model_type", "llama")
    bias = {"qwen2": True, "mistral": False}.get(model_type, cfg.get("attention_bias", False))
    return b"".join([
        i64(cfg["vocab_size"]), i64(cfg["hidden_size"]), i64(cfg["num_hidden_layers"]),
        i64(heads), i64(cfg.get("num_key_value_heads", heads)), i64(head_dim),
        i64(cfg["intermediate_size"]),
        f64(cfg.get("rms_norm_eps", 1e-6)), f64(theta),
        text(rope["type"]), f64(rope["factor"]), f64(rope["low_freq_factor"]),
        f64(rope["high_freq_factor"]), i64(rope["original_max_position_embeddings"]),
        i64(1 if cfg.get("tie_word_embeddings", False) else 0), i64(1 if bias else 0),
    ]), bias


class SafeTensors:
    """Tensors of one or more .safetensors files, by name, as little-endian f32 arrays."""

    def __init__(self, model_dir):
        d = pathlib.Path(model_dir)
        index = d / "model.safetensors.index.json"
        files = ({d / f for f in json.loads(index.read_text())["weight_map"].values()}
                 if index.exists() else {d / "model.safetensors"})
        self.where = {}
        for path in sorted(files):
            raw = path.read_bytes()
            (n,) = struct.unpack("<Q", raw[:8])
            header = json.loads(raw[8:8 + n])
            for name, info in header.items():
                if name != "__metadata__":
                    self.where[name] = (raw, 8 + n, info)

    def f32(self, name):
        raw, base, info = self.where[name]
        begin, end = info["data_offsets"]
        buf = raw[base + begin:base + end]
        dtype = info["dtype"]
        if dtype == "F32":
            a = np.frombuffer(buf, dtype="<f4")
        elif dtype == "F16":
            a = np.frombuffer(buf, dtype="<f2").astype("<f4")  # exact
        elif dtype == "BF16":  # the upper 16 bits of an f32: exact
            a = (np.frombuffer(buf, dtype="<u2").astype("<u4") << 16).view("<f4")
        else:
            raise ValueError(f"{name}: dtype {dtype} is not a float dtype gisp loads")
        return a, list(info["shape"])


def model_fingerprint(model_dir):
    cfg = json.loads((pathlib.Path(model_dir) / "config.json").read_text())
    fields, bias = config_fields(cfg)
    family = cfg.get("model_type", "llama")
    if family == "gisp_sliced":
        family = cfg.get("gisp_base_model_type", "llama")
    llama = family == "llama"
    # transformers' Llama: attention_bias gives q/k/v and o_proj biases, mlp_bias gate/up/down.
    groups = {None: True, "qkv": bias, "o": bias and llama,
              "mlp": llama and bool(cfg.get("mlp_bias", False))}
    names = ["model.embed_tokens.weight"]
    for layer in range(cfg["num_hidden_layers"]):
        names += [f"model.layers.{layer}.{s}" for s, group in LAYER_SLOTS if groups[group]]
    names.append("model.norm.weight")
    if not cfg.get("tie_word_embeddings", False):
        names.append("lm_head.weight")
    tensors = SafeTensors(model_dir)
    h = xxhash.xxh3_128(seed=0)
    h.update(text(MODEL_TAG.decode()) + fields)
    for name in names:
        values, shape = tensors.f32(name)
        h.update(text(name) + i64(len(shape)) + b"".join(i64(d) for d in shape))
        h.update(values.astype("<f4", copy=False).tobytes())
    return h.hexdigest()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} MODEL_DIR")
    print(model_fingerprint(sys.argv[1]))
