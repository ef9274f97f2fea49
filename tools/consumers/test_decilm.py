"""The `decilm` export against the rules vLLM's DeciLM / Nemotron-NAS loader applies
(vllm/model_executor/models/nemotron_nas.py) and those of TensorRT-LLM's
(tensorrt_llm/models/nemotron_nas/{config,convert,model}.py, the engine flow of
examples/models/core/nemotron_nas, and tensorrt_llm/_torch/models/modeling_nemotron_nas.py, the
PyTorch flow), encoded below and marked by loader; neither runtime is installed here (both need
a GPU), and gisp reloading the export with identical logits at 20/30/40/50%. Both runtimes open
the directory with transformers.AutoConfig (trust_remote_code=True, gisp's
configuration_decilm.py):
the tests at the end load it so and run the attribute reads the runtimes make on the result."""
import json

import numpy as np
import pytest

from conftest import TARGETS, require


def vllm_intermediate_size(ffn_mult, hidden):
    """vLLM's _ffn_mult_to_intermediate_size: int(2 m D / 3) rounded up to a multiple of 256
    (TensorRT-LLM's _ffn_mult_to_intermediate_size, in both flows, is the same formula)."""
    n = int(2 * ffn_mult * hidden / 3)
    return n if n % 256 == 0 else n + 256 - n % 256


def expected_tensors(config):
    """Every tensor vLLM's and TensorRT-LLM's DeciLMForCausalLM load for `config`, with its HF
    shape."""
    d, h = config["hidden_size"], config["num_attention_heads"]
    dh = config.get("head_dim") or d // h
    # TensorRT-LLM engine flow: DeciConfig.from_hugging_face passes no head_size, so
    # PretrainedConfig takes hidden_size // num_attention_heads and head_dim is ignored (vLLM and
    # the PyTorch flow read head_dim): the two must agree.
    assert d % h == 0 and d // h == dh, (d, h, dh)
    # vLLM loads lm_head.weight unless tie_word_embeddings (then it skips lm_head.*);
    # TensorRT-LLM's engine flow (load_model_weights) loads it unconditionally.
    want = {"model.embed_tokens.weight": [config["vocab_size"], d], "model.norm.weight": [d],
            "lm_head.weight": [config["vocab_size"], d]}
    assert len(config["block_configs"]) == config["num_hidden_layers"]
    for i, block in enumerate(config["block_configs"]):
        p = f"model.layers.{i}."
        att, ffn = block["attention"], block["ffn"]
        # TensorRT-LLM's engine flow indexes attn["no_op"], attn["replace_with_linear"],
        # ffn["no_op"], ffn["replace_with_linear"] (a missing key is a KeyError).
        for sub in (att, ffn):
            assert isinstance(sub["no_op"], bool) and sub["replace_with_linear"] is False, (i, sub)
            assert not sub.get("sparsify"), (i, sub)  # TensorRT-LLM: NotImplementedError
        if not att["no_op"]:
            g = att["n_heads_in_group"]
            assert isinstance(g, int) and g >= 1 and h % g == 0, (i, g, h)
            kv = h // g  # vLLM and TensorRT-LLM: num_attention_heads // n_heads_in_group
            want.update({p + "input_layernorm.weight": [d],
                         p + "self_attn.q_proj.weight": [h * dh, d],
                         p + "self_attn.k_proj.weight": [kv * dh, d],
                         p + "self_attn.v_proj.weight": [kv * dh, d],
                         p + "self_attn.o_proj.weight": [d, h * dh]})
        if not ffn["no_op"]:
            # vLLM prefers ffn_mult when the block has one, else intermediate_size; TensorRT-LLM
            # (both flows) reads only ffn_mult, so it must be there.
            assert "ffn_mult" in ffn, (i, ffn)
            f = vllm_intermediate_size(ffn["ffn_mult"], d)
            if "intermediate_size" in ffn:
                assert f == ffn["intermediate_size"], (i, ffn)
            want.update({p + "post_attention_layernorm.weight": [d],
                         p + "mlp.gate_proj.weight": [f, d], p + "mlp.up_proj.weight": [f, d],
                         p + "mlp.down_proj.weight": [d, f]})
    return want


