// The uniform export computes the sliced model's function with ordinary (dense-shaped) layers:
// regrouping GQA layers (zero query heads or duplicated K/V heads) and zero-padding the MLP add
// nothing; the directory is a plain family checkpoint, smaller than the dense model.
#include "gisp/export/uniform.h"

#include <cstdlib>

#include "gisp/backend/backend.h"
#include "gisp/base/file.h"
#include "gisp/export/regroup.h"
#include "gisp/io/checkpoint.h"
#include "gisp/io/hf_config.h"
#include "gisp/model/llama_model.h"
#include "gisp/testing/compare.h"
#include "gisp/testing/random_model.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  return JoinPath(base != nullptr ? base : "/tmp", name);
}

LayerShape Shape(std::vector<int32_t> kv_map, int64_t n_kv, int64_t f) {
  return testing::PrunedLayer(std::move(kv_map), n_kv, f);
}

TEST(RegroupTest, GroupSizesMixPaddingAndDuplication) {
  const LayerShape s = Shape({0, 1, 1, 1}, 3, 4);  // KV head 2 is read by no query head
  EXPECT_EQ(GroupCounts(s), (std::vector<int64_t>{1, 3, 0}));
  EXPECT_EQ(MaxGroup(s), 3);
  EXPECT_EQ(KvSlots(s, 3), 2);  // pure padding: 2 groups of 3, 2 zero heads
  EXPECT_EQ(KvSlots(s, 1), 4);  // pure duplication: KV head 1 three times
  const GroupedLayout pad = GroupLayer(s, 3, 3);
  EXPECT_EQ(pad.kv_src, (std::vector<int32_t>{0, 1, -1}));
  EXPECT_EQ(pad.q_src, (std::vector<int32_t>{0, -1, -1, 1, 2, 3, -1, -1, -1}));
  const GroupedLayout dup = GroupLayer(s, 2, 3);
  EXPECT_EQ(dup.kv_src, (std::vector<int32_t>{0, 1, 1}));
  EXPECT_EQ(dup.q_src, (std::vector<int32_t>{0, -1, 1, 2, 3, -1}));
}

// A pruned GQA model: dense H = 6, KV = 2, F = 20; layers with uneven groups, one layer without
// heads, one without MLP channels.
LlamaConfig PrunedConfig(bool bias) {
  LlamaConfig c = testing::SmallConfig(41, 24, 4, 6, 2, 4, 20);
  c.attention_bias = bias;                         // llama: q/k/v and o_proj biases
  c.mlp_bias = bias;                               // gate/up/down biases, padded with zero channels
  c.layers[0] = Shape({0, 0, 0, 1, 1, 1}, 2, 20);  // dense
  c.layers[1] = Shape({0, 1, 1, 1}, 2, 7);         // one head left in group 0
  c.layers[2] = Shape({}, 2, 11);                  // every query head pruned
  c.layers[3] = Shape({1, 1}, 2, 0);               // no MLP channels
  return c;
}

class UniformTest : public ::testing::TestWithParam<bool> {};  // param: attention and MLP biases

TEST_P(UniformTest, PaddedModelReproducesTheSlicedModel) {
  SlicedModel sliced;
  sliced.config = PrunedConfig(GetParam());
  ASSERT_TRUE(sliced.config.Validate().ok()) << sliced.config.Validate();
  sliced.weights = testing::RandomWeights(sliced.config, 3);

  auto uniform = MakeUniform(sliced);
  ASSERT_TRUE(uniform.ok()) << uniform.status();
  const LlamaConfig& u = uniform->config;
  EXPECT_TRUE(u.IsDense());
  // Group 3 (layer 0) forces 2 KV x 3 with padding; G = 3 keeps 2 KV heads: 6 query heads,
  // while G = 1 would need 6 KV slots.
  EXPECT_EQ(uniform->group, 3);
  EXPECT_EQ(u.num_kv_heads, 2);
  EXPECT_EQ(u.num_heads, 6);
  EXPECT_EQ(u.intermediate_size, 20);
  EXPECT_EQ(uniform->exact_parameters, sliced.config.TotalParameters());
  EXPECT_EQ(uniform->padded_parameters, u.TotalParameters());
  EXPECT_GT(uniform->padded_parameters, uniform->exact_parameters);

  auto cpu = CreateCpuBackend().value();
  auto small = LlamaModel::Create(sliced.config, sliced.weights, cpu.get()).value();
  auto padded = LlamaModel::Create(u, uniform->weights, cpu.get()).value();
  const Batch batch = testing::RandomBatch(sliced.config, 2, 9, 4);
  Tensor want, got;
  ASSERT_TRUE(small->Forward(batch, nullptr, &want).ok());
  ASSERT_TRUE(padded->Forward(batch, nullptr, &got).ok());
  // Only the summation order of the wider GEMMs differs.
  EXPECT_LE(testing::Compare(got, want).rel_inf, 1e-5);

  // A plain family checkpoint: no gisp keys; gisp reloads it bit for bit.
  const std::string dir = TempDir(GetParam() ? "uniform_bias" : "uniform");
  ASSERT_TRUE(ExportUniformModel(dir, *uniform, DType::kF32).ok());
  auto text = ReadFile(JoinPath(dir, "config.json"));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("gisp"), std::string::npos) << *text;
  EXPECT_NE(text->find("\"LlamaForCausalLM\""), std::string::npos);
  auto loaded = LoadCheckpoint(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto reloaded = LlamaModel::Create(loaded->config, loaded->weights, cpu.get()).value();
  Tensor again;
  ASSERT_TRUE(reloaded->Forward(batch, nullptr, &again).ok());
  EXPECT_EQ(testing::Compare(again, got).max_abs, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Biases, UniformTest, ::testing::Values(false, true));

TEST(UniformChoiceTest, DuplicatingKvHeadsWinsWhenOneGroupIsCrowded) {
  // Dense H = 8, KV = 4 (G = 2). Layer 1 keeps both heads of group 0 and nothing else; layer 0
  // keeps one head in each group. G = 2 needs 4 KV slots (8 query slots); G = 1 needs 4 KV slots
  // as well (4 query slots): duplication is cheaper.
  SlicedModel sliced;
  sliced.config = testing::SmallConfig(41, 32, 2, 8, 4, 4, 12);
  sliced.config.layers[0] = Shape({0, 1, 2, 3}, 4, 12);
  sliced.config.layers[1] = Shape({0, 0}, 4, 12);
  sliced.weights = testing::RandomWeights(sliced.config, 5);
  auto uniform = MakeUniform(sliced);
  ASSERT_TRUE(uniform.ok()) << uniform.status();
  EXPECT_EQ(uniform->group, 1);
  EXPECT_EQ(uniform->config.num_kv_heads, 4);
  EXPECT_EQ(uniform->config.num_heads, 4);
  auto cpu = CreateCpuBackend().value();
  auto small = LlamaModel::Create(sliced.config, sliced.weights, cpu.get()).value();
  auto padded = LlamaModel::Create(uniform->config, uniform->weights, cpu.get()).value();
  const Batch batch = testing::RandomBatch(sliced.config, 1, 7, 2);
  Tensor want, got;
  ASSERT_TRUE(small->Forward(batch, nullptr, &want).ok());
  ASSERT_TRUE(padded->Forward(batch, nullptr, &got).ok());
  EXPECT_LE(testing::Compare(got, want).rel_inf, 1e-5);
}

}  // namespace
}  // namespace gisp
