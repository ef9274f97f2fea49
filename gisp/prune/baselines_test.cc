// The score-once methods (method.h) on small random models: every method's record is valid,
// nests, keeps protected layers, reaches its targets at the nearest measurable sparsity, and is
// deterministic; local methods prune the same share of every unprotected layer; oneshot equals
// GISP with one step; magnitude scores equal a direct computation; resume continues exactly.
// Parity of the scores with the PyTorch reference is in baselines_parity_test.
#include <cmath>
#include <memory>

#include "gisp/base/random.h"
#include "gisp/prune/method.h"
#include "gisp/prune/pruner.h"
#include "gisp/prune/pruner_testing.h"
#include "gisp/prune/record.h"
#include "gisp/prune/target_selection.h"
#include "gisp/saliency/baseline_scores.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

using testing::PruneSession;

PrunerOptions MethodOptions(Method m, std::vector<double> targets) {
  PrunerOptions o;
  o.config.method = m;
  o.config.target_sparsities = std::move(targets);
  o.config.seed = 5;
  return o;
}

constexpr Method kScoreOnce[] = {Method::kOneShot, Method::kWandaSp, Method::kLlmPruner,
                                 Method::kMagnitude, Method::kRandom};

TEST(MethodTest, NamesRoundTrip) {
  for (Method m : {Method::kGisp, Method::kOneShot, Method::kWandaSp, Method::kFlap,
                   Method::kLlmPruner, Method::kMagnitude, Method::kRandom}) {
    EXPECT_EQ(ParseMethod(MethodName(m)).value(), m);
  }
  const absl::Status bad = ParseMethod("wanda").status();
  EXPECT_NE(bad.message().find("gisp, oneshot, wanda-sp, flap, llm-pruner, magnitude or random"),
            std::string::npos)
      << bad;
}

TEST(MethodTest, RecordsWithoutMethodReadAsGisp) {
  proto::PruneConfig p = PruneConfigToProto(PruneConfig());
  EXPECT_EQ(p.ByteSizeLong(), PruneConfigToProto(PruneConfig()).ByteSizeLong());
  EXPECT_FALSE(p.SerializeAsString().empty());
  p.clear_method();
  EXPECT_EQ(PruneConfigFromProto(p)->method, Method::kGisp);
  // A default GISP config serializes without the new fields (old records' bytes unchanged).
  proto::PruneConfig old = p;
  old.clear_target_sparsities();
  old.clear_seed();
  EXPECT_EQ(p.SerializeAsString(), old.SerializeAsString());
  p.set_method(static_cast<proto::Method>(42));
  EXPECT_FALSE(PruneConfigFromProto(p).ok());
}

TEST(MethodTest, BadTargetsAreRefused) {
  PruneConfig c;
  c.method = Method::kMagnitude;
  c.target_sparsities = {0.2, 1.0};
  const absl::Status s = ValidatePruneConfig(c);
  EXPECT_NE(s.message().find("target sparsities must be in (0, 1)"), std::string::npos) << s;
}