@pytest.mark.parametrize("target", TARGETS)
def test_decilm_export_follows_vllm_and_reloads_exactly(target, gisp_mod, dense, record,
                                                        eval_ids, tmp_path):
    safe_open = require("safetensors").safe_open
    with dense.materialize(record, record.nearest_step(target)) as sub:
        out = tmp_path / "decilm"
        written, exact = sub.export_format(str(out), "decilm", gisp_mod.DType.F32)
        config = json.loads((out / "config.json").read_text())
        assert config["architectures"] == ["DeciLMForCausalLM"]
        # TensorRT-LLM's DeciConfig.from_hugging_face asserts model_type in (deci, nemotron-nas).
        assert config["model_type"] == "nemotron-nas"
        assert config["hidden_act"] == "silu" and not config.get("attention_bias")
        # Read by TensorRT-LLM's DeciConfig.from_hugging_face from the HF config.
        for key in ("vocab_size", "max_position_embeddings", "rms_norm_eps", "rope_theta"):
            assert config.get(key) is not None, key
        want = expected_tensors(config)
        with safe_open(str(out / "model.safetensors"), "np") as f:
            got = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
        assert got == want  # nothing missing, nothing unexpected, every shape as built there
        assert sum(int(np.prod(s)) for s in got.values()) == written
        assert (out / "tokenizer.model").exists()

        with gisp_mod.Model(str(out)) as back:
            ids = eval_ids[:128]
            a, b = sub.logits(ids), back.logits(ids)
            rel_inf = float(np.abs(a - b).max() / np.abs(a).max())
        print(f"target {target}: decilm {written} parameters (exact {exact}), "
              f"reload rel_inf {rel_inf:.1e}")
        # Zero heads and channels add exact zeros; only GEMM blocking may reorder sums.
        assert rel_inf <= 1e-5


# ---- The directory as vLLM and TensorRT-LLM open it: transformers.AutoConfig ----
#
# transformers has no "nemotron-nas" config type, so the export ships gisp's own
# configuration_decilm.py (gisp/export/configuration_decilm.py) with an "auto_map" entry in
# config.json; vLLM (vllm/transformers_utils/config.py, HFConfigParser) and TensorRT-LLM
# (DeciConfig.from_hugging_face, the PyTorch flow's ModelConfig) call
# AutoConfig.from_pretrained(dir, trust_remote_code=...) and then read block_configs[i] as objects.

def vllm_layer_plan(config, layer_idx):
    """The attribute reads vLLM makes on the config when it builds decoder layer `layer_idx`,
    in the order it makes them, and what it builds from them (tensor shapes as in the HF file).

    Follows vllm/model_executor/models/nemotron_nas.py (DeciLMDecoderLayer.__init__,
    DeciLMAttention._init_rotary_emb, DeciModel and DeciLMForCausalLM.__init__) and what it
    calls: vllm/model_executor/models/llama.py (LlamaAttention.__init__: head_dim, layer_types;
    LlamaMLP: silu only) and vllm/transformers_utils/model_arch_config_convertor.py
    (NemotronNasModelArchConfigConvertor.get_total_num_kv_heads). An AttributeError or TypeError
    here is what vLLM would raise."""
    block_config = config.block_configs[layer_idx]
    is_no_op_attention = block_config.attention.no_op
    is_no_op_ffn = block_config.ffn.no_op
    d = config.hidden_size
    getattr(config, "max_position_embeddings", 8192)
    attention_bias = getattr(config, "attention_bias", False) or getattr(config, "bias", False)
    if hasattr(config, "qkv_bias"):
        attention_bias = config.qkv_bias
    plan = {}
    p = f"model.layers.{layer_idx}."
    if not is_no_op_attention:
        num_kv_heads = config.num_attention_heads // block_config.attention.n_heads_in_group
        h = config.num_attention_heads
        dh = getattr(config, "head_dim", None) or d // h  # LlamaAttention
        assert not getattr(config, "layer_types", None)  # else a sliding_window per layer
        rope = config.rope_parameters  # DeciLMAttention._init_rotary_emb -> get_rope
        assert isinstance(rope, dict) and rope.get("rope_theta"), rope
        hasattr(config, "position_embedding_type")
        assert not attention_bias  # gisp writes none; the file would need q/k/v/o biases
        config.rms_norm_eps
        plan.update({p + "input_layernorm.weight": [d],
                     p + "self_attn.q_proj.weight": [h * dh, d],
                     p + "self_attn.k_proj.weight": [num_kv_heads * dh, d],
                     p + "self_attn.v_proj.weight": [num_kv_heads * dh, d],
                     p + "self_attn.o_proj.weight": [d, h * dh]})
    if not is_no_op_ffn:
        if hasattr(block_config.ffn, "ffn_mult"):
            intermediate_size = vllm_intermediate_size(block_config.ffn.ffn_mult, d)
        else:
            intermediate_size = block_config.ffn.intermediate_size
        if hasattr(block_config.ffn, "hidden_act"):
            hidden_act = block_config.ffn.hidden_act
        else:
            hidden_act = config.hidden_act
        assert hidden_act == "silu", hidden_act  # LlamaMLP: "Only silu is supported"
        assert not getattr(config, "mlp_bias", False)
        config.rms_norm_eps
        f = intermediate_size
        plan.update({p + "post_attention_layernorm.weight": [d],
                     p + "mlp.gate_proj.weight": [f, d], p + "mlp.up_proj.weight": [f, d],
                     p + "mlp.down_proj.weight": [d, f]})
    return plan


