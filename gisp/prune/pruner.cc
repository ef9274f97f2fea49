#include "gisp/prune/pruner.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gisp/base/call_context.h"
#include "gisp/base/log.h"
#include "gisp/base/status.h"
#include "gisp/base/version.h"
#include "gisp/comm/agreement.h"
#include "gisp/prune/fingerprint.h"
#include "gisp/prune/ranking.h"
#include "gisp/prune/record.h"
#include "gisp/prune/surgery.h"
#include "gisp/saliency/calibration_pass.h"
#include "gisp/saliency/gradient_reduction.h"
#include "gisp/saliency/unit_scores.h"

namespace gisp {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// What every rank must share before the first step, in the order Create and Abandon agree on
// them (both must pass the same number of facts). `record` is the pruner's starting record: its
// fixed part names the model, calibration set and configuration, its steps the resumed run.
constexpr int kSetupFacts = 4;
std::vector<SharedFact> SetupFacts(const proto::Record* record, bool compact) {
  std::vector<SharedFact> facts = {{"model (fingerprint)", ""},
                                   {"calibration set (fingerprint)", ""},
                                   {"configuration", ""},
                                   {"record to resume (completed steps and pruned units)", ""}};
  if (record != nullptr) {
    facts[0].value = record->model().fingerprint();
    facts[1].value = record->calibration().fingerprint();
    facts[2].value = absl::StrCat(record->config().SerializeAsString(), compact ? "+" : "-");
    facts[3].value = absl::StrCat(
        record->steps_size(), ":",
        absl::string_view(reinterpret_cast<const char*>(record->pruned_at_step().data()),
                          record->pruned_at_step_size() * sizeof(int32_t)));
  }
  return facts;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pruner>> Pruner::Create(LlamaModel* model,
                                                       const CalibrationBatches* data,
                                                       PrunerOptions options,
                                                       const proto::Record* resume) {
  if (options.comm == nullptr) options.comm = SingleProcessCommunicator();
  std::unique_ptr<Pruner> p(new Pruner());
  p->model_ = model;
  p->data_ = data;
  p->options_ = std::move(options);
  // Every check runs before the agreement, so a rank that fails one still takes part in it.
  const absl::Status local = [&]() -> absl::Status {
    GISP_RETURN_IF_ERROR(ValidatePruneConfig(p->options_.config));
    GISP_CHECK_ARG(data != nullptr && !data->batches.empty(), "pruner: no calibration batches");
    return p->Init(resume);
  }();
  GISP_RETURN_IF_ERROR(
      Agree(p->comm(), local, SetupFacts(local.ok() ? &p->record_ : nullptr, p->options_.compact)));
  if (p->comm().size() > 1) {
    // Gbar on a GPU is summed in place by NCCL where this build has it; Unavailable (a CPU
    // backend, a build without CUDA) keeps the sum through host memory. Collective: every rank
    // gets the same answer, so every rank takes the same path.
    auto device = CreateDeviceAllReduce(model->backend(), p->comm());
    if (device.ok()) {
      p->device_reduce_ = std::move(*device);
      if (p->comm().rank() == 0) {
        Log(LogLevel::kInfo,
            absl::StrCat("Gbar all-reduce on the device: ", p->device_reduce_->name()));
      }
    } else if (!absl::IsUnavailable(device.status())) {
      return Annotate(device.status(), "setting up the device all-reduce of Gbar (NCCL)");
    }
  }
  return p;
}

absl::Status Pruner::Abandon(Communicator& comm, const absl::Status& failure) {
  GISP_CHECK_INTERNAL(!failure.ok());
  const std::vector<SharedFact> facts = SetupFacts(nullptr, false);
  GISP_CHECK_INTERNAL(facts.size() == kSetupFacts);
  return Agree(comm, failure, facts);
}

absl::Status Pruner::Init(const proto::Record* resume) {
  const PruneConfig& cfg = options_.config;
  dense_ = model_->config();
  GISP_ASSIGN_OR_RETURN(
      space_, MakeUnitSpace(dense_, cfg.gqa_unit, cfg.protect_first_fraction, cfg.protect_last));
  const double max_ratio = MaxPrunableRatio(space_);
  const bool score_once = ScoresOnce(cfg.method);
  if (cfg.ratio > max_ratio && !(score_once && !cfg.target_sparsities.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ratio ", cfg.ratio, " is too large: protected layers hold ", space_.protected_units(),
        " of ", space_.size(), " units, so at most ", max_ratio, " can be pruned"));
  }
  schedule_ = LinearSchedule(cfg.ratio, cfg.steps);
  if (score_once) GISP_RETURN_IF_ERROR(InitScoreOnce());
  if (NeedsGradients(cfg.method)) {
    // A step must fit on the device: refuse now, with the estimate, rather than after loading
    // everything and failing inside the first pass.
    GradRequest request = GradRequest::Layers(dense_, 0);
    for (int64_t l = 0; l < space_.num_layers; ++l) {
      if (!space_.protected_layer[l]) request.layers[static_cast<size_t>(l)] = ScoredParams(space_);
    }
    int64_t batch = 0, seq = 0;
    for (const Batch& b : data_->batches) {
      if (b.tokens.rank() != 2) continue;
      batch = std::max(batch, b.tokens.dim(0));
      seq = std::max(seq, b.tokens.dim(1));
    }
    GISP_RETURN_IF_ERROR(model_->CheckPassFits(request, batch, seq));
  }

  // Nonzero weights per unit, from the dense model's host weights (the sparsity numerator,
  // method.md 5).
  counts_ = CountUnitWeights(space_, *model_);

  // The record's fixed part.
  record_.set_format_version(kRecordFormatVersion);
  record_.set_gisp_version(GispVersion());
  *record_.mutable_config() = PruneConfigToProto(cfg);
  // A score-once record has one step per target sparsity.
  record_.mutable_config()->set_steps(static_cast<int32_t>(schedule_.size()));
  proto::ModelInfo* mi = record_.mutable_model();
  GISP_ASSIGN_OR_RETURN(std::string fingerprint, ModelFingerprint(*model_));
  mi->set_fingerprint(fingerprint);
  mi->set_model_type(dense_.model_type);
  mi->set_num_layers(dense_.num_layers);
  mi->set_hidden_size(dense_.hidden_size);
  mi->set_num_heads(dense_.num_heads);
  mi->set_num_kv_heads(dense_.num_kv_heads);
  mi->set_head_dim(dense_.head_dim);
  mi->set_intermediate_size(dense_.intermediate_size);
  mi->set_vocab_size(dense_.vocab_size);
  mi->set_decoder_parameters(dense_.DecoderParameters());
  proto::CalibrationInfo* ci = record_.mutable_calibration();
  ci->set_fingerprint(data_->fingerprint);
  ci->set_sequences(data_->sequences);
  ci->set_batches(static_cast<int64_t>(data_->batches.size()));
  ci->set_labelled_tokens(data_->labelled_tokens);
  ci->set_positive_sequences(data_->positives);
  ci->set_negative_sequences(data_->negatives);
  ci->set_source(CalibrationSourceName(data_->source));
  ci->set_window_tokens(data_->window_tokens);
  ci->set_seed(data_->seed);
  proto::UnitLayout* layout = record_.mutable_layout();
  layout->set_num_layers(static_cast<int32_t>(space_.num_layers));
  layout->set_head_units_per_layer(static_cast<int32_t>(space_.heads));
  layout->set_channel_units_per_layer(static_cast<int32_t>(space_.channels));
  for (bool p : space_.protected_layer) layout->add_protected_layer(p);
  pruned_at_step_.assign(static_cast<size_t>(space_.size()), -1);
  // The record is valid from the start: one stopped before its first step completes (a cancel,
  // a failure) still loads and resumes.
  record_.mutable_pruned_at_step()->Assign(pruned_at_step_.begin(), pruned_at_step_.end());
  kept_ = ComputeKept(space_, dense_, std::vector<bool>(pruned_at_step_.size(), false));

  if (resume == nullptr) return absl::OkStatus();
  // Resume: same configuration, model and calibration data, then replay the pruned set.
  GISP_RETURN_IF_ERROR(ValidateRecord(*resume, "resume record"));
  auto mismatch = [](const std::string& what, const std::string& a, const std::string& b) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot resume: the record was made with a different ", what, " (record ", a,
                     ", now ", b, ")"));
  };
  if (resume->model().fingerprint() != mi->fingerprint()) {
    return mismatch("model (fingerprint)", resume->model().fingerprint(), mi->fingerprint());
  }
  if (resume->calibration().fingerprint() != ci->fingerprint()) {
    return mismatch("calibration set (fingerprint)", resume->calibration().fingerprint(),
                    ci->fingerprint());
  }
  if (resume->config().SerializeAsString() != record_.config().SerializeAsString()) {
    return mismatch("configuration", resume->config().ShortDebugString(),
                    record_.config().ShortDebugString());
  }
  if (resume->layout().SerializeAsString() != layout->SerializeAsString()) {
    return mismatch("unit layout", resume->layout().ShortDebugString(), layout->ShortDebugString());
  }
  record_ = *resume;
  pruned_at_step_.assign(resume->pruned_at_step().begin(), resume->pruned_at_step().end());
  next_step_ = resume->steps_size();
  if (score_once && next_step_ > 0) {
    // The scores come from the dense model: compute them before the replay prunes it, and
    // replay the selections so the next one nests on the last.
    GISP_RETURN_IF_ERROR(ComputeFixedScores(&pass_loss_));
    for (int32_t i = 0; i < next_step_; ++i) {
      last_selection_ =
          selector_->Select(schedule_[static_cast<size_t>(i)], i > 0 ? &last_selection_ : nullptr);
    }
  }
  return ApplyPruned(PrunedAtOrBefore(record_, next_step_ - 1));
}

