// Slicing a subnetwork from the dense weights and a record reproduces the masked model (and the
// pruner's compacted working model) exactly, and the exported HF directory loads back in gisp
// with the same logits.
#include "gisp/export/slice.h"

#include <cstdlib>
#include <cstring>
#include <random>

#include "gisp/backend/backend.h"
#include "gisp/base/file.h"
#include "gisp/data/sequences.h"
#include "gisp/io/checkpoint.h"
#include "gisp/model/llama_model.h"
#include "gisp/prune/flap_compensation.h"
#include "gisp/prune/pruner.h"
#include "gisp/prune/record.h"
#include "gisp/prune/surgery.h"
#include "gisp/testing/compare.h"
#include "gisp/testing/random_model.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  return JoinPath(base != nullptr ? base : "/tmp", name);
}

CalibrationBatches Data(const LlamaConfig& c) {
  std::mt19937 rng(5);
  std::vector<LabelledSequence> seqs;
  for (int i = 0; i < 4; ++i) {
    std::vector<int32_t> tokens(10);
    for (auto& x : tokens) x = static_cast<int32_t>(rng() % c.vocab_size);
    seqs.push_back(NextTokenSequence(std::move(tokens)));
  }
  return MakeCalibrationBatches(seqs, Objective::kLm, 2).value();
}

class SliceTest : public ::testing::TestWithParam<bool> {};  // param: attention and MLP biases