def vllm_model_plan(config):
    """vLLM's DeciLMForCausalLM for `config`: every tensor it loads, with its HF shape (see
    vllm_layer_plan), and the KV-head count its model config derives (first attention block)."""
    d, vocab = config.hidden_size, config.vocab_size
    config.tie_word_embeddings, getattr(config, "logit_scale", 1.0)
    plan = {"model.embed_tokens.weight": [vocab, d], "model.norm.weight": [d]}
    config.rms_norm_eps
    if not config.tie_word_embeddings:  # load_weights skips lm_head.* when tied
        plan["lm_head.weight"] = [vocab, d]
    for i in range(config.num_hidden_layers):
        plan.update(vllm_layer_plan(config, i))
    total_kv = None
    for block in config.block_configs:  # get_total_num_kv_heads
        if not block.attention.no_op:
            total_kv = config.num_attention_heads // block.attention.n_heads_in_group
            break
    return plan, total_kv


def trtllm_layer_plans(config):
    """TensorRT-LLM's reads: the engine flow (tensorrt_llm/models/nemotron_nas/config.py
    DeciConfig.from_hugging_face and convert.py hf_block_config_to_layer_config, which calls
    dataclasses.asdict on each block object and indexes the keys) and the PyTorch flow
    (tensorrt_llm/_torch/models/modeling_nemotron_nas.py: NemotronNASModel's per-layer
    num_key_value_heads, NemotronNASDecoderLayer's attribute reads). Returns per layer
    (kv_heads or None, intermediate_size or None) from each flow."""
    import dataclasses
    for key in ("hidden_size", "hidden_act", "intermediate_size", "num_attention_heads",
                "num_hidden_layers", "num_key_value_heads", "rms_norm_eps", "rope_scaling",
                "rope_theta", "vocab_size", "max_position_embeddings"):
        getattr(config, key)  # from_hugging_face reads each one (None is fine for some)
    assert config.model_type in ("deci", "nemotron-nas")
    h, d = config.num_attention_heads, config.hidden_size
    engine = []
    for block_config in config.block_configs:
        b = block_config if isinstance(block_config, dict) else dataclasses.asdict(block_config)
        attn, ffn = b["attention"], b["ffn"]
        if attn["no_op"]:
            kv = None
        elif attn["replace_with_linear"] or attn.get("sparsify", None):
            raise AssertionError(f"gisp writes neither: {attn}")
        else:
            kv = h // attn["n_heads_in_group"]
        if ffn["no_op"]:
            f = None
        elif ffn["replace_with_linear"] or ffn.get("sparsify", None):
            raise AssertionError(f"gisp writes neither: {ffn}")
        else:
            f = vllm_intermediate_size(ffn["ffn_mult"], d)
        engine.append((kv, f))
    torch_flow = []
    num_key_value_heads = [h // block.attention.n_heads_in_group
                           if block.attention.n_heads_in_group else 0
                           for block in config.block_configs]
    for i, block in enumerate(config.block_configs):
        kv = f = None
        if not block.attention.no_op:
            assert not block.attention.replace_with_linear
            kv = num_key_value_heads[i]
        if not block.ffn.no_op:
            assert not block.ffn.replace_with_linear
            f = vllm_intermediate_size(block.ffn.ffn_mult, d)
        torch_flow.append((kv, f))
    return engine, torch_flow


