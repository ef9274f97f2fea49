// One decoder layer: forward (optionally keeping what backward needs) and backward.
//
//   h1 = rmsnorm(x) ; q, k, v = h1 Wq^T (+bq), h1 Wk^T (+bk), h1 Wv^T (+bv) ; rope(q, k)
//   a = attention(q, k, v) ; x2 = x + a Wo^T (+bo)
//   h2 = rmsnorm(x2) ; act = silu(h2 Wg^T (+bg)) * (h2 Wu^T (+bu)) ; out = x2 + act Wd^T (+bd)
//
// Biases are optional (empty tensors). They never enter the input or weight gradients except
// through the saved activations (gate/up/q/k/v are stored after their bias), so backward is the
// same code with or without them; bias gradients are column sums of the output gradients.
//
// N = B * T tokens; widths come from config.layers[l] so compacted layers need no special code.
#ifndef GISP_MODEL_LAYER_H_
#define GISP_MODEL_LAYER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "gisp/backend/backend.h"
#include "gisp/model/config.h"
#include "gisp/model/grad_request.h"
#include "gisp/model/weights.h"
#include "gisp/model/workspace.h"

namespace gisp {

// What backward needs from one layer's forward pass. Backward overwrites gate/up in place.
struct LayerActivations {
  Tensor h1;        // [N, D]
  Tensor inv_rms1;  // [N]
  Tensor q;         // [B, T, Hq, Dh] after RoPE
  Tensor k;         // [B, T, KVl, Dh] after RoPE
  Tensor v;         // [B, T, KVl, Dh]
  Tensor attn;      // [B, T, Hq, Dh]
  Tensor lse;       // [B, Hq, T]
  Tensor x2;        // [N, D]
  Tensor h2;        // [N, D]
  Tensor inv_rms2;  // [N]
  Tensor gate;      // [N, Fl]
  Tensor up;        // [N, Fl]
  Tensor act;       // [N, Fl]
};

struct LayerContext {
  Backend* backend = nullptr;
  const LlamaConfig* config = nullptr;
  int64_t layer = 0;
  int64_t batch = 0;  // B
  int64_t seq = 0;    // T
  Tensor rope_cos;    // [P, Dh/2] on the backend's device, P >= T
  Tensor rope_sin;
  const IndexList* kv_map = nullptr;  // [Hq] on the device: the KV head of each query head
  Workspace* workspace = nullptr;     // temporaries
};

// Bytes of LayerActivations for layer l at B x T tokens.
int64_t LayerActivationBytes(const LlamaConfig& config, int64_t layer, int64_t tokens,
                             int64_t batch);

// Activation tensors for the layer's shape, from workspace buffers named "<prefix>.<field>".
absl::StatusOr<LayerActivations> GetLayerActivations(const LayerContext& ctx,
                                                     const std::string& prefix);

// out = layer(x); x, out: [N, D], distinct buffers. Fills `acts`.
absl::Status LayerForward(const LayerContext& ctx, const LayerWeights& w, const Tensor& x,
                          const Tensor& out, LayerActivations* acts);

// Backward through the layer. On entry `d` holds dL/d(out) [N, D]; on exit dL/dx when need_dx
// (otherwise its contents are unspecified). Parameter gradients selected by `mask` (LayerParam
// bits) are accumulated (+=) into `grads`, whose tensors for those bits must be allocated.
// `acts` must come from LayerForward on the same x; gate/up are overwritten.
absl::Status LayerBackward(const LayerContext& ctx, const LayerWeights& w, const Tensor& x,
                           LayerActivations* acts, uint32_t mask, LayerWeights* grads,
                           const Tensor& d, bool need_dx);

}  // namespace gisp

#endif  // GISP_MODEL_LAYER_H_
