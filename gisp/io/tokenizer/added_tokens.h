// HF added tokens (special tokens such as <|eot_id|> and user-added words): the input is split
// on them before any normalization or pre-tokenization, with the flags of tokenizers'
// AddedVocabulary: leftmost-longest matching, `single_word` (no word character on either side),
// `lstrip` / `rstrip` (the token swallows the whitespace on that side).
#ifndef GISP_IO_TOKENIZER_ADDED_TOKENS_H_
#define GISP_IO_TOKENIZER_ADDED_TOKENS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace gisp {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  // Matched against the normalized text (after the normalizer) instead of the raw input.
  bool normalized = false;
};

// Finds one set of added tokens in text.
class AddedTokenMatcher {
 public:
  struct Piece {
    size_t begin, end;  // byte range in the text
    int32_t id;         // the added token's id, or -1 for text between tokens
  };

  AddedTokenMatcher() = default;
  // `patterns[i]` is what to look for for `tokens[i]` (its content, normalized for normalized
  // tokens). Empty patterns are ignored.
  AddedTokenMatcher(std::vector<AddedToken> tokens, std::vector<std::string> patterns);

  bool empty() const { return entries_.empty(); }

  // Splits `text` into pieces that cover it in order; a text without matches is one piece
  // (none for an empty text).
  std::vector<Piece> Split(absl::string_view text) const;

 private:
  struct Entry {
    std::string pattern;
    AddedToken token;
  };
  std::vector<Entry> entries_;  // longest pattern first
  bool first_byte_[256] = {};
};

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_ADDED_TOKENS_H_