def prune_whole_layers(sliced_dir, out, no_attention, no_mlp):
    """A copy of a gisp `sliced` directory in which layer `no_attention` has lost every query
    head and layer `no_mlp` every MLP channel, as the pruner can leave a layer (the tiny run never
    does): per-layer config and tensors as gisp writes them for such layers."""
    safetensors_numpy = require("safetensors.numpy")
    config = json.loads((sliced_dir / "config.json").read_text())
    per_layer = config["gisp_per_layer_config"]
    per_layer[no_attention].update(num_attention_heads=0, num_key_value_heads=0, kv_map=[])
    per_layer[no_mlp].update(intermediate_size=0)
    tensors = safetensors_numpy.load_file(str(sliced_dir / "model.safetensors"))
    drop = [f"model.layers.{no_attention}.{n}" for n in
            ("input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
             "self_attn.o_proj")]
    drop += [f"model.layers.{no_mlp}.{n}" for n in
             ("post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")]
    tensors = {k: v for k, v in tensors.items() if not any(k.startswith(p + ".") for p in drop)}
    out.mkdir()
    for f in sliced_dir.iterdir():
        if f.name not in ("config.json", "model.safetensors"):
            (out / f.name).write_bytes(f.read_bytes())
    (out / "config.json").write_text(json.dumps(config, indent=2))
    safetensors_numpy.save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    return per_layer


@pytest.fixture(scope="module")
def decilm_cases(gisp_mod, dense, record, tmp_path_factory):
    """(name, decilm directory, gisp's per-layer widths of the model exported) for the tiny run
    at 50% and for that model with a head-less and a channel-less layer (DeciLM no-op blocks)."""
    tmp_path = tmp_path_factory.mktemp("decilm_autoconfig")
    cases = []
    with dense.materialize(record, record.nearest_step(0.5)) as sub:
        out = tmp_path / "decilm-50"
        sub.export_format(str(out), "decilm", gisp_mod.DType.F32)
        cases.append(("tiny 50%", out, sub.config()["gisp_per_layer_config"]))
        sliced = tmp_path / "sliced-50"
        sub.export_format(str(sliced), "sliced", gisp_mod.DType.F32)
    noop = tmp_path / "sliced-noop"
    prune_whole_layers(sliced, noop, no_attention=2, no_mlp=3)
    with gisp_mod.Model(str(noop)) as m:
        per_layer = m.config()["gisp_per_layer_config"]
        assert per_layer[2]["num_attention_heads"] == 0 and per_layer[3]["intermediate_size"] == 0
        out = tmp_path / "decilm-noop"
        m.export_format(str(out), "decilm", gisp_mod.DType.F32)
    cases.append(("no-op blocks", out, per_layer))
    return cases


def load_auto_config(directory):
    transformers = require("transformers")
    return transformers.AutoConfig.from_pretrained(str(directory), trust_remote_code=True)


