#include "gisp/io/checkpoint.h"

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/io/hf_config.h"
#include "gisp/io/safetensors.h"
#include "gisp/io/safetensors_writer.h"
#include "gisp/io/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// In the namespace of gisp/io/test_util.h, whose helpers (TinyConfig, RandomWeights, Converted,
// ...) these tests use.
namespace gisp {
namespace testing_io {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Every parameter of `loaded` equals the `original` converted to `dtype`.
void ExpectWeightsEqual(const LlamaConfig& config, LlamaWeights original, LlamaWeights loaded,
                        DType dtype) {
  std::vector<Tensor> want;
  ForEachParameter(config, &original, [&](const std::string&, Tensor* t) { want.push_back(*t); });
  size_t i = 0;
  ForEachParameter(config, &loaded, [&](const std::string& name, Tensor* t) {
    ASSERT_LT(i, want.size());
    EXPECT_TRUE(BitEqual(*t, Converted(want[i++], dtype))) << name;
  });
  EXPECT_EQ(i, want.size());
}

struct RoundTripCase {
  DType saved_from;
  DType storage;
  bool tied;
  bool bias;
  int64_t max_shard_bytes;
};

class CheckpointRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(CheckpointRoundTrip, SaveThenLoad) {
  const RoundTripCase& p = GetParam();
  LlamaConfig config = TinyConfig();
  config.tie_word_embeddings = p.tied;
  config.attention_bias = p.bias;  // q/k/v and o_proj biases (llama)
  config.mlp_bias = p.bias;        // gate/up/down biases
  const LlamaWeights weights = RandomWeights(config, p.saved_from, 11);
  const std::string dir = JoinPath(NewTestDir("ckpt"), "model");  // created by SaveCheckpoint
  ASSERT_TRUE(SaveCheckpoint(dir, config, weights, p.storage, p.max_shard_bytes).ok());

  const std::vector<std::string> files = ListDir(dir);
  if (p.max_shard_bytes > 0) {
    EXPECT_GT(files.size(), 3u);  // several shards + index + config
    EXPECT_TRUE(FileExists(JoinPath(dir, kSafetensorsIndexFile)));
    EXPECT_FALSE(FileExists(JoinPath(dir, kSafetensorsSingleFile)));
  } else {
    EXPECT_THAT(files, ::testing::ElementsAre("config.json", "model.safetensors"));
  }
  for (const std::string& f : files) EXPECT_NE(f[0], '.') << "temporary left behind: " << f;

  absl::StatusOr<Checkpoint> ckpt = LoadCheckpoint(dir);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->config.torch_dtype, p.storage);
  EXPECT_EQ(ckpt->config.tie_word_embeddings, p.tied);
  EXPECT_EQ(ckpt->config.attention_bias, p.bias);
  EXPECT_EQ(ckpt->config.mlp_bias, p.bias);
  ExpectWeightsEqual(config, weights, ckpt->weights, p.storage);
  if (p.tied) {
    EXPECT_EQ(ckpt->weights.lm_head.raw(), ckpt->weights.embed.raw());
    EXPECT_FALSE(ckpt->archive->Contains("lm_head.weight"));
  } else {
    EXPECT_TRUE(BitEqual(ckpt->weights.lm_head, Converted(weights.lm_head, p.storage)));
  }
  // No copies: the weights are views of the mapped files (single file: one shared buffer).
  if (p.max_shard_bytes == 0) {
    EXPECT_EQ(ckpt->weights.embed.buffer(), ckpt->weights.layers[1].down_proj.buffer());
  }
  // transformers needs this metadata to load the file.
  EXPECT_EQ(ckpt->archive->files()[0].metadata().at("format"), "pt");
}

INSTANTIATE_TEST_SUITE_P(
    AllDtypes, CheckpointRoundTrip,
    ::testing::Values(RoundTripCase{DType::kF32, DType::kF32, false, false, 0},
                      RoundTripCase{DType::kF32, DType::kBF16, true, false, 0},
                      RoundTripCase{DType::kF32, DType::kF16, false, true, 0},
                      RoundTripCase{DType::kBF16, DType::kBF16, false, true, 0},
                      RoundTripCase{DType::kF16, DType::kF32, true, true, 0},
                      RoundTripCase{DType::kF32, DType::kBF16, false, false, 1500},
                      RoundTripCase{DType::kBF16, DType::kF32, true, true, 2000}));

TEST(Checkpoint, PrunedConfigRoundTrip) {
  LlamaConfig config = TinyConfig();
  config.layers[0].n_heads = 3;
  config.layers[0].kv_map = {0, 1, 1};
  config.layers[1].n_kv_heads = 1;
  config.layers[1].n_heads = 2;
  config.layers[1].kv_map = {0, 0};
  config.layers[1].intermediate = 5;
  ASSERT_TRUE(config.Validate().ok());
  const LlamaWeights weights = RandomWeights(config, DType::kF32, 3);
  const std::string dir = NewTestDir("pruned");
  ASSERT_TRUE(SaveCheckpoint(dir, config, weights, DType::kF32).ok());
  absl::StatusOr<Checkpoint> ckpt = LoadCheckpoint(dir);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->config.layers[1].intermediate, 5);
  EXPECT_EQ(ckpt->config.layers[0].kv_map, (std::vector<int32_t>{0, 1, 1}));
  EXPECT_EQ(ckpt->weights.layers[0].q_proj.shape(), (Shape{12, 16}));
  EXPECT_EQ(ckpt->weights.layers[1].down_proj.shape(), (Shape{16, 5}));
  ExpectWeightsEqual(config, weights, ckpt->weights, DType::kF32);
}

