// UTF-8 replacement conventions, character classes, NFC and the split patterns, on hand-checked
// examples (the fixtures cover them at scale against the Python libraries).
#include "gisp/io/tokenizer/unicode.h"

#include <string>
#include <utility>
#include <vector>

#include "gisp/io/tokenizer/pre_tokenizer.h"
#include "gtest/gtest.h"

namespace gisp {
namespace unicode {
namespace {

using Cps = std::vector<uint32_t>;

TEST(Utf8Test, ReplacementConventions) {
  // Truncated 4-byte sequence then 'A': one U+FFFD (maximal subpart) or one per byte.
  EXPECT_EQ(Decode("\xF0\x9F\x98"
                   "A",
                   InvalidUtf8::kMaximalSubpart),
            (Cps{kReplacement, 'A'}));
  EXPECT_EQ(Decode("\xF0\x9F\x98"
                   "A",
                   InvalidUtf8::kPerByte),
            (Cps{kReplacement, kReplacement, kReplacement, 'A'}));
  // Overlong, surrogate and out-of-range forms are never valid prefixes.
  EXPECT_EQ(Decode("\xC0\x80", InvalidUtf8::kMaximalSubpart), (Cps{kReplacement, kReplacement}));
  EXPECT_EQ(Decode("\xED\xA0\x80", InvalidUtf8::kMaximalSubpart),
            (Cps{kReplacement, kReplacement, kReplacement}));
  EXPECT_EQ(Decode("\xF4\x90\x80\x80", InvalidUtf8::kMaximalSubpart).size(), 4u);
  EXPECT_EQ(Decode("\xE2\x82\xAC\xF0\x9F\x98\x80", InvalidUtf8::kMaximalSubpart),
            (Cps{0x20AC, 0x1F600}));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xEF\xBF\xBD"));
  EXPECT_FALSE(IsValidUtf8("caf\xC3"));
  EXPECT_EQ(LossyUtf8("a\xE2\x82"
                      "b"),
            "a\uFFFD"
            "b");
  std::string round;
  for (uint32_t cp : {0x41u, 0xE9u, 0x20ACu, 0x1F600u}) AppendUtf8(cp, &round);
  EXPECT_EQ(round, "A\u00E9\u20AC\U0001F600");
}

TEST(ClassesTest, MatchTheRegexEngines) {
  EXPECT_TRUE(IsLetter('a'));
  EXPECT_TRUE(IsLetter(0x4E2D));   // 中
  EXPECT_FALSE(IsLetter(0x0301));  // combining acute: M, not L
  EXPECT_TRUE(IsNumber(0x00BD));   // ½ (No)
  EXPECT_TRUE(IsNumber(0x2160));   // Ⅰ (Nl)
  EXPECT_TRUE(IsNumber(0x1D7CE));  // mathematical bold digit zero (outside the BMP)
  EXPECT_TRUE(IsWhiteSpace(0x3000));
  EXPECT_TRUE(IsWhiteSpace(0x0085));
  // Python's str.isspace() accepts the information separators; \s in the regex engines does not.
  EXPECT_FALSE(IsWhiteSpace(0x001C));
  EXPECT_FALSE(IsWhiteSpace(0x200B));  // zero width space is not White_Space
  EXPECT_TRUE(IsWordChar('_'));
  EXPECT_TRUE(IsWordChar(0x0301));
  EXPECT_TRUE(IsWordChar(0x24B6));  // circled A: Other_Alphabetic
  EXPECT_FALSE(IsWordChar('-'));
}

TEST(NfcTest, ComposesReordersAndKeepsComposedText) {
  EXPECT_EQ(Nfc(Cps{'e', 0x0301}), (Cps{0x00E9}));
  EXPECT_EQ(Nfc(Cps{0x1100, 0x1161, 0x11A8}), (Cps{0xAC01}));  // Hangul jamo -> 각
  // Dot below (class 220) sorts before circumflex (230), then both compose: ậ.
  EXPECT_EQ(Nfc(Cps{'a', 0x0302, 0x0323}), (Cps{0x1EAD}));
  EXPECT_EQ(Nfc(Cps{0x212B}), (Cps{0x00C5}));          // Angstrom sign -> Å (singleton)
  EXPECT_EQ(Nfc(Cps{0x0344}), (Cps{0x0308, 0x0301}));  // excluded from recomposition
  // A mark of the same class between the starter and the acute blocks the composition.
  EXPECT_EQ(Nfc(Cps{'e', 0x0346, 0x0301}), (Cps{'e', 0x0346, 0x0301}));
  EXPECT_EQ(Nfc(Cps{'e', 0x0301, 0x0346}), (Cps{0x00E9, 0x0346}));
  EXPECT_EQ(Nfc("cafe\xCC\x81"), "caf\xC3\xA9");
  const std::string plain = "already NFC: caf\xC3\xA9, \xE4\xB8\xAD\xE6\x96\x87";
  EXPECT_EQ(Nfc(plain), plain);
}

std::vector<std::string> Words(const std::string& text, SplitPattern pattern) {
  const Cps cps = Decode(text, InvalidUtf8::kMaximalSubpart);
  std::vector<std::string> out;
  for (const auto& [b, e] : SplitWords(cps, pattern)) out.push_back(Encode(&cps[b], &cps[e]));
  return out;
}

TEST(SplitPatternTest, Llama3Qwen2AndGpt2) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Words("I'M 12345 ok!!\n\n  x", SplitPattern::kLlama3),
            (V{"I", "'M", " ", "123", "45", " ok", "!!\n\n", " ", " x"}));
  EXPECT_EQ(Words("12345", SplitPattern::kQwen2), (V{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(Words("I'M don't  x ", SplitPattern::kGpt2),
            (V{"I", "'", "M", " don", "'t", " ", " x", " "}));
  EXPECT_EQ(Words("a \n\tb", SplitPattern::kLlama3), (V{"a", " \n", "\tb"}));
  // (?i) folds U+017F (long s) to s, so 'ſ is a contraction (checked with the tokenizers package).
  EXPECT_EQ(Words("x'\xC5\xBFmith", SplitPattern::kLlama3), (V{"x", "'\xC5\xBF", "mith"}));
}

TEST(SplitPatternTest, RecognizesOnlyKnownPatterns) {
  EXPECT_EQ(*RecognizeSplitPattern(Gpt2Regex()), SplitPattern::kGpt2);
  auto unknown = RecognizeSplitPattern("\\w+");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("\\w+"), std::string::npos);
}

}  // namespace
}  // namespace unicode
}  // namespace gisp
