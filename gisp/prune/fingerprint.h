// Model fingerprints stored in records: a hash of the dense shape and every weight value (as
// f32, so a bf16 checkpoint and its f32 working copy hash alike). A record refuses to resume,
// slice or materialize against a model with another fingerprint.
#ifndef GISP_PRUNE_FINGERPRINT_H_
#define GISP_PRUNE_FINGERPRINT_H_

#include <string>

#include "absl/status/statusor.h"
#include "gisp/model/config.h"
#include "gisp/model/llama_model.h"
#include "gisp/model/weights.h"

namespace gisp {

// Host weights in any float dtype (e.g. views of a memory-mapped checkpoint).
absl::StatusOr<std::string> FingerprintHostWeights(const LlamaConfig& config,
                                                   const LlamaWeights& weights);

// The model's working weights (downloaded from the device when needed).
absl::StatusOr<std::string> ModelFingerprint(const LlamaModel& model);

}  // namespace gisp

#endif  // GISP_PRUNE_FINGERPRINT_H_
