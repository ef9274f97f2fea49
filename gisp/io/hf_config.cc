#include "gisp/io/hf_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

struct Family {
  const char* model_type;
  const char* architecture;
};
constexpr Family kFamilies[] = {
    {"llama", "LlamaForCausalLM"},
    {"mistral", "MistralForCausalLM"},
    {"qwen2", "Qwen2ForCausalLM"},
};

const Family* FamilyByModelType(absl::string_view model_type) {
  for (const Family& f : kFamilies) {
    if (model_type == f.model_type) return &f;
  }
  return nullptr;
}

const Family* FamilyByArchitecture(absl::string_view architecture) {
  for (const Family& f : kFamilies) {
    if (architecture == f.architecture) return &f;
  }
  return nullptr;
}

absl::Status Unsupported(absl::string_view source, absl::string_view what) {
  return absl::UnimplementedError(absl::StrCat(source, ": ", what));
}

// Resolves model_type from "model_type" and "architectures". gisp's sliced directories name
// gisp's own model type (so that other loaders refuse them) and keep the family in
// "gisp_base_model_type".
absl::StatusOr<std::string> ParseFamily(const Json& json, absl::string_view source) {
  if (const Json* mt = json.Find("model_type");
      mt != nullptr && mt->is_string() && mt->string_value() == kGispSlicedModelType) {
    GISP_ASSIGN_OR_RETURN(std::string base, JsonGetString(json, kGispBaseModelTypeKey, source));
    if (FamilyByModelType(base) == nullptr) {
      return Unsupported(source, absl::StrCat("field \"", kGispBaseModelTypeKey, "\" is \"", base,
                                              "\"; gisp supports llama, mistral and qwen2"));
    }
    return base;
  }
  const Family* from_arch = nullptr;
  if (const Json* archs = json.Find("architectures"); archs != nullptr && !archs->is_null()) {
    if (!archs->is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": field \"architectures\" must be an array of strings, got ", archs->Dump()));
    }
    for (const Json& a : archs->array()) {
      if (!a.is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ": field \"architectures\" must be an array of strings, got ", archs->Dump()));
      }
      const Family* f = FamilyByArchitecture(a.string_value());
      if (f == nullptr) {
        return Unsupported(source,
                           absl::StrCat("field \"architectures\" names \"", a.string_value(),
                                        "\"; gisp supports LlamaForCausalLM, "
                                        "MistralForCausalLM and Qwen2ForCausalLM"));
      }
      if (from_arch == nullptr) from_arch = f;
    }
  }
  GISP_ASSIGN_OR_RETURN(std::string model_type, JsonGetStringOr(json, "model_type", "", source));
  if (model_type.empty()) {
    if (from_arch == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": neither \"model_type\" nor \"architectures\" is given"));
    }
    return std::string(from_arch->model_type);
  }
  if (FamilyByModelType(model_type) == nullptr) {
    return Unsupported(source, absl::StrCat("field \"model_type\" is \"", model_type,
                                            "\"; gisp supports llama, mistral and qwen2"));
  }
  return model_type;
}

absl::Status ParseRopeScaling(const Json& v, absl::string_view source, absl::string_view field,
                              RopeScaling* out) {
  *out = RopeScaling{};
  if (v.is_null()) return absl::OkStatus();
  if (!v.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": field \"", field, "\" must be null or an object, got ", v.Dump()));
  }
  const std::string where = absl::StrCat(source, ": ", field);
  // transformers >= 4.45 writes "rope_type"; older configs use "type".
  GISP_ASSIGN_OR_RETURN(std::string type, JsonGetStringOr(v, "rope_type", "", where));
  if (type.empty()) {
    GISP_ASSIGN_OR_RETURN(type, JsonGetStringOr(v, "type", "", where));
  }
  if (type.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": \"rope_type\" (or \"type\") is missing"));
  }
  if (type == "default") return absl::OkStatus();
  if (type == "linear") {
    out->type = RopeScaling::Type::kLinear;
    GISP_ASSIGN_OR_RETURN(out->factor, JsonGetNumber(v, "factor", where));
    return absl::OkStatus();
  }
  if (type == "llama3") {
    out->type = RopeScaling::Type::kLlama3;
    GISP_ASSIGN_OR_RETURN(out->factor, JsonGetNumber(v, "factor", where));
    GISP_ASSIGN_OR_RETURN(out->low_freq_factor, JsonGetNumber(v, "low_freq_factor", where));
    GISP_ASSIGN_OR_RETURN(out->high_freq_factor, JsonGetNumber(v, "high_freq_factor", where));
    GISP_ASSIGN_OR_RETURN(out->original_max_position_embeddings,
                          JsonGetInt(v, "original_max_position_embeddings", where));
    if (!(out->high_freq_factor > out->low_freq_factor) || !(out->low_freq_factor > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": llama3 needs 0 < low_freq_factor < high_freq_factor, got ",
                       out->low_freq_factor, " and ", out->high_freq_factor));
    }
    if (out->original_max_position_embeddings <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": \"original_max_position_embeddings\" must be positive, got ",
                       out->original_max_position_embeddings));
    }
    return absl::OkStatus();
  }
  return Unsupported(source,
                     absl::StrCat(field, " type \"", type,
                                  "\" is not supported (gisp implements linear and llama3)"));
}

