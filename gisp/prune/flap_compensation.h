// FLAP's bias compensation (An et al., AAAI 2024; docs/baselines.md): a pruned o_proj / down_proj
// input column j is replaced by its calibration mean, which a bias can carry. For each layer,
//
//   o_delta[l]    = sum over pruned o_proj input columns j of     W_o[:, j] * mean_o[j]   [D]
//   down_delta[l] = sum over pruned down_proj input columns j of  W_d[:, j] * mean_d[j]   [D]
//
// (W((1 - M) ⊙ mean(X)) in method.md section 10), to be added to that layer's o_proj and
// down_proj biases when a flap step is materialized. Pure: it reads the dense weights and the
// record's means and changes nothing. A kept structure from the record's pruned units
// (ComputeKept(space, dense, PrunedAtOrBefore(record, step))) says which columns are pruned:
// a query head's Dh o_proj columns are pruned when the head is not kept, a channel's down_proj
// column when the channel is not kept.
#ifndef GISP_PRUNE_FLAP_COMPENSATION_H_
#define GISP_PRUNE_FLAP_COMPENSATION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "gisp/model/config.h"
#include "gisp/model/weights.h"
#include "gisp/proto/gisp.pb.h"
#include "gisp/units/units.h"

namespace gisp {

// The means a flap record carries (gisp.proto Record.flap_input_means), per layer.
struct FlapInputMeans {
  std::vector<std::vector<float>> o_proj;     // [L][H * Dh]
  std::vector<std::vector<float>> down_proj;  // [L][F]
};

// Per-layer bias deltas: add o_proj[l] to layer l's o_proj bias, down_proj[l] to its down_proj
// bias. Layers that prune nothing get zeros.
struct FlapBiasDeltas {
  std::vector<std::vector<float>> o_proj;     // [L][D]
  std::vector<std::vector<float>> down_proj;  // [L][D]
};

// The record's means; InvalidArgument unless the record is a flap record that carries them
// (a validated record's sizes and values are then consistent with its model).
absl::StatusOr<FlapInputMeans> FlapInputMeansFromRecord(const proto::Record& record);

// The deltas of the pruned columns that `kept` leaves out. `dense` is the dense model's config;
// `dense_weights` its host weights (o_proj [D, H * Dh], down_proj [D, F] of every layer, any
// float dtype); `means` sized like them. Accumulated in double, rounded to float once.
// InvalidArgument when shapes disagree.
absl::StatusOr<FlapBiasDeltas> FlapCompensationDeltas(const LlamaConfig& dense,
                                                      const LlamaWeights& dense_weights,
                                                      const FlapInputMeans& means,
                                                      const KeptStructure& kept);

}  // namespace gisp

#endif  // GISP_PRUNE_FLAP_COMPENSATION_H_