TEST_P(SliceTest, SlicedAndExportedModelsReproduceTheMaskedModel) {
  LlamaConfig c = testing::SmallConfig(47, 24, 4, 4, 2, 6, 20);
  c.attention_bias = GetParam();  // llama: q/k/v and o_proj biases
  c.mlp_bias = GetParam();
  const LlamaWeights dense = testing::RandomWeights(c, 9);
  const CalibrationBatches data = Data(c);
  auto cpu = CreateCpuBackend().value();
  auto working = LlamaModel::Create(c, dense, cpu.get()).value();
  PrunerOptions options;
  options.config.steps = 4;
  options.config.ratio = 0.6;
  auto pruner = Pruner::Create(working.get(), &data, options).value();
  ASSERT_TRUE(pruner->Step().ok());
  ASSERT_TRUE(pruner->Step().ok());
  ASSERT_TRUE(pruner->Step().ok());
  const proto::Record& record = pruner->record();

  auto sliced = SliceModel(c, dense, record, 2);
  ASSERT_TRUE(sliced.ok()) << sliced.status();
  EXPECT_FALSE(sliced->config.IsDense());
  EXPECT_LT(sliced->config.DecoderParameters(), c.DecoderParameters());

  // The masked dense model at step 2.
  auto masked = LlamaModel::Create(c, dense, cpu.get()).value();
  const UnitSpace space = RecordUnitSpace(record, c);
  ASSERT_TRUE(MaskModel(masked.get(), ComputeKept(space, c, PrunedAtOrBefore(record, 2))).ok());
  auto small = LlamaModel::Create(sliced->config, sliced->weights, cpu.get()).value();
  const Batch batch = testing::RandomBatch(c, 2, 9, 4);
  Tensor want, got, compact;
  ASSERT_TRUE(masked->Forward(batch, nullptr, &want).ok());
  ASSERT_TRUE(small->Forward(batch, nullptr, &got).ok());
  ASSERT_TRUE(working->Forward(batch, nullptr, &compact).ok());
  EXPECT_LE(testing::Compare(got, want).rel_inf, 1e-5);
  EXPECT_LE(testing::Compare(compact, want).rel_inf, 1e-5);

  // Export, reload, same logits; per_layer_config round-trips.
  const std::string dir = TempDir(GetParam() ? "sliced_bias" : "sliced");
  ASSERT_TRUE(ExportSlicedModel(dir, *sliced, DType::kF32).ok());
  auto loaded = LoadCheckpoint(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (int64_t l = 0; l < c.num_layers; ++l) {
    EXPECT_EQ(loaded->config.layers[l].kv_map, sliced->config.layers[l].kv_map);
    EXPECT_EQ(loaded->config.layers[l].intermediate, sliced->config.layers[l].intermediate);
  }
  auto reloaded = LlamaModel::Create(loaded->config, loaded->weights, cpu.get()).value();
  Tensor again;
  ASSERT_TRUE(reloaded->Forward(batch, nullptr, &again).ok());
  EXPECT_EQ(testing::Compare(again, got).max_abs, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Biases, SliceTest, ::testing::Values(false, true));

std::vector<float> HostFloats(const Tensor& t) {
  const Tensor f = testing::CopyAs(t, DType::kF32);
  std::vector<float> v(static_cast<size_t>(f.numel()));
  std::memcpy(v.data(), f.data<float>(), v.size() * sizeof(float));
  return v;
}

// A flap record's subnetwork carries the bias compensation (docs/baselines.md): its o_proj and
// down_proj biases are the deltas of the pruned columns, on a model that had no biases (which
// turns both bias flags on, with zero q/k/v and gate/up biases); a gisp record's does not.
TEST(SliceFlapTest, FlapSubnetworksCarryTheCompensationInTheirBiases) {
  const LlamaConfig c = testing::SmallConfig(47, 24, 4, 4, 2, 6, 20);
  const LlamaWeights dense = testing::RandomWeights(c, 9);
  const CalibrationBatches data = Data(c);
  auto cpu = CreateCpuBackend().value();
  auto working = LlamaModel::Create(c, dense, cpu.get()).value();
  PrunerOptions options;
  options.config.method = Method::kFlap;
  options.config.target_sparsities = {0.4};
  auto pruner = Pruner::Create(working.get(), &data, options).value();
  ASSERT_TRUE(pruner->Run().ok());
  const proto::Record& record = pruner->record();
  ASSERT_EQ(record.steps_size(), 1);

  auto sliced = SliceModel(c, dense, record, 0);
  ASSERT_TRUE(sliced.ok()) << sliced.status();
  EXPECT_TRUE(sliced->config.attention_bias);
  EXPECT_TRUE(sliced->config.mlp_bias);
  const FlapBiasDeltas deltas =
      FlapCompensationDeltas(c, dense, FlapInputMeansFromRecord(record).value(),
                             ComputeKept(RecordUnitSpace(record, c), c, PrunedAtOrBefore(record, 0)))
          .value();
  bool any_nonzero = false;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerWeights& w = sliced->weights.layers[static_cast<size_t>(l)];
    EXPECT_EQ(HostFloats(w.o_bias), deltas.o_proj[static_cast<size_t>(l)]) << "layer " << l;
    EXPECT_EQ(HostFloats(w.down_bias), deltas.down_proj[static_cast<size_t>(l)]) << "layer " << l;
    for (float x : HostFloats(w.q_bias)) EXPECT_EQ(x, 0.0f);
    for (float x : HostFloats(w.gate_bias)) EXPECT_EQ(x, 0.0f);
    for (float x : deltas.o_proj[static_cast<size_t>(l)]) any_nonzero |= x != 0.0f;
    for (float x : deltas.down_proj[static_cast<size_t>(l)]) any_nonzero |= x != 0.0f;
  }
  EXPECT_TRUE(any_nonzero) << "40% pruned and no compensation at all";
  // The dense step of the same record is left alone.
  auto dense_step = SliceModel(c, dense, record, -1);
  ASSERT_TRUE(dense_step.ok()) << dense_step.status();
  EXPECT_FALSE(dense_step->config.attention_bias);

  // A gisp record's subnetwork gets no biases.
  PrunerOptions gisp;
  gisp.config.steps = 2;
  gisp.config.ratio = 0.6;
  auto other = LlamaModel::Create(c, dense, cpu.get()).value();
  auto g = Pruner::Create(other.get(), &data, gisp).value();
  ASSERT_TRUE(g->Step().ok());
  auto plain = SliceModel(c, dense, g->record(), 0);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->config.attention_bias);
  EXPECT_FALSE(plain->config.mlp_bias);
}

TEST(SliceErrorsTest, RecordOfAnotherModelIsRefused) {
  const LlamaConfig c = testing::SmallConfig(47, 24, 4, 4, 2, 6, 20);
  const CalibrationBatches data = Data(c);
  auto cpu = CreateCpuBackend().value();
  auto working = LlamaModel::Create(c, testing::RandomWeights(c, 9), cpu.get()).value();
  PrunerOptions options;
  options.config.steps = 2;
  options.config.ratio = 0.5;
  auto pruner = Pruner::Create(working.get(), &data, options).value();
  ASSERT_TRUE(pruner->Step().ok());
  auto other = SliceModel(c, testing::RandomWeights(c, 10), pruner->record(), 0);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("another model"), std::string::npos);
  auto bad_step = SliceModel(c, testing::RandomWeights(c, 9), pruner->record(), 1);
  ASSERT_FALSE(bad_step.ok());
  EXPECT_NE(bad_step.status().message().find("step 1"), std::string::npos) << bad_step.status();
}

}  // namespace
}  // namespace gisp
