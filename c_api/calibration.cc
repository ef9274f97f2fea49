// Calibration sources.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "c_api/internal.h"
#include "gisp/base/status.h"
#include "gisp/data/calibration_sources.h"

using gisp::capi::Guard;

namespace {

// The longest example calibration takes: gisp's limit, or the model's positions when fewer.
int64_t MaxExampleTokens(const gisp_model* model) {
  return std::min<int64_t>(gisp::kMaxExampleTokens, model->host_config.max_position_embeddings);
}

// The pad id: the tokenizer's EOS when it has one (any valid id works: padding sits after the
// labelled tokens of a causal model), else 0.
int32_t PadId(const gisp::Tokenizer* tok) { return tok->eos_id() >= 0 ? tok->eos_id() : 0; }

// What caller-provided ids are checked against; 0 means unchecked (the model-less entry point).
struct TokenLimits {
  const char* function = "";
  int64_t vocab = 0;
  int64_t positions = 0;
};

// Copies caller-provided sequences into a new calibration set, checking every id and length
// against `limits` as it goes: errors name the sequence and the position.
absl::Status FromTokens(size_t num_sequences, const int32_t* const* tokens, const size_t* lengths,
                        const uint8_t* const* label_masks, const uint8_t* positive,
                        const TokenLimits& limits, gisp_calibration** out) {
  if (num_sequences == 0)
    return absl::InvalidArgumentError(absl::StrCat(limits.function, ": no sequences"));
  auto data = std::make_unique<gisp_calibration>();
  data->sequences.reserve(num_sequences);
  for (size_t i = 0; i < num_sequences; ++i) {
    GISP_RETURN_IF_ERROR(gisp::CheckCancelled(limits.function));
    if (tokens[i] == nullptr && lengths[i] > 0) {
      return absl::InvalidArgumentError(absl::StrCat(limits.function, ": tokens[", i, "] is NULL"));
    }
    if (limits.positions > 0 && lengths[i] > static_cast<size_t>(limits.positions)) {
      return absl::InvalidArgumentError(absl::StrCat(
          limits.function, ": sequence ", i, " has ", lengths[i],
          " tokens, more than the model's max_position_embeddings (", limits.positions, ")"));
    }
    std::vector<int32_t> ids(tokens[i], tokens[i] + lengths[i]);
    for (size_t t = 0; t < ids.size(); ++t) {
      if (ids[t] < 0 || (limits.vocab > 0 && ids[t] >= limits.vocab)) {
        return absl::InvalidArgumentError(absl::StrCat(
            limits.function, ": token ", ids[t], " at sequence ", i, " position ", t,
            limits.vocab > 0
                ? absl::StrCat(" is outside the model's ", limits.vocab, "-token vocabulary")
                : std::string(" is negative")));
      }
    }
    gisp::LabelledSequence s;
    s.targets.assign(ids.size(), -1);
    for (size_t t = 1; t < ids.size(); ++t) {
      const bool labelled =
          label_masks == nullptr || label_masks[i] == nullptr || label_masks[i][t] != 0;
      if (labelled) s.targets[t - 1] = ids[t];
    }
    s.tokens = std::move(ids);
    s.positive = positive == nullptr || positive[i] != 0;
    data->sequences.push_back(std::move(s));
  }
  data->source = gisp::CalibrationSource::kTokens;
  *out = data.release();
  return absl::OkStatus();
}

}  // namespace

