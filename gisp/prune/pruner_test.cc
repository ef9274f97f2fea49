// The GISP loop on small random models: schedule and nesting, protected layers, the sparsity
// formula against a direct count, compaction vs masking, determinism, resume, cancellation and
// bad input. Parity with the PyTorch implementation of method.md is in torch_gisp_parity_test.
#include "gisp/prune/pruner.h"

#include <cmath>
#include <memory>
#include <random>

#include "gisp/backend/backend.h"
#include "gisp/data/sequences.h"
#include "gisp/prune/pruner_testing.h"
#include "gisp/prune/ranking.h"
#include "gisp/prune/record.h"
#include "gisp/testing/random_model.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

using testing::RandomCalibration;

LlamaConfig Gqa() { return testing::SmallGqa(); }
LlamaConfig Mha() { return testing::SmallMha(); }

CalibrationBatches Data(const LlamaConfig& c, int n = 6, int64_t t = 12, uint32_t seed = 3) {
  return RandomCalibration(c, n, t, seed);
}

using Session = testing::PruneSession;

Session Start(const LlamaConfig& c, const CalibrationBatches* data, PrunerOptions options,
              const proto::Record* resume = nullptr) {
  Session r = testing::StartSession(c, data, std::move(options), resume);
  EXPECT_TRUE(r.created.ok()) << r.created;
  return r;
}

PrunerOptions Options(int steps, double ratio) { return testing::StepsAndRatio(steps, ratio); }

TEST(PrunerTest, ScheduleNestingProtectionAndRecord) {
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  Session r = Start(c, &data, Options(6, 0.6));
  ASSERT_TRUE(r.pruner->Run().ok());
  const proto::Record& rec = r.pruner->record();
  ASSERT_TRUE(ValidateRecord(rec, "test").ok());
  EXPECT_TRUE(rec.complete());
  ASSERT_EQ(rec.steps_size(), 6);
  const UnitSpace& s = r.pruner->units();
  EXPECT_EQ(s.size(), 5 * (4 + 24));
  // Step 0 runs at ratio 0 and still prunes the lowest unit(s) (k = 1), as the released code.
  EXPECT_GE(rec.steps(0).pruned_units(), 1);
  const std::vector<double> schedule = LinearSchedule(0.6, 6);
  for (int k = 0; k < 6; ++k) {
    EXPECT_DOUBLE_EQ(rec.steps(k).target_ratio(), schedule[k]);
    // At least the scheduled fraction of units is pruned after step k.
    EXPECT_GE(rec.steps(k).pruned_units(),
              s.size() - static_cast<int64_t>(std::floor(s.size() * (1 - schedule[k]))));
    if (k > 0) {
      EXPECT_GE(rec.steps(k).pruned_units(), rec.steps(k - 1).pruned_units());
      EXPECT_GT(rec.steps(k).sparsity(), rec.steps(k - 1).sparsity());
    }
  }
  for (int64_t u = 0; u < s.size(); ++u) {
    if (s.protected_layer[s.LayerOf(u)]) {
      EXPECT_EQ(rec.pruned_at_step(u), -1) << u;
    }
  }
  EXPECT_GT(rec.final_calibration_loss(), 0);
  EXPECT_EQ(rec.model().fingerprint().size(), 32u);
  EXPECT_EQ(rec.format_version(), kRecordFormatVersion);
  EXPECT_EQ(rec.calibration().fingerprint(), data.fingerprint);
}

