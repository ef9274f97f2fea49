// Unicode support for the BPE tokenizer: UTF-8 decoding, the character classes its
// pre-tokenizer patterns use (\p{L}, \p{N}, \s) and NFC normalization. Tables are generated from
// Python's unicodedata (tools/tokenizer_fixtures/gen_unicode_tables.py).
#ifndef GISP_IO_TOKENIZER_UNICODE_H_
#define GISP_IO_TOKENIZER_UNICODE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace gisp {
namespace unicode {

struct Range {
  uint32_t lo, hi;
};
struct Pair {
  uint32_t cp, value;
};
struct Triple {
  uint32_t a, b, c;
};

// Generated tables (unicode_tables.cc); declared here so their definitions have external
// linkage.
extern const Range kLetterRanges[];
extern const int kLetterRangesSize;
extern const Range kNumberRanges[];
extern const int kNumberRangesSize;
extern const Range kSpaceRanges[];
extern const int kSpaceRangesSize;
extern const Pair kCombiningClasses[];
extern const int kCombiningClassesSize;
extern const Triple kDecompositions[];
extern const int kDecompositionsSize;
extern const Triple kCompositions[];
extern const int kCompositionsSize;

// Decodes UTF-8; invalid bytes become U+FFFD (one per byte), as lossy decoders do.
std::vector<uint32_t> Decode(absl::string_view text);
void AppendUtf8(uint32_t cp, std::string* out);
std::string Encode(const std::vector<uint32_t>& cps, size_t begin, size_t end);

bool IsLetter(uint32_t cp);
bool IsNumber(uint32_t cp);
bool IsSpace(uint32_t cp);

// Canonical composition (NFC).
std::vector<uint32_t> Nfc(const std::vector<uint32_t>& cps);

}  // namespace unicode
}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_UNICODE_H_
