// LlamaWeights: every parameter of a Llama-family decoder as named tensors. The same struct holds
// gradients (LlamaGradients): a gradient tensor left empty means "not requested" and is skipped.
//
// Shapes use the names of config.h; per layer, Hq = n_heads, KVl = n_kv_heads, Fl = intermediate.
#ifndef GISP_MODEL_WEIGHTS_H_
#define GISP_MODEL_WEIGHTS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/model/config.h"
#include "gisp/tensor/tensor.h"

namespace gisp {

struct LayerWeights {
  Tensor input_norm;  // [D]
  Tensor q_proj;      // [Hq*Dh, D]
  Tensor k_proj;      // [KVl*Dh, D]
  Tensor v_proj;      // [KVl*Dh, D]
  Tensor o_proj;      // [D, Hq*Dh]
  Tensor q_bias;      // [Hq*Dh]   (attention_bias only)
  Tensor k_bias;      // [KVl*Dh]  (attention_bias only)
  Tensor v_bias;      // [KVl*Dh]  (attention_bias only)
  Tensor o_bias;      // [D]       (HasOBias only: llama with attention_bias)
  Tensor post_norm;   // [D]
  Tensor gate_proj;   // [Fl, D]
  Tensor up_proj;     // [Fl, D]
  Tensor down_proj;   // [D, Fl]
  Tensor gate_bias;   // [Fl]      (mlp_bias only)
  Tensor up_bias;     // [Fl]      (mlp_bias only)
  Tensor down_bias;   // [D]       (mlp_bias only)
};

struct LlamaWeights {
  Tensor embed;  // [V, D]
  std::vector<LayerWeights> layers;
  Tensor final_norm;  // [D]
  Tensor lm_head;     // [V, D]; for tied embeddings the same buffer as `embed`
};

using LlamaGradients = LlamaWeights;

// Every tensor slot of LayerWeights, with whether it is one of the large matrices (q/k/v/o/gate/
// up/down: kept in the weight dtype) or a norm or bias (the compute dtype). For code that moves
// whole layers (layer streaming).
struct LayerMember {
  Tensor LayerWeights::*member;
  bool matrix;
};
const std::vector<LayerMember>& LayerMembers();

// The HF name of every parameter ("model.layers.3.self_attn.q_proj.weight") with its expected
// shape under `config`. Biases appear only when the config has them (HasQkvBias, HasOBias,
// HasMlpBias), each right after its weight; lm_head.weight only when embeddings are untied.
struct ParameterSpec {
  std::string name;
  Shape shape;
  int64_t layer = -1;  // -1 for embeddings, final norm, lm_head
};
std::vector<ParameterSpec> ParameterSpecs(const LlamaConfig& config);

// Calls `fn(name, tensor)` for every parameter slot of `weights` in ParameterSpecs order,
// including empty slots (callers skip those). The tied lm_head is not visited separately.
void ForEachParameter(const LlamaConfig& config, LlamaWeights* weights,
                      const std::function<void(const std::string&, Tensor*)>& fn);

}  // namespace gisp

#endif  // GISP_MODEL_WEIGHTS_H_
