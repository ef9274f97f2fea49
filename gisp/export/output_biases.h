// Adding per-layer vectors to the o_proj and down_proj biases of a (sliced) model: FLAP's bias
// compensation, b += W ((1 - M) * mean(X)), folded into the output projections of each layer.
//
// HF has no flag for "o_proj bias only": transformers' Llama gives attention_bias to q/k/v/o and
// mlp_bias to gate/up/down together. So a model without biases gets zero q/k/v and gate/up
// biases as well (which change nothing) and both flags turn on; Qwen2 (q/k/v biases only) and
// Mistral (none) become model_type llama, which with these flags computes the same function
// (gisp refuses active sliding windows on load, so none is lost).
#ifndef GISP_EXPORT_OUTPUT_BIASES_H_
#define GISP_EXPORT_OUTPUT_BIASES_H_

#include <vector>

#include "absl/status/status.h"
#include "gisp/model/config.h"
#include "gisp/model/weights.h"

namespace gisp {

// o_delta, down_delta: [L][D], added (in f32, then stored in the bias's dtype) to each layer's
// o_proj and down_proj bias; a layer without heads or channels keeps its bias, which the
// exports write (gisp's forward adds it even when the block is empty). Missing biases are
// created as zeros in the dtype of the layer's o_proj weight. `weights` must hold host tensors
// matching `config` (ParameterSpecs shapes). On error nothing is changed.
absl::Status AddOutputBiases(const std::vector<std::vector<float>>& o_delta,
                             const std::vector<std::vector<float>>& down_delta, LlamaConfig* config,
                             LlamaWeights* weights);

}  // namespace gisp

#endif  // GISP_EXPORT_OUTPUT_BIASES_H_
