// The C++ pruner against an independent PyTorch implementation of method.md
// (tools/reference/torch_gisp.py, float64) on the model fixtures: every step's unit scores
// (raw and normalized) within 1e-4 relative, tau within 1e-4, the pruning record identical
// (units whose score sits within 1e-4 of tau may flip; the fixtures' smallest relative gap is
// 1.3e-3, see testdata/gisp/manifest.json, and the test reports any flip it tolerates), sparsity
// equal and the calibration loss within 1e-5.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <tuple>

#include "gisp/backend/backend.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/data/sequences.h"
#include "gisp/io/checkpoint.h"
#include "gisp/io/safetensors.h"
#include "gisp/prune/pruner.h"
#include "gisp/testing/backends.h"
#include "gisp/testing/compare.h"
#include "gisp/testing/fixture_backend_test.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

double Scalar(const SafetensorsFile& f, const std::string& name) {
  Tensor t = testing::CopyAs(f.Get(name).value(), DType::kF64);
  return t.data<double>()[0];
}

// Runs on every backend (testing::TestBackendNames(); unavailable ones are skipped with the
// reason): a record computed on CUDA in f32 must match the same tolerances as the CPU's.
class TorchGispParityTest : public testing::FixtureBackendTest {};

TEST_P(TorchGispParityTest, ScoresThresholdsAndRecordMatchPyTorch) {
  const std::string dir = "testdata/gisp/" + Fixture();
  const Json options = ParseJson(ReadFile(dir + "/options.json").value(), "options.json").value();
  auto ckpt = LoadCheckpoint(options.Find("model")->string_value());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  auto cal = SafetensorsFile::Open(dir + "/calibration.safetensors");
  auto exp = SafetensorsFile::Open(dir + "/expected.safetensors");
  ASSERT_TRUE(cal.ok() && exp.ok());

  // The reference's batches, weights included, as the pruner's calibration set.
  CalibrationBatches data;
  const absl::StatusOr<Objective> objective =
      ParseObjective(options.Find("objective")->string_value());
  ASSERT_TRUE(objective.ok()) << objective.status();
  const bool margin = *objective == Objective::kMargin;
  for (int64_t b = 0; b < options.Find("batches")->int_value(); ++b) {
    const std::string p = "batch_" + std::to_string(b) + ".";
    Batch batch;
    batch.tokens = testing::CopyAs(cal->Get(p + "input_ids").value(), DType::kI32);
    batch.targets = testing::CopyAs(cal->Get(p + "targets").value(), DType::kI32);
    batch.weights = testing::CopyAs(cal->Get(p + "weights").value(), DType::kF32);
    float first_weight = 0;
    for (int64_t i = 0; i < batch.weights.numel(); ++i) {
      if (batch.weights.f32()[i] != 0) first_weight = batch.weights.f32()[i];
    }
    data.batch_sequences.push_back(batch.tokens.dim(0));
    data.batch_positive.push_back(!margin || first_weight > 0);
    data.sequences += batch.tokens.dim(0);
    data.batches.push_back(std::move(batch));
  }
  data.fingerprint = "reference";

  auto model = LlamaModel::Create(ckpt->config, ckpt->weights, backend_.get()).value();
  PrunerOptions o;
  o.config.ratio = options.Find("rho")->number_value();
  o.config.steps = static_cast<int32_t>(options.Find("steps")->int_value());
  const absl::StatusOr<Normalization> norm =
      ParseNormalization(options.Find("normalization")->string_value());
  ASSERT_TRUE(norm.ok()) << norm.status();
  o.config.normalization = *norm;
  o.config.gqa_unit =
      options.Find("kv_group")->bool_value() ? GqaUnit::kKvGroup : GqaUnit::kQueryHead;
  o.config.protect_first_fraction = options.Find("protect_first_fraction")->number_value();
  o.config.protect_last = options.Find("protect_last")->bool_value();
  o.config.objective = *objective;
  auto pruner = Pruner::Create(model.get(), &data, o);
  ASSERT_TRUE(pruner.ok()) << pruner.status();
  EXPECT_EQ((*pruner)->units().size(), options.Find("units")->int_value());

  for (int32_t k = 0; k < (*pruner)->total_steps(); ++k) {
    ASSERT_TRUE((*pruner)->Step().ok());
    const std::string p = "step_" + std::to_string(k) + ".";
    const Tensor raw = testing::CopyAs(exp->Get(p + "raw_scores").value(), DType::kF64);
    const Tensor want = testing::CopyAs(exp->Get(p + "scores").value(), DType::kF64);
    const double tau = Scalar(*exp, p + "tau");
    const auto& got_raw = (*pruner)->last_raw_scores();
    const auto& got = (*pruner)->last_scores();
    ASSERT_EQ(static_cast<int64_t>(got.size()), want.numel());
    double worst = 0;
    for (size_t u = 0; u < got.size(); ++u) {
      const double w = want.data<double>()[u], r = raw.data<double>()[u];
      if (std::isinf(w)) {
        EXPECT_TRUE(std::isinf(got[u])) << "unit " << u;
        continue;
      }
      const double err = std::fabs(got[u] - w) / std::max(std::fabs(w), 1e-30);
      worst = std::max(worst, w == 0 ? std::fabs(got[u]) : err);
      EXPECT_LE(w == 0 ? std::fabs(got[u]) : err, 1e-4) << "step " << k << " unit " << u;
      EXPECT_LE(std::fabs(got_raw[u] - r), 1e-4 * std::max(std::fabs(r), 1e-30));
    }
    const proto::StepRecord& st = (*pruner)->record().steps(k);
    EXPECT_NEAR(st.threshold(), tau, 1e-4 * std::fabs(tau)) << "step " << k;
    EXPECT_NEAR(st.calibration_loss(), Scalar(*exp, p + "loss"), 1e-5 * Scalar(*exp, p + "loss"));
    // The record: identical, except units whose reference score lies within 1e-4 of tau.
    const Tensor steps = testing::CopyAs(exp->Get(p + "pruned_at_step").value(), DType::kI32);
    int tolerated = 0;
    for (int64_t u = 0; u < steps.numel(); ++u) {
      const int32_t ours = (*pruner)->record().pruned_at_step(static_cast<int>(u));
      if (ours == steps.i32()[u]) continue;
      const double w = want.data<double>()[u];
      const bool near_tie = std::fabs(w - tau) <= 1e-4 * std::fabs(tau);
      EXPECT_TRUE(near_tie) << "step " << k << " unit " << u << ": gisp " << ours << ", torch "
                            << steps.i32()[u];
      tolerated += near_tie;
    }
    if (tolerated == 0) {
      EXPECT_DOUBLE_EQ(st.sparsity(), Scalar(*exp, p + "sparsity")) << "step " << k;
    }
    std::printf(
        "%s step %d: %lld units pruned, sparsity %.4f, worst score error %.1e, %d near-tie "
        "flips\n",
        Fixture().c_str(), k, static_cast<long long>(st.pruned_units()), st.sparsity(), worst,
        tolerated);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TorchGispParityTest,
                         ::testing::Combine(::testing::Values("gqa_query_head", "mha_paper_norm",
                                                              "kv_group_protected", "margin_mha",
                                                              "qwen2_bias_query_head"),
                                            ::testing::ValuesIn(testing::TestBackendNames())),
                         testing::FixtureBackendName);

}  // namespace
}  // namespace gisp