absl::StatusOr<DType> ParseTorchDtype(const Json& json, absl::string_view source) {
  // transformers >= 4.56 writes "dtype" instead of "torch_dtype".
  absl::string_view key = json.Find("torch_dtype") != nullptr ? "torch_dtype" : "dtype";
  GISP_ASSIGN_OR_RETURN(std::string name, JsonGetStringOr(json, key, "float32", source));
  absl::string_view n = name;
  absl::ConsumePrefix(&n, "torch.");
  if (n == "float32" || n == "float") return DType::kF32;
  if (n == "bfloat16") return DType::kBF16;
  if (n == "float16" || n == "half") return DType::kF16;
  return absl::InvalidArgumentError(absl::StrCat(source, ": field \"", key, "\" is \"", name,
                                                 "\"; expected float32, bfloat16 or float16"));
}

// bos/eos: an integer, null, or (eos in Llama 3 instruct configs) a list whose first entry is used.
absl::StatusOr<int64_t> ParseTokenId(const Json& json, absl::string_view key,
                                     absl::string_view source) {
  const Json* v = json.Find(key);
  if (v != nullptr && v->is_array()) {
    if (v->array().empty()) return -1;
    const Json& first = v->array()[0];
    if (!first.is_integer()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": field \"", key,
                       "\" must be an integer or a list of integers, got ", v->Dump()));
    }
    return first.int_value();
  }
  return JsonGetIntOr(json, key, -1, source);
}

// gisp computes full causal attention; a window shorter than the context would change results.
absl::Status CheckSlidingWindow(const Json& json, const LlamaConfig& config,
                                absl::string_view source) {
  bool active = false;
  if (config.model_type == "mistral") active = true;
  if (config.model_type == "qwen2") {
    GISP_ASSIGN_OR_RETURN(active, JsonGetBoolOr(json, "use_sliding_window", false, source));
  }
  if (!active) return absl::OkStatus();
  GISP_ASSIGN_OR_RETURN(int64_t window, JsonGetIntOr(json, "sliding_window", -1, source));
  if (window >= 0 && window < config.max_position_embeddings) {
    return Unsupported(source, absl::StrCat("field \"sliding_window\" is ", window,
                                            ", shorter than max_position_embeddings (",
                                            config.max_position_embeddings,
                                            "); gisp computes full causal attention only"));
  }
  return absl::OkStatus();
}

// Every size is checked before anything is allocated per layer or per head: a config.json of a
// few bytes must not make gisp allocate gigabytes (or overflow a product of sizes) before the
// missing tensors are noticed. The limits are far above any published Llama-family model
// (Llama 3.1 405B: 126 layers, 128 heads, hidden 16384, intermediate 53248; vocabularies of
// 256k; 10M-token contexts) and keep every tensor-size product far below 2^63.
// `check_head_dim`: false before head_dim is derived from hidden_size / num_attention_heads.
absl::Status CheckSizes(const LlamaConfig& c, absl::string_view source, bool check_head_dim) {
  struct Field {
    const char* name;
    int64_t value;
    int64_t limit;
  };
  const Field fields[] = {
      {"vocab_size", c.vocab_size, int64_t{1} << 24},
      {"hidden_size", c.hidden_size, int64_t{1} << 20},
      {"intermediate_size", c.intermediate_size, int64_t{1} << 22},
      {"num_hidden_layers", c.num_layers, 4096},
      {"num_attention_heads", c.num_heads, 4096},
      {"num_key_value_heads", c.num_kv_heads, 4096},
      {"head_dim", c.head_dim, 16384},
      {"max_position_embeddings", c.max_position_embeddings, int64_t{1} << 28},
  };
  for (const Field& f : fields) {
    if (!check_head_dim && absl::string_view(f.name) == "head_dim") continue;
    if (f.value <= 0 || f.value > f.limit) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": field \"", f.name, "\" must be in [1, ", f.limit, "], got ", f.value));
    }
  }
  return absl::OkStatus();
}

