#include "gisp/model/grad_request.h"

namespace gisp {

GradRequest GradRequest::All(const LlamaConfig& config) {
  GradRequest r;
  r.embeddings = r.lm_head = r.final_norm = true;
  r.layers.assign(static_cast<size_t>(config.num_layers), kParamAll);
  return r;
}

GradRequest GradRequest::Layers(const LlamaConfig& config, uint32_t mask) {
  GradRequest r;
  r.layers.assign(static_cast<size_t>(config.num_layers), mask);
  return r;
}

int64_t GradRequest::StopLayer(int64_t num_layers) const {
  if (embeddings) return -1;
  for (int64_t l = 0; l < num_layers; ++l) {
    if (layer(l) != 0) return l;
  }
  return num_layers;
}

}  // namespace gisp
