// The Pruner's score-once path (method.h, docs/baselines.md): every method but gisp scores the
// dense model once (a gradient pass, an activation pass or the weights alone), then each step
// prunes the set whose measured decoder sparsity is nearest its target (target_selection.h) and
// records it like a GISP step.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gisp/base/call_context.h"
#include "gisp/base/log.h"
#include "gisp/base/status.h"
#include "gisp/prune/pruner.h"
#include "gisp/saliency/activation_stats.h"
#include "gisp/saliency/baseline_scores.h"
#include "gisp/saliency/calibration_pass.h"
#include "gisp/saliency/unit_scores.h"

namespace gisp {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

absl::Status Pruner::InitScoreOnce() {
  const PruneConfig& cfg = options_.config;
  const char* name = MethodName(cfg.method);
  if (comm().size() > 1) {
    return absl::UnimplementedError(absl::StrCat(
        "method ", name, " runs in one process; data-parallel ranks are for method gisp"));
  }
  if (cfg.round_channels_to > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel rounding applies to method gisp only; method ", name,
                     " got a multiple of ", cfg.round_channels_to));
  }
  if (!cfg.target_sparsities.empty()) {
    schedule_ = cfg.target_sparsities;
    std::sort(schedule_.begin(), schedule_.end());
    schedule_.erase(std::unique(schedule_.begin(), schedule_.end()), schedule_.end());
  }
  return absl::OkStatus();
}

absl::Status Pruner::ComputeFixedScores(double* pass_loss) {
  const PruneConfig& cfg = options_.config;
  *pass_loss = -1;
  auto on_batch = [&](int64_t done_batches, int64_t total) {
    if (!options_.progress) return true;
    PruneProgress p;
    p.step = next_step_;
    p.steps = total_steps();
    p.batch = done_batches;
    p.batches = total;
    p.elapsed_seconds = elapsed_;
    return options_.progress(p);
  };
  std::vector<double> scores;
  switch (cfg.method) {
    case Method::kOneShot:
    case Method::kLlmPruner: {
      GradRequest request = GradRequest::Layers(dense_, 0);
      for (int64_t l = 0; l < space_.num_layers; ++l) {
        if (!space_.protected_layer[l]) {
          request.layers[static_cast<size_t>(l)] = ScoredParams(space_);
        }
      }
      GISP_ASSIGN_OR_RETURN(LlamaGradients gbar, model_->AllocateGradients(request));
      GISP_ASSIGN_OR_RETURN(CalibrationPassResult pass,
                            RunCalibrationPass(model_, *data_, request, &gbar, on_batch));
      *pass_loss = CalibrationLoss(*data_, pass.batch_mean_nll);
      const std::vector<bool> none(static_cast<size_t>(space_.size()), false);
      const KeptStructure dense_layout = ComputeKept(space_, dense_, none);
      GISP_ASSIGN_OR_RETURN(UnitScores s,
                            ComputeUnitScores(space_, dense_layout, *model_, gbar, none,
                                              MakeNormalizer(space_, dense_, cfg.normalization)));
      last_raw_ = s.raw;
      // One-shot GISP ranks normalized scores globally; LLM-Pruner's local Taylor compares units
      // of one kind within a layer, where a constant divisor changes nothing: raw sums.
      scores = cfg.method == Method::kOneShot ? std::move(s.normalized) : std::move(s.raw);
      break;
    }
    case Method::kWandaSp: {
      std::vector<bool> want(static_cast<size_t>(space_.num_layers));
      for (int64_t l = 0; l < space_.num_layers; ++l) want[l] = !space_.protected_layer[l];
      GISP_ASSIGN_OR_RETURN(ActivationStats stats,
                            CollectActivationStats(model_, *data_, want, on_batch));
      GISP_ASSIGN_OR_RETURN(scores, WandaSpScores(space_, *model_, stats));
      break;
    }
    case Method::kFlap: {
      // Every layer's statistics: the protected layers' means are recorded too, so that the
      // record's compensation data has one entry per layer (one more layer of forward at most).
      const std::vector<bool> want(static_cast<size_t>(space_.num_layers), true);
      GISP_ASSIGN_OR_RETURN(ActivationStats stats,
                            CollectActivationStats(model_, *data_, want, on_batch));
      GISP_ASSIGN_OR_RETURN(scores, FlapScores(space_, *model_, stats));
      // Rewritten on resume: the same pass over the same data gives the same values.
      record_.clear_flap_input_means();
      for (int64_t l = 0; l < space_.num_layers; ++l) {
        proto::LayerInputMeans* means = record_.add_flap_input_means();
        const ColumnMoments& xo = stats.o_proj[static_cast<size_t>(l)];
        const ColumnMoments& xd = stats.down_proj[static_cast<size_t>(l)];
        for (size_t j = 0; j < xo.sum.size(); ++j) {
          means->add_o_proj(static_cast<float>(xo.Mean(j)));
        }
        for (size_t j = 0; j < xd.sum.size(); ++j) {
          means->add_down_proj(static_cast<float>(xd.Mean(j)));
        }
      }
      break;
    }
    case Method::kMagnitude:
      scores = MagnitudeScores(space_, *model_);
      break;
    case Method::kRandom:
      scores = RandomScores(space_, cfg.seed);
      break;
    case Method::kGisp:
      return absl::InternalError(
          absl::StrCat("method ", MethodName(cfg.method), " has no fixed scores"));
  }
  for (size_t u = 0; u < scores.size(); ++u) {
    if (std::isnan(scores[u]) ||
        (std::isinf(scores[u]) &&
         !space_.protected_layer[space_.LayerOf(static_cast<int64_t>(u))])) {
      return absl::InvalidArgumentError(
          absl::StrCat("method ", MethodName(cfg.method), ": non-finite score for unit ", u,
                       " (the calibration data or the weights overflowed or are NaN)"));
    }
  }
  if (cfg.method != Method::kOneShot && cfg.method != Method::kLlmPruner) last_raw_ = scores;
  last_scores_ = scores;
  selector_ =
      std::make_unique<TargetSelector>(space_, counts_, std::move(scores), IsLocal(cfg.method));
  return absl::OkStatus();
}

