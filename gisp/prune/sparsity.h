// Decoder parameter sparsity (method.md section 5), the number every record step, report and
// target refers to:
//
//   1 - (nonzero weights in the decoder linears of the kept units, plus K/V under query-head
//        units) / (all decoder-layer parameters, RMSNorm weights and biases included)
//
// Nothing pruned gives the dense model's own sparsity, which is above 0: the norm weights (and
// biases, and any weight that is exactly zero) are in the denominator only.
#ifndef GISP_PRUNE_SPARSITY_H_
#define GISP_PRUNE_SPARSITY_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/model/llama_model.h"
#include "gisp/prune/prune_config.h"
#include "gisp/units/units.h"

namespace gisp {

// The terms of the definition for one unit space of one dense model.
struct UnitWeightCounts {
  std::vector<int64_t> per_unit;   // nonzero decoder-linear weights owned by each unit
  int64_t always_kept = 0;         // K/V weights under query-head units (never pruned)
  int64_t decoder_parameters = 0;  // the denominator

  // The sparsity if the units with pruned[u] were removed (pruned.size() == per_unit.size()).
  double SparsityOf(const std::vector<bool>& pruned) const;
};

// Counted on the model's host weights (memory-mapped checkpoint, any float dtype). `model` must
// be the dense model `space` was made for.
UnitWeightCounts CountUnitWeights(const UnitSpace& space, const LlamaModel& model);

// What a run can show before it starts: the dense model's sparsity (the report's dense row)
// and the highest sparsity a run with `config` can reach, pruning the heaviest unprotected units
// first with as many units as the last step's threshold rank allows (plus what channel rounding
// may add). Targets above `reachable` are out of reach; ties at a threshold can prune more.
// For the score-once methods (method.h) `reachable` is every unprotected unit pruned.
struct SparsityRange {
  double dense = 0;
  double reachable = 0;
};
absl::StatusOr<SparsityRange> RunSparsityRange(const LlamaModel& model, const PruneConfig& config);

}  // namespace gisp

#endif  // GISP_PRUNE_SPARSITY_H_
