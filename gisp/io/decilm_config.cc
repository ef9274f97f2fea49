#include "gisp/io/decilm_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"
#include "gisp/io/hf_config.h"

namespace gisp {
namespace {

int64_t RoundUp256(int64_t n) { return (n + 255) / 256 * 256; }

absl::StatusOr<bool> NoOp(const Json& block, const std::string& where) {
  if (!block.is_object())
    return absl::InvalidArgumentError(absl::StrCat(where, " must be an object"));
  GISP_ASSIGN_OR_RETURN(bool linear, JsonGetBoolOr(block, "replace_with_linear", false, where));
  if (linear) {
    return absl::UnimplementedError(
        absl::StrCat(where, ": replace_with_linear blocks are not computed by gisp"));
  }
  return JsonGetBoolOr(block, "no_op", false, where);
}

}  // namespace

bool IsDecilmConfig(const Json& json) {
  const Json* mt = json.Find("model_type");
  if (mt != nullptr && mt->is_string() && mt->string_value() == "nemotron-nas") return true;
  const Json* archs = json.Find("architectures");
  if (archs == nullptr || !archs->is_array()) return false;
  for (const Json& a : archs->array()) {
    if (a.is_string() && a.string_value() == "DeciLMForCausalLM") return true;
  }
  return false;
}

absl::StatusOr<LlamaConfig> ParseDecilmConfig(const Json& json, absl::string_view source) {
  const Json* blocks = json.Find("block_configs");
  if (blocks == nullptr || !blocks->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": a DeciLM config needs the array \"block_configs\""));
  }
  GISP_ASSIGN_OR_RETURN(int64_t d, JsonGetInt(json, "hidden_size", source));
  GISP_ASSIGN_OR_RETURN(int64_t h, JsonGetInt(json, "num_attention_heads", source));
  std::vector<LayerShape> layers;
  int64_t widest = 1, kv_dense = 0;
  for (size_t l = 0; l < blocks->array().size(); ++l) {
    const Json& b = blocks->array()[l];
    const std::string where = absl::StrCat(source, ": block_configs[", l, "]");
    const Json* attention = b.Find("attention");
    const Json* ffn = b.Find("ffn");
    if (attention == nullptr || ffn == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, " needs \"attention\" and \"ffn\""));
    }
    LayerShape s;
    GISP_ASSIGN_OR_RETURN(bool attention_off, NoOp(*attention, where + ".attention"));
    if (!attention_off) {
      for (const char* key : {"window_length", "num_sink_tokens", "sparsify"}) {
        const Json* v = attention->Find(key);
        if (v != nullptr && !v->is_null()) {
          return absl::UnimplementedError(
              absl::StrCat(where, ".attention.", key, " is set; gisp computes full attention"));
        }
      }
      GISP_ASSIGN_OR_RETURN(int64_t g, JsonGetInt(*attention, "n_heads_in_group", where));
      if (g <= 0 || h % g != 0) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".attention.n_heads_in_group ", g,
                                                       " does not divide num_attention_heads ", h));
      }
      s.n_heads = h;
      s.n_kv_heads = h / g;
      s.kv_map = DenseKvMap(h, h / g);
      kv_dense = std::max(kv_dense, h / g);  // the smallest group; it divides h
    }
    GISP_ASSIGN_OR_RETURN(bool ffn_off, NoOp(*ffn, where + ".ffn"));
    if (!ffn_off) {
      GISP_ASSIGN_OR_RETURN(std::string act, JsonGetStringOr(*ffn, "hidden_act", "silu", where));
      if (act != "silu") {
        return absl::UnimplementedError(
            absl::StrCat(where, ".ffn.hidden_act is \"", act, "\"; gisp implements silu only"));
      }
      if (const Json* m = ffn->Find("ffn_mult"); m != nullptr && m->is_number()) {
        s.intermediate = RoundUp256(static_cast<int64_t>(2 * m->number_value() * d / 3));
      } else {
        GISP_ASSIGN_OR_RETURN(s.intermediate, JsonGetInt(*ffn, "intermediate_size", where));
      }
      widest = std::max(widest, s.intermediate);
    }
    layers.push_back(std::move(s));
  }
  // Parse the rest as a Llama config with dense placeholders, then set the layers.
  Json llama = json;
  llama.Set("model_type", Json::String("llama"));
  llama.Set("architectures", Json::MakeArray({Json::String("LlamaForCausalLM")}));
  llama.Set("intermediate_size", Json::Int(widest));
  llama.Set("num_key_value_heads", Json::Int(kv_dense > 0 ? kv_dense : h));
  llama.Set("block_configs", Json());
  GISP_ASSIGN_OR_RETURN(LlamaConfig c, ParseLlamaConfig(llama, source));
  if (static_cast<int64_t>(layers.size()) != c.num_layers) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": block_configs has ", layers.size(),
                                                   " entries but num_hidden_layers is ",
                                                   c.num_layers));
  }
  c.layers = std::move(layers);
  absl::Status valid = c.Validate();
  if (!valid.ok()) return Annotate(valid, source);
  return c;
}

absl::StatusOr<LlamaConfig> LoadModelConfig(const std::string& model_dir) {
  const std::string path = JoinPath(model_dir, "config.json");
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return Annotate(text.status(), "cannot read the model config");
  GISP_ASSIGN_OR_RETURN(Json json, ParseJson(*text, path));
  if (IsDecilmConfig(json)) return ParseDecilmConfig(json, path);
  return ParseLlamaConfig(json, path);
}

}  // namespace gisp
