// Evaluation: perplexity against a direct computation, batching and chunk limits, cancellation;
// multiple choice against a hand computation; KV-cache decoding against full forward passes;
// exact-match helpers. Runs on the embedded tiny model and on random models.
#include <cmath>

#include "gisp/backend/backend.h"
#include "gisp/data/calibration_sources.h"
#include "gisp/data/encode_pair.h"
#include "gisp/eval/generation.h"
#include "gisp/eval/multiple_choice.h"
#include "gisp/eval/perplexity.h"
#include "gisp/io/checkpoint.h"
#include "gisp/model/decoder.h"
#include "gisp/testing/compare.h"
#include "gisp/testing/random_model.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

class TinyModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ckpt = LoadCheckpoint("testdata/tiny/model");
    ASSERT_TRUE(ckpt.ok()) << ckpt.status();
    cpu_ = CreateCpuBackend().value();
    model_ = LlamaModel::Create(ckpt->config, ckpt->weights, cpu_.get()).value();
    tok_ = Tokenizer::Load("testdata/tiny/model").value();
  }
  std::unique_ptr<Backend> cpu_;
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(TinyModelTest, PerplexityMatchesDirectComputationAndIsBatchInvariant) {
  std::vector<int32_t> ids;
  for (int i = 0; i < 5 * 32 + 7; ++i) ids.push_back((i * 131 + 7) % 3072);
  PerplexityOptions one;
  one.chunk_len = 32;
  one.batch_size = 1;
  PerplexityOptions four = one;
  four.batch_size = 4;
  auto a = EvaluatePerplexity(model_.get(), ids, one);
  auto b = EvaluatePerplexity(model_.get(), ids, four);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->chunks, 5);
  EXPECT_EQ(a->tokens, 5 * 31);  // the 7-token tail is dropped
  EXPECT_NEAR(a->perplexity, b->perplexity, 1e-6 * a->perplexity);
  // Direct: sum of per-chunk losses from Forward.
  double nll = 0;
  for (int c = 0; c < 5; ++c) {
    Batch batch;
    batch.tokens = Tensor::Host({1, 32}, DType::kI32).value();
    batch.targets = Tensor::Host({1, 32}, DType::kI32).value();
    for (int t = 0; t < 32; ++t) {
      batch.tokens.i32()[t] = ids[c * 32 + t];
      batch.targets.i32()[t] = t < 31 ? ids[c * 32 + t + 1] : -1;
    }
    nll += model_->Forward(batch).value().nll_sum;
  }
  EXPECT_NEAR(a->perplexity, std::exp(nll / (5 * 31)), 1e-6 * a->perplexity);
  PerplexityOptions limited = one;
  limited.max_chunks = 2;
  EXPECT_EQ(EvaluatePerplexity(model_.get(), ids, limited)->tokens, 2 * 31);
  PerplexityOptions cancel = one;
  cancel.progress = [](int64_t done, int64_t) { return done < 2; };
  EXPECT_EQ(EvaluatePerplexity(model_.get(), ids, cancel).status().code(),
            absl::StatusCode::kCancelled);
  PerplexityOptions bad = one;
  bad.chunk_len = 1;
  EXPECT_FALSE(EvaluatePerplexity(model_.get(), ids, bad).ok());
  EXPECT_FALSE(EvaluatePerplexity(model_.get(), {1, 2, 3}, one).ok());
}

TEST_F(TinyModelTest, HeldOutPerplexityIsFarBelowUnigram) {
  PerplexityOptions options;
  auto r = EvaluatePerplexityOnText(model_.get(), *tok_, "testdata/tiny/eval.txt", options);
  ASSERT_TRUE(r.ok()) << r.status();
  // testdata/tiny/manifest.json: 19.84 for the model, 398 for a unigram model.
  EXPECT_LT(r->perplexity, 25.0);
  EXPECT_GT(r->perplexity, 10.0);
}

TEST_F(TinyModelTest, MultipleChoiceMatchesHandComputation) {
  std::vector<MultipleChoiceItem> items = {
      {"In the beginning God created the heaven and the", {" earth.", " banana.", " sky."}, 0, ""},
      {"And God said, Let there be", {" light", " cheese"}, 0, ""},
      {"The LORD is my", {" shepherd", " spreadsheet", " lamp"}, 0, ""},
  };
  auto r = EvaluateMultipleChoice(model_.get(), *tok_, items);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->logliks.size(), 3u);
  // Hand computation for item 0 choice 1: sum of log-probs of the continuation tokens.
  auto pair = EncodePair(*tok_, items[0].context, items[0].choices[1]).value();
  std::vector<int32_t> seq = pair.context;
  seq.insert(seq.end(), pair.continuation.begin(), pair.continuation.end());
  Batch b;
  const int64_t n = static_cast<int64_t>(seq.size());
  b.tokens = Tensor::Host({1, n}, DType::kI32).value();
  b.targets = Tensor::Host({1, n}, DType::kI32).value();
  for (int64_t t = 0; t < n; ++t) {
    b.tokens.i32()[t] = seq[t];
    b.targets.i32()[t] =
        t + 1 < n && t + 1 >= static_cast<int64_t>(pair.context.size()) ? seq[t + 1] : -1;
  }
  const double ll = -model_->Forward(b).value().nll_sum;
  EXPECT_NEAR(r->logliks[0][1], ll, 1e-4 * std::fabs(ll));
  // A model trained on the KJV knows these.
  EXPECT_GE(r->acc, 2.0 / 3.0);
  items[0].label = 7;
  EXPECT_FALSE(EvaluateMultipleChoice(model_.get(), *tok_, items).ok());
}

