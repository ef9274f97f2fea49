// One calibration pass: forward + backward over every calibration batch with the current
// (masked or compacted) model, accumulating the gradient of the objective into fp32 buffers.
// The batches' loss weights already contain the 1/n factors (gisp/data/sequences.h), so the
// buffers hold Gbar when the pass ends; a data-parallel rank runs its share of the batches and
// holds its part of that sum (ReduceGradients then adds the parts up).
#ifndef GISP_SALIENCY_CALIBRATION_PASS_H_
#define GISP_SALIENCY_CALIBRATION_PASS_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/comm/communicator.h"
#include "gisp/data/sequences.h"
#include "gisp/model/grad_request.h"
#include "gisp/model/llama_model.h"

namespace gisp {

struct CalibrationPassResult {
  // One entry per batch of the whole set: the mean NLL over its labelled tokens for the batches
  // the pass ran, 0 for the others (so ranks' vectors add up to the full set's).
  std::vector<double> batch_mean_nll;
};

// Called after each batch with (batches done, total); returning false cancels the pass
// (Cancelled status; the gradient buffers are then incomplete).
using BatchCallback = std::function<bool(int64_t done, int64_t total)>;

// Zeroes `grads` (allocated for `request`) and accumulates the gradient over the batches of
// `range` (all of them by default), in batch order; `on_batch` counts within the range.
absl::StatusOr<CalibrationPassResult> RunCalibrationPass(
    LlamaModel* model, const CalibrationBatches& data, const GradRequest& request,
    LlamaGradients* grads, const BatchCallback& on_batch,
    BatchRange range = BatchRange{0, -1});  // end -1: the last batch

}  // namespace gisp

#endif  // GISP_SALIENCY_CALIBRATION_PASS_H_
