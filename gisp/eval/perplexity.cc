#include "gisp/eval/perplexity.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "gisp/base/call_context.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"

namespace gisp {

absl::StatusOr<PerplexityResult> EvaluatePerplexity(LlamaModel* model,
                                                    absl::Span<const int32_t> tokens,
                                                    const PerplexityOptions& options) {
  GISP_CHECK_ARG(options.chunk_len >= 2, "perplexity: chunk length must be at least 2, got ",
                 options.chunk_len);
  GISP_CHECK_ARG(options.batch_size >= 1, "perplexity: batch size must be at least 1, got ",
                 options.batch_size);
  const int64_t len = options.chunk_len;
  int64_t chunks = static_cast<int64_t>(tokens.size()) / len;
  if (options.max_chunks > 0) chunks = std::min(chunks, options.max_chunks);
  GISP_CHECK_ARG(chunks > 0, "perplexity: the evaluation text has ", tokens.size(),
                 " tokens, fewer than one chunk of ", len);
  GISP_CHECK_ARG(len <= model->config().max_position_embeddings, "perplexity: chunk length ", len,
                 " exceeds the model's ", model->config().max_position_embeddings, " positions");
  PerplexityResult result;
  double nll = 0;
  for (int64_t c0 = 0; c0 < chunks; c0 += options.batch_size) {
    GISP_RETURN_IF_ERROR(ReportProgress("perplexity evaluation", c0, chunks));
    const int64_t b = std::min(options.batch_size, chunks - c0);
    Batch batch;
    GISP_ASSIGN_OR_RETURN(batch.tokens, Tensor::Host({b, len}, DType::kI32));
    GISP_ASSIGN_OR_RETURN(batch.targets, Tensor::Host({b, len}, DType::kI32));
    for (int64_t i = 0; i < b; ++i) {
      const int32_t* src = tokens.data() + (c0 + i) * len;
      for (int64_t t = 0; t < len; ++t) {
        batch.tokens.i32()[i * len + t] = src[t];
        batch.targets.i32()[i * len + t] = t + 1 < len ? src[t + 1] : -1;
      }
    }
    GISP_ASSIGN_OR_RETURN(LossResult r, model->Forward(batch));
    nll += r.nll_sum;
    result.tokens += r.labelled;
    if (options.progress && !options.progress(c0 + b, chunks)) {
      return absl::CancelledError("perplexity evaluation cancelled");
    }
  }
  result.chunks = chunks;
  result.mean_nll = nll / static_cast<double>(result.tokens);
  result.perplexity = std::exp(result.mean_nll);
  return result;
}

absl::StatusOr<PerplexityResult> EvaluatePerplexityOnText(LlamaModel* model,
                                                          const Tokenizer& tokenizer,
                                                          const std::string& text_path,
                                                          const PerplexityOptions& options) {
  GISP_ASSIGN_OR_RETURN(std::string text, ReadFile(text_path));
  GISP_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tokenizer.Encode(text, true));
  auto result = EvaluatePerplexity(model, ids, options);
  if (!result.ok()) return Annotate(result.status(), text_path);
  return result;
}

}  // namespace gisp
