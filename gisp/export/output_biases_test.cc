// AddOutputBiases: deltas land in the o_proj / down_proj biases, missing biases are created as
// zeros (so the function is unchanged by a zero delta), the flags follow transformers' Llama,
// and the result saves and loads back as an HF llama directory.
#include "gisp/export/output_biases.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "gisp/backend/backend.h"
#include "gisp/base/file.h"
#include "gisp/export/slice.h"
#include "gisp/io/checkpoint.h"
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

// [L][D] with distinct entries per layer and position.
std::vector<std::vector<float>> Deltas(const LlamaConfig& c, float scale) {
  std::vector<std::vector<float>> d(static_cast<size_t>(c.num_layers));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    for (int64_t i = 0; i < c.hidden_size; ++i) {
      d[l].push_back(scale * static_cast<float>((l + 1) * 0.1 + i * 0.01));
    }
  }
  return d;
}

std::vector<float> AsF32(const Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  ConvertElements(t.dtype(), t.raw(), DType::kF32, out.data(), out.size());
  return out;
}

// A pruned-looking llama without biases: one layer without heads, one without channels.
LlamaConfig Pruned() {
  LlamaConfig c = testing::SmallConfig(41, 24, 3, 4, 2, 6, 20);
  c.layers[0] = testing::PrunedLayer({0, 1, 1}, 2, 13);
  c.layers[1] = testing::PrunedLayer({}, 0, 20);
  c.layers[2] = testing::PrunedLayer({0, 0}, 1, 0);
  return c;
}

Tensor Logits(const LlamaConfig& c, const LlamaWeights& w, const Batch& batch) {
  auto cpu = CreateCpuBackend().value();
  auto model = LlamaModel::Create(c, w, cpu.get());
  EXPECT_TRUE(model.ok()) << model.status();
  Tensor logits;
  EXPECT_TRUE((*model)->Forward(batch, nullptr, &logits).ok());
  return logits;
}

TEST(OutputBiasesTest, CreatesZeroBiasesAndAddsTheDeltas) {
  LlamaConfig c = Pruned();
  LlamaWeights w = testing::RandomWeights(c, 4);
  const LlamaConfig before_config = c;
  const LlamaWeights before = w;
  const auto o = Deltas(c, 1.0f), down = Deltas(c, -2.0f);
  ASSERT_TRUE(AddOutputBiases(o, down, &c, &w).ok());
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_TRUE(c.attention_bias);
  EXPECT_TRUE(c.mlp_bias);
  EXPECT_TRUE(c.HasOBias());
  EXPECT_EQ(c.DecoderParameters() - before_config.DecoderParameters(), [&] {
    int64_t n = 0;
    for (const LayerShape& s : c.layers) {
      n += (s.n_heads + 2 * s.n_kv_heads) * c.head_dim + 2 * s.intermediate + 2 * c.hidden_size;
    }
    return n;
  }());
  // Every slot ParameterSpecs expects is there with its shape.
  std::vector<ParameterSpec> specs = ParameterSpecs(c);
  size_t i = 0;
  ForEachParameter(c, &w, [&](const std::string& name, Tensor* t) {
    ASSERT_LT(i, specs.size());
    EXPECT_EQ(name, specs[i].name);
    EXPECT_EQ(t->shape(), specs[i].shape) << name;
    ++i;
  });
  EXPECT_EQ(i, specs.size());
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    EXPECT_EQ(AsF32(lw.o_bias), o[l]) << l;
    EXPECT_EQ(AsF32(lw.down_bias), down[l]) << l;
    for (const Tensor* zero : {&lw.q_bias, &lw.k_bias, &lw.v_bias, &lw.gate_bias, &lw.up_bias}) {
      for (float v : AsF32(*zero)) EXPECT_EQ(v, 0.0f) << l;
    }
    EXPECT_EQ(lw.q_proj.raw(), before.layers[l].q_proj.raw());  // matrices untouched (shared)
  }

  // A zero delta changes nothing; the o/down deltas change the logits.
  LlamaConfig zc = before_config;
  LlamaWeights zw = before;
  const std::vector<std::vector<float>> zero(3, std::vector<float>(24, 0.0f));
  ASSERT_TRUE(AddOutputBiases(zero, zero, &zc, &zw).ok());
  const Batch batch = testing::RandomBatch(c, 2, 7, 1);
  const Tensor plain = Logits(before_config, before, batch);
  EXPECT_LE(testing::Compare(Logits(zc, zw, batch), plain).rel_inf, 1e-6);
  EXPECT_GT(testing::Compare(Logits(c, w, batch), plain).rel_inf, 1e-2);
}

