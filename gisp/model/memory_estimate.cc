#include "gisp/model/memory_estimate.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gisp/model/layer.h"
#include "gisp/model/weights.h"

namespace gisp {
namespace {

bool IsMatrix(const ParameterSpec& spec) {
  const std::string& n = spec.name;
  auto ends = [&](const char* suffix) {
    const std::string s(suffix);
    return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
  };
  return ends("_proj.weight") || ends("embed_tokens.weight") || ends("lm_head.weight");
}

std::string Gib(int64_t bytes) {
  return absl::StrFormat("%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
}

// Weight bytes per decoder layer (index l + 1) and of the rest (index 0).
std::vector<int64_t> WeightBytesByLayer(const LlamaConfig& config, DType weight_dtype,
                                        DType compute_dtype) {
  std::vector<int64_t> bytes(static_cast<size_t>(config.num_layers + 1), 0);
  for (const ParameterSpec& spec : ParameterSpecs(config)) {
    const DType dtype = IsMatrix(spec) ? weight_dtype : compute_dtype;
    bytes[static_cast<size_t>(spec.layer + 1)] +=
        NumElements(spec.shape) * static_cast<int64_t>(DTypeSize(dtype));
  }
  return bytes;
}

// Gradient-buffer bytes `request` selects, per decoder layer (index l + 1) and of the rest.
std::vector<int64_t> GradientBytesByLayer(const LlamaConfig& config, const GradRequest& request,
                                          int64_t e) {
  std::vector<int64_t> bytes(static_cast<size_t>(config.num_layers + 1), 0);
  for (const ParameterSpec& spec : ParameterSpecs(config)) {
    bool wanted = false;
    if (spec.layer >= 0) {
      const uint32_t m = request.layer(spec.layer);
      const std::string& s = spec.name;
      auto has = [&](const char* part) { return s.find(part) != std::string::npos; };
      // Every linear bias (q/k/v/o/gate/up/down) is selected by kParamBiases alone.
      wanted = has(".bias") ? (m & kParamBiases) != 0
                            : (has("q_proj.weight") && (m & kParamQ)) ||
                                  (has("k_proj.weight") && (m & kParamK)) ||
                                  (has("v_proj.weight") && (m & kParamV)) ||
                                  (has("o_proj.weight") && (m & kParamO)) ||
                                  (has("gate_proj") && (m & kParamGate)) ||
                                  (has("up_proj") && (m & kParamUp)) ||
                                  (has("down_proj") && (m & kParamDown)) ||
                                  (has("norm") && (m & kParamNorms));
    } else {
      wanted = (spec.name.find("embed") != std::string::npos &&
                (request.embeddings || (request.lm_head && config.tie_word_embeddings))) ||
               (spec.name.find("lm_head") != std::string::npos && request.lm_head) ||
               (spec.name.find("norm") != std::string::npos && request.final_norm);
    }
    if (wanted) bytes[static_cast<size_t>(spec.layer + 1)] += NumElements(spec.shape) * e;
  }
  return bytes;
}

}  // namespace

int64_t WeightBytes(const LlamaConfig& config, DType weight_dtype, DType compute_dtype) {
  int64_t bytes = 0;
  for (int64_t b : WeightBytesByLayer(config, weight_dtype, compute_dtype)) bytes += b;
  return bytes;
}

int64_t StreamedWeightBytes(const LlamaConfig& config, DType weight_dtype, DType compute_dtype) {
  const std::vector<int64_t> bytes = WeightBytesByLayer(config, weight_dtype, compute_dtype);
  int64_t widest = 0;
  for (size_t i = 1; i < bytes.size(); ++i) widest = std::max(widest, bytes[i]);
  return bytes[0] + widest;
}

int64_t CalibrationPassBytes(const LlamaConfig& config, const GradRequest& request, int64_t batch,
                             int64_t seq, int64_t logits_chunk_floats, DType compute_dtype,
                             bool stream_layers, DType weight_dtype) {
  const int64_t e = static_cast<int64_t>(DTypeSize(compute_dtype));
  const int64_t n = batch * seq, d = config.hidden_size, v = config.vocab_size;
  // Gradient buffers: the requested parameters of each layer, plus embedding/head/final norm.
  // Streamed, one layer's buffers are on the device at a time, with that layer's weights.
  const std::vector<int64_t> per_layer = GradientBytesByLayer(config, request, e);
  int64_t grads = per_layer[0];
  if (stream_layers) {
    const std::vector<int64_t> w = WeightBytesByLayer(config, weight_dtype, compute_dtype);
    int64_t widest = 0;
    for (size_t i = 1; i < per_layer.size(); ++i) widest = std::max(widest, per_layer[i] + w[i]);
    grads += widest;
  } else {
    for (size_t i = 1; i < per_layer.size(); ++i) grads += per_layer[i];
  }
  // Layer inputs kept for backward, the widest layer's activations and backward temporaries.
  int64_t layer = 0, temporaries = 0;
  for (int64_t l = 0; l < config.num_layers; ++l) {
    const LayerShape& s = config.layers[static_cast<size_t>(l)];
    layer = std::max(layer, LayerActivationBytes(config, l, n, batch) / 4 * e);
    temporaries =
        std::max(temporaries, e * n *
                                  (s.intermediate + 2 * d + 2 * s.n_heads * config.head_dim +
                                   2 * s.n_kv_heads * config.head_dim));
  }
  const int64_t checkpoints = e * (config.num_layers + 1) * n * d;
  const int64_t rows = std::clamp<int64_t>(logits_chunk_floats / std::max<int64_t>(v, 1), 1,
                                           std::max<int64_t>(n, 1));
  const int64_t head = e * (rows * v + 2 * n * d);
  return grads + checkpoints + layer + temporaries + head;
}

absl::Status CheckFits(absl::string_view what, int64_t need, const MemoryInfo& memory,
                       const Device& device) {
  if (need <= memory.free_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s needs about %s of %s memory (docs/memory.md), but only %s of %s is free", what, Gib(need),
      device.ToString(), Gib(memory.free_bytes), Gib(memory.total_bytes)));
}

}  // namespace gisp
