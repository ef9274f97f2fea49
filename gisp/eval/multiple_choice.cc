#include "gisp/eval/multiple_choice.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gisp/base/call_context.h"
#include "gisp/base/status.h"
#include "gisp/data/encode_pair.h"

namespace gisp {

absl::StatusOr<MultipleChoiceResult> EvaluateMultipleChoice(
    LlamaModel* model, const Tokenizer& tokenizer, const std::vector<MultipleChoiceItem>& items) {
  GISP_CHECK_ARG(!items.empty(), "multiple choice: no items");
  // One batch per item sizes the logits by its longest candidate: bounded like calibration.
  const size_t max_tokens = static_cast<size_t>(
      std::min<int64_t>(kMaxExampleTokens, model->config().max_position_embeddings));
  MultipleChoiceResult result;
  int64_t correct = 0, correct_norm = 0;
  for (size_t q = 0; q < items.size(); ++q) {
    GISP_RETURN_IF_ERROR(ReportProgress("multiple-choice evaluation", static_cast<int64_t>(q),
                                        static_cast<int64_t>(items.size())));
    const MultipleChoiceItem& item = items[q];
    GISP_CHECK_ARG(!item.choices.empty(), "multiple choice: item ", q, " has no choices");
    GISP_CHECK_ARG(item.label >= 0 && item.label < static_cast<int32_t>(item.choices.size()),
                   "multiple choice: item ", q, " label ", item.label, " outside the ",
                   item.choices.size(), " choices");
    // All candidates of a question in one right-padded batch (causal: padding after a
    // candidate never changes its scores).
    std::vector<EncodedPair> pairs;
    size_t len = 0;
    for (const std::string& choice : item.choices) {
      auto pair = EncodePair(tokenizer, item.context, choice);
      const std::string where =
          item.source.empty() ? absl::StrCat("multiple-choice item ", q) : item.source;
      if (!pair.ok()) return Annotate(pair.status(), where);
      const size_t n = pair->context.size() + pair->continuation.size();
      if (n > max_tokens) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": context + choice ", pairs.size(), " has ", n,
                         " tokens, more than the limit of ", max_tokens,
                         " (2048, or the model's max_position_embeddings when smaller)"));
      }
      len = std::max(len, n);
      pairs.push_back(std::move(pair).value());
    }
    const int64_t b = static_cast<int64_t>(pairs.size());
    Batch batch;
    GISP_ASSIGN_OR_RETURN(batch.tokens, Tensor::Host({b, static_cast<int64_t>(len)}, DType::kI32));
    GISP_ASSIGN_OR_RETURN(batch.targets, Tensor::Host({b, static_cast<int64_t>(len)}, DType::kI32));
    for (int64_t i = 0; i < b; ++i) {
      std::vector<int32_t> seq = pairs[i].context;
      seq.insert(seq.end(), pairs[i].continuation.begin(), pairs[i].continuation.end());
      for (size_t t = 0; t < len; ++t) {
        batch.tokens.i32()[i * len + t] = t < seq.size() ? seq[t] : 0;
        // Only the continuation's tokens are scored.
        const bool scored = t + 1 < seq.size() && t + 1 >= pairs[i].context.size();
        batch.targets.i32()[i * len + t] = scored ? seq[t + 1] : -1;
      }
    }
    Tensor nll;
    GISP_RETURN_IF_ERROR(model->Forward(batch, &nll).status());
    std::vector<double> ll(static_cast<size_t>(b), 0.0);
    for (int64_t i = 0; i < b; ++i) {
      for (size_t t = 0; t < len; ++t) {
        if (batch.targets.i32()[i * len + t] >= 0) ll[i] -= nll.f32()[i * len + t];
      }
    }
    int32_t best = 0, best_norm = 0;
    for (int32_t i = 1; i < b; ++i) {
      if (ll[i] > ll[best]) best = i;
      const double a = ll[i] / static_cast<double>(item.choices[i].size());
      const double c = ll[best_norm] / static_cast<double>(item.choices[best_norm].size());
      if (a > c) best_norm = i;
    }
    correct += best == item.label;
    correct_norm += best_norm == item.label;
    result.predictions.push_back(best);
    result.norm_predictions.push_back(best_norm);
    result.logliks.push_back(std::move(ll));
  }
  result.acc = static_cast<double>(correct) / static_cast<double>(items.size());
  result.acc_norm = static_cast<double>(correct_norm) / static_cast<double>(items.size());
  return result;
}

}  // namespace gisp
