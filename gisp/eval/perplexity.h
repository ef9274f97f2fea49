// Perplexity with the paper's protocol (method.md section 8): the evaluation text tokenized
// once, cut into non-overlapping chunks of `chunk_len` tokens (a shorter tail is dropped), each
// chunk scored on its own (positions 1..chunk_len-1 predicted from the chunk's own prefix, as
// HF's labels=input_ids does), PPL = exp(total NLL / predicted tokens).
#ifndef GISP_EVAL_PERPLEXITY_H_
#define GISP_EVAL_PERPLEXITY_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gisp/io/tokenizer/tokenizer.h"
#include "gisp/model/llama_model.h"

namespace gisp {

struct PerplexityOptions {
  int64_t chunk_len = 128;
  int64_t batch_size = 8;  // chunks per forward pass
  int64_t max_chunks = 0;  // 0: all
  // (chunks done, total); return false to cancel (Cancelled status).
  std::function<bool(int64_t, int64_t)> progress;
};

struct PerplexityResult {
  double perplexity = 0;
  double mean_nll = 0;
  int64_t tokens = 0;  // predicted tokens
  int64_t chunks = 0;
};

absl::StatusOr<PerplexityResult> EvaluatePerplexity(LlamaModel* model,
                                                    absl::Span<const int32_t> tokens,
                                                    const PerplexityOptions& options);

// Reads `text_path`, tokenizes it once with the tokenizer's special tokens (BOS), evaluates.
absl::StatusOr<PerplexityResult> EvaluatePerplexityOnText(LlamaModel* model,
                                                          const Tokenizer& tokenizer,
                                                          const std::string& text_path,
                                                          const PerplexityOptions& options);

}  // namespace gisp

#endif  // GISP_EVAL_PERPLEXITY_H_
