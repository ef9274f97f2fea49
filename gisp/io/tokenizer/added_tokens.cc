#include "gisp/io/tokenizer/added_tokens.h"

#include <algorithm>

#include "gisp/io/tokenizer/unicode.h"

namespace gisp {
namespace {

using unicode::InvalidUtf8;

// The code point that ends just before `pos` (text is valid UTF-8 here).
uint32_t CodePointBefore(absl::string_view text, size_t pos) {
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return unicode::DecodeOne(text, &start, InvalidUtf8::kMaximalSubpart);
}

uint32_t CodePointAt(absl::string_view text, size_t pos) {
  return unicode::DecodeOne(text, &pos, InvalidUtf8::kMaximalSubpart);
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens,
                                     std::vector<std::string> patterns) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (patterns[i].empty()) continue;
    first_byte_[static_cast<unsigned char>(patterns[i][0])] = true;
    entries_.push_back({std::move(patterns[i]), std::move(tokens[i])});
  }
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.pattern.size() > b.pattern.size();
  });
}

std::vector<AddedTokenMatcher::Piece> AddedTokenMatcher::Split(absl::string_view text) const {
  std::vector<Piece> pieces;
  size_t plain = 0;  // start of the text not yet covered by a piece
  size_t pos = 0;    // where the search for the next match starts
  while (pos < text.size()) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const Entry* hit = nullptr;
    for (const Entry& e : entries_) {  // longest first: leftmost-longest
      if (text.compare(pos, e.pattern.size(), e.pattern) == 0) {
        hit = &e;
        break;
      }
    }
    if (hit == nullptr) {
      ++pos;
      continue;
    }
    size_t start = pos;
    size_t stop = pos + hit->pattern.size();
    // Like an Aho-Corasick iterator, the next search starts after this match even when the match
    // is then rejected.
    pos = stop;
    const AddedToken& t = hit->token;
    if (t.single_word) {
      const bool word_before = start > 0 && unicode::IsWordChar(CodePointBefore(text, start));
      const bool word_after = stop < text.size() && unicode::IsWordChar(CodePointAt(text, stop));
      if (word_before || word_after) continue;
    }
    if (t.lstrip) {
      while (start > plain && unicode::IsWhiteSpace(CodePointBefore(text, start))) {
        size_t back = start - 1;
        while (back > 0 && (static_cast<unsigned char>(text[back]) & 0xC0) == 0x80) --back;
        start = back;
      }
    }
    if (t.rstrip) {
      while (stop < text.size()) {
        size_t next = stop;
        if (!unicode::IsWhiteSpace(unicode::DecodeOne(text, &next, InvalidUtf8::kMaximalSubpart))) {
          break;
        }
        stop = next;
      }
      pos = std::max(pos, stop);
    }
    if (plain < start) pieces.push_back({plain, start, -1});
    pieces.push_back({start, stop, t.id});
    plain = stop;
  }
  if (plain < text.size()) pieces.push_back({plain, text.size(), -1});
  return pieces;
}

}  // namespace gisp