// `key`: "gisp_per_layer_config", or "per_layer_config" in directories of gisp <= 0.1.
absl::Status ParsePerLayerConfig(const Json& v, absl::string_view source, absl::string_view key,
                                 LlamaConfig* config) {
  if (!v.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": field \"", key, "\" must be an array of per-layer objects"));
  }
  if (static_cast<int64_t>(v.array().size()) != config->num_layers) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": field \"", key, "\" has ", v.array().size(),
                     " entries but num_hidden_layers is ", config->num_layers));
  }
  config->layers.clear();
  for (size_t l = 0; l < v.array().size(); ++l) {
    const Json& item = v.array()[l];
    const std::string where = absl::StrCat(source, ": ", key, "[", l, "]");
    if (!item.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " must be an object"));
    }
    LayerShape shape;
    GISP_ASSIGN_OR_RETURN(shape.n_heads, JsonGetInt(item, "num_attention_heads", where));
    GISP_ASSIGN_OR_RETURN(shape.n_kv_heads, JsonGetInt(item, "num_key_value_heads", where));
    GISP_ASSIGN_OR_RETURN(shape.intermediate, JsonGetInt(item, "intermediate_size", where));
    const Json* map = item.Find("kv_map");
    if (map == nullptr || !map->is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": field \"kv_map\" must be an array with the KV head of each query head"));
    }
    for (const Json& kv : map->array()) {
      if (!kv.is_integer() || kv.int_value() < 0 || kv.int_value() > INT32_MAX) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": field \"kv_map\" must hold non-negative integers, got ", kv.Dump()));
      }
      shape.kv_map.push_back(static_cast<int32_t>(kv.int_value()));
    }
    config->layers.push_back(std::move(shape));
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view TorchDtypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "float32";
    case DType::kBF16:
      return "bfloat16";
    case DType::kF16:
      return "float16";
    case DType::kF64:
      return "float64";
    case DType::kI32:
      return "int32";
  }
  return "float32";
}

