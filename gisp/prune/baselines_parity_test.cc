// The baseline methods (method.h) against an independent PyTorch implementation
// (tools/reference/torch_baselines.py, float64) on the GISP fixtures' models and calibration
// batches (testdata/baselines, made by tools/fixtures/make_baseline_fixtures.py):
//  * unit scores within 1e-4 relative (float32 forward/backward against float64; magnitude and
//    random are computed in double on both sides and agree far closer), protected units +inf;
//  * the record identical, except units inside the tie band: a unit decided otherwise is
//    tolerated (and counted) only when its reference score lies within 1e-4 relative of the score
//    of a unit the reference decided the other way in the same comparison (the same layer and
//    kind for local methods, any unit for global ones);
//  * each step's measured sparsity equal to the reference's when no unit was tolerated;
//  * flap: standardized scores within 1e-4 of max(1, |score|); the record's input means and the
//    compensation deltas of every step (FlapCompensationDeltas) against the reference's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gisp/backend/backend.h"
#include "gisp/io/safetensors.h"
#include "gisp/prune/flap_compensation.h"
#include "gisp/prune/gisp_fixture.h"
#include "gisp/prune/method.h"
#include "gisp/prune/pruner.h"
#include "gisp/prune/record.h"
#include "gisp/testing/backends.h"
#include "gisp/testing/compare.h"
#include "gisp/testing/fixture_backend_test.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

constexpr double kTargets[] = {0.1, 0.2, 0.3};  // manifest.json "targets"
constexpr uint64_t kSeed = 5;                   // manifest.json "random_seed"
constexpr Method kMethods[] = {Method::kOneShot,   Method::kWandaSp,   Method::kFlap,
                               Method::kLlmPruner, Method::kMagnitude, Method::kRandom};

// A score's allowed error: relative for most methods; FLAP's standardized scores are O(1) and
// cross zero, so its error is measured against max(1, |want|) (docs/numerics.md, section 8).
double ScoreTolerance(Method m, double want) {
  return 1e-4 * (m == Method::kFlap ? std::max(1.0, std::fabs(want)) : std::fabs(want));
}

std::vector<double> Doubles(const SafetensorsFile& f, const std::string& name) {
  const Tensor t = testing::CopyAs(f.Get(name).value(), DType::kF64);
  return std::vector<double>(t.data<double>(), t.data<double>() + t.numel());
}

std::vector<int32_t> Ints(const SafetensorsFile& f, const std::string& name) {
  const Tensor t = testing::CopyAs(f.Get(name).value(), DType::kI32);
  return std::vector<int32_t>(t.i32(), t.i32() + t.numel());
}

// FLAP's compensation data: the record's input means against the reference's (within 1e-4 of
// the column's RMS: f32 activations summed in double against float64), and the deltas of step k
// from FlapCompensationDeltas against the reference's (within 1e-4 of sum_j |W_ij| * rms_j over
// the pruned columns). Only for steps whose pruned set equals the reference's.
void CheckFlapCompensation(const testing::GispFixture& fixture, const SafetensorsFile& expected,
                           const proto::Record& record, int k) {
  const LlamaConfig& c = fixture.checkpoint.config;
  const int64_t layers = c.num_layers, d = c.hidden_size;
  const int64_t attn = c.num_heads * c.head_dim, f = c.intermediate_size;
  auto means = FlapInputMeansFromRecord(record);
  ASSERT_TRUE(means.ok()) << means.status();
  const std::vector<double> mo = Doubles(expected, "flap.means_o");
  const std::vector<double> md = Doubles(expected, "flap.means_down");
  const std::vector<double> ro = Doubles(expected, "flap.rms_o");
  const std::vector<double> rd = Doubles(expected, "flap.rms_down");
  ASSERT_EQ(static_cast<int64_t>(mo.size()), layers * attn);
  ASSERT_EQ(static_cast<int64_t>(md.size()), layers * f);
  double worst_mean = 0, worst_delta = 0;
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t j = 0; j < attn; ++j) {
      const double e = std::fabs(means->o_proj[l][j] - mo[l * attn + j]) / ro[l * attn + j];
      worst_mean = std::max(worst_mean, e);
      EXPECT_LE(e, 1e-4) << "o_proj mean, layer " << l << " column " << j;
    }
    for (int64_t j = 0; j < f; ++j) {
      const double e = std::fabs(means->down_proj[l][j] - md[l * f + j]) / rd[l * f + j];
      worst_mean = std::max(worst_mean, e);
      EXPECT_LE(e, 1e-4) << "down_proj mean, layer " << l << " column " << j;
    }
  }
  const UnitSpace space = RecordUnitSpace(record, c);
  const KeptStructure kept = ComputeKept(space, c, PrunedAtOrBefore(record, k));
  auto deltas = FlapCompensationDeltas(c, fixture.checkpoint.weights, *means, kept);
  ASSERT_TRUE(deltas.ok()) << deltas.status();
  const std::vector<double> od = Doubles(expected, "flap.o_delta");
  const std::vector<double> dd = Doubles(expected, "flap.down_delta");
  const std::vector<double> os = Doubles(expected, "flap.o_delta_scale");
  const std::vector<double> ds = Doubles(expected, "flap.down_delta_scale");
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t i = 0; i < d; ++i) {
      const size_t at = static_cast<size_t>((k * layers + l) * d + i);
      const double eo = std::fabs(deltas->o_proj[l][i] - od[at]);
      const double ed = std::fabs(deltas->down_proj[l][i] - dd[at]);
      EXPECT_LE(eo, 1e-4 * os[at]) << "step " << k << " layer " << l << " o_proj delta " << i;
      EXPECT_LE(ed, 1e-4 * ds[at]) << "step " << k << " layer " << l << " down_proj delta " << i;
      if (os[at] > 0) worst_delta = std::max(worst_delta, eo / os[at]);
      if (ds[at] > 0) worst_delta = std::max(worst_delta, ed / ds[at]);
    }
  }
  std::printf(
      "flap step %d: worst mean error %.1e of the RMS, worst delta error %.1e of the "
      "scale\n",
      k, worst_mean, worst_delta);
}

