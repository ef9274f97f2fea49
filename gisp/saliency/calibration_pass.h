// One calibration pass: forward + backward over every calibration batch with the current
// (masked or compacted) model, accumulating the gradient of the objective into fp32 buffers.
// The batches' loss weights already contain the 1/n factors (gisp/data/sequences.h), so the
// buffers hold Gbar when the pass ends.
#ifndef GISP_SALIENCY_CALIBRATION_PASS_H_
#define GISP_SALIENCY_CALIBRATION_PASS_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/data/sequences.h"
#include "gisp/model/grad_request.h"
#include "gisp/model/llama_model.h"

namespace gisp {

struct CalibrationPassResult {
  std::vector<double> batch_mean_nll;  // per batch: mean NLL over its labelled tokens
  double loss = 0;                     // CalibrationLoss of the batches
};

// Called after each batch with (batches done, total); returning false cancels the pass
// (Cancelled status; the gradient buffers are then incomplete).
using BatchCallback = std::function<bool(int64_t done, int64_t total)>;

// Zeroes `grads` (allocated for `request`) and accumulates Gbar over all batches.
absl::StatusOr<CalibrationPassResult> RunCalibrationPass(LlamaModel* model,
                                                         const CalibrationBatches& data,
                                                         const GradRequest& request,
                                                         LlamaGradients* grads,
                                                         const BatchCallback& on_batch);

}  // namespace gisp

#endif  // GISP_SALIENCY_CALIBRATION_PASS_H_
