#include "gisp/io/hf_config.h"

#include <string>
#include <vector>

#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kSource[] = "models/x/config.json";

// A Llama-2 style config.json (small sizes), as transformers writes it.
constexpr char kLlamaConfig[] = R"({
  "architectures": ["LlamaForCausalLM"],
  "model_type": "llama",
  "vocab_size": 32000,
  "hidden_size": 256,
  "intermediate_size": 688,
  "num_hidden_layers": 3,
  "num_attention_heads": 8,
  "num_key_value_heads": 8,
  "hidden_act": "silu",
  "max_position_embeddings": 4096,
  "rms_norm_eps": 1e-05,
  "rope_theta": 10000.0,
  "rope_scaling": null,
  "tie_word_embeddings": false,
  "attention_bias": false,
  "mlp_bias": false,
  "torch_dtype": "float16",
  "bos_token_id": 1,
  "eos_token_id": 2,
  "pretraining_tp": 1,
  "use_cache": true,
  "transformers_version": "4.44.0"
})";

Json ParseOrDie(absl::string_view text) {
  absl::StatusOr<Json> j = ParseJson(text, "test");
  EXPECT_TRUE(j.ok()) << j.status();
  return j.ok() ? *j : Json();
}

// kLlamaConfig with `key` set to the JSON `value` (or removed when value is empty).
Json LlamaWith(const std::string& key, const std::string& value) {
  Json j = ParseOrDie(kLlamaConfig);
  Json::Object members;
  for (const auto& [k, v] : j.object()) {
    if (k != key) members.emplace_back(k, v);
  }
  if (!value.empty()) members.emplace_back(key, ParseOrDie(value));
  return Json::MakeObject(std::move(members));
}

absl::Status ParseStatus(const Json& j) { return ParseLlamaConfig(j, kSource).status(); }

TEST(HfConfig, ParsesLlama) {
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(ParseOrDie(kLlamaConfig), kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_type, "llama");
  EXPECT_EQ(c->vocab_size, 32000);
  EXPECT_EQ(c->hidden_size, 256);
  EXPECT_EQ(c->intermediate_size, 688);
  EXPECT_EQ(c->num_layers, 3);
  EXPECT_EQ(c->num_heads, 8);
  EXPECT_EQ(c->num_kv_heads, 8);
  EXPECT_EQ(c->head_dim, 32);
  EXPECT_EQ(c->max_position_embeddings, 4096);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);
  EXPECT_EQ(c->rope_scaling.type, RopeScaling::Type::kNone);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_FALSE(c->attention_bias);
  EXPECT_EQ(c->torch_dtype, DType::kF16);
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_EQ(c->eos_token_id, 2);
  ASSERT_EQ(c->layers.size(), 3u);
  EXPECT_TRUE(c->IsDense());
  EXPECT_EQ(c->layers[2].kv_map.size(), 8u);
}

TEST(HfConfig, Defaults) {
  Json j = ParseOrDie(R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 8,
      "intermediate_size": 12, "num_hidden_layers": 1, "num_attention_heads": 2})");
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(j, kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->num_kv_heads, 2);  // = heads
  EXPECT_EQ(c->head_dim, 4);      // = hidden / heads
  EXPECT_EQ(c->torch_dtype, DType::kF32);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_EQ(c->bos_token_id, -1);
  EXPECT_EQ(c->eos_token_id, -1);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);
}

TEST(HfConfig, ArchitectureAloneDecidesTheFamily) {
  Json j = LlamaWith("model_type", "");
  j.Set("architectures", ParseOrDie(R"(["MistralForCausalLM"])"));
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(j, kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_type, "mistral");
}

TEST(HfConfig, ExplicitHeadDim) {
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(LlamaWith("head_dim", "64"), kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->head_dim, 64);  // not hidden / heads = 32
}

TEST(HfConfig, HiddenNotDivisibleByHeadsNeedsHeadDim) {
  absl::Status s = ParseStatus(LlamaWith("num_attention_heads", "7"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("head_dim"),
                                 HasSubstr("num_attention_heads (7)")));
}

TEST(HfConfig, MissingRequiredField) {
  absl::Status s = ParseStatus(LlamaWith("hidden_size", ""));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("\"hidden_size\" is missing")));
}

TEST(HfConfig, IllTypedField) {
  absl::Status s = ParseStatus(LlamaWith("vocab_size", "\"big\""));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("\"vocab_size\""),
                                 HasSubstr("integer"), HasSubstr("\"big\"")));
}