absl::Status Pruner::ApplyPruned(const std::vector<bool>& pruned) {
  KeptStructure next = ComputeKept(space_, dense_, pruned);
  if (options_.compact) {
    GISP_RETURN_IF_ERROR(CompactModel(model_, kept_, next));
  } else {
    GISP_RETURN_IF_ERROR(MaskModel(model_, next));
  }
  kept_ = std::move(next);
  return absl::OkStatus();
}

absl::Status Pruner::Step() {
  if (done()) return absl::FailedPreconditionError("all pruning steps are done");
  if (ScoresOnce(options_.config.method)) {
    return Annotate(StepScoreOnce(), absl::StrCat("step ", next_step_));
  }
  const int32_t k = next_step_;
  const double ratio = schedule_[static_cast<size_t>(k)];
  const auto t0 = Clock::now();
  proto::StepTiming times;
  times.set_step(k);

  GradRequest request = GradRequest::Layers(dense_, 0);
  for (int64_t l = 0; l < space_.num_layers; ++l) {
    if (!space_.protected_layer[l]) request.layers[static_cast<size_t>(l)] = ScoredParams(space_);
  }
  const double elapsed_before = elapsed_;
  const double last_sparsity =
      record_.steps_size() > 0 ? record_.steps(record_.steps_size() - 1).sparsity() : 0.0;
  const double last_loss =
      record_.steps_size() > 0 ? record_.steps(record_.steps_size() - 1).calibration_loss() : 0.0;
  const int32_t steps_done_here = timings_.timings_size();  // in this process
  auto on_batch = [&](int64_t done_batches, int64_t total) {
    if (!options_.progress) return true;
    PruneProgress p;
    p.step = k;
    p.steps = total_steps();
    p.batch = done_batches;
    p.batches = total;
    p.elapsed_seconds = elapsed_before + Since(t0);
    // Work done in this process, in batches, extrapolated over what remains. Later steps are
    // cheaper (compaction), so this errs on the long side.
    const double work_done = static_cast<double>(steps_done_here * total + done_batches);
    const double work_left = static_cast<double>((total_steps() - k) * total - done_batches);
    p.eta_seconds = work_done > 0 ? p.elapsed_seconds / work_done * work_left : 0.0;
    p.last_sparsity = last_sparsity;
    p.last_loss = last_loss;
    return options_.progress(p);
  };
  // This rank's share of Gbar. A failure here (or on another rank) is agreed on with the
  // losses, before the ranks exchange gradients, so no rank waits for one that stopped.
  const BatchRange share =
      ShareOf(static_cast<int64_t>(data_->batches.size()), comm().rank(), comm().size());
  absl::StatusOr<LlamaGradients> gbar = model_->AllocateGradients(request);
  absl::StatusOr<CalibrationPassResult> pass =
      gbar.ok() ? RunCalibrationPass(model_, *data_, request, &*gbar, on_batch, share)
                : absl::StatusOr<CalibrationPassResult>(gbar.status());
  const auto t_wait = Clock::now();
  double loss = 0;
  GISP_RETURN_IF_ERROR(Annotate(
      AgreeOnLoss(pass.status(),
                  pass.ok() ? std::move(pass->batch_mean_nll) : std::vector<double>(), &loss),
      absl::StrCat("step ", k)));
  const double waiting = Since(t_wait);
  const auto t_reduce = Clock::now();
  GISP_RETURN_IF_ERROR(Annotate(ReduceGradients(comm(), model_, &*gbar, device_reduce_.get()),
                                absl::StrCat("step ", k, ": adding up Gbar")));
  const double reduction = Since(t_reduce);
  times.set_gradient_seconds(Since(t0));

  // Identical Gbar on every rank gives identical decisions; the end-of-step agreement checks
  // that (a digest of the pruned units) and spreads any rank's failure, a checkpoint that could
  // not be written included.
  const absl::Status finished = FinishStep(k, ratio, loss, &*gbar, t0, waiting, reduction, &times);
  if (comm().size() == 1) return Annotate(finished, absl::StrCat("step ", k));
  const SharedFact decision{"set of pruned units",
                            std::string(reinterpret_cast<const char*>(pruned_at_step_.data()),
                                        pruned_at_step_.size() * sizeof(int32_t))};
  return Annotate(Agree(comm(), finished, {&decision, 1}), absl::StrCat("step ", k));
}

