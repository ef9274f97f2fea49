// FlapCompensationDeltas against a double-precision reference written from the definition
// delta[i] = sum_j (1 - M_j) * W[i, j] * mean[j], for both GQA unit kinds, f32 and bf16 weights,
// random pruned sets, and the edge cases nothing pruned / everything pruned; shape errors; and
// FlapInputMeansFromRecord.
#include "gisp/prune/flap_compensation.h"

#include <cmath>
#include <random>

#include "gisp/prune/prune_config.h"
#include "gisp/testing/compare.h"
#include "gisp/testing/random_model.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

LlamaConfig Config() { return testing::SmallConfig(61, 32, 4, 4, 2, 8, 24); }

FlapInputMeans RandomMeans(const LlamaConfig& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.3f, 1.0f);
  FlapInputMeans m;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    m.o_proj.emplace_back(static_cast<size_t>(c.num_heads * c.head_dim));
    m.down_proj.emplace_back(static_cast<size_t>(c.intermediate_size));
    for (float& x : m.o_proj.back()) x = normal(rng);
    for (float& x : m.down_proj.back()) x = normal(rng);
  }
  return m;
}

// Per layer the pruned input columns of o_proj / down_proj, from the unit definition.
void PrunedColumns(const UnitSpace& s, const LlamaConfig& c, const std::vector<bool>& pruned,
                   int64_t l, std::vector<bool>* o, std::vector<bool>* d) {
  o->assign(static_cast<size_t>(c.num_heads * c.head_dim), false);
  d->assign(static_cast<size_t>(c.intermediate_size), false);
  for (int64_t u = 0; u < s.heads; ++u) {
    if (!pruned[s.HeadUnit(l, u)]) continue;
    const int64_t first = s.kind == HeadUnitKind::kKvGroup ? u * s.group : u;
    const int64_t n = s.kind == HeadUnitKind::kKvGroup ? s.group : 1;
    for (int64_t h = first; h < first + n; ++h) {
      for (int64_t j = h * c.head_dim; j < (h + 1) * c.head_dim; ++j) (*o)[j] = true;
    }
  }
  for (int64_t ch = 0; ch < s.channels; ++ch) (*d)[ch] = pruned[s.ChannelUnit(l, ch)];
}

// Reference: sum_j pruned_j * W[i, j] * mean[j] in double; also the sum of |terms| for the
// tolerance.
void Reference(const Tensor& w, const std::vector<bool>& pruned, const std::vector<float>& mean,
               std::vector<double>* delta, std::vector<double>* scale) {
  const Tensor w64 = testing::CopyAs(w, DType::kF64);
  const int64_t r = w.dim(0), cols = w.dim(1);
  delta->assign(static_cast<size_t>(r), 0.0);
  scale->assign(static_cast<size_t>(r), 0.0);
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const double t = w64.data<double>()[i * cols + j] * static_cast<double>(mean[j]);
      (*delta)[i] += pruned[j] ? t : 0.0;
      (*scale)[i] += pruned[j] ? std::fabs(t) : 0.0;
    }
  }
}

void ExpectMatches(const std::vector<float>& got, const std::vector<double>& want,
                   const std::vector<double>& scale, const char* what, int64_t l) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    // One float rounding of the result plus double accumulation: far inside 1e-6 of the
    // terms' magnitude.
    EXPECT_NEAR(got[i], want[i], 1e-6 * scale[i] + 1e-30) << what << " layer " << l << " row " << i;
  }
}

TEST(FlapCompensationTest, MatchesADoubleReference) {
  const LlamaConfig c = Config();
  LlamaWeights w = testing::RandomWeights(c, 7);
  // Layer 2's matrices in bf16: any float dtype is read.
  w.layers[2].o_proj = testing::CopyAs(w.layers[2].o_proj, DType::kBF16);
  w.layers[2].down_proj = testing::CopyAs(w.layers[2].down_proj, DType::kBF16);
  const FlapInputMeans means = RandomMeans(c, 11);
  std::mt19937 rng(5);
  for (const GqaUnit unit : {GqaUnit::kQueryHead, GqaUnit::kKvGroup}) {
    SCOPED_TRACE(GqaUnitName(unit));
    const UnitSpace s = MakeUnitSpace(c, unit, 0.25, true).value();
    for (int trial = 0; trial < 4; ++trial) {
      std::vector<bool> pruned(static_cast<size_t>(s.size()), false);
      for (int64_t u = 0; u < s.size(); ++u) {
        // trial 0: nothing; 1: everything unprotected; then random halves.
        const bool open = !s.protected_layer[s.LayerOf(u)];
        pruned[u] = open && (trial == 1 || (trial > 1 && rng() % 2 == 0));
      }
      const KeptStructure kept = ComputeKept(s, c, pruned);
      auto deltas = FlapCompensationDeltas(c, w, means, kept);
      ASSERT_TRUE(deltas.ok()) << deltas.status();
      ASSERT_EQ(deltas->o_proj.size(), static_cast<size_t>(c.num_layers));
      for (int64_t l = 0; l < c.num_layers; ++l) {
        std::vector<bool> po, pd;
        PrunedColumns(s, c, pruned, l, &po, &pd);
        std::vector<double> want, scale;
        Reference(w.layers[l].o_proj, po, means.o_proj[l], &want, &scale);
        ExpectMatches(deltas->o_proj[l], want, scale, "o_proj", l);
        Reference(w.layers[l].down_proj, pd, means.down_proj[l], &want, &scale);
        ExpectMatches(deltas->down_proj[l], want, scale, "down_proj", l);
        if (trial == 0 || s.protected_layer[l]) {
          for (float x : deltas->o_proj[l]) EXPECT_EQ(x, 0.0f);
          for (float x : deltas->down_proj[l]) EXPECT_EQ(x, 0.0f);
        } else {
          double norm = 0;
          for (float x : deltas->down_proj[l]) norm += std::fabs(x);
          EXPECT_GT(norm, 0) << "layer " << l << " trial " << trial;
        }
      }
    }
  }
}

