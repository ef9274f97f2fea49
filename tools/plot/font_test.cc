#include "tools/plot/font.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace gisp {
namespace plot {
namespace {

std::string Key(const GlyphRows& g) { return std::string(g.begin(), g.end()); }

TEST(FontTest, EveryPrintableGlyphIsDrawnAndDistinct) {
  std::set<std::string> seen;
  for (int c = 33; c <= 126; ++c) {
    const GlyphRows& g = Glyph(static_cast<char>(c));
    int lit = 0;
    for (uint8_t row : g) {
      EXPECT_LT(row, 1u << kGlyphWidth) << static_cast<char>(c);
      lit += __builtin_popcount(row);
    }
    EXPECT_GT(lit, 0) << "glyph '" << static_cast<char>(c) << "' is blank";
    EXPECT_TRUE(seen.insert(Key(g)).second)
        << "glyph '" << static_cast<char>(c) << "' duplicates another";
  }
  for (uint8_t row : Glyph(' ')) EXPECT_EQ(row, 0);
}

TEST(FontTest, CapitalsAndDigitsSitOnTheBaseline) {
  // Rows 7..8 are for descenders only; capitals and digits fill rows 0 and 6.
  for (char c : std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")) {
    const GlyphRows& g = Glyph(c);
    EXPECT_NE(g[0], 0) << c;
    EXPECT_NE(g[6], 0) << c;
    EXPECT_EQ(g[7] | g[8], 0) << c;
  }
  for (char c : std::string("gjpqy")) EXPECT_NE(Glyph(c)[8], 0) << c;
}

TEST(FontTest, NonAsciiFallsBackAndWidthsAdd) {
  EXPECT_EQ(Key(Glyph('\x01')), Key(Glyph('?')));
  EXPECT_EQ(Key(Glyph('\xe9')), Key(Glyph('?')));
  EXPECT_EQ(TextWidth("", 1), 0);
  EXPECT_EQ(TextWidth("a", 1), kGlyphWidth);
  EXPECT_EQ(TextWidth("abc", 2), 2 * (3 * kGlyphAdvance - 1));
}

}  // namespace
}  // namespace plot
}  // namespace gisp
