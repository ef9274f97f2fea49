// Calibration data as labelled token sequences, and their batching into model Batches whose
// per-token loss weights implement the objective (method.md sections 2 and 6):
//
//   lm, answer-only:  Gbar = (1/n) * sum_b grad(bs_b * mean-token loss of batch b)
//                     -> weight of a labelled token = bs_b / (n * labelled tokens of batch b)
//   margin:           Gbar = G+/n+ - G-/n-, positives and negatives batched separately
//                     -> weight = +bs_b / (n+ * labelled_b) for positive batches,
//                               -bs_b / (n- * labelled_b) for negative batches
//
// so that one gradient pass over all batches accumulates Gbar directly.
#ifndef GISP_DATA_SEQUENCES_H_
#define GISP_DATA_SEQUENCES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gisp/model/batch.h"

namespace gisp {

// One calibration sequence. targets[t] is the label of position t (the next token), -1 where
// the loss ignores it.
struct LabelledSequence {
  std::vector<int32_t> tokens;
  std::vector<int32_t> targets;
  bool positive = true;  // margin objective: correct candidate (true) or incorrect (false)
};

// Builds targets for a causal LM: position t predicts tokens[t + 1] when t + 1 >= first_label.
LabelledSequence NextTokenSequence(std::vector<int32_t> tokens, size_t first_label = 1);

// What the calibration loss measures (method.md section 6). gisp's one C++ spelling of the
// objective: the record's proto enum and the C API's enum are converted to it at those
// boundaries.
enum class Objective { kLm, kAnswerOnly, kMargin };

// "lm", "answer-only", "margin": the names flags, messages and bindings use. Name: "" for a value
// outside the enum. Parse: InvalidArgument naming the accepted names and `name`.
const char* ObjectiveName(Objective objective);
absl::StatusOr<Objective> ParseObjective(absl::string_view name);

// Where calibration sequences came from. Each source other than kTokens fits one objective:
// text windows lm, QA JSONL answer-only, multiple-choice JSONL margin; kTokens (ids supplied
// by the caller) fits any.
enum class CalibrationSource { kTokens, kTextWindows, kQaJsonl, kMultipleChoiceJsonl };

// "tokens", "text-windows", "qa-jsonl", "multiple-choice-jsonl" (as stored in records).
const char* CalibrationSourceName(CalibrationSource source);

// OK when data from `source` can be calibrated under `objective`; otherwise InvalidArgument
// naming the source, the objective it needs and the one given.
absl::Status CheckObjectiveFits(CalibrationSource source, Objective objective);

struct CalibrationBatches {
  std::vector<Batch> batches;            // host tensors, weights set per the objective
  std::vector<int64_t> batch_sequences;  // sequences per batch
  std::vector<bool> batch_positive;      // margin: which batches hold correct candidates
  int64_t sequences = 0;
  int64_t positives = 0;
  int64_t negatives = 0;
  int64_t labelled_tokens = 0;
  std::string fingerprint;  // XXH3-128 of every batch (docs/formats.md), 32 hex digits
  // Where the sequences came from, copied into the record (informational).
  CalibrationSource source = CalibrationSource::kTokens;
  int64_t window_tokens = 0;
  uint64_t seed = 0;
};

// Groups sequences into batches of up to `batch_size` (margin: positives and negatives never
// share a batch; positives first), right-padded with token `pad_id` and target -1 (padding at
// the end never changes earlier positions of a causal model), and sets the loss weights.
// Errors: no sequences, a sequence without any labelled position, margin without a positive or
// without a negative, tokens/targets length mismatch.
absl::StatusOr<CalibrationBatches> MakeCalibrationBatches(
    const std::vector<LabelledSequence>& sequences, Objective objective, int64_t batch_size,
    int32_t pad_id = 0);

// The calibration loss reported per step: mean token cross-entropy weighted as the objective
// weights batches (sum_b bs_b * meanloss_b / sum_b bs_b), over positive batches only for margin.
double CalibrationLoss(const CalibrationBatches& data, const std::vector<double>& batch_mean_nll);

}  // namespace gisp

#endif  // GISP_DATA_SEQUENCES_H_