TEST(HfConfig, ValidationErrorsNameTheSource) {
  absl::Status s = ParseStatus(LlamaWith("num_key_value_heads", "3"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("num_key_value_heads (3)")));
  absl::Status negative = ParseStatus(LlamaWith("intermediate_size", "-5"));
  EXPECT_THAT(negative.message(),
              AllOf(HasSubstr(kSource), HasSubstr("\"intermediate_size\""), HasSubstr("-5")));
}

// Issue 9: sizes are refused before any per-layer state exists (10^6 layers allocated gigabytes;
// 2^63-1 layers and -1 heads ended as internal errors).
TEST(HfConfig, OutOfRangeSizesAreRefusedBeforeAllocating) {
  struct Case {
    const char* key;
    const char* value;
    const char* expected;
  };
  for (const Case& c : std::vector<Case>{
           {"num_hidden_layers", "1000000",
            "field \"num_hidden_layers\" must be in [1, 4096], got 1000000"},
           {"num_hidden_layers", "10000000", "got 10000000"},
           {"num_hidden_layers", "9223372036854775807", "got 9223372036854775807"},
           {"num_hidden_layers", "0", "\"num_hidden_layers\" must be in [1, 4096], got 0"},
           {"num_attention_heads", "-1",
            "field \"num_attention_heads\" must be in [1, 4096], got -1"},
           {"num_key_value_heads", "-1", "\"num_key_value_heads\" must be in [1, 4096], got -1"},
           {"hidden_size", "9223372036854775807", "\"hidden_size\""},
           {"intermediate_size", "4611686018427387904", "\"intermediate_size\""},
           {"vocab_size", "2147483648", "\"vocab_size\" must be in [1, 16777216]"},
           {"head_dim", "-2", "\"head_dim\" must be in [1, 16384], got -2"},
           {"max_position_embeddings", "9223372036854775807", "\"max_position_embeddings\""},
       }) {
    const absl::Status s = ParseStatus(LlamaWith(c.key, c.value));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.key << "=" << c.value << ": " << s;
    EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr(c.expected)))
        << c.key << "=" << c.value;
  }
}

TEST(HfConfig, UnsupportedArchitecture) {
  absl::Status s = ParseStatus(LlamaWith("architectures", R"(["GPT2LMHeadModel"])"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("\"architectures\""),
                                 HasSubstr("GPT2LMHeadModel"), HasSubstr("LlamaForCausalLM")));
}

TEST(HfConfig, UnsupportedModelType) {
  Json j = LlamaWith("model_type", "\"mixtral\"");
  j.Set("architectures", Json());
  absl::Status s = ParseStatus(j);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(kSource), HasSubstr("\"model_type\""), HasSubstr("\"mixtral\"")));
}

TEST(HfConfig, NeitherModelTypeNorArchitectures) {
  Json j = LlamaWith("model_type", "");
  j.Set("architectures", Json());
  absl::Status s = ParseStatus(j);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("model_type")));
}

TEST(HfConfig, RopeScalingLinearBothSpellings) {
  for (const char* spelling :
       {R"({"type": "linear", "factor": 4.0})", R"({"rope_type": "linear", "factor": 4.0})"}) {
    absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(LlamaWith("rope_scaling", spelling), kSource);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->rope_scaling.type, RopeScaling::Type::kLinear);
    EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 4.0);
  }
}

TEST(HfConfig, RopeScalingLlama3) {
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(
      LlamaWith("rope_scaling", R"({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
          "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})"),
      kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rope_scaling.type, RopeScaling::Type::kLlama3);
  EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c->rope_scaling.original_max_position_embeddings, 8192);
}

TEST(HfConfig, RopeScalingLlama3MissingField) {
  absl::Status s = ParseStatus(LlamaWith("rope_scaling", R"({"rope_type": "llama3",
      "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0})"));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("rope_scaling"),
                                 HasSubstr("\"original_max_position_embeddings\" is missing")));
}

TEST(HfConfig, RopeScalingDefaultTypeMeansNone) {
  absl::StatusOr<LlamaConfig> c =
      ParseLlamaConfig(LlamaWith("rope_scaling", R"({"rope_type": "default"})"), kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rope_scaling.type, RopeScaling::Type::kNone);
}

