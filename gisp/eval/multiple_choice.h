// Zero-shot multiple choice as lm-evaluation-harness computes it: the log-likelihood of each
// continuation given the context is the sum of the log-probabilities of its tokens (tokenized
// with EncodePair, so token boundaries match lm-eval's); `acc` takes the argmax, `acc_norm` the
// argmax of log-likelihood divided by the continuation's UTF-8 byte length.
#ifndef GISP_EVAL_MULTIPLE_CHOICE_H_
#define GISP_EVAL_MULTIPLE_CHOICE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/data/calibration_sources.h"
#include "gisp/io/tokenizer/tokenizer.h"
#include "gisp/model/llama_model.h"

namespace gisp {

struct MultipleChoiceResult {
  double acc = 0;
  double acc_norm = 0;
  std::vector<int32_t> predictions;       // argmax loglik per item
  std::vector<int32_t> norm_predictions;  // argmax loglik / bytes per item
  std::vector<std::vector<double>> logliks;
};

absl::StatusOr<MultipleChoiceResult> EvaluateMultipleChoice(
    LlamaModel* model, const Tokenizer& tokenizer, const std::vector<MultipleChoiceItem>& items);

}  // namespace gisp

#endif  // GISP_EVAL_MULTIPLE_CHOICE_H_