// A record edited by hand (or damaged) must be refused with the field named, never reach the
// slicer: an edited gqa_unit once made materialize read heads out of range.
TEST(PrunerTest, RecordsThatContradictThemselvesAreRefused) {
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  Session r = Start(c, &data, Options(4, 0.5));
  ASSERT_TRUE(r.pruner->Run().ok());
  const proto::Record good = r.pruner->record();
  ASSERT_TRUE(ValidateRecord(good, "good").ok());
  struct Edit {
    const char* what;  // a word the error must contain
    void (*apply)(proto::Record*);
  };
  const Edit edits[] = {
      {"layout",
       [](proto::Record* x) { x->mutable_config()->set_gqa_unit(proto::GQA_UNIT_KV_GROUP); }},
      {"objective",
       [](proto::Record* x) {
         x->mutable_config()->set_objective(static_cast<proto::Objective>(77));
       }},
      {"ratio", [](proto::Record* x) { x->mutable_config()->set_ratio(1.5); }},
      {"ratio", [](proto::Record* x) { x->mutable_config()->set_ratio(std::nan("")); }},
      {"batch", [](proto::Record* x) { x->mutable_config()->set_batch_size(0); }},
      {"complete", [](proto::Record* x) { x->mutable_config()->set_steps(9); }},
      {"protected",
       [](proto::Record* x) {
         // A unit of the protected last layer (layer 4) marked pruned at step 0.
         x->set_pruned_at_step(static_cast<int>(4 * (4 + 24)), 0);
       }},
      {"kept", [](proto::Record* x) { x->mutable_steps(1)->set_kept_channels(0, 3); }},
      {"pruned units", [](proto::Record* x) { x->mutable_steps(2)->set_pruned_units(1); }},
      {"layout",
       [](proto::Record* x) { x->mutable_layout()->set_channel_units_per_layer(2000000000); }},
      {"fingerprint",
       [](proto::Record* x) { x->mutable_model()->set_fingerprint("b6f06d56219313cd"); }},
      {"fingerprint",
       [](proto::Record* x) {
         x->mutable_calibration()->set_fingerprint("9D59D371B93AA953CC071DC7342FC2E9");
       }},
      {"format_version 3", [](proto::Record* x) { x->set_format_version(3); }},
      {"format_version 0", [](proto::Record* x) { x->set_format_version(0); }},
  };
  for (const Edit& e : edits) {
    proto::Record bad = good;
    e.apply(&bad);
    const absl::Status s = ValidateRecord(bad, "edited");
    ASSERT_FALSE(s.ok()) << e.what;
    EXPECT_NE(s.message().find(e.what), std::string::npos) << s;
    EXPECT_NE(s.message().find("edited"), std::string::npos) << s;
  }
}

TEST(PrunerTest, SparsityMatchesACountOfNonzeroWeights) {
  // Masked (dense) mode keeps zeros in place, so sparsity can be counted directly.
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  PrunerOptions o = Options(3, 0.5);
  o.compact = false;
  Session r = Start(c, &data, o);
  ASSERT_TRUE(r.pruner->Run().ok());
  int64_t nonzero = 0;
  for (const LayerWeights& w : r.model->weights().layers) {
    for (const Tensor* t :
         {&w.q_proj, &w.k_proj, &w.v_proj, &w.o_proj, &w.gate_proj, &w.up_proj, &w.down_proj}) {
      for (int64_t i = 0; i < t->numel(); ++i) nonzero += t->f32()[i] != 0.0f;
    }
  }
  const double counted = 1.0 - static_cast<double>(nonzero) / c.DecoderParameters();
  EXPECT_DOUBLE_EQ(r.pruner->record().steps(2).sparsity(), counted);
}

class ModeTest : public ::testing::TestWithParam<std::pair<LlamaConfig (*)(), bool>> {};

TEST_P(ModeTest, CompactedAndMaskedRunsGiveTheSameScoresAndRecord) {
  const LlamaConfig c = GetParam().first();
  const CalibrationBatches data = Data(c);
  PrunerOptions compact = Options(5, 0.6), masked = Options(5, 0.6);
  compact.config.gqa_unit = GetParam().second ? GqaUnit::kKvGroup : GqaUnit::kQueryHead;
  masked.config = compact.config;
  masked.compact = false;
  Session a = Start(c, &data, compact);
  Session b = Start(c, &data, masked);
  for (int k = 0; k < 5; ++k) {
    ASSERT_TRUE(a.pruner->Step().ok());
    ASSERT_TRUE(b.pruner->Step().ok());
    const auto& sa = a.pruner->last_scores();
    const auto& sb = b.pruner->last_scores();
    ASSERT_EQ(sa.size(), sb.size());
    for (size_t u = 0; u < sa.size(); ++u) {
      if (std::isinf(sa[u])) {
        EXPECT_TRUE(std::isinf(sb[u]));
        continue;
      }
      EXPECT_NEAR(sa[u], sb[u], 1e-5 * std::max(std::fabs(sb[u]), 1e-12)) << "step " << k;
    }
  }
  // The record's decisions (which unit went at which step, counts, sparsity, widths) are
  // identical; tau and the losses come from different GEMM shapes, so they agree to rounding.
  proto::Record ra = a.pruner->record(), rb = b.pruner->record();
  ASSERT_EQ(ra.steps_size(), rb.steps_size());
  for (int k = 0; k < ra.steps_size(); ++k) {
    proto::StepRecord* sa = ra.mutable_steps(k);
    proto::StepRecord* sb = rb.mutable_steps(k);
    EXPECT_NEAR(sa->threshold(), sb->threshold(), 1e-5 * sb->threshold());
    EXPECT_NEAR(sa->calibration_loss(), sb->calibration_loss(), 1e-5 * sb->calibration_loss());
    sa->clear_threshold();
    sb->clear_threshold();
    sa->clear_calibration_loss();
    sb->clear_calibration_loss();
  }
  EXPECT_EQ(ra.SerializeAsString(), rb.SerializeAsString());
  // The compacted model really is smaller.
  int64_t channels = 0;
  for (const LayerShape& s : a.model->config().layers) channels += s.intermediate;
  EXPECT_LT(channels, 5 * 24);
  EXPECT_EQ(b.model->config().layers[0].intermediate, 24);
}