extern "C" {

gisp_status* gisp_calibration_text_windows(gisp_model* model, const char* path,
                                           int64_t window_tokens, int64_t count, uint64_t seed,
                                           gisp_calibration** out) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(path);
  GISP_C_REQUIRE(out);
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
    const int64_t positions = model->host_config.max_position_embeddings;
    if (window_tokens > positions) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gisp_calibration_text_windows: windows of ", window_tokens,
          " tokens are longer than the model's max_position_embeddings (", positions, ")"));
    }
    GISP_ASSIGN_OR_RETURN(const gisp::Tokenizer* tok, gisp::capi::GetTokenizer(model));
    gisp::TextWindowOptions options;
    options.window_tokens = window_tokens;
    options.count = count;
    options.seed = seed;
    auto data = std::make_unique<gisp_calibration>();
    GISP_ASSIGN_OR_RETURN(data->sequences, gisp::TextWindows(path, *tok, options));
    data->source = gisp::CalibrationSource::kTextWindows;
    data->window_tokens = window_tokens;
    data->seed = seed;
    data->pad_id = PadId(tok);
    *out = data.release();
    return absl::OkStatus();
  });
}

gisp_status* gisp_calibration_qa_jsonl(gisp_model* model, const char* path, int64_t limit,
                                       gisp_calibration** out) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(path);
  GISP_C_REQUIRE(out);
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(const gisp::Tokenizer* tok, gisp::capi::GetTokenizer(model));
    gisp::QaOptions options;
    options.limit = limit;
    options.max_tokens = MaxExampleTokens(model);
    auto data = std::make_unique<gisp_calibration>();
    GISP_ASSIGN_OR_RETURN(data->sequences, gisp::QaPairs(path, *tok, options));
    data->source = gisp::CalibrationSource::kQaJsonl;
    data->pad_id = PadId(tok);
    *out = data.release();
    return absl::OkStatus();
  });
}

gisp_status* gisp_calibration_multiple_choice_jsonl(gisp_model* model, const char* path,
                                                    int64_t limit, gisp_calibration** out) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(path);
  GISP_C_REQUIRE(out);
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(const gisp::Tokenizer* tok, gisp::capi::GetTokenizer(model));
    GISP_ASSIGN_OR_RETURN(std::vector<gisp::MultipleChoiceItem> items,
                          gisp::ReadMultipleChoiceJsonl(path, limit));
    auto data = std::make_unique<gisp_calibration>();
    GISP_ASSIGN_OR_RETURN(data->sequences,
                          gisp::MultipleChoiceCandidates(items, *tok, MaxExampleTokens(model)));
    data->source = gisp::CalibrationSource::kMultipleChoiceJsonl;
    data->pad_id = PadId(tok);
    *out = data.release();
    return absl::OkStatus();
  });
}

gisp_status* gisp_calibration_from_tokens(size_t num_sequences, const int32_t* const* tokens,
                                          const size_t* lengths, const uint8_t* const* label_masks,
                                          const uint8_t* positive, gisp_calibration** out) {
  GISP_C_REQUIRE(out);
  if (num_sequences > 0) {
    GISP_C_REQUIRE(tokens);
    GISP_C_REQUIRE(lengths);
  }
  return Guard(__func__, [&]() -> absl::Status {
    TokenLimits limits;
    limits.function = "gisp_calibration_from_tokens";
    return FromTokens(num_sequences, tokens, lengths, label_masks, positive, limits, out);
  });
}

gisp_status* gisp_calibration_from_model_tokens(gisp_model* model, size_t num_sequences,
                                                const int32_t* const* tokens, const size_t* lengths,
                                                const uint8_t* const* label_masks,
                                                const uint8_t* positive, gisp_calibration** out) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(out);
  if (num_sequences > 0) {
    GISP_C_REQUIRE(tokens);
    GISP_C_REQUIRE(lengths);
  }
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
    TokenLimits limits;
    limits.function = "gisp_calibration_from_model_tokens";
    limits.vocab = model->host_config.vocab_size;
    limits.positions = model->host_config.max_position_embeddings;
    return FromTokens(num_sequences, tokens, lengths, label_masks, positive, limits, out);
  });
}

size_t gisp_calibration_num_sequences(const gisp_calibration* data) {
  return data == nullptr ? 0 : data->sequences.size();
}

void gisp_calibration_free(gisp_calibration* data) { delete data; }

}  // extern "C"
