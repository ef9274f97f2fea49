// LlamaConfig: the shape and hyper-parameters of a Llama-family decoder, as read from an HF
// config.json (see gisp/io/hf_config.h), plus per-layer widths once a model has been pruned.
//
// Dimension names used across gisp: B batch, T sequence, D hidden, H query heads, KV key/value
// heads, Dh head dim, F intermediate (MLP) size, V vocabulary, L layers.
#ifndef GISP_MODEL_CONFIG_H_
#define GISP_MODEL_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gisp/base/dtype.h"

namespace gisp {

struct RopeScaling {
  enum class Type { kNone = 0, kLinear = 1, kLlama3 = 2 };
  Type type = Type::kNone;
  double factor = 1.0;
  // llama3 only.
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

// Widths of one decoder layer. A dense model has n_heads = H, n_kv_heads = KV, kv_map[h] = h /
// (H / KV) and intermediate = F in every layer; pruning changes them per layer.
struct LayerShape {
  int64_t n_heads = 0;          // query heads kept in this layer
  int64_t n_kv_heads = 0;       // key/value heads kept in this layer
  std::vector<int32_t> kv_map;  // [n_heads]: the KV head (0..n_kv_heads-1) each query head reads
  int64_t intermediate = 0;     // MLP channels kept in this layer
};

struct LlamaConfig {
  std::string model_type = "llama";  // llama, mistral, qwen2
  int64_t vocab_size = 0;            // V
  int64_t hidden_size = 0;           // D
  int64_t num_layers = 0;            // L
  int64_t num_heads = 0;             // H (dense)
  int64_t num_kv_heads = 0;          // KV (dense)
  int64_t head_dim = 0;              // Dh (explicit in config.json or D / H)
  int64_t intermediate_size = 0;     // F (dense)
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 2048;
  bool tie_word_embeddings = false;
  // HF's flags. attention_bias: q/k/v biases, and for model_type llama also an o_proj bias
  // (transformers' LlamaAttention gives all four projections `bias=attention_bias`; Qwen2 has
  // q/k/v biases only and always, Mistral none). mlp_bias: gate/up/down biases (llama only).
  bool attention_bias = false;
  bool mlp_bias = false;
  DType torch_dtype = DType::kF32;  // the checkpoint's storage dtype
  int64_t bos_token_id = -1;        // -1: none
  int64_t eos_token_id = -1;

  // One entry per layer; filled with the dense shape by FillDenseLayers() when config.json has
  // no per-layer widths.
  std::vector<LayerShape> layers;

  // Sets `layers` to the dense shape (every layer H / KV / F).
  void FillDenseLayers();
  // Checks internal consistency (positive sizes, H divisible by KV, kv_map in range, ...).
  // Errors name the field and the value.
  absl::Status Validate() const;
  // True when every layer has the dense shape.
  bool IsDense() const;

  // Which projections carry a bias ([out_features] each), derived from the flags above.
  bool HasQkvBias() const { return attention_bias; }
  bool HasOBias() const { return attention_bias && model_type == "llama"; }
  bool HasMlpBias() const { return mlp_bias; }

  // Parameter counts. Decoder-layer parameters include the two RMSNorm weights per layer and
  // every linear bias the model has (q/k/v, o, gate/up/down), but not embeddings, the final
  // norm or lm_head (method.md section 5; docs/formats.md "Decoder sparsity").
  int64_t DecoderLayerParameters(int64_t layer) const;
  int64_t DecoderParameters() const;
  int64_t TotalParameters() const;
};

// The dense query-head -> KV-head map: h / (H / KV).
std::vector<int32_t> DenseKvMap(int64_t n_heads, int64_t n_kv_heads);

}  // namespace gisp

#endif  // GISP_MODEL_CONFIG_H_
