// Global ranking (method.md section 3) and the linear schedule (section 4).
#ifndef GISP_PRUNE_RANKING_H_
#define GISP_PRUNE_RANKING_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/units/units.h"

namespace gisp {

// r_k = rho * k / (n - 1) for k = 0..n-1; n = 1 gives {rho} (one-shot).
std::vector<double> LinearSchedule(double rho, int32_t steps);

// k = N - floor(N * (1 - r)) + 1, clamped to [1, N]: the rank of the threshold among N units at
// ratio r.
int64_t ThresholdRank(int64_t n, double ratio);

// k = ThresholdRank(N, r) and tau = the k-th smallest score (1-based) over all N units,
// protected ones (+inf) included. Every unit scoring <= tau is pruned, ties included.
struct Threshold {
  int64_t k = 0;
  double tau = 0;
};
absl::StatusOr<Threshold> GlobalThreshold(const std::vector<double>& scores, double ratio);

// The largest ratio that leaves tau finite (never reaching protected units): the schedule's rho
// must not exceed it.
double MaxPrunableRatio(const UnitSpace& space);

// Marks units newly pruned at `step`: every unpruned, unprotected unit with score <= tau.
// Returns how many were added.
int64_t ApplyThreshold(const UnitSpace& space, const std::vector<double>& scores, double tau,
                       int32_t step, std::vector<int32_t>* pruned_at_step);

// Optional rounding of kept MLP channels per unprotected layer to a multiple of `multiple`.
// Masks must nest, so only channels pruned at this very step can be given back: a layer rounds
// up (restoring this step's highest-scoring channels) when that is the nearer multiple and
// possible, otherwise down (pruning its lowest-scoring kept channels). Layers with no kept
// channel stay empty.
void RoundKeptChannels(const UnitSpace& space, const std::vector<double>& scores, int32_t step,
                       int32_t multiple, std::vector<int32_t>* pruned_at_step);

}  // namespace gisp

#endif  // GISP_PRUNE_RANKING_H_
