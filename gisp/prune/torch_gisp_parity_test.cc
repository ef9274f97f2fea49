// The C++ pruner against an independent PyTorch implementation of method.md
// (tools/reference/torch_gisp.py, float64) on the model fixtures: every step's unit scores
// (raw and normalized) within 1e-4 relative, tau within 1e-4, the pruning record identical
// (units whose score sits within 1e-4 of tau may flip; the fixtures' smallest relative gap is
// 1.3e-3, see testdata/gisp/manifest.json, and the test reports any flip it tolerates), sparsity
// equal and the calibration loss within 1e-5 (the checks: gisp/prune/gisp_fixture.h).
#include <cstdio>
#include <memory>
#include <string>

#include "gisp/backend/backend.h"
#include "gisp/prune/gisp_fixture.h"
#include "gisp/prune/pruner.h"
#include "gisp/testing/backends.h"
#include "gisp/testing/fixture_backend_test.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

// Runs on every backend (testing::TestBackendNames(); unavailable ones are skipped with the
// reason): a record computed on CUDA in f32 must match the same tolerances as the CPU's.
class TorchGispParityTest : public testing::FixtureBackendTest {};

TEST_P(TorchGispParityTest, ScoresThresholdsAndRecordMatchPyTorch) {
  auto fixture = testing::LoadGispFixture(Fixture());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  auto model =
      LlamaModel::Create(fixture->checkpoint.config, fixture->checkpoint.weights, backend_.get())
          .value();
  auto pruner = Pruner::Create(model.get(), &fixture->data, fixture->options);
  ASSERT_TRUE(pruner.ok()) << pruner.status();
  EXPECT_EQ((*pruner)->units().size(), fixture->units);

  for (int32_t k = 0; k < (*pruner)->total_steps(); ++k) {
    ASSERT_TRUE((*pruner)->Step().ok());
    const testing::StepParity parity = testing::CompareStepWithTorch(
        *fixture, k, (*pruner)->record(), (*pruner)->last_raw_scores(), (*pruner)->last_scores());
    for (const std::string& problem : parity.problems) ADD_FAILURE() << problem;
    std::printf("%s step %d: %s\n", Fixture().c_str(), k, parity.Summary().c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TorchGispParityTest,
                         ::testing::Combine(::testing::ValuesIn(testing::GispFixtureNames()),
                                            ::testing::ValuesIn(testing::TestBackendNames())),
                         testing::FixtureBackendName);

}  // namespace
}  // namespace gisp