TEST(HfConfig, UnsupportedRopeScalingTypes) {
  for (const std::string type : {"dynamic", "yarn", "longrope", "su"}) {
    absl::Status s = ParseStatus(
        LlamaWith("rope_scaling", absl::StrCat(R"({"type": ")", type, R"(", "factor": 2.0})")));
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << type;
    EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("rope_scaling"),
                                   HasSubstr(absl::StrCat("\"", type, "\""))));
  }
}

TEST(HfConfig, RopeParametersOfTransformers5) {
  Json j = LlamaWith("rope_theta", "");
  j.Set("rope_parameters", ParseOrDie(R"({"rope_type": "default", "rope_theta": 500000.0})"));
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(j, kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_DOUBLE_EQ(c->rope_theta, 500000.0);
  EXPECT_EQ(c->rope_scaling.type, RopeScaling::Type::kNone);
}

TEST(HfConfig, MlpBias) {
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(LlamaWith("mlp_bias", "true"), kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->mlp_bias);
  EXPECT_TRUE(c->HasMlpBias());
  EXPECT_FALSE(c->HasOBias());
  // gate/up biases [F] and down bias [D] per layer are decoder parameters.
  LlamaConfig plain = *ParseLlamaConfig(LlamaWith("mlp_bias", "false"), kSource);
  EXPECT_EQ(c->DecoderLayerParameters(0) - plain.DecoderLayerParameters(0),
            2 * c->intermediate_size + c->hidden_size);
  // Mistral and Qwen2 MLPs never have biases.
  Json qwen = LlamaWith("model_type", "\"qwen2\"");
  qwen.Set("architectures", ParseOrDie(R"(["Qwen2ForCausalLM"])"));
  qwen.Set("mlp_bias", Json::Bool(true));
  EXPECT_FALSE(ParseLlamaConfig(qwen, kSource)->mlp_bias);
}

TEST(HfConfig, BiasFlagsMustBeBooleans) {
  for (const char* field : {"attention_bias", "mlp_bias"}) {
    for (const char* bad : {"1", "\"true\"", "[]", "{}"}) {
      absl::Status s = ParseStatus(LlamaWith(field, bad));
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field << " = " << bad;
      EXPECT_THAT(s.message(),
                  AllOf(HasSubstr(kSource), HasSubstr(absl::StrCat("\"", field, "\""))))
          << field << " = " << bad;
    }
  }
}

TEST(HfConfig, HiddenActMustBeSilu) {
  absl::Status s = ParseStatus(LlamaWith("hidden_act", "\"gelu\""));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(kSource), HasSubstr("\"hidden_act\""), HasSubstr("\"gelu\"")));
}

TEST(HfConfig, QuantizedCheckpointsAreRefused) {
  absl::Status s = ParseStatus(LlamaWith("quantization_config", R"({"quant_method": "gptq"})"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("quantization_config"));
}

TEST(HfConfig, AttentionBias) {
  absl::StatusOr<LlamaConfig> llama =
      ParseLlamaConfig(LlamaWith("attention_bias", "true"), kSource);
  ASSERT_TRUE(llama.ok());
  EXPECT_TRUE(llama->attention_bias);
  // transformers' Llama gives o_proj a bias too; Qwen2 does not.
  EXPECT_TRUE(llama->HasQkvBias());
  EXPECT_TRUE(llama->HasOBias());
  LlamaConfig plain = *ParseLlamaConfig(LlamaWith("attention_bias", "false"), kSource);
  const int64_t qd = llama->num_heads * llama->head_dim;
  const int64_t kvd = llama->num_kv_heads * llama->head_dim;
  EXPECT_EQ(llama->DecoderLayerParameters(0) - plain.DecoderLayerParameters(0),
            qd + 2 * kvd + llama->hidden_size);
  // Qwen2 has q/k/v biases whatever the config says.
  Json qwen = LlamaWith("model_type", "\"qwen2\"");
  qwen.Set("architectures", ParseOrDie(R"(["Qwen2ForCausalLM"])"));
  absl::StatusOr<LlamaConfig> q = ParseLlamaConfig(qwen, kSource);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(q->attention_bias);
  EXPECT_FALSE(q->HasOBias());
}

TEST(HfConfig, TorchDtype) {
  EXPECT_EQ(ParseLlamaConfig(LlamaWith("torch_dtype", "\"bfloat16\""), kSource)->torch_dtype,
            DType::kBF16);
  EXPECT_EQ(ParseLlamaConfig(LlamaWith("torch_dtype", "\"float32\""), kSource)->torch_dtype,
            DType::kF32);
  Json newer = LlamaWith("torch_dtype", "");
  newer.Set("dtype", Json::String("bfloat16"));  // transformers >= 4.56 spelling
  EXPECT_EQ(ParseLlamaConfig(newer, kSource)->torch_dtype, DType::kBF16);
  absl::Status s = ParseStatus(LlamaWith("torch_dtype", "\"int8\""));
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(kSource), HasSubstr("\"torch_dtype\""), HasSubstr("\"int8\"")));
}