// With the deltas, the pruned layer reproduces the dense layer whose pruned inputs are held at
// their means: W (M ⊙ x + (1 - M) ⊙ mean) = W[:, kept] x[kept] + delta.
TEST(FlapCompensationTest, PrunedLayerEqualsDenseLayerAtTheMeans) {
  const LlamaConfig c = Config();
  const LlamaWeights w = testing::RandomWeights(c, 8);
  const FlapInputMeans means = RandomMeans(c, 12);
  const UnitSpace s = MakeUnitSpace(c, GqaUnit::kQueryHead, 0.0, false).value();
  std::vector<bool> pruned(static_cast<size_t>(s.size()), false);
  pruned[s.ChannelUnit(1, 3)] = pruned[s.ChannelUnit(1, 17)] = pruned[s.ChannelUnit(1, 0)] = true;
  const KeptStructure kept = ComputeKept(s, c, pruned);
  const FlapBiasDeltas deltas = FlapCompensationDeltas(c, w, means, kept).value();
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  const int64_t d = c.hidden_size, f = c.intermediate_size;
  std::vector<double> x(static_cast<size_t>(f));
  for (double& v : x) v = normal(rng);
  const float* wd = w.layers[1].down_proj.f32();
  for (int64_t i = 0; i < d; ++i) {
    double dense = 0, sliced = deltas.down_proj[1][i];
    for (int64_t j = 0; j < f; ++j) {
      const bool p = j == 0 || j == 3 || j == 17;
      dense += wd[i * f + j] * (p ? static_cast<double>(means.down_proj[1][j]) : x[j]);
      if (!p) sliced += wd[i * f + j] * x[j];
    }
    EXPECT_NEAR(sliced, dense, 1e-5) << "row " << i;
  }
}

TEST(FlapCompensationTest, RefusesMismatchedShapes) {
  const LlamaConfig c = Config();
  const LlamaWeights w = testing::RandomWeights(c, 7);
  const UnitSpace s = MakeUnitSpace(c, GqaUnit::kQueryHead, 0.0, false).value();
  const KeptStructure kept = ComputeKept(s, c, std::vector<bool>(s.size(), false));
  FlapInputMeans means = RandomMeans(c, 1);
  means.down_proj[2].pop_back();
  auto r = FlapCompensationDeltas(c, w, means, kept);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("layer 2"), std::string::npos) << r.status();
  means = RandomMeans(c, 1);
  means.o_proj.pop_back();
  EXPECT_EQ(FlapCompensationDeltas(c, w, means, kept).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FlapCompensationTest, MeansFromRecord) {
  PruneConfig cfg;
  cfg.method = Method::kWandaSp;
  proto::Record r;
  *r.mutable_config() = PruneConfigToProto(cfg);
  EXPECT_NE(FlapInputMeansFromRecord(r).status().message().find("method wanda-sp"),
            std::string::npos);
  cfg.method = Method::kFlap;
  *r.mutable_config() = PruneConfigToProto(cfg);
  EXPECT_EQ(FlapInputMeansFromRecord(r).status().code(), absl::StatusCode::kInvalidArgument);
  for (int l = 0; l < 2; ++l) {
    proto::LayerInputMeans* m = r.add_flap_input_means();
    m->add_o_proj(1.5f + l);
    m->add_o_proj(-2.0f);
    m->add_down_proj(0.25f * l);
  }
  auto means = FlapInputMeansFromRecord(r);
  ASSERT_TRUE(means.ok()) << means.status();
  EXPECT_EQ(means->o_proj, (std::vector<std::vector<float>>{{1.5f, -2.0f}, {2.5f, -2.0f}}));
  EXPECT_EQ(means->down_proj, (std::vector<std::vector<float>>{{0.0f}, {0.25f}}));
}

}  // namespace
}  // namespace gisp
