// Pruner: the GISP loop (method.md sections 2-5). Each step runs a calibration pass with the
// current subnetwork, scores every unit, ranks all units globally against the schedule's ratio,
// prunes everything at or below the threshold, measures decoder sparsity and shrinks the working
// model (compaction) so the next step is cheaper. The record grows by one step each time and
// is handed to a checkpoint hook, so a killed run resumes from the last completed step with a
// bit-identical result.
//
// Data parallel (docs/scaling.md): with a communicator of N ranks, every rank runs a Pruner on
// the same model, calibration set and configuration. Each step, rank r runs the calibration
// pass on its contiguous share of the batches (ShareOf), the ranks add up their gradient sums
// (ReduceGradients: one all-reduce per gradient buffer, in a fixed order; on GPUs by NCCL
// where the build has it) and their per-batch losses, and every rank then scores, ranks and
// compacts identically. Rank 0 alone calls the checkpoint hook. Agreements
// (gisp/comm/agreement.h) after setup, after each pass and at the end of each step make every
// rank return the same error, naming the rank that failed.
#ifndef GISP_PRUNE_PRUNER_H_
#define GISP_PRUNE_PRUNER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/backend/device_all_reduce.h"
#include "gisp/comm/communicator.h"
#include "gisp/data/sequences.h"
#include "gisp/model/llama_model.h"
#include "gisp/proto/gisp.pb.h"
#include "gisp/prune/prune_config.h"
#include "gisp/prune/sparsity.h"
#include "gisp/prune/target_selection.h"
#include "gisp/units/units.h"

namespace gisp {

struct PruneProgress {
  int32_t step = 0;     // the step being computed (0-based)
  int32_t steps = 0;    // total steps
  int64_t batch = 0;    // calibration batches done in this step (by this rank)
  int64_t batches = 0;  // calibration batches per step (this rank's share)
  double elapsed_seconds = 0;
  double eta_seconds = 0;  // estimate for the whole run
  double last_sparsity = 0;
  double last_loss = 0;
};
// Return false to cancel; the pruner then stops with a Cancelled status and keeps the record of
// the completed steps.
using ProgressCallback = std::function<bool(const PruneProgress&)>;

struct PrunerOptions {
  PruneConfig config;
  // Physically drop pruned rows and columns after each step (same results, less work). When
  // false the model stays dense and pruned parts are zeroed, as the released code does.
  bool compact = true;
  ProgressCallback progress;
  // Called with the record after every completed step (the CLI writes it to disk); on rank 0
  // only.
  std::function<absl::Status(const proto::Record&)> checkpoint;
  // The ranks sharing the calibration work; null: this process alone.
  std::shared_ptr<Communicator> comm;
};

class Pruner {
 public:
  // `model` must be the dense model; the pruner prunes it in place (it becomes the working
  // subnetwork) and must outlive nothing else: both `model` and `data` must outlive the pruner.
  // With `resume`, the record of an earlier run with the same configuration, model and data is
  // continued after its last completed step (mismatches are errors naming the field).
  // Collective under a communicator: every rank must call it (see Abandon for a rank that
  // cannot), and all fail when one does, or when the ranks' models, calibration sets,
  // configurations or resume records differ.
  static absl::StatusOr<std::unique_ptr<Pruner>> Create(LlamaModel* model,
                                                        const CalibrationBatches* data,
                                                        PrunerOptions options,
                                                        const proto::Record* resume = nullptr);

  // For a rank whose setup failed before it could call Create: takes part in Create's
  // agreement with `failure`, so every rank's Create returns that error (naming this rank)
  // instead of waiting for this one. Returns the agreed status.
  static absl::Status Abandon(Communicator& comm, const absl::Status& failure);

  // Runs the next step. FailedPrecondition when all steps are done. Collective.
  absl::Status Step();
  // Runs the remaining steps, then the final calibration loss. Collective.
  absl::Status Run();

  bool done() const { return next_step_ >= static_cast<int32_t>(schedule_.size()); }
  int32_t next_step() const { return next_step_; }
  int32_t total_steps() const { return static_cast<int32_t>(schedule_.size()); }
  const proto::Record& record() const { return record_; }
  const UnitSpace& units() const { return space_; }
  // Units ranked (record order), protected ones included.
  int64_t num_units() const { return static_cast<int64_t>(pruned_at_step_.size()); }
  // Scores of the last completed step: raw sums of |W * Gbar| and normalized values.
  const std::vector<double>& last_raw_scores() const { return last_raw_; }
  const std::vector<double>& last_scores() const { return last_scores_; }
  // Wall times of the steps computed by this process, in order (a resumed run's earlier steps
  // have none): gisp.proto's message, as gisp_pruner_timings_json and the CLI's report use it.
  const proto::PrunerTimings& timings() const { return timings_; }
  // Decoder sparsity if `pruned` units were removed from the original model (sparsity.h).
  double SparsityOf(const std::vector<bool>& pruned) const { return counts_.SparsityOf(pruned); }

 private:
  Pruner() = default;
  absl::Status Init(const proto::Record* resume);
  absl::Status ApplyPruned(const std::vector<bool>& pruned);
  // Scores Gbar (then frees it), ranks, prunes, compacts and records step `k`, which started
  // at `start`; checkpoints on rank 0.
  using Clock = std::chrono::steady_clock;
  absl::Status FinishStep(int32_t k, double ratio, double loss, LlamaGradients* gbar,
                          Clock::time_point start, double waiting, double reduction,
                          proto::StepTiming* times);
  absl::Status FinalLoss();
  // The calibration loss of the set from this rank's per-batch means (0 outside its share),
  // agreed with the other ranks first (one reduction adds the shares up).
  absl::Status AgreeOnLoss(const absl::Status& local, std::vector<double> batch_mean_nll,
                           double* loss);
  Communicator& comm() const { return *options_.comm; }
  // The score-once methods (method.h; pruner_baselines.cc): setup checks and the schedule of
  // target sparsities, the scores of the dense model, one step at a target.
  absl::Status InitScoreOnce();
  absl::Status ComputeFixedScores(double* pass_loss);
  absl::Status StepScoreOnce();
  absl::Status ForwardLoss(double* loss);

  LlamaModel* model_ = nullptr;
  const CalibrationBatches* data_ = nullptr;
  PrunerOptions options_;
  LlamaConfig dense_;
  UnitSpace space_;
  std::vector<double> schedule_;
  UnitWeightCounts counts_;  // the sparsity numerator's terms (method.md 5)
  proto::Record record_;
  std::vector<int32_t> pruned_at_step_;
  KeptStructure kept_;  // the working model's current layout
  int32_t next_step_ = 0;
  std::vector<double> last_raw_, last_scores_;
  proto::PrunerTimings timings_;
  double elapsed_ = 0;
  // Score-once methods: the selector over the dense model's scores and the last selection
  // (the next one prunes at least as much).
  std::unique_ptr<TargetSelector> selector_;
  Selection last_selection_;
  double pass_loss_ = -1;  // the dense model's calibration loss from the scoring pass, if any
  // NCCL for Gbar on GPU ranks (device_all_reduce.h); null: through host memory.
  std::unique_ptr<DeviceAllReduce> device_reduce_;
};

}  // namespace gisp

#endif  // GISP_PRUNE_PRUNER_H_
