#include "gisp/prune/gisp_fixture.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/base/status.h"
#include "gisp/saliency/unit_scores.h"
#include "gisp/testing/compare.h"

namespace gisp {
namespace testing {
namespace {

absl::StatusOr<Tensor> Entry(const SafetensorsFile& f, const std::string& name, DType dtype) {
  GISP_ASSIGN_OR_RETURN(Tensor t, f.Get(name));
  return CopyAs(t, dtype);
}

double Scalar(const SafetensorsFile& f, const std::string& name) {
  auto t = Entry(f, name, DType::kF64);
  return t.ok() ? t->data<double>()[0] : NAN;
}

}  // namespace

const std::vector<std::string>& GispFixtureNames() {
  static const std::vector<std::string>* const names =
      new std::vector<std::string>{"gqa_query_head", "mha_paper_norm", "kv_group_protected",
                                   "margin_mha", "qwen2_bias_query_head"};
  return *names;
}

absl::StatusOr<GispFixture> LoadGispFixture(const std::string& name) {
  GispFixture f;
  f.name = name;
  const std::string dir = "testdata/gisp/" + name;
  GISP_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/options.json"));
  GISP_ASSIGN_OR_RETURN(Json options, ParseJson(text, dir + "/options.json"));
  GISP_ASSIGN_OR_RETURN(f.checkpoint, LoadCheckpoint(options.Find("model")->string_value()));
  GISP_ASSIGN_OR_RETURN(SafetensorsFile cal,
                        SafetensorsFile::Open(dir + "/calibration.safetensors"));
  GISP_ASSIGN_OR_RETURN(f.expected, SafetensorsFile::Open(dir + "/expected.safetensors"));

  // The reference's batches, weights included, as the pruner's calibration set.
  const bool margin = options.Find("objective")->string_value() == "margin";
  for (int64_t b = 0; b < options.Find("batches")->int_value(); ++b) {
    const std::string p = "batch_" + std::to_string(b) + ".";
    Batch batch;
    GISP_ASSIGN_OR_RETURN(batch.tokens, Entry(cal, p + "input_ids", DType::kI32));
    GISP_ASSIGN_OR_RETURN(batch.targets, Entry(cal, p + "targets", DType::kI32));
    GISP_ASSIGN_OR_RETURN(batch.weights, Entry(cal, p + "weights", DType::kF32));
    float first_weight = 0;
    for (int64_t i = 0; i < batch.weights.numel(); ++i) {
      if (batch.weights.f32()[i] != 0) first_weight = batch.weights.f32()[i];
    }
    f.data.batch_sequences.push_back(batch.tokens.dim(0));
    f.data.batch_positive.push_back(!margin || first_weight > 0);
    f.data.sequences += batch.tokens.dim(0);
    f.data.batches.push_back(std::move(batch));
  }
  f.data.fingerprint = "reference";

  PruneConfig& c = f.options.config;
  c.ratio = options.Find("rho")->number_value();
  c.steps = static_cast<int32_t>(options.Find("steps")->int_value());
  GISP_ASSIGN_OR_RETURN(c.normalization,
                        ParseNormalization(options.Find("normalization")->string_value()));
  c.gqa_unit = options.Find("kv_group")->bool_value() ? GqaUnit::kKvGroup : GqaUnit::kQueryHead;
  c.protect_first_fraction = options.Find("protect_first_fraction")->number_value();
  c.protect_last = options.Find("protect_last")->bool_value();
  c.objective = margin ? Objective::kMargin : Objective::kLm;
  f.units = options.Find("units")->int_value();
  return f;
}

std::string StepParity::Summary() const {
  return absl::StrFormat(
      "%lld units pruned, sparsity %.4f, worst score error %.1e, %d near-tie "
      "flips",
      static_cast<long long>(pruned_units), sparsity, worst_score_error, tolerated_flips);
}

StepParity CompareStepWithTorch(const GispFixture& fixture, int32_t k, const proto::Record& record,
                                const std::vector<double>& got_raw,
                                const std::vector<double>& got) {
  StepParity out;
  auto problem = [&](auto&&... parts) {
    out.problems.push_back(absl::StrCat(fixture.name, " step ", k, ": ", parts...));
  };
  const std::string p = "step_" + std::to_string(k) + ".";
  auto raw = Entry(*fixture.expected, p + "raw_scores", DType::kF64);
  auto want = Entry(*fixture.expected, p + "scores", DType::kF64);
  auto steps = Entry(*fixture.expected, p + "pruned_at_step", DType::kI32);
  if (!raw.ok() || !want.ok() || !steps.ok() || k >= record.steps_size()) {
    problem("no reference or no completed step to compare");
    return out;
  }
  const double tau = Scalar(*fixture.expected, p + "tau");
  if (static_cast<int64_t>(got.size()) != want->numel() || got_raw.size() != got.size()) {
    problem(got.size(), " scores, the reference has ", want->numel());
    return out;
  }
  for (size_t u = 0; u < got.size(); ++u) {
    const double w = want->data<double>()[u], r = raw->data<double>()[u];
    if (std::isinf(w)) {
      if (!std::isinf(got[u])) problem("unit ", u, " scores ", got[u], ", the reference +inf");
      continue;
    }
    const double err = w == 0 ? std::fabs(got[u]) : std::fabs(got[u] - w) / std::fabs(w);
    out.worst_score_error = std::max(out.worst_score_error, err);
    if (err > 1e-4) problem("unit ", u, " score ", got[u], ", the reference ", w);
    if (std::fabs(got_raw[u] - r) > 1e-4 * std::max(std::fabs(r), 1e-30)) {
      problem("unit ", u, " raw score ", got_raw[u], ", the reference ", r);
    }
  }
  const proto::StepRecord& st = record.steps(k);
  if (std::fabs(st.threshold() - tau) > 1e-4 * std::fabs(tau)) {
    problem("tau ", st.threshold(), ", the reference ", tau);
  }
  const double loss = Scalar(*fixture.expected, p + "loss");
  if (!(std::fabs(st.calibration_loss() - loss) <= 1e-5 * loss)) {
    problem("calibration loss ", st.calibration_loss(), ", the reference ", loss);
  }
  // The record: identical, except units whose reference score lies within 1e-4 of tau.
  for (int64_t u = 0; u < steps->numel(); ++u) {
    int32_t ours = record.pruned_at_step(static_cast<int>(u));
    if (ours > k) ours = -1;  // pruned by a later step of the record
    if (ours == steps->i32()[u]) continue;
    const double w = want->data<double>()[u];
    if (std::fabs(w - tau) <= 1e-4 * std::fabs(tau)) {
      ++out.tolerated_flips;
    } else {
      problem("unit ", u, " pruned at step ", ours, ", by the reference at ", steps->i32()[u]);
    }
  }
  // Equal up to rounding (4 ulps, as gtest's EXPECT_DOUBLE_EQ): both sum the same integers.
  const double sparsity = Scalar(*fixture.expected, p + "sparsity");
  if (out.tolerated_flips == 0 &&
      !(std::fabs(st.sparsity() - sparsity) <=
        4 * std::numeric_limits<double>::epsilon() * std::fabs(sparsity))) {
    problem("sparsity ", st.sparsity(), ", the reference ", sparsity);
  }
  out.pruned_units = st.pruned_units();
  out.sparsity = st.sparsity();
  return out;
}

}  // namespace testing
}  // namespace gisp
