#include "gisp/io/tokenizer/unicode.h"

#include <algorithm>

namespace gisp {
namespace unicode {

namespace {

bool InRanges(const Range* r, int n, uint32_t cp) {
  const Range* end = r + n;
  const Range* it = std::upper_bound(r, end, cp, [](uint32_t v, const Range& x) { return v < x.lo; });
  return it != r && (it - 1)->hi >= cp;
}

uint32_t CombiningClass(uint32_t cp) {
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
  const Triple* it = std::lower_bound(kCompositions, end, Triple{a, b, 0},
                                      [](const Triple& x, const Triple& v) {
                                        return x.a != v.a ? x.a < v.a : x.b < v.b;
                                      });
  return it != end && it->a == a && it->b == b ? it->c : 0;
}

}  // namespace

bool IsLetter(uint32_t cp) { return InRanges(kLetterRanges, kLetterRangesSize, cp); }
bool IsNumber(uint32_t cp) { return InRanges(kNumberRanges, kNumberRangesSize, cp); }
bool IsSpace(uint32_t cp) { return InRanges(kSpaceRanges, kSpaceRangesSize, cp); }

std::vector<uint32_t> Decode(absl::string_view text) {
  std::vector<uint32_t> out;
  out.reserve(text.size());
  const unsigned char* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    uint32_t cp = 0;
    int len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    }
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Reject overlong forms, surrogates and out-of-range values.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
               (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp < 0xE000))) {
      ok = false;
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<size_t>(len);
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

std::string Encode(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) AppendUtf8(cps[i], &out);
  return out;
}

std::vector<uint32_t> Nfc(const std::vector<uint32_t>& cps) {
  // 1. Full canonical decomposition.
  std::vector<uint32_t> d;
  d.reserve(cps.size());
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
  // 3. Canonical composition.
  std::vector<uint32_t> out;
  out.reserve(d.size());
  size_t starter = SIZE_MAX;  // index in `out` of the last starter
  uint32_t last_ccc = 0;
  for (uint32_t cp : d) {
    const uint32_t ccc = CombiningClass(cp);
    if (starter != SIZE_MAX) {
      const bool blocked = !out.empty() && out.size() - 1 != starter &&
                           (last_ccc == 0 || last_ccc >= ccc);
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

}  // namespace unicode
}  // namespace gisp
