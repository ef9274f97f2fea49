#include "gisp/io/checkpoint.h"

#include <unistd.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/base/status.h"
#include "gisp/io/decilm_config.h"
#include "gisp/io/hf_config.h"
#include "gisp/io/safetensors_writer.h"

namespace gisp {
namespace {

bool IsFloating(DType d) {
  return d == DType::kF32 || d == DType::kBF16 || d == DType::kF16 || d == DType::kF64;
}

// "num_attention_heads (8) * head_dim (16)" style factors behind each dimension of `spec`, so a
// shape error says which config.json field to look at.
std::string ShapeReason(const LlamaConfig& c, const ParameterSpec& spec) {
  const std::string& n = spec.name;
  const std::string d = absl::StrCat("hidden_size (", c.hidden_size, ")");
  if (spec.layer < 0) {
    if (absl::StrContains(n, "norm")) return absl::StrCat("[", d, "]");
    return absl::StrCat("[vocab_size (", c.vocab_size, "), ", d, "]");
  }
  const LayerShape& s = c.layers[static_cast<size_t>(spec.layer)];
  // Pruned layers take their widths from gisp_per_layer_config.
  const std::string prefix =
      c.IsDense() ? std::string() : absl::StrCat(kGispPerLayerKey, "[", spec.layer, "].");
  const std::string head_dim = absl::StrCat("head_dim (", c.head_dim, ")");
  const std::string q = absl::StrCat(prefix, "num_attention_heads (", s.n_heads, ") * ", head_dim);
  const std::string kv =
      absl::StrCat(prefix, "num_key_value_heads (", s.n_kv_heads, ") * ", head_dim);
  const std::string f = absl::StrCat(prefix, "intermediate_size (", s.intermediate, ")");
  if (absl::StrContains(n, "layernorm")) return absl::StrCat("[", d, "]");
  const bool bias = absl::EndsWith(n, ".bias");
  if (absl::StrContains(n, "q_proj"))
    return bias ? absl::StrCat("[", q, "]") : absl::StrCat("[", q, ", ", d, "]");
  if (absl::StrContains(n, "k_proj") || absl::StrContains(n, "v_proj")) {
    return bias ? absl::StrCat("[", kv, "]") : absl::StrCat("[", kv, ", ", d, "]");
  }
  if (absl::StrContains(n, "o_proj") || absl::StrContains(n, "down_proj")) {
    if (bias) return absl::StrCat("[", d, "]");
    return absl::StrContains(n, "o_proj") ? absl::StrCat("[", d, ", ", q, "]")
                                          : absl::StrCat("[", d, ", ", f, "]");
  }
  return bias ? absl::StrCat("[", f, "]") : absl::StrCat("[", f, ", ", d, "]");  // gate, up
}

// Why an unknown "model.layers.*" tensor does not belong, as far as config.json tells.
std::string UnexpectedReason(const LlamaConfig& c, const std::string& name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  int64_t layer = -1;
  if (parts.size() > 2 && absl::SimpleAtoi(parts[2], &layer) && layer >= c.num_layers) {
    return absl::StrCat("layer ", layer, " is beyond num_hidden_layers = ", c.num_layers);
  }
  if (absl::StrContains(name, "self_attn") && absl::EndsWith(name, ".bias")) {
    if (!c.attention_bias) return "an attention bias, but config.json has attention_bias = false";
    if (absl::StrContains(name, "o_proj")) {
      return absl::StrCat("an o_proj bias, which ", c.model_type, " models do not have");
    }
  }
  if (absl::StrContains(name, ".mlp.") && absl::EndsWith(name, ".bias")) {
    return c.model_type == "llama"
               ? "an MLP bias, but config.json has mlp_bias = false"
               : absl::StrCat("an MLP bias, which ", c.model_type, " models do not have");
  }
  return absl::StrCat("not a parameter of a ", c.model_type, " decoder layer");
}

absl::Status ConvertInto(const Tensor& src, DType dtype, Tensor* dst) {
  GISP_ASSIGN_OR_RETURN(*dst, Tensor::Host(src.shape(), dtype));
  ConvertElements(src.dtype(), src.raw(), dtype, dst->raw(), static_cast<size_t>(src.numel()));
  return absl::OkStatus();
}

// Shard files listed by an existing index (for cleanup); empty when there is none or it is broken.
std::set<std::string> ShardsOfIndex(const std::string& index_path) {
  std::set<std::string> shards;
  absl::StatusOr<std::string> text = ReadFile(index_path);
  if (!text.ok()) return shards;
  absl::StatusOr<Json> index = ParseJson(*text, index_path);
  if (!index.ok()) return shards;
  const Json* map = index->Find("weight_map");
  if (map == nullptr || !map->is_object()) return shards;
  for (const auto& [name, file] : map->object()) {
    // Only plain file names in the directory: never follow a path out of it.
    if (file.is_string() && !absl::StrContains(file.string_value(), '/') &&
        absl::EndsWith(file.string_value(), ".safetensors")) {
      shards.insert(file.string_value());
    }
  }
  return shards;
}

// Tensors a file may leave out because they are never used: zero-size ones, and the norms of
// DeciLM no-op blocks (a layer without heads has no input_layernorm, one without MLP channels
// no post_attention_layernorm). They are filled in (norms with ones) so every slot is set.
bool MayBeAbsent(const LlamaConfig& c, const ParameterSpec& spec) {
  int64_t numel = 1;
  for (int64_t d : spec.shape) numel *= d;
  if (numel == 0) return true;
  if (spec.layer < 0) return false;
  const LayerShape& s = c.layers[static_cast<size_t>(spec.layer)];
  if (absl::StrContains(spec.name, "input_layernorm")) return s.n_heads == 0;
  if (absl::StrContains(spec.name, "post_attention_layernorm")) return s.intermediate == 0;
  return false;
}

}  // namespace

absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& model_dir) {
  Checkpoint ckpt;
  GISP_ASSIGN_OR_RETURN(ckpt.config, LoadModelConfig(model_dir));
  const LlamaConfig& config = ckpt.config;
  GISP_ASSIGN_OR_RETURN(SafetensorsArchive archive, SafetensorsArchive::Open(model_dir));
  ckpt.archive = std::make_shared<SafetensorsArchive>(std::move(archive));
  const SafetensorsArchive& ar = *ckpt.archive;
  const std::string config_path = JoinPath(model_dir, "config.json");
  const std::string weights_source =
      ar.index_path().empty() ? JoinPath(model_dir, kSafetensorsSingleFile) : ar.index_path();

  // Every expected tensor, with the right shape.
  const std::vector<ParameterSpec> specs = ParameterSpecs(config);
  std::set<std::string> expected;
  for (const ParameterSpec& spec : specs) {
    expected.insert(spec.name);
    const SafetensorsEntry* entry = ar.Find(spec.name);
    if (entry == nullptr && MayBeAbsent(config, spec)) continue;
    if (entry == nullptr) {
      std::string hint;
      if (spec.name == "lm_head.weight") {
        hint = " (config.json has tie_word_embeddings = false)";
      } else if (absl::EndsWith(spec.name, ".bias")) {
        const bool mlp = absl::StrContains(spec.name, ".mlp.");
        hint =
            absl::StrCat(" (",
                         mlp                            ? "config.json has mlp_bias = true"
                         : config.model_type == "qwen2" ? "qwen2 models always have q/k/v biases"
                                                        : "config.json has attention_bias = true",
                         ")");
      }
      return absl::NotFoundError(absl::StrCat(weights_source, ": tensor \"", spec.name,
                                              "\" is missing; ", config_path, " implies shape ",
                                              ShapeToString(spec.shape), hint));
    }
    if (entry->shape != spec.shape) {
      return absl::InvalidArgumentError(
          absl::StrCat(ar.FileOf(spec.name)->path(), ": tensor \"", spec.name, "\" has shape ",
                       ShapeToString(entry->shape), ", but ", config_path, " implies ",
                       ShapeToString(spec.shape), " = ", ShapeReason(config, spec)));
    }
    if (!IsFloating(entry->dtype)) {
      return absl::InvalidArgumentError(
          absl::StrCat(ar.FileOf(spec.name)->path(), ": tensor \"", spec.name, "\" has dtype ",
                       DTypeName(entry->dtype), "; weights must be f32, bf16, f16 or f64"));
    }
  }
  // Unknown decoder-layer tensors mean the config and the weights describe different models.
  for (const std::string& name : ar.Names()) {
    if (expected.count(name) != 0 || absl::EndsWith(name, "rotary_emb.inv_freq")) continue;
    if (absl::StartsWith(name, "model.layers.")) {
      return absl::InvalidArgumentError(
          absl::StrCat(ar.FileOf(name)->path(), ": unexpected tensor \"", name, "\" (",
                       UnexpectedReason(config, name), "; see ", config_path, ")"));
    }
  }

  const DType storage = ar.Find("model.embed_tokens.weight")->dtype;
  ckpt.config.torch_dtype = storage;
  absl::Status status = absl::OkStatus();
  const std::vector<ParameterSpec> all_specs = ParameterSpecs(config);
  size_t spec_index = 0;
  ForEachParameter(config, &ckpt.weights, [&](const std::string& name, Tensor* slot) {
    const ParameterSpec& spec = all_specs[spec_index++];
    if (!status.ok()) return;
    if (ar.Find(name) == nullptr) {  // allowed by MayBeAbsent above
      absl::StatusOr<Tensor> filled = Tensor::Host(spec.shape, DType::kF32);
      if (!filled.ok()) {
        status = filled.status();
        return;
      }
      if (absl::StrContains(name, "layernorm")) {
        for (int64_t i = 0; i < filled->numel(); ++i) filled->data<float>()[i] = 1.0f;
      }
      status = ConvertInto(*filled, storage, slot);
      return;
    }
    absl::StatusOr<Tensor> t = ar.Get(name);
    if (!t.ok()) {
      status = t.status();
      return;
    }
    if (t->dtype() == storage) {
      *slot = *std::move(t);
      return;
    }
    status = ConvertInto(*t, storage, slot);
    if (!status.ok()) status = Annotate(status, absl::StrCat("converting \"", name, "\""));
  });
  GISP_RETURN_IF_ERROR(status);
  if (config.tie_word_embeddings) ckpt.weights.lm_head = ckpt.weights.embed;
  return ckpt;
}

