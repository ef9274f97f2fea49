// The score-once methods (method.h) on small random models: every method's record is valid,
// nests, keeps protected layers, reaches its targets at the nearest measurable sparsity, and is
// deterministic; local methods prune the same share of every unprotected layer; oneshot equals
// GISP with one step; magnitude scores equal a direct computation; resume continues exactly.
// Parity of the scores with the PyTorch reference is in baselines_parity_test.
#include <cmath>
#include <memory>
#include <string>

#include "gisp/base/random.h"
#include "gisp/prune/method.h"
#include "gisp/prune/pruner.h"
#include "gisp/prune/pruner_testing.h"
#include "gisp/prune/record.h"
#include "gisp/prune/target_selection.h"
#include "gisp/saliency/activation_stats.h"
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

constexpr Method kScoreOnce[] = {Method::kOneShot,   Method::kWandaSp,   Method::kFlap,
                                 Method::kLlmPruner, Method::kMagnitude, Method::kRandom};

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
  for (Method m : {Method::kWandaSp, Method::kOneShot, Method::kFlap}) {
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

// FLAP's scores from the activation statistics, written out directly for one unprotected layer:
// the column metrics var_j * ||W_:,j||^2 (squared for o_proj), standardized over the module's
// columns (divisor n - 1), pooled per head unit by the mean.
TEST(BaselinesTest, FlapScoresFollowTheDefinition) {
  for (const GqaUnit unit : {GqaUnit::kQueryHead, GqaUnit::kKvGroup}) {
    SCOPED_TRACE(GqaUnitName(unit));
    const LlamaConfig c = testing::SmallGqa();
    const CalibrationBatches data = testing::RandomCalibration(c);
    PrunerOptions o = MethodOptions(Method::kFlap, {0.3});
    o.config.gqa_unit = unit;
    PruneSession r = testing::StartSession(c, &data, o);
    ASSERT_TRUE(r.created.ok()) << r.created;
    ASSERT_TRUE(r.pruner->Run().ok());
    const UnitSpace& s = r.pruner->units();
    // The statistics of the dense model (the pruner's model is pruned by now).
    PruneSession dense = testing::StartSession(c, &data, PrunerOptions());
    const std::vector<bool> want(static_cast<size_t>(c.num_layers), true);
    auto stats = CollectActivationStats(dense.model.get(), data, want, nullptr);
    ASSERT_TRUE(stats.ok()) << stats.status();
    const int64_t l = 1, d = c.hidden_size, dh = c.head_dim, f = c.intermediate_size;
    const int64_t attn = c.num_heads * dh;
    const LayerWeights& w = dense.model->host_weights().layers[l];
    auto standardize = [](std::vector<double> v) {
      double mean = 0, ss = 0;
      for (double x : v) mean += x / static_cast<double>(v.size());
      for (double x : v) ss += (x - mean) * (x - mean);
      const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
      for (double& x : v) x = (x - mean) / sd;
      return v;
    };
    std::vector<double> mo(static_cast<size_t>(attn)), md(static_cast<size_t>(f));
    for (int64_t j = 0; j < attn; ++j) {
      double sq = 0;
      for (int64_t i = 0; i < d; ++i) sq += std::pow(w.o_proj.f32()[i * attn + j], 2);
      const double n = static_cast<double>(stats->o_proj[l].tokens);
      const double mean = stats->o_proj[l].sum[j] / n;
      const double var = (stats->o_proj[l].sumsq[j] - n * mean * mean) / (n - 1);
      mo[j] = std::pow(var * sq, 2);
    }
    for (int64_t j = 0; j < f; ++j) {
      double sq = 0;
      for (int64_t i = 0; i < d; ++i) sq += std::pow(w.down_proj.f32()[i * f + j], 2);
      md[j] = stats->down_proj[l].Variance(j) * sq;
    }
    mo = standardize(mo);
    md = standardize(md);
    const std::vector<double>& got = r.pruner->last_scores();
    const int64_t width = unit == GqaUnit::kKvGroup ? s.group * dh : dh;
    ASSERT_EQ(s.heads * width, attn);
    for (int64_t u = 0; u < s.heads; ++u) {
      double want_score = 0;
      for (int64_t j = u * width; j < (u + 1) * width; ++j) want_score += mo[j];
      want_score /= static_cast<double>(width);
      EXPECT_NEAR(got[s.HeadUnit(l, u)], want_score, 1e-9) << "head unit " << u;
    }
    for (int64_t ch = 0; ch < f; ++ch) {
      EXPECT_NEAR(got[s.ChannelUnit(l, ch)], md[ch], 1e-9) << "channel " << ch;
    }
    // Standardized per module: each unprotected layer's channel scores have mean 0 and std 1.
    for (int64_t k = 0; k < s.num_layers; ++k) {
      if (s.protected_layer[k]) {
        EXPECT_TRUE(std::isinf(got[s.ChannelUnit(k, 0)]));
        continue;
      }
      double mean = 0, ss = 0;
      for (int64_t ch = 0; ch < f; ++ch) mean += got[s.ChannelUnit(k, ch)] / f;
      for (int64_t ch = 0; ch < f; ++ch) ss += std::pow(got[s.ChannelUnit(k, ch)] - mean, 2);
      EXPECT_NEAR(mean, 0, 1e-12) << "layer " << k;
      EXPECT_NEAR(std::sqrt(ss / (f - 1)), 1, 1e-12) << "layer " << k;
    }
  }
}

// The record carries every layer's input means (the compensation data), equal to the
// statistics' means, and validation refuses them when they do not fit.
TEST(BaselinesTest, FlapRecordCarriesValidatedInputMeans) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c);
  PruneSession r = testing::StartSession(c, &data, MethodOptions(Method::kFlap, {0.2, 0.3}));
  ASSERT_TRUE(r.created.ok()) << r.created;
  EXPECT_EQ(r.pruner->record().flap_input_means_size(), 0);  // written with the first step
  ASSERT_TRUE(r.pruner->Run().ok());
  const proto::Record& rec = r.pruner->record();
  ASSERT_EQ(rec.flap_input_means_size(), c.num_layers);
  PruneSession dense = testing::StartSession(c, &data, PrunerOptions());
  const std::vector<bool> want(static_cast<size_t>(c.num_layers), true);
  auto stats = CollectActivationStats(dense.model.get(), data, want, nullptr);
  ASSERT_TRUE(stats.ok()) << stats.status();
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const proto::LayerInputMeans& m = rec.flap_input_means(l);
    ASSERT_EQ(m.o_proj_size(), c.num_heads * c.head_dim);
    ASSERT_EQ(m.down_proj_size(), c.intermediate_size);
    for (int j = 0; j < m.o_proj_size(); ++j) {
      EXPECT_EQ(m.o_proj(j), static_cast<float>(stats->o_proj[l].Mean(j)));
    }
    for (int j = 0; j < m.down_proj_size(); ++j) {
      EXPECT_EQ(m.down_proj(j), static_cast<float>(stats->down_proj[l].Mean(j)));
    }
  }
  ASSERT_TRUE(ValidateRecord(rec, "t").ok());
  auto round_trip = RecordFromBytes(RecordToBinary(rec), "t");
  ASSERT_TRUE(round_trip.ok()) << round_trip.status();
  EXPECT_EQ(round_trip->flap_input_means_size(), c.num_layers);
  auto json = RecordToJson(rec);
  ASSERT_TRUE(json.ok());
  EXPECT_TRUE(RecordFromBytes(*json, "t.json").ok());

  auto refused = [](const proto::Record& bad, const std::string& words) {
    const absl::Status st = ValidateRecord(bad, "bad.pb");
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << words;
    EXPECT_NE(st.message().find(words), std::string::npos) << st;
  };
  proto::Record bad = rec;
  bad.clear_flap_input_means();
  refused(bad, "flap_input_means has 0 layers");
  bad = rec;
  bad.mutable_flap_input_means(2)->add_down_proj(0.5f);
  refused(bad, "flap_input_means layer 2 has");
  bad = rec;
  bad.mutable_flap_input_means(1)->mutable_o_proj()->RemoveLast();
  refused(bad, "flap_input_means layer 1 has");
  bad = rec;
  bad.mutable_flap_input_means(3)->set_o_proj(4, std::nanf(""));
  refused(bad, "o_proj column 4 is nan (not finite)");
  bad = rec;
  bad.mutable_flap_input_means(0)->set_down_proj(1, INFINITY);
  refused(bad, "down_proj column 1 is inf");
  bad = rec;
  bad.mutable_config()->set_method(proto::METHOD_WANDA_SP);
  refused(bad, "only method flap records it");
  // A flap record without steps may lack them (a run that has not finished its first step).
  bad = rec;
  bad.clear_flap_input_means();
  bad.clear_steps();
  bad.set_complete(false);
  for (int u = 0; u < bad.pruned_at_step_size(); ++u) bad.set_pruned_at_step(u, -1);
  EXPECT_TRUE(ValidateRecord(bad, "t").ok()) << ValidateRecord(bad, "t");
}

TEST(BaselinesTest, FlapIsGlobal) {
  // One global ranking of standardized scores: unlike the local methods, unprotected layers may
  // keep different widths, and every pruned unit scores at most the step's threshold.
  const LlamaConfig c = testing::SmallMha();
  const CalibrationBatches data = testing::RandomCalibration(c);
  PruneSession r = testing::StartSession(c, &data, MethodOptions(Method::kFlap, {0.3}));
  ASSERT_TRUE(r.pruner->Run().ok());
  const proto::Record& rec = r.pruner->record();
  const std::vector<double>& scores = r.pruner->last_scores();
  const double tau = rec.steps(0).threshold();
  for (int u = 0; u < rec.pruned_at_step_size(); ++u) {
    if (rec.pruned_at_step(u) == 0) {
      EXPECT_LE(scores[u], tau) << u;
    } else {
      EXPECT_GT(scores[u], tau) << u;
    }
  }
  EXPECT_GT(rec.steps(0).pruned_units(), 0);
}

}  // namespace
}  // namespace gisp