// Issue 9: a 1 MB choice used to size one batch (7.7 GB); now the item is refused by name.
TEST_F(TinyModelTest, MultipleChoiceRefusesOverlongCandidates) {
  std::string long_choice;
  for (int i = 0; i < 4000; ++i) long_choice += " and the earth";
  std::vector<MultipleChoiceItem> items = {
      {"And God said, Let there be", {" light", " cheese"}, 0, ""},
      {"In the beginning", {" God", long_choice}, 0, "mc.jsonl line 2"},
  };
  auto r = EvaluateMultipleChoice(model_.get(), *tok_, items);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string limit =
      std::to_string(std::min<int64_t>(2048, model_->config().max_position_embeddings));
  EXPECT_NE(r.status().message().find("mc.jsonl line 2: context + choice 1 has "),
            std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("more than the limit of " + limit), std::string::npos)
      << r.status();
}

TEST(DecoderTest, CachedDecodingMatchesFullForward) {
  LlamaConfig c = testing::SmallConfig(41, 24, 3, 4, 2, 6, 20);
  c.layers[1] = {3, 2, {0, 1, 1}, 11};
  c.layers[2] = {0, 0, {}, 20};
  auto cpu = CreateCpuBackend().value();
  auto model = LlamaModel::Create(c, testing::RandomWeights(c, 3), cpu.get()).value();
  const Batch batch = testing::RandomBatch(c, 1, 12, 9);
  Tensor full;
  ASSERT_TRUE(model->Forward(batch, nullptr, &full).ok());
  KvCacheDecoder decoder(model.get());
  const int32_t* ids = batch.tokens.i32();
  auto first = decoder.Append(absl::MakeConstSpan(ids, 5));  // prefill 5
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_LE(testing::Compare(*first, full.View(4 * 41, {41})).rel_inf, 1e-5);
  for (int t = 5; t < 12; ++t) {
    auto step = decoder.Append({ids[t]});
    ASSERT_TRUE(step.ok());
    EXPECT_LE(testing::Compare(*step, full.View(t * 41, {41})).rel_inf, 1e-5) << t;
  }
}

TEST_F(TinyModelTest, GreedyGenerationEqualsRepeatedArgmax) {
  GenerationOptions options;
  options.max_new_tokens = 6;
  auto gen = GenerateGreedy(model_.get(), *tok_, "And God said", options);
  ASSERT_TRUE(gen.ok()) << gen.status();
  std::vector<int32_t> ids = tok_->Encode("And God said", true).value();
  for (int32_t expected : gen->ids) {
    Batch b;
    const int64_t n = static_cast<int64_t>(ids.size());
    b.tokens = Tensor::Host({1, n}, DType::kI32).value();
    b.targets = Tensor::Host({1, n}, DType::kI32).value();
    for (int64_t t = 0; t < n; ++t) {
      b.tokens.i32()[t] = ids[t];
      b.targets.i32()[t] = -1;
    }
    Tensor logits;
    ASSERT_TRUE(model_->Forward(b, nullptr, &logits).ok());
    const float* last = logits.f32() + (n - 1) * 3072;
    const int32_t argmax = static_cast<int32_t>(std::max_element(last, last + 3072) - last);
    EXPECT_EQ(argmax, expected);
    ids.push_back(expected);
  }
}

TEST(ExactMatchTest, Gsm8kConventions) {
  EXPECT_EQ(ExtractGsm8kAnswer("She pays 3 * 2 = 6 dollars.\n#### 1,234"), "1,234");
  EXPECT_EQ(NormalizeNumber("total 1,234.0 dollars"), "total 1234 dollars");
  EXPECT_EQ(NormalizeNumber("3.05"), "3.05");
  EXPECT_TRUE(ExactMatch("The answer is 1234.", "1,234"));
  EXPECT_FALSE(ExactMatch("The answer is 123.", "1,234"));
  EXPECT_FALSE(ExactMatch("anything", ""));
}

}  // namespace
}  // namespace gisp