TEST(HfConfig, EosTokenList) {
  absl::StatusOr<LlamaConfig> c =
      ParseLlamaConfig(LlamaWith("eos_token_id", "[128001, 128008, 128009]"), kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->eos_token_id, 128001);
  EXPECT_EQ(ParseLlamaConfig(LlamaWith("eos_token_id", "null"), kSource)->eos_token_id, -1);
  absl::Status s = ParseStatus(LlamaWith("eos_token_id", R"(["x"])"));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("\"eos_token_id\"")));
}

Json Mistral(const std::string& sliding_window) {
  Json j = LlamaWith("model_type", "\"mistral\"");
  j.Set("architectures", ParseOrDie(R"(["MistralForCausalLM"])"));
  j.Set("sliding_window", ParseOrDie(sliding_window));
  return j;
}

TEST(HfConfig, MistralSlidingWindow) {
  EXPECT_TRUE(ParseLlamaConfig(Mistral("null"), kSource).ok());
  EXPECT_TRUE(ParseLlamaConfig(Mistral("4096"), kSource).ok());  // = max_position_embeddings
  absl::Status s = ParseStatus(Mistral("1024"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("\"sliding_window\" is 1024"),
                                 HasSubstr("4096")));
  // Mistral attention never has biases, whatever attention_bias says.
  Json biased = Mistral("null");
  biased.Set("attention_bias", Json::Bool(true));
  EXPECT_FALSE(ParseLlamaConfig(biased, kSource)->attention_bias);
}

TEST(HfConfig, Qwen2SlidingWindowOnlyWhenEnabled) {
  Json qwen = LlamaWith("model_type", "\"qwen2\"");
  qwen.Set("architectures", ParseOrDie(R"(["Qwen2ForCausalLM"])"));
  qwen.Set("sliding_window", Json::Int(1024));
  qwen.Set("use_sliding_window", Json::Bool(false));
  EXPECT_TRUE(ParseLlamaConfig(qwen, kSource).ok());
  qwen.Set("use_sliding_window", Json::Bool(true));
  absl::Status s = ParseStatus(qwen);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("\"sliding_window\" is 1024"));
}

constexpr char kPerLayer[] = R"([
  {"num_attention_heads": 8, "num_key_value_heads": 8, "kv_map": [0,1,2,3,4,5,6,7],
   "intermediate_size": 688},
  {"num_attention_heads": 3, "num_key_value_heads": 2, "kv_map": [0, 1, 1],
   "intermediate_size": 100},
  {"num_attention_heads": 0, "num_key_value_heads": 0, "kv_map": [], "intermediate_size": 0}
])";

// Directories written by gisp <= 0.1 carry the widths in "per_layer_config" under the family's
// own model_type; they still load.
TEST(HfConfig, LegacyPerLayerConfig) {
  absl::StatusOr<LlamaConfig> c =
      ParseLlamaConfig(LlamaWith("per_layer_config", kPerLayer), kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->layers.size(), 3u);
  EXPECT_FALSE(c->IsDense());
  EXPECT_EQ(c->layers[1].n_heads, 3);
  EXPECT_EQ(c->layers[1].n_kv_heads, 2);
  EXPECT_EQ(c->layers[1].kv_map, (std::vector<int32_t>{0, 1, 1}));
  EXPECT_EQ(c->layers[1].intermediate, 100);
  EXPECT_EQ(c->layers[2].n_heads, 0);
  EXPECT_EQ(c->num_heads, 8);  // the dense widths stay
  EXPECT_EQ(c->intermediate_size, 688);
}

// The current format: gisp's model type, the family under gisp_base_model_type.
Json Sliced(const char* per_layer) {
  Json j = LlamaWith("gisp_per_layer_config", per_layer);
  j.Set("model_type", Json::String("gisp_sliced"));
  j.Set("architectures", ParseOrDie(R"(["GispSlicedForCausalLM"])"));
  j.Set("gisp_base_model_type", Json::String("llama"));
  return j;
}