INSTANTIATE_TEST_SUITE_P(Units, ModeTest,
                         ::testing::Values(std::make_pair(&Gqa, false), std::make_pair(&Gqa, true),
                                           std::make_pair(&Mha, false)));

TEST(PrunerTest, TwoRunsGiveBitIdenticalRecords) {
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  Session a = Start(c, &data, Options(4, 0.5));
  Session b = Start(c, &data, Options(4, 0.5));
  ASSERT_TRUE(a.pruner->Run().ok());
  ASSERT_TRUE(b.pruner->Run().ok());
  EXPECT_EQ(RecordToBinary(a.pruner->record()), RecordToBinary(b.pruner->record()));
}

// Records of format 1 carry fingerprints of the former custom hash, which this gisp cannot
// recompute: loading, validating or resuming one is refused with what to do instead.
TEST(PrunerTest, RecordsOfFormatVersion1AreRefusedWithTheWayForward) {
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  Session first = Start(c, &data, Options(4, 0.5));
  ASSERT_TRUE(first.pruner->Step().ok());
  EXPECT_EQ(first.pruner->record().format_version(), 2u);
  EXPECT_EQ(kRecordFormatVersion, 2u);
  proto::Record old = first.pruner->record();
  old.set_format_version(1);
  old.mutable_model()->set_fingerprint("b6f06d56219313cd");
  old.mutable_calibration()->set_fingerprint("0123456789abcdef");
  auto expect_refused = [](const absl::Status& s, const char* source) {
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    for (const char* part : {source, "format_version 1 is no longer supported", "b6f06d56219313cd",
                             "XXH3-128", "nor converted", "Prune again", "--fresh"}) {
      EXPECT_NE(s.message().find(part), std::string::npos) << part << ": " << s;
    }
  };
  expect_refused(ValidateRecord(old, "old.pb"), "old.pb");
  expect_refused(RecordFromBytes(RecordToBinary(old), "old.pb").status(), "old.pb");
  auto json = RecordToJson(old);
  ASSERT_TRUE(json.ok());
  expect_refused(RecordFromBytes(*json, "old.json").status(), "old.json");
  // Resuming: the same model and calibration data, and still refused.
  auto backend = CreateCpuBackend().value();
  auto model = LlamaModel::Create(c, testing::RandomWeights(c, 17), backend.get()).value();
  auto p = Pruner::Create(model.get(), &data, Options(4, 0.5), &old);
  expect_refused(p.status(), "resume record");
}

TEST(PrunerTest, ResumeContinuesToTheSameRecord) {
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  Session whole = Start(c, &data, Options(5, 0.6));
  ASSERT_TRUE(whole.pruner->Run().ok());
  // Stop after two steps (as if killed), then resume in a fresh model.
  Session first = Start(c, &data, Options(5, 0.6));
  ASSERT_TRUE(first.pruner->Step().ok());
  ASSERT_TRUE(first.pruner->Step().ok());
  const proto::Record partial = first.pruner->record();
  Session second = Start(c, &data, Options(5, 0.6), &partial);
  ASSERT_NE(second.pruner, nullptr);
  EXPECT_EQ(second.pruner->next_step(), 2);
  ASSERT_TRUE(second.pruner->Run().ok());
  EXPECT_EQ(RecordToBinary(second.pruner->record()), RecordToBinary(whole.pruner->record()));
}

