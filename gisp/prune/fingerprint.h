// Model fingerprints stored in records: XXH3-128 of the dense configuration and every weight
// tensor's name, shape and values (as little-endian f32, so a bf16 checkpoint and its exact f32
// copy hash alike). docs/formats.md defines the hashed bytes exactly, so other tools recompute
// it. A record refuses to resume, slice or materialize against a model with another fingerprint.
#ifndef GISP_PRUNE_FINGERPRINT_H_
#define GISP_PRUNE_FINGERPRINT_H_

#include <string>

#include "absl/status/statusor.h"
#include "gisp/model/config.h"
#include "gisp/model/llama_model.h"
#include "gisp/model/weights.h"

namespace gisp {

// The first bytes of the model fingerprint's stream (a string, framed): keeps it apart from the
// calibration fingerprint's and names the record format that introduced it.
constexpr char kModelFingerprintTag[] = "gisp.model.v2";

// Host weights in any float dtype (e.g. views of a memory-mapped checkpoint).
absl::StatusOr<std::string> FingerprintHostWeights(const LlamaConfig& config,
                                                   const LlamaWeights& weights);

// The model's working weights (downloaded from the device when needed).
absl::StatusOr<std::string> ModelFingerprint(const LlamaModel& model);

}  // namespace gisp

#endif  // GISP_PRUNE_FINGERPRINT_H_
