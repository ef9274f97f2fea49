// Small random Llama-family models for tests.
#ifndef GISP_TESTING_RANDOM_MODEL_H_
#define GISP_TESTING_RANDOM_MODEL_H_

#include <cstdint>
#include <vector>

#include "gisp/model/config.h"
#include "gisp/model/llama_model.h"
#include "gisp/model/weights.h"

namespace gisp {
namespace testing {

// A config with the given sizes (dense layers); other fields at Llama defaults.
LlamaConfig SmallConfig(int64_t vocab, int64_t hidden, int64_t layers, int64_t heads,
                        int64_t kv_heads, int64_t head_dim, int64_t intermediate);

// A pruned layer's shape: query head i reads KV head kv_map[i] of `n_kv`; `intermediate` MLP
// channels.
LayerShape PrunedLayer(std::vector<int32_t> kv_map, int64_t n_kv, int64_t intermediate);

// Host f32 weights for `config` (per-layer shapes honoured): matrices uniform with std ~
// 1/sqrt(fan_in), norms around 1, biases small. Deterministic in `seed`.
LlamaWeights RandomWeights(const LlamaConfig& config, uint32_t seed);

// tokens i32 [B, T] uniform in the vocabulary; targets the next token (last position -1).
Batch RandomBatch(const LlamaConfig& config, int64_t b, int64_t t, uint32_t seed);

}  // namespace testing
}  // namespace gisp

#endif  // GISP_TESTING_RANDOM_MODEL_H_
