#include "gisp/model/head.h"

#include <algorithm>

#include "gisp/base/status.h"

namespace gisp {

absl::Status HeadForwardBackward(Backend* be, Workspace* ws, const LlamaConfig& config,
                                 const LlamaWeights& w, HeadArgs* args) {
  const Tensor& x = *args->x;
  const int64_t n = x.dim(0), d = x.dim(1), v = config.vocab_size;
  const bool backward =
      !args->d_x.empty() || !args->d_lm_head.empty() || !args->d_final_norm.empty();
  GISP_ASSIGN_OR_RETURN(Tensor hf, ws->Get("head.h", {n, d}));
  GISP_ASSIGN_OR_RETURN(Tensor inv_rms, ws->Get("head.inv_rms", {n}));
  GISP_RETURN_IF_ERROR(
      be->RmsNormForward(hf, inv_rms, x, w.final_norm, static_cast<float>(config.rms_norm_eps)));
  Tensor d_hf;
  if (backward) {
    GISP_ASSIGN_OR_RETURN(d_hf, ws->Get("head.d_h", {n, d}));
  }

  const int64_t rows = std::clamp<int64_t>(args->chunk_floats / std::max<int64_t>(v, 1), 1, n);
  GISP_ASSIGN_OR_RETURN(Tensor logits_buf, ws->Get("head.logits", {rows, v}));
  for (int64_t r0 = 0; r0 < n; r0 += rows) {
    const int64_t r1 = std::min(n, r0 + rows);
    const Tensor h = hf.Slice(r0, r1);
    const Tensor logits = logits_buf.View(0, {r1 - r0, v});
    GISP_RETURN_IF_ERROR(be->Gemm(logits, h, false, w.lm_head, true, 1.0f, 0.0f));
    if (!args->logits_out.empty()) {
      GISP_RETURN_IF_ERROR(be->Download(args->logits_out.Slice(r0, r1), logits));
    }
    GISP_RETURN_IF_ERROR(be->CrossEntropy(args->nll.Slice(r0, r1), backward ? logits : Tensor(),
                                          logits, args->targets->Slice(r0, r1),
                                          args->weights->Slice(r0, r1)));
    if (!backward) continue;
    // logits now hold dL/dlogits.
    if (!args->d_lm_head.empty()) {
      GISP_RETURN_IF_ERROR(be->Gemm(args->d_lm_head, logits, true, h, false, 1.0f, 1.0f));
    }
    GISP_RETURN_IF_ERROR(be->Gemm(d_hf.Slice(r0, r1), logits, false, w.lm_head, false, 1.0f, 0.0f));
  }
  if (!backward) return absl::OkStatus();
  if (!args->d_x.empty()) GISP_RETURN_IF_ERROR(be->Fill(args->d_x, 0.0f));
  Tensor dx = args->d_x;
  if (dx.empty()) {
    GISP_ASSIGN_OR_RETURN(dx, ws->Get("head.d_x_unused", {n, d}));
  }
  return be->RmsNormBackward(dx, args->d_final_norm, d_hf, x, w.final_norm, inv_rms);
}

}  // namespace gisp
