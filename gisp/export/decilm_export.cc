#include "gisp/export/decilm_export.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"
#include "gisp/export/configuration_decilm_py.h"
#include "gisp/export/padded_layer.h"
#include "gisp/export/regroup.h"
#include "gisp/io/hf_config.h"
#include "gisp/io/safetensors_writer.h"
#include "gisp/io/staged_files.h"

namespace gisp {
namespace {

constexpr int64_t kFfnMultiple = 256;

int64_t RoundUp(int64_t n, int64_t k) { return (n + k - 1) / k * k; }

// The largest group G dividing `h` with which `s` fits into h query slots; 0 when none does.
int64_t BestGroup(const LayerShape& s, int64_t h) {
  for (int64_t g = std::min(h, std::max<int64_t>(1, MaxGroup(s))); g >= 1; --g) {
    if (h % g == 0 && KvSlots(s, g) * g <= h) return g;
  }
  return 0;
}

}  // namespace

absl::string_view DecilmConfigurationSource() { return kDecilmConfigurationPy; }

int64_t DecilmIntermediateSize(double ffn_mult, int64_t hidden) {
  return RoundUp(static_cast<int64_t>(2 * ffn_mult * hidden / 3), kFfnMultiple);
}

double DecilmFfnMult(int64_t padded_intermediate, int64_t hidden) {
  return 1.5 * static_cast<double>(padded_intermediate) / static_cast<double>(hidden);
}

absl::StatusOr<DecilmModel> MakeDecilm(const SlicedModel& sliced) {
  const LlamaConfig& c = sliced.config;
  GISP_RETURN_IF_ERROR(c.Validate());
  if (c.HasQkvBias() || c.HasOBias() || c.HasMlpBias()) {
    // vLLM's nemotron_nas would read attention_bias / mlp_bias, but TensorRT-LLM's
    // (tensorrt_llm/_torch/models/modeling_nemotron_nas.py) builds every attention and gated MLP
    // with bias=False, and a no-op block would drop an o_proj / down_proj bias.
    return absl::InvalidArgumentError(
        "decilm: the model has linear biases (attention_bias / mlp_bias, e.g. after FLAP bias "
        "compensation or from Qwen2); TensorRT-LLM's Nemotron-NAS loader builds its "
        "attention and MLP without biases; export llama or gguf instead");
  }
  if (c.model_type != "llama") {
    return absl::InvalidArgumentError(absl::StrCat("decilm: DeciLM is a Llama variant; a ",
                                                   c.model_type,
                                                   " model is exported as llama or gguf"));
  }
  // H: every attention layer has exactly H query heads. TensorRT-LLM's engine flow
  // (tensorrt_llm/models/nemotron_nas) ignores head_dim and sizes heads as hidden_size / H, so
  // H = hidden_size / head_dim whenever that fits every layer. Otherwise (a source whose
  // head_dim is not hidden_size / num_attention_heads), try each H up to the dense count and
  // keep the one with the fewest attention parameters; vLLM and TensorRT-LLM's PyTorch flow
  // read head_dim.
  auto attention_cost = [&c](int64_t h) -> int64_t {  // -1 when some layer does not fit
    int64_t cost = 0;
    for (const LayerShape& s : c.layers) {
      if (s.n_heads == 0) continue;
      const int64_t g = BestGroup(s, h);
      if (g == 0) return -1;
      cost += h + h / g;  // query + KV heads, each 2 Dh D parameters
    }
    return cost;
  };
  int64_t best_h = 0;
  if (c.head_dim > 0 && c.hidden_size % c.head_dim == 0 &&
      attention_cost(c.hidden_size / c.head_dim) >= 0) {
    best_h = c.hidden_size / c.head_dim;
  } else {
    int64_t best_cost = std::numeric_limits<int64_t>::max();
    for (int64_t h = 1; h <= std::max<int64_t>(1, c.num_heads); ++h) {
      const int64_t cost = attention_cost(h);
      if (cost >= 0 && cost < best_cost) best_h = h, best_cost = cost;
    }
  }
  if (best_h == 0) return absl::InternalError("decilm: no head count fits");

  DecilmModel out;
  out.shape = c;
  out.shape.num_heads = best_h;
  out.weights = sliced.weights;
  Json blocks = Json::MakeArray();
  int64_t widest = 0;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const size_t i = static_cast<size_t>(l);
    const LayerShape& s = c.layers[i];
    LayerShape& w = out.shape.layers[i];
    Json attention = Json::MakeObject();
    GroupedLayout layout;
    if (s.n_heads == 0) {
      attention.Set("no_op", Json::Bool(true));
      attention.Set("replace_with_linear", Json::Bool(false));
      w = LayerShape{0, 0, {}, 0};
    } else {
      const int64_t g = BestGroup(s, best_h);
      layout = GroupLayer(s, g, best_h / g);
      attention.Set("no_op", Json::Bool(false));
      attention.Set("replace_with_linear", Json::Bool(false));
      attention.Set("n_heads_in_group", Json::Int(g));
      w.n_heads = best_h;
      w.n_kv_heads = best_h / g;
      w.kv_map = DenseKvMap(best_h, best_h / g);
    }
    Json ffn = Json::MakeObject();
    const int64_t f = s.intermediate > 0 ? RoundUp(s.intermediate, kFfnMultiple) : 0;
    if (f == 0) {
      ffn.Set("no_op", Json::Bool(true));
      ffn.Set("replace_with_linear", Json::Bool(false));
    } else {
      const double mult = DecilmFfnMult(f, c.hidden_size);
      if (DecilmIntermediateSize(mult, c.hidden_size) != f) {
        return absl::InternalError(absl::StrCat("decilm: ffn_mult ", mult, " does not give ", f));
      }
      ffn.Set("no_op", Json::Bool(false));
      ffn.Set("replace_with_linear", Json::Bool(false));
      ffn.Set("ffn_mult", Json::Number(mult));
      ffn.Set("intermediate_size", Json::Int(f));
    }
    w.intermediate = f;
    widest = std::max(widest, f);
    blocks.Append(Json::MakeObject({{"attention", std::move(attention)}, {"ffn", std::move(ffn)}}));
    // Padded weights; no-op parts stay in the struct but are not written.
    GISP_ASSIGN_OR_RETURN(out.weights.layers[i],
                          PadLayer(sliced.weights.layers[i], c.head_dim, layout, f));
  }
  out.shape.intermediate_size = std::max<int64_t>(widest, 1);

