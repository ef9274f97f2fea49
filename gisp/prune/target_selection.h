// How the score-once methods (method.h) turn fixed unit scores into the pruned set of a target
// decoder sparsity (docs/baselines.md, "Equal parameter counts").
//
//   global (oneshot, flap): unprotected units in ascending score order (unit id breaks ties);
//       the set of the k lowest, widened to every unit scoring <= the k-th score (ties pruned
//       together, as GISP's threshold does). k is the smallest count whose measured sparsity
//       reaches the target, or one less when that lands nearer.
//   local (wanda-sp, llm-pruner, magnitude, random): one ratio q for every unprotected layer; a
//       layer prunes its floor(q * heads + 1e-9) lowest-scoring head units and floor(q * F + 1e-9)
//       lowest-scoring channels (ties by unit id). q runs over the fractions a / heads and b / F
//       where a count changes; the pruner takes the one whose measured sparsity is nearest the
//       target, found by bisection (sparsity grows with q).
// Measured sparsity is UnitWeightCounts::SparsityOf, the number every record step reports. Sets
// for ascending targets nest: a selection never prunes fewer units than the previous one.
#ifndef GISP_PRUNE_TARGET_SELECTION_H_
#define GISP_PRUNE_TARGET_SELECTION_H_

#include <cstdint>
#include <vector>

#include "gisp/prune/sparsity.h"
#include "gisp/units/units.h"

namespace gisp {

struct Selection {
  std::vector<bool> pruned;  // per unit
  double sparsity = 0;       // measured
  double parameter = 0;      // global: the highest pruned score (0 if none); local: q
  int64_t position = 0;      // the count k (global) or candidate index (local), for nesting
};

class TargetSelector {
 public:
  // `scores` in unit order (protected units are never selected, whatever they score).
  TargetSelector(const UnitSpace& space, const UnitWeightCounts& counts, std::vector<double> scores,
                 bool local);

  // The set nearest `target`, pruning at least what `previous` did (null: nothing).
  Selection Select(double target, const Selection* previous) const;

  // The set at position p (see Selection::position); p in [0, positions()).
  Selection At(int64_t p) const;
  int64_t positions() const;

 private:
  const UnitSpace& space_;
  const UnitWeightCounts& counts_;
  std::vector<double> scores_;
  bool local_;
  std::vector<int64_t> order_;  // global: unprotected units, ascending score
  // local: per unprotected layer, its head units and its channel units, each ascending score
  std::vector<std::vector<int64_t>> layer_heads_, layer_channels_;
  std::vector<double> ratios_;  // local: candidate q values, ascending, ratios_[0] = 0
};

}  // namespace gisp

#endif  // GISP_PRUNE_TARGET_SELECTION_H_