TEST(HfConfig, GispPerLayerConfig) {
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(Sliced(kPerLayer), kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_type, "llama");
  ASSERT_EQ(c->layers.size(), 3u);
  EXPECT_EQ(c->layers[1].kv_map, (std::vector<int32_t>{0, 1, 1}));

  Json no_widths = Sliced(kPerLayer);
  no_widths.Set("gisp_per_layer_config", Json());
  EXPECT_THAT(ParseStatus(no_widths).message(),
              AllOf(HasSubstr("gisp_sliced"), HasSubstr("\"gisp_per_layer_config\"")));
  Json bad_base = Sliced(kPerLayer);
  bad_base.Set("gisp_base_model_type", Json::String("gpt2"));
  absl::Status s = ParseStatus(bad_base);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("gisp_base_model_type"), HasSubstr("gpt2")));
}

TEST(HfConfig, PerLayerConfigWrongLength) {
  absl::Status s = ParseStatus(Sliced(R"([{"num_attention_heads": 8,
      "num_key_value_heads": 8, "kv_map": [0,1,2,3,4,5,6,7], "intermediate_size": 688}])"));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("\"gisp_per_layer_config\" has 1"),
                                 HasSubstr("num_hidden_layers is 3")));
}

TEST(HfConfig, PerLayerConfigBadEntries) {
  std::string missing_map = kPerLayer;
  missing_map.replace(missing_map.find("\"kv_map\": [0, 1, 1],"), 21, "");
  absl::Status s = ParseStatus(LlamaWith("per_layer_config", missing_map));
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(kSource), HasSubstr("per_layer_config[1]"), HasSubstr("\"kv_map\"")));

  std::string out_of_range = kPerLayer;
  out_of_range.replace(out_of_range.find("[0, 1, 1]"), 9, "[0, 1, 2]");
  s = ParseStatus(LlamaWith("per_layer_config", out_of_range));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(kSource), HasSubstr("layer 1"), HasSubstr("kv_map")));

  std::string too_wide = kPerLayer;
  too_wide.replace(too_wide.find("\"intermediate_size\": 100"), 24, "\"intermediate_size\": 999");
  s = ParseStatus(LlamaWith("per_layer_config", too_wide));
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(kSource), HasSubstr("layer 1"), HasSubstr("intermediate=999")));
}

void ExpectSameConfig(const LlamaConfig& a, const LlamaConfig& b) {
  EXPECT_EQ(a.model_type, b.model_type);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.num_layers, b.num_layers);
  EXPECT_EQ(a.num_heads, b.num_heads);
  EXPECT_EQ(a.num_kv_heads, b.num_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.intermediate_size, b.intermediate_size);
  EXPECT_EQ(a.rms_norm_eps, b.rms_norm_eps);  // exact: the writer prints round-trip digits
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.rope_scaling.type, b.rope_scaling.type);
  EXPECT_EQ(a.rope_scaling.factor, b.rope_scaling.factor);
  EXPECT_EQ(a.rope_scaling.low_freq_factor, b.rope_scaling.low_freq_factor);
  EXPECT_EQ(a.rope_scaling.high_freq_factor, b.rope_scaling.high_freq_factor);
  EXPECT_EQ(a.rope_scaling.original_max_position_embeddings,
            b.rope_scaling.original_max_position_embeddings);
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings);
  EXPECT_EQ(a.tie_word_embeddings, b.tie_word_embeddings);
  EXPECT_EQ(a.attention_bias, b.attention_bias);
  EXPECT_EQ(a.mlp_bias, b.mlp_bias);
  EXPECT_EQ(a.torch_dtype, b.torch_dtype);
  EXPECT_EQ(a.bos_token_id, b.bos_token_id);
  EXPECT_EQ(a.eos_token_id, b.eos_token_id);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_EQ(a.layers[l].n_heads, b.layers[l].n_heads) << l;
    EXPECT_EQ(a.layers[l].n_kv_heads, b.layers[l].n_kv_heads) << l;
    EXPECT_EQ(a.layers[l].kv_map, b.layers[l].kv_map) << l;
    EXPECT_EQ(a.layers[l].intermediate, b.layers[l].intermediate) << l;
  }
}

