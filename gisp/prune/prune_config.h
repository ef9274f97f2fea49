// The options of a GISP run in gisp's own C++ terms. The record stores them as gisp.proto's
// PruneConfig and the C API as its own enums; both convert to this struct at their boundary
// (PruneConfigToProto / PruneConfigFromProto here, c_api/config.cc there), so the pruner and
// everything below it see one spelling of each option.
#ifndef GISP_PRUNE_PRUNE_CONFIG_H_
#define GISP_PRUNE_PRUNE_CONFIG_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/data/sequences.h"
#include "gisp/proto/gisp.pb.h"
#include "gisp/prune/method.h"
#include "gisp/saliency/unit_scores.h"
#include "gisp/units/units.h"

namespace gisp {

// The defaults are the released code's (method.md): rho 0.7, n 112, reference normalization,
// query-head units under GQA, first floor(0.1 L) and the last layer protected, batch 2.
struct PruneConfig {
  Objective objective = Objective::kLm;
  double ratio = 0.7;   // rho: fraction of units pruned after the last step
  int32_t steps = 112;  // n: 1 = one-shot
  Normalization normalization = Normalization::kReference;
  GqaUnit gqa_unit = GqaUnit::kQueryHead;
  int32_t round_channels_to = 0;  // kept MLP channels per layer rounded to a multiple (0 = off)
  double protect_first_fraction = 0.1;  // layers < floor(f * L) are protected
  bool protect_last = true;             // the last layer is protected
  int32_t batch_size = 2;               // sequences per gradient batch
  Method method = Method::kGisp;
  // Methods other than gisp (method.h): the decoder sparsities the record's steps aim at, each in
  // (0, 1) (sorted and deduplicated by the pruner); empty: the linear schedule's ratios read as
  // decoder sparsities. gisp ignores them.
  std::vector<double> target_sparsities;
  uint64_t seed = 0;  // random: the seed of the unit scores
};

// Checks every option; errors name the option and the allowed range.
absl::Status ValidatePruneConfig(const PruneConfig& config);

// The proto boundary. FromProto refuses enum values gisp does not know (a damaged or newer
// record), naming the field and the value; it does not check ranges (ValidatePruneConfig does).
proto::PruneConfig PruneConfigToProto(const PruneConfig& config);
absl::StatusOr<PruneConfig> PruneConfigFromProto(const proto::PruneConfig& config);

}  // namespace gisp

#endif  // GISP_PRUNE_PRUNE_CONFIG_H_
