// Activation statistics of the calibration set for the activation-aware baselines (Wanda-sp,
// FLAP; docs/baselines.md): per input column of every unprotected layer's o_proj ([H * Dh]: the
// attention output) and down_proj ([F]: the SwiGLU output), the count, sum and sum of squares over
// the calibration tokens, accumulated in double on the host. From them: ||X_j||_2, mean and
// variance (docs/numerics.md says why double and how the variance is formed).
//
// The statistics come from a forward pass of the model as it is (the dense model, for the
// baselines); they do not change the model.
#ifndef GISP_SALIENCY_ACTIVATION_STATS_H_
#define GISP_SALIENCY_ACTIVATION_STATS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/data/sequences.h"
#include "gisp/model/llama_model.h"
#include "gisp/saliency/calibration_pass.h"

namespace gisp {

// Sums over the counted tokens of one linear layer's input columns.
struct ColumnMoments {
  std::vector<double> sum;    // [columns]: sum_t x_tj
  std::vector<double> sumsq;  // [columns]: sum_t x_tj^2
  // The same sums of x_tj - shift_j, shift_j = the first counted token's value: the variance is
  // formed from these, so its cancellation depends on (mean - shift)^2 / variance (order 1)
  // rather than mean^2 / variance (docs/numerics.md, section 8).
  std::vector<double> shift;          // [columns]
  std::vector<double> shifted_sum;    // [columns]: sum_t (x_tj - shift_j)
  std::vector<double> shifted_sumsq;  // [columns]: sum_t (x_tj - shift_j)^2
  int64_t tokens = 0;

  // Counts one token: `row` [columns] (sizes the sums on the first call).
  void Add(const std::vector<double>& row);
  double Norm(size_t j) const;  // ||X_j||_2 = sqrt(sumsq_j)
  double Mean(size_t j) const;  // sum_j / tokens
  // Sample variance (divisor tokens - 1; 0 for fewer than two tokens), from the shifted sums in
  // double: (shifted_sumsq - tokens * d^2) / (tokens - 1), d = shifted_sum / tokens, clamped
  // at 0.
  double Variance(size_t j) const;
};

struct ActivationStats {
  std::vector<ColumnMoments> o_proj;     // per layer; empty for layers not requested
  std::vector<ColumnMoments> down_proj;  // per layer
};

// Forward over every calibration batch, collecting the moments of the layers with want[l].
// Counted tokens: in each sequence, the positions up to and including its last labelled one
// (right padding excluded); a sequence with no label counts none.
absl::StatusOr<ActivationStats> CollectActivationStats(LlamaModel* model,
                                                       const CalibrationBatches& data,
                                                       const std::vector<bool>& want,
                                                       const BatchCallback& on_batch);

}  // namespace gisp

#endif  // GISP_SALIENCY_ACTIVATION_STATS_H_
