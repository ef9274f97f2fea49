// Evaluation entry points.
#include "absl/strings/str_cat.h"
#include "c_api/internal.h"
#include "gisp/base/status.h"
#include "gisp/data/calibration_sources.h"
#include "gisp/eval/multiple_choice.h"
#include "gisp/eval/perplexity.h"

using gisp::capi::Guard;

extern "C" {

gisp_status* gisp_eval_perplexity(gisp_model* model, const char* text_path, int64_t chunk_tokens,
                                  int64_t max_chunks, double* perplexity, int64_t* tokens) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(text_path);
  GISP_C_REQUIRE(perplexity);
  return Guard(__func__, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(const gisp::Tokenizer* tok, gisp::capi::GetTokenizer(model));
    gisp::PerplexityOptions options;
    if (chunk_tokens > 0) options.chunk_len = chunk_tokens;
    options.max_chunks = max_chunks;
    GISP_ASSIGN_OR_RETURN(
        gisp::PerplexityResult r,
        gisp::EvaluatePerplexityOnText(model->model.get(), *tok, text_path, options));
    *perplexity = r.perplexity;
    if (tokens != nullptr) *tokens = r.tokens;
    return absl::OkStatus();
  });
}

gisp_status* gisp_eval_multiple_choice(gisp_model* model, const char* jsonl_path, int64_t limit,
                                       double* acc, double* acc_norm) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(jsonl_path);
  GISP_C_REQUIRE(acc);
  return Guard(__func__, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(const gisp::Tokenizer* tok, gisp::capi::GetTokenizer(model));
    GISP_ASSIGN_OR_RETURN(std::vector<gisp::MultipleChoiceItem> items,
                          gisp::ReadMultipleChoiceJsonl(jsonl_path, limit));
    GISP_ASSIGN_OR_RETURN(gisp::MultipleChoiceResult r,
                          gisp::EvaluateMultipleChoice(model->model.get(), *tok, items));
    *acc = r.acc;
    if (acc_norm != nullptr) *acc_norm = r.acc_norm;
    return absl::OkStatus();
  });
}

}  // extern "C"