def test_decilm_loads_with_autoconfig_and_block_configs_are_objects(decilm_cases):
    transformers = require("transformers")
    import dataclasses
    from conftest import ROOT
    for name, out, per_layer in decilm_cases:
        raw = json.loads((out / "config.json").read_text())
        assert raw["auto_map"] == {"AutoConfig": "configuration_decilm.DeciLMConfig"}, name
        assert ((out / "configuration_decilm.py").read_bytes() ==
                (ROOT / "gisp" / "export" / "configuration_decilm.py").read_bytes()), name
        # Without trust_remote_code transformers refuses the directory: nemotron-nas is no
        # transformers model type, the class lives in the directory's own Python file.
        with pytest.raises(ValueError, match="trust_remote_code"):
            transformers.AutoConfig.from_pretrained(str(out), trust_remote_code=False)

        config = load_auto_config(out)
        assert type(config).__name__ == "DeciLMConfig", (name, type(config))
        assert isinstance(config, transformers.PretrainedConfig)
        assert config.model_type == "nemotron-nas"
        assert config.architectures == ["DeciLMForCausalLM"]
        for key in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                    "head_dim", "hidden_act", "max_position_embeddings", "rms_norm_eps",
                    "rope_theta", "tie_word_embeddings"):
            assert getattr(config, key) == raw[key], (name, key)
        assert config.num_key_value_heads is None and config.intermediate_size is None  # per layer
        assert config.rope_parameters["rope_theta"] == raw["rope_theta"], config.rope_parameters

        blocks = config.block_configs
        assert len(blocks) == raw["num_hidden_layers"] == len(per_layer), name
        h = config.num_attention_heads
        seen_no_op = set()
        for i, (block, want, layer) in enumerate(zip(blocks, raw["block_configs"], per_layer)):
            assert dataclasses.is_dataclass(block), (name, i, type(block))
            # Every value gisp wrote for the layer, now an attribute, same value and type.
            for part in ("attention", "ffn"):
                obj = getattr(block, part)
                for key, value in want[part].items():
                    got = getattr(obj, key)
                    assert got == value and type(got) is type(value), (name, i, part, key, got)
            att, ffn = block.attention, block.ffn
            # ...and what gisp's model has in that layer.
            assert att.no_op == (layer["num_attention_heads"] == 0), (name, i, layer)
            if att.no_op:
                seen_no_op.add("attention")
                assert att.n_heads_in_group is None and att.replace_with_linear is False
            else:
                g = att.n_heads_in_group
                assert h % g == 0 and layer["num_attention_heads"] <= h, (name, i, g, layer)
                # Regrouping gives each original KV head ceil(c / g) slots of g query heads.
                counts = [layer["kv_map"].count(k) for k in range(layer["num_key_value_heads"])]
                assert sum(-(-c // g) for c in counts if c) <= h // g, (name, i, g, counts)
            assert ffn.no_op == (layer["intermediate_size"] == 0), (name, i, layer)
            if ffn.no_op:
                seen_no_op.add("ffn")
                assert ffn.ffn_mult is None and ffn.intermediate_size is None
            else:
                f = -(-layer["intermediate_size"] // 256) * 256
                assert ffn.intermediate_size == f, (name, i, ffn, layer)
                assert vllm_intermediate_size(ffn.ffn_mult, config.hidden_size) == f
        if name == "no-op blocks":
            assert seen_no_op == {"attention", "ffn"}, seen_no_op
        # Serializing the config writes block_configs back as the same JSON.
        assert config.to_dict()["block_configs"] == [
            {part: {**{f.name: None for f in dataclasses.fields(getattr(b, part))},
                    **{k: v for k, v in want[part].items()}}
             for part in ("attention", "ffn")}
            for b, want in zip(blocks, raw["block_configs"])]


def test_decilm_autoconfig_satisfies_vllm_and_tensorrt_llm_reads(decilm_cases):
    safe_open = require("safetensors").safe_open
    for name, out, per_layer in decilm_cases:
        config = load_auto_config(out)
        plan, total_kv = vllm_model_plan(config)
        with safe_open(str(out / "model.safetensors"), "np") as f:
            got = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
        # vLLM skips the tied lm_head.weight gisp writes for TensorRT-LLM's engine flow.
        if config.tie_word_embeddings:
            got.pop("lm_head.weight")
        assert got == plan, name  # every tensor vLLM builds, nothing else, same shapes
        first = next(i for i, l in enumerate(per_layer) if l["num_attention_heads"])
        k_rows = got[f"model.layers.{first}.self_attn.k_proj.weight"][0]
        assert total_kv == k_rows // config.head_dim, (name, total_kv, k_rows)

        engine, torch_flow = trtllm_layer_plans(config)
        assert engine == torch_flow, name
        for i, (kv, f) in enumerate(engine):
            p = f"model.layers.{i}."
            assert kv == (plan[p + "self_attn.k_proj.weight"][0] // config.head_dim
                          if p + "self_attn.k_proj.weight" in plan else None), (name, i)
            assert f == (plan[p + "mlp.up_proj.weight"][0]
                         if p + "mlp.up_proj.weight" in plan else None), (name, i)
        print(f"{name}: per layer (KV heads, MLP width) {engine}")
