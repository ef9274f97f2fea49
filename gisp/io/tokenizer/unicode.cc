#include "gisp/io/tokenizer/unicode.h"

#include <algorithm>
#include <cstring>

namespace gisp {
namespace unicode {
namespace {

bool InRanges(const Range* r, int n, uint32_t cp) {
  const Range* end = r + n;
  const Range* it =
      std::upper_bound(r, end, cp, [](uint32_t v, const Range& x) { return v < x.lo; });
  return it != r && (it - 1)->hi >= cp;
}

// Class bits of every BMP code point, so the hot pre-tokenizer loop needs no binary search.
enum : uint8_t { kLetter = 1, kNumber = 2, kSpace = 4, kWord = 8, kNfcUnsafe = 16 };

struct BmpClasses {
  uint8_t bits[0x10000];
  BmpClasses() {
    std::memset(bits, 0, sizeof(bits));
    auto mark = [this](const Range* r, int n, uint8_t bit) {
      for (int i = 0; i < n && r[i].lo < 0x10000; ++i) {
        for (uint32_t c = r[i].lo; c <= std::min<uint32_t>(r[i].hi, 0xFFFF); ++c) bits[c] |= bit;
      }
    };
    mark(kLetterRanges, kLetterRangesSize, kLetter);
    mark(kNumberRanges, kNumberRangesSize, kNumber);
    mark(kSpaceRanges, kSpaceRangesSize, kSpace);
    mark(kWordRanges, kWordRangesSize, kWord);
    mark(kNfcUnsafeRanges, kNfcUnsafeRangesSize, kNfcUnsafe);
  }
};

const BmpClasses& Bmp() {
  static const BmpClasses* classes = new BmpClasses();
  return *classes;
}

bool Has(uint32_t cp, uint8_t bit, const Range* r, int n) {
  if (cp < 0x10000) return (Bmp().bits[cp] & bit) != 0;
  return InRanges(r, n, cp);
}

bool IsNfcUnsafe(uint32_t cp) {
  return cp >= 0x300 && Has(cp, kNfcUnsafe, kNfcUnsafeRanges, kNfcUnsafeRangesSize);
}

uint32_t CombiningClass(uint32_t cp) {
  if (cp < 0x300) return 0;
  const Pair* end = kCombiningClasses + kCombiningClassesSize;
  const Pair* it = std::lower_bound(kCombiningClasses, end, cp,
                                    [](const Pair& x, uint32_t v) { return x.cp < v; });
  return it != end && it->cp == cp ? it->value : 0;
}

// Hangul syllable constants (Unicode chapter 3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount;
constexpr uint32_t kSCount = kLCount * kNCount;

void DecomposeInto(uint32_t cp, std::vector<uint32_t>* out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out->push_back(kLBase + s / kNCount);
    out->push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out->push_back(kTBase + s % kTCount);
    return;
  }
  const Triple* end = kDecompositions + kDecompositionsSize;
  const Triple* it = std::lower_bound(kDecompositions, end, cp,
                                      [](const Triple& x, uint32_t v) { return x.a < v; });
  if (it == end || it->a != cp) {
    out->push_back(cp);
    return;
  }
  DecomposeInto(it->b, out);
  if (it->c != 0) DecomposeInto(it->c, out);
}

// The primary composite of (a, b), or 0.
uint32_t Compose(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  const Triple* end = kCompositions + kCompositionsSize;
  const Triple* it = std::lower_bound(
      kCompositions, end, Triple{a, b, 0},
      [](const Triple& x, const Triple& v) { return x.a != v.a ? x.a < v.a : x.b < v.b; });
  return it != end && it->a == a && it->b == b ? it->c : 0;
}

}  // namespace

bool IsLetter(uint32_t cp) { return Has(cp, kLetter, kLetterRanges, kLetterRangesSize); }
bool IsNumber(uint32_t cp) { return Has(cp, kNumber, kNumberRanges, kNumberRangesSize); }
bool IsWhiteSpace(uint32_t cp) { return Has(cp, kSpace, kSpaceRanges, kSpaceRangesSize); }
bool IsWordChar(uint32_t cp) { return Has(cp, kWord, kWordRanges, kWordRangesSize); }

uint32_t DecodeOne(absl::string_view text, size_t* pos, InvalidUtf8 mode) {
  const unsigned char* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const size_t i = *pos;
  const unsigned c = s[i];
  if (c < 0x80) {
    *pos = i + 1;
    return c;
  }
  // Well-formed sequences (Unicode table 3-7): the second byte's range depends on the lead.
  size_t len;
  uint32_t cp;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;  // no overlong forms
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    *pos = i + 1;
    return kReplacement;
  }
  size_t k = 1;
  for (; k < len && i + k < n; ++k) {
    const unsigned b = s[i + k];
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (k == len) {
    *pos = i + len;
    return cp;
  }
  *pos = i + (mode == InvalidUtf8::kMaximalSubpart ? k : 1);
  return kReplacement;
}

std::vector<uint32_t> Decode(absl::string_view text, InvalidUtf8 mode) {
  std::vector<uint32_t> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) out.push_back(DecodeOne(text, &i, mode));
  return out;
}

