#include "gisp/testing/random_model.h"

#include <cmath>
#include <random>

#include "gisp/testing/compare.h"

namespace gisp {
namespace testing {

LayerShape PrunedLayer(std::vector<int32_t> kv_map, int64_t n_kv, int64_t intermediate) {
  LayerShape s;
  s.n_heads = static_cast<int64_t>(kv_map.size());
  s.n_kv_heads = n_kv;
  s.kv_map = std::move(kv_map);
  s.intermediate = intermediate;
  return s;
}

LlamaConfig SmallConfig(int64_t vocab, int64_t hidden, int64_t layers, int64_t heads,
                        int64_t kv_heads, int64_t head_dim, int64_t intermediate) {
  LlamaConfig c;
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.num_layers = layers;
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.head_dim = head_dim;
  c.intermediate_size = intermediate;
  c.rms_norm_eps = 1e-5;
  c.max_position_embeddings = 512;
  c.FillDenseLayers();
  return c;
}

LlamaWeights RandomWeights(const LlamaConfig& config, uint32_t seed) {
  std::mt19937 rng(seed);
  LlamaWeights w;
  ForEachParameter(config, &w, [&](const std::string& name, Tensor* t) {
    Shape shape;
    for (const ParameterSpec& spec : ParameterSpecs(config)) {
      if (spec.name == name) shape = spec.shape;
    }
    const bool norm = name.find("norm") != std::string::npos;
    const bool bias = name.find("bias") != std::string::npos;
    if (norm) {
      *t = RandomTensor(shape, &rng, 0.3f);
      for (int64_t i = 0; i < t->numel(); ++i) t->f32()[i] += 1.0f;
    } else if (bias) {
      *t = RandomTensor(shape, &rng, 0.1f);
    } else {
      const float fan_in = static_cast<float>(shape.size() == 2 ? shape[1] : 1);
      // Uniform(-a, a) has std a / sqrt(3); aim for std ~ 1.5 / sqrt(fan_in) so activations
      // and gradients stay O(1) through a few layers.
      const float a = std::sqrt(3.0f) * 1.5f / std::sqrt(std::max(fan_in, 1.0f));
      *t = RandomTensor(shape, &rng, name.find("embed") != std::string::npos ? 1.0f : a);
    }
  });
  if (config.tie_word_embeddings) w.lm_head = w.embed;
  return w;
}

Batch RandomBatch(const LlamaConfig& config, int64_t b, int64_t t, uint32_t seed) {
  std::mt19937 rng(seed);
  Batch batch;
  batch.tokens = RandomInts({b, t}, &rng, 0, static_cast<int32_t>(config.vocab_size - 1));
  batch.targets = Tensor::Host({b, t}, DType::kI32).value();
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < t; ++j) {
      batch.targets.i32()[i * t + j] = j + 1 < t ? batch.tokens.i32()[i * t + j + 1] : -1;
    }
  }
  return batch;
}

}  // namespace testing
}  // namespace gisp
