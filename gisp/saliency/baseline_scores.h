// Unit scores of the baseline methods that need no gradient (docs/baselines.md), in unit-space
// order like ComputeUnitScores: units of protected layers score +infinity. Computed in double on
// the dense model's host weights (the checkpoint's values), which pruning never changes.
//
//   magnitude: the L2 norm of all the unit's weights: a head's q rows and o columns (MHA also its
//              k and v rows; a kv-group unit its k and v rows and its query heads' q rows and o
//              columns), a channel's gate row, up row and down column.
//   wanda-sp:  sum over the unit's o_proj / down_proj input columns j of ||X_j||_2 * sum_i |W_ij|
//              (Wanda's |W_ij| * ||X_j||_2 pooled per head or channel; a kv-group unit pools
//              its query heads' columns).
//   flap:      FLAP's fluctuation metric (An et al., AAAI 2024; the authors' defaults, metric WIFV
//              and structure AL-AM): per o_proj / down_proj input column j, the sample variance
//              of X_j over the calibration tokens times ||W_:,j||^2; the o_proj column metric is
//              squared once more (as the authors' code does); each layer's o_proj columns and
//              its down_proj columns are standardized separately ((m - mean) / std over that
//              module's columns, std with divisor n - 1; a module whose metrics are all equal
//              standardizes to 0); a head unit scores the mean of its columns' standardized
//              metrics (a kv-group unit: over its query heads' columns), a channel its own.
//   random:    uniform in [0, 1) from a SplitMix64 stream seeded with `seed`, one draw per unit
//              in unit order (protected units draw too, so the stream does not depend on them).
#ifndef GISP_SALIENCY_BASELINE_SCORES_H_
#define GISP_SALIENCY_BASELINE_SCORES_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/model/llama_model.h"
#include "gisp/saliency/activation_stats.h"
#include "gisp/units/units.h"

namespace gisp {

std::vector<double> MagnitudeScores(const UnitSpace& space, const LlamaModel& model);
absl::StatusOr<std::vector<double>> WandaSpScores(const UnitSpace& space, const LlamaModel& model,
                                                  const ActivationStats& stats);
absl::StatusOr<std::vector<double>> FlapScores(const UnitSpace& space, const LlamaModel& model,
                                               const ActivationStats& stats);
std::vector<double> RandomScores(const UnitSpace& space, uint64_t seed);

}  // namespace gisp

#endif  // GISP_SALIENCY_BASELINE_SCORES_H_
