// Calibration sources: text windows (the paper's C4 protocol), question/answer JSONL (answer-only
// loss) and multiple-choice JSONL (margin objective). Each returns labelled sequences for
// MakeCalibrationBatches. Errors name the file, the line and the field.
#ifndef GISP_DATA_CALIBRATION_SOURCES_H_
#define GISP_DATA_CALIBRATION_SOURCES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/data/sequences.h"
#include "gisp/io/tokenizer/tokenizer.h"

namespace gisp {

// The longest context + choice (or question + answer) gisp calibrates or evaluates on: one long
// line of a JSONL file must not size the activations (a 1 MB choice needed 7.7 GB). Callers also
// cap it at the model's max_position_embeddings.
inline constexpr int64_t kMaxExampleTokens = 2048;

// Random windows of `window_tokens` tokens, as the paper samples C4: `count` times, draw a
// document uniformly, tokenize it (with the tokenizer's BOS), redraw if it has no more than
// window_tokens tokens, then take a window at a uniform start. A `.jsonl` file holds one
// document per line in field "text" (or `text_field`); any other file is one document. The loss
// covers every next-token prediction inside the window.
struct TextWindowOptions {
  int64_t window_tokens = 256;
  int64_t count = 128;
  uint64_t seed = 0;
  std::string text_field = "text";
};
absl::StatusOr<std::vector<LabelledSequence>> TextWindows(const std::string& path,
                                                          const Tokenizer& tokenizer,
                                                          const TextWindowOptions& options);
// Same, from documents already in memory (`source` names them in errors).
absl::StatusOr<std::vector<LabelledSequence>> TextWindowsFromDocuments(
    const std::vector<std::string>& documents, const Tokenizer& tokenizer,
    const TextWindowOptions& options, const std::string& source);

// Question/answer pairs {"question": ..., "answer": ...} rendered as
// "Q: {question}\nA: {answer}"; only the answer's tokens carry loss (task-aligned calibration,
// e.g. GSM8K). `limit` > 0 keeps the first `limit` pairs.
struct QaOptions {
  std::string question_field = "question";
  std::string answer_field = "answer";
  std::string prefix = "Q: ";
  std::string separator = "\nA: ";
  int64_t limit = 0;
  int64_t max_tokens = kMaxExampleTokens;  // longer examples are an error naming the line
};
absl::StatusOr<std::vector<LabelledSequence>> QaPairs(const std::string& path,
                                                      const Tokenizer& tokenizer,
                                                      const QaOptions& options);

// Multiple-choice items {"context": ..., "choices": [...], "label": i}.
struct MultipleChoiceItem {
  std::string context;
  std::vector<std::string> choices;
  int32_t label = 0;
  std::string source;  // "<file> line <n>" for errors; empty for items built in code
};

absl::StatusOr<std::vector<MultipleChoiceItem>> ReadMultipleChoiceJsonl(const std::string& path,
                                                                        int64_t limit = 0);
// Every candidate (context + choice) of every item; loss on the choice's tokens; the correct
// candidate is positive, the others negative (margin objective). A candidate longer than
// `max_tokens` is an error naming the item.
absl::StatusOr<std::vector<LabelledSequence>> MultipleChoiceCandidates(
    const std::vector<MultipleChoiceItem>& items, const Tokenizer& tokenizer,
    int64_t max_tokens = kMaxExampleTokens);

}  // namespace gisp

#endif  // GISP_DATA_CALIBRATION_SOURCES_H_
