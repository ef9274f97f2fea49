// The baseline methods (method.h) against an independent PyTorch implementation
// (tools/reference/torch_baselines.py, float64) on the GISP fixtures' models and calibration
// batches (testdata/baselines, made by tools/fixtures/make_baseline_fixtures.py):
//  * unit scores within 1e-4 relative (float32 forward/backward against float64; magnitude and
//    random are computed in double on both sides and agree far closer), protected units +inf;
//  * the record identical, except units inside the tie band: a unit decided otherwise is
//    tolerated (and counted) only when its reference score lies within 1e-4 relative of the score
//    of a unit the reference decided the other way in the same comparison (the same layer and
//    kind for local methods, any unit for global ones);
//  * each step's measured sparsity equal to the reference's when no unit was tolerated.
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gisp/backend/backend.h"
#include "gisp/io/safetensors.h"
#include "gisp/prune/gisp_fixture.h"
#include "gisp/prune/method.h"
#include "gisp/prune/pruner.h"
#include "gisp/testing/backends.h"
#include "gisp/testing/compare.h"
#include "gisp/testing/fixture_backend_test.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

constexpr double kTargets[] = {0.1, 0.2, 0.3};  // manifest.json "targets"
constexpr uint64_t kSeed = 5;                   // manifest.json "random_seed"
constexpr Method kMethods[] = {Method::kOneShot, Method::kWandaSp, Method::kLlmPruner,
                               Method::kMagnitude, Method::kRandom};

std::vector<double> Doubles(const SafetensorsFile& f, const std::string& name) {
  const Tensor t = testing::CopyAs(f.Get(name).value(), DType::kF64);
  return std::vector<double>(t.data<double>(), t.data<double>() + t.numel());
}

std::vector<int32_t> Ints(const SafetensorsFile& f, const std::string& name) {
  const Tensor t = testing::CopyAs(f.Get(name).value(), DType::kI32);
  return std::vector<int32_t>(t.i32(), t.i32() + t.numel());
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
      const double err =
          want[u] == 0 ? std::fabs(got[u]) : std::fabs(got[u] - want[u]) / std::fabs(want[u]);
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
          near_tie = std::fabs(want[v] - want[u]) <= 1e-4 * std::fabs(want[u]);
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
