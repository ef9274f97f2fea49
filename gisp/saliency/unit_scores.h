// Unit importance (method.md section 2): element importance I = |W * Gbar| summed over each
// unit's elements, then divided by a per-block-type constant so heads and channels compete in
// one ranking. Scores come back in unit-space order (size L * (heads + channels)): pruned units
// score exactly 0, units of protected layers +infinity.
#ifndef GISP_SALIENCY_UNIT_SCORES_H_
#define GISP_SALIENCY_UNIT_SCORES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gisp/model/llama_model.h"
#include "gisp/units/units.h"

namespace gisp {

// The LayerParam bits whose gradients the scores need in an unprotected layer.
uint32_t ScoredParams(const UnitSpace& space);

// Normalization divisors for head and channel units of the dense model:
//   reference: head 4 * Dh * D (MHA and query-head units; kv-group units (2G + 2) * Dh * D, the
//              element count of a group, a gisp decision), channel 3 * F
//   paper:     as reference but channel 3 * D
//   none:      1 and 1
// gisp's one C++ spelling of the option: the record's proto enum and the C API's enum are
// converted to it at those boundaries.
enum class Normalization { kReference, kPaper, kNone };

// "reference", "paper", "none". Name: "" for a value outside the enum. Parse: InvalidArgument
// naming the accepted names and `name`.
const char* NormalizationName(Normalization mode);
absl::StatusOr<Normalization> ParseNormalization(absl::string_view name);
struct Normalizer {
  double head = 1;
  double channel = 1;
};
Normalizer MakeNormalizer(const UnitSpace& space, const LlamaConfig& dense, Normalization mode);

// Raw (unnormalized) and normalized scores of every unit. `kept` describes the working model's
// current layout (compacted or dense-and-masked: a dense layout has every id kept, and the
// masked units score 0 because their weights are 0).
struct UnitScores {
  std::vector<double> raw;
  std::vector<double> normalized;
};
absl::StatusOr<UnitScores> ComputeUnitScores(const UnitSpace& space, const KeptStructure& kept,
                                             const LlamaModel& model, const LlamaGradients& gbar,
                                             const std::vector<bool>& pruned,
                                             const Normalizer& normalizer);

}  // namespace gisp

#endif  // GISP_SALIENCY_UNIT_SCORES_H_