absl::Status Pruner::AgreeOnLoss(const absl::Status& local, std::vector<double> batch_mean_nll,
                                 double* loss) {
  // Each batch's mean is nonzero on one rank only, so the sum is exact: the loss equals the
  // single-process one bit for bit whenever the models are the same.
  batch_mean_nll.resize(data_->batches.size(), 0.0);
  GISP_RETURN_IF_ERROR(Agree(comm(), local, {}, absl::MakeSpan(batch_mean_nll)));
  *loss = CalibrationLoss(*data_, batch_mean_nll);
  return absl::OkStatus();
}

absl::Status Pruner::FinishStep(int32_t k, double ratio, double loss, LlamaGradients* gbar,
                                Clock::time_point t0, double waiting, double reduction,
                                proto::StepTiming* times) {
  auto t1 = Clock::now();
  std::vector<bool> pruned(pruned_at_step_.size());
  for (size_t u = 0; u < pruned.size(); ++u) pruned[u] = pruned_at_step_[u] >= 0;
  const KeptStructure layout =
      options_.compact ? kept_
                       : ComputeKept(space_, dense_, std::vector<bool>(pruned.size(), false));
  const Normalizer normalizer = MakeNormalizer(space_, dense_, options_.config.normalization);
  auto scores = ComputeUnitScores(space_, layout, *model_, *gbar, pruned, normalizer);
  if (!scores.ok()) return scores.status();
  times->set_scoring_seconds(Since(t1));

  auto t2 = Clock::now();
  GISP_ASSIGN_OR_RETURN(Threshold thr, GlobalThreshold(scores->normalized, ratio));
  ApplyThreshold(space_, scores->normalized, thr.tau, k, &pruned_at_step_);
  RoundKeptChannels(space_, scores->normalized, k, options_.config.round_channels_to,
                    &pruned_at_step_);
  for (size_t u = 0; u < pruned.size(); ++u) pruned[u] = pruned_at_step_[u] >= 0;
  times->set_ranking_seconds(Since(t2));

  auto t3 = Clock::now();
  *gbar = LlamaGradients();  // free Gbar before compaction allocates the new weights
  GISP_RETURN_IF_ERROR(ApplyPruned(pruned));
  times->set_compaction_seconds(Since(t3));

  proto::StepRecord* st = record_.add_steps();
  st->set_index(k);
  st->set_target_ratio(ratio);
  st->set_threshold(thr.tau);
  int64_t pruned_count = 0;
  for (bool p : pruned) pruned_count += p;
  st->set_pruned_units(pruned_count);
  st->set_sparsity(SparsityOf(pruned));
  st->set_calibration_loss(loss);
  for (int64_t l = 0; l < space_.num_layers; ++l) {
    st->add_kept_heads(static_cast<int32_t>(kept_.shapes[l].n_heads));
    st->add_kept_channels(static_cast<int32_t>(kept_.shapes[l].intermediate));
  }
  record_.mutable_pruned_at_step()->Assign(pruned_at_step_.begin(), pruned_at_step_.end());
  last_raw_ = std::move(scores->raw);
  last_scores_ = std::move(scores->normalized);
  ++next_step_;
  times->set_seconds(Since(t0));
  elapsed_ += times->seconds();
  *timings_.add_timings() = *times;
  Log(LogLevel::kInfo,
      absl::StrFormat(
          "step %d/%d: sparsity %.4f, %d units pruned, calibration loss %.6f, "
          "%.2f s (gradient %.2f, scoring %.3f, ranking %.3f, compaction %.3f), "
          "%d threads%s",
          k + 1, total_steps(), st->sparsity(), pruned_count, loss, times->seconds(),
          times->gradient_seconds(), times->scoring_seconds(), times->ranking_seconds(),
          times->compaction_seconds(), CurrentThreadCount(),
          comm().size() == 1
              ? ""
              : absl::StrFormat(", rank %d of %d (waiting %.3f s, Gbar all-reduce %.3f s)",
                                comm().rank(), comm().size(), waiting, reduction)));
  if (options_.checkpoint && comm().rank() == 0) {
    GISP_RETURN_IF_ERROR(options_.checkpoint(record_));
  }
  return absl::OkStatus();
}

