#include "gisp/model/config.h"

#include "absl/strings/str_cat.h"

namespace gisp {

std::vector<int32_t> DenseKvMap(int64_t n_heads, int64_t n_kv_heads) {
  std::vector<int32_t> map(static_cast<size_t>(n_heads));
  const int64_t group = n_kv_heads > 0 ? n_heads / n_kv_heads : 1;
  for (int64_t h = 0; h < n_heads; ++h) map[h] = static_cast<int32_t>(h / (group > 0 ? group : 1));
  return map;
}

void LlamaConfig::FillDenseLayers() {
  layers.assign(static_cast<size_t>(num_layers), LayerShape{});
  for (auto& layer : layers) {
    layer.n_heads = num_heads;
    layer.n_kv_heads = num_kv_heads;
    layer.kv_map = DenseKvMap(num_heads, num_kv_heads);
    layer.intermediate = intermediate_size;
  }
}

absl::Status LlamaConfig::Validate() const {
  auto positive = [](absl::string_view field, int64_t v) -> absl::Status {
    if (v <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("config field \"", field, "\" must be positive, got ", v));
    }
    return absl::OkStatus();
  };
  for (auto [field, v] : {std::pair<absl::string_view, int64_t>{"vocab_size", vocab_size},
                          {"hidden_size", hidden_size},
                          {"num_hidden_layers", num_layers},
                          {"num_attention_heads", num_heads},
                          {"num_key_value_heads", num_kv_heads},
                          {"head_dim", head_dim},
                          {"intermediate_size", intermediate_size},
                          {"max_position_embeddings", max_position_embeddings}}) {
    absl::Status s = positive(field, v);
    if (!s.ok()) return s;
  }
  if (num_heads % num_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat("config: num_attention_heads (", num_heads,
                                                   ") must be a multiple of num_key_value_heads (",
                                                   num_kv_heads, ")"));
  }
  if (head_dim % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: head_dim must be even for rotary embeddings, got ", head_dim));
  }
  if (!(rms_norm_eps > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config field \"rms_norm_eps\" must be positive, got ", rms_norm_eps));
  }
  if (!(rope_theta > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config field \"rope_theta\" must be positive, got ", rope_theta));
  }
  if (rope_scaling.type != RopeScaling::Type::kNone && !(rope_scaling.factor > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config field \"rope_scaling.factor\" must be positive, got ", rope_scaling.factor));
  }
  if (static_cast<int64_t>(layers.size()) != num_layers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: ", layers.size(), " per-layer shapes for num_hidden_layers = ", num_layers));
  }
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerShape& s = layers[l];
    if (s.n_heads < 0 || s.n_kv_heads < 0 || s.intermediate < 0 || s.n_heads > num_heads ||
        s.n_kv_heads > num_kv_heads || s.intermediate > intermediate_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: layer ", l, " has widths heads=", s.n_heads, " kv_heads=", s.n_kv_heads,
          " intermediate=", s.intermediate, " outside the dense shape"));
    }
    if (static_cast<int64_t>(s.kv_map.size()) != s.n_heads) {
      return absl::InvalidArgumentError(absl::StrCat("config: layer ", l, " kv_map has ",
                                                     s.kv_map.size(), " entries for ", s.n_heads,
                                                     " query heads"));
    }
    for (int32_t kv : s.kv_map) {
      if (kv < 0 || kv >= s.n_kv_heads) {
        return absl::InvalidArgumentError(absl::StrCat("config: layer ", l, " kv_map entry ", kv,
                                                       " is outside [0, ", s.n_kv_heads, ")"));
      }
    }
  }
  return absl::OkStatus();
}

bool LlamaConfig::IsDense() const {
  for (const auto& s : layers) {
    if (s.n_heads != num_heads || s.n_kv_heads != num_kv_heads ||
        s.intermediate != intermediate_size || s.kv_map != DenseKvMap(num_heads, num_kv_heads)) {
      return false;
    }
  }
  return true;
}

int64_t LlamaConfig::DecoderLayerParameters(int64_t layer) const {
  const LayerShape& s = layers[static_cast<size_t>(layer)];
  const int64_t d = hidden_size;
  const int64_t q = s.n_heads * head_dim;
  const int64_t kv = s.n_kv_heads * head_dim;
  int64_t n = 2 * d;                    // input and post-attention RMSNorm
  n += q * d + 2 * kv * d + d * q;      // q, k, v, o
  if (HasQkvBias()) n += q + 2 * kv;    // q/k/v biases
  if (HasOBias()) n += d;
  n += 3 * s.intermediate * d;  // gate, up, down
  if (HasMlpBias()) n += 2 * s.intermediate + d;
  return n;
}

int64_t LlamaConfig::DecoderParameters() const {
  int64_t n = 0;
  for (int64_t l = 0; l < num_layers; ++l) n += DecoderLayerParameters(l);
  return n;
}

int64_t LlamaConfig::TotalParameters() const {
  int64_t n = DecoderParameters() + vocab_size * hidden_size + hidden_size;
  if (!tie_word_embeddings) n += vocab_size * hidden_size;
  return n;
}

}  // namespace gisp
