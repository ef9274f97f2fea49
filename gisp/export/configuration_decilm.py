"""DeciLM / Nemotron-NAS configuration for a directory written by gisp's `decilm` export.

gisp writes this file next to config.json, whose "auto_map" names DeciLMConfig below, so that

    transformers.AutoConfig.from_pretrained(directory, trust_remote_code=True)

returns a config for model_type "nemotron-nas" (transformers has no such type of its own) whose
`block_configs[i]` are objects, as vLLM (vllm/model_executor/models/nemotron_nas.py) and
TensorRT-LLM (tensorrt_llm/models/nemotron_nas/, tensorrt_llm/_torch/models/
modeling_nemotron_nas.py) expect:

    block.attention.no_op, .replace_with_linear, .n_heads_in_group (None in a no-op block),
      .sparsify
    block.ffn.no_op, .replace_with_linear, .ffn_mult, .intermediate_size (both None in a no-op
      block), .sparsify

Each block is a dataclass (TensorRT-LLM's engine flow calls dataclasses.asdict on it). Only the
keys above are accepted; anything else is an error rather than silently ignored. In particular
there is no per-block `hidden_act`: vLLM uses `ffn.hidden_act` whenever the attribute exists.

Written by gisp (gisp/export/configuration_decilm.py in its repository, compiled into the
library); it needs only the Python standard library and transformers.
"""

import dataclasses
from typing import Any, Dict, List, Optional

from transformers import PretrainedConfig

FFN_MULTIPLE = 256