TEST(BaselinesTest, EveryMethodReachesItsTargetsWithNestedValidRecords) {
  for (const LlamaConfig& c : {testing::SmallGqa(), testing::SmallMha()}) {
    const CalibrationBatches data = testing::RandomCalibration(c);
    for (Method m : kScoreOnce) {
      SCOPED_TRACE(MethodName(m));
      PruneSession r = testing::StartSession(c, &data, MethodOptions(m, {0.4, 0.2, 0.3, 0.3}));
      ASSERT_TRUE(r.created.ok()) << r.created;
      ASSERT_TRUE(r.pruner->Run().ok());
      const proto::Record& rec = r.pruner->record();
      ASSERT_TRUE(ValidateRecord(rec, "test").ok()) << ValidateRecord(rec, "test");
      EXPECT_TRUE(rec.complete());
      EXPECT_EQ(rec.config().method(), static_cast<proto::Method>(static_cast<int>(m)));
      ASSERT_EQ(rec.steps_size(), 3);  // sorted, deduplicated
      const UnitSpace& s = r.pruner->units();
      const UnitWeightCounts counts =
          CountUnitWeights(s, *testing::StartSession(c, &data, PrunerOptions()).model);
      const TargetSelector selector(s, counts, r.pruner->last_scores(), IsLocal(m));
      const double targets[] = {0.2, 0.3, 0.4};
      for (int k = 0; k < 3; ++k) {
        const auto& st = rec.steps(k);
        EXPECT_DOUBLE_EQ(st.target_ratio(), targets[k]);
        // Nearest: no selectable set (at or above the previous step's) lands nearer the target.
        const double err = std::fabs(st.sparsity() - targets[k]);
        for (int64_t p = 0; p < selector.positions(); ++p) {
          const Selection alt = selector.At(p);
          if (k > 0 && alt.sparsity < rec.steps(k - 1).sparsity()) continue;
          EXPECT_GE(std::fabs(alt.sparsity - targets[k]) + 1e-12, err) << "position " << p;
        }
        EXPECT_LT(err, 0.06);
        if (k > 0) {
          EXPECT_GE(st.pruned_units(), rec.steps(k - 1).pruned_units());
        }
        EXPECT_GT(st.calibration_loss(), 0);
      }
      for (int64_t u = 0; u < s.size(); ++u) {
        if (s.protected_layer[s.LayerOf(u)]) {
          EXPECT_EQ(rec.pruned_at_step(u), -1) << u;
        }
      }
      if (IsLocal(m)) {
        // The same share in every unprotected layer: equal kept counts.
        for (int k = 0; k < 3; ++k) {
          for (int64_t l = 1; l < s.num_layers; ++l) {
            if (s.protected_layer[l] || s.protected_layer[0]) continue;
            EXPECT_EQ(rec.steps(k).kept_heads(l), rec.steps(k).kept_heads(0));
            EXPECT_EQ(rec.steps(k).kept_channels(l), rec.steps(k).kept_channels(0));
          }
        }
      }
      EXPECT_GT(rec.final_calibration_loss(), 0);
    }
  }
}

TEST(BaselinesTest, DeterministicAndSeeded) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c);
  for (Method m : kScoreOnce) {
    SCOPED_TRACE(MethodName(m));
    PruneSession a = testing::StartSession(c, &data, MethodOptions(m, {0.3}));
    PruneSession b = testing::StartSession(c, &data, MethodOptions(m, {0.3}));
    ASSERT_TRUE(a.pruner->Run().ok() && b.pruner->Run().ok());
    EXPECT_EQ(a.pruner->record().SerializeAsString(), b.pruner->record().SerializeAsString());
  }
  PrunerOptions other = MethodOptions(Method::kRandom, {0.3});
  other.config.seed = 6;
  PruneSession a = testing::StartSession(c, &data, MethodOptions(Method::kRandom, {0.3}));
  PruneSession b = testing::StartSession(c, &data, other);
  ASSERT_TRUE(a.pruner->Run().ok() && b.pruner->Run().ok());
  EXPECT_NE(std::vector<int32_t>(a.pruner->record().pruned_at_step().begin(),
                                 a.pruner->record().pruned_at_step().end()),
            std::vector<int32_t>(b.pruner->record().pruned_at_step().begin(),
                                 b.pruner->record().pruned_at_step().end()));
}

// GISP with one step at ratio r prunes every unit at or below its threshold; oneshot aimed at
// that run's sparsity finds the same set (same pass, same normalized scores, ties pruned
// together), and llm-pruner sees the same raw scores.
TEST(BaselinesTest, OneShotIsGispWithOneStep) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c);
  PruneSession g = testing::StartSession(c, &data, testing::StepsAndRatio(1, 0.4));
  ASSERT_TRUE(g.pruner->Run().ok());
  const double s = g.pruner->record().steps(0).sparsity();
  PruneSession o = testing::StartSession(c, &data, MethodOptions(Method::kOneShot, {s}));
  ASSERT_TRUE(o.pruner->Run().ok());
  EXPECT_DOUBLE_EQ(o.pruner->record().steps(0).sparsity(), s);
  for (int u = 0; u < g.pruner->record().pruned_at_step_size(); ++u) {
    EXPECT_EQ(g.pruner->record().pruned_at_step(u) >= 0, o.pruner->record().pruned_at_step(u) >= 0)
        << u;
  }
  EXPECT_EQ(o.pruner->last_scores(), g.pruner->last_scores());
  PruneSession t = testing::StartSession(c, &data, MethodOptions(Method::kLlmPruner, {0.3}));
  ASSERT_TRUE(t.pruner->Run().ok());
  EXPECT_EQ(t.pruner->last_raw_scores(), g.pruner->last_raw_scores());
}