absl::StatusOr<LlamaConfig> ParseLlamaConfig(const Json& json, absl::string_view source) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": config must be a JSON object"));
  }
  LlamaConfig c;
  GISP_ASSIGN_OR_RETURN(c.model_type, ParseFamily(json, source));
  if (const Json* q = json.Find("quantization_config"); q != nullptr && !q->is_null()) {
    return Unsupported(source,
                       "field \"quantization_config\" is set; gisp prunes unquantized "
                       "f32/bf16/f16 checkpoints only");
  }
  GISP_ASSIGN_OR_RETURN(std::string act, JsonGetStringOr(json, "hidden_act", "silu", source));
  if (act != "silu" && act != "swish") {
    return Unsupported(source, absl::StrCat("field \"hidden_act\" is \"", act,
                                            "\"; gisp implements silu (SwiGLU) only"));
  }

  GISP_ASSIGN_OR_RETURN(c.vocab_size, JsonGetInt(json, "vocab_size", source));
  GISP_ASSIGN_OR_RETURN(c.hidden_size, JsonGetInt(json, "hidden_size", source));
  GISP_ASSIGN_OR_RETURN(c.intermediate_size, JsonGetInt(json, "intermediate_size", source));
  GISP_ASSIGN_OR_RETURN(c.num_layers, JsonGetInt(json, "num_hidden_layers", source));
  GISP_ASSIGN_OR_RETURN(c.num_heads, JsonGetInt(json, "num_attention_heads", source));
  GISP_ASSIGN_OR_RETURN(c.num_kv_heads,
                        JsonGetIntOr(json, "num_key_value_heads", c.num_heads, source));
  GISP_ASSIGN_OR_RETURN(c.max_position_embeddings,
                        JsonGetIntOr(json, "max_position_embeddings", 2048, source));
  GISP_RETURN_IF_ERROR(CheckSizes(c, source, /*check_head_dim=*/false));
  GISP_ASSIGN_OR_RETURN(c.head_dim, JsonGetIntOr(json, "head_dim", 0, source));
  if (json.Find("head_dim") == nullptr || json.Find("head_dim")->is_null()) {
    if (c.num_heads > 0 && c.hidden_size % c.num_heads != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": hidden_size (", c.hidden_size, ") is not a multiple of num_attention_heads (",
          c.num_heads, ") and no \"head_dim\" is given"));
    }
    c.head_dim = c.num_heads > 0 ? c.hidden_size / c.num_heads : 0;
  }
  GISP_RETURN_IF_ERROR(CheckSizes(c, source, /*check_head_dim=*/true));
  GISP_ASSIGN_OR_RETURN(c.rms_norm_eps, JsonGetNumberOr(json, "rms_norm_eps", 1e-6, source));

  // transformers 5 folds rope_theta and the scaling into "rope_parameters".
  const Json* rope_parameters = json.Find("rope_parameters");
  const Json* rope_scaling = json.Find("rope_scaling");
  GISP_ASSIGN_OR_RETURN(c.rope_theta, JsonGetNumberOr(json, "rope_theta", 10000.0, source));
  if (rope_scaling != nullptr && !rope_scaling->is_null()) {
    GISP_RETURN_IF_ERROR(ParseRopeScaling(*rope_scaling, source, "rope_scaling", &c.rope_scaling));
  } else if (rope_parameters != nullptr && rope_parameters->is_object()) {
    const std::string where = absl::StrCat(source, ": rope_parameters");
    GISP_ASSIGN_OR_RETURN(c.rope_theta,
                          JsonGetNumberOr(*rope_parameters, "rope_theta", c.rope_theta, where));
    GISP_RETURN_IF_ERROR(
        ParseRopeScaling(*rope_parameters, source, "rope_parameters", &c.rope_scaling));
  }

  GISP_ASSIGN_OR_RETURN(c.tie_word_embeddings,
                        JsonGetBoolOr(json, "tie_word_embeddings", false, source));
  // The fields are type-checked for every family, but only Llama reads them (transformers'
  // Qwen2 hard-codes q/k/v biases and no MLP bias; Mistral has no biases at all).
  GISP_ASSIGN_OR_RETURN(const bool attention_bias,
                        JsonGetBoolOr(json, "attention_bias", false, source));
  GISP_ASSIGN_OR_RETURN(const bool mlp_bias, JsonGetBoolOr(json, "mlp_bias", false, source));
  if (c.model_type == "qwen2") {
    c.attention_bias = true;  // Qwen2 always has q/k/v biases and no such field
  } else if (c.model_type == "llama") {
    c.attention_bias = attention_bias;  // q/k/v and o_proj biases
    c.mlp_bias = mlp_bias;              // gate/up/down biases
  } else {
    c.attention_bias = false;  // Mistral's attention never has biases
  }
  GISP_ASSIGN_OR_RETURN(c.torch_dtype, ParseTorchDtype(json, source));
  GISP_ASSIGN_OR_RETURN(c.bos_token_id, ParseTokenId(json, "bos_token_id", source));
  GISP_ASSIGN_OR_RETURN(c.eos_token_id, ParseTokenId(json, "eos_token_id", source));
  GISP_RETURN_IF_ERROR(CheckSlidingWindow(json, c, source));

  // gisp's own key; the legacy "per_layer_config" is read only from directories written by gisp
  // <= 0.1 (transformers 5 reserves that key with another meaning, so gisp no longer writes it).
  absl::string_view per_layer_key = kGispPerLayerKey;
  const Json* per_layer = json.Find(per_layer_key);
  if (per_layer == nullptr || per_layer->is_null()) {
    per_layer_key = "per_layer_config";
    per_layer = json.Find(per_layer_key);
  }
  const bool sliced_type = json.Find("model_type") != nullptr &&
                           json.Find("model_type")->is_string() &&
                           json.Find("model_type")->string_value() == kGispSlicedModelType;
  if (sliced_type && (per_layer == nullptr || per_layer->is_null())) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": model_type \"", kGispSlicedModelType,
                                                   "\" needs the field \"", kGispPerLayerKey,
                                                   "\""));
  }
  if (per_layer != nullptr && !per_layer->is_null()) {
    if (c.num_layers <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": field \"num_hidden_layers\" must be positive, got ", c.num_layers));
    }
    GISP_RETURN_IF_ERROR(ParsePerLayerConfig(*per_layer, source, per_layer_key, &c));
  } else if (c.num_layers > 0) {
    c.FillDenseLayers();
  }
  absl::Status valid = c.Validate();
  if (!valid.ok()) return Annotate(valid, source);
  return c;
}

