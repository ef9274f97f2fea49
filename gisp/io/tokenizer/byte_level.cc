#include "gisp/io/tokenizer/byte_level.h"

#include "gisp/io/tokenizer/unicode.h"

namespace gisp {
namespace {

struct ByteLevelMap {
  std::string utf8[256];  // byte -> its character, UTF-8
  int16_t byte_of[512];   // code point (< 512) -> byte, or -1
  ByteLevelMap() {
    for (int16_t& b : byte_of) b = -1;
    uint32_t extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const uint32_t cp = printable ? static_cast<uint32_t>(b) : 256 + extra++;
      unicode::AppendUtf8(cp, &utf8[b]);
      byte_of[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteLevelMap& Map() {
  static const ByteLevelMap* map = new ByteLevelMap();
  return *map;
}

}  // namespace

absl::string_view ByteLevelChar(uint8_t byte) { return Map().utf8[byte]; }

void AppendByteLevel(absl::string_view bytes, std::string* out) {
  const ByteLevelMap& map = Map();
  for (unsigned char b : bytes) out->append(map.utf8[b]);
}

void AppendByteLevelDecoded(absl::string_view token, std::string* out) {
  const ByteLevelMap& map = Map();
  const size_t start = out->size();
  for (size_t i = 0; i < token.size();) {
    const uint32_t cp = unicode::DecodeOne(token, &i, unicode::InvalidUtf8::kMaximalSubpart);
    if (cp >= 512 || map.byte_of[cp] < 0) {
      out->resize(start);
      out->append(token.data(), token.size());
      return;
    }
    out->push_back(static_cast<char>(map.byte_of[cp]));
  }
}

}  // namespace gisp
