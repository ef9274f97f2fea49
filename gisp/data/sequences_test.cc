#include "gisp/data/sequences.h"

#include <cmath>

#include "gtest/gtest.h"

namespace gisp {
namespace {

LabelledSequence Seq(std::vector<int32_t> tokens, size_t first_label = 1, bool positive = true) {
  LabelledSequence s = NextTokenSequence(std::move(tokens), first_label);
  s.positive = positive;
  return s;
}

TEST(SequencesTest, NextTokenTargets) {
  LabelledSequence s = Seq({5, 6, 7, 8}, 2);
  EXPECT_EQ(s.targets, (std::vector<int32_t>{-1, 7, 8, -1}));
  LabelledSequence all = Seq({5, 6, 7});
  EXPECT_EQ(all.targets, (std::vector<int32_t>{6, 7, -1}));
}

TEST(SequencesTest, LmWeightsReproduceBatchMeanTimesBatchSizeOverN) {
  // 3 sequences, batch size 2: batch 0 has 2 sequences (3 + 1 labelled tokens), batch 1 has 1.
  std::vector<LabelledSequence> seqs = {Seq({1, 2, 3, 4}), Seq({1, 2}), Seq({4, 5, 6})};
  auto b = MakeCalibrationBatches(seqs, Objective::kLm, 2, /*pad_id=*/9);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->batches.size(), 2u);
  EXPECT_EQ(b->labelled_tokens, 3 + 1 + 2);
  const Batch& first = b->batches[0];
  ASSERT_EQ(first.tokens.shape(), (Shape{2, 4}));
  // Padding: token 9, target -1, weight 0.
  EXPECT_EQ(first.tokens.i32()[4 + 2], 9);
  EXPECT_EQ(first.targets.i32()[4 + 2], -1);
  EXPECT_EQ(first.weights.f32()[4 + 2], 0.0f);
  // weight = bs / (n * labelled in batch) = 2 / (3 * 4).
  EXPECT_FLOAT_EQ(first.weights.f32()[0], 2.0f / 12.0f);
  EXPECT_FLOAT_EQ(b->batches[1].weights.f32()[0], 1.0f / (3.0f * 2.0f));
  // Summing weights over all labelled tokens gives 1 (a mean over sequences).
  double total = 0;
  for (const Batch& batch : b->batches) {
    for (int64_t i = 0; i < batch.weights.numel(); ++i) total += batch.weights.f32()[i];
  }
  EXPECT_NEAR(total, 1.0, 1e-6);
}

TEST(SequencesTest, MarginSeparatesSignsAndNormalizesEachSide) {
  std::vector<LabelledSequence> seqs = {Seq({1, 2, 3}, 2, true), Seq({1, 2, 4}, 2, false),
                                        Seq({1, 2, 5}, 2, false)};
  auto b = MakeCalibrationBatches(seqs, Objective::kMargin, 4);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->batches.size(), 2u);  // positives, then negatives
  EXPECT_TRUE(b->batch_positive[0]);
  EXPECT_FALSE(b->batch_positive[1]);
  EXPECT_EQ(b->positives, 1);
  EXPECT_EQ(b->negatives, 2);
  EXPECT_FLOAT_EQ(b->batches[0].weights.f32()[1], 1.0f);          // 1 / (1 * 1)
  EXPECT_FLOAT_EQ(b->batches[1].weights.f32()[1], -2.0f / 4.0f);  // -2 / (2 * 2)
  // The reported loss covers the positive side only.
  EXPECT_DOUBLE_EQ(CalibrationLoss(*b, {0.5, 7.0}), 0.5);
}

TEST(SequencesTest, FingerprintFollowsContent) {
  std::vector<LabelledSequence> a = {Seq({1, 2, 3})}, c = {Seq({1, 2, 4})};
  auto fa = MakeCalibrationBatches(a, Objective::kLm, 1);
  auto fa2 = MakeCalibrationBatches(a, Objective::kLm, 1);
  auto fc = MakeCalibrationBatches(c, Objective::kLm, 1);
  EXPECT_EQ(fa->fingerprint, fa2->fingerprint);
  EXPECT_NE(fa->fingerprint, fc->fingerprint);
}

TEST(SequencesTest, BadInputIsRejected) {
  EXPECT_FALSE(MakeCalibrationBatches({}, Objective::kLm, 2).ok());
  auto unlabelled = MakeCalibrationBatches({Seq({1})}, Objective::kLm, 2);
  ASSERT_FALSE(unlabelled.ok());
  EXPECT_NE(unlabelled.status().message().find("no labelled position"), std::string::npos);
  auto one_sided = MakeCalibrationBatches({Seq({1, 2}, 1, true)}, Objective::kMargin, 2);
  ASSERT_FALSE(one_sided.ok());
  EXPECT_NE(one_sided.status().message().find("incorrect"), std::string::npos);
  EXPECT_FALSE(MakeCalibrationBatches({Seq({1, 2})}, Objective::kLm, 0).ok());
}

}  // namespace
}  // namespace gisp