TEST(BaselinesTest, MagnitudeScoresAreTheUnitsL2Norms) {
  const LlamaConfig c = testing::SmallMha();
  const CalibrationBatches data = testing::RandomCalibration(c);
  PruneSession r = testing::StartSession(c, &data, MethodOptions(Method::kMagnitude, {0.3}));
  const UnitSpace& s = r.pruner->units();
  const std::vector<double> scores = MagnitudeScores(s, *r.model);
  const LayerWeights& w = r.model->host_weights().layers[1];
  const int64_t dh = c.head_dim, d = c.hidden_size;
  // Head 2 of layer 1 (MHA): q, k, v rows and o columns of the head.
  double sq = 0;
  for (int64_t i = 2 * dh; i < 3 * dh; ++i) {
    for (int64_t j = 0; j < d; ++j) {
      for (const Tensor* m : {&w.q_proj, &w.k_proj, &w.v_proj}) {
        const double x = m->f32()[i * d + j];
        sq += x * x;
      }
      const double o = w.o_proj.f32()[j * c.num_heads * dh + i];
      sq += o * o;
    }
  }
  EXPECT_NEAR(scores[s.HeadUnit(1, 2)], std::sqrt(sq), 1e-12 * std::sqrt(sq));
  // Channel 5 of layer 1: gate and up rows, down column.
  const int64_t f = c.intermediate_size;
  sq = 0;
  for (int64_t j = 0; j < d; ++j) {
    const double g = w.gate_proj.f32()[5 * d + j], u = w.up_proj.f32()[5 * d + j],
                 dn = w.down_proj.f32()[j * f + 5];
    sq += g * g + u * u + dn * dn;
  }
  EXPECT_NEAR(scores[s.ChannelUnit(1, 5)], std::sqrt(sq), 1e-12 * std::sqrt(sq));
  EXPECT_TRUE(std::isinf(scores[s.HeadUnit(c.num_layers - 1, 0)]));
}

TEST(BaselinesTest, ResumeContinuesExactly) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c);
  for (Method m : {Method::kWandaSp, Method::kOneShot}) {
    SCOPED_TRACE(MethodName(m));
    PruneSession full = testing::StartSession(c, &data, MethodOptions(m, {0.2, 0.3, 0.4}));
    ASSERT_TRUE(full.pruner->Run().ok());
    PruneSession first = testing::StartSession(c, &data, MethodOptions(m, {0.2, 0.3, 0.4}));
    ASSERT_TRUE(first.pruner->Step().ok());
    ASSERT_TRUE(first.pruner->Step().ok());
    const proto::Record partial = first.pruner->record();
    PruneSession rest =
        testing::StartSession(c, &data, MethodOptions(m, {0.2, 0.3, 0.4}), &partial);
    ASSERT_TRUE(rest.created.ok()) << rest.created;
    EXPECT_EQ(rest.pruner->next_step(), 2);
    ASSERT_TRUE(rest.pruner->Run().ok());
    EXPECT_EQ(rest.pruner->record().SerializeAsString(), full.pruner->record().SerializeAsString());
  }
}

TEST(BaselinesTest, FlapSaysItIsNotImplemented) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c);
  PruneSession r = testing::StartSession(c, &data, MethodOptions(Method::kFlap, {0.3}));
  EXPECT_EQ(r.created.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(r.created.message().find("flap"), std::string::npos);
}

}  // namespace
}  // namespace gisp