TEST(PrunerTest, ResumeRefusesAnotherCalibrationSetOrConfig) {
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  Session first = Start(c, &data, Options(5, 0.6));
  ASSERT_TRUE(first.pruner->Step().ok());
  const proto::Record partial = first.pruner->record();
  const CalibrationBatches other = Data(c, 6, 12, /*seed=*/99);
  auto backend = CreateCpuBackend().value();
  auto model = LlamaModel::Create(c, testing::RandomWeights(c, 17), backend.get()).value();
  auto p = Pruner::Create(model.get(), &other, Options(5, 0.6), &partial);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("calibration set"), std::string::npos) << p.status();
  auto model2 = LlamaModel::Create(c, testing::RandomWeights(c, 18), backend.get()).value();
  auto p2 = Pruner::Create(model2.get(), &data, Options(5, 0.6), &partial);
  ASSERT_FALSE(p2.ok());
  EXPECT_NE(p2.status().message().find("model"), std::string::npos) << p2.status();
  auto model3 = LlamaModel::Create(c, testing::RandomWeights(c, 17), backend.get()).value();
  auto p3 = Pruner::Create(model3.get(), &data, Options(6, 0.6), &partial);
  ASSERT_FALSE(p3.ok());
  EXPECT_NE(p3.status().message().find("configuration"), std::string::npos) << p3.status();
}

TEST(PrunerTest, CancellationKeepsAValidPartialRecord) {
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  PrunerOptions o = Options(5, 0.6);
  int calls = 0;
  o.progress = [&](const PruneProgress& p) {
    ++calls;
    EXPECT_EQ(p.steps, 5);
    EXPECT_EQ(p.batches, 3);
    return p.step < 2;  // cancel during step 2
  };
  Session r = Start(c, &data, o);
  absl::Status s = r.pruner->Run();
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_EQ(r.pruner->record().steps_size(), 2);
  EXPECT_FALSE(r.pruner->record().complete());
  EXPECT_TRUE(ValidateRecord(r.pruner->record(), "partial").ok());
  EXPECT_EQ(calls, 2 * 3 + 1);
}

TEST(PrunerTest, RejectsBadOptions) {
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  auto backend = CreateCpuBackend().value();
  auto model = LlamaModel::Create(c, testing::RandomWeights(c, 17), backend.get()).value();
  for (double bad : {-0.1, 1.0, 1.5}) {
    auto p = Pruner::Create(model.get(), &data, Options(3, bad));
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.status().message().find("ratio"), std::string::npos);
  }
  // Protected layers hold 1/5 of the units: a ratio above ~0.8 cannot be reached.
  auto too_far = Pruner::Create(model.get(), &data, Options(3, 0.9));
  ASSERT_FALSE(too_far.ok());
  EXPECT_NE(too_far.status().message().find("protected"), std::string::npos) << too_far.status();
  EXPECT_FALSE(Pruner::Create(model.get(), &data, Options(0, 0.5)).ok());
}

TEST(PrunerTest, NonFiniteGradientsNameTheStep) {
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  Session r = Start(c, &data, Options(3, 0.5));
  ASSERT_TRUE(r.pruner->Step().ok());
  // Poison a weight of an unprotected layer.
  LayerWeights& w = r.model->mutable_weights()->layers[1];
  w.gate_proj.f32()[0] = NAN;
  absl::Status s = r.pruner->Step();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("step 1"), std::string::npos) << s;
}

TEST(PrunerTest, ChannelRoundingKeepsMultiples) {
  const LlamaConfig c = Gqa();
  const CalibrationBatches data = Data(c);
  PrunerOptions o = Options(4, 0.6);
  o.config.round_channels_to = 8;
  Session r = Start(c, &data, o);
  ASSERT_TRUE(r.pruner->Run().ok());
  for (const auto& step : r.pruner->record().steps()) {
    for (int l = 0; l < 4; ++l) EXPECT_EQ(step.kept_channels(l) % 8, 0) << step.index();
  }
}

}  // namespace
}  // namespace gisp
