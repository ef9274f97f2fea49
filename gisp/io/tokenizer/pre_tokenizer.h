// The split patterns of byte-level BPE tokenizers, matched by hand: no regex library here
// handles \p{L}/\p{N} and the `\s+(?!\S)` lookahead. Each supported pattern is recognized from
// its regex string in tokenizer.json; the matchers follow regex alternation semantics (the first
// alternative that matches at a position wins, quantifiers greedy with backtracking).
#ifndef GISP_IO_TOKENIZER_PRE_TOKENIZER_H_
#define GISP_IO_TOKENIZER_PRE_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace gisp {

enum class SplitPattern { kGpt2, kLlama3, kQwen2 };

// The pattern whose regex string is `regex`, or Unimplemented naming the regex.
absl::StatusOr<SplitPattern> RecognizeSplitPattern(const std::string& regex);
// The GPT-2 pattern's regex (ByteLevel pre-tokenizer with use_regex = true).
const std::string& Gpt2Regex();

// [begin, end) code point spans covering `cps` in order.
std::vector<std::pair<size_t, size_t>> SplitWords(const std::vector<uint32_t>& cps,
                                                  SplitPattern pattern);

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_PRE_TOKENIZER_H_