absl::StatusOr<LlamaConfig> LoadLlamaConfig(const std::string& model_dir) {
  const std::string path = JoinPath(model_dir, "config.json");
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return Annotate(text.status(), "cannot read the model config");
  GISP_ASSIGN_OR_RETURN(Json json, ParseJson(*text, path));
  return ParseLlamaConfig(json, path);
}

Json LlamaConfigToJson(const LlamaConfig& config) {
  const Family* family = FamilyByModelType(config.model_type);
  if (family == nullptr) family = &kFamilies[0];
  const std::string model_type = family->model_type;
  Json j = Json::MakeObject();
  if (config.IsDense()) {
    j.Set("architectures", Json::MakeArray({Json::String(family->architecture)}));
    j.Set("model_type", Json::String(model_type));
  } else {
    // Per-layer widths are not an HF architecture: name gisp's own type so that stock loaders
    // refuse the directory instead of loading mismatched or re-initialised weights.
    j.Set("architectures", Json::MakeArray({Json::String(kGispSlicedArchitecture)}));
    j.Set("model_type", Json::String(kGispSlicedModelType));
    j.Set(kGispBaseModelTypeKey, Json::String(model_type));
    j.Set("gisp_note", Json::String(kGispSlicedNote));
  }
  j.Set("vocab_size", Json::Int(config.vocab_size));
  j.Set("hidden_size", Json::Int(config.hidden_size));
  j.Set("intermediate_size", Json::Int(config.intermediate_size));
  j.Set("num_hidden_layers", Json::Int(config.num_layers));
  j.Set("num_attention_heads", Json::Int(config.num_heads));
  j.Set("num_key_value_heads", Json::Int(config.num_kv_heads));
  j.Set("head_dim", Json::Int(config.head_dim));
  j.Set("hidden_act", Json::String("silu"));
  j.Set("max_position_embeddings", Json::Int(config.max_position_embeddings));
  j.Set("rms_norm_eps", Json::Number(config.rms_norm_eps));
  j.Set("rope_theta", Json::Number(config.rope_theta));
  const RopeScaling& rs = config.rope_scaling;
  if (rs.type == RopeScaling::Type::kLinear) {
    // Both spellings: older transformers read "type", newer ones "rope_type".
    j.Set("rope_scaling", Json::MakeObject({{"rope_type", Json::String("linear")},
                                            {"type", Json::String("linear")},
                                            {"factor", Json::Number(rs.factor)}}));
  } else if (rs.type == RopeScaling::Type::kLlama3) {
    j.Set("rope_scaling", Json::MakeObject({{"rope_type", Json::String("llama3")},
                                            {"factor", Json::Number(rs.factor)},
                                            {"low_freq_factor", Json::Number(rs.low_freq_factor)},
                                            {"high_freq_factor", Json::Number(rs.high_freq_factor)},
                                            {"original_max_position_embeddings",
                                             Json::Int(rs.original_max_position_embeddings)}}));
  } else {
    j.Set("rope_scaling", Json());
  }
  j.Set("tie_word_embeddings", Json::Bool(config.tie_word_embeddings));
  if (model_type == "llama") {
    j.Set("attention_bias", Json::Bool(config.attention_bias));
    j.Set("mlp_bias", Json::Bool(config.mlp_bias));
  }
  if (model_type == "mistral") j.Set("sliding_window", Json());
  if (model_type == "qwen2") j.Set("use_sliding_window", Json::Bool(false));
  j.Set("torch_dtype", Json::String(std::string(TorchDtypeName(config.torch_dtype))));
  if (config.bos_token_id >= 0) j.Set("bos_token_id", Json::Int(config.bos_token_id));
  if (config.eos_token_id >= 0) j.Set("eos_token_id", Json::Int(config.eos_token_id));
  j.Set("use_cache", Json::Bool(true));
  if (!config.IsDense()) {
    Json layers = Json::MakeArray();
    for (const LayerShape& s : config.layers) {
      Json map = Json::MakeArray();
      for (int32_t kv : s.kv_map) map.Append(Json::Int(kv));
      layers.Append(Json::MakeObject({{"num_attention_heads", Json::Int(s.n_heads)},
                                      {"num_key_value_heads", Json::Int(s.n_kv_heads)},
                                      {"kv_map", std::move(map)},
                                      {"intermediate_size", Json::Int(s.intermediate)}}));
    }
    j.Set(kGispPerLayerKey, std::move(layers));
  }
  return j;
}

}  // namespace gisp