// Serializes through text, as a file would.
LlamaConfig RoundTrip(const LlamaConfig& c) {
  absl::StatusOr<Json> j = ParseJson(LlamaConfigToJson(c).Dump(2), "written");
  EXPECT_TRUE(j.ok()) << j.status();
  absl::StatusOr<LlamaConfig> back = ParseLlamaConfig(*j, "written");
  EXPECT_TRUE(back.ok()) << back.status();
  return back.ok() ? *back : LlamaConfig();
}

TEST(HfConfig, RoundTripDenseLlama) {
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(
      LlamaWith("rope_scaling", R"({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
          "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})"),
      kSource);
  ASSERT_TRUE(c.ok());
  c->rms_norm_eps = 1.0 / 3.0;  // needs 17 digits
  c->rope_theta = 500000.0;
  ExpectSameConfig(RoundTrip(*c), *c);
  EXPECT_EQ(LlamaConfigToJson(*c).Find("per_layer_config"), nullptr);
  EXPECT_EQ(LlamaConfigToJson(*c).Find("gisp_per_layer_config"), nullptr);
  EXPECT_EQ(LlamaConfigToJson(*c).Find("model_type")->string_value(), "llama");
}

TEST(HfConfig, RoundTripBiasedLlama) {
  for (bool attention : {false, true}) {
    for (bool mlp : {false, true}) {
      Json j = LlamaWith("attention_bias", attention ? "true" : "false");
      j.Set("mlp_bias", Json::Bool(mlp));
      absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(j, kSource);
      ASSERT_TRUE(c.ok()) << c.status();
      ExpectSameConfig(RoundTrip(*c), *c);
      Json written = LlamaConfigToJson(*c);
      EXPECT_EQ(written.Find("attention_bias")->bool_value(), attention);
      EXPECT_EQ(written.Find("mlp_bias")->bool_value(), mlp);
    }
  }
}

TEST(HfConfig, RoundTripQwen2TiedLinearRope) {
  Json qwen = LlamaWith("model_type", "\"qwen2\"");
  qwen.Set("architectures", ParseOrDie(R"(["Qwen2ForCausalLM"])"));
  qwen.Set("tie_word_embeddings", Json::Bool(true));
  qwen.Set("num_key_value_heads", Json::Int(2));
  qwen.Set("rope_scaling", ParseOrDie(R"({"type": "linear", "factor": 2.5})"));
  qwen.Set("torch_dtype", Json::String("bfloat16"));
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(qwen, kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectSameConfig(RoundTrip(*c), *c);
  Json written = LlamaConfigToJson(*c);
  EXPECT_EQ(written.Find("architectures")->array()[0].string_value(), "Qwen2ForCausalLM");
}

TEST(HfConfig, RoundTripPrunedMistral) {
  Json j = Mistral("null");
  j.Set("per_layer_config", ParseOrDie(kPerLayer));
  absl::StatusOr<LlamaConfig> c = ParseLlamaConfig(j, kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectSameConfig(RoundTrip(*c), *c);
  // Written under gisp's own type and key only: transformers 5 reserves "per_layer_config"
  // (a dict keyed by layer), and a family model_type would let stock loaders try the weights.
  const Json written = LlamaConfigToJson(*c);
  EXPECT_EQ(written.Find("per_layer_config"), nullptr);
  EXPECT_NE(written.Find("gisp_per_layer_config"), nullptr);
  EXPECT_EQ(written.Find("model_type")->string_value(), "gisp_sliced");
  EXPECT_EQ(written.Find("gisp_base_model_type")->string_value(), "mistral");
  EXPECT_EQ(written.Find("architectures")->array()[0].string_value(), "GispSlicedForCausalLM");
}

TEST(HfConfig, LoadFromDirectory) {
  const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/cfg");
  ASSERT_TRUE(MakeDirectories(dir).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir, "config.json"), kLlamaConfig).ok());
  absl::StatusOr<LlamaConfig> c = LoadLlamaConfig(dir);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->hidden_size, 256);

  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir, "config.json"), "{\"vocab_size\": 3,").ok());
  absl::Status bad = LoadLlamaConfig(dir).status();
  EXPECT_THAT(bad.message(), AllOf(HasSubstr(JoinPath(dir, "config.json")), HasSubstr("JSON")));

  absl::Status missing = LoadLlamaConfig(JoinPath(dir, "nope")).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr(JoinPath(dir, "nope/config.json")));
}

}  // namespace
}  // namespace gisp
