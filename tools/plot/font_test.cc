#include "tools/plot/font.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gisp {
namespace plot {
namespace {

std::unique_ptr<Font> LoadDefault() {
  auto font = Font::Load(kDefaultFontPath);
  EXPECT_TRUE(font.ok()) << font.status();
  return font.ok() ? std::move(*font) : nullptr;
}

TEST(FontTest, LoadsDejaVuAndMeasures) {
  auto font = LoadDefault();
  ASSERT_NE(font, nullptr);
  EXPECT_EQ(font->family(), "DejaVu Sans");
  EXPECT_GE(font->Ascent(12), 10);
  EXPECT_LE(font->Ascent(12), 13);
  EXPECT_GE(font->Descent(12), 2);
  EXPECT_EQ(font->Width("", 12), 0);
  EXPECT_EQ(font->Width("ab", 12) + font->Width("c", 12), font->Width("abc", 12));
  EXPECT_GT(font->Width("W", 12), font->Width("i", 12));
  EXPECT_GT(font->Width("perplexity", 24), font->Width("perplexity", 12));
}

TEST(FontTest, RendersInkInsideTheLine) {
  auto font = LoadDefault();
  ASSERT_NE(font, nullptr);
  TextMask mask = font->Render("Hg", 20);
  ASSERT_EQ(mask.alpha.size(), static_cast<size_t>(mask.width) * mask.height);
  int above = 0, below = 0, full = 0;
  for (int r = 0; r < mask.height; ++r) {
    for (int c = 0; c < mask.width; ++c) {
      uint8_t a = mask.alpha[static_cast<size_t>(r) * mask.width + c];
      if (a == 0) continue;
      (r < mask.ascent ? above : below)++;
      full += a == 255;
    }
  }
  EXPECT_GT(above, 50);  // 'H' and the bowl of 'g'
  EXPECT_GT(below, 5);   // the descender of 'g'
  EXPECT_GT(full, 20);   // solid stems, not just grey fringes
  TextMask blank = font->Render("   ", 20);
  for (uint8_t a : blank.alpha) ASSERT_EQ(a, 0);
}

TEST(FontTest, MissingFontNamesFileAndPackage) {
  auto font = Font::Load("/nonexistent/font.ttf");
  ASSERT_FALSE(font.ok());
  EXPECT_NE(font.status().message().find("/nonexistent/font.ttf"), std::string::npos);
  EXPECT_NE(font.status().message().find("fonts-dejavu-core"), std::string::npos);
}

TEST(DecodeUtf8Test, CodePointsAndReplacement) {
  EXPECT_EQ(DecodeUtf8("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x99\x82"),
            (std::vector<uint32_t>{'a', 0xE9, 0x20AC, 0x1F642}));
  EXPECT_EQ(DecodeUtf8("\xff"), std::vector<uint32_t>{0xFFFD});
  EXPECT_EQ(DecodeUtf8("\xc3"), std::vector<uint32_t>{0xFFFD});                // truncated
  EXPECT_EQ(DecodeUtf8("\xc0\xaf"), (std::vector<uint32_t>{0xFFFD, 0xFFFD}));  // overlong
  EXPECT_EQ(DecodeUtf8("\xed\xa0\x80").front(), 0xFFFDu);                      // surrogate
}

}  // namespace
}  // namespace plot
}  // namespace gisp
