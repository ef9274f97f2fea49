// Test support for the pruner's tests: small random Llama models, calibration sets of random
// tokens, and a pruning session that owns its backend and model.
#ifndef GISP_PRUNE_PRUNER_TESTING_H_
#define GISP_PRUNE_PRUNER_TESTING_H_

#include <memory>

#include "gisp/backend/backend.h"
#include "gisp/data/sequences.h"
#include "gisp/prune/pruner.h"

namespace gisp {
namespace testing {

// 5 layers, hidden 32, 4 query heads over 2 KV heads of 8, FFN 24, vocabulary 61: layer 4
// (the last) protected, floor(0.1 * 5) = 0 first layers.
LlamaConfig SmallGqa();
// As SmallGqa with 4 KV heads.
LlamaConfig SmallMha();

// `n` lm sequences of `t` random tokens (seeded), batches of 2.
CalibrationBatches RandomCalibration(const LlamaConfig& c, int n = 6, int64_t t = 12,
                                     uint32_t seed = 3);

PrunerOptions StepsAndRatio(int steps, double ratio);

struct PruneSession {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<LlamaModel> model;
  std::unique_ptr<Pruner> pruner;  // null when Create failed
  absl::Status created;            // Create's status
};

// A CPU model with random weights (seed 17) and a pruner over `data`.
PruneSession StartSession(const LlamaConfig& c, const CalibrationBatches* data,
                          PrunerOptions options, const proto::Record* resume = nullptr);

}  // namespace testing
}  // namespace gisp

#endif  // GISP_PRUNE_PRUNER_TESTING_H_
