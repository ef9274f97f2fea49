// Unicode support for the tokenizers: UTF-8 decoding with the two replacement conventions the
// reference libraries use, the character classes of the pre-tokenizer patterns (\p{L}, \p{N},
// \s, \w) and NFC normalization. Tables are generated from Python's unicodedata by
// tools/tokenizer_fixtures/gen_unicode_tables.py (unicode_tables.cc).
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

// Generated tables (unicode_tables.cc), sorted; declared here so their definitions have external
// linkage.
extern const Range kLetterRanges[];
extern const int kLetterRangesSize;
extern const Range kNumberRanges[];
extern const int kNumberRangesSize;
extern const Range kSpaceRanges[];
extern const int kSpaceRangesSize;
extern const Range kWordRanges[];
extern const int kWordRangesSize;
extern const Range kNfcUnsafeRanges[];
extern const int kNfcUnsafeRangesSize;
extern const Pair kCombiningClasses[];
extern const int kCombiningClassesSize;
extern const Triple kDecompositions[];
extern const int kDecompositionsSize;
extern const Triple kCompositions[];
extern const int kCompositionsSize;

constexpr uint32_t kReplacement = 0xFFFD;

// How invalid UTF-8 becomes U+FFFD.
enum class InvalidUtf8 {
  // One U+FFFD per invalid byte (SentencePiece).
  kPerByte,
  // One U+FFFD per maximal subpart of an ill-formed sequence (Unicode's recommended practice;
  // Rust's String::from_utf8_lossy, so HF tokenizers' ByteLevel decoder).
  kMaximalSubpart,
};

// Decodes one code point at text[*pos] and advances *pos; invalid input gives kReplacement.
uint32_t DecodeOne(absl::string_view text, size_t* pos, InvalidUtf8 mode);
std::vector<uint32_t> Decode(absl::string_view text, InvalidUtf8 mode);
bool IsValidUtf8(absl::string_view text);
// `bytes` with every ill-formed part replaced (kMaximalSubpart).
std::string LossyUtf8(absl::string_view bytes);

void AppendUtf8(uint32_t cp, std::string* out);
std::string Encode(const uint32_t* begin, const uint32_t* end);

// Character classes (see gen_unicode_tables.py for the exact definitions).
bool IsLetter(uint32_t cp);      // \p{L}
bool IsNumber(uint32_t cp);      // \p{N}
bool IsWhiteSpace(uint32_t cp);  // \s: the White_Space property
bool IsWordChar(uint32_t cp);    // \w of Rust's regex crate

// Canonical composition (NFC) of UTF-8 text; returns `text` unchanged (cheaply) when no code
// point in it can change under NFC.
std::string Nfc(absl::string_view text);
std::vector<uint32_t> Nfc(const std::vector<uint32_t>& cps);

}  // namespace unicode
}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_UNICODE_H_
