// The DeciLM export maps a pruned model onto block_configs exactly: no-op blocks for layers
// without heads or channels, H query heads per attention layer with the regrouped KV heads,
// MLP widths padded to multiples of 256; gisp reads it back with the same logits.
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "gisp/backend/backend.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/export/decilm_export.h"
#include "gisp/export/output_biases.h"
#include "gisp/io/checkpoint.h"
#include "gisp/model/llama_model.h"
#include "gisp/testing/compare.h"
#include "gisp/testing/random_model.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

LayerShape Shape(std::vector<int32_t> kv_map, int64_t n_kv, int64_t f) {
  return testing::PrunedLayer(std::move(kv_map), n_kv, f);
}

// The model gisp reloads from an export computes the sliced model's logits.
void ExpectSameLogits(const SlicedModel& sliced, const Checkpoint& loaded) {
  auto cpu = CreateCpuBackend().value();
  auto small = LlamaModel::Create(sliced.config, sliced.weights, cpu.get()).value();
  auto back = LlamaModel::Create(loaded.config, loaded.weights, cpu.get()).value();
  const Batch batch = testing::RandomBatch(sliced.config, 2, 9, 4);
  Tensor want, got;
  ASSERT_TRUE(small->Forward(batch, nullptr, &want).ok());
  ASSERT_TRUE(back->Forward(batch, nullptr, &got).ok());
  EXPECT_LE(testing::Compare(got, want).rel_inf, 1e-5);
}

TEST(DecilmTest, FfnMultGivesThePaddedWidth) {
  for (int64_t d : {192, 4096, 8192}) {
    for (int64_t f : {256, 512, 14336, 28672}) {
      EXPECT_EQ(DecilmIntermediateSize(DecilmFfnMult(f, d), d), f) << d << " " << f;
    }
  }
}

TEST(DecilmTest, NoOpBlocksRegroupedHeadsAndPaddedMlpReloadExactly) {
  SlicedModel sliced;
  sliced.config = testing::SmallConfig(41, 24, 4, 6, 2, 4, 300);
  sliced.config.layers[0] = Shape({0, 0, 0, 1, 1, 1}, 2, 300);
  sliced.config.layers[1] = Shape({0, 1, 1, 1}, 2, 7);
  sliced.config.layers[2] = Shape({}, 2, 11);     // no heads: attention no-op
  sliced.config.layers[3] = Shape({1, 1}, 2, 0);  // no channels: ffn no-op
  sliced.weights = testing::RandomWeights(sliced.config, 3);
  auto decilm = MakeDecilm(sliced);
  ASSERT_TRUE(decilm.ok()) << decilm.status();
  const Json* blocks = decilm->config.Find("block_configs");
  ASSERT_NE(blocks, nullptr);
  ASSERT_EQ(blocks->array().size(), 4u);
  EXPECT_TRUE(blocks->array()[2].Find("attention")->Find("no_op")->bool_value());
  EXPECT_TRUE(blocks->array()[3].Find("ffn")->Find("no_op")->bool_value());
  EXPECT_EQ(blocks->array()[1].Find("ffn")->Find("intermediate_size")->int_value(), 256);
  EXPECT_EQ(blocks->array()[0].Find("ffn")->Find("intermediate_size")->int_value(), 512);
  EXPECT_EQ(decilm->config.Find("num_attention_heads")->int_value(), 6);
  EXPECT_EQ(decilm->config.Find("model_type")->string_value(), "nemotron-nas");

  const std::string dir = JoinPath(std::getenv("TEST_TMPDIR"), "decilm");
  ASSERT_TRUE(MakeDirectories(dir).ok());
  ASSERT_TRUE(WriteDecilm(dir, *decilm, DType::kF32).ok());
  auto loaded = LoadCheckpoint(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.layers[2].n_heads, 0);
  EXPECT_EQ(loaded->config.layers[3].intermediate, 0);
  EXPECT_EQ(loaded->archive->Find("model.layers.2.self_attn.q_proj.weight"), nullptr);
  EXPECT_EQ(loaded->archive->Find("model.layers.2.input_layernorm.weight"), nullptr);
  EXPECT_EQ(loaded->archive->Find("model.layers.3.mlp.up_proj.weight"), nullptr);

  ExpectSameLogits(sliced, *loaded);
}