absl::Status SaveCheckpoint(const std::string& model_dir, const LlamaConfig& config,
                            const LlamaWeights& host_weights, DType storage_dtype,
                            int64_t max_shard_bytes) {
  const std::string where = absl::StrCat("saving checkpoint ", model_dir);
  absl::Status valid = config.Validate();
  if (!valid.ok()) return Annotate(valid, where);
  if (storage_dtype != DType::kF32 && storage_dtype != DType::kBF16 &&
      storage_dtype != DType::kF16) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": storage dtype must be f32, bf16 or f16, got ", DTypeName(storage_dtype)));
  }
  // Views only: copying LlamaWeights copies no data.
  LlamaWeights weights = host_weights;
  if (static_cast<int64_t>(weights.layers.size()) != config.num_layers) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": weights have ", weights.layers.size(),
                     " layers, config has num_hidden_layers = ", config.num_layers));
  }
  const std::vector<ParameterSpec> specs = ParameterSpecs(config);
  NamedTensors tensors;
  size_t i = 0;
  absl::Status status = absl::OkStatus();
  ForEachParameter(config, &weights, [&](const std::string& name, Tensor* t) {
    if (!status.ok()) return;
    const ParameterSpec& spec = specs[i++];
    if (spec.name != name) {
      status = absl::InternalError(absl::StrCat("parameter order mismatch at ", name));
    } else if (t->empty()) {
      status = absl::InvalidArgumentError(absl::StrCat(where, ": tensor \"", name, "\" is empty"));
    } else if (t->shape() != spec.shape) {
      status = absl::InvalidArgumentError(absl::StrCat(
          where, ": tensor \"", name, "\" has shape ", ShapeToString(t->shape()),
          " but the config implies ", ShapeToString(spec.shape), " = ", ShapeReason(config, spec)));
    } else if (!IsFloating(t->dtype())) {
      status = absl::InvalidArgumentError(absl::StrCat(
          where, ": tensor \"", name, "\" has non-float dtype ", DTypeName(t->dtype())));
    } else {
      tensors.emplace_back(name, *t);
    }
  });
  GISP_RETURN_IF_ERROR(status);

  LlamaConfig saved = config;
  saved.torch_dtype = storage_dtype;
  GISP_RETURN_IF_ERROR(MakeDirectories(model_dir));
  const std::string single = JoinPath(model_dir, kSafetensorsSingleFile);
  const std::string index = JoinPath(model_dir, kSafetensorsIndexFile);
  const std::set<std::string> old_shards = ShardsOfIndex(index);

  SafetensorsWriteOptions options;
  options.metadata = {{"format", "pt"}};  // transformers refuses safetensors without it
  options.dtype = storage_dtype;
  options.max_shard_bytes = max_shard_bytes;
  StagedFiles staged;
  absl::StatusOr<std::vector<std::string>> written =
      StageSafetensorsSharded(&staged, model_dir, tensors, options);
  if (!written.ok()) return Annotate(written.status(), where);
  GISP_RETURN_IF_ERROR(staged.AddContents(JoinPath(model_dir, "config.json"),
                                          LlamaConfigToJson(saved).Dump(2) + "\n"));
  GISP_RETURN_IF_ERROR(staged.Commit());

  // Remove what would shadow or confuse the new layout (model.safetensors wins over an index).
  const std::set<std::string> now(written->begin(), written->end());
  std::vector<std::string> stale;
  if (now.count(kSafetensorsSingleFile) == 0) stale.push_back(single);
  if (now.count(kSafetensorsIndexFile) == 0) stale.push_back(index);
  for (const std::string& shard : old_shards) {
    if (now.count(shard) == 0) stale.push_back(JoinPath(model_dir, shard));
  }
  for (const std::string& path : stale) {
    if (FileExists(path) && ::unlink(path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat(where,
                                              ": wrote the new checkpoint but cannot remove "
                                              "the stale ",
                                              path));
    }
  }
  return absl::OkStatus();
}

}  // namespace gisp