  LlamaConfig top = c;
  top.layers.clear();
  top.FillDenseLayers();
  Json j = LlamaConfigToJson(top);
  j.Set("architectures", Json::MakeArray({Json::String("DeciLMForCausalLM")}));
  j.Set("model_type", Json::String("nemotron-nas"));
  // transformers has no nemotron-nas config: AutoConfig (with trust_remote_code=True) loads the
  // class from configuration_decilm.py, which WriteDecilm puts next to config.json.
  j.Set("auto_map", Json::MakeObject({{"AutoConfig", Json::String(kDecilmAutoConfigClass)}}));
  j.Set("num_attention_heads", Json::Int(best_h));
  j.Set("num_key_value_heads", Json());  // per layer: H / n_heads_in_group
  j.Set("intermediate_size", Json());    // per layer: block_configs[l].ffn
  j.Set("block_configs", std::move(blocks));
  out.config = std::move(j);

  for (int64_t l = 0; l < c.num_layers; ++l) {
    out.parameters += out.shape.DecoderLayerParameters(l);
  }
  out.parameters += out.shape.TotalParameters() - out.shape.DecoderParameters();
  // TensorRT-LLM's engine flow loads lm_head.weight even when the embeddings are tied: the
  // file holds a copy (vLLM skips lm_head.* for tied models, gisp ignores it).
  if (c.tie_word_embeddings) out.parameters += c.vocab_size * c.hidden_size;
  // No-op blocks have no norms on disk: do not count them.
  for (const LayerShape& s : out.shape.layers) {
    if (s.n_heads == 0) out.parameters -= c.hidden_size;
    if (s.intermediate == 0) out.parameters -= c.hidden_size;
  }
  return out;
}

absl::Status WriteDecilm(const std::string& dir, const DecilmModel& model, DType storage_dtype) {
  const LlamaConfig& c = model.shape;
  LlamaWeights weights = model.weights;
  NamedTensors tensors;
  ForEachParameter(c, &weights, [&](const std::string& name, Tensor* t) {
    if (t->empty() || t->numel() == 0) return;
    const size_t dot = name.find(".layers.");
    if (dot != std::string::npos) {
      const int64_t l = std::stoll(name.substr(dot + 8));
      const LayerShape& s = c.layers[static_cast<size_t>(l)];
      const bool attention = name.find("self_attn") != std::string::npos ||
                             name.find("input_layernorm") != std::string::npos;
      const bool mlp = name.find(".mlp.") != std::string::npos ||
                       name.find("post_attention_layernorm") != std::string::npos;
      if ((attention && s.n_heads == 0) || (mlp && s.intermediate == 0)) return;
    }
    tensors.emplace_back(name, *t);
  });
  if (c.tie_word_embeddings) tensors.emplace_back("lm_head.weight", weights.embed);
  Json config = model.config;
  config.Set("torch_dtype", Json::String(std::string(TorchDtypeName(storage_dtype))));
  SafetensorsWriteOptions options;
  options.metadata = {{"format", "pt"}};
  options.dtype = storage_dtype;
  StagedFiles staged;
  GISP_RETURN_IF_ERROR(StageSafetensorsSharded(&staged, dir, tensors, options).status());
  GISP_RETURN_IF_ERROR(staged.AddContents(JoinPath(dir, kDecilmConfigurationFileName),
                                          DecilmConfigurationSource()));
  GISP_RETURN_IF_ERROR(staged.AddContents(JoinPath(dir, "config.json"), config.Dump(2) + "\n"));
  return staged.Commit();
}

}  // namespace gisp