// TensorRT-LLM's engine flow (tensorrt_llm/models/nemotron_nas/config.py) derives the head
// size as hidden_size / num_attention_heads and always loads lm_head.weight
// (tensorrt_llm/models/nemotron_nas/convert.py): keep H = hidden_size / head_dim even when
// fewer query slots would fit, and write tied embeddings as lm_head.weight too.
TEST(DecilmTest, HeadCountMatchesHiddenOverHeadDimAndTiedHeadIsWritten) {
  SlicedModel sliced;
  sliced.config = testing::SmallConfig(41, 24, 3, 6, 2, 4, 300);
  sliced.config.tie_word_embeddings = true;
  sliced.config.layers[0] = Shape({0, 1}, 2, 300);  // two heads would fit every layer
  sliced.config.layers[1] = Shape({1}, 2, 40);
  sliced.config.layers[2] = Shape({0}, 2, 0);
  sliced.weights = testing::RandomWeights(sliced.config, 5);
  auto decilm = MakeDecilm(sliced);
  ASSERT_TRUE(decilm.ok()) << decilm.status();
  const int64_t h = decilm->config.Find("num_attention_heads")->int_value();
  EXPECT_EQ(h, 6);
  EXPECT_EQ(decilm->config.Find("hidden_size")->int_value() / h,
            decilm->config.Find("head_dim")->int_value());

  const std::string dir = JoinPath(std::getenv("TEST_TMPDIR"), "decilm_tied");
  ASSERT_TRUE(MakeDirectories(dir).ok());
  ASSERT_TRUE(WriteDecilm(dir, *decilm, DType::kF32).ok());
  auto loaded = LoadCheckpoint(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const SafetensorsEntry* head = loaded->archive->Find("lm_head.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->shape, (std::vector<int64_t>{41, 24}));
  auto head_tensor = loaded->archive->Get("lm_head.weight");
  ASSERT_TRUE(head_tensor.ok());
  EXPECT_EQ(testing::Compare(*head_tensor, sliced.weights.embed).rel_inf, 0.0);

  ExpectSameLogits(sliced, *loaded);
}

// transformers has no nemotron-nas config type: the directory carries gisp's own
// configuration_decilm.py and config.json's auto_map names its class (tools/consumers/
// test_decilm.py loads it with transformers.AutoConfig).
TEST(DecilmTest, WritesTheConfigurationModuleAndAutoMap) {
  SlicedModel sliced;
  sliced.config = testing::SmallConfig(41, 24, 2, 6, 2, 4, 300);
  sliced.config.layers[1] = Shape({}, 2, 11);
  sliced.weights = testing::RandomWeights(sliced.config, 7);
  auto decilm = MakeDecilm(sliced);
  ASSERT_TRUE(decilm.ok()) << decilm.status();
  const std::string dir = JoinPath(std::getenv("TEST_TMPDIR"), "decilm_auto_map");
  ASSERT_TRUE(MakeDirectories(dir).ok());
  ASSERT_TRUE(WriteDecilm(dir, *decilm, DType::kF32).ok());

  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"config.json", "configuration_decilm.py", "model.safetensors"}));

  auto text = ReadFile(JoinPath(dir, "config.json"));
  ASSERT_TRUE(text.ok()) << text.status();
  auto config = ParseJson(*text, "config.json");
  ASSERT_TRUE(config.ok()) << config.status();
  const Json* auto_map = config->Find("auto_map");
  ASSERT_NE(auto_map, nullptr);
  ASSERT_NE(auto_map->Find("AutoConfig"), nullptr);
  EXPECT_EQ(auto_map->Find("AutoConfig")->string_value(), "configuration_decilm.DeciLMConfig");
  EXPECT_EQ(config->Find("model_type")->string_value(), "nemotron-nas");

  auto module = ReadFile(JoinPath(dir, "configuration_decilm.py"));
  ASSERT_TRUE(module.ok()) << module.status();
  EXPECT_EQ(*module, std::string(DecilmConfigurationSource()));
  // The class auto_map names, for the model type config.json states, from the embedded source.
  EXPECT_NE(module->find("\nclass DeciLMConfig(PretrainedConfig):\n"), std::string::npos);
  EXPECT_NE(module->find("\n    model_type = \"nemotron-nas\"\n"), std::string::npos);
  EXPECT_EQ(module->rfind("\"\"\"DeciLM / Nemotron-NAS configuration", 0), 0u);  // starts there
  EXPECT_EQ(module->back(), '\n');
}

TEST(DecilmTest, BiasesAreRefused) {
  // attention_bias alone, mlp_bias alone, and the zero-bias model AddOutputBiases makes.
  for (int which = 0; which < 3; ++which) {
    SlicedModel sliced;
    sliced.config = testing::SmallConfig(41, 24, 2, 4, 2, 6, 20);
    sliced.config.attention_bias = which == 0;
    sliced.config.mlp_bias = which == 1;
    sliced.weights = testing::RandomWeights(sliced.config, 3);
    if (which == 2) {
      const std::vector<std::vector<float>> zero(2, std::vector<float>(24, 0.0f));
      ASSERT_TRUE(AddOutputBiases(zero, zero, &sliced.config, &sliced.weights).ok());
    }
    auto decilm = MakeDecilm(sliced);
    ASSERT_FALSE(decilm.ok()) << which;
    EXPECT_NE(decilm.status().message().find("biases"), std::string::npos) << decilm.status();
    EXPECT_NE(decilm.status().message().find("TensorRT-LLM"), std::string::npos) << decilm.status();
  }
}

}  // namespace
}  // namespace gisp