class BaselinesParityTest : public testing::FixtureBackendTest {};

TEST_P(BaselinesParityTest, ScoresAndRecordsMatchPyTorch) {
  auto fixture = testing::LoadGispFixture(Fixture());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  auto expected =
      SafetensorsFile::Open("testdata/baselines/" + Fixture() + "/expected.safetensors");
  ASSERT_TRUE(expected.ok()) << expected.status();
  for (Method m : kMethods) {
    const std::string name = MethodName(m);
    SCOPED_TRACE(name);
    auto model =
        LlamaModel::Create(fixture->checkpoint.config, fixture->checkpoint.weights, backend_.get())
            .value();
    PrunerOptions options = fixture->options;
    options.config.method = m;
    options.config.target_sparsities.assign(std::begin(kTargets), std::end(kTargets));
    options.config.seed = kSeed;
    auto pruner = Pruner::Create(model.get(), &fixture->data, options);
    ASSERT_TRUE(pruner.ok()) << pruner.status();
    ASSERT_TRUE((*pruner)->Run().ok());
    const proto::Record& record = (*pruner)->record();
    const UnitSpace& space = (*pruner)->units();
    const std::vector<double> want = Doubles(*expected, name + ".scores");
    const std::vector<int32_t> want_steps = Ints(*expected, name + ".pruned_at_step");
    const std::vector<double> want_sparsity = Doubles(*expected, name + ".sparsity");
    const std::vector<double>& got = (*pruner)->last_scores();
    ASSERT_EQ(got.size(), want.size());
    ASSERT_EQ(record.steps_size(), static_cast<int>(want_sparsity.size()));

    double worst = 0;
    for (size_t u = 0; u < got.size(); ++u) {
      if (std::isinf(want[u])) {
        EXPECT_TRUE(std::isinf(got[u])) << "unit " << u;
        continue;
      }
      const double tol = ScoreTolerance(m, want[u]);
      const double err = std::fabs(got[u] - want[u]) / (tol > 0 ? tol / 1e-4 : 1.0);
      worst = std::max(worst, err);
      EXPECT_LE(err, 1e-4) << "unit " << u << " scores " << got[u] << ", the reference " << want[u];
    }
    // Comparison groups: a layer's heads or channels (local), or every unit (global).
    auto group = [&](int64_t u) -> int64_t {
      return IsLocal(m) ? 2 * space.LayerOf(u) + (space.IsHead(u) ? 0 : 1) : 0;
    };
    int tolerated = 0;
    for (int k = 0; k < record.steps_size(); ++k) {
      int flips = 0;
      for (size_t u = 0; u < want_steps.size(); ++u) {
        const bool ours = record.pruned_at_step(static_cast<int>(u)) >= 0 &&
                          record.pruned_at_step(static_cast<int>(u)) <= k;
        const bool theirs = want_steps[u] >= 0 && want_steps[u] <= k;
        if (ours == theirs) continue;
        bool near_tie = false;
        for (size_t v = 0; v < want_steps.size() && !near_tie; ++v) {
          const bool v_theirs = want_steps[v] >= 0 && want_steps[v] <= k;
          if (v == u || v_theirs == theirs ||
              group(static_cast<int64_t>(v)) != group(static_cast<int64_t>(u))) {
            continue;
          }
          near_tie = std::fabs(want[v] - want[u]) <= ScoreTolerance(m, want[u]);
        }
        if (near_tie) {
          ++flips;
        } else {
          ADD_FAILURE() << "step " << k << ": unit " << u << (ours ? " pruned" : " kept")
                        << ", the reference " << (theirs ? "pruned it" : "kept it");
        }
      }
      if (flips == 0) {
        EXPECT_NEAR(record.steps(k).sparsity(), want_sparsity[static_cast<size_t>(k)],
                    4 * std::numeric_limits<double>::epsilon())
            << "step " << k;
      }
      tolerated += flips;
      if (m == Method::kFlap && flips == 0) CheckFlapCompensation(*fixture, *expected, record, k);
    }
    std::printf("%s %s: sparsity %.4f %.4f %.4f, worst score error %.1e, %d near-tie flips\n",
                Fixture().c_str(), name.c_str(), record.steps(0).sparsity(),
                record.steps(1).sparsity(), record.steps(2).sparsity(), worst, tolerated);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BaselinesParityTest,
                         ::testing::Combine(::testing::ValuesIn(testing::GispFixtureNames()),
                                            ::testing::ValuesIn(testing::TestBackendNames())),
                         testing::FixtureBackendName);

}  // namespace
}  // namespace gisp
