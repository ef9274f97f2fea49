#include "gisp/prune/pruner_testing.h"

#include <random>
#include <utility>
#include <vector>

#include "gisp/testing/random_model.h"

namespace gisp {
namespace testing {

LlamaConfig SmallGqa() {
  return SmallConfig(/*vocab=*/61, /*hidden=*/32, /*layers=*/5, /*heads=*/4, /*kv=*/2,
                     /*head_dim=*/8, /*ffn=*/24);
}

LlamaConfig SmallMha() { return SmallConfig(61, 32, 5, 4, 4, 8, 24); }

CalibrationBatches RandomCalibration(const LlamaConfig& c, int n, int64_t t, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<LabelledSequence> seqs;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> tokens(static_cast<size_t>(t));
    for (auto& x : tokens) x = static_cast<int32_t>(rng() % c.vocab_size);
    seqs.push_back(NextTokenSequence(std::move(tokens)));
  }
  return MakeCalibrationBatches(seqs, Objective::kLm, 2).value();
}

PrunerOptions StepsAndRatio(int steps, double ratio) {
  PrunerOptions o;
  o.config.steps = steps;
  o.config.ratio = ratio;
  return o;
}

PruneSession StartSession(const LlamaConfig& c, const CalibrationBatches* data,
                          PrunerOptions options, const proto::Record* resume) {
  PruneSession r;
  r.backend = CreateCpuBackend().value();
  r.model = LlamaModel::Create(c, RandomWeights(c, 17), r.backend.get()).value();
  auto p = Pruner::Create(r.model.get(), data, std::move(options), resume);
  r.created = p.status();
  if (p.ok()) r.pruner = std::move(p).value();
  return r;
}

}  // namespace testing
}  // namespace gisp
