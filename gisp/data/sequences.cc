#include "gisp/data/sequences.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gisp/base/enum_names.h"
#include "gisp/base/hash.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

constexpr EnumName<Objective> kObjectiveNames[] = {{Objective::kLm, "lm"},
                                                   {Objective::kAnswerOnly, "answer-only"},
                                                   {Objective::kMargin, "margin"}};

constexpr EnumName<CalibrationSource> kSourceNames[] = {
    {CalibrationSource::kTokens, "tokens"},
    {CalibrationSource::kTextWindows, "text-windows"},
    {CalibrationSource::kQaJsonl, "qa-jsonl"},
    {CalibrationSource::kMultipleChoiceJsonl, "multiple-choice-jsonl"}};

}  // namespace

const char* ObjectiveName(Objective objective) { return NameOf(kObjectiveNames, objective); }

absl::StatusOr<Objective> ParseObjective(absl::string_view name) {
  return ParseName(kObjectiveNames, "objective", name);
}

const char* CalibrationSourceName(CalibrationSource source) { return NameOf(kSourceNames, source); }

absl::Status CheckObjectiveFits(CalibrationSource source, Objective objective) {
  Objective wanted;
  switch (source) {
    case CalibrationSource::kTextWindows:
      wanted = Objective::kLm;
      break;
    case CalibrationSource::kQaJsonl:
      wanted = Objective::kAnswerOnly;
      break;
    case CalibrationSource::kMultipleChoiceJsonl:
      wanted = Objective::kMargin;
      break;
    default:  // caller-supplied tokens fit any objective
      return absl::OkStatus();
  }
  if (objective == wanted) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("calibration from ", CalibrationSourceName(source), " needs objective ",
                   ObjectiveName(wanted), ", the configuration has ", ObjectiveName(objective)));
}

LabelledSequence NextTokenSequence(std::vector<int32_t> tokens, size_t first_label) {
  LabelledSequence s;
  s.targets.assign(tokens.size(), -1);
  for (size_t t = 0; t + 1 < tokens.size(); ++t) {
    if (t + 1 >= first_label) s.targets[t] = tokens[t + 1];
  }
  s.tokens = std::move(tokens);
  return s;
}

absl::StatusOr<CalibrationBatches> MakeCalibrationBatches(
    const std::vector<LabelledSequence>& sequences, Objective objective, int64_t batch_size,
    int32_t pad_id) {
  GISP_CHECK_ARG(batch_size > 0, "calibration: batch size must be positive, got ", batch_size);
  GISP_CHECK_ARG(!sequences.empty(), "calibration: no calibration sequences");
  CalibrationBatches out;
  std::vector<const LabelledSequence*> pos, neg;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const LabelledSequence& s = sequences[i];
    GISP_CHECK_ARG(s.tokens.size() == s.targets.size(), "calibration: sequence ", i, " has ",
                   s.tokens.size(), " tokens but ", s.targets.size(), " targets");
    GISP_CHECK_ARG(!s.tokens.empty(), "calibration: sequence ", i, " is empty");
    const bool labelled =
        std::any_of(s.targets.begin(), s.targets.end(), [](int32_t t) { return t >= 0; });
    GISP_CHECK_ARG(labelled, "calibration: sequence ", i,
                   " has no labelled position (too short, or an empty answer)");
    (objective != Objective::kMargin || s.positive ? pos : neg).push_back(&s);
  }
  if (objective == Objective::kMargin) {
    GISP_CHECK_ARG(!pos.empty() && !neg.empty(),
                   "calibration: the margin objective needs correct and incorrect candidates, got ",
                   pos.size(), " correct and ", neg.size(), " incorrect");
  }
  out.sequences = static_cast<int64_t>(sequences.size());
  out.positives = static_cast<int64_t>(pos.size());
  out.negatives = static_cast<int64_t>(neg.size());

  // docs/formats.md, "Fingerprints": the tag, then per batch its shape and its three tensors.
  Fingerprint fp;
  fp.UpdateString("gisp.calibration.v2");
  auto emit = [&](const std::vector<const LabelledSequence*>& group, double sign,
                  int64_t group_size) -> absl::Status {
    for (size_t b0 = 0; b0 < group.size(); b0 += static_cast<size_t>(batch_size)) {
      const size_t b1 = std::min(group.size(), b0 + static_cast<size_t>(batch_size));
      const int64_t bs = static_cast<int64_t>(b1 - b0);
      size_t len = 0;
      int64_t labelled = 0;
      for (size_t i = b0; i < b1; ++i) {
        len = std::max(len, group[i]->tokens.size());
        for (int32_t t : group[i]->targets) labelled += t >= 0;
      }
      Batch batch;
      GISP_ASSIGN_OR_RETURN(batch.tokens,
                            Tensor::Host({bs, static_cast<int64_t>(len)}, DType::kI32));
      GISP_ASSIGN_OR_RETURN(batch.targets,
                            Tensor::Host({bs, static_cast<int64_t>(len)}, DType::kI32));
      GISP_ASSIGN_OR_RETURN(batch.weights, Tensor::Host({bs, static_cast<int64_t>(len)}));
      const float w = static_cast<float>(sign * static_cast<double>(bs) /
                                         (static_cast<double>(group_size) * labelled));
      for (size_t i = b0; i < b1; ++i) {
        const LabelledSequence& s = *group[i];
        int32_t* tok = batch.tokens.i32() + (i - b0) * len;
        int32_t* tgt = batch.targets.i32() + (i - b0) * len;
        float* wt = batch.weights.f32() + (i - b0) * len;
        for (size_t t = 0; t < len; ++t) {
          const bool real = t < s.tokens.size();
          tok[t] = real ? s.tokens[t] : pad_id;
          tgt[t] = real ? s.targets[t] : -1;
          wt[t] = tgt[t] >= 0 ? w : 0.0f;
        }
      }
      fp.UpdateInt(bs);
      fp.UpdateInt(static_cast<int64_t>(len));
      fp.Update(batch.tokens.raw(), batch.tokens.bytes());
      fp.Update(batch.targets.raw(), batch.targets.bytes());
      fp.Update(batch.weights.raw(), batch.weights.bytes());
      out.labelled_tokens += labelled;
      out.batches.push_back(std::move(batch));
      out.batch_sequences.push_back(bs);
      out.batch_positive.push_back(sign > 0);
    }
    return absl::OkStatus();
  };
  GISP_RETURN_IF_ERROR(emit(pos, 1.0, static_cast<int64_t>(pos.size())));
  GISP_RETURN_IF_ERROR(emit(neg, -1.0, static_cast<int64_t>(neg.size())));
  out.fingerprint = fp.Hex();
  return out;
}

double CalibrationLoss(const CalibrationBatches& data, const std::vector<double>& batch_mean_nll) {
  double num = 0, den = 0;
  for (size_t b = 0; b < data.batches.size() && b < batch_mean_nll.size(); ++b) {
    if (!data.batch_positive[b]) continue;
    num += static_cast<double>(data.batch_sequences[b]) * batch_mean_nll[b];
    den += static_cast<double>(data.batch_sequences[b]);
  }
  return den > 0 ? num / den : 0.0;
}

}  // namespace gisp