TEST(OutputBiasesTest, AccumulatesAndKeepsQwen2Biases) {
  LlamaConfig c = testing::SmallConfig(41, 24, 2, 4, 2, 6, 20);
  c.model_type = "qwen2";
  c.attention_bias = true;  // Qwen2: q/k/v only
  LlamaWeights w = testing::RandomWeights(c, 5);
  const std::vector<float> q_before = AsF32(w.layers[1].q_bias);
  const auto o = Deltas(c, 1.0f);
  ASSERT_TRUE(AddOutputBiases(o, o, &c, &w).ok());
  ASSERT_TRUE(AddOutputBiases(o, o, &c, &w).ok());
  EXPECT_EQ(c.model_type, "llama");  // Qwen2 has no o_proj / MLP biases in HF
  EXPECT_EQ(AsF32(w.layers[1].q_bias), q_before);
  for (int64_t l = 0; l < 2; ++l) {
    const std::vector<float> got = AsF32(w.layers[l].o_bias);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], 2 * o[l][i]);
  }
}

TEST(OutputBiasesTest, StorageDtypeOfTheModelIsKept) {
  LlamaConfig c = testing::SmallConfig(41, 24, 2, 4, 2, 6, 20);
  LlamaWeights w = testing::RandomWeights(c, 6);
  ForEachParameter(c, &w, [](const std::string&, Tensor* t) {
    Tensor b = Tensor::Host(t->shape(), DType::kBF16).value();
    ConvertElements(t->dtype(), t->raw(), DType::kBF16, b.raw(), static_cast<size_t>(t->numel()));
    *t = b;
  });
  ASSERT_TRUE(AddOutputBiases(Deltas(c, 1.0f), Deltas(c, 1.0f), &c, &w).ok());
  EXPECT_EQ(w.layers[0].o_bias.dtype(), DType::kBF16);
  EXPECT_EQ(w.layers[0].gate_bias.dtype(), DType::kBF16);
}

TEST(OutputBiasesTest, BadDeltasAreRefusedAndNothingChanges) {
  LlamaConfig c = testing::SmallConfig(41, 24, 2, 4, 2, 6, 20);
  LlamaWeights w = testing::RandomWeights(c, 7);
  auto short_layers = Deltas(c, 1.0f);
  short_layers.pop_back();
  absl::Status s = AddOutputBiases(short_layers, Deltas(c, 1.0f), &c, &w);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("o_delta has 1 layers"), std::string::npos) << s;
  auto short_row = Deltas(c, 1.0f);
  short_row[1].pop_back();
  s = AddOutputBiases(Deltas(c, 1.0f), short_row, &c, &w);
  EXPECT_NE(s.message().find("down_delta[1] has 23 entries"), std::string::npos) << s;
  EXPECT_FALSE(c.attention_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_TRUE(w.layers[0].o_bias.empty());
}

TEST(OutputBiasesTest, SlicedExportLoadsBackWithTheSameLogits) {
  LlamaConfig c = Pruned();
  LlamaWeights w = testing::RandomWeights(c, 8);
  ASSERT_TRUE(AddOutputBiases(Deltas(c, 1.0f), Deltas(c, 0.5f), &c, &w).ok());
  SlicedModel sliced{c, w};
  const std::string dir = TempDir("output_biases_sliced");
  ASSERT_TRUE(ExportSlicedModel(dir, sliced, DType::kF32).ok());
  auto loaded = LoadCheckpoint(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->config.attention_bias);
  EXPECT_TRUE(loaded->config.mlp_bias);
  const Batch batch = testing::RandomBatch(c, 2, 7, 2);
  EXPECT_EQ(
      testing::Compare(Logits(loaded->config, loaded->weights, batch), Logits(c, w, batch)).max_abs,
      0.0);
}

}  // namespace
}  // namespace gisp
