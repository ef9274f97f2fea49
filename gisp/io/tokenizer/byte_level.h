// GPT-2's byte-level alphabet: every byte maps to one printable code point (printable Latin-1
// bytes to themselves, the rest to U+0100 onwards), so byte-level BPE vocabularies are strings.
#ifndef GISP_IO_TOKENIZER_BYTE_LEVEL_H_
#define GISP_IO_TOKENIZER_BYTE_LEVEL_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace gisp {

// Appends the byte-level form (UTF-8) of `bytes`.
void AppendByteLevel(absl::string_view bytes, std::string* out);

// The byte-level form of one byte (UTF-8 of its code point).
absl::string_view ByteLevelChar(uint8_t byte);

// Appends the bytes a token's text stands for, as HF's ByteLevel decoder does: when every
// character of `token` is in the byte-level alphabet, those bytes; otherwise `token` itself.
void AppendByteLevelDecoded(absl::string_view token, std::string* out);

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_BYTE_LEVEL_H_
