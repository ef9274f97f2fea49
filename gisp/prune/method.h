// The pruning methods gisp offers (docs/baselines.md): GISP itself and the peers it is compared
// with, each scoring the same units (heads or KV groups per gqa_unit, MLP channels) with the same
// protected layers. gisp's one C++ spelling of the option; the record's proto enum and the C API's
// enum are converted to it at those boundaries.
//
// Every method except gisp scores the dense model once and then walks an ascending list of target
// decoder sparsities, pruning more units at each target with the same scores, so its masks nest
// and one record serves every target like a GISP record does.
#ifndef GISP_PRUNE_METHOD_H_
#define GISP_PRUNE_METHOD_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gisp {

enum class Method { kGisp, kOneShot, kWandaSp, kFlap, kLlmPruner, kMagnitude, kRandom };

// "gisp", "oneshot", "wanda-sp", "flap", "llm-pruner", "magnitude", "random". Name: "" for a
// value outside the enum. Parse: InvalidArgument naming the accepted names and `name`.
const char* MethodName(Method method);
absl::StatusOr<Method> ParseMethod(absl::string_view name);

// Scores once on the dense model and walks target sparsities (every method but gisp).
inline bool ScoresOnce(Method m) { return m != Method::kGisp; }
// Same ratio of units in every unprotected layer (heads and channels alike), rather than one
// global ranking (gisp, oneshot, flap).
inline bool IsLocal(Method m) {
  return m == Method::kWandaSp || m == Method::kLlmPruner || m == Method::kMagnitude ||
         m == Method::kRandom;
}
// Needs the calibration gradient Gbar of the dense model.
inline bool NeedsGradients(Method m) {
  return m == Method::kGisp || m == Method::kOneShot || m == Method::kLlmPruner;
}
// Needs activation statistics of the o_proj / down_proj inputs.
inline bool NeedsActivations(Method m) { return m == Method::kWandaSp || m == Method::kFlap; }

}  // namespace gisp

#endif  // GISP_PRUNE_METHOD_H_
