#include "gisp/data/calibration_sources.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gisp/base/call_context.h"
#include "gisp/base/file.h"
#include "gisp/base/random.h"
#include "gisp/base/status.h"
#include "gisp/data/encode_pair.h"
#include "gisp/data/jsonl.h"

namespace gisp {

absl::StatusOr<std::vector<LabelledSequence>> TextWindowsFromDocuments(
    const std::vector<std::string>& documents, const Tokenizer& tokenizer,
    const TextWindowOptions& options, const std::string& source) {
  GISP_CHECK_ARG(options.window_tokens >= 2,
                 "calibration: window length must be at least 2 "
                 "tokens, got ",
                 options.window_tokens);
  GISP_CHECK_ARG(options.count > 0, "calibration: window count must be positive, got ",
                 options.count);
  GISP_CHECK_ARG(!documents.empty(), source, ": no documents");
  Rng rng(options.seed);
  std::map<uint64_t, std::vector<int32_t>> cache;  // tokenized documents
  std::vector<LabelledSequence> out;
  // Redraws are bounded so a corpus of short documents fails with a message, not a hang.
  const int64_t max_draws = 100 * options.count + 1000;
  int64_t draws = 0;
  size_t longest = 0;
  while (static_cast<int64_t>(out.size()) < options.count) {
    if (++draws > max_draws) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": calibration data too short: windows of ", options.window_tokens,
          " tokens need documents longer than that, the longest seen has ", longest, " tokens"));
    }
    GISP_RETURN_IF_ERROR(ReportProgress("building calibration windows",
                                        static_cast<int64_t>(out.size()), options.count));
    const uint64_t d = rng.Uniform(documents.size());
    auto it = cache.find(d);
    if (it == cache.end()) {
      GISP_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tokenizer.Encode(documents[d], true));
      it = cache.emplace(d, std::move(ids)).first;
    }
    const std::vector<int32_t>& ids = it->second;
    longest = std::max(longest, ids.size());
    if (static_cast<int64_t>(ids.size()) <= options.window_tokens) continue;
    const uint64_t start = rng.Uniform(ids.size() - static_cast<size_t>(options.window_tokens));
    std::vector<int32_t> window(
        ids.begin() + static_cast<std::ptrdiff_t>(start),
        ids.begin() + static_cast<std::ptrdiff_t>(start) + options.window_tokens);
    out.push_back(NextTokenSequence(std::move(window)));
  }
  return out;
}

absl::StatusOr<std::vector<LabelledSequence>> TextWindows(const std::string& path,
                                                          const Tokenizer& tokenizer,
                                                          const TextWindowOptions& options) {
  std::vector<std::string> docs;
  if (absl::EndsWith(path, ".jsonl")) {
    GISP_RETURN_IF_ERROR(ReadJsonl(path, [&](const Json& obj, int64_t line) -> absl::Status {
      GISP_ASSIGN_OR_RETURN(std::string text, JsonGetString(obj, options.text_field,
                                                            absl::StrCat(path, " line ", line)));
      if (!text.empty()) docs.push_back(std::move(text));
      return absl::OkStatus();
    }));
  } else {
    GISP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    if (!text.empty()) docs.push_back(std::move(text));
  }
  if (docs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": calibration data is empty"));
  }
  return TextWindowsFromDocuments(docs, tokenizer, options, path);
}