def ffn_mult_to_intermediate_size(ffn_mult: float, hidden_size: int) -> int:
    """The MLP width the loaders derive from ffn_mult: int(2 m D / 3) rounded up to a multiple
    of 256."""
    n = int(2 * ffn_mult * hidden_size / 3)
    return -(-n // FFN_MULTIPLE) * FFN_MULTIPLE


def _check_flags(where: str, no_op: Any, replace_with_linear: Any) -> None:
    for name, value in (("no_op", no_op), ("replace_with_linear", replace_with_linear)):
        if not isinstance(value, bool):
            raise ValueError(f"{where}.{name} must be true or false, got {value!r}")
    if no_op and replace_with_linear:
        raise ValueError(f"{where}: no_op and replace_with_linear are exclusive")


@dataclasses.dataclass(frozen=True)
class AttentionBlockConfig:
    """One layer's attention: a no-op (no weights, no norm), or num_attention_heads query heads
    sharing num_attention_heads / n_heads_in_group KV heads."""

    no_op: bool = False
    replace_with_linear: bool = False
    n_heads_in_group: Optional[int] = None
    sparsify: Optional[List[str]] = None

    def __post_init__(self):
        _check_flags("attention", self.no_op, self.replace_with_linear)
        if self.no_op or self.replace_with_linear:
            object.__setattr__(self, "n_heads_in_group", None)  # meaningless there
        elif (not isinstance(self.n_heads_in_group, int) or isinstance(self.n_heads_in_group, bool)
              or self.n_heads_in_group < 1):
            raise ValueError("attention.n_heads_in_group must be a positive integer, got "
                             f"{self.n_heads_in_group!r}")


@dataclasses.dataclass(frozen=True)
class FFNBlockConfig:
    """One layer's gated MLP: a no-op (no weights, no norm), or an MLP whose width the loaders
    derive from ffn_mult (intermediate_size, when present, must be that width)."""

    no_op: bool = False
    replace_with_linear: bool = False
    ffn_mult: Optional[float] = None
    intermediate_size: Optional[int] = None
    sparsify: Optional[List[str]] = None

    def __post_init__(self):
        _check_flags("ffn", self.no_op, self.replace_with_linear)
        if self.no_op or self.replace_with_linear:
            object.__setattr__(self, "ffn_mult", None)
            object.__setattr__(self, "intermediate_size", None)
            return
        # TensorRT-LLM reads only ffn_mult, and vLLM prefers it: it must be there.
        if (not isinstance(self.ffn_mult, (int, float)) or isinstance(self.ffn_mult, bool)
                or self.ffn_mult <= 0):
            raise ValueError(f"ffn.ffn_mult must be a positive number, got {self.ffn_mult!r}")
        if self.intermediate_size is not None and (
                not isinstance(self.intermediate_size, int) or self.intermediate_size < 1):
            raise ValueError("ffn.intermediate_size must be a positive integer, got "
                             f"{self.intermediate_size!r}")


@dataclasses.dataclass(frozen=True)
class BlockConfig:
    """One decoder layer: block_configs[i].attention and block_configs[i].ffn."""

    attention: AttentionBlockConfig
    ffn: FFNBlockConfig

    @classmethod
    def from_dict(cls, d: Dict[str, Any], layer: int) -> "BlockConfig":
        where = f"block_configs[{layer}]"
        if not isinstance(d, dict) or set(d) != {"attention", "ffn"}:
            raise ValueError(f"{where} must be an object with exactly \"attention\" and \"ffn\", "
                             f"got {d!r}")
        parts = {}
        for name, part_cls in (("attention", AttentionBlockConfig), ("ffn", FFNBlockConfig)):
            part = d[name]
            if not isinstance(part, dict):
                raise ValueError(f"{where}.{name} must be an object, got {part!r}")
            known = {f.name for f in dataclasses.fields(part_cls)}
            unknown = sorted(set(part) - known)
            if unknown:
                raise ValueError(f"{where}.{name}: unsupported keys {unknown} (known: "
                                 f"{sorted(known)})")
            try:
                parts[name] = part_cls(**part)
            except ValueError as e:
                raise ValueError(f"{where}.{e}") from None
        return cls(**parts)


class DeciLMConfig(PretrainedConfig):
    """A Llama decoder whose layers differ: `block_configs` holds one BlockConfig per layer.

    num_key_value_heads and intermediate_size are per layer (in block_configs) and are None here,
    as in NVIDIA's Nemotron-NAS checkpoints."""

    model_type = "nemotron-nas"

    def __init__(self,
                 block_configs: Optional[List[Any]] = None,
                 vocab_size: int = 32000,
                 hidden_size: int = 4096,
                 num_hidden_layers: int = 32,
                 num_attention_heads: int = 32,
                 head_dim: Optional[int] = None,
                 hidden_act: str = "silu",
                 max_position_embeddings: int = 2048,
                 rms_norm_eps: float = 1e-6,
                 rope_theta: float = 10000.0,
                 rope_scaling: Optional[Dict[str, Any]] = None,
                 attention_bias: bool = False,
                 mlp_bias: bool = False,
                 initializer_range: float = 0.02,
                 use_cache: bool = True,
                 num_key_value_heads: Optional[int] = None,
                 intermediate_size: Optional[int] = None,
                 **kwargs):
        del num_key_value_heads, intermediate_size  # per layer; always None (see below)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.head_dim = head_dim if head_dim else hidden_size // num_attention_heads
        self.hidden_act = hidden_act
        self.max_position_embeddings = max_position_embeddings
        self.rms_norm_eps = rms_norm_eps
        self.attention_bias = attention_bias
        self.mlp_bias = mlp_bias
        self.initializer_range = initializer_range
        self.use_cache = use_cache
        self.block_configs = self._parse_blocks(block_configs)
        # transformers 5 folds rope_theta and rope_scaling into rope_parameters (what vLLM
        # reads) when the config has that attribute; transformers 4 keeps both as attributes
        # (this file is tested with transformers 5 only).
        self.rope_parameters = kwargs.pop("rope_parameters", None)
        super().__init__(rope_theta=rope_theta, rope_scaling=rope_scaling, **kwargs)
        self.rope_theta = rope_theta  # TensorRT-LLM's engine flow reads it
        self.num_key_value_heads = None
        self.intermediate_size = None

    def _parse_blocks(self, blocks: Optional[List[Any]]) -> Optional[List[BlockConfig]]:
        if blocks is None:
            return None
        if not isinstance(blocks, (list, tuple)) or len(blocks) != self.num_hidden_layers:
            raise ValueError("block_configs must list num_hidden_layers "
                             f"({self.num_hidden_layers}) blocks, got {blocks!r}"[:400])
        parsed = []
        for i, b in enumerate(blocks):
            b = b if isinstance(b, BlockConfig) else BlockConfig.from_dict(b, i)
            a, f = b.attention, b.ffn
            if a.n_heads_in_group is not None and self.num_attention_heads % a.n_heads_in_group:
                raise ValueError(f"block_configs[{i}].attention.n_heads_in_group "
                                 f"{a.n_heads_in_group} does not divide num_attention_heads "
                                 f"{self.num_attention_heads}")
            if f.intermediate_size is not None:
                derived = ffn_mult_to_intermediate_size(f.ffn_mult, self.hidden_size)
                if derived != f.intermediate_size:
                    raise ValueError(f"block_configs[{i}].ffn: ffn_mult {f.ffn_mult} gives "
                                     f"{derived} channels, intermediate_size says "
                                     f"{f.intermediate_size}")
            parsed.append(b)
        return parsed

    def to_dict(self) -> Dict[str, Any]:
        out = super().to_dict()
        if self.block_configs is not None:
            out["block_configs"] = [dataclasses.asdict(b) for b in self.block_configs]
        return out
