#include "gisp/model/weights.h"

#include "absl/strings/str_cat.h"

namespace gisp {
namespace {

// One table drives both the spec list and the visitor so names and shapes cannot drift apart.
enum class BiasGroup { kNone, kQkv, kO, kMlp };

struct LayerSlot {
  const char* suffix;
  Tensor LayerWeights::*member;
  BiasGroup bias;
};

bool HasSlot(const LlamaConfig& c, const LayerSlot& slot) {
  switch (slot.bias) {
    case BiasGroup::kNone:
      return true;
    case BiasGroup::kQkv:
      return c.HasQkvBias();
    case BiasGroup::kO:
      return c.HasOBias();
    case BiasGroup::kMlp:
      return c.HasMlpBias();
  }
  return true;
}

// New slots go after their weight so that models without them keep the old order (the
// fingerprint hashes tensors in this order).
constexpr LayerSlot kLayerSlots[] = {
    {"input_layernorm.weight", &LayerWeights::input_norm, BiasGroup::kNone},
    {"self_attn.q_proj.weight", &LayerWeights::q_proj, BiasGroup::kNone},
    {"self_attn.q_proj.bias", &LayerWeights::q_bias, BiasGroup::kQkv},
    {"self_attn.k_proj.weight", &LayerWeights::k_proj, BiasGroup::kNone},
    {"self_attn.k_proj.bias", &LayerWeights::k_bias, BiasGroup::kQkv},
    {"self_attn.v_proj.weight", &LayerWeights::v_proj, BiasGroup::kNone},
    {"self_attn.v_proj.bias", &LayerWeights::v_bias, BiasGroup::kQkv},
    {"self_attn.o_proj.weight", &LayerWeights::o_proj, BiasGroup::kNone},
    {"self_attn.o_proj.bias", &LayerWeights::o_bias, BiasGroup::kO},
    {"post_attention_layernorm.weight", &LayerWeights::post_norm, BiasGroup::kNone},
    {"mlp.gate_proj.weight", &LayerWeights::gate_proj, BiasGroup::kNone},
    {"mlp.gate_proj.bias", &LayerWeights::gate_bias, BiasGroup::kMlp},
    {"mlp.up_proj.weight", &LayerWeights::up_proj, BiasGroup::kNone},
    {"mlp.up_proj.bias", &LayerWeights::up_bias, BiasGroup::kMlp},
    {"mlp.down_proj.weight", &LayerWeights::down_proj, BiasGroup::kNone},
    {"mlp.down_proj.bias", &LayerWeights::down_bias, BiasGroup::kMlp},
};

Shape LayerSlotShape(const LlamaConfig& c, const LayerShape& s, Tensor LayerWeights::*member) {
  const int64_t d = c.hidden_size;
  const int64_t q = s.n_heads * c.head_dim;
  const int64_t kv = s.n_kv_heads * c.head_dim;
  if (member == &LayerWeights::input_norm || member == &LayerWeights::post_norm) return {d};
  if (member == &LayerWeights::q_proj) return {q, d};
  if (member == &LayerWeights::k_proj || member == &LayerWeights::v_proj) return {kv, d};
  if (member == &LayerWeights::o_proj) return {d, q};
  if (member == &LayerWeights::q_bias) return {q};
  if (member == &LayerWeights::k_bias || member == &LayerWeights::v_bias) return {kv};
  if (member == &LayerWeights::o_bias || member == &LayerWeights::down_bias) return {d};
  if (member == &LayerWeights::gate_bias || member == &LayerWeights::up_bias) {
    return {s.intermediate};
  }
  if (member == &LayerWeights::gate_proj || member == &LayerWeights::up_proj) {
    return {s.intermediate, d};
  }
  return {d, s.intermediate};  // down_proj
}

}  // namespace

const std::vector<LayerMember>& LayerMembers() {
  static const std::vector<LayerMember>* members = [] {
    auto* m = new std::vector<LayerMember>;
    for (const LayerSlot& slot : kLayerSlots) {
      const bool norm =
          slot.member == &LayerWeights::input_norm || slot.member == &LayerWeights::post_norm;
      m->push_back({slot.member, !norm && slot.bias == BiasGroup::kNone});
    }
    return m;
  }();
  return *members;
}

std::vector<ParameterSpec> ParameterSpecs(const LlamaConfig& config) {
  std::vector<ParameterSpec> specs;
  specs.push_back({"model.embed_tokens.weight", {config.vocab_size, config.hidden_size}, -1});
  for (int64_t l = 0; l < config.num_layers; ++l) {
    const LayerShape& s = config.layers[static_cast<size_t>(l)];
    for (const LayerSlot& slot : kLayerSlots) {
      if (!HasSlot(config, slot)) continue;
      specs.push_back({absl::StrCat("model.layers.", l, ".", slot.suffix),
                       LayerSlotShape(config, s, slot.member), l});
    }
  }
  specs.push_back({"model.norm.weight", {config.hidden_size}, -1});
  if (!config.tie_word_embeddings) {
    specs.push_back({"lm_head.weight", {config.vocab_size, config.hidden_size}, -1});
  }
  return specs;
}

void ForEachParameter(const LlamaConfig& config, LlamaWeights* weights,
                      const std::function<void(const std::string&, Tensor*)>& fn) {
  fn("model.embed_tokens.weight", &weights->embed);
  weights->layers.resize(static_cast<size_t>(config.num_layers));
  for (int64_t l = 0; l < config.num_layers; ++l) {
    LayerWeights& lw = weights->layers[static_cast<size_t>(l)];
    for (const LayerSlot& slot : kLayerSlots) {
      if (!HasSlot(config, slot)) continue;
      fn(absl::StrCat("model.layers.", l, ".", slot.suffix), &(lw.*slot.member));
    }
  }
  fn("model.norm.weight", &weights->final_norm);
  if (!config.tie_word_embeddings) fn("lm_head.weight", &weights->lm_head);
}

}  // namespace gisp
