// Greedy generation with the KV cache, and exact-match scoring (GSM8K style: a hit when the
// gold answer appears in the generated text).
#ifndef GISP_EVAL_GENERATION_H_
#define GISP_EVAL_GENERATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/io/tokenizer/tokenizer.h"
#include "gisp/model/llama_model.h"

namespace gisp {

struct GenerationOptions {
  int64_t max_new_tokens = 256;
  std::vector<std::string> stop;  // stop when the generated text contains any of these
};

struct Generation {
  std::vector<int32_t> ids;  // generated ids (without the prompt)
  std::string text;          // decoded, cut before the first stop string
};

absl::StatusOr<Generation> GenerateGreedy(LlamaModel* model, const Tokenizer& tokenizer,
                                          const std::string& prompt,
                                          const GenerationOptions& options);

// GSM8K gold answers end with "#### <answer>"; returns the answer ("" if absent).
std::string ExtractGsm8kAnswer(const std::string& solution);
// Strips thousands separators and a trailing ".0"/".00" from numbers: "1,234.0" -> "1234".
std::string NormalizeNumber(const std::string& s);
// True when the normalized gold answer appears in the normalized generated text.
bool ExactMatch(const std::string& generated, const std::string& gold);

}  // namespace gisp

#endif  // GISP_EVAL_GENERATION_H_