TEST(Checkpoint, ResavingSwitchesLayoutAndRemovesStaleWeights) {
  LlamaConfig config = TinyConfig();
  const LlamaWeights weights = RandomWeights(config, DType::kF32, 5);
  const std::string dir = NewTestDir("resave");
  WriteBytes(JoinPath(dir, "tokenizer.json"), "{}");  // unrelated files survive
  ASSERT_TRUE(SaveCheckpoint(dir, config, weights, DType::kF32).ok());
  ASSERT_TRUE(SaveCheckpoint(dir, config, weights, DType::kBF16, 1500).ok());
  EXPECT_FALSE(FileExists(JoinPath(dir, kSafetensorsSingleFile)));  // would shadow the index
  absl::StatusOr<Checkpoint> sharded = LoadCheckpoint(dir);
  ASSERT_TRUE(sharded.ok()) << sharded.status();
  EXPECT_EQ(sharded->config.torch_dtype, DType::kBF16);
  EXPECT_GT(sharded->archive->files().size(), 1u);

  ASSERT_TRUE(SaveCheckpoint(dir, config, weights, DType::kF16).ok());
  EXPECT_THAT(ListDir(dir),
              ::testing::ElementsAre("config.json", "model.safetensors", "tokenizer.json"));
  absl::StatusOr<Checkpoint> single = LoadCheckpoint(dir);
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_EQ(single->config.torch_dtype, DType::kF16);
}

// A process id that belongs to no running process: a child that has exited and been reaped.
pid_t DeadPid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

// Issue 9: a writer killed during export left hidden temporaries that no rerun removed.
TEST(Checkpoint, SavingRemovesTemporariesOfKilledWriters) {
  LlamaConfig config = TinyConfig();
  const LlamaWeights weights = RandomWeights(config, DType::kF32, 5);
  const std::string dir = NewTestDir("stale_tmp");
  const pid_t dead = DeadPid();
  const pid_t live = ::getppid();  // the test runner, alive while this test runs
  const std::vector<std::string> stale = {
      absl::StrCat(".model.safetensors.gisp-tmp.", dead, ".0"),
      absl::StrCat(".config.json.gisp-tmp.", dead, ".3"),
  };
  const std::vector<std::string> kept = {
      absl::StrCat(".model.safetensors.gisp-tmp.", live, ".0"),  // a concurrent live writer
      absl::StrCat(".other.bin.gisp-tmp.", dead, ".0"),          // another target
      "notes.txt",
  };
  for (const std::string& name : stale) WriteBytes(JoinPath(dir, name), "partial");
  for (const std::string& name : kept) WriteBytes(JoinPath(dir, name), "x");
  ASSERT_TRUE(SaveCheckpoint(dir, config, weights, DType::kF32).ok());
  for (const std::string& name : stale) EXPECT_FALSE(FileExists(JoinPath(dir, name))) << name;
  for (const std::string& name : kept) EXPECT_TRUE(FileExists(JoinPath(dir, name))) << name;
  // WriteFileAtomic's temporaries likewise.
  const std::string record = JoinPath(dir, "record.pb");
  WriteBytes(absl::StrCat(record, ".tmp.", dead), "partial");
  ASSERT_TRUE(WriteFileAtomic(record, "new").ok());
  EXPECT_FALSE(FileExists(absl::StrCat(record, ".tmp.", dead)));
}