absl::Status Pruner::ForwardLoss(double* loss) {
  std::vector<double> means(data_->batches.size(), 0.0);
  for (size_t b = 0; b < data_->batches.size(); ++b) {
    GISP_RETURN_IF_ERROR(CheckCancelled("the calibration loss"));
    GISP_ASSIGN_OR_RETURN(LossResult r, model_->Forward(data_->batches[b]));
    means[b] = r.labelled > 0 ? r.nll_sum / static_cast<double>(r.labelled) : 0.0;
  }
  *loss = CalibrationLoss(*data_, means);
  return absl::OkStatus();
}

absl::Status Pruner::StepScoreOnce() {
  const int32_t k = next_step_;
  const double target = schedule_[static_cast<size_t>(k)];
  const auto t0 = Clock::now();
  proto::StepTiming times;
  times.set_step(k);
  if (selector_ == nullptr) GISP_RETURN_IF_ERROR(ComputeFixedScores(&pass_loss_));
  // The loss of the model this step starts from, as a GISP step's pass reports it: the scoring
  // pass's for the dense model when there was one, a forward pass otherwise.
  double loss = 0;
  if (k == 0 && pass_loss_ >= 0) {
    loss = pass_loss_;
  } else {
    GISP_RETURN_IF_ERROR(ForwardLoss(&loss));
  }
  times.set_gradient_seconds(Since(t0));

  const auto t2 = Clock::now();
  Selection sel = selector_->Select(target, k > 0 ? &last_selection_ : nullptr);
  for (size_t u = 0; u < sel.pruned.size(); ++u) {
    if (sel.pruned[u] && pruned_at_step_[u] < 0) pruned_at_step_[u] = k;
  }
  times.set_ranking_seconds(Since(t2));
  const auto t3 = Clock::now();
  GISP_RETURN_IF_ERROR(ApplyPruned(sel.pruned));
  times.set_compaction_seconds(Since(t3));

  proto::StepRecord* st = record_.add_steps();
  st->set_index(k);
  st->set_target_ratio(target);      // a decoder sparsity for these methods
  st->set_threshold(sel.parameter);  // global: the highest pruned score; local: q
  int64_t pruned_count = 0;
  for (bool p : sel.pruned) pruned_count += p;
  st->set_pruned_units(pruned_count);
  st->set_sparsity(sel.sparsity);
  st->set_calibration_loss(loss);
  for (int64_t l = 0; l < space_.num_layers; ++l) {
    st->add_kept_heads(static_cast<int32_t>(kept_.shapes[l].n_heads));
    st->add_kept_channels(static_cast<int32_t>(kept_.shapes[l].intermediate));
  }
  record_.mutable_pruned_at_step()->Assign(pruned_at_step_.begin(), pruned_at_step_.end());
  last_selection_ = std::move(sel);
  ++next_step_;
  times.set_seconds(Since(t0));
  elapsed_ += times.seconds();
  *timings_.add_timings() = times;
  Log(LogLevel::kInfo,
      absl::StrFormat("%s step %d/%d: target %.4f, sparsity %.4f, %d units pruned, "
                      "calibration loss %.6f, %.2f s",
                      MethodName(options_.config.method), k + 1, total_steps(), target,
                      st->sparsity(), pruned_count, loss, times.seconds()));
  if (options_.checkpoint) GISP_RETURN_IF_ERROR(options_.checkpoint(record_));
  return absl::OkStatus();
}

}  // namespace gisp
