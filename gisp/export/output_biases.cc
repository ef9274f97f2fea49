#include "gisp/export/output_biases.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

absl::StatusOr<Tensor> Zeros(int64_t n, DType dtype) {
  return Tensor::Host({n}, dtype);  // zero-filled
}

// bias [n] (any float dtype) += delta [n], computed in f32.
absl::Status AddInto(const std::vector<float>& delta, Tensor* bias) {
  const size_t n = delta.size();
  std::vector<float> sum(n);
  ConvertElements(bias->dtype(), bias->raw(), DType::kF32, sum.data(), n);
  for (size_t i = 0; i < n; ++i) sum[i] += delta[i];
  // A fresh tensor: the old one may share its buffer (a checkpoint mapping, another copy).
  GISP_ASSIGN_OR_RETURN(Tensor out, Tensor::Host(bias->shape(), bias->dtype()));
  ConvertElements(DType::kF32, sum.data(), out.dtype(), out.raw(), n);
  *bias = std::move(out);
  return absl::OkStatus();
}

absl::Status CheckDeltas(const std::vector<std::vector<float>>& delta, const char* what,
                         const LlamaConfig& c) {
  GISP_CHECK_ARG(static_cast<int64_t>(delta.size()) == c.num_layers, "output biases: ", what,
                 " has ", delta.size(), " layers, the model has ", c.num_layers);
  for (size_t l = 0; l < delta.size(); ++l) {
    GISP_CHECK_ARG(static_cast<int64_t>(delta[l].size()) == c.hidden_size, "output biases: ", what,
                   "[", l, "] has ", delta[l].size(), " entries, hidden_size is ", c.hidden_size);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AddOutputBiases(const std::vector<std::vector<float>>& o_delta,
                             const std::vector<std::vector<float>>& down_delta, LlamaConfig* config,
                             LlamaWeights* weights) {
  const LlamaConfig& c = *config;
  GISP_RETURN_IF_ERROR(c.Validate());
  GISP_RETURN_IF_ERROR(CheckDeltas(o_delta, "o_delta", c));
  GISP_RETURN_IF_ERROR(CheckDeltas(down_delta, "down_delta", c));
  GISP_CHECK_ARG(static_cast<int64_t>(weights->layers.size()) == c.num_layers,
                 "output biases: the weights have ", weights->layers.size(), " layers, the config ",
                 c.num_layers);
  // Work on copies so an error leaves the model untouched.
  LlamaConfig out_config = c;
  std::vector<LayerWeights> layers = weights->layers;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerShape& s = c.layers[static_cast<size_t>(l)];
    LayerWeights& w = layers[static_cast<size_t>(l)];
    const DType dtype = w.o_proj.dtype();
    const int64_t q = s.n_heads * c.head_dim, kv = s.n_kv_heads * c.head_dim;
    const struct {
      Tensor* bias;
      int64_t n;
      const char* name;
    } slots[] = {{&w.q_bias, q, "q_proj"},
                 {&w.k_bias, kv, "k_proj"},
                 {&w.v_bias, kv, "v_proj"},
                 {&w.o_bias, c.hidden_size, "o_proj"},
                 {&w.gate_bias, s.intermediate, "gate_proj"},
                 {&w.up_bias, s.intermediate, "up_proj"},
                 {&w.down_bias, c.hidden_size, "down_proj"}};
    for (const auto& slot : slots) {
      if (slot.bias->empty()) {
        GISP_ASSIGN_OR_RETURN(*slot.bias, Zeros(slot.n, dtype));
      } else if (slot.bias->shape() != Shape{slot.n}) {
        return absl::InvalidArgumentError(
            absl::StrCat("output biases: layer ", l, " ", slot.name, " bias has shape ",
                         ShapeToString(slot.bias->shape()), ", expected [", slot.n, "]"));
      }
    }
    GISP_RETURN_IF_ERROR(AddInto(o_delta[static_cast<size_t>(l)], &w.o_bias));
    GISP_RETURN_IF_ERROR(AddInto(down_delta[static_cast<size_t>(l)], &w.down_bias));
  }
  out_config.model_type = "llama";
  out_config.attention_bias = true;
  out_config.mlp_bias = true;
  *config = std::move(out_config);
  weights->layers = std::move(layers);
  return absl::OkStatus();
}

}  // namespace gisp