TEST(Checkpoint, SaveRejectsWrongShapesAndWritesNothing) {
  LlamaConfig config = TinyConfig();
  LlamaWeights weights = RandomWeights(config, DType::kF32, 5);
  weights.layers[1].up_proj = RandomTensor({23, 16}, DType::kF32, 1);
  const std::string dir = NewTestDir("badsave");
  absl::Status s = SaveCheckpoint(dir, config, weights, DType::kF32);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("model.layers.1.mlp.up_proj.weight"), HasSubstr("[23, 16]"),
                    HasSubstr("[24, 16]"), HasSubstr("intermediate_size (24)")));
  EXPECT_TRUE(ListDir(dir).empty());

  weights = RandomWeights(config, DType::kF32, 5);
  weights.final_norm = Tensor();
  s = SaveCheckpoint(dir, config, weights, DType::kF32);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("model.norm.weight"), HasSubstr("empty")));
  s = SaveCheckpoint(dir, config, RandomWeights(config, DType::kF32, 5), DType::kI32);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("storage dtype"));
  EXPECT_TRUE(ListDir(dir).empty());
}

// ---------------------------------------------------------------------------------------------
// Checkpoints whose weights disagree with config.json: write a good one, then edit the tensors.

class CheckpointBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = TinyConfig();
    config_.attention_bias = config_.mlp_bias = biased_;
    tensors_.clear();
    ASSERT_TRUE(
        SaveCheckpoint(dir_, config_, RandomWeights(config_, DType::kF32, 9), DType::kF32).ok());
    absl::StatusOr<SafetensorsArchive> archive = SafetensorsArchive::Open(dir_);
    ASSERT_TRUE(archive.ok());
    for (const std::string& name : archive->Names()) {
      tensors_.emplace_back(name, Converted(*archive->Get(name), DType::kF32));  // copies
    }
  }
  // Rewrites model.safetensors from tensors_ and loads the checkpoint.
  absl::Status Reload() {
    EXPECT_TRUE(WriteSafetensors(weights_path_, tensors_, {{"format", "pt"}}).ok());
    return LoadCheckpoint(dir_).status();
  }
  void Remove(const std::string& name) {
    for (size_t i = 0; i < tensors_.size(); ++i) {
      if (tensors_[i].first == name) tensors_.erase(tensors_.begin() + static_cast<long>(i));
    }
  }
  void Replace(const std::string& name, Tensor t) {
    Remove(name);
    tensors_.emplace_back(name, std::move(t));
  }

  bool biased_ = false;  // every linear has a bias (attention_bias and mlp_bias)
  LlamaConfig config_;
  std::string dir_ = NewTestDir("badckpt");
  std::string weights_path_ = JoinPath(dir_, "model.safetensors");
  std::string config_path_ = JoinPath(dir_, "config.json");
  NamedTensors tensors_;
};

TEST_F(CheckpointBadInput, Unmodified) { EXPECT_TRUE(Reload().ok()); }

TEST_F(CheckpointBadInput, QProjRowsDisagreeWithHeads) {
  Replace("model.layers.0.self_attn.q_proj.weight", RandomTensor({12, 16}, DType::kF32, 1));
  absl::Status s = Reload();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      s.message(),
      AllOf(HasSubstr(weights_path_), HasSubstr("\"model.layers.0.self_attn.q_proj.weight\""),
            HasSubstr("has shape [12, 16]"), HasSubstr(config_path_), HasSubstr("implies [16, 16]"),
            HasSubstr("num_attention_heads (4) * head_dim (4)"), HasSubstr("hidden_size (16)")));
}

TEST_F(CheckpointBadInput, KProjDisagreesWithKvHeads) {
  Replace("model.layers.1.self_attn.k_proj.weight", RandomTensor({16, 16}, DType::kF32, 1));
  absl::Status s = Reload();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("k_proj"), HasSubstr("num_key_value_heads (2)")));
}

TEST_F(CheckpointBadInput, EmbeddingDisagreesWithVocab) {
  Replace("model.embed_tokens.weight", RandomTensor({31, 16}, DType::kF32, 1));
  absl::Status s = Reload();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("model.embed_tokens.weight"), HasSubstr("[31, 16]"),
                                 HasSubstr("vocab_size (32)")));
}

TEST_F(CheckpointBadInput, DownProjDisagreesWithIntermediate) {
  Replace("model.layers.0.mlp.down_proj.weight", RandomTensor({16, 20}, DType::kF32, 1));
  absl::Status s = Reload();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("down_proj"), HasSubstr("intermediate_size (24)")));
}

TEST_F(CheckpointBadInput, MissingTensor) {
  Remove("model.layers.1.post_attention_layernorm.weight");
  absl::Status s = Reload();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(weights_path_),
                    HasSubstr("\"model.layers.1.post_attention_layernorm.weight\" is missing"),
                    HasSubstr(config_path_), HasSubstr("[16]")));
}

