// The model head: final RMSNorm, lm_head and softmax cross-entropy, optionally with backward.
// Logits are produced in row chunks ([rows, V] at a time) so a 128k vocabulary never needs an
// [N, V] tensor; each chunk's cross-entropy gradient overwrites its logits in place.
#ifndef GISP_MODEL_HEAD_H_
#define GISP_MODEL_HEAD_H_

#include <cstdint>

#include "absl/status/status.h"
#include "gisp/backend/backend.h"
#include "gisp/model/config.h"
#include "gisp/model/weights.h"
#include "gisp/model/workspace.h"

namespace gisp {

struct HeadArgs {
  const Tensor* x = nullptr;        // [N, D] last layer output
  const Tensor* targets = nullptr;  // i32 [N], -1 = no loss
  const Tensor* weights = nullptr;  // f32 [N] loss weights
  Tensor nll;                       // out [N]: per-token negative log-likelihood
  Tensor logits_out;                // optional out, host [N, V]: full logits (tests, tools)
  Tensor d_x;                       // optional out [N, D]: dL/dx (overwritten), L = sum w * nll
  Tensor d_lm_head;                 // optional [V, D] +=
  Tensor d_final_norm;              // optional [D] +=
  int64_t chunk_floats = int64_t{16} << 20;  // logits floats per chunk
};

absl::Status HeadForwardBackward(Backend* backend, Workspace* ws, const LlamaConfig& config,
                                 const LlamaWeights& w, HeadArgs* args);

}  // namespace gisp

#endif  // GISP_MODEL_HEAD_H_
