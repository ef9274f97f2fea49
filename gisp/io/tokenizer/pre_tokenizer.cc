#include "gisp/io/tokenizer/pre_tokenizer.h"

#include "absl/strings/str_cat.h"
#include "gisp/io/tokenizer/unicode.h"

namespace gisp {
namespace {

// The regex strings exactly as tokenizer.json files carry them (after JSON unescaping).
const char kGpt2[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char kLlama3[] = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|)"
                       R"( ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char kQwen2[] = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|)"
                      R"( ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

using unicode::IsLetter;
using unicode::IsNumber;
using unicode::IsWhiteSpace;

bool IsSpace(uint32_t c) { return IsWhiteSpace(c); }
bool IsNewline(uint32_t c) { return c == '\r' || c == '\n'; }
bool IsOther(uint32_t c) { return !IsSpace(c) && !IsLetter(c) && !IsNumber(c); }

// Simple case folding as far as the contractions need it: ASCII, and U+017F (long s), which
// Oniguruma's (?i) folds to 's' (checked against every code point with the tokenizers package).
uint32_t Lower(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  return c == 0x017F ? 's' : c;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
size_t Contraction(const std::vector<uint32_t>& s, size_t i, bool ignore_case) {
  if (s[i] != '\'' || i + 1 >= s.size()) return 0;
  auto at = [&](size_t k) { return ignore_case ? Lower(s[k]) : s[k]; };
  const uint32_t a = at(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 < s.size()) {
    const uint32_t b = at(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  return 0;
}

size_t RunOf(const std::vector<uint32_t>& s, size_t i, bool (*pred)(uint32_t)) {
  size_t j = i;
  while (j < s.size() && pred(s[j])) ++j;
  return j - i;
}

// One match at i (always >= 1 character).
size_t Match(const std::vector<uint32_t>& s, size_t i, SplitPattern p) {
  const size_t n = s.size();
  const bool gpt2 = p == SplitPattern::kGpt2;
  if (size_t c = Contraction(s, i, !gpt2)) return c;
  // Letters with an optional one-character prefix.
  if (gpt2) {
    const size_t start = s[i] == ' ' ? i + 1 : i;
    if (start < n && IsLetter(s[start])) return start - i + RunOf(s, start, IsLetter);
  } else {
    if (IsLetter(s[i])) return RunOf(s, i, IsLetter);
    if (!IsNewline(s[i]) && !IsNumber(s[i]) && i + 1 < n && IsLetter(s[i + 1])) {
      return 1 + RunOf(s, i + 1, IsLetter);
    }
  }
  // Numbers.
  if (gpt2) {
    const size_t start = s[i] == ' ' ? i + 1 : i;
    if (start < n && IsNumber(s[start])) return start - i + RunOf(s, start, IsNumber);
  } else if (IsNumber(s[i])) {
    const size_t run = RunOf(s, i, IsNumber);
    return p == SplitPattern::kLlama3 ? std::min<size_t>(run, 3) : 1;
  }
  // Other symbols with an optional leading space (and trailing newlines for Llama-3/Qwen2).
  {
    const size_t start = s[i] == ' ' ? i + 1 : i;
    if (start < n && IsOther(s[start])) {
      size_t j = start + RunOf(s, start, IsOther);
      if (!gpt2) j += RunOf(s, j, IsNewline);
      return j - i;
    }
  }
  const size_t space = RunOf(s, i, IsSpace);
  if (space > 0) {
    if (!gpt2) {
      // \s*[\r\n]+ : whitespace up to and including the run's last newline.
      size_t last = SIZE_MAX;
      for (size_t k = i; k < i + space; ++k) {
        if (IsNewline(s[k])) last = k;
      }
      if (last != SIZE_MAX) return last - i + 1;
    }
    // \s+(?!\S), else \s+.
    if (i + space == n) return space;
    if (space >= 2) return space - 1;
    return space;
  }
  return 1;  // unreachable for these patterns, kept so every character is covered
}

}  // namespace

const std::string& Gpt2Regex() {
  static const std::string* regex = new std::string(kGpt2);
  return *regex;
}

absl::StatusOr<SplitPattern> RecognizeSplitPattern(const std::string& regex) {
  if (regex == kGpt2) return SplitPattern::kGpt2;
  if (regex == kLlama3) return SplitPattern::kLlama3;
  if (regex == kQwen2) return SplitPattern::kQwen2;
  return absl::UnimplementedError(
      absl::StrCat("unsupported split pattern \"", regex, "\"",
                   " (gisp knows the GPT-2, Llama-3 and Qwen2 patterns)"));
}

std::vector<std::pair<size_t, size_t>> SplitWords(const std::vector<uint32_t>& cps,
                                                  SplitPattern pattern) {
  std::vector<std::pair<size_t, size_t>> words;
  size_t i = 0;
  while (i < cps.size()) {
    const size_t len = Match(cps, i, pattern);
    words.emplace_back(i, i + len);
    i += len;
  }
  return words;
}

}  // namespace gisp