TEST_F(CheckpointBadInput, MissingLmHeadNamesTieWordEmbeddings) {
  Remove("lm_head.weight");
  absl::Status s = Reload();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("lm_head.weight"), HasSubstr("tie_word_embeddings")));
}

TEST_F(CheckpointBadInput, UnknownLayerTensor) {
  tensors_.emplace_back("model.layers.0.mlp.experts.0.w1.weight",
                        RandomTensor({4}, DType::kF32, 1));
  absl::Status s = Reload();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(weights_path_),
                                 HasSubstr("unexpected tensor \"model.layers.0.mlp.experts.0.w1"
                                           ".weight\"")));
}

TEST_F(CheckpointBadInput, BiasWithoutAttentionBias) {
  tensors_.emplace_back("model.layers.1.self_attn.q_proj.bias", RandomTensor({16}, DType::kF32, 1));
  absl::Status s = Reload();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("model.layers.1.self_attn.q_proj.bias"),
                                 HasSubstr("attention_bias = false")));
}

TEST_F(CheckpointBadInput, MlpBiasWithoutMlpBiasFlag) {
  tensors_.emplace_back("model.layers.0.mlp.down_proj.bias", RandomTensor({16}, DType::kF32, 1));
  absl::Status s = Reload();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("\"model.layers.0.mlp.down_proj.bias\""),
                                 HasSubstr("mlp_bias = false"), HasSubstr(config_path_)));
}

// The same checkpoint with every linear bias (llama attention_bias and mlp_bias).
class CheckpointBiasBadInput : public CheckpointBadInput {
 protected:
  void SetUp() override {
    biased_ = true;
    CheckpointBadInput::SetUp();
  }
};

TEST_F(CheckpointBiasBadInput, Unmodified) {
  EXPECT_TRUE(Reload().ok());
  absl::StatusOr<Checkpoint> ckpt = LoadCheckpoint(dir_);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->weights.layers[1].o_bias.shape(), (Shape{16}));
  EXPECT_EQ(ckpt->weights.layers[1].gate_bias.shape(), (Shape{24}));
  EXPECT_EQ(ckpt->weights.layers[1].down_bias.shape(), (Shape{16}));
}

TEST_F(CheckpointBiasBadInput, MissingOProjBiasNamesAttentionBias) {
  Remove("model.layers.1.self_attn.o_proj.bias");
  absl::Status s = Reload();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("\"model.layers.1.self_attn.o_proj.bias\" is missing"),
                                 HasSubstr("[16]"), HasSubstr("attention_bias = true")));
}

TEST_F(CheckpointBiasBadInput, MissingMlpBiasNamesMlpBias) {
  Remove("model.layers.0.mlp.up_proj.bias");
  absl::Status s = Reload();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("\"model.layers.0.mlp.up_proj.bias\" is missing"),
                                 HasSubstr("[24]"), HasSubstr("mlp_bias = true")));
}

TEST_F(CheckpointBiasBadInput, BiasShapesNameTheirFactors) {
  const struct {
    const char* name;
    Shape bad;
    const char* why;
  } cases[] = {
      {"model.layers.0.self_attn.o_proj.bias", {12}, "[hidden_size (16)]"},
      {"model.layers.1.mlp.gate_proj.bias", {16}, "[intermediate_size (24)]"},
      {"model.layers.1.mlp.down_proj.bias", {24}, "[hidden_size (16)]"},
      {"model.layers.0.self_attn.k_proj.bias", {16}, "[num_key_value_heads (2) * head_dim (4)]"},
      {"model.layers.0.mlp.up_proj.bias", {24, 1}, "[intermediate_size (24)]"},
  };
  for (const auto& c : cases) {
    SetUp();  // a fresh copy of the good tensors
    Replace(c.name, RandomTensor(c.bad, DType::kF32, 2));
    absl::Status s = Reload();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(s.message(),
                AllOf(HasSubstr(absl::StrCat("\"", c.name, "\" has shape ", ShapeToString(c.bad))),
                      HasSubstr(c.why)))
        << c.name;
  }
}

