// Evaluation entry points.
#include <cstring>

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
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
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
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
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

gisp_status* gisp_model_logits(gisp_model* model, const int32_t* ids, size_t count, float* logits,
                               size_t capacity) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(ids);
  GISP_C_REQUIRE(logits);
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
    const int64_t vocab = model->host_config.vocab_size;
    const int64_t t = static_cast<int64_t>(count);
    if (count == 0) return absl::InvalidArgumentError("gisp_model_logits: no tokens");
    if (capacity < count * static_cast<size_t>(vocab)) {
      return absl::InvalidArgumentError(
          absl::StrCat("gisp_model_logits: capacity ", capacity, " < count * vocab = ", t * vocab));
    }
    for (size_t i = 0; i < count; ++i) {
      if (ids[i] < 0 || ids[i] >= vocab) {
        return absl::InvalidArgumentError(absl::StrCat("gisp_model_logits: token ", ids[i],
                                                       " at position ", i, " is outside the ",
                                                       vocab, "-token vocabulary"));
      }
    }
    gisp::Batch batch;
    GISP_ASSIGN_OR_RETURN(batch.tokens, gisp::Tensor::Host({1, t}, gisp::DType::kI32));
    GISP_ASSIGN_OR_RETURN(batch.targets, gisp::Tensor::Host({1, t}, gisp::DType::kI32));
    for (int64_t i = 0; i < t; ++i) {
      batch.tokens.i32()[i] = ids[i];
      batch.targets.i32()[i] = i + 1 < t ? ids[i + 1] : -1;  // any labels: only logits are used
    }
    gisp::Tensor out;
    GISP_RETURN_IF_ERROR(model->model->Forward(batch, nullptr, &out).status());
    std::memcpy(logits, out.raw(), static_cast<size_t>(t * vocab) * sizeof(float));
    return absl::OkStatus();
  });
}

}  // extern "C"
