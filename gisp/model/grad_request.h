// GradRequest: which parameter gradients a backward pass computes. Everything not requested is
// skipped (no GEMM, no buffer), and backward stops below the lowest layer that needs anything.
// A GISP calibration pass asks only for the prunable linears of unprotected layers.
#ifndef GISP_MODEL_GRAD_REQUEST_H_
#define GISP_MODEL_GRAD_REQUEST_H_

#include <cstdint>
#include <vector>

#include "gisp/model/config.h"

namespace gisp {

// Bits of GradRequest::layers[l].
enum LayerParam : uint32_t {
  kParamQ = 1u << 0,
  kParamK = 1u << 1,
  kParamV = 1u << 2,
  kParamO = 1u << 3,
  kParamGate = 1u << 4,
  kParamUp = 1u << 5,
  kParamDown = 1u << 6,
  kParamNorms = 1u << 7,   // input and post-attention RMSNorm weights
  kParamBiases = 1u << 8,  // every linear bias the model has (q/k/v, o, gate/up/down)
  kParamLinears = kParamQ | kParamK | kParamV | kParamO | kParamGate | kParamUp | kParamDown,
  kParamAll = kParamLinears | kParamNorms | kParamBiases,
};

struct GradRequest {
  bool embeddings = false;
  bool lm_head = false;  // with tied embeddings, lands in the embedding gradient
  bool final_norm = false;
  std::vector<uint32_t> layers;  // one LayerParam mask per layer (missing = none)

  // Every parameter of the model.
  static GradRequest All(const LlamaConfig& config);
  // Only the given layer bits in every layer.
  static GradRequest Layers(const LlamaConfig& config, uint32_t mask);

  uint32_t layer(int64_t l) const {
    return l < static_cast<int64_t>(layers.size()) ? layers[static_cast<size_t>(l)] : 0u;
  }
  // The lowest layer whose input gradient must be computed: -1 if gradients must reach the
  // embedding, L if no layer needs anything (then backward stops at the head).
  int64_t StopLayer(int64_t num_layers) const;
};

}  // namespace gisp

#endif  // GISP_MODEL_GRAD_REQUEST_H_