TEST_F(CheckpointBiasBadInput, Qwen2HasNoOProjBias) {
  // The same tensors under a qwen2 config: q/k/v biases belong, the o_proj and MLP ones do not.
  std::string text = ReadFile(config_path_).value();
  Json json = ParseJson(text, config_path_).value();
  json.Set("model_type", Json::String("qwen2"));
  json.Set("architectures", Json::MakeArray({Json::String("Qwen2ForCausalLM")}));
  ASSERT_TRUE(WriteFileAtomic(config_path_, json.Dump(2)).ok());
  Remove("model.layers.0.mlp.gate_proj.bias");
  Remove("model.layers.0.mlp.up_proj.bias");
  Remove("model.layers.0.mlp.down_proj.bias");
  Remove("model.layers.1.mlp.gate_proj.bias");
  Remove("model.layers.1.mlp.up_proj.bias");
  Remove("model.layers.1.mlp.down_proj.bias");
  absl::Status s = Reload();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("self_attn.o_proj.bias"), HasSubstr("qwen2 models do not have")));
}

TEST_F(CheckpointBadInput, MoreLayersThanConfig) {
  tensors_.emplace_back("model.layers.2.input_layernorm.weight",
                        RandomTensor({16}, DType::kF32, 1));
  absl::Status s = Reload();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("model.layers.2.input_layernorm.weight"),
                                 HasSubstr("num_hidden_layers = 2")));
}

TEST_F(CheckpointBadInput, NonFloatWeight) {
  Replace("model.norm.weight", RandomTensor({16}, DType::kI32, 1));
  absl::Status s = Reload();
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(weights_path_), HasSubstr("model.norm.weight"), HasSubstr("i32")));
}

TEST_F(CheckpointBadInput, IgnoredExtras) {
  // Old checkpoints carry rotary buffers; a tied model may still ship lm_head.weight.
  tensors_.emplace_back("model.layers.0.self_attn.rotary_emb.inv_freq",
                        RandomTensor({2}, DType::kF32, 1));
  tensors_.emplace_back("model.vision_tower.something", RandomTensor({2}, DType::kF32, 2));
  config_.tie_word_embeddings = true;
  WriteBytes(config_path_, LlamaConfigToJson(config_).Dump(2));
  absl::StatusOr<Checkpoint> ckpt =
      (WriteSafetensors(weights_path_, tensors_, {}).ok() ? LoadCheckpoint(dir_)
                                                          : absl::InternalError("write"));
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_TRUE(ckpt->archive->Contains("lm_head.weight"));
  EXPECT_EQ(ckpt->weights.lm_head.raw(), ckpt->weights.embed.raw());  // HF ignores lm_head too
}

TEST_F(CheckpointBadInput, MixedDtypesAreUnifiedToTheEmbeddingDtype) {
  for (auto& [name, t] : tensors_) {
    if (name.find("norm") == std::string::npos) t = Converted(t, DType::kBF16);
  }
  ASSERT_TRUE(WriteSafetensors(weights_path_, tensors_, {}).ok());
  absl::StatusOr<Checkpoint> ckpt = LoadCheckpoint(dir_);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->config.torch_dtype, DType::kBF16);
  EXPECT_EQ(ckpt->weights.final_norm.dtype(), DType::kBF16);
  for (const auto& [name, t] : tensors_) {
    if (name == "model.norm.weight") {
      EXPECT_TRUE(BitEqual(ckpt->weights.final_norm, Converted(t, DType::kBF16)));
    }
  }
}

TEST_F(CheckpointBadInput, ShardedIndexNamesMissingShard) {
  ASSERT_TRUE(
      SaveCheckpoint(dir_, config_, RandomWeights(config_, DType::kF32, 9), DType::kF32, 1500)
          .ok());
  std::vector<std::string> shards;
  for (const std::string& f : ListDir(dir_)) {
    if (f.rfind("model-", 0) == 0) shards.push_back(f);
  }
  ASSERT_GT(shards.size(), 1u);
  ASSERT_EQ(::unlink(JoinPath(dir_, shards[1]).c_str()), 0);
  absl::Status s = LoadCheckpoint(dir_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(JoinPath(dir_, kSafetensorsIndexFile)),
                                 HasSubstr(shards[1]), HasSubstr("does not exist")));
}

TEST_F(CheckpointBadInput, MissingConfig) {
  ASSERT_EQ(::unlink(config_path_.c_str()), 0);
  absl::Status s = LoadCheckpoint(dir_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(config_path_));
}

TEST_F(CheckpointBadInput, UnsupportedArchitectureInConfig) {
  WriteBytes(config_path_, R"({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"})");
  absl::Status s = LoadCheckpoint(dir_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(config_path_), HasSubstr("GPT2LMHeadModel")));
}

TEST_F(CheckpointBadInput, MissingWeights) {
  ASSERT_EQ(::unlink(weights_path_.c_str()), 0);
  absl::Status s = LoadCheckpoint(dir_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(dir_), HasSubstr("model.safetensors")));
}

}  // namespace
}  // namespace testing_io
}  // namespace gisp