absl::Status Pruner::FinalLoss() {
  const BatchRange share =
      ShareOf(static_cast<int64_t>(data_->batches.size()), comm().rank(), comm().size());
  std::vector<double> means(data_->batches.size(), 0.0);
  const absl::Status local = [&]() -> absl::Status {
    for (int64_t b = share.begin; b < share.end; ++b) {
      GISP_RETURN_IF_ERROR(CheckCancelled("the final calibration loss"));
      GISP_ASSIGN_OR_RETURN(LossResult r, model_->Forward(data_->batches[static_cast<size_t>(b)]));
      means[static_cast<size_t>(b)] =
          r.labelled > 0 ? r.nll_sum / static_cast<double>(r.labelled) : 0.0;
    }
    return absl::OkStatus();
  }();
  double loss = 0;
  GISP_RETURN_IF_ERROR(AgreeOnLoss(local, std::move(means), &loss));
  record_.set_final_calibration_loss(loss);
  return absl::OkStatus();
}

absl::Status Pruner::Run() {
  while (!done()) GISP_RETURN_IF_ERROR(Step());
  if (!record_.complete()) {
    GISP_RETURN_IF_ERROR(FinalLoss());
    record_.set_complete(true);
    absl::Status saved;
    if (options_.checkpoint && comm().rank() == 0) saved = options_.checkpoint(record_);
    GISP_RETURN_IF_ERROR(Agree(comm(), saved));
  }
  return absl::OkStatus();
}

}  // namespace gisp
