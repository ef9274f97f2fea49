#include "gisp/saliency/calibration_pass.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gisp/base/call_context.h"
#include "gisp/base/status.h"

namespace gisp {

absl::StatusOr<CalibrationPassResult> RunCalibrationPass(
    LlamaModel* model, const CalibrationBatches& data, const GradRequest& request,
    LlamaGradients* grads, const BatchCallback& on_batch, BatchRange range) {
  Backend* backend = model->backend();
  std::vector<Tensor*> buffers;
  ForEachParameter(model->config(), grads, [&](const std::string&, Tensor* t) {
    if (!t->empty()) buffers.push_back(t);
  });
  for (Tensor* t : buffers) {
    if (t->device() != backend->device()) {
      std::memset(t->raw(), 0, t->bytes());  // a streamed model's host Gbar
    } else {
      GISP_RETURN_IF_ERROR(backend->Fill(*t, 0.0f));
    }
  }
  const int64_t n = static_cast<int64_t>(data.batches.size());
  if (range.end < 0) range.end = n;
  GISP_CHECK_ARG(0 <= range.begin && range.begin <= range.end && range.end <= n,
                 "calibration pass: batch range [", range.begin, ", ", range.end,
                 ") is outside the ", n, " batches");
  CalibrationPassResult result;
  result.batch_mean_nll.assign(static_cast<size_t>(n), 0.0);
  for (int64_t b = range.begin; b < range.end; ++b) {
    GISP_RETURN_IF_ERROR(CheckCancelled("the calibration pass"));
    GISP_ASSIGN_OR_RETURN(LossResult r, model->ForwardBackward(data.batches[b], request, grads));
    const double mean = r.labelled > 0 ? r.nll_sum / static_cast<double>(r.labelled) : 0.0;
    if (!std::isfinite(mean)) {
      return absl::InvalidArgumentError(
          absl::StrCat("calibration batch ", b, " has a non-finite loss (", mean, ")"));
    }
    result.batch_mean_nll[static_cast<size_t>(b)] = mean;
    if (on_batch && !on_batch(b + 1 - range.begin, range.size())) {
      return absl::CancelledError("cancelled during the calibration pass");
    }
  }
  return result;
}

}  // namespace gisp