bool IsValidUtf8(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t at = i;
    if (DecodeOne(text, &i, InvalidUtf8::kPerByte) == kReplacement &&
        text.compare(at, 3, "\xEF\xBF\xBD") != 0) {
      return false;
    }
  }
  return true;
}

std::string LossyUtf8(absl::string_view bytes) {
  if (IsValidUtf8(bytes)) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 8);
  for (size_t i = 0; i < bytes.size();) {
    AppendUtf8(DecodeOne(bytes, &i, InvalidUtf8::kMaximalSubpart), &out);
  }
  return out;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string Encode(const uint32_t* begin, const uint32_t* end) {
  std::string out;
  out.reserve(static_cast<size_t>(end - begin));
  for (const uint32_t* p = begin; p != end; ++p) AppendUtf8(*p, &out);
  return out;
}

std::vector<uint32_t> Nfc(const std::vector<uint32_t>& cps) {
  // 1. Full canonical decomposition.
  std::vector<uint32_t> d;
  d.reserve(cps.size() + 8);
  for (uint32_t cp : cps) {
    if (cp < 0xC0) {
      d.push_back(cp);  // nothing below U+00C0 decomposes
    } else {
      DecomposeInto(cp, &d);
    }
  }
  // 2. Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < d.size();) {
    if (CombiningClass(d[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && CombiningClass(d[j]) != 0) ++j;
    std::stable_sort(d.begin() + static_cast<std::ptrdiff_t>(i),
                     d.begin() + static_cast<std::ptrdiff_t>(j),
                     [](uint32_t a, uint32_t b) { return CombiningClass(a) < CombiningClass(b); });
    i = j;
  }
  // 3. Canonical composition: a character joins the last starter unless something between them
  // blocks it (a starter, or a mark of the same or higher class).
  std::vector<uint32_t> out;
  out.reserve(d.size());
  size_t starter = SIZE_MAX;  // index in `out` of the last starter
  uint32_t last_ccc = 0;      // class of the last character appended after it
  for (uint32_t cp : d) {
    const uint32_t ccc = CombiningClass(cp);
    if (starter != SIZE_MAX) {
      const bool adjacent = out.size() - 1 == starter;
      const bool blocked = !adjacent && (last_ccc == 0 || last_ccc >= ccc);
      if (!blocked) {
        const uint32_t composed = Compose(out[starter], cp);
        if (composed != 0) {
          out[starter] = composed;
          continue;
        }
      }
    }
    if (ccc == 0) {
      starter = out.size();
      last_ccc = 0;
    } else {
      last_ccc = ccc;
    }
    out.push_back(cp);
  }
  return out;
}

std::string Nfc(absl::string_view text) {
  bool unsafe = false;
  for (size_t i = 0; i < text.size() && !unsafe;) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    unsafe = IsNfcUnsafe(DecodeOne(text, &i, InvalidUtf8::kMaximalSubpart));
  }
  if (!unsafe) return std::string(text);
  const std::vector<uint32_t> cps = Nfc(Decode(text, InvalidUtf8::kMaximalSubpart));
  return Encode(cps.data(), cps.data() + cps.size());
}

}  // namespace unicode
}  // namespace gisp