absl::StatusOr<std::vector<LabelledSequence>> QaPairs(const std::string& path,
                                                      const Tokenizer& tokenizer,
                                                      const QaOptions& options) {
  std::vector<LabelledSequence> out;
  GISP_RETURN_IF_ERROR(ReadJsonl(path, [&](const Json& obj, int64_t line) -> absl::Status {
    if (options.limit > 0 && static_cast<int64_t>(out.size()) >= options.limit) {
      return absl::OkStatus();
    }
    const std::string where = absl::StrCat(path, " line ", line);
    GISP_RETURN_IF_ERROR(CheckCancelled(where));
    GISP_ASSIGN_OR_RETURN(std::string q, JsonGetString(obj, options.question_field, where));
    GISP_ASSIGN_OR_RETURN(std::string a, JsonGetString(obj, options.answer_field, where));
    if (a.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": field \"", options.answer_field, "\" is empty"));
    }
    auto pair = EncodePair(tokenizer, absl::StrCat(options.prefix, q, options.separator), a);
    if (!pair.ok()) return Annotate(pair.status(), where);
    std::vector<int32_t> tokens = pair->context;
    tokens.insert(tokens.end(), pair->continuation.begin(), pair->continuation.end());
    if (static_cast<int64_t>(tokens.size()) > options.max_tokens) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": example has ", tokens.size(),
                                                     " tokens, more than the limit of ",
                                                     options.max_tokens));
    }
    out.push_back(NextTokenSequence(std::move(tokens), pair->context.size()));
    return absl::OkStatus();
  }));
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no question/answer pairs"));
  }
  return out;
}

absl::StatusOr<std::vector<MultipleChoiceItem>> ReadMultipleChoiceJsonl(const std::string& path,
                                                                        int64_t limit) {
  std::vector<MultipleChoiceItem> items;
  GISP_RETURN_IF_ERROR(ReadJsonl(path, [&](const Json& obj, int64_t line) -> absl::Status {
    if (limit > 0 && static_cast<int64_t>(items.size()) >= limit) return absl::OkStatus();
    const std::string where = absl::StrCat(path, " line ", line);
    MultipleChoiceItem item;
    item.source = where;
    GISP_ASSIGN_OR_RETURN(item.context, JsonGetString(obj, "context", where));
    const Json* choices = obj.Find("choices");
    if (choices == nullptr || !choices->is_array() || choices->array().size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": field \"choices\" must be an array of at least 2 strings"));
    }
    for (const Json& c : choices->array()) {
      if (!c.is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": field \"choices\" must hold strings, got ", c.Dump()));
      }
      item.choices.push_back(c.string_value());
    }
    GISP_ASSIGN_OR_RETURN(int64_t label, JsonGetInt(obj, "label", where));
    if (label < 0 || label >= static_cast<int64_t>(item.choices.size())) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": field \"label\" is ", label,
                                                     ", outside the ", item.choices.size(),
                                                     " choices"));
    }
    item.label = static_cast<int32_t>(label);
    items.push_back(std::move(item));
    return absl::OkStatus();
  }));
  if (items.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no multiple-choice items"));
  }
  return items;
}

absl::StatusOr<std::vector<LabelledSequence>> MultipleChoiceCandidates(
    const std::vector<MultipleChoiceItem>& items, const Tokenizer& tokenizer, int64_t max_tokens) {
  std::vector<LabelledSequence> out;
  for (size_t i = 0; i < items.size(); ++i) {
    GISP_RETURN_IF_ERROR(ReportProgress("building multiple-choice candidates",
                                        static_cast<int64_t>(i),
                                        static_cast<int64_t>(items.size())));
    const std::string where =
        items[i].source.empty() ? absl::StrCat("multiple-choice item ", i) : items[i].source;
    for (size_t c = 0; c < items[i].choices.size(); ++c) {
      auto pair = EncodePair(tokenizer, items[i].context, items[i].choices[c]);
      if (!pair.ok()) return Annotate(pair.status(), absl::StrCat(where, " choice ", c));
      std::vector<int32_t> tokens = pair->context;
      tokens.insert(tokens.end(), pair->continuation.begin(), pair->continuation.end());
      if (static_cast<int64_t>(tokens.size()) > max_tokens) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": context + choice ", c, " has ", tokens.size(),
                         " tokens, more than the limit of ", max_tokens));
      }
      LabelledSequence s = NextTokenSequence(std::move(tokens), pair->context.size());
      s.positive = static_cast<int32_t>(c) == items[i].label;
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace gisp
